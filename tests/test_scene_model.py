"""The spectral backend's scene model and smoothing, on real pixels and a real Sentinel-2 scene."""

from __future__ import annotations

import numpy as np
import pytest

from spex.engine.backends.spectral import scene_model, scene_proba, smoothing
from spex.engine.backends.spectral.histograms import bimodality, mode_gap, otsu_threshold
from spex.engine.backends.spectral.scene_model import SCENE_CLASSES, SceneModel, fit_scene_model
from spex.engine.backends.spectral.scene_proba import class_map, predict_proba, top_class
from spex.engine.backends.spectral.smoothing import HALO, smooth_probabilities

S2_ROLES = (
    "coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3",
    "nir", "nir08", "watervapour", "cirrus", "swir1", "swir2",
)  # fmt: skip
REFLECTIVE = ("blue", "green", "red", "nir", "swir1", "swir2")
# Raw-like 8-bit digital numbers: a different gain and offset per band, as level-1 products have.
DN_GAIN = {
    "blue": 300.0,
    "green": 320.0,
    "red": 340.0,
    "nir": 150.0,
    "swir1": 400.0,
    "swir2": 450.0,
}
DN_OFFSET = {"blue": 60.0, "green": 45.0, "red": 35.0, "nir": 20.0, "swir1": 15.0, "swir2": 8.0}
EXPECTED = {"Water": {"water"}, "Vegetation": {"vegetation"}, "Urban": {"builtup", "bare"}}


def _stack(pixels: dict, roles, classes=("Water", "Vegetation", "Urban")):
    """1-D arrays per role of the chosen spyndex classes, and their class names."""
    bands = {r: np.concatenate([pixels[c][r] for c in classes]) for r in roles}
    names = np.concatenate([[c] * len(pixels[c][roles[0]]) for c in classes])
    return bands, names


def _to_dn(bands: dict) -> dict:
    return {
        r: np.clip(np.round(v * DN_GAIN[r] + DN_OFFSET[r]), 1, 255) / 255.0
        for r, v in bands.items()
    }


def _predict_names(model: SceneModel, bands: dict) -> np.ndarray:
    probs = predict_proba(model, {r: v[None, :].astype(np.float32) for r, v in bands.items()})
    return np.array(model.classes)[class_map(model, probs)[0]]


def _recall(pred: np.ndarray, names: np.ndarray) -> dict[str, float]:
    return {c: float(np.isin(pred[names == c], list(EXPECTED[c])).mean()) for c in np.unique(names)}


def test_scene_classes_cover_the_targets():
    for target in ("water", "vegetation", "builtup", "bare", "snow", "cloud"):
        assert target in SCENE_CLASSES


def test_spyndex_pixels_are_classified(spyndex_pixels):
    bands, names = _stack(spyndex_pixels, REFLECTIVE)
    model = fit_scene_model(bands, calibrated=True)
    recall = _recall(_predict_names(model, bands), names)
    # Measured: 1.0 / 1.0 / 1.0 (urban counted as built-up or bare soil).
    assert recall["Water"] >= 0.95
    assert recall["Vegetation"] >= 0.95
    assert recall["Urban"] >= 0.85
    summary = model.to_dict()
    assert summary["seed_counts"]["water"] > 0 and "MNDWI" in summary["thresholds"]


def test_eight_bit_digital_numbers(spyndex_pixels):
    bands, names = _stack(spyndex_pixels, REFLECTIVE)
    model = fit_scene_model(_to_dn(bands), calibrated=False)
    recall = _recall(_predict_names(model, _to_dn(bands)), names)
    assert recall["Water"] >= 0.95 and recall["Vegetation"] >= 0.95
    assert recall["Urban"] >= 0.85
    assert any("uncalibrated" in n for n in model.notes)
    assert max(model.to_dict()["dark_offsets"].values()) > 0


