"""Examples drawn on the map: a click adds a point of the chosen class, a right-click removes one.

The points go into a point layer through its edit buffer, so QGIS's undo works and the analyst
saves or discards them as any other edit. Without a point layer to draw in, a memory layer
"SPEX examples" is made in the map's CRS, its points coloured as the targets are. The engine
reads the layer as it reads any examples layer, edits not yet saved included.
"""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsEditorWidgetSetup,
    QgsFeature,
    QgsFeatureRequest,
    QgsGeometry,
    QgsMarkerSymbol,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsRendererCategory,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool
from qgis.PyQt.QtCore import Qt

LAYER_NAME = "SPEX examples"
#: "other" is no target and has no colour of its own in the catalogue.
OTHER_COLOUR = (140, 140, 140)


def example_labels() -> list[tuple[str, tuple[int, int, int]]]:
    """The labels a drawn example may take and their colours: each target, then "other"."""
    from spex.engine.backends.spectral.examples import OTHER, spectral_classes
    from spex.engine.instructions.targets import TARGETS

    targets = [(TARGETS[c].title, TARGETS[c].colour) for c in spectral_classes()]
    return [*targets, (OTHER, OTHER_COLOUR)]


def is_point_layer(layer: QgsVectorLayer | None) -> bool:
    """Whether `layer` holds points (single or multi)."""
    # The display string is the same through the 3.x moves of the geometry-type enum.
    return layer is not None and QgsWkbTypes.geometryDisplayString(layer.geometryType()) == "Point"


def new_examples_layer(crs: QgsCoordinateReferenceSystem, field: str) -> QgsVectorLayer:
    """A memory point layer in `crs` with a text `field` picked from the labels, styled by it."""
    layer = QgsVectorLayer(f"Point?field={field}:string(40)", LAYER_NAME, "memory")
    layer.setCrs(crs)
    labels = example_labels()
    categories = []
    for label, colour in labels:
        symbol = QgsMarkerSymbol.createSimple(
            {
                "name": "circle",
                "color": ",".join(map(str, colour)),
                "size": "3",
                "outline_color": "255,255,255",
            }  # fmt: skip
        )
        categories.append(QgsRendererCategory(label, symbol, label))
    layer.setRenderer(QgsCategorizedSymbolRenderer(field, categories))
    # The attribute form offers the labels as a list: a typed label could name no class.
    layer.setEditorWidgetSetup(
        layer.fields().lookupField(field),
        QgsEditorWidgetSetup("ValueMap", {"map": [{label: label} for label, _ in labels]}),
    )
    return layer


class ExampleClickTool(QgsMapTool):
    """Left click: a point example of the current label; right click: remove the nearest one."""

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

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt's name)
        """Add or remove an example where the analyst clicked."""
        to_layer, p = self._to_layer(), event.mapPoint()
        if event.button() == Qt.MouseButton.LeftButton:
            self.add(to_layer.transform(p))
        elif event.button() == Qt.MouseButton.RightButton:
            radius = QgsMapTool.searchRadiusMU(self.canvas())
            box = QgsRectangle(p.x() - radius, p.y() - radius, p.x() + radius, p.y() + radius)
            self.remove_nearest(to_layer.transform(p), to_layer.transformBoundingBox(box))

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

    def add(self, point: QgsPointXY) -> None:
        """Add an example of the current label at `point`, in the layer's CRS."""
        feature = QgsFeature(self.layer.fields())
        feature.setAttribute(self.field, self._label())
        geometry = QgsGeometry.fromPointXY(point)
        if QgsWkbTypes.isMultiType(self.layer.wkbType()):
            geometry.convertToMultiType()
        feature.setGeometry(geometry)
        self._edit("SPEX example", lambda: self.layer.addFeature(feature))

    def remove_nearest(self, point: QgsPointXY, within: QgsRectangle) -> None:
        """Remove the example nearest `point` among those inside `within` (layer CRS)."""
        request = QgsFeatureRequest().setFilterRect(within).setNoAttributes()
        found = [
            (f.geometry().distance(QgsGeometry.fromPointXY(point)), f.id())
            for f in self.layer.getFeatures(request)
        ]
        if found:
            self._edit("SPEX example removed", lambda: self.layer.deleteFeature(min(found)[1]))
