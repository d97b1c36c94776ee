"""The dock's parts that know the engine: band roles, backend availability, the extent."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from qgis.core import (
    QgsCoordinateTransform,
    QgsMapLayer,
    QgsMapLayerProxyModel,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
)
from qgis.gui import QgsMapCanvas, QgsMapLayerComboBox
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

UNUSED = "unused"
#: Python packages a backend imports besides the engine's own.
BACKEND_PACKAGES = {"spex": ("torch",), "onnx": ("onnxruntime",)}
#: Backends that need a weights folder.
NEEDS_WEIGHTS = ("spex", "onnx")


#: Characters a combo box needs at least; longer entries are elided, not widening the dock.
COMBO_CHARS = 12


def narrow(combo: QComboBox) -> QComboBox:
    """Let `combo` shrink with the dock: its width no longer follows its longest entry."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(COMBO_CHARS)
    combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return combo


def layer_file(layer: QgsMapLayer | None) -> str:
    """The file (or GDAL dataset name) behind a layer ('' when none)."""
    return layer.source().split("|")[0] if layer is not None else ""


def band_names(layer: QgsRasterLayer) -> tuple[list[str], list[str]]:
    """The GDAL band descriptions of a file raster ("" where none), completed as the engine
    completes them: a VRT's source file names, a spectrometer's wavelengths, its bad bands; and
    each band's colour interpretation ("Red", "Alpha", ...), which names an orthophoto's bands
    when nothing else does. One opening of the file; a Sentinel-2 layer has the bands the
    engine reads: its own, then its product's other ones."""
    from osgeo import gdal

    from spex.engine.raster.band_names import completed_descriptions
    from spex.engine.raster.sentinel2_layers import with_product_bands

    path = layer_file(layer)
    dataset = gdal.Open(str(with_product_bands(path) or path))
    if dataset is None:
        return [""] * layer.bandCount(), [""] * layer.bandCount()
    bands = [dataset.GetRasterBand(i) for i in range(1, dataset.RasterCount + 1)]
    found = completed_descriptions(
        [band.GetDescription() or None for band in bands],
        [band.GetMetadata() for band in bands],
        path,
    )
    colours = [gdal.GetColorInterpretationName(band.GetColorInterpretation()) for band in bands]
    return [desc or "" for desc in found], colours


def backend_problem(name: str, model_folder: str) -> str | None:
    """Why backend `name` cannot run here (one line), or None when it can. Imports nothing heavy."""
    from spex.engine.backends import BACKENDS

    if name not in BACKENDS:
        return "unknown backend"
    module_name = BACKENDS[name][0]
    try:
        found = importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError) as error:
        return f"cannot be loaded ({error})"
    if not found:
        return "not part of this SPEX installation yet"
    for package in BACKEND_PACKAGES.get(name, ()):
        if importlib.util.find_spec(package) is None:
            return f"Python package '{package}' is missing"
    if name in NEEDS_WEIGHTS:
        if not model_folder:
            return "no weights configured: choose a model folder"
        if not Path(model_folder).exists():
            return f"model folder {model_folder} does not exist"
    return None