def test_missing_swir(spyndex_pixels):
    roles = ("blue", "green", "red", "nir")
    bands, names = _stack(spyndex_pixels, roles)
    model = fit_scene_model(bands, calibrated=True)
    assert all(not f.startswith("log(swir") for f in model.features)
    assert any("no SWIR" in n for n in model.notes)
    recall = _recall(_predict_names(model, bands), names)
    assert recall["Water"] >= 0.95 and recall["Vegetation"] >= 0.95


def test_scene_without_water_maps_no_water(spyndex_pixels):
    bands, _ = _stack(spyndex_pixels, REFLECTIVE, classes=("Vegetation", "Urban"))
    model = fit_scene_model(bands, calibrated=True)
    pred = _predict_names(model, bands)
    assert "water" not in model.classes or np.mean(pred == "water") <= 0.02
    assert any("water" in n for n in model.notes)


def test_fit_is_deterministic_and_prediction_tile_independent(s2_scene):
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(s2_scene) as src:
        data = src.read(window=((0, 300), (0, 400))).astype(np.float32) / 10000.0
    bands = {r: data[i] for i, r in enumerate(S2_ROLES)}
    bands["blue"][5:9, 7:20] = np.nan
    sample = {r: v[::2, ::2].ravel() for r, v in bands.items()}
    ok = np.all([np.isfinite(v) for v in sample.values()], axis=0)
    sample = {r: v[ok] for r, v in sample.items()}
    first, second = fit_scene_model(sample, True), fit_scene_model(sample, True)
    assert first.to_dict() == second.to_dict()
    whole = predict_proba(first, bands)
    assert whole.dtype == np.float32 and whole.shape == (len(first.classes), 300, 400)
    # NaN where a band is NaN, valid probabilities elsewhere.
    assert np.isnan(whole[:, 5:9, 7:20]).all()
    valid = ~np.isnan(whole).any(axis=0)
    assert valid.sum() == 300 * 400 - 4 * 13
    assert np.allclose(whole[:, valid].sum(axis=0), 1.0, atol=1e-5)
    # Same bytes for the same pixels whatever the window.
    part = predict_proba(first, {r: v[37:211, 55:390] for r, v in bands.items()})
    assert part.tobytes() == whole[:, 37:211, 55:390].tobytes()


