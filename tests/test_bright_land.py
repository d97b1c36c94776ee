"""Bare soil as the bright mode of a land no soil index splits: the split's rule, and the real
Sentinel-2 8-bit beach scene without SWIR (the shared benchmark's ogt_s2_rcr_nc) end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from bench.scenes import benchmark_root
from spex.engine import ExtractionRequest, extract
from spex.engine.backends.spectral.bright_land import fit_bright_land
from tests.scene_sources import needs_benchmark

ROLES = ("blue", "red")
#: The beach scene's bands: Sentinel-2 B01-B08, no SWIR.
OGT_BANDS = "coastal,blue,green,red,rededge1,rededge2,rededge3,nir"


def _land(dark_mean: float, bright_mean: float, bright_share: float, n: int = 20_000):
    """Darkness values (-ln brightness) of a land of two brightness modes."""
    rng = np.random.default_rng(5)
    bright = rng.random(n) < bright_share
    return np.where(bright, rng.normal(bright_mean, 0.05, n), rng.normal(dark_mean, 0.05, n))


def test_a_distinct_bright_mode_is_split_off() -> None:
    land = _land(dark_mean=2.0, bright_mean=1.0, bright_share=0.15)  # e^-1 vs e^-2: sand, roofs
    split = fit_bright_land(land, ROLES, min_separation=8.0, max_share=0.5)
    assert split is not None
    assert 1.0 < split.threshold < 2.0 and split.share == pytest.approx(0.15, abs=0.01)
    assert split.separation >= 8.0
    assert split.brightness == pytest.approx(np.exp(-split.threshold))
    assert "brighter 15% of the land is bare soil" in split.describe()
    # How sure each side is: the two modes' distance over their spread (1 / 0.05^2).
    assert split.slope == pytest.approx(1 / 0.05**2, rel=0.1)
    assert split.summary()["probability_slope"] == pytest.approx(split.slope, abs=1e-4)


def test_each_land_pixel_is_as_sure_as_its_distance_from_the_cut() -> None:
    from spex.engine.backends.spectral.bright_land import bare_within_land

    split = fit_bright_land(_land(2.0, 1.0, 0.15), ROLES, min_separation=8.0, max_share=0.5)
    assert split is not None
    # Pixels at the bright mode, just either side of the cut, and at the dark mode.
    darkness = np.array([[1.0, split.threshold - 0.001, split.threshold + 0.001, 2.0]])
    value = np.exp(-darkness).astype(np.float32)
    bright, p = bare_within_land({"blue": value, "red": value}, {}, split, radius=0)
    assert bright.tolist() == [[True, True, False, False]]
    assert p[0, 0] > 0.99 and p[0, 3] < 0.01 and p[0, 1] > 0.4 and p[0, 2] < 0.6
    assert np.all(np.diff(p[0]) < 0)


@pytest.mark.parametrize(
    ("dark", "bright", "share", "why"),
    [
        (2.0, 1.8, 0.3, "modes too close (D about 2.8)"),
        (2.0, 1.0, 0.7, "the bright side is most of the land"),
    ],
)
def test_a_land_of_one_mode_or_mostly_bright_stays_undivided(dark, bright, share, why) -> None:
    land = _land(dark, bright, share)
    assert fit_bright_land(land, ROLES, min_separation=8.0, max_share=0.5) is None, why


def test_too_little_land_is_not_split() -> None:
    land = _land(2.0, 1.0, 0.2, n=40)
    assert fit_bright_land(land, ROLES, min_separation=8.0, max_share=0.5) is None


@pytest.fixture(scope="module")
def beach(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The beach scene asked for sand, for built-up, for both, and for sand on 96 px tiles."""
    image = benchmark_root() / "ogt_s2_rcr_nc" / "image.tif"
    out = tmp_path_factory.mktemp("beach")
    runs: dict[str, object] = {}
    for name, prompt, tile in (
        ("bare", "map the sand and bare soil", 512),
        ("builtup", "extract the built-up areas", 512),
        ("both", "bare soil and buildings", 512),
        ("bare_tiled", "map the sand and bare soil", 96),
        ("water", "extract the water", 512),
    ):
        result = extract(
            ExtractionRequest(image, prompt, out / name, bands=OGT_BANDS, tile_size=tile)
        )
        with rasterio.open(result.mask_path) as src:
            runs[name] = src.read(1)
        runs[f"{name}_dir"] = out / name
    with rasterio.open(image.parent / "labels.tif") as src:
        runs["labels"] = src.read(1)
    return runs


@needs_benchmark
def test_the_beach_sand_is_bare_soil_and_not_built_up(beach) -> None:
    bare, builtup, both, labels = (beach[k] for k in ("bare", "builtup", "both", "labels"))
    sand, labelled = labels == 4, (labels >= 1) & (labels <= 7)
    found = bare == 1
    # Measured: IoU 0.976 on the labelled pixels (the whole land, before: 0.521).
    iou = (found & sand).sum() / ((found | sand) & labelled).sum()
    assert iou >= 0.9
    # The sand is no longer built-up, and asked together each land pixel is one of them.
    assert not (found & (builtup == 1)).any()
    assert np.array_equal(both == 1, found) and np.array_equal(both == 2, builtup == 1)
    assert (builtup == 1).sum() > found.sum()  # the wet sand and marsh: the darker land


@needs_benchmark
def test_the_split_does_not_depend_on_the_tile_size(beach) -> None:
    assert np.array_equal(beach["bare"], beach["bare_tiled"])


@needs_benchmark
def test_the_explanation_says_how_bare_soil_was_found(beach) -> None:
    folder = Path(beach["bare_dir"])
    text = (folder / "explanation.md").read_text(encoding="utf-8")
    assert "| brightness (bare soil) |" in text
    assert "its brightness is two distinct modes" in text
    assert "bare is not mapped" not in text and "could not be told apart" not in text
    details = json.loads((folder / "run.json").read_text(encoding="utf-8"))["backend"]["details"]
    split = details["bare_by_brightness"]
    assert split["separation"] >= 8 and 0 < split["share_of_land"] <= 0.5
    assert details["builtup_bare_separated"] is True
    # Asked for neither bare soil nor built-up, the run says nothing of the split.
    water = Path(beach["water_dir"])
    text = (water / "explanation.md").read_text(encoding="utf-8")
    assert "brightness (bare soil)" not in text and "distinct modes" not in text
    details = json.loads((water / "run.json").read_text(encoding="utf-8"))["backend"]["details"]
    assert "bare_by_brightness" not in details


def test_bare_examples_in_the_bright_mode_count_as_bare_soil() -> None:
    from spex.engine.backends.spectral.example_notes import (
        BRIGHT_LAND,
        mapped_note,
        poorly_mapped_notes,
    )

    mapped = {"bare": {BRIGHT_LAND: 9, "builtup": 1}, "builtup": {BRIGHT_LAND: 8, "builtup": 2}}
    notes = poorly_mapped_notes(mapped, split=False)
    assert len(notes) == 1 and notes[0].startswith("only 2 of 10 builtup example pixels")
    answer = {"builtup": "builtup", BRIGHT_LAND: "bare"}
    assert "bare 9 of 10 as bare (1 as builtup)" in mapped_note(mapped, answer)
