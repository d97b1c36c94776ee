"""The analyst's examples from a QGIS layer: points or polygons whose field names their class.

Processing and the dock both turn a vector layer (or a Processing feature source) into the
engine's `Examples` here; the dock picks the layer and the field with `ExamplesPicker`.
"""

from __future__ import annotations

import json

from qgis.core import QgsFeatureSource, QgsMapLayerProxyModel, QgsVectorLayer
from qgis.gui import QgsFieldComboBox, QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import QHBoxLayout, QWidget

from .widgets import narrow


def examples_from_source(source: QgsFeatureSource, class_field: str, name: str) -> object:
    """The engine's `Examples` of every feature of `source` with a class in `class_field`.

    Geometries stay in the source's CRS (the engine reprojects them onto the raster). Raises
    the engine's one-line `InputError` for a missing field, an unknown class, a feature without
    a point or polygon geometry, or a source without labelled features.
    """
    from spex.engine.backends.spectral.examples import class_field_in, examples_from_rows

    where = f"Examples layer '{name}'"
    match = class_field_in([f.name() for f in source.fields()], class_field, where)
    rows = (
        (f.id(), f[match], None if f.geometry().isEmpty() else json.loads(f.geometry().asJson()))
        for f in source.getFeatures()
    )
    crs = source.sourceCrs()
    return examples_from_rows(rows, crs.toWkt() if crs.isValid() else None, where, name)


class ExamplesPicker(QWidget):
    """A point or polygon layer (or none) and the field that holds each example's class."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the layer and field pickers; no layer is chosen at first."""
        super().__init__(parent)
        self.layers = QgsMapLayerComboBox(self)
        self.layers.setObjectName("spexExamplesLayer")
        self.layers.setFilters(
            QgsMapLayerProxyModel.Filter.PointLayer | QgsMapLayerProxyModel.Filter.PolygonLayer
        )
        self.layers.setAllowEmptyLayer(True)
        self.layers.setLayer(None)
        narrow(self.layers)
        self.field = QgsFieldComboBox(self)
        narrow(self.field)
        self.layers.layerChanged.connect(self._layer_changed)
        self._layer_changed(None)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layers)
        layout.addWidget(self.field)

    def _layer_changed(self, layer: QgsVectorLayer | None) -> None:
        from spex.engine.backends.spectral.examples import DEFAULT_FIELD

        self.field.setLayer(layer)
        self.field.setEnabled(layer is not None)
        if layer is not None and layer.fields().lookupField(DEFAULT_FIELD) >= 0:
            self.field.setField(DEFAULT_FIELD)

    def examples(self) -> object | None:
        """The chosen layer's `Examples` (None without a layer); ValueError says what is wrong."""
        from spex.engine.errors import SpexError

        layer = self.layers.currentLayer()
        if layer is None:
            return None
        field = self.field.currentField()
        if not field:
            raise ValueError(
                f"choose the field of '{layer.name()}' that holds each example's class"
            )
        try:
            return examples_from_source(layer, field, layer.name())
        except SpexError as error:
            raise ValueError(str(error)) from None
