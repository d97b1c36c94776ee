"""What a first-time user meets in the dock and in the result layers, in real QGIS (pytest-qgis,
offscreen) on the real Sentinel-2 scene: the input combo, the panel's width, the composites, the
plan preview, and the styled results (paletted raster, categorised polygons, area labels that
read m² below 1 ha and hide when too small to see)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextScope,
    QgsExpressionContextUtils,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsPalLayerSettings,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QCoreApplication, QSize

from spex.spex_qgis import settings
from spex.spex_qgis.dock import MINIMUM_WIDTH, SpexDock
from spex.spex_qgis.plan_preview import preview
from spex.spex_qgis.results import DISPLAY_EXPRESSION, add_result_layers

#: A 300 x 200 px part of the scene with lakes and fields (EPSG:32633).
SMALL_EXTENT = (331000.0, 5816000.0, 334000.0, 5818000.0)


def _one_band_raster(path: Path, like: Path) -> Path:
    """A real 1-band uint8 GeoTIFF on the scene's grid: what a class raster looks like."""
    source = gdal.Open(str(like))
    driver = gdal.GetDriverByName("GTiff")
    target = driver.Create(str(path), 64, 64, 1, gdal.GDT_Byte)
    target.SetGeoTransform(source.GetGeoTransform())
    target.SetProjection(source.GetProjection())
    target.GetRasterBand(1).WriteArray(np.ones((64, 64), dtype=np.uint8))
    target = None
    return path


@pytest.fixture
def scene_layer(qgis_new_project, s2_scene: Path) -> QgsRasterLayer:
    layer = QgsRasterLayer(str(s2_scene), "scene", "gdal")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    return layer


@pytest.fixture
def make_dock(qgis_iface):
    made: list[SpexDock] = []
    main_window = qgis_iface.mainWindow()

    def make(parent=main_window) -> SpexDock:
        made.append(SpexDock(qgis_iface, parent))
        return made[-1]

    yield make
    for dock in made:
        dock.shutdown()
        dock.deleteLater()


def test_input_combo_offers_multiband_rasters_and_remembers_the_last(
    scene_layer, make_dock, s2_scene: Path, tmp_path: Path
) -> None:
    """Item 5: a 1-band class raster named to sort first is never the default input."""
    project = QgsProject.instance()
    settings.set_last_input("")  # QgsSettings outlive a test run: start from a first use
    dock = make_dock()
    assert dock.layer_combo.currentLayer() is scene_layer
    assert settings.last_input() == str(s2_scene)
    dock.shutdown()

    # a previous run's class raster, added after the scene; then the plugin is reloaded
    mask = QgsRasterLayer(str(_one_band_raster(tmp_path / "m.tif", s2_scene)), "class raster")
    project.addMapLayer(mask)
    reloaded = make_dock()
    combo = reloaded.layer_combo
    assert combo.currentLayer() is scene_layer
    assert [combo.layer(i) for i in range(combo.count())] == [scene_layer]
    assert reloaded.band_table.table.rowCount() == 13
    assert "color:#b00" not in reloaded.band_table.status.text()
    # a result added while the dock is open does not become the input either
    project.addMapLayer(QgsRasterLayer(str(tmp_path / "m.tif"), "another class raster"))
    assert combo.currentLayer() is scene_layer and combo.count() == 1


def test_the_dock_fits_its_default_width(scene_layer, make_dock) -> None:
    """Item 6: no horizontal scroll bar at the panel's default width."""
    dock = make_dock(parent=None)  # a window of its own, laid out at exactly that width
    dock.layer_combo.setLayer(scene_layer)
    dock.prompt_edit.setPlainText("extract the water bodies and vegetation larger than 1 ha")
    dock.update_plan()
    dock.resize(MINIMUM_WIDTH, 900)
    dock.show()
    for _ in range(10):
        QCoreApplication.processEvents()
    body = dock.scroll.widget()
    assert body.minimumSizeHint().width() <= dock.scroll.viewport().width()
    assert body.width() <= dock.scroll.viewport().width()


