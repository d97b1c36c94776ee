"""The dock's input raster: only multiband rasters, the last one used picked again, the scene
shown in true colour or false-colour NIR in one click, and a product whose band files were
loaded one by one added as one layer in one click."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsMapLayer,
    QgsMapLayerProxyModel,
    QgsProject,
    QgsRasterLayer,
)
from qgis.gui import QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from . import settings
from .rendering import COMPOSITES, show_composite
from .widgets import layer_file, narrow


def is_multiband(layer: QgsMapLayer) -> bool:
    """A raster the engine can read bands from: a file raster with two bands or more.

    A class raster or an index raster (one band) is never an input."""
    return (
        isinstance(layer, QgsRasterLayer)
        and layer.isValid()
        and layer.providerType() == "gdal"
        and layer.bandCount() >= 2
    )


#: The custom property naming the product a layer added by "Add product" stands for.
PRODUCT_PROPERTY = "spex/product"


def products_folder() -> Path:
    """Where the products added as one layer keep their virtual rasters: the QGIS profile's
    ``spex/products`` folder, which outlives the session (the temporary folder does not)."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "spex" / "products"


def kept_stack(name: str, product: str) -> str:
    """`name`, where it is a VRT the engine stacked in the temporary folder, copied as
    `<product>-<digest>.vrt` to `products_folder`, so that a saved project finds its layer after
    a restart; any other name (a Sentinel-2 layer of the product's own files) as it is. The
    digest is of the VRT's text (its files' paths): a product's name is not unique (DJI Terra
    names every flight's maps ``result_*``; two places' Sentinel Hub exports of one day share
    theirs), and one product's copy must never replace another's under a saved layer."""
    path = Path(name)
    if not path.is_file() or Path(tempfile.gettempdir()) not in path.parents:
        return name
    text = path.read_text(encoding="utf-8")
    if 'relativeToVRT="1"' in text:
        return name  # its sources are found from where it lies: not moved
    # A Sentinel Hub export is named by its time range ("...-00:00_..."): no colon in a file name.
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    kept = products_folder() / f"{re.sub(r'[^A-Za-z0-9._+-]', '_', product)}-{digest}.vrt"
    try:
        if not kept.is_file():  # else it holds this text: its name is the text's digest
            kept.parent.mkdir(parents=True, exist_ok=True)
            partial = kept.with_name(f".{kept.name}.{os.getpid()}.partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(kept)
    except OSError:  # a profile that cannot be written: the layer lasts the session
        return name
    return str(kept)


def loose_products(layers: Iterable[QgsMapLayer]) -> dict[str, str]:
    """The products (Landsat identifiers, Sentinel-2 .SAFE names) whose band files are among
    `layers` as one-band rasters, each with one of its band files, less those already added
    as one layer."""
    from spex.engine.raster.band_files import band_file_product

    found: dict[str, str] = {}
    added = set()
    for layer in layers:
        if not isinstance(layer, QgsRasterLayer) or not layer.isValid():
            continue
        added.add(layer.customProperty(PRODUCT_PROPERTY))
        if layer.providerType() == "gdal" and layer.bandCount() == 1:
            product = band_file_product(layer_file(layer))
            if product is not None:
                found.setdefault(product, layer_file(layer))
    return {product: file for product, file in found.items() if product not in added}


class InputPicker(QWidget):
    """The Raster row: a layer combo offering multiband rasters only, plus composite buttons."""

    def __init__(
        self,
        roles: Callable[[], Sequence[str | None]],
        on_error: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        """`roles()` gives the current band roles; `on_error(message)` reports a bad click."""
        super().__init__(parent)
        self.roles, self.on_error = roles, on_error
        self.project = QgsProject.instance()
        self.combo = QgsMapLayerComboBox(self)
        self.combo.setObjectName("spexRaster")
        self.combo.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        narrow(self.combo)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for name in COMPOSITES:
            button = QPushButton(name.capitalize(), self)
            button.setObjectName("spexShow" + name.split()[0].capitalize())
            button.setToolTip(f"Show the raster in {name}, from its band roles")
            button.clicked.connect(lambda _checked=False, n=name: self.show(n))
            row.addWidget(button)
            self.buttons[name] = button
        # Band files of a product loaded one by one: the product as one layer, on request.
        self.add_product = QPushButton(self)
        self.add_product.setObjectName("spexAddProduct")
        self.add_product.setVisible(False)
        self.add_product.clicked.connect(lambda _checked=False: self.add_products())
        # a product's name is long: the button shrinks with the dock (the tooltip says it all)
        self.add_product.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.add_product.setToolTip(
            "Band files of a Landsat, Sentinel-2 or HLS product, loaded one by one, have no "
            "band roles alone: add the product as one multiband layer (Landsat, HLS: its band "
            "files stacked in a virtual raster kept in the QGIS profile's spex/products folder; "
            "Sentinel-2: its 10 m layer, read with its other bands)"
        )
        self.loose_products: dict[str, str] = {}  # product -> one of its band files
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.add_product)
        layout.addLayout(row)
        self.refresh()
        if not self.pick_remembered():
            self._remember(self.combo.currentLayer())  # the input shown is the one to keep
        self.project.layersAdded.connect(self._layers_added)
        self.project.layersRemoved.connect(self._layers_removed)
        self.combo.layerChanged.connect(self._remember)

    def refresh(self) -> None:
        """Hide every layer that is not a multiband raster; offer to add the products whose
        band files are loaded one by one."""
        layers = self.project.mapLayers().values()
        self.combo.setExceptedLayerList([lyr for lyr in layers if not is_multiband(lyr)])
        self.loose_products = loose_products(layers)
        names = list(self.loose_products)
        if len(names) == 1:
            self.add_product.setText(f"Add {names[0]} as one layer")
        else:
            self.add_product.setText(f"Add the {len(names)} products of the band layers")
        self.add_product.setVisible(bool(names))

    def add_products(self) -> None:
        """Add each product of `loose_products` as one layer, and pick the (last) one added."""
        from spex.engine.errors import SpexError
        from spex.engine.raster.band_files import whole_product

        added = None
        for product, band_file in list(self.loose_products.items()):
            try:
                name = kept_stack(whole_product(band_file), product)
            except SpexError as error:
                self.on_error(str(error))
                continue
            layer = QgsRasterLayer(name, product)
            if not layer.isValid():
                self.on_error(f"QGIS cannot open {name} as a raster")
                continue
            layer.setCustomProperty(PRODUCT_PROPERTY, product)
            self.project.addMapLayer(layer)
            added = layer
        self.refresh()
        if added is not None:
            self.combo.setLayer(added)

    def pick_remembered(self) -> bool:
        """Select the raster used last, if it is in the project; say whether it was."""
        remembered = settings.last_input()
        for layer in self.project.mapLayers().values():
            if remembered and is_multiband(layer) and layer_file(layer) == remembered:
                self.combo.setLayer(layer)
                return True
        return False

    def _layers_added(self, _layers: list) -> None:
        current = self.combo.currentLayer()
        self.refresh()
        if current is not None and self.combo.currentLayer() is not current:
            self.combo.setLayer(current)  # adding results never changes the input
        elif current is None:
            self.pick_remembered()

    def _layers_removed(self, _layer_ids: list) -> None:
        self.refresh()

    def _remember(self, layer: QgsMapLayer | None) -> None:
        if layer is not None and is_multiband(layer):
            settings.set_last_input(layer_file(layer))

    def show(self, name: str) -> None:
        """Render the current raster as composite `name`."""
        layer = self.combo.currentLayer()
        if layer is None:
            self.on_error("choose a raster layer first")
            return
        try:
            show_composite(layer, self.roles(), name)
        except ValueError as error:
            self.on_error(str(error))

    def shutdown(self) -> None:
        """Disconnect from the project (the dock is closing)."""
        with contextlib.suppress(TypeError):  # already disconnected
            self.project.layersAdded.disconnect(self._layers_added)
        with contextlib.suppress(TypeError):
            self.project.layersRemoved.disconnect(self._layers_removed)
