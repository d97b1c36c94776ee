"""A band with a role that lacks data over part of the raster where the other bands have it takes
those pixels out of every class (a pixel is valid only where every band with a role is). The
run says so, in its summary, its explanation and run.json, with the fix: the real Sentinel-2
sample with its SWIR2 band emptied over the left 60 % read water there as nodata, silently."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.raster.band_gaps import GAP_CAVEAT_SHARE
from spex.engine.raster.raster_source import open_source
from tests.test_cli import run_spex
from tests.test_dead_bands import ROLES

WIDTH, HEIGHT, GAP_COLUMNS = 256, 128, 154  # the gap: the left 60 % of the columns


def _gapped(s2_scene: Path, path: Path, as_float: bool) -> Path:
    """The sample's first 256 x 128 pixels with SWIR2 (band 13) missing over the left 60 %:
    0 under a declared nodata of 0, or NaN in a float copy (reflectance) declaring none."""
    with rasterio.open(s2_scene) as src:
        data = src.read(window=Window(0, 0, WIDTH, HEIGHT))
        profile = src.profile | {"width": WIDTH, "height": HEIGHT, "nodata": 0}
        descriptions = src.descriptions
    if as_float:
        data = data.astype("float32") / 10_000
        profile |= {"dtype": "float32", "nodata": None}
    data[12, :, :GAP_COLUMNS] = np.nan if as_float else 0
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.descriptions = descriptions
    return path


@pytest.mark.parametrize("as_float", [False, True], ids=["nodata-0", "float-nan"])
def test_a_band_missing_over_part_of_the_raster_is_said(
    s2_scene: Path, tmp_path: Path, as_float: bool
) -> None:
    raster = _gapped(s2_scene, tmp_path / "gapped.tif", as_float)
    result = extract(ExtractionRequest(raster, "water", tmp_path / "out"))
    assert result.manifest["counts"]["valid_pixels"] == (WIDTH - GAP_COLUMNS) * HEIGHT
    manifest = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    (gap,) = [g for g in manifest["tiling"]["band_gaps"] if g["share"] >= GAP_CAVEAT_SHARE]
    assert gap["band"] == 13 and gap["role"] == "swir2"
    assert gap["share"] == pytest.approx(GAP_COLUMNS / WIDTH, abs=0.02)
    assert gap["value"] == (None if as_float else 0)
    assert "Band 13 (swir2) holds no data on 60" in result.summary
    text = (tmp_path / "out" / "explanation.md").read_text(encoding="utf-8")
    held = "no finite value (NaN)" if as_float else "its nodata value, 0,"
    assert f"Band 13 (swir2) holds {held} on about 60" in text
    assert ("declare another nodata value" in text) is not as_float
    # The fix the caveat gives: the band marked unused, every pixel is classified.
    fixed = extract(
        ExtractionRequest(
            raster, "water", tmp_path / "fixed", bands=f"{ROLES},-", sensor="sentinel2_l1c"
        )
    )
    assert fixed.manifest["counts"]["valid_pixels"] == WIDTH * HEIGHT
    assert "holds no data" not in fixed.summary
    shown = run_spex("inspect", raster).stdout
    assert "Nodata: about 60" in shown and "Band 13 (swir2) holds no data on 60" in shown


def test_a_whole_raster_has_no_band_gap_to_say(s2_scene: Path) -> None:
    with open_source(s2_scene) as src:
        assert all(gap.share < GAP_CAVEAT_SHARE for gap in src.read_sample().band_gaps)
