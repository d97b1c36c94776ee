"""Hiding the product's clouds in QGIS: Processing's MASK_CLOUDS and the dock's box, on the
real Sentinel-2 sample written as a Landsat product with a stand-in QA_PIXEL (a cloud shadow
block over the lake, named as a stand-in in `test_product_quality`). Real QGIS (pytest-qgis,
offscreen), the real engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from qgis.core import QgsProcessingException, QgsProcessingFeedback, QgsProject, QgsRasterLayer

from spex.engine.raster.band_files import whole_product
from spex.spex_qgis.dock import SpexDock
from tests.rasters import LANDSAT_PRODUCT, landsat_product_folder
from tests.test_cloud_buffer import within
from tests.test_product_quality import _stand_in_qa_pixel, stand_in_shadow
from tests.test_qgis_dock import _layers_a_run_adds


def _extract_hiding_clouds(raster: Path, folder: Path, **more: object) -> dict:
    """Processing's extract of the water bodies from `raster` with MASK_CLOUDS (and `more`
    parameters), into `folder`."""
    import processing

    folder.mkdir()
    params = {
        "INPUT": str(raster),
        "PROMPT": "extract the water bodies",
        "MASK_CLOUDS": True,
        "OUTPUT_MASK": str(folder / "m.tif"),
        "OUTPUT_FEATURES": str(folder / "f.gpkg"),
    } | more
    return processing.run("spex:extract_land_cover", params, feedback=QgsProcessingFeedback())


def test_processing_hides_the_products_clouds(provider, s2_scene: Path, tmp_path: Path) -> None:
    folder = landsat_product_folder(s2_scene, tmp_path)
    qa = _stand_in_qa_pixel(folder)
    out = _extract_hiding_clouds(folder, tmp_path / "product")
    with rasterio.open(out["OUTPUT_MASK"]) as mask:
        assert np.array_equal(mask.read(1) == 255, stand_in_shadow(qa))
    assert "Clouds hidden: 5.2% of the raster" in out["EXPLANATION"]
    with pytest.raises(QgsProcessingException) as refused:
        _extract_hiding_clouds(s2_scene, tmp_path / "scene")
    said = str(refused.value)
    assert "Hiding the product's clouds (MASK_CLOUDS) needs its quality band" in said, said


def test_processing_widens_the_hidden_clouds_by_cloud_buffer(
    provider, s2_scene: Path, tmp_path: Path
) -> None:
    folder = landsat_product_folder(s2_scene, tmp_path)
    shadow = stand_in_shadow(_stand_in_qa_pixel(folder))
    out = _extract_hiding_clouds(folder, tmp_path / "wide", CLOUD_BUFFER=45)
    with rasterio.open(out["OUTPUT_MASK"]) as mask:
        assert np.array_equal(mask.read(1) == 255, within(shadow, 45, (10.0, 10.0)))
    assert "widened by 45 m" in out["EXPLANATION"]
    with pytest.raises(QgsProcessingException) as refused:
        _extract_hiding_clouds(folder, tmp_path / "alone", CLOUD_BUFFER=45, MASK_CLOUDS=False)
    said = str(refused.value)
    assert "A cloud buffer (CLOUD_BUFFER) widens the clouds that MASK_CLOUDS hides" in said, said


def test_the_dock_offers_the_box_for_a_product_and_hides_its_clouds(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    box = dock.mask_clouds_check
    assert not box.isEnabled() and not box.isChecked()  # the scene alone has no quality band
    folder = landsat_product_folder(s2_scene, tmp_path)
    qa = _stand_in_qa_pixel(folder)
    band = str(folder / f"{LANDSAT_PRODUCT}_SR_B1.TIF")
    layer = QgsRasterLayer(whole_product(band), LANDSAT_PRODUCT, "gdal")  # as the dock adds it
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    dock.layer_combo.setLayer(layer)
    assert box.isEnabled() and qa.name in box.toolTip()
    spin = dock.cloud_buffer_spin
    spin.setValue(45)
    assert not spin.isEnabled() and spin.metres() == 0  # offered while the box is ticked
    box.setChecked(True)
    assert spin.isEnabled() and spin.metres() == 45
    spin.setValue(0)
    dock.prompt_edit.setPlainText("extract the water bodies")
    assert dock.build_request().mask_clouds is True
    assert dock.build_request().cloud_buffer_m == 0
    added = _layers_a_run_adds(dock, "extract the water bodies")
    masks = [a for a in added if isinstance(a, QgsRasterLayer)]
    assert len(masks) == 1
    with rasterio.open(masks[0].source()) as mask:
        assert np.array_equal(mask.read(1) == 255, stand_in_shadow(qa))
    assert "Clouds hidden" in dock.explanation_view.toPlainText()
    spin.setValue(45)
    added = _layers_a_run_adds(dock, "extract the water bodies")
    with rasterio.open(next(a for a in added if isinstance(a, QgsRasterLayer)).source()) as mask:
        assert np.array_equal(mask.read(1) == 255, within(stand_in_shadow(qa), 45, (10.0, 10.0)))
    scene = QgsRasterLayer(str(s2_scene), "scene", "gdal")
    QgsProject.instance().addMapLayer(scene)
    dock.layer_combo.setLayer(scene)
    assert not box.isEnabled() and not box.isChecked()  # no quality band: cleared
    assert not spin.isEnabled() and dock.build_request().cloud_buffer_m == 0


def test_processing_index_hides_the_clouds_of_a_stack_of_band_files(
    provider, s2_scene: Path, tmp_path: Path
) -> None:
    """spex:spectral_index with MASK_CLOUDS on the analyst's stack of the band files (Build
    Virtual Raster): the index is nodata under the flagged block."""
    import processing
    from osgeo import gdal

    folder = landsat_product_folder(s2_scene, tmp_path)
    qa = _stand_in_qa_pixel(folder)
    stack = tmp_path / "stack.vrt"
    files = [str(folder / f"{LANDSAT_PRODUCT}_SR_B{b}.TIF") for b in range(1, 8)]
    gdal.BuildVRT(str(stack), files, separate=True).FlushCache()
    for metres in (0, 20):  # CLOUD_BUFFER widens the hidden block
        out = processing.run(
            "spex:spectral_index",
            {
                "INPUT": str(stack),
                "INDEX": "NDVI",
                "MASK_CLOUDS": True,
                "CLOUD_BUFFER": metres,
                "OUTPUT": str(tmp_path / f"i{metres}.tif"),
            },
            feedback=QgsProcessingFeedback(),
        )
        with rasterio.open(out["OUTPUT"]) as index:
            hidden = index.read(1, masked=True).mask
        assert np.array_equal(hidden, within(stand_in_shadow(qa), metres, (10.0, 10.0))), metres


def test_a_level1c_products_cast_shadows_are_hidden_in_qgis(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """The Level-1C stand-in of `test_cloud_shadows` (an opaque cloud, its shadow 600 m away
    from the sun): Processing hides the shadow with the cloud and says so; the dock's box
    says it will."""
    from bench.sentinel2_safe import SAMPLE_SUN
    from spex.engine.raster.cloud_shadows import SunAngles
    from tests.test_cloud_shadows import CLOUD, _grid_10m, _level1c_with_cloud, _shadow_block

    shadow = _shadow_block(600, SunAngles(*SAMPLE_SUN))
    given = _level1c_with_cloud(tmp_path / "product", s2_scene, shadow)
    layer = QgsRasterLayer(given, "L1C", "gdal")  # a product's 10 m layer, as QGIS lists it
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    out = _extract_hiding_clouds(Path(given), tmp_path / "out", INPUT=layer)
    with rasterio.open(out["OUTPUT_MASK"]) as mask:
        hidden = mask.read(1) == 255
    cloud, cast = _grid_10m(CLOUD, hidden.shape), _grid_10m(shadow, hidden.shape)
    assert hidden[cloud].all() and hidden[cast].sum() > 0.9 * cast.sum()
    assert "and the shadows those clouds cast (" in out["EXPLANATION"]
    dock.layer_combo.setLayer(layer)
    box = dock.mask_clouds_check
    assert box.isEnabled() and "the shadows its clouds cast from the sun's angles" in box.toolTip()