def test_fit_ignores_invalid_sample_pixels_and_subsamples_the_valid_ones(s2_scene, monkeypatch):
    # The fit keeps the finite pixels, then a fixed-seed subsample of them: a sample with NaN
    # pixels mixed in is fitted as the sample without them, also on the subsampling path.
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(s2_scene) as src:
        data = src.read(window=((0, 200), (0, 300))).astype(np.float32) / 10000.0
    clean = {r: data[i].ravel() for i, r in enumerate(S2_ROLES)}
    n = len(clean["blue"])
    holes = np.zeros(n + 500, dtype=bool)
    holes[np.random.default_rng(1).choice(n + 500, 500, replace=False)] = True
    dirty = {}
    for r, v in clean.items():
        full = np.full(n + 500, np.nan, dtype=np.float32)
        full[~holes] = v
        dirty[r] = full
    monkeypatch.setattr(scene_model, "MAX_FIT_PIXELS", n // 3)
    fitted, reference = fit_scene_model(dirty, True), fit_scene_model(clean, True)
    assert fitted.to_dict() == reference.to_dict()
    assert np.array_equal(fitted.means, reference.means)
    monkeypatch.setattr(scene_model, "MAX_FIT_PIXELS", n // 2)
    assert not np.array_equal(fit_scene_model(clean, True).means, fitted.means)


def _windowed_smooth(probs: np.ndarray, split: int, radius: int, halo: int) -> np.ndarray:
    """Smooth two column windows with a halo separately and stitch their cores."""
    w = probs.shape[2]
    left = smooth_probabilities(probs[:, :, : split + halo], radius)[:, :, :split]
    right = smooth_probabilities(probs[:, :, split - halo :], radius)[:, :, halo:]
    assert right.shape[2] == w - split
    return np.concatenate([left, right], axis=2)


@pytest.mark.parametrize("radius", [1, 2])
def test_smoothing_is_tile_exact(radius):
    rng = np.random.default_rng(7)
    probs = rng.random((3, 61, 83)).astype(np.float32)
    probs /= probs.sum(axis=0)
    probs[:, 10:14, 30:45] = np.nan  # nodata straddling the split
    whole = smooth_probabilities(probs, radius)
    stitched = _windowed_smooth(probs, split=40, radius=radius, halo=max(HALO, radius))
    assert stitched.tobytes() == whole.tobytes()
    # A halo smaller than the radius would change the seam: the test can fail.
    if radius > 1:
        assert _windowed_smooth(probs, 40, radius, halo=1).tobytes() != whole.tobytes()


@pytest.mark.parametrize("radius", [1, 2])
def test_smoothing_in_row_strips_is_the_whole_arrays(radius, monkeypatch):
    # Strips of 8 rows with their halos against one piece: nodata across strip seams, a
    # confident pixel kept, and a last strip shorter than the others.
    rng = np.random.default_rng(11)
    probs = rng.random((4, 90, 37)).astype(np.float32)
    probs /= probs.sum(axis=0)
    probs[:, 6:11, 3:9] = np.nan
    probs[:, 40, 20] = np.array([0.997, 0.001, 0.001, 0.001], dtype=np.float32)
    monkeypatch.setattr(smoothing, "STRIP_ROWS", 1000)
    whole = smooth_probabilities(probs, radius)
    monkeypatch.setattr(smoothing, "STRIP_ROWS", 8)
    strips = smooth_probabilities(probs, radius)
    assert strips.tobytes() == whole.tobytes()
    assert np.isnan(strips[:, 6:11, 3:9]).all() and strips[0, 40, 20] == np.float32(0.997)


def test_smoothing_ignores_nan_neighbours():
    probs = np.zeros((2, 5, 5), dtype=np.float32)
    probs[0] = 1.0
    probs[:, 2, 1] = np.nan
    out = smooth_probabilities(probs, 1)
    assert np.isnan(out[:, 2, 1]).all()
    valid = ~np.isnan(out).any(axis=0)
    assert np.array_equal(out[0][valid], np.ones(valid.sum(), dtype=np.float32))
    assert smooth_probabilities(probs, 0).tobytes() == probs.tobytes()


def test_otsu_splits_two_modes():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(-0.5, 0.05, 5000), rng.normal(0.4, 0.05, 1000)])
    assert -0.3 < otsu_threshold(values) < 0.2


def _jittered(pixels: dict, roles, name: str, copies: int, rng) -> dict:
    """``copies`` copies of a spyndex class with 3 % multiplicative noise (sensor-like)."""
    return {
        r: np.tile(pixels[name][r], copies) * rng.normal(1.0, 0.03, copies * len(pixels[name][r]))
        for r in roles
    }


def test_mixed_pond_pixels_in_a_vegetated_scene_are_water(spyndex_pixels):
    # A vegetated scene with a few ponds whose pixels are 80 % water, 20 % vegetation (linear
    # mixture, as 30 m pixels of small ponds are): no separate histogram mode, a far tail.
    rng = np.random.default_rng(3)
    veg = _jittered(spyndex_pixels, REFLECTIVE, "Vegetation", 60, rng)
    urban = _jittered(spyndex_pixels, REFLECTIVE, "Urban", 5, rng)
    w, v = spyndex_pixels["Water"], spyndex_pixels["Vegetation"]
    pond = {r: 0.8 * w[r] + 0.2 * v[r][: len(w[r])] for r in REFLECTIVE}
    bands = {r: np.concatenate([veg[r], urban[r], pond[r]]) for r in REFLECTIVE}
    n_land = len(veg["red"]) + len(urban["red"])
    model = fit_scene_model(bands, calibrated=True)
    assert "water" in model.classes
    pred = _predict_names(model, bands)
    assert np.mean(pred[n_land:] == "water") >= 0.9
    assert np.mean(pred[:n_land] == "water") <= 0.005


