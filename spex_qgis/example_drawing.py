"""Examples drawn on the map, as points or as areas of the chosen class.

Points: a click adds one, a right click removes the nearest. Areas: clicks place the corners,
a right click closes the area (three corners or more), or with no corner placed removes the
area under the cursor. The examples go into a layer of their shape through its edit buffer, so
QGIS's undo works and the analyst saves or discards them as any other edit. Without such a
layer to draw in, a memory layer ("SPEX examples" or "SPEX example areas") is made in the map's
CRS, coloured as the targets are. The engine reads the layer as it reads any examples layer,
edits not yet saved included: a point takes the pixel it falls in, an area the pixels whose
centres it holds.
"""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import (
    Qgis,
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsEditorWidgetSetup,
    QgsFeature,
    QgsFeatureRequest,
    QgsFillSymbol,
    QgsGeometry,
    QgsMarkerSymbol,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsRendererCategory,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QKeyEvent

POINT, POLYGON = "Point", "Polygon"
LAYER_NAME = "SPEX examples"
AREAS_LAYER_NAME = "SPEX example areas"
#: "other" is no target and has no colour of its own in the catalogue.
OTHER_COLOUR = (140, 140, 140)
#: The rubber band's geometry type (QGIS 3.30 moved the enum to `Qgis`).
_POLYGON_GEOMETRY = (
    Qgis.GeometryType.Polygon
    if hasattr(Qgis, "GeometryType")
    else QgsWkbTypes.GeometryType.PolygonGeometry
)


def example_labels() -> list[tuple[str, tuple[int, int, int]]]:
    """The labels a drawn example may take and their colours: each target, then "other".
    Forest is one of them: its examples seed the vegetation, and beside vegetation examples
    (grass, crops) they set where forest ends within it."""
    from spex.engine.backends.spectral.examples import OTHER, spectral_classes
    from spex.engine.instructions.targets import TARGETS

    targets = [(TARGETS[c].title, TARGETS[c].colour) for c in spectral_classes()]
    return [*targets, (OTHER, OTHER_COLOUR)]


def layer_shape(layer: QgsVectorLayer | None) -> str | None:
    """`POINT` or `POLYGON` for a layer of points or polygons (single or multi), else None."""
    if layer is None:
        return None
    # The display string is the same through the 3.x moves of the geometry-type enum.
    shape = QgsWkbTypes.geometryDisplayString(layer.geometryType())
    return shape if shape in (POINT, POLYGON) else None


def _symbol(shape: str, colour: tuple[int, int, int]) -> QgsMarkerSymbol | QgsFillSymbol:
    rgb = ",".join(map(str, colour))
    if shape == POINT:
        return QgsMarkerSymbol.createSimple(
            {"name": "circle", "color": rgb, "size": "3", "outline_color": "255,255,255"}
        )
    # Half-transparent, so the imagery under an area stays visible.
    return QgsFillSymbol.createSimple(
        {"color": f"{rgb},110", "outline_color": rgb, "outline_width": "0.6"}
    )


def new_examples_layer(
    crs: QgsCoordinateReferenceSystem, field: str, shape: str = POINT
) -> QgsVectorLayer:
    """A memory layer of `shape` (`POINT` or `POLYGON`) in `crs` with a text `field` picked
    from the labels, styled by it."""
    name = LAYER_NAME if shape == POINT else AREAS_LAYER_NAME
    layer = QgsVectorLayer(f"{shape}?field={field}:string(40)", name, "memory")
    layer.setCrs(crs)
    labels = example_labels()
    categories = [
        QgsRendererCategory(label, _symbol(shape, colour), label) for label, colour in labels
    ]
    layer.setRenderer(QgsCategorizedSymbolRenderer(field, categories))
    # The attribute form offers the labels as a list: a typed label could name no class.
    layer.setEditorWidgetSetup(
        layer.fields().lookupField(field),
        QgsEditorWidgetSetup("ValueMap", {"map": [{label: label} for label, _ in labels]}),
    )
    return layer


class _ExampleTool(QgsMapTool):
    """What both drawing tools share: the layer, its class field, edits and removal."""

    def __init__(
        self, canvas: QgsMapCanvas, layer: QgsVectorLayer, field: str, label: Callable[[], str]
    ) -> None:
        """Draw into `layer`'s `field`, with the label `label()` gives at each click."""
        super().__init__(canvas)
        self.layer, self.field, self._label = layer, field, label
        self.setCursor(Qt.CursorShape.CrossCursor)

    def _to_layer(self) -> QgsCoordinateTransform:
        crs = self.canvas().mapSettings().destinationCrs()
        return QgsCoordinateTransform(crs, self.layer.crs(), QgsProject.instance())

    def _remove_at(self, p: QgsPointXY) -> None:
        """Remove the example nearest the map point `p`, within QGIS's search radius."""
        to_layer, radius = self._to_layer(), QgsMapTool.searchRadiusMU(self.canvas())
        box = QgsRectangle(p.x() - radius, p.y() - radius, p.x() + radius, p.y() + radius)
        self.remove_nearest(to_layer.transform(p), to_layer.transformBoundingBox(box))

    def _add(self, geometry: QgsGeometry, what: str) -> None:
        """Add `geometry` (layer CRS) as an example of the current label."""
        feature = QgsFeature(self.layer.fields())
        feature.setAttribute(self.field, self._label())
        if QgsWkbTypes.isMultiType(self.layer.wkbType()):
            geometry.convertToMultiType()
        feature.setGeometry(geometry)
        self._edit(what, lambda: self.layer.addFeature(feature))

    def _edit(self, what: str, change: Callable[[], bool]) -> None:
        """Run `change` as one undoable edit of the layer (editing is started if need be)."""
        if not self.layer.isEditable() and not self.layer.startEditing():
            return
        self.layer.beginEditCommand(what)
        if change():
            self.layer.endEditCommand()
            self.layer.triggerRepaint()
        else:
            self.layer.destroyEditCommand()

    def remove_nearest(self, point: QgsPointXY, within: QgsRectangle) -> None:
        """Remove the example nearest `point` among those inside `within` (layer CRS); an area
        holding `point` is at distance 0."""
        request = QgsFeatureRequest().setFilterRect(within).setNoAttributes()
        found = [
            (f.geometry().distance(QgsGeometry.fromPointXY(point)), f.id())
            for f in self.layer.getFeatures(request)
        ]
        if found:
            self._edit("SPEX example removed", lambda: self.layer.deleteFeature(min(found)[1]))


class ExampleClickTool(_ExampleTool):
    """Left click: a point example of the current label; right click: remove the nearest one."""

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt's name)
        """Add or remove an example where the analyst clicked."""
        if event.button() == Qt.MouseButton.LeftButton:
            self.add(self._to_layer().transform(event.mapPoint()))
        elif event.button() == Qt.MouseButton.RightButton:
            self._remove_at(event.mapPoint())

    def add(self, point: QgsPointXY) -> None:
        """Add an example of the current label at `point`, in the layer's CRS."""
        self._add(QgsGeometry.fromPointXY(point), "SPEX example")


class ExampleAreaTool(_ExampleTool):
    """Left clicks: the corners of an area of the current label. Right click: close the area
    (three corners or more; fewer are dropped), or, with no corner placed, remove the area under
    the cursor. Backspace takes the last corner back, Escape drops them all."""

    def __init__(
        self, canvas: QgsMapCanvas, layer: QgsVectorLayer, field: str, label: Callable[[], str]
    ) -> None:
        """Draw areas into `layer`'s `field`, with the label `label()` gives when one closes."""
        super().__init__(canvas, layer, field, label)
        self.corners: list[QgsPointXY] = []  # in the map's CRS
        self.band: QgsRubberBand | None = None  # on the map only while an area is drawn

    def _show(self, cursor: QgsPointXY | None = None) -> None:
        """Draw the corners placed, and the cursor as the next one."""
        if self.band is None:
            self.band = QgsRubberBand(self.canvas(), _POLYGON_GEOMETRY)
            colour = QColor(255, 0, 255)
            self.band.setStrokeColor(colour)
            colour.setAlpha(60)
            self.band.setFillColor(colour)
            self.band.setWidth(2)
        self.band.reset(_POLYGON_GEOMETRY)
        for corner in [*self.corners, *([cursor] if cursor is not None else [])]:
            self.band.addPoint(corner, False)
        self.band.updatePosition()
        self.band.update()

    def _reset(self) -> None:
        """Drop the corners and take the area being drawn off the map."""
        self.corners = []
        if self.band is not None:
            self.canvas().scene().removeItem(self.band)
            self.band = None

    def canvasMoveEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt's name)
        """Follow the cursor with the area's next corner."""
        if self.corners:
            self._show(event.mapPoint())

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt's name)
        """Place a corner, close the area, or remove one."""
        if event.button() == Qt.MouseButton.LeftButton:
            self.corners.append(event.mapPoint())
            self._show()
        elif event.button() == Qt.MouseButton.RightButton:
            if len(self.corners) >= 3:
                self.add(self.corners)
            elif not self.corners:
                self._remove_at(event.mapPoint())
            self._reset()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        """Backspace: the last corner back; Escape: every corner dropped."""
        if event.key() == Qt.Key.Key_Escape and self.corners:
            self._reset()
        elif event.key() in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete) and self.corners:
            self.corners.pop()
            self._show()
        else:
            event.ignore()
            return
        event.accept()

    def deactivate(self) -> None:
        """Drop an area not closed when another tool takes the map."""
        self._reset()
        super().deactivate()

    def add(self, corners: list[QgsPointXY]) -> None:
        """Add the area with these `corners` (map CRS) as an example of the current label."""
        geometry = QgsGeometry.fromPolygonXY([[*corners, corners[0]]])
        geometry.transform(self._to_layer())
        self._add(geometry, "SPEX example area")
