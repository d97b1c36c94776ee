"""Examples drawn on the map from the dock: clicks on the real QGIS canvas (pytest-qgis,
offscreen) become points of the chosen class, which the engine samples on the raster's pixels
under them. The canvas shows another CRS than the raster's, so every transform is crossed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from qgis.core import (
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.gui import QgsMapMouseEvent, QgsMapToolPan
from qgis.PyQt.QtCore import QEvent, QPoint, QSize, Qt
from qgis.PyQt.QtGui import QKeyEvent
from rasterio.windows import Window

from spex.engine.backends.spectral.examples import example_pixels
from spex.engine.raster.raster_source import open_source
from spex.spex_qgis.example_drawing import (
    AREAS_LAYER_NAME,
    LAYER_NAME,
    ExampleAreaTool,
    ExampleClickTool,
)
from tests.qgis_helpers import wait_for
from tests.rasters import true_colour_copy
from tests.test_qgis_dock import PROMPT

#: The map shows these 40 x 40 pixels of the scene (top row, left column): a lake and its shore.
WINDOW = (208, 352)
#: Raster pixels (row, col) the analyst clicks, and their classes.
CLICKS = [((218, 362), "water"), ((223, 366), "water"), ((238, 382), "other")]


@pytest.fixture
def canvas(qgis_iface, s2_scene: Path):
    """The map in Web Mercator (the raster is UTM), zoomed on the clicked pixels: 20 screen
    pixels a raster pixel, so a click's rounding to the screen stays inside its raster pixel."""
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    window = canvas.window()
    window.show()  # a hidden map gets no resize event and keeps its old size
    canvas.resize(QSize(800, 800))
    QgsApplication.processEvents()
    with rasterio.open(s2_scene) as src:
        left, top = src.xy(*WINDOW, offset="ul")
        crs = QgsCoordinateReferenceSystem(src.crs.to_wkt())
    box = QgsRectangle(left, top - 400, left + 400, top)  # 40 x 40 pixels of 10 m
    to_map = QgsCoordinateTransform(
        crs, canvas.mapSettings().destinationCrs(), QgsProject.instance()
    )
    canvas.setExtent(to_map.transformBoundingBox(box))
    canvas.refresh()
    yield canvas
    window.hide()