def test_missing_green_maps_no_water_but_says_so(spyndex_pixels):
    # Without green, no water index is trusted (clear water's red is below its SWIR here):
    # the class is off with a note, never guessed; vegetation is still mapped.
    roles = ("red", "nir", "swir1")
    bands, names = _stack(spyndex_pixels, roles)
    model = fit_scene_model(bands, calibrated=True)
    assert any("red stands in for green" in n for n in model.notes)
    assert "water" not in model.classes
    assert "no green band: water cannot be detected" in model.notes
    assert _recall(_predict_names(model, bands), names)["Vegetation"] >= 0.95


def test_true_colour_says_which_band_water_lacks(spyndex_pixels):
    # A true-colour image has its green band; what water needs beside it is NIR or SWIR1.
    bands, _ = _stack(spyndex_pixels, ("blue", "green", "red"))
    model = fit_scene_model(bands, calibrated=True)
    assert "water" not in model.classes
    assert "no NIR or SWIR1 band: water cannot be detected" in model.notes


def test_smoothing_keeps_a_confident_one_pixel_pond():
    probs = np.zeros((2, 7, 7), dtype=np.float32)
    probs[1] = 1.0  # land everywhere
    probs[:, 2, 2] = (0.995, 0.005)  # a confident one-pixel pond
    probs[:, 4, 4] = (0.6, 0.4)  # an unsure pixel: noise to be smoothed away
    out = smooth_probabilities(probs, 1)
    assert out[0, 2, 2] == np.float32(0.995)
    assert out[0, 4, 4] < 0.5
    # keep > 1 turns the rule off: the pond is averaged away like everything else.
    assert smooth_probabilities(probs, 1, keep=1.1)[0, 2, 2] < 0.5


@pytest.fixture(scope="module")
def s2_full(s2_scene):
    """The whole S2 L1C scene as reflectance bands, and a model fitted on its global sample."""
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(s2_scene) as src:
        data = src.read().astype(np.float32) / 10000.0
    bands = {r: data[i] for i, r in enumerate(S2_ROLES)}
    sample = {r: v[::2, ::2].ravel() for r, v in bands.items()}
    return bands, fit_scene_model(sample, calibrated=True)


def _shares(model: SceneModel, bands: dict, box) -> dict[str, float]:
    (r0, r1), (c0, c1) = box
    probs = predict_proba(model, {r: v[r0:r1, c0:c1] for r, v in bands.items()})
    names = np.array(model.classes)[class_map(model, probs)]
    return {c: float(np.mean(names == c)) for c in model.classes}


# Boxes checked by eye on a true-colour rendering of the scene (rows, cols of the 768 x 1536 grid).
HAZE_CORE = ((130, 190), (890, 930))  # the white core of the top-centre haze band
HAZE_PATCH = ((720, 768), (570, 630))  # the bottom-centre patch
FOREST = ((400, 470), (180, 260))  # clear conifer forest, west
LAKE = ((540, 600), (470, 500))  # the long lake, south-west of the centre


def test_haze_band_is_cloud_not_builtup(s2_full):
    bands, model = s2_full
    assert "cloud" in model.classes and "HOT" in model.thresholds
    core = _shares(model, bands, HAZE_CORE)
    # Measured: cloud 0.998, built-up 0.002 (before the HOT seeds: mostly built-up).
    assert core["cloud"] >= 0.9 and core["builtup"] <= 0.05
    patch = _shares(model, bands, HAZE_PATCH)
    assert patch["cloud"] >= 0.5 and patch["builtup"] <= 0.4  # measured 0.76 / 0.24
    # No cirrus in this scene (B10 < 0.003 everywhere): said, not invented.
    assert any("no cirrus" in n for n in model.notes)


