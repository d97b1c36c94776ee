"""Cloud and snow margins (`backends/spectral/margins.py`): one pixel deep, from the pixel's
own probability, tile-exact through the pipeline, and measured on a real labelled cloud scene."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from bench.quality import score_scene
from bench.scenes import benchmark_scenes
from spex.engine.backends.spectral.margins import grow_margins, touches
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.pipeline import extract
from spex.engine.reports.run_facts import ExtractionRequest
from tests.scene_sources import needs_benchmark

CLOUD, LAND, SNOW = 0, 1, 2


def _probs(cloud: np.ndarray, snow: np.ndarray | None = None) -> np.ndarray:
    """(3, H, W) probabilities of cloud, land and snow from the cloud (and snow) planes."""
    snow = np.zeros_like(cloud) if snow is None else snow
    return np.stack([cloud, 1.0 - cloud - snow, snow]).astype(np.float32)


def _top(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return probs.argmax(0).astype(np.uint8), probs.max(0)


def test_touches_is_the_eight_neighbours_and_stops_at_the_edge() -> None:
    mask = np.zeros((5, 5), dtype=bool)
    mask[0, 0] = True
    expected = np.zeros((5, 5), dtype=bool)
    expected[0, 1] = expected[1, 0] = expected[1, 1] = True
    assert np.array_equal(touches(mask), expected)


def test_a_margin_joins_beside_the_class_one_pixel_deep_from_its_own_probability() -> None:
    cloud = np.zeros((1, 6), dtype=np.float32)
    cloud[0] = [0.9, 0.35, 0.45, 0.0, 0.25, 0.9]  # cloud, margin, too far, -, too low, cloud
    probs = _probs(cloud)
    best, confidence = _top(probs)
    grown = grow_margins(best, confidence, probs, np.zeros(best.shape, bool), (CLOUD,), 0.3)
    assert grown.tolist() == [[False, True, False, False, False, False]]
    assert best.tolist() == [[CLOUD, CLOUD, LAND, LAND, LAND, CLOUD]]
    assert confidence[0, 1] == np.float32(0.35)  # its probability of the class it joined
    assert confidence[0, 4] == np.float32(0.75)  # the rest keep theirs


def test_two_classes_take_the_more_probable_and_nodata_never_joins_nor_grows() -> None:
    # Row 0: land between cloud and snow, beside both. Row 1: snow beside cloud stays snow;
    # a nodata pixel beside both joins neither.
    cloud = np.array([[0.9, 0.32, 0.0], [0.3, 0.33, 0.45]], dtype=np.float32)
    snow = np.array([[0.0, 0.33, 0.9], [0.0, 0.31, 0.5]], dtype=np.float32)
    probs = _probs(cloud, snow)
    best, confidence = _top(probs)
    assert best[0, 1] == LAND and best[1, 2] == SNOW
    nodata = np.zeros(best.shape, dtype=bool)
    nodata[1, 1] = True
    grown = grow_margins(best, confidence, probs, nodata, (CLOUD, SNOW), 0.3)
    assert best[0, 1] == SNOW and confidence[0, 1] == np.float32(0.33)
    assert best[1, 2] == SNOW and not grown[1, 2]
    assert not grown[1, 1] and best[1, 1] == LAND
    assert best[1, 0] == CLOUD  # land at 0.7, cloud 0.3 at the level: joins
    # A nodata pixel of the class grows nothing.
    probs = _probs(np.array([[0.9, 0.4]], dtype=np.float32))
    best, confidence = _top(probs)
    nodata = np.array([[True, False]])
    assert not grow_margins(best, confidence, probs, nodata, (CLOUD,), 0.3).any()


def test_cloud_margins_are_tile_exact_through_the_pipeline(s2_scene: Path, tmp_path: Path) -> None:
    """The hazy winter scene's cloud: the same mask at 512 and 100 px tiles (the margins need
    one pixel of halo beyond the smoothing's), and the run says what it did."""
    a = extract(ExtractionRequest(s2_scene, "clouds", tmp_path / "a", tile_size=512))
    b = extract(ExtractionRequest(s2_scene, "clouds", tmp_path / "b", tile_size=100))
    assert a.manifest["tiling"]["halo"] == 2
    assert any("cloud margins" in note for note in a.manifest["backend"]["notes"])
    with rasterio.open(a.mask_path) as ma, rasterio.open(b.mask_path) as mb:
        first = ma.read(1)
        assert np.array_equal(first, mb.read(1))
    assert (first == 1).sum() > 1000
    water = extract(ExtractionRequest(s2_scene, "water", tmp_path / "w", tile_size=512))
    assert water.manifest["tiling"]["halo"] == 1  # no margins asked, no extra halo


@needs_benchmark
def test_margins_raise_cloud_on_the_labelled_landsat_8_cloud_scene() -> None:
    """38-Cloud's hand-labelled Landsat 8 scene: the margins add thin cloud edges (measured
    0.899 -> 0.912 read as the Level-1 product its name gives, stop 36; more as plain DN)."""
    scene = next(s for s in benchmark_scenes() if s.name == "c38_l8_cloud")
    with_margins = score_scene(scene, SpectralParams(), with_baselines=False)
    without = score_scene(scene, SpectralParams(margin_probability=1.0), with_baselines=False)
    cloud = {r["target"]: r["ours"] for r in with_margins}["cloud"]
    before = {r["target"]: r["ours"] for r in without}["cloud"]
    assert cloud > before + 0.008
