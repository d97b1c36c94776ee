"""Band files of a product loaded into QGIS one by one, as an analyst drags a Landsat folder's
GeoTIFFs or a Sentinel-2 .SAFE's jp2 files in: the dock offers no one-band layer as its input
(none has band roles alone), and one click adds the product as one layer and picks it. Real
QGIS (pytest-qgis, offscreen), the real engine; the bands are the real Sentinel-2 sample's."""

from __future__ import annotations

import shutil
from pathlib import Path

from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer
from rasterio.windows import Window

from bench.sentinel2_safe import write_scene_window
from spex.engine.raster.band_files import band_file_hint, band_file_product, whole_product
from spex.spex_qgis.dock import SpexDock
from spex.spex_qgis.input_picker import PRODUCT_PROPERTY, kept_stack, products_folder
from spex.spex_qgis.widgets import layer_file
from tests.rasters import LANDSAT_PRODUCT, landsat_product_folder
from tests.test_qgis_dock import _layers_a_run_adds


def _load_one_by_one(files: list[Path]) -> list[QgsRasterLayer]:
    """Each file as its own layer, as dragging a folder's files into QGIS adds them."""
    layers = [QgsRasterLayer(str(f), f.stem, "gdal") for f in files]
    assert all(layer.isValid() for layer in layers)
    QgsProject.instance().addMapLayers(layers)
    return layers


def test_a_landsat_products_band_files_are_added_as_one_layer(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    folder = landsat_product_folder(s2_scene, tmp_path)
    picker = dock.input_picker
    assert picker.add_product.isHidden()  # the scene alone: nothing to add
    bands = _load_one_by_one(sorted(folder.glob("*.TIF")))
    assert not picker.add_product.isHidden()
    assert picker.add_product.text() == f"Add {LANDSAT_PRODUCT} as one layer"
    offered = {picker.combo.layer(i) for i in range(picker.combo.count())}
    assert not offered & set(bands)  # one-band layers are never the input

    picker.add_product.click()
    layer = picker.combo.currentLayer()
    assert layer is not None and layer.name() == LANDSAT_PRODUCT
    assert layer.customProperty(PRODUCT_PROPERTY) == LANDSAT_PRODUCT
    assert layer.bandCount() == 7  # SR_B1..SR_B7; ST_B10 and QA_PIXEL left out
    # kept in the profile, where a saved project finds it after the temporary folder is gone
    kept = Path(layer.source())
    assert kept.parent == products_folder() and kept.name.startswith(f"{LANDSAT_PRODUCT}-")
    shutil.rmtree(Path(whole_product(str(folder / f"{LANDSAT_PRODUCT}_SR_B1.TIF"))).parent)
    assert QgsRasterLayer(str(kept), "again", "gdal").isValid()
    assert picker.add_product.isHidden()  # added: not offered twice
    table = dock.band_table
    assert table.roles() == ("coastal", "blue", "green", "red", "nir", "swir1", "swir2")
    assert LANDSAT_PRODUCT in table.status.text(), table.status.text()
    added = _layers_a_run_adds(dock, "extract the lakes")
    assert any(isinstance(a, QgsVectorLayer) and a.featureCount() > 0 for a in added), [
        a.name() for a in added
    ]

    QgsProject.instance().removeMapLayer(layer.id())
    assert not picker.add_product.isHidden()  # removed: offered again
    QgsProject.instance().removeMapLayers([b.id() for b in bands])
    assert picker.add_product.isHidden()


def test_a_sentinel2_products_band_files_are_added_as_its_10m_layer(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    mtd = write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240))
    safe = mtd.parent
    files = sorted((safe / "GRANULE").glob("*/IMG_DATA/R20m/*_B*_20m.jp2"))
    assert len(files) >= 6
    _load_one_by_one(files)
    picker = dock.input_picker
    assert picker.add_product.text() == f"Add {safe.name} as one layer"
    picker.add_product.click()
    layer = picker.combo.currentLayer()
    assert layer.name() == safe.name and layer.source().startswith("SENTINEL2_L2A:")
    assert layer.source().endswith(":10m:EPSG_32633")
    table = dock.band_table
    assert table.roles()[:4] == ("red", "green", "blue", "nir")
    assert {"swir1", "swir2"} <= set(table.roles()) and table.sensor == "sentinel2_l2a"