def test_clear_forest_and_lake_are_unaffected_by_haze_seeds(s2_full):
    bands, model = s2_full
    assert _shares(model, bands, FOREST)["vegetation"] >= 0.95
    lake = _shares(model, bands, LAKE)
    assert lake["water"] >= 0.95 and lake["cloud"] == 0.0


def test_cirrus_band_seeds_cloud(s2_full):
    # Real pixels with cirrus added where B10 would see it (0.03 TOA, above Sen2Cor's 0.012);
    # HOT alone would miss it because the visible bands are untouched.
    bands, _ = s2_full
    window = {r: v[300:500, 0:600].copy() for r, v in bands.items()}
    window["cirrus"][:60, :200] += 0.03
    sample = {r: v[::2, ::2].ravel() for r, v in window.items()}
    model = fit_scene_model(sample, calibrated=True)
    assert model.thresholds["cirrus"] == pytest.approx(0.012)
    assert model.seed_counts["cloud"] >= 0.8 * 30 * 100
    assert not any("no cirrus" in n for n in model.notes)


def test_without_blue_haze_is_not_measured_and_said(s2_full):
    bands, _ = s2_full
    sample = {r: bands[r][::4, ::4].ravel() for r in ("green", "red", "nir", "swir1", "swir2")}
    model = fit_scene_model(sample, calibrated=True)
    assert "HOT" not in model.thresholds
    assert any("no blue band" in n for n in model.notes)


def test_prediction_blocks_do_not_change_a_pixels_bytes(s2_full, monkeypatch):
    # The float32 prediction runs in blocks of pixels: a pixel's bytes must not depend on
    # which block (or where in it) it falls, nor on the window's size.
    bands, model = s2_full
    window = {r: v[100:260, 200:531] for r, v in bands.items()}
    whole = predict_proba(model, window)
    monkeypatch.setattr(scene_proba, "BLOCK", 997)
    assert predict_proba(model, window).tobytes() == whole.tobytes()
    part = predict_proba(model, {r: v[3:150, 11:300] for r, v in window.items()})
    assert part.tobytes() == whole[:, 3:150, 11:300].tobytes()
    one = predict_proba(model, {r: v[7:8, 9:10] for r, v in window.items()})
    assert one.tobytes() == whole[:, 7:8, 9:10].tobytes()


def test_top_class_is_argmax_with_first_class_on_ties():
    rng = np.random.default_rng(3)
    probs = rng.integers(0, 4, (5, 40, 30)).astype(np.float32)  # many ties
    best, top = top_class(probs)
    assert np.array_equal(best, probs.argmax(axis=0))
    assert np.array_equal(top, probs.max(axis=0))
    probs[:, 2, 3] = np.nan
    assert class_map(None, probs)[2, 3] == 255 and np.isnan(top_class(probs)[1][2, 3])


def test_smoothing_without_nodata_matches_the_nodata_branch():
    # A window without NaN takes the fast branch; its core must equal the same pixels
    # smoothed in a larger array that has nodata elsewhere (the weighted branch).
    rng = np.random.default_rng(11)
    probs = rng.random((4, 50, 60)).astype(np.float32)
    probs /= probs.sum(axis=0)
    probs[:, 40:45, 50:58] = np.nan
    whole = smooth_probabilities(probs, 2)
    clean = smooth_probabilities(probs[:, :30, :40], 2)
    assert not np.isnan(probs[:, :30, :40]).any()
    assert clean[:, :28, :38].tobytes() == whole[:, :28, :38].tobytes()


def test_mode_gap_compares_the_two_sides_not_the_scene_median():
    # A scene half water: the water mode sits near the scene median, yet far from the land.
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(-0.4, 0.05, 5000), rng.normal(0.5, 0.05, 5000)])
    t = otsu_threshold(values)
    assert -0.2 < t < 0.3
    assert mode_gap(values, t) > 0.8 > np.median(values[values > t]) - np.median(values)
    assert mode_gap(values, 10.0) == 0.0  # one side empty: no mode


