"""The dock panel on the real Sentinel-2 scene: a run adds styled, explained layers; cancel
leaves nothing. Real QGIS (pytest-qgis, offscreen), the real engine, no stubs."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsPalettedRasterRenderer,
    QgsProject,
    QgsRasterLayer,
    QgsUnitTypes,
    QgsVectorLayer,
)
from rasterio.windows import Window

from bench.sentinel2_safe import layer as sentinel2_layer
from bench.sentinel2_safe import write_scene_window
from spex.engine.raster.sensors import get_preset
from spex.spex_qgis import settings
from spex.spex_qgis.dock import SpexDock
from tests.maxar_fake import ROLES as MAXAR_ROLES
from tests.maxar_fake import maxar_product, worldview3_order
from tests.qgis_helpers import wait_for
from tests.rasters import (
    SPECTROMETER_NM,
    crop_raster,
    numbered_bands_copy,
    orthophoto_copy,
    spectrometer_copy,
    true_colour_copy,
    ungeoreferenced_copy,
    write_raster,
    zipped_copy,
)

PROMPT = "extract the water bodies and vegetation larger than 1 ha"


def test_band_roles_backends_and_plan_before_the_run(dock: SpexDock) -> None:
    table = dock.band_table
    assert table.table.rowCount() == 13
    assert table.roles()[3] == "red" and table.roles()[7] == "nir"
    assert table.sensor == "sentinel2_l1c"
    assert table.override() is None  # untouched: the engine detects the roles itself
    table.set_role(10, None)
    assert table.override().split(",")[9] == "-"

    reasons = dock.backend_reasons()
    assert reasons["spectral"] is None
    assert set(reasons) >= {"spectral", "spex", "onnx"}
    assert reasons["onnx"], "a model backend without weights must say why it cannot run"
    assert dock.backend_combo.currentData() == "spectral"

    dock.prompt_edit.setPlainText("find the 3 largest lakes")
    assert dock.update_plan().startswith("Targets: water")
    assert "3 largest" in dock.plan_label.text()
    dock.prompt_edit.setPlainText("land cover map")
    assert dock.update_plan().startswith("Targets: water, vegetation, forest, built-up")
    dock.prompt_edit.setPlainText("extract the unicorns")
    assert dock.update_plan() == ""
    assert "color:#b00" in dock.plan_label.text()


def test_a_spectrometer_layer_gets_its_roles_by_wavelength(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """An imaging spectrometer's 203 bands, known by their metadata only: the table shows the
    band that names each role by wavelength, the bad bands unused, and the status says each
    role is the mean of its bands within 15 nm."""
    centres = [band.center_nm for band in get_preset("sentinel2_l1c").bands]
    path = spectrometer_copy(s2_scene, tmp_path / "enmap_like.tif", (0, 0, 64, 64), centres)
    table = _chosen_layer_table(dock, path)
    assert table.table.rowCount() == len(SPECTROMETER_NM)
    roles = {role: SPECTROMETER_NM[i] for i, role in enumerate(table.roles()) if role}
    assert roles["red"] == 660 and roles["nir"] == 840 and roles["swir1"] == 1610
    assert "cirrus" not in roles  # 1330-1390 nm are flagged bad
    assert "Roles from band descriptions" in table.status.text()
    assert "read as the mean of its bands within 15 nm" in table.status.text()
    assert table.override() is None


def test_a_maxar_product_layer_gets_its_roles_from_its_imd(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """A WorldView-2 product as a layer (the real scene made into one, `tests/maxar_fake.py`):
    the table shows the roles its IMD gives, no flag needed, and the status names the product
    and where the roles came from."""
    table = _chosen_layer_table(dock, maxar_product(tmp_path / "product", s2_scene))
    assert table.roles() == MAXAR_ROLES
    text = table.status.text()
    assert "Roles from product band order, sensor worldview2_8band" in text
    assert "product: WorldView-2 Standard2A, 8 bands" in text
    assert table.override() is None


def test_a_worldview3_layer_says_its_swir_product_is_read_with_it(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """The multispectral file of a WorldView-3 order as a layer, its SWIR product in the
    order's SWR folder: the table shows the file's own eight bands and their roles, the status
    says the SWIR product's bands are read with them, and nothing is overridden, so the run
    opens both (`tests/test_maxar_swir.py`)."""
    mul = worldview3_order(tmp_path / "order", s2_scene)
    table = _chosen_layer_table(dock, mul)
    assert table.table.rowCount() == 8 and table.roles() == MAXAR_ROLES
    text = table.status.text()
    assert "Roles from product band order, sensor worldview3_8band" in text
    assert "with its SWIR product's bands S2, S6" in text
    assert table.override() is None


def test_an_orthophoto_layer_takes_its_colour_interpretation(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """An 8-bit RGB export with a transparency band and no band names: the table shows the
    roles GDAL's colour interpretation gives, the transparency band unused, and the status
    says where they came from and what a colour-infrared image needs."""
    table = _chosen_layer_table(dock, orthophoto_copy(s2_scene, tmp_path / "ortho.tif", True))
    assert table.roles() == ("red", "green", "blue", None)
    assert "Roles from colour interpretation" in table.status.text()
    assert "colour-infrared" in table.status.text()
    assert table.override() is None


def _layers_a_run_adds(dock: SpexDock, prompt: str) -> list:
    """The layers a run of `prompt` in the dock adds to the project, once it has finished."""
    project = QgsProject.instance()
    before = set(project.mapLayers())
    dock.prompt_edit.setPlainText(prompt)
    dock.run_button.click()
    wait_for(lambda: not dock.is_running(), timeout=120)
    return [project.mapLayer(i) for i in set(project.mapLayers()) - before]


def _chosen_layer_table(dock: SpexDock, path: Path):
    """The dock's band-role table once the raster at `path` is the chosen layer."""
    layer = QgsRasterLayer(str(path), path.stem, "gdal")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    dock.layer_combo.setLayer(layer)
    return dock.band_table


