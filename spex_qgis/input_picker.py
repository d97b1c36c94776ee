"""The dock's input raster: only multiband rasters, the last one used picked again, and the
scene shown in true colour or false-colour NIR in one click."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from qgis.core import QgsMapLayer, QgsMapLayerProxyModel, QgsProject, QgsRasterLayer
from qgis.gui import QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addLayout(row)
        self.refresh()
        if not self.pick_remembered():
            self._remember(self.combo.currentLayer())  # the input shown is the one to keep
        self.project.layersAdded.connect(self._layers_added)
        self.combo.layerChanged.connect(self._remember)

    def refresh(self) -> None:
        """Hide every layer that is not a multiband raster."""
        layers = self.project.mapLayers().values()
        self.combo.setExceptedLayerList([lyr for lyr in layers if not is_multiband(lyr)])

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