def test_an_hls_granules_band_files_are_added_as_one_layer(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    from tests.test_hls_granules import GRANULE, write_granule

    folder = write_granule(s2_scene, tmp_path / "download")
    _load_one_by_one(sorted(folder.glob("*.tif")))  # Fmask and angles too, as dragged in
    picker = dock.input_picker
    assert picker.add_product.text() == f"Add {GRANULE} as one layer"
    picker.add_product.click()
    layer = picker.combo.currentLayer()
    assert layer.name() == GRANULE and layer.bandCount() == 8
    assert dock.band_table.sensor == "hls_l30"
    assert dock.band_table.roles()[4:7] == ("nir", "swir1", "swir2")


def test_a_sentinel_hub_exports_band_files_are_added_as_one_layer(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    from tests.test_browser_exports import EXPORT, write_export

    folder = write_export(s2_scene, tmp_path / "download")
    _load_one_by_one(sorted(folder.glob("*.tiff")))  # its cloud mask too, as dragged in
    picker = dock.input_picker
    assert picker.add_product.text() == f"Add {EXPORT} as one layer"
    picker.add_product.click()
    layer = picker.combo.currentLayer()
    assert layer.name() == EXPORT and layer.bandCount() == 6
    assert dock.band_table.sensor == "sentinel2_l2a"
    assert dock.band_table.roles() == ("blue", "green", "red", "nir", "swir1", "swir2")
    # Kept in the profile under a name any file system takes (the time range has colons).
    kept = Path(layer_file(layer))
    assert kept.parent == products_folder() and kept.name.startswith(EXPORT.replace(":", "_"))


def test_two_flights_of_one_name_are_kept_apart(qgis_app, s2_scene: Path, tmp_path: Path) -> None:
    """DJI Terra names every flight's maps ``result_*``: two flights added as one layer each
    are kept in the profile as two files, neither replacing the other under a saved layer."""
    from tests.test_reflectance_maps import DJI_TERRA, write_maps

    kept = []
    for flight in ("north", "south"):
        folder = write_maps(s2_scene, tmp_path / flight, "result", DJI_TERRA)
        stack = whole_product(str(folder / "result_Red.tif"))
        kept.append(kept_stack(stack, band_file_product(str(folder / "result_Red.tif"))))
    assert kept[0] != kept[1] and all(Path(k).parent == products_folder() for k in kept)
    assert all(QgsRasterLayer(k, "flight", "gdal").bandCount() == 5 for k in kept)
    assert "north" in Path(kept[0]).read_text() and "south" in Path(kept[1]).read_text()


def test_the_band_files_of_a_zipped_export_are_added_as_one_layer(
    dock: SpexDock, s2_scene: Path, tmp_path: Path
) -> None:
    """EO Browser's zip dragged into QGIS: each member a layer (``/vsizip/...``); one click
    adds the export from the zip."""
    import zipfile

    from tests.test_browser_exports import EXPORT, write_export

    folder = write_export(s2_scene, tmp_path / "EO_Browser_images")
    archive = tmp_path / "EO_Browser_images.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted(folder.glob("*.tiff")):
            zipped.write(file, file.name)
    shutil.rmtree(folder)
    members = [f"/vsizip/{archive}/{m}" for m in zipfile.ZipFile(archive).namelist()]
    layers = [QgsRasterLayer(m, Path(m).stem, "gdal") for m in members]  # as QGIS names them
    assert all(layer.isValid() for layer in layers)
    QgsProject.instance().addMapLayers(layers)
    assert all(layer.source().startswith("/vsizip/") for layer in layers)
    picker = dock.input_picker
    assert picker.add_product.text() == f"Add {EXPORT} as one layer"
    picker.add_product.click()
    layer = picker.combo.currentLayer()
    assert layer.bandCount() == 6 and dock.band_table.roles()[3] == "nir"


def test_which_product_a_band_file_belongs_to(tmp_path: Path) -> None:
    """Named from the file's name alone (the dock asks it of every layer); opening the whole
    product of a file that is no band file, or whose product does not open, is one line."""
    from spex.engine.errors import InputError

    landsat = f"/data/{LANDSAT_PRODUCT}/{LANDSAT_PRODUCT}_SR_B4.TIF"
    safe = "S2B_MSIL2A_20230315T103629_N0509_R008_T32UPU_20230315T134106.SAFE"
    jp2 = f"/vsizip//data/x.zip/{safe}/GRANULE/L2A/IMG_DATA/R10m/T32UPU_20230315T103629_B04_10m.jp2"
    assert band_file_product(landsat) == LANDSAT_PRODUCT
    assert band_file_product(jp2) == safe
    assert band_file_product("/data/scene.tif") is None
    assert band_file_product(f"/data/{LANDSAT_PRODUCT}_QA_PIXEL.TIF") is None
    assert "is one band of Sentinel-2 product" in band_file_hint(jp2)
    for name, why in (
        ("/data/scene.tif", "is not a band file"),
        (jp2, f"GDAL cannot open Sentinel-2 product {safe} as a whole"),
    ):
        try:
            whole_product(name)
        except InputError as error:
            assert why in str(error) and "\n" not in str(error)
        else:
            raise AssertionError(f"{name} opened")