def test_true_and_false_colour_in_one_click(scene_layer, make_dock) -> None:
    """Item 8: the composites come from the band roles, with a 2-98 % stretch."""
    dock = make_dock()
    dock.layer_combo.setLayer(scene_layer)
    dock.input_picker.buttons["true colour"].click()
    renderer = scene_layer.renderer()
    assert isinstance(renderer, QgsMultiBandColorRenderer)
    assert (renderer.redBand(), renderer.greenBand(), renderer.blueBand()) == (4, 3, 2)
    red = renderer.redContrastEnhancement()
    assert red is not None and 0 < red.minimumValue() < red.maximumValue() < 10000
    dock.input_picker.buttons["false colour"].click()
    renderer = scene_layer.renderer()
    assert (renderer.redBand(), renderer.greenBand(), renderer.blueBand()) == (8, 4, 3)


def test_plan_preview_names_backend_bands_and_refusals(scene_layer, make_dock) -> None:
    dock = make_dock()
    dock.layer_combo.setLayer(scene_layer)
    dock.prompt_edit.setPlainText("extract the water bodies larger than 2 ha")
    assert dock.update_plan().startswith("Targets: water")
    text = dock.plan_label.text()
    assert "<b>spectral</b>" in text and "MNDWI" in text
    assert "green: band 3" in text and "swir1: band 12" in text  # the stack's own numbering

    refused = preview("extract the airplanes", "spectral", ("red", "green", "blue"))
    assert refused.refused and refused.plan == "" and "color:#b00" in refused.html
    no_model = preview("extract the lakes", "onnx", ("red", "green"), "no weights configured")
    assert no_model.refused and "no weights configured" in no_model.html
    no_roles = preview("extract the lakes", "spectral", None)
    assert no_roles.refused and "Band roles unknown" in no_roles.html
    rgb = preview("extract the lakes", "spectral", ("red", "green", "blue"))
    assert rgb.refused and "evidence" not in rgb.html
    assert "water: cannot be found with these bands, needs a green band with a NIR" in rgb.html
    both = preview("extract the lakes and the forests", "spectral", ("red", "green", "blue"))
    assert not both.refused and "water: cannot be found" in both.html
    assert "forest: evidence" in both.html
    # A part left out of its whole: the spectral backend splits it, a model's backend cannot.
    six = ("blue", "green", "red", "nir", "swir1", "swir2")
    without = preview("grassland other than forest", "spectral", six)
    assert not without.refused and without.plan.startswith("Targets: vegetation without forest")
    model = preview("grassland other than forest", "spex", six)
    assert model.refused and "The spex backend cannot leave forest out of vegetation" in model.html
    # Each target's own limits, shown before the run.
    dock.prompt_edit.setPlainText("lakes over 1 ha and the 3 largest forests")
    assert dock.update_plan() == (
        "Targets: water, forest. Keep water regions of at least 10000 m2 (1 ha); "
        "forest regions of any size, the 3 largest."
    )


def test_every_example_instruction_is_understood() -> None:
    """The dock's example list offers nothing the engine refuses (six-band roles of a
    Landsat scene: every target's evidence present)."""
    from spex.spex_qgis import settings

    roles = ("blue", "green", "red", "nir", "swir1", "swir2")
    for prompt in settings.EXAMPLE_PROMPTS:
        shown = preview(prompt, "spectral", roles)
        assert not shown.refused and shown.plan.startswith("Targets: "), prompt


@pytest.fixture(scope="module")
def small_run(sample_data, tmp_path_factory):
    """One real engine run on a small extent, every region kept (some below 1 ha)."""
    from spex.engine import ExtractionRequest, extract

    out = tmp_path_factory.mktemp("run") / "water"
    request = ExtractionRequest(
        sample_data["s2_stack"],
        "extract the water bodies and vegetation",
        out,
        extent=SMALL_EXTENT,
    )
    return extract(request)


def _label_text(layer, feature) -> str:
    settings_ = QgsPalLayerSettings(layer.labeling().settings())
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    context.setFeature(feature)
    return QgsExpression(settings_.fieldName).evaluate(context)


def _shown_at(layer, feature, scale: float) -> bool:
    pal = QgsPalLayerSettings(layer.labeling().settings())  # a copy: chained temporaries crash
    properties = pal.dataDefinedProperties()
    prop = properties.property(QgsPalLayerSettings.Property.Show)
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    scope = QgsExpressionContextScope()
    scope.setVariable("map_scale", scale)
    context.appendScope(scope)
    context.setFeature(feature)
    value, ok = prop.valueAsBool(context, True)
    assert ok
    return value


