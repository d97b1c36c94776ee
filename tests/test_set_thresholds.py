"""Index thresholds the analyst sets (`--threshold NDVI=0.65`) in place of the scene's own:
parsing, which bands use which index, the seeds, and the real CLI on the real Sentinel-2 sample
in a fresh process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.backends.spectral.scene_model import fit_scene_model
from spex.engine.backends.spectral.set_thresholds import (
    SET_BY_ANALYST,
    parse_thresholds,
    unused_thresholds,
)
from spex.engine.errors import InputError
from spex.engine.raster.raster_source import open_source
from tests.rasters import true_colour_copy
from tests.test_cli import run_spex


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("NDVI=0.65", {"NDVI": 0.65}),
        ("ndvi=0.65, mndwi=0.1", {"NDVI": 0.65, "MNDWI": 0.1}),
        ("NDVI=0,65; MNDWI=-0,1", {"NDVI": 0.65, "MNDWI": -0.1}),  # decimal commas
        ("NDVI = 0.3 NDWI=.2", {"NDVI": 0.3, "NDWI": 0.2}),
        ("exg=-0.02", {"ExG": -0.02}),
        ("", {}),
    ],
)
def test_thresholds_are_read_as_an_analyst_types_them(text: str, parsed: dict) -> None:
    assert parse_thresholds(text) == parsed


def test_items_given_one_by_one_are_read_as_the_repeated_flag_gives_them() -> None:
    assert parse_thresholds(["NDVI=0.5", "NDWI=0.2"]) == {"NDVI": 0.5, "NDWI": 0.2}
    assert parse_thresholds(None) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("BSI=0.1", "BSI is not an index whose threshold can be set; use one of NDVI, ExG"),
        ("NDVI=x", "give NDVI a number from -1 to 1"),
        ("NDVI=1.5", "give NDVI a number from -1 to 1"),
        ("NDVI", "'NDVI' is not INDEX=VALUE; write e.g. NDVI=0.65"),
        ("NDVI=0.6 junk", "'junk' is not INDEX=VALUE"),
        ("NDVI=0.3, ndvi=0.4", "NDVI is set twice"),
    ],
)
def test_a_bad_threshold_is_one_line_that_names_it(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as error:
        parse_thresholds(text)
    assert "\n" not in str(error.value)


def test_a_threshold_the_bands_would_not_use_is_named() -> None:
    assert unused_thresholds({"NDVI": 0.5, "MNDWI": 0.1}, ("blue", "green", "red", "nir")) == {
        "MNDWI": "green and SWIR1 bands"
    }
    # With NIR, vegetation is NDVI's: excess green is the true-colour index only.
    assert "ExG" in unused_thresholds({"ExG": 0.1}, ("blue", "green", "red", "nir"))
    assert unused_thresholds({"ExG": 0.1}, ("blue", "green", "red")) == {}


@pytest.fixture(scope="module")
def s2_sample(s2_scene: Path) -> tuple[dict[str, np.ndarray], bool]:
    with open_source(s2_scene) as src:
        return src.read_sample().bands, src.scaling.calibrated


def test_the_seeds_take_the_analysts_value_and_keep_the_scenes_beside_it(s2_sample) -> None:
    bands, calibrated = s2_sample
    own = fit_scene_model(bands, calibrated)
    set_ = fit_scene_model(
        bands, calibrated, params=SpectralParams(set_thresholds=(("NDVI", 0.4), ("MNDWI", 0.2)))
    )
    assert set_.thresholds["NDVI"] == 0.4 and set_.thresholds["MNDWI"] == 0.2
    assert own.thresholds["NDVI"] != 0.4
    how = set_.threshold_how["NDVI"]
    assert how.startswith(SET_BY_ANALYST)
    assert f"the scene's own choice: {own.thresholds['NDVI']:.3f}" in how
    # Fewer pixels clear the denser cut: the vegetation seeds shrink.
    assert set_.seed_counts["vegetation"] < own.seed_counts["vegetation"]
    assert set_.thresholds["NDWI"] == own.thresholds["NDWI"]  # what was not set is the scene's


def _vegetation_pixels(out: Path) -> int:
    with rasterio.open(out / "mask.tif") as mask:
        return int((mask.read(1) == 1).sum())


def test_extract_follows_the_analysts_ndvi_and_says_so(s2_scene: Path, tmp_path: Path) -> None:
    """The real CLI: a denser NDVI cut maps less vegetation, a sparser one more; the explanation
    and run.json record the value and the scene's own choice."""
    counts = {}
    for name, flags in (("sparse", ("--threshold", "NDVI=0.2")), ("own", ()),
                        ("dense", ("--threshold", "ndvi=0.4"))):  # fmt: skip
        out = tmp_path / name
        result = run_spex("extract", s2_scene, "--prompt", "map the vegetation", "--out", out,
                          "--quiet", *flags)  # fmt: skip
        assert result.returncode == 0, result.stderr
        counts[name] = _vegetation_pixels(out)
    assert counts["sparse"] > counts["own"] > counts["dense"] > 0
    explanation = (tmp_path / "dense" / "explanation.md").read_text(encoding="utf-8")
    assert "The analyst set NDVI (--threshold)" in explanation
    assert "| NDVI | 0.400 | set by the analyst; the scene's own choice: " in explanation
    own = (tmp_path / "own" / "explanation.md").read_text(encoding="utf-8")
    assert "The analyst set" not in own and SET_BY_ANALYST not in own
    manifest = json.loads((tmp_path / "dense" / "run.json").read_text(encoding="utf-8"))
    assert manifest["backend"]["details"]["params"]["set_thresholds"] == [["NDVI", 0.4]]