def _click(
    canvas, raster: Path, row: int, col: int, button=Qt.MouseButton.LeftButton, offset="center"
) -> None:
    """A mouse release on the screen pixel over the raster's pixel (row, col): its centre, or
    the corner `offset` names ("ul" upper left)."""
    with rasterio.open(raster) as src:
        x, y = src.xy(row, col, offset=offset)
        crs = QgsCoordinateReferenceSystem(src.crs.to_wkt())
    to_map = QgsCoordinateTransform(
        crs, canvas.mapSettings().destinationCrs(), QgsProject.instance()
    )
    screen = canvas.getCoordinateTransform().transform(to_map.transform(QgsPointXY(x, y)))
    event = QgsMapMouseEvent(
        canvas, QEvent.Type.MouseButtonRelease, QPoint(round(screen.x()), round(screen.y())),
        button, button, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    canvas.mapTool().canvasReleaseEvent(event)


def _pixels_of(layer: QgsVectorLayer, raster: Path) -> list[tuple[tuple[int, int], str]]:
    """The raster pixel (row, col) under each point of `layer`, with its class."""
    with rasterio.open(raster) as src:
        crs = QgsCoordinateReferenceSystem(src.crs.to_wkt())
        to_raster = QgsCoordinateTransform(layer.crs(), crs, QgsProject.instance())
        cells = []
        for feature in layer.getFeatures():
            p = to_raster.transform(feature.geometry().asPoint())
            cells.append((tuple(int(i) for i in src.index(p.x(), p.y())), feature["class"]))
    return sorted(cells)


def test_clicks_draw_examples_that_take_the_pixels_under_them(
    dock,
    canvas,
    s2_scene: Path,
) -> None:
    picker = dock.examples_picker
    offered = [picker.draw_label.itemText(i) for i in range(picker.draw_label.count())]
    assert "vegetation" in offered and "other" in offered
    assert "forest" in offered  # beside vegetation examples, they set forest's cut
    dock.prompt_edit.setPlainText(PROMPT)
    for (row, col), label in CLICKS:
        picker.draw_label.setCurrentText(label)
        picker.draw_button.setChecked(True)  # a second time is no change
        _click(canvas, s2_scene, row, col)
    assert isinstance(canvas.mapTool(), ExampleClickTool)
    layer = picker.layers.currentLayer()
    assert layer.name() == LAYER_NAME and picker.field.currentField() == "class"
    assert isinstance(layer.renderer(), QgsCategorizedSymbolRenderer)
    assert layer.isEditable() and layer.featureCount() == 3  # unsaved edits, undoable
    examples = dock.build_request().examples
    assert examples.counts() == {"water": 2, "other": 1}
    with open_source(s2_scene) as src:
        assert example_pixels(src, examples).counts() == {"water": 2, "other": 1}
    assert _pixels_of(layer, s2_scene) == sorted(CLICKS)

    _click(canvas, s2_scene, 223, 366, Qt.MouseButton.RightButton)  # removes that water point
    assert dock.build_request().examples.counts() == {"water": 1, "other": 1}
    layer.undoStack().undo()  # the removal is one edit, undone as one
    assert dock.build_request().examples.counts() == {"water": 2, "other": 1}

    canvas.setMapTool(QgsMapToolPan(canvas))  # another tool ends the drawing
    assert not picker.draw_button.isChecked() and picker.tool is None
    picker.draw_button.setChecked(True)  # into the same layer again, no new one
    assert canvas.mapTool().layer is layer
    dock.visibilityChanged.emit(False)  # the panel closed: so is the drawing
    assert not picker.draw_button.isChecked() and not isinstance(canvas.mapTool(), ExampleClickTool)
    layer.rollBack()


def test_drawing_goes_into_the_chosen_point_layer(dock, canvas, s2_scene: Path) -> None:
    """A point layer with a class field chosen first receives the clicks; no layer is made."""
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=kind:string", "my clicks", "memory")
    QgsProject.instance().addMapLayer(layer)
    picker = dock.examples_picker
    picker.layers.setLayer(layer)
    picker.field.setField("kind")
    picker.draw_label.setCurrentText("built-up")
    picker.draw_button.setChecked(True)
    _click(canvas, s2_scene, 218, 362)
    assert [f["kind"] for f in layer.getFeatures()] == ["built-up"]
    assert not QgsProject.instance().mapLayersByName(LAYER_NAME)
    picker.layers.setLayer(None)  # choosing another layer ends the drawing
    assert not picker.draw_button.isChecked() and not isinstance(canvas.mapTool(), ExampleClickTool)
    layer.rollBack()


def test_examples_drawn_in_true_colour_map_its_water(
    dock, canvas, s2_scene: Path, tmp_path: Path
) -> None:
    """End to end in the dock: true colour alone cannot seed water; points clicked on the lake
    and its shore make the run map it, and the explanation names the drawn layer."""
    rgb = QgsRasterLayer(str(true_colour_copy(s2_scene, tmp_path / "rgb.tif")), "rgb", "gdal")
    QgsProject.instance().addMapLayer(rgb)
    dock.layer_combo.setLayer(rgb)
    dock.prompt_edit.setPlainText("map the water")
    with rasterio.open(s2_scene) as src:
        b = src.read([3, 12], window=Window(WINDOW[1], WINDOW[0], 40, 40)).astype(float)
    mndwi = (b[0] - b[1]) / (b[0] + b[1])  # B3, B11: the truth the true-colour copy lacks
    rng = np.random.default_rng(0)
    picker = dock.examples_picker
    for label, cells in (("water", mndwi > 0.3), ("other", mndwi < -0.2)):
        picker.draw_label.setCurrentText(label)
        picker.draw_button.setChecked(True)
        found = np.argwhere(cells)
        for r, c in found[rng.choice(len(found), 15, replace=False)]:
            _click(canvas, s2_scene, WINDOW[0] + int(r), WINDOW[1] + int(c))
    dock.run_button.click()
    wait_for(lambda: not dock.is_running(), timeout=120)
    result = dock.last_result
    assert result is not None, dock.explanation_view.toPlainText()
    explanation = result.explanation_path.read_text()
    assert f"trained with the analyst's examples from {LAYER_NAME}" in explanation
    with rasterio.open(result.mask_path) as mask:
        water = mask.read(1, window=Window(WINDOW[1], WINDOW[0], 40, 40)) == 1
    assert water[mndwi > 0.3].mean() > 0.8 and water[mndwi < -0.2].mean() < 0.05
    picker.layers.currentLayer().rollBack()


def _key(tool, key) -> None:
    tool.keyPressEvent(QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier))