def test_band_names_of_several_sensors_offer_each_reading(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """Seven bands named B1..B7 (a Landsat TM stack with its thermal band, or OLI's seven):
    the dock names no reading itself and offers each; the chosen one fills the roles and
    its preset goes with them to the engine."""
    path = numbered_bands_copy(s2_scene, tmp_path / "tm_stack.tif")
    table = _chosen_layer_table(dock, path)
    assert "several sensors" in table.status.text()
    assert table.roles() == (None,) * 7 and table.override() is None
    combo = table.reading_combo
    offered = [combo.itemData(i) for i in range(1, combo.count())]
    assert {"landsat_tm_etm", "landsat8_9_oli"} <= set(offered)
    combo.setCurrentIndex(offered.index("landsat_tm_etm") + 1)
    assert table.roles() == ("blue", "green", "red", "nir", "swir1", "thermal", "swir2")
    assert table.sensor == "landsat_tm_etm"
    assert table.override() == "blue,green,red,nir,swir1,thermal,swir2"


def test_a_landsat_identifier_in_the_file_name_settles_the_band_names(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """The same B1..B7 stack under a Landsat 5 scene identifier (as RStoolbox ships its bands):
    TM's reading, as the engine reads the file, with no choice to make."""
    path = numbered_bands_copy(s2_scene, tmp_path / "LT52240631988227CUB02_stack.tif")
    table = _chosen_layer_table(dock, path)
    assert "sensor landsat_tm_etm" in table.status.text()
    assert "product: Landsat 5 TM Level-1 (LT52240631988227CUB02)" in table.status.text()
    assert not table.reading_combo.isVisibleTo(dock)
    assert table.roles() == ("blue", "green", "red", "nir", "swir1", "thermal", "swir2")
    assert table.sensor == "landsat_tm_etm"


def _band_files_vrt(s2_scene: Path, folder: Path, names: dict[str, str]) -> Path:
    """One GeoTIFF per band of the real scene (file stem -> its band name there), stacked by
    GDAL's BuildVRT as QGIS's Build Virtual Raster does (one band per file)."""
    from osgeo import gdal

    files = []
    with rasterio.open(s2_scene) as src:
        index = {d: i for i, d in enumerate(src.descriptions, start=1)}
        for stem, band in names.items():
            path = folder / f"{stem}.tif"
            with rasterio.open(path, "w", **(src.profile | {"count": 1})) as dst:
                dst.write(src.read(index[band]), 1)
            files.append(str(path))
    stack = folder / "stack.vrt"
    gdal.BuildVRT(str(stack), files, separate=True)
    return stack


def test_a_virtual_raster_of_band_files_is_read_by_their_names(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """A VRT stacked from Sentinel-2 band files (QGIS's Build Virtual Raster, one band per
    file): its bands have no descriptions; the table shows and reads the files' names."""
    names = {f"T33UUU_20170216T102101_B0{b[1:]}": b for b in ("B2", "B3", "B4", "B8")}
    table = _chosen_layer_table(dock, _band_files_vrt(s2_scene, tmp_path, names))
    assert table.roles() == ("blue", "green", "red", "nir"), table.status.text()
    assert table.table.item(0, 1).text() == "T33UUU_20170216T102101_B02"


def test_a_mosaic_of_a_scenes_tiles_is_read_by_the_tiles_band_names(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """Build Virtual Raster over two multi-band tiles of the scene (no "separate"): the VRT's
    bands have no descriptions; the table reads the tiles' own (it refused the roles)."""
    from osgeo import gdal

    windows = ((0, 0, 384, 256), (384, 0, 384, 256))
    tiles = [str(crop_raster(s2_scene, tmp_path / f"t{i}.tif", w)) for i, w in enumerate(windows)]
    mosaic = tmp_path / "mosaic.vrt"
    gdal.BuildVRT(str(mosaic), tiles).FlushCache()
    table = _chosen_layer_table(dock, mosaic)
    assert table.sensor == "sentinel2_l1c", table.status.text()
    assert table.roles()[3] == "red" and table.roles()[7] == "nir"


def test_no_layer_says_how_to_stack_band_files(dock: SpexDock) -> None:
    dock.band_table.detect(None)
    text = dock.band_table.status.text()
    assert "Choose a multiband raster layer" in text and "Build Virtual Raster" in text


def test_hls_l30_band_files_are_read_as_landsat_bands(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """HLS L30 numbers OLI's bands as Sentinel-2 does (B05 is NIR, not a red edge): the table
    reads a VRT of its band files as the product name in them says."""
    product = "HLS.L30.T33UUU.2017047T101059.v2.0"
    names = {f"{product}.{hls}": s2 for hls, s2 in (("B02", "B2"), ("B03", "B3"), ("B04", "B4"),
                                                   ("B05", "B8"))}  # fmt: skip
    table = _chosen_layer_table(dock, _band_files_vrt(s2_scene, tmp_path, names))
    assert table.roles() == ("blue", "green", "red", "nir"), table.status.text()
    assert table.sensor == "hls_l30"
    assert "product: HLS L30 v2.0 (Landsat 8/9 OLI)" in table.status.text()


def test_a_naip_file_without_band_names_is_read_in_naip_order(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """NAIP files carry no band descriptions: under the name USDA delivers them by, the table
    reads red, green, blue, NIR (a bare 4-band file is refused, as before)."""
    with rasterio.open(s2_scene) as src:
        index = {d: i for i, d in enumerate(src.descriptions, start=1)}
        data = src.read([index[b] for b in ("B4", "B3", "B2", "B8")], window=((0, 64), (0, 64)))
        crs, transform = src.crs.to_string(), src.transform
    eight_bit = np.clip(data / 20, 1, 255).astype("uint8")
    path = write_raster(tmp_path / "m_3807537_ne_18_060_20180827.tif", eight_bit, crs=crs,
                        transform=transform)  # fmt: skip
    table = _chosen_layer_table(dock, path)
    assert table.roles() == ("red", "green", "blue", "nir"), table.status.text()
    assert table.sensor == "naip" and "product: NAIP quarter quadrangle" in table.status.text()


def test_a_sentinel2_layer_as_qgis_opens_a_safe_has_its_products_bands(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """QGIS opens a .SAFE product through GDAL's SENTINEL2 driver, one layer per resolution: the
    10 m layer's table lists its four bands (without the auxiliary layers that newer GDAL
    versions add), then the 20 and 60 m bands the engine reads with them, and a run on it finds
    the scene's lakes."""
    mtd = write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240))
    layer = QgsRasterLayer(sentinel2_layer(mtd, 10), "T33UUU 10m", "gdal")
    assert layer.isValid() and layer.bandCount() in (4, 6)  # GDAL 3.x adds AOT and WVP
    QgsProject.instance().addMapLayer(layer)
    dock.layer_combo.setLayer(layer)
    table = dock.band_table
    assert table.table.rowCount() == 4 + 6 + 2
    assert table.roles()[:4] == ("red", "green", "blue", "nir")
    assert table.roles()[8:10] == ("swir1", "swir2") and table.sensor == "sentinel2_l2a"
    assert "product: Sentinel-2 L2A, processing baseline 05.09" in table.status.text()
    added = _layers_a_run_adds(dock, "extract the lakes")
    assert any(isinstance(a, QgsVectorLayer) and a.featureCount() > 0 for a in added), [
        a.name() for a in added
    ]


def test_run_adds_styled_layers_with_metadata(dock: SpexDock, qgis_iface, tmp_path) -> None:
    project = QgsProject.instance()
    before = set(project.mapLayers())
    dock.prompt_edit.setPlainText(PROMPT)
    dock.run_button.click()
    assert dock.is_running() and not dock.run_button.isEnabled()
    assert "Targets: water, vegetation" in dock.explanation_view.toPlainText()  # plan first
    wait_for(lambda: not dock.is_running(), timeout=120)

    added = [project.mapLayer(i) for i in set(project.mapLayers()) - before]
    assert len(added) == 2, qgis_iface.messageBar().get_messages(2)
    group = project.layerTreeRoot().children()[0]
    assert group.name() == PROMPT
    mask = next(layer for layer in added if isinstance(layer, QgsRasterLayer))
    regions = next(layer for layer in added if isinstance(layer, QgsVectorLayer))
    assert {node.layerId() for node in group.findLayers()} == {mask.id(), regions.id()}

    renderer = mask.renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer)
    assert [(c.value, c.label) for c in renderer.classes()] == [(1, "water"), (2, "vegetation")]
    assert renderer.classes()[0].color.blue() > renderer.classes()[0].color.red()

    categorized = regions.renderer()
    assert isinstance(categorized, QgsCategorizedSymbolRenderer)
    assert categorized.classAttribute() == "class"
    assert [c.value() for c in categorized.categories()] == ["water", "vegetation"]
    assert regions.labelsEnabled()
    assert "area_ha" in regions.labeling().settings().fieldName
    assert regions.attributeAlias(regions.fields().indexOf("area_ha")) == "Area (ha)"
    assert regions.featureCount() > 10
    classes = {f["class"] for f in regions.getFeatures()}
    assert classes == {"water", "vegetation"}

    result = dock.last_result
    manifest = Path(result.manifest_path)
    assert manifest.is_file() and manifest.parent.parent == tmp_path / "out" / "spex-runs"
    for layer in (mask, regions):
        abstract = layer.metadata().abstract()
        assert "## Summary" in abstract and str(manifest) in abstract
    html = dock.explanation_view.toHtml()
    assert "Largest regions" in html and "<table" in html
    assert "water:" in dock.explanation_view.toPlainText()
    assert "spectral" in dock.device_label.text() and "cpu" in dock.device_label.text()
    assert settings.recent_prompts()[0] == PROMPT

    # the metadata travels with a saved project
    path = tmp_path / "project.qgz"
    assert project.write(str(path))
    project.clear()
    assert project.read(str(path))
    reread = [layer for layer in project.mapLayers().values() if layer.name() == "regions"]
    assert str(manifest) in reread[0].metadata().abstract()


def test_cancel_mid_run_leaves_no_layers_and_no_files(dock: SpexDock, tmp_path: Path) -> None:
    project = QgsProject.instance()
    before = set(project.mapLayers())
    dock.tile_spin.setValue(64)  # 288 tiles: long enough to cancel in the middle
    dock.prompt_edit.setPlainText("extract the water bodies")
    dock.run_button.click()
    wait_for(lambda: dock.progress.value() >= 15 or not dock.is_running(), timeout=60)
    assert dock.is_running(), "the run ended before it could be cancelled"
    asked = time.monotonic()
    dock.cancel_button.click()
    wait_for(lambda: not dock.is_running(), timeout=10)
    assert time.monotonic() - asked < 3.0
    assert set(project.mapLayers()) == before
    assert "cancelled" in dock.stage_label.text()
    runs = tmp_path / "out" / "spex-runs"
    assert not runs.exists() or list(runs.iterdir()) == []


def test_invalid_input_is_one_line_in_the_message_bar(dock: SpexDock, qgis_iface) -> None:
    qgis_iface.messageBar().clear_messages()
    dock.prompt_edit.setPlainText("")
    dock.run()
    assert not dock.is_running()
    messages = qgis_iface.messageBar().get_messages(2)  # Qgis.Critical
    assert len(messages) == 1 and "instruction" in messages[0] and "\n" not in messages[0]


def test_raster_without_a_crs_runs_in_pixels(dock: SpexDock, s2_scene: Path, tmp_path) -> None:
    """No CRS (identity grid): the dock's run adds its layers and explains areas in pixels."""
    chip = ungeoreferenced_copy(s2_scene, tmp_path / "no_crs.tif", (420, 120, 300, 250))
    layer = QgsRasterLayer(str(chip), "no crs", "gdal")
    assert layer.isValid() and not layer.crs().isValid()
    project = QgsProject.instance()
    project.addMapLayer(layer)
    dock.layer_combo.setLayer(layer)
    before = set(project.mapLayers())
    dock.prompt_edit.setPlainText("extract the water bodies")
    dock.run_button.click()
    wait_for(lambda: not dock.is_running(), timeout=120)
    added = [project.mapLayer(i) for i in set(project.mapLayers()) - before]
    assert len(added) == 2
    # The regions are in pixels like the raster: no CRS that reads them as degrees.
    assert all(layer.crs().mapUnits() != QgsUnitTypes.DistanceDegrees for layer in added)
    # Over the raster as QGIS draws it (y = -row), not mirrored above it.
    assert layer.extent().toString(0) == "0,-250 : 300,0"
    assert all(layer.extent().contains(other.extent()) for other in added)
    text = dock.explanation_view.toPlainText()
    assert "no coordinate reference system" in text and " px (" in text


def test_a_raster_inside_a_zip_archive_runs(
    dock: SpexDock, qgis_iface, s2_scene: Path, tmp_path: Path
) -> None:
    """A layer QGIS opened from a zip archive (source /vsizip//...): the band table reads it and
    the run finds water, as from the file itself."""
    layer = QgsRasterLayer(zipped_copy(s2_scene, tmp_path), "zipped", "gdal")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    dock.layer_combo.setLayer(layer)
    assert "#b00" not in dock.band_table.status.text()  # no error shown
    assert dock.band_table.roles()[1:4] == ("blue", "green", "red")
    added = _layers_a_run_adds(dock, "extract the water bodies")
    assert len(added) == 2, qgis_iface.messageBar().get_messages(2)


def test_reflectance_scale_and_offset_are_optional(dock: SpexDock, qgis_iface) -> None:
    dock.prompt_edit.setPlainText(PROMPT)
    request = dock.build_request()
    assert request.scale is None and request.offset is None  # automatic, as the CLI without flags
    dock.scale_edit.setText("0,0001")  # a decimal comma is read as a point
    dock.offset_edit.setText("-0.1")
    request = dock.build_request()
    assert request.scale == 0.0001 and request.offset == -0.1
    dock.offset_edit.setText("minus a tenth")
    with pytest.raises(ValueError, match="reflectance offset 'minus a tenth' is not a number"):
        dock.build_request()


def test_a_class_the_bands_cannot_show_is_one_line(
    dock: SpexDock, qgis_iface, s2_scene: Path, tmp_path: Path
) -> None:
    """True colour only: the plan preview refuses water alone and the run says why in one
    line, adding no layer; beside vegetation the run goes on and its summary says it."""
    rgb = true_colour_copy(s2_scene, tmp_path / "rgb.tif")
    layer = QgsRasterLayer(str(rgb), "true colour", "gdal")
    project = QgsProject.instance()
    project.addMapLayer(layer)
    dock.layer_combo.setLayer(layer)
    dock.prompt_edit.setPlainText("extract the water bodies")
    dock.update_plan()
    assert "water: cannot be found with these bands" in dock.plan_label.text()
    qgis_iface.messageBar().clear_messages()
    before = set(project.mapLayers())
    dock.run_button.click()
    wait_for(lambda: not dock.is_running(), timeout=120)
    assert set(project.mapLayers()) == before
    messages = qgis_iface.messageBar().get_messages(2)  # Qgis.Critical
    assert len(messages) == 1 and "\n" not in messages[0] and "water needs" in messages[0]
    dock.prompt_edit.setPlainText("extract the water bodies and vegetation")
    dock.run_button.click()
    wait_for(lambda: not dock.is_running(), timeout=120)
    assert len(set(project.mapLayers()) - before) == 2
    assert "water: cannot be found with these bands" in dock.explanation_view.toPlainText()


def test_index_thresholds_are_read_from_the_advanced_field(dock: SpexDock, qgis_iface) -> None:
    dock.prompt_edit.setPlainText(PROMPT)
    try:
        assert dock.build_request().index_thresholds == {}  # empty: the scene's own
        dock.thresholds_edit.setText("ndvi=0,65")  # a decimal comma, as some locales type it
        assert dock.build_request().index_thresholds == {"NDVI": 0.65}
        dock.thresholds_edit.setText("BSI=0.1")
        with pytest.raises(ValueError, match="BSI is not an index whose threshold can be set"):
            dock.build_request()
    finally:
        dock.thresholds_edit.clear()


def test_examples_are_read_from_the_chosen_layer_and_field(dock: SpexDock, s2_scene) -> None:
    from tests.test_qgis_processing import _examples_layer

    layer = _examples_layer(s2_scene, {"water": [(10, 10)], "other": [(20, 20), (30, 30)]})
    unlabelled = QgsVectorLayer("Point?crs=EPSG:4326&field=name:string", "no class", "memory")
    QgsProject.instance().addMapLayers([layer, unlabelled])
    dock.prompt_edit.setPlainText(PROMPT)
    try:
        assert dock.build_request().examples is None  # no layer: the scene's seeds alone
        dock.examples_picker.layers.setLayer(layer)
        assert dock.examples_picker.field.currentField() == "class"  # found by its name
        assert dock.build_request().examples.counts() == {"water": 1, "other": 2}
        dock.examples_picker.layers.setLayer(unlabelled)
        dock.examples_picker.field.setField("")
        with pytest.raises(ValueError, match="choose the field of 'no class'"):
            dock.build_request()
    finally:
        dock.examples_picker.layers.setLayer(None)
