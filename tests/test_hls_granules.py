"""An HLS granule given whole, as LP DAAC delivers it (one COG per band beside its Fmask and
angle files, in one folder), reads as its reflectance bands stacked in band order: before, the
folder was "a folder; give a raster file" and a band file had no roles. The bands are the real
Sentinel-2 sample's reflectance, written as HLS L30 v2.0 stores it (x 10000, int16, -9999)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine.errors import BandError, InputError
from spex.engine.raster.band_files import band_file_product, whole_product
from spex.engine.raster.raster_source import open_source
from tests.rasters import sample_window, write_band
from tests.test_cli import run_spex

GRANULE = "HLS.L30.T33UUU.2017047T101059.v2.0"
#: L30's bands and the Sentinel-2 bands that stand for them (B10, B11: thermal, left out).
L30 = {"B01": "B1", "B02": "B2", "B03": "B3", "B04": "B4", "B05": "B8A", "B06": "B11",
       "B07": "B12", "B09": "B10"}  # fmt: skip
WINDOW = Window(1024, 256, 192, 160)


def write_granule(s2_scene: Path, folder: Path, granule: str = GRANULE) -> Path:
    """The granule's band files (written out of order), thermal bands, Fmask and an angle file,
    in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    values, profile = sample_window(s2_scene, WINDOW, L30.values())
    profile["nodata"] = -9999
    for band, s2 in sorted(L30.items(), reverse=True):
        write_band(folder / f"{granule}.{band}.tif", values[s2].astype("int16"), profile)
    for extra in ("B10", "B11", "Fmask", "SAA"):
        filled = np.full((WINDOW.height, WINDOW.width), 2900, "int16")
        write_band(folder / f"{granule}.{extra}.tif", filled, profile)
    return folder


def test_a_granules_folder_reads_as_its_reflectance_bands(s2_scene: Path, tmp_path: Path) -> None:
    folder = write_granule(s2_scene, tmp_path / GRANULE)
    with open_source(folder) as src, rasterio.open(s2_scene) as truth:
        assert src.mapping.sensor == "hls_l30"
        assert src.mapping.roles == (
            "coastal", "blue", "green", "red", "nir", "swir1", "swir2", "cirrus",
        )  # fmt: skip
        assert src.scaling.scale == pytest.approx(1e-4) and src.scaling.offset == 0
        index = {d: i for i, d in enumerate(truth.descriptions, start=1)}
        nir = truth.read(index["B8A"], window=WINDOW)
        assert np.array_equal(src.dataset.read(5), nir.astype("int16"))
    done = run_spex("extract", folder, "--prompt", "water", "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 0, done.stderr


def test_one_band_file_names_its_granule_and_opens_it_whole(s2_scene: Path, tmp_path: Path) -> None:
    folder = write_granule(s2_scene, tmp_path / "download")
    band = folder / f"{GRANULE}.B04.tif"
    with pytest.raises(BandError, match=rf"is one band of HLS granule {GRANULE}; give the"):
        open_source(band)
    assert band_file_product(str(band)) == GRANULE
    assert band_file_product(str(folder / f"{GRANULE}.Fmask.tif")) is None
    with open_source(whole_product(str(band))) as src:
        assert src.dataset.count == 8 and src.mapping.sensor == "hls_l30"


def test_a_folder_of_two_granules_is_refused(s2_scene: Path, tmp_path: Path) -> None:
    folder = write_granule(s2_scene, tmp_path / "season")
    write_granule(s2_scene, folder, "HLS.L30.T33UUU.2017063T101059.v2.0")
    with pytest.raises(InputError, match="holds the band files of 2 HLS granules"):
        open_source(folder)
