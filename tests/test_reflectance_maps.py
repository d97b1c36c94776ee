"""The reflectance maps of a multispectral drone flight (DJI Phantom 4 Multispectral, MicaSense,
Parrot Sequoia), one float32 GeoTIFF per band, as an analyst finds them in Pix4D's
``4_index/reflectance`` folder or DJI Terra's map folder: the folder reads as the maps stacked in band order,
each band's role from its file's name, reflectance as stored and calibrated, and an image taken
below the clouds (no cloud class). Before, the folder was "a folder; give a raster file" and a
stack built from the maps could not tell its band roles. The values are the real Sentinel-2
sample's reflectance, written as Pix4D writes its maps (a stand-in: no drone flight ships here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from rasterio.windows import Window

from spex.engine.errors import BandError, InputError
from spex.engine.raster.band_files import band_file_product, whole_product
from spex.engine.raster.raster_source import open_source
from tests.rasters import sample_window, write_band
from tests.test_cli import run_spex

WINDOW = Window(1024, 256, 192, 160)
#: The band names in the file names -> the sample's bands that stand for them.
MICASENSE = {"blue": "B2", "green": "B3", "red": "B4", "red edge": "B5", "nir": "B8"}
SEQUOIA = {"green": "B3", "red": "B4", "reg": "B5", "nir": "B8"}
DJI_TERRA = {"Blue": "B2", "Green": "B3", "Red": "B4", "RedEdge": "B5", "NIR": "B8"}


def write_maps(s2_scene: Path, folder: Path, project: str, bands: dict[str, str]) -> Path:
    """`bands` as Pix4D's reflectance maps of `project` in `folder` (float32 reflectance,
    -10000 nodata), beside an index map and a thermal map that are no reflectance bands; for
    `project` "result", as DJI Terra names them (``result_Red.tif``)."""
    maps = project if project == "result" else f"{project}_transparent_reflectance"
    folder.mkdir(parents=True, exist_ok=True)
    files = {**bands, "lwir": "B10"}
    values, profile = sample_window(s2_scene, WINDOW, files.values())
    profile["nodata"] = -10000.0
    for name, s2 in files.items():
        write_band(folder / f"{maps}_{name}.tif", (values[s2] / 10000).astype("float32"), profile)
    zeros = np.zeros((WINDOW.height, WINDOW.width), "float32")
    write_band(folder / f"{project}_index_ndvi.tif", zeros, profile)
    return folder


def _truth(s2_scene: Path, band: str) -> np.ndarray:
    return sample_window(s2_scene, WINDOW, (band,))[0][band] / 10000


@pytest.mark.parametrize(
    ("project", "bands", "roles"),
    [
        ("field_2021", MICASENSE, ("blue", "green", "red", "rededge1", "nir")),
        ("field_2021", SEQUOIA, ("green", "red", "rededge1", "nir")),
        ("result", DJI_TERRA, ("blue", "green", "red", "rededge1", "nir")),
    ],
    ids=["pix4d-micasense", "pix4d-sequoia", "dji-terra"],
)
def test_the_folder_reads_as_the_maps_stacked_by_band(
    s2_scene: Path, tmp_path: Path, project: str, bands: dict[str, str], roles: tuple[str, ...]
) -> None:
    folder = write_maps(s2_scene, tmp_path / "reflectance", project, bands)
    maps = "result" if project == "result" else f"{project}_transparent_reflectance"
    with open_source(folder) as src:
        assert src.mapping.sensor == "drone_reflectance_maps" and src.mapping.roles == roles
        assert src.scaling.calibrated and src.scaling.scale == 1.0
        assert src.scaling.source == f"product {maps}"
        nir = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=("nir",))["nir"]
    np.testing.assert_allclose(nir, _truth(s2_scene, "B8"), atol=1e-6)


def test_a_stack_built_by_hand_in_any_order_reads_each_band_by_its_name(
    s2_scene: Path, tmp_path: Path
) -> None:
    """QGIS's Build Virtual Raster over the maps as its file dialog lists them (alphabetically:
    NIR third, the red edge before the red): each band's role is its own file's, not the preset's band order."""
    folder = write_maps(s2_scene, tmp_path / "reflectance", "field_2021", MICASENSE)
    files = sorted(str(folder / f"field_2021_transparent_reflectance_{b}.tif") for b in MICASENSE)
    stack = tmp_path / "stack.vrt"
    gdal.BuildVRT(str(stack), files, separate=True).FlushCache()
    with open_source(stack) as src:
        assert src.mapping.sensor == "drone_reflectance_maps"
        assert src.mapping.roles == ("blue", "green", "nir", "rededge1", "red")
        nir = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=("nir",))["nir"]
    np.testing.assert_allclose(nir, _truth(s2_scene, "B8"), atol=1e-6)


def test_one_map_names_its_project_and_opens_with_the_others(
    s2_scene: Path, tmp_path: Path
) -> None:
    """Alone, a map has no band roles: one line says to give the folder; the dock's "Add
    product" opens the folder's maps whole."""
    folder = write_maps(s2_scene, tmp_path / "reflectance", "field_2021", MICASENSE)
    red = folder / "field_2021_transparent_reflectance_red.tif"
    assert band_file_product(str(red)) == "field_2021_transparent_reflectance"
    with pytest.raises(BandError, match="one band of a drone flight's reflectance maps"):
        open_source(red)
    with open_source(whole_product(str(red))) as src:
        assert src.mapping.roles == ("blue", "green", "red", "rededge1", "nir")


def test_a_folder_of_two_projects_is_refused(s2_scene: Path, tmp_path: Path) -> None:
    folder = write_maps(s2_scene, tmp_path / "both", "field_a", MICASENSE)
    write_maps(s2_scene, folder, "field_b", MICASENSE)
    with pytest.raises(InputError, match="holds the band files of 2 drone flights'"):
        open_source(folder)


def test_the_folder_maps_end_to_end_below_the_clouds(s2_scene: Path, tmp_path: Path) -> None:
    """The command line on the folder: the maps are a drone's, so no cloud class (the sample's
    hazy corner would seed one), and the explanation says why."""
    folder = write_maps(s2_scene, tmp_path / "reflectance", "field_2021", MICASENSE)
    out = tmp_path / "out"
    done = run_spex("extract", folder, "--prompt", "vegetation", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    text = (out / "explanation.md").read_text(encoding="utf-8")
    assert "(product field_2021_transparent_reflectance)" in text
    assert ": taken by a drone, flown below the clouds; the image's brightest" in text
    assert "uncalibrated" not in text