def test_areas_drawn_take_the_pixels_inside_them(dock, canvas, s2_scene: Path) -> None:
    """Corners clicked on pixel corners make an area that holds exactly the pixels between
    them; fewer than three corners, Backspace and Escape add nothing; a right click inside an
    area removes it, as one undoable edit."""
    picker = dock.examples_picker
    dock.prompt_edit.setPlainText(PROMPT)
    picker.draw_shape.setCurrentIndex(picker.draw_shape.findData("Polygon"))
    picker.draw_label.setCurrentText("water")
    picker.draw_button.setChecked(True)
    tool = canvas.mapTool()
    assert isinstance(tool, ExampleAreaTool)
    top, left = 214, 358  # a 4 x 5 block of pixels: corners on the pixels' edges
    for row, col in ((top, left), (top, left + 5), (top + 4, left + 5), (top + 4, left)):
        _click(canvas, s2_scene, row, col, offset="ul")
    assert tool.band is not None and len(tool.corners) == 4  # shown while drawn
    _click(canvas, s2_scene, top + 1, left + 1, Qt.MouseButton.RightButton)  # closes it
    assert tool.band is None and not tool.corners
    layer = picker.layers.currentLayer()
    assert layer.name() == AREAS_LAYER_NAME and picker.field.currentField() == "class"
    assert isinstance(layer.renderer(), QgsCategorizedSymbolRenderer)
    examples = dock.build_request().examples
    with open_source(s2_scene) as src:
        assert example_pixels(src, examples).counts() == {"water": 20}

    picker.draw_label.setCurrentText("other")
    for row, col in ((230, 370), (230, 375), (235, 375)):
        _click(canvas, s2_scene, row, col, offset="ul")
    _key(tool, Qt.Key.Key_Backspace)  # two corners left: a right click drops them
    _click(canvas, s2_scene, 240, 380, Qt.MouseButton.RightButton)
    for row, col in ((230, 370), (230, 375), (235, 375)):
        _click(canvas, s2_scene, row, col, offset="ul")
    _key(tool, Qt.Key.Key_Escape)
    assert not tool.corners and tool.band is None
    assert layer.featureCount() == 1

    _click(canvas, s2_scene, top + 2, left + 2, Qt.MouseButton.RightButton)  # removes the area
    assert layer.featureCount() == 0
    layer.undoStack().undo()
    assert dock.build_request().examples.counts() == {"water": 1}

    picker.draw_shape.setCurrentIndex(picker.draw_shape.findData("Point"))  # another shape
    assert not picker.draw_button.isChecked() and picker.tool is None
    picker.draw_button.setChecked(True)  # points go to a point layer, not into the areas
    assert isinstance(canvas.mapTool(), ExampleClickTool)
    assert picker.layers.currentLayer().name() == LAYER_NAME
    picker.layers.currentLayer().rollBack()
    layer.rollBack()

    # A polygon layer of the analyst's, in another CRS than the map's and the raster's.
    mine = QgsVectorLayer("Polygon?crs=EPSG:4326&field=kind:string", "my areas", "memory")
    QgsProject.instance().addMapLayer(mine)
    picker.layers.setLayer(mine)  # the shape follows the layer chosen
    assert picker.draw_shape.currentData() == "Polygon" and picker.tool is None
    picker.field.setField("kind")
    picker.draw_label.setCurrentText("built-up")
    picker.draw_button.setChecked(True)
    for row, col in ((top, left), (top, left + 5), (top + 4, left + 5), (top + 4, left)):
        _click(canvas, s2_scene, row, col, offset="ul")
    _click(canvas, s2_scene, top, left, Qt.MouseButton.RightButton)
    assert picker.layers.currentLayer() is mine and mine.featureCount() == 1
    with open_source(s2_scene) as src:
        assert example_pixels(src, dock.build_request().examples).counts() == {"builtup": 20}
    mine.rollBack()