def test_the_same_pixels_whatever_the_tile_size(s2_scene: Path, tmp_path: Path) -> None:
    """The analyst's value is global, like the scene's own: tiles do not change the answer."""
    masks = []
    for tile in ("512", "200"):
        out = tmp_path / tile
        result = run_spex("extract", s2_scene, "--prompt", "extract the water bodies", "--out",
                          out, "--threshold", "MNDWI=0.3", "--tile", tile, "--quiet")  # fmt: skip
        assert result.returncode == 0, result.stderr
        with rasterio.open(out / "mask.tif") as mask:
            masks.append(mask.read(1, window=Window(0, 0, 1536, 768)))
    assert (masks[0] == masks[1]).all() and (masks[0] == 1).any()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--threshold", "BSI=0.1"), "BSI is not an index whose threshold can be set"),
        (("--threshold", "NDVI=high"), "give NDVI a number from -1 to 1"),
        (("--threshold", "NDVI=0.5", "--backend", "onnx"),
         "set the spectral backend's seeds; leave them out for the 'onnx' backend"),
    ],
)  # fmt: skip
def test_cli_refuses_a_bad_threshold_in_one_line(s2_scene, tmp_path, flags, message) -> None:
    out = tmp_path / "out"
    result = run_spex("extract", s2_scene, "--prompt", "map the vegetation", "--out", out, *flags)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()  # nothing half-written


def test_a_threshold_the_raster_cannot_use_stops_before_any_output(s2_scene, tmp_path) -> None:
    """True colour: no NIR, so NDWI has nothing to read; the run says so and writes nothing."""
    rgb = true_colour_copy(s2_scene, tmp_path / "rgb.tif")
    out = tmp_path / "out"
    result = run_spex("extract", rgb, "--prompt", "map the vegetation", "--out", out,
                      "--threshold", "NDWI=0.2")  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Threshold NDWI=0.2 would not be used: NDWI needs green and NIR bands" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
    # Excess green is the true-colour vegetation index, and it is used.
    result = run_spex("extract", rgb, "--prompt", "map the vegetation", "--out", out,
                      "--threshold", "ExG=0.05", "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| ExG | 0.050 | set by the analyst" in (out / "explanation.md").read_text("utf-8")


def test_a_value_no_pixel_passes_says_whose_value_it_was(s2_sample) -> None:
    """The winter scene's NDVI stays below 0.5: the vegetation is not mapped, and the notes say
    it was the analyst's value, not the scene, that left it out."""
    bands, calibrated = s2_sample
    model = fit_scene_model(
        bands, calibrated, params=SpectralParams(set_thresholds=(("NDVI", 0.5),))
    )
    assert "vegetation" not in model.classes
    assert any(
        n.startswith("vegetation seeds were picked with NDVI 0.5, the value set with --threshold")
        for n in model.notes
    )
    own = fit_scene_model(bands, calibrated)
    assert not any("--threshold" in n for n in own.notes)
