"""A band with a role that holds nothing (0, its nodata value or NaN on every pixel: one a stack
or an export lacked) is read as absent, as if marked unused, and the run says so. Read as a
surface, a band of 0s was the darkest value in every index; one of nodata or NaN voided every
pixel.
The rasters are the real Sentinel-2 sample with its SWIR2 band emptied."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.errors import InputError
from spex.engine.raster.raster_source import open_source
from tests.test_cli import run_spex

ROLES = "coastal,blue,green,red,rededge1,rededge2,rededge3,nir,nir08,watervapour,cirrus,swir1"


def _emptied(s2_scene: Path, path: Path, nodata: float | None, bands: tuple[int, ...]) -> Path:
    """The sample's first 256 x 128 pixels with the 0-based `bands` set to 0."""
    with rasterio.open(s2_scene) as src:
        data = src.read(window=Window(0, 0, 256, 128))
        profile = src.profile | {"width": 256, "height": 128, "nodata": nodata}
        descriptions = src.descriptions
    data[list(bands)] = 0
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.descriptions = descriptions
    return path


@pytest.mark.parametrize("nodata", [None, 0], ids=["zeros", "nodata"])
def test_an_empty_band_is_read_as_absent(s2_scene: Path, tmp_path: Path, nodata) -> None:
    raster = _emptied(s2_scene, tmp_path / "dead.tif", nodata, (12,))
    with open_source(raster) as src:
        assert src.mapping.dead == (12,) and "swir2" not in src.roles
    found = extract(ExtractionRequest(raster, "water", tmp_path / "found"))
    unused = extract(  # the same sensor, its band marked unused
        ExtractionRequest(
            raster, "water", tmp_path / "unused", bands=f"{ROLES},-", sensor="sentinel2_l1c"
        )
    )
    with rasterio.open(found.mask_path) as a, rasterio.open(unused.mask_path) as b:
        assert np.array_equal(a.read(1), b.read(1))
    assert found.manifest["counts"]["valid_pixels"] == 256 * 128
    text = (tmp_path / "found" / "explanation.md").read_text(encoding="utf-8")
    assert (
        "band 13 holds 0 or nodata on every pixel (a dead or missing band): read as absent" in text
    )
    manifest = json.loads((tmp_path / "found" / "run.json").read_text(encoding="utf-8"))
    assert manifest["bands"]["dead_bands"] == [13]
    shown = run_spex("inspect", raster)
    assert "unused: 0 or nodata on every pixel (a dead or missing band)" in shown.stdout


def test_a_float_band_of_nan_is_read_as_absent(s2_scene: Path, tmp_path: Path) -> None:
    """A float export with one band masked everywhere (NaN, no nodata declared) read as
    "holds no valid pixels (all nodata)" before: NaN is nodata, and it was in every pixel."""
    with rasterio.open(s2_scene) as src:
        data = src.read(window=Window(0, 0, 256, 128)).astype("float32") / 10_000
        profile = src.profile | {"width": 256, "height": 128, "dtype": "float32", "nodata": None}
        descriptions = src.descriptions
    data[12] = np.nan
    raster = tmp_path / "nan.tif"
    with rasterio.open(raster, "w", **profile) as dst:
        dst.write(data)
        dst.descriptions = descriptions
    with open_source(raster) as src:
        assert src.mapping.dead == (12,) and "swir2" not in src.roles
    found = extract(ExtractionRequest(raster, "water", tmp_path / "found"))
    assert found.manifest["counts"]["valid_pixels"] == 256 * 128


def test_a_raster_whose_every_band_is_empty_is_all_nodata(s2_scene: Path, tmp_path: Path) -> None:
    raster = _emptied(s2_scene, tmp_path / "void.tif", 0, tuple(range(13)))
    with pytest.raises(InputError, match="holds no valid pixels"):
        open_source(raster)


def test_an_empty_band_is_no_value_of_the_scaling(s2_scene: Path, tmp_path: Path) -> None:
    """The scaling is judged without an empty band's 0s: read uncalibrated (roles given, no
    sensor), the emptied raster's percentiles are the whole one's (p1 9, not 0)."""
    notes = []
    for name, emptied in (("dead", (12,)), ("whole", ())):
        raster = _emptied(s2_scene, tmp_path / f"{name}.tif", None, emptied)
        with open_source(raster, bands=f"{ROLES},-") as src:
            notes.append(src.scaling.note)
    assert "(p1 9, p99 3136" in notes[0] and notes[0] == notes[1]