class BandRoleTable(QWidget):
    """One row per band: number, description, role (editable). Detected from the layer."""

    #: A role was changed by hand (or the table was refilled).
    rolesChanged = pyqtSignal()  # noqa: N815 - Qt naming

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build an empty table."""
        super().__init__(parent)
        from spex.engine.raster.roles import BAND_ROLES

        self.roles_offered = [UNUSED, *BAND_ROLES]
        self.detected: tuple[str | None, ...] = ()
        self.sensor: str | None = None
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("spexBandTable")
        self.table.setHorizontalHeaderLabels(["Band", "Description", "Role"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(30)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.table.verticalHeader().setVisible(False)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        # Band names that fit several sensors (Landsat TM and OLI's B1..B7): one click per reading.
        self.readings: dict[str, tuple[str | None, ...]] = {}
        self.reading_combo = QComboBox(self)
        self.reading_combo.setObjectName("spexBandReading")
        self.reading_combo.setVisible(False)
        self.reading_combo.currentIndexChanged.connect(self._apply_reading)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.reading_combo)
        layout.addWidget(self.table)

    def detect(self, layer: QgsRasterLayer | None) -> None:
        """Fill the table from `layer`'s band count and descriptions."""
        from spex.engine.errors import SpexError
        from spex.engine.raster.band_names import SPECTROMETER_TOLERANCE_NM
        from spex.engine.raster.product_names import file_band_mapping, named_product

        self.table.setRowCount(0)
        self.detected, self.sensor, self.readings = (), None, {}
        self.reading_combo.blockSignals(True)
        self.reading_combo.clear()
        self.reading_combo.blockSignals(False)
        self.reading_combo.setVisible(False)
        if layer is None or not layer.isValid():
            self.status.setText(
                "Choose a multiband raster layer (a Landsat or Sentinel-2 product's band "
                "files, loaded one by one: add the product as one layer with the button above; "
                "other band files: stack them first with Raster > Miscellaneous > Build "
                "Virtual Raster, each input file a separate band)."
            )
            self.rolesChanged.emit()
            return
        descriptions, colours = band_names(layer)
        path = layer_file(layer)
        try:
            # The layer's file name may carry a product name naming the sensor and the level.
            mapping = file_band_mapping(path, descriptions, colours=colours)
            self.detected, self.sensor = tuple(mapping.roles), mapping.sensor
            sensor = f", sensor {mapping.sensor}" if mapping.sensor else ""
            _, product = named_product(path, descriptions)
            named = f"; product: {product.label}" if product else ""
            cir = ""
            if mapping.source == "colour interpretation":
                cir = " (a colour-infrared image looks the same: set band 1 to nir if it is one)"
            averaged = ""
            if mapping.averaged:  # an imaging spectrometer
                averaged = (
                    f" Each role is read as the mean of its bands within "
                    f"{SPECTROMETER_TOLERANCE_NM:g} nm of its centre (shown unused here); roles "
                    "you edit are read one band each."
                )
            self.status.setText(
                f"Roles from {mapping.source}{sensor}{named}; edit if wrong{cir}.{averaged}"
            )
        except SpexError as error:
            self.detected = (None,) * len(descriptions)
            self.readings = dict(getattr(error, "readings", {}))
            if self.readings:
                self.status.setText(
                    "<span style='color:#b00'>The band names fit several sensors: choose the "
                    "sensor below, or set each band's role.</span>"
                )
            else:
                self.status.setText(f"<span style='color:#b00'>{error}</span>")
        for i, (desc, role) in enumerate(zip(descriptions, self.detected, strict=True)):
            self.table.insertRow(i)
            for col, text in ((0, f"B{i + 1}"), (1, desc)):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(i, col, item)
            combo = QComboBox(self.table)
            combo.addItems(self.roles_offered)
            combo.setCurrentText(role or UNUSED)
            combo.currentIndexChanged.connect(self.rolesChanged.emit)
            self.table.setCellWidget(i, 2, combo)
        if self.readings:
            self.reading_combo.blockSignals(True)
            self.reading_combo.addItem("Choose the sensor...", None)
            for names, roles in self.readings.items():
                shown = ", ".join(role or UNUSED for role in roles)
                self.reading_combo.addItem(f"{names}: {shown}", names)
            self.reading_combo.blockSignals(False)
            self.reading_combo.setVisible(True)
        self.rolesChanged.emit()

    def _apply_reading(self) -> None:
        """Fill the roles with the chosen sensor's reading; its preset also gives the scaling."""
        names = self.reading_combo.currentData()
        if not names:
            return
        for band, role in enumerate(self.readings[names], start=1):
            self.set_role(band, role)
        self.sensor = names.split("/")[0]

    def roles(self) -> tuple[str | None, ...]:
        """The roles as shown (None = unused)."""
        out = []
        for row in range(self.table.rowCount()):
            text = self.table.cellWidget(row, 2).currentText()
            out.append(None if text == UNUSED else text)
        return tuple(out)

    def set_role(self, band: int, role: str | None) -> None:
        """Set the role of 1-based `band`."""
        self.table.cellWidget(band - 1, 2).setCurrentText(role or UNUSED)

    def override(self) -> str | None:
        """``--bands`` text when the user changed a role, else None (the engine detects)."""
        roles = self.roles()
        if not roles or roles == self.detected:
            return None
        return ",".join(role or "-" for role in roles)


class ExtentPicker(QWidget):
    """Whole layer, current canvas, or the selected features of a polygon layer."""

    WHOLE, CANVAS, SELECTION = range(3)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the mode list and the polygon layer picker."""
        super().__init__(parent)
        self.mode = QComboBox(self)
        self.mode.setObjectName("spexExtentMode")
        self.mode.addItems(["Whole layer", "Current map canvas", "Selected polygons"])
        narrow(self.mode)
        self.polygons = QgsMapLayerComboBox(self)
        narrow(self.polygons)
        self.polygons.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.polygons.setEnabled(False)
        self.mode.currentIndexChanged.connect(
            lambda i: self.polygons.setEnabled(i == self.SELECTION)
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.mode)
        layout.addWidget(self.polygons)

    def extent(
        self, raster: QgsRasterLayer, canvas: QgsMapCanvas, project: QgsProject
    ) -> tuple[float, float, float, float] | None:
        """The chosen extent in the raster's CRS (None = whole layer); ValueError if unusable."""
        mode = self.mode.currentIndex()
        if mode == self.WHOLE:
            return None
        if mode == self.CANVAS:
            rect = canvas.extent()
            crs = canvas.mapSettings().destinationCrs()
        else:
            layer = self.polygons.currentLayer()
            if layer is None or layer.selectedFeatureCount() == 0:
                raise ValueError("select one or more polygons first, or choose another extent")
            rect, crs = layer.boundingBoxOfSelected(), layer.crs()
        if crs.isValid() and raster.crs().isValid() and crs != raster.crs():
            transform = QgsCoordinateTransform(crs, raster.crs(), project)
            rect = transform.transformBoundingBox(rect)
        rect = QgsRectangle(rect).intersect(raster.extent())
        if rect.isNull() or rect.isEmpty():
            raise ValueError("the chosen extent does not overlap the raster")
        return (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
