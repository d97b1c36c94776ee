"""Water under the scene's own cloud shadows, where no quality band flags them (`shadow_veto`).

Synthetic grids for the geometry (a cloud, its shadow to the north, a lake); the real held-out
Landsat 7 chip of ukis-csmask, whose clouds cast shadows that the classifier took for water
(built from the `fetch` mirror, skipped without it)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import rasterio
from rasterio.windows import Window

from bench.csmask_scene import UKIS_REPO
from bench.extra_scenes import mirror_path
from spex.engine import ExtractionRequest, extract
from spex.engine.backends.spectral.shadow_veto import ShadowVeto, shadow_veto
from tests.scene_sources import built_scene, needs_mirror

WATER = 0


def _scene() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A 100 x 100 grid of 30 m pixels: lit land (NIR 0.30, green 0.08), a cloud (rows 60-70,
    columns 40-50), its shadow 20 pixels north (NIR 0.10, green 0.05) and a lake in it and
    beside it (NIR 0.02, green 0.06)."""
    nir = np.full((100, 100), 0.30, dtype=np.float32)
    green = np.full((100, 100), 0.08, dtype=np.float32)
    clouds = np.zeros((100, 100), dtype=bool)
    clouds[60:70, 40:50] = True
    nir[40:50, 40:50], green[40:50, 40:50] = 0.10, 0.05  # the shadow
    nir[44:46, 44:46] = green[44:46, 44:46] = 0.0  # a hole: no data, not shadow
    nir[40:50, 80:90], green[40:50, 80:90] = 0.02, 0.06  # a lake off the shadow's line
    nir[42:44, 42:44], green[42:44, 42:44] = 0.02, 0.06  # a pond inside the shadow
    return clouds, {"nir": nir, "green": green}


def _veto(clouds: np.ndarray, grid_bands: dict[str, np.ndarray]) -> ShadowVeto:
    grid = np.ones(clouds.shape, dtype=bool)
    flat = {role: band.ravel() for role, band in grid_bands.items()}
    found = shadow_veto(clouds, grid, flat, WATER, clouds.shape, 30.0)
    assert found is not None
    return found


def test_the_sun_is_found_from_the_shadow_and_the_shadow_is_swept() -> None:
    clouds, bands = _scene()
    veto = _veto(clouds, bands)
    assert veto.azimuth == 180.0  # the shadow is north: the sun is south
    assert veto.reach[40:50, 40:50].all()  # the shadow lies in the sweep
    assert not veto.reach[70:].any() and not veto.reach[:, 80:].any()


def test_only_shadow_called_water_loses_it_and_water_like_pixels_keep_it() -> None:
    clouds, bands = _scene()
    veto = _veto(clouds, bands)
    probs = np.zeros((2, 100, 100), dtype=np.float32)
    probs[WATER] = 0.8  # everything called water
    probs[1] = 0.2
    moved = veto.apply(probs, bands, Window(0, 0, 100, 100))
    shadow = np.zeros((100, 100), dtype=bool)
    shadow[40:50, 40:50] = True
    shadow[42:44, 42:44] = shadow[44:46, 44:46] = False  # the pond; the hole
    assert np.array_equal(moved, shadow)
    assert (probs[WATER][shadow] == 0).all() and np.allclose(probs[1][shadow], 1.0)
    assert (probs[WATER][~shadow] == 0.8).all()  # the pond, the lake and lit land keep theirs


def test_a_pixel_gets_the_same_answer_whatever_the_tiles() -> None:
    clouds, bands = _scene()
    veto = _veto(clouds, bands)
    whole = np.full((2, 100, 100), 0.5, dtype=np.float32)
    whole[WATER] += 0.1
    tiles = whole.copy()
    veto.apply(whole, bands, Window(0, 0, 100, 100))
    for rows in (slice(0, 37), slice(37, 100)):
        for cols in (slice(0, 45), slice(45, 100)):
            part = tiles[:, rows, cols].copy()
            window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
            veto.apply(part, {k: v[rows, cols] for k, v in bands.items()}, window)
            tiles[:, rows, cols] = part
    assert np.array_equal(whole, tiles)


def test_no_cloud_or_no_shadow_no_veto() -> None:
    clouds, bands = _scene()
    grid = np.ones(clouds.shape, dtype=bool)
    flat = {role: band.ravel() for role, band in bands.items()}
    assert shadow_veto(np.zeros_like(clouds), grid, flat, WATER, clouds.shape, 30.0) is None
    lit = {"nir": np.full(10_000, 0.3, np.float32), "green": np.full(10_000, 0.08, np.float32)}
    assert shadow_veto(clouds, grid, lit, WATER, clouds.shape, 30.0) is None


@needs_mirror(UKIS_REPO, mirror_path(UKIS_REPO, "SPEX_UKIS_MIRROR"), "SPEX_UKIS_MIRROR")
def test_the_held_out_chips_cloud_shadows_are_not_water(tmp_path) -> None:
    """The Landsat 7 chip (no CRS, no quality band): its clouds cast shadows north-west (the
    sweep that holds most labelled shadow points 140 degrees from north: `bench.cloud_shadows`);
    the engine finds a sun within 40 degrees of that, the water it takes back is mostly not
    labelled water, and the water's IoU rises."""
    from bench.quality import run_engine
    from spex.engine.backends.spectral.params import SpectralParams

    scene = built_scene("ukis_l7_csmask")
    image, labels_path = scene.rasters[0]
    with rasterio.open(labels_path) as src:
        labels = src.read(1)
    masks, bands, backend = run_engine(image, scene, SpectralParams())
    veto = backend.scene.shadows
    assert veto is not None and abs(veto.azimuth - 140) <= 40, veto
    whole = Window(0, 0, labels.shape[1], labels.shape[0])
    backend.set_targets(("water",))
    with_veto = backend.predict(bands, whole).classes == 1
    assert np.array_equal(with_veto, masks["water"])
    backend.scene = replace(backend.scene, shadows=None)
    without = backend.predict(bands, whole).classes == 1
    taken = without & ~with_veto
    assert taken.sum() > 100 and (labels[taken] == 1).mean() < 0.25
    scored = (labels >= 1) & (labels <= 7)
    water = labels == 1

    def iou(mask: np.ndarray) -> float:
        return (mask & water).sum() / ((mask & scored) | water).sum()

    assert iou(with_veto) > iou(without)
    result = extract(ExtractionRequest(image, "water", tmp_path / "out"))
    text = result.explanation_path.read_text(encoding="utf-8")
    assert "cloud shadows: water under the shadows the scene's clouds cast" in text
