"""Result layers: the class raster (paletted) and the polygons (categorized, from QML), grouped.

Called on the main thread once a run has finished. The explanation and the manifest path go into
each layer's metadata abstract, so they are saved with the project.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsPalettedRasterRenderer,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QColor

if TYPE_CHECKING:
    from spex.engine.instructions.plan import Plan

STYLES_DIR = Path(__file__).resolve().parent.parent / "resources" / "styles"
REGIONS_QML = STYLES_DIR / "spex_regions.qml"
#: Longest group name; the full prompt stays in the layers' metadata.
GROUP_NAME_CHARS = 60
#: A region's area as people write it: m² below 1 ha, ha above (as the QML's labels do).
AREA_TEXT = (
    'CASE WHEN "area_ha" >= 100 THEN format_number("area_ha", 0) || \' ha\' '
    'WHEN "area_ha" >= 1 THEN format_number("area_ha", 1) || \' ha\' '
    "ELSE format_number(\"area_m2\", 0) || ' m²' END"
)
DISPLAY_EXPRESSION = f"\"class_name\" || ' ' || \"region_id\" || ': ' || {AREA_TEXT}"
#: Opacity of the class raster: under the polygons' own fill the scene must still show.
MASK_OPACITY = 0.6


@dataclass(frozen=True)
class ClassStyle:
    """One mask class: its pixel value, label and colour."""

    value: int
    target: str
    label: str
    colour: tuple[int, int, int]


def class_styles(plan: Plan) -> list[ClassStyle]:
    """The mask classes of a plan (value 1..N in plan order), with the catalogue's colours and
    the plan's titles ("vegetation without forest")."""
    from spex.engine.instructions.targets import TARGETS

    return [
        ClassStyle(i, t, plan.title(t), tuple(TARGETS[t].colour))
        for i, t in enumerate(plan.targets, start=1)
    ]


def style_mask(layer: QgsRasterLayer, classes: Sequence[ClassStyle]) -> None:
    """A paletted renderer with one colour per class; background and nodata stay transparent."""
    items = [QgsPalettedRasterRenderer.Class(c.value, QColor(*c.colour), c.label) for c in classes]
    renderer = QgsPalettedRasterRenderer(layer.dataProvider(), 1, items)
    layer.setRenderer(renderer)
    layer.setOpacity(MASK_OPACITY)
    layer.triggerRepaint()


def style_regions(layer: QgsVectorLayer, plan: Plan) -> None:
    """The categorized QML style (colours, labels with area in ha, aliases), limited to the
    plan's targets, each under the plan's title."""
    message, ok = layer.loadNamedStyle(str(REGIONS_QML))
    if not ok:
        raise RuntimeError(f"cannot load {REGIONS_QML.name}: {message}")
    renderer = layer.renderer()
    if isinstance(renderer, QgsCategorizedSymbolRenderer):
        # keep only the plan's classes, so the legend lists what was asked for
        for index in reversed(range(len(renderer.categories()))):
            target = renderer.categories()[index].value()
            if target not in plan.targets:
                renderer.deleteCategory(index)
            elif plan.title(target) != renderer.categories()[index].label():
                renderer.updateCategoryLabel(index, plan.title(target))
    layer.setDisplayExpression(DISPLAY_EXPRESSION)
    layer.triggerRepaint()


def set_abstract(layer: QgsMapLayer, prompt: str, explanation: str, manifest: Path) -> None:
    """Put the explanation and the manifest path into the layer's metadata."""
    metadata = layer.metadata()
    metadata.setTitle(f"SPEX: {prompt}")
    metadata.setAbstract(f"{explanation.rstrip()}\n\nRun manifest: {manifest}\n")
    metadata.setKeywords({"SPEX": ["land cover", "extraction"]})
    layer.setMetadata(metadata)


def group_name(prompt: str) -> str:
    """The layer-tree group name: the prompt on one line, shortened."""
    text = " ".join(prompt.split())
    if len(text) > GROUP_NAME_CHARS:
        text = text[: GROUP_NAME_CHARS - 1].rstrip() + "…"
    return text or "SPEX result"


@dataclass
class AddedResult:
    """The layers and group added for one run."""

    group: QgsLayerTreeGroup
    mask: QgsRasterLayer
    regions: QgsVectorLayer


def add_result_layers(result: object, project: QgsProject | None = None) -> AddedResult:
    """Add the run's polygons above its class raster in a new group at the top of the tree.

    `result` is a `spex.engine.ExtractionResult`. Raises RuntimeError if a layer is invalid,
    after removing anything it added.
    """
    project = project or QgsProject.instance()
    prompt = result.plan.prompt
    explanation = Path(result.explanation_path).read_text(encoding="utf-8")
    mask = QgsRasterLayer(str(result.mask_path), "class raster", "gdal")
    regions = QgsVectorLayer(f"{result.features_path}|layername=regions", "regions", "ogr")
    for layer in (mask, regions):
        if not layer.isValid():
            raise RuntimeError(f"QGIS cannot open {layer.source()}")
    style_mask(mask, class_styles(result.plan))
    style_regions(regions, result.plan)
    for layer in (mask, regions):
        set_abstract(layer, prompt, explanation, Path(result.manifest_path))
    project.addMapLayer(mask, False)
    project.addMapLayer(regions, False)
    group = project.layerTreeRoot().insertGroup(0, group_name(prompt))
    group.setExpanded(True)
    group.addLayer(regions)
    # the polygons carry the same classes, semi-transparent with outlines over the scene; the
    # class raster stays one click away rather than doubling the colour
    group.addLayer(mask).setItemVisibilityChecked(False)
    return AddedResult(group, mask, regions)