def test_bimodality_tells_two_modes_from_one():
    rng = np.random.default_rng(5)
    one = rng.normal(0, 1, 20000)
    two = np.concatenate([rng.normal(-3, 0.5, 10000), rng.normal(3, 0.5, 10000)])
    assert bimodality(one)[1] < 3.0 < 6.0 < bimodality(two)[1]


@pytest.fixture(scope="module")
def s2_land(s2_scene):
    """The winter Sentinel-2 scene, fitted for built-up alone and for bare soil alone."""
    from spex.engine.backends.spectral.backend import SpectralBackend
    from spex.engine.instructions.instruction import parse_instruction
    from spex.engine.progress import RunMonitor
    from spex.engine.raster.raster_source import open_source

    source = open_source(s2_scene)
    backends = {}
    for prompt in ("built-up areas", "bare soil"):
        backends[prompt] = SpectralBackend()
        backends[prompt].prepare(
            source, parse_instruction(prompt), source.read_sample(), RunMonitor()
        )
    yield source, backends
    source.close()


def test_inseparable_land_answers_for_builtup_and_bare_and_says_so(s2_land):
    from rasterio.windows import Window

    source, backends = s2_land
    window = Window(0, 0, 700, 400)
    bands = source.read(window)
    builtup = backends["built-up areas"].predict(bands, window)
    bare = backends["bare soil"].predict(bands, window)
    # Winter fields and villages have no distinct soil mode: one land class, never an empty
    # result for bare soil, and the same pixels whichever of the two is asked for.
    report = backends["bare soil"].report()
    assert report.details["builtup_bare_separated"] is False
    # Each report names the cover its target's result holds too (the summary lines say it).
    assert report.undivided == {"bare": "builtup"}
    assert backends["built-up areas"].report().undivided == {"builtup": "bare"}
    # One note says why, what the land is returned as and what that costs, not two.
    told = [n for n in report.notes if "could not be told apart" in n]
    assert len(told) == 1 and "D = " in told[0] and "half its confidence" in told[0]
    # The land is returned for bare soil, so no note may say that bare soil is not mapped.
    assert "no confident bare pixels in this scene: bare is not mapped" in (
        backends["bare soil"].model.notes
    )
    assert not any("bare is not mapped" in n for n in report.notes)
    assert (bare.classes == 1).mean() > 0.05
    assert np.array_equal(bare.classes == 1, builtup.classes == 1)
    # Half the confidence where the land is returned for either class.
    assert float(np.nanmax(bare.confidence[bare.classes == 1])) <= 0.5
    assert float(np.nanmax(bare.confidence[bare.classes == 0])) > 0.5


