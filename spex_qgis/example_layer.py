"""The analyst's examples from a QGIS layer: points or polygons whose field names their class.

Processing and the dock both turn a vector layer (or a Processing feature source) into the
engine's `Examples` here; the dock picks the layer and the field with `ExamplesPicker`.
"""

from __future__ import annotations

import json

from qgis.core import QgsFeatureSource, QgsMapLayerProxyModel, QgsProject, QgsVectorLayer
from qgis.gui import QgsFieldComboBox, QgsMapCanvas, QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import QComboBox, QGridLayout, QToolButton, QWidget

from .example_drawing import (
    POINT,
    POLYGON,
    ExampleAreaTool,
    ExampleClickTool,
    example_labels,
    layer_shape,
    new_examples_layer,
)
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
    """A point or polygon layer (or none) and the field that holds each example's class.

    Given the map canvas, it also draws examples: "Draw on map" turns clicks into points or
    areas of the chosen class (`example_drawing`), in the chosen layer when it holds that shape,
    else in a new one.
    """

    def __init__(self, parent: QWidget | None = None, canvas: QgsMapCanvas | None = None) -> None:
        """Build the layer and field pickers (no layer chosen), and the drawing controls."""
        super().__init__(parent)
        self.canvas = canvas
        self.tool: ExampleClickTool | ExampleAreaTool | None = None
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
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layers, 0, 0)
        layout.addWidget(self.field, 0, 1)
        if canvas is not None:
            self.draw_label = QComboBox(self)
            self.draw_label.setObjectName("spexExamplesDrawClass")
            for label, _ in example_labels():
                self.draw_label.addItem(label)
            self.draw_label.setToolTip("The class of the examples you draw on the map")
            self.draw_shape = QComboBox(self)
            self.draw_shape.setObjectName("spexExamplesDrawShape")
            self.draw_shape.addItem("points", POINT)
            self.draw_shape.addItem("areas", POLYGON)
            self.draw_shape.setToolTip(
                "Points take the pixel under each click; areas take every pixel inside them "
                "(click the corners, right-click to close)"
            )
            self.draw_shape.currentIndexChanged.connect(lambda _: self.stop_drawing())
            self.draw_button = QToolButton(self)
            self.draw_button.setObjectName("spexExamplesDraw")
            self.draw_button.setText("Draw on map")
            self.draw_button.setCheckable(True)
            self.draw_button.setToolTip(
                "Points: click to add one, right-click one to remove it. Areas: click the "
                "corners, right-click to close; right-click an area to remove it. Into the "
                "chosen layer when it holds that shape, else a new layer"
            )
            self.draw_button.toggled.connect(self._drawing_toggled)
            layout.addWidget(self.draw_label, 1, 0)
            layout.addWidget(self.draw_shape, 1, 1)
            layout.addWidget(self.draw_button, 2, 0, 1, 2)

    def _layer_changed(self, layer: QgsVectorLayer | None) -> None:
        from spex.engine.backends.spectral.examples import DEFAULT_FIELD

        if self.tool is not None and layer is not self.tool.layer:
            self.stop_drawing()  # clicks never go to a layer other than the one shown
        shape = layer_shape(layer)
        if shape is not None and self.canvas is not None:
            self.draw_shape.setCurrentIndex(self.draw_shape.findData(shape))
        self.field.setLayer(layer)
        self.field.setEnabled(layer is not None)
        if layer is not None and layer.fields().lookupField(DEFAULT_FIELD) >= 0:
            self.field.setField(DEFAULT_FIELD)

    def _drawing_toggled(self, on: bool) -> None:
        if on:
            self._start_drawing()
        else:
            self.stop_drawing()

    def _start_drawing(self) -> None:
        """Make clicks on the map add examples of the chosen shape to the chosen layer when it
        holds that shape, else to a new one (the draw button, checked, calls it)."""
        from spex.engine.backends.spectral.examples import DEFAULT_FIELD

        shape = self.draw_shape.currentData()
        layer, field = self.layers.currentLayer(), self.field.currentField()
        if not (layer_shape(layer) == shape and field):
            crs = self.canvas.mapSettings().destinationCrs()
            layer = new_examples_layer(crs, DEFAULT_FIELD, shape)
            QgsProject.instance().addMapLayer(layer)
            self.layers.setLayer(layer)
            field = DEFAULT_FIELD
        tool = ExampleClickTool if shape == POINT else ExampleAreaTool
        self.tool = tool(self.canvas, layer, field, self.draw_label.currentText)
        # Another map tool taken up (pan, identify) ends the drawing; the button follows.
        self.tool.deactivated.connect(lambda: self.draw_button.setChecked(False))
        self.canvas.setMapTool(self.tool)

    def stop_drawing(self) -> None:
        """Take the drawing tool off the map and uncheck its button; the drawn examples stay in
        their layer."""
        if self.tool is not None:
            tool, self.tool = self.tool, None
            self.canvas.unsetMapTool(tool)
            tool.deleteLater()
        if self.canvas is not None and self.draw_button.isChecked():
            self.draw_button.setChecked(False)

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