def _labels_drawn(layer, extent: QgsRectangle) -> int:
    settings_ = QgsMapSettings()
    settings_.setLayers([layer])
    settings_.setDestinationCrs(layer.crs())
    settings_.setOutputSize(QSize(600, 400))
    settings_.setExtent(extent)
    job = QgsMapRendererSequentialJob(settings_)
    job.start()
    job.waitForFinished()
    return len(job.takeLabelingResults().labelsWithinRect(settings_.visibleExtent()))


def test_results_are_styled_to_read_at_a_glance(qgis_new_project, small_run) -> None:
    """Item 9 and the result styling: m² below 1 ha, labels only where a region can be seen."""
    added = add_result_layers(small_run)
    assert added.group.name() == "extract the water bodies and vegetation"
    assert QgsProject.instance().layerTreeRoot().children()[0] is added.group

    mask = added.mask.renderer()
    assert isinstance(mask, QgsPalettedRasterRenderer)
    assert [(c.value, c.label) for c in mask.classes()] == [(1, "water"), (2, "vegetation")]
    assert not added.group.findLayer(added.mask.id()).itemVisibilityChecked()

    regions = added.regions
    renderer = regions.renderer()
    assert isinstance(renderer, QgsCategorizedSymbolRenderer)
    assert [c.value() for c in renderer.categories()] == ["water", "vegetation"]
    for category in renderer.categories():
        fill = category.symbol().symbolLayer(0)
        assert 0 < fill.color().alpha() < 128  # semi-transparent fill
        assert fill.strokeColor().alpha() == 255 and fill.strokeWidth() >= 0.4  # crisp outline

    features = sorted(regions.getFeatures(), key=lambda f: f["area_m2"])
    small = [f for f in features if f["area_ha"] < 1][-1]  # the largest region below 1 ha
    large = features[-1]
    assert small["area_ha"] < 1 <= large["area_ha"], "the run needs regions on both sides of 1 ha"
    assert _label_text(regions, small).endswith(" m²"), _label_text(regions, small)
    assert "0.0 ha" not in _label_text(regions, small)
    assert _label_text(regions, large).endswith(" ha")
    display = QgsExpression(DISPLAY_EXPRESSION)
    context = QgsExpressionContext()
    context.setFeature(small)
    assert display.evaluate(context).endswith(" m²")

    # visibility follows the scale: the small region is labelled only when zoomed in
    # (a label shows when the region's side is at least 6 mm on screen)
    side_mm_at_1 = small["area_m2"] ** 0.5 * 1000  # its side in mm at scale 1:1
    assert _shown_at(regions, small, side_mm_at_1 / 12)
    assert not _shown_at(regions, small, side_mm_at_1 / 3)
    assert _shown_at(regions, large, 50_000)
    whole = _labels_drawn(regions, regions.extent())
    zoomed = small.geometry().boundingBox().buffered(150)
    assert 0 < whole < regions.featureCount()  # tiny regions unlabelled at the full extent
    assert _labels_drawn(regions, zoomed) >= 1  # ... and labelled when zoomed in on them

    for layer in (added.mask, regions):
        assert "## Summary" in layer.metadata().abstract()


def test_a_target_less_its_part_is_labelled_so(qgis_new_project, small_run) -> None:
    """ "vegetation except forest": the class raster's palette and the regions' legend say
    "vegetation without forest", as the plan and the explanation do."""
    from qgis.core import QgsVectorLayer

    from spex.engine.instructions.plan import Plan
    from spex.spex_qgis.results import class_styles, style_regions

    plan = Plan("grassland other than forest", ("vegetation",), left_out=("forest",))
    assert [(c.value, c.label) for c in class_styles(plan)] == [(1, "vegetation without forest")]
    regions = QgsVectorLayer(f"{small_run.features_path}|layername=regions", "regions", "ogr")
    style_regions(regions, plan)
    labels = [(c.value(), c.label()) for c in regions.renderer().categories()]
    assert labels == [("vegetation", "vegetation without forest")]