def test_a_distinct_soil_mode_splits_bare_from_builtup():
    from spex.engine.backends.spectral.params import SpectralParams
    from spex.engine.backends.spectral.seeds import _split_bare

    # Land of roofs (flat spectrum, low BSI) and of a far brighter, redder soil (high BSI).
    rng = np.random.default_rng(9)
    n = 4000
    soil = np.arange(n) < n // 4
    bands = {
        "blue": np.where(soil, 0.06, 0.12) + rng.normal(0, 0.004, n),
        "red": np.where(soil, 0.20, 0.13) + rng.normal(0, 0.004, n),
        "nir": np.where(soil, 0.25, 0.16) + rng.normal(0, 0.004, n),
        "swir1": np.where(soil, 0.38, 0.17) + rng.normal(0, 0.004, n),
    }
    land = np.ones(n, dtype=bool)
    bare, thr, _, note = _split_bare(bands, land, SpectralParams())
    assert np.array_equal(bare, soil) and "distinct" in note and thr
    mixed = {k: v[soil.argsort()][: n // 2] for k, v in bands.items()}  # roofs only
    bare, _, _, note = _split_bare(mixed, np.ones(n // 2, dtype=bool), SpectralParams())
    assert not bare.any() and "could not be told apart" in note


def test_haze_that_is_most_of_the_land_seeds_the_land(s2_full):
    # The winter scene's haze candidates are no brighter than its bright land (the contrast
    # test refuses them as cloud) and a small part of the non-vegetated land: they stay out of
    # the land seeds. Where they are most of that land (a town's roofs), they seed it.
    from spex.engine.backends.spectral.params import SpectralParams
    from spex.engine.backends.spectral.seeds import select_seeds

    bands, _ = s2_full
    sample = {r: v[::2, ::2].ravel() for r, v in bands.items()}
    kept_out = select_seeds(sample, calibrated=True)
    assert any("haze candidates are only" in n for n in kept_out.notes)
    assert not any("taken as land" in n for n in kept_out.notes)
    taken_in = select_seeds(sample, True, SpectralParams(haze_land_max_share=0.01))
    assert any("taken as land" in n for n in taken_in.notes)
    assert taken_in.masks["builtup"].sum() > kept_out.masks["builtup"].sum()


def test_soil_side_follows_the_scenes_split(spyndex_pixels):
    # The side of the bare-soil split a second land component joins: spyndex's real Landsat 8
    # SR pixels, urban above the vegetation on BSI; without a split, never the soil side.
    from spex.engine.backends.spectral.seeds import _soil_side
    from spex.engine.indices import compute_index

    bands, names = _stack(spyndex_pixels, REFLECTIVE, classes=("Vegetation", "Urban"))
    bsi = compute_index("BSI", bands)
    split = {"BSI (bare soil)": float(np.median(bsi))}
    urban, vegetation = names == "Urban", names == "Vegetation"
    assert np.median(bsi[urban]) > split["BSI (bare soil)"] > np.median(bsi[vegetation])
    assert _soil_side(bands, urban, split)
    assert not _soil_side(bands, vegetation, split)
    assert not _soil_side(bands, urban, {})
    no_swir = {r: v for r, v in bands.items() if r not in ("swir1", "swir2")}
    assert not _soil_side(no_swir, urban, split)


def test_a_class_borrows_the_pooled_shape_and_keeps_its_size():
    from spex.engine.backends.spectral.gaussians import covariance, gaussian, pooled_shape

    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 3)) * np.array([1.0, 0.2, 0.2])  # long along the first band
    w = np.ones(len(x))
    other = rng.normal(size=(4000, 3)) * np.array([0.1, 1.0, 1.0])  # long along the others
    shape = pooled_shape([(covariance(x, w)[1], 4000), (covariance(other, w)[1], 4000)])
    assert shape is not None and shape.shape == (3, 3)
    assert pooled_shape([(covariance(x, w)[1], 0)]) is None
    # No pooling is the class's own Gaussian, with or without a shape.
    for a, b in zip(gaussian(x, w), gaussian(x, w, shape, 0.0), strict=True):
        assert np.array_equal(a, b)

    def cov_of(whiten: np.ndarray) -> np.ndarray:
        chol = np.linalg.inv(whiten)
        return chol @ chol.T

    own = covariance(x, w)[1]
    half = cov_of(gaussian(x, w, shape, 0.5)[1])
    # The total variance (the class's size) is kept; its spread moves towards the shape.
    assert np.trace(half) == pytest.approx(np.trace(own), rel=1e-3)
    assert half[0, 0] / np.trace(half) < 0.75 * own[0, 0] / np.trace(own)
    assert half[1, 1] > 2 * own[1, 1]


def test_constant_land_seeds_lend_no_shape():
    from spex.engine.backends.spectral.gaussians import gaussian

    # Identical pixels (a flat test raster, saturated land): the pooled shape is all zeros,
    # and the class's Gaussian stays finite, as without pooling.
    x = np.full((50, 3), 0.2)
    mean, whiten, logdet = gaussian(x, np.ones(50), np.zeros((3, 3)), 0.75)
    assert np.all(np.isfinite(whiten)) and np.isfinite(logdet)
    assert np.array_equal(whiten, gaussian(x, np.ones(50))[1])
