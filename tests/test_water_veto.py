"""Built-up is never water-like nor darker than built surfaces
(`backends/spectral/water_veto.py`): on real spyndex pixels and their linear mixtures,
earthlib's spectral library, Sen1Floods11's hand-labelled flood chip and RStoolbox's Porto
Trombetas scene."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench.extra_scenes import mirror_path, prepare_extra_scenes
from bench.flood_scene import sen1floods11_mirror
from bench.impervious_floor import BAND_RANGES_UM, ROLE_SETS, brightest_band, read_library
from bench.more_scenes import ENMAPBOX_REPO, RSTOOLBOX_REPO
from bench.quality import score_scene
from bench.scenes import SCENES
from spex.engine.backends.spectral import backend as spectral_backend
from spex.engine.backends.spectral import fitted_scene
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.backends.spectral.scene_model import fit_scene_model
from spex.engine.backends.spectral.scene_proba import predict_proba, top_class
from spex.engine.backends.spectral.water_seeds import WATER_MARGIN
from spex.engine.backends.spectral.water_veto import (
    IMPERVIOUS_DARK_MAX,
    WATER_NIR_MAX,
    apply_water_veto,
    claim_unexplained_water,
    darker_than_built,
    water_like,
    water_veto,
)
from spex.engine.indices import compute_index
from spex.engine.pipeline import extract
from spex.engine.reports.run_facts import ExtractionRequest
from tests.scene_sources import built_scene, needs_mirror, ours_by_target

REFLECTIVE = ("blue", "green", "red", "nir", "swir1", "swir2")


def _scene_with_flooded_land(pixels: dict) -> dict[str, np.ndarray]:
    """Clear water, vegetation, urban, and flooded land: 60 % water, 40 % urban (a field under
    shallow water is as flat in the visible as a roof), all real spyndex spectra."""
    w, u, v = pixels["Water"], pixels["Urban"], pixels["Vegetation"]
    n = min(len(w["red"]), len(u["red"]))
    flooded = {r: 0.6 * w[r][:n] + 0.4 * u[r][:n] for r in REFLECTIVE}
    return {r: np.concatenate([w[r], v[r], u[r], flooded[r]]) for r in REFLECTIVE}


def test_the_veto_needs_calibrated_input_a_water_index_and_both_classes(spyndex_pixels):
    bands = _scene_with_flooded_land(spyndex_pixels)
    params = SpectralParams()
    veto = water_veto(fit_scene_model(bands, calibrated=True), params)
    assert veto is not None
    assert veto.index_min >= params.builtup_water_floor + WATER_MARGIN
    assert "never built-up" in veto.describe()
    assert (
        water_veto(fit_scene_model({r: v * 250 for r, v in bands.items()}, False), params) is None
    )
    assert veto.index == "MNDWI" and veto.dark_band == "swir1"
    # Without SWIR, NDWI (green against NIR, which water absorbs too) stands in.
    no_swir = {r: bands[r] for r in ("blue", "green", "red", "nir")}
    veto = water_veto(fit_scene_model(no_swir, calibrated=True), params)
    assert veto is not None and (veto.index, veto.dark_band) == ("NDWI", "nir")
    assert "NDWI >" in veto.describe()
    no_nir = {r: bands[r] for r in ("blue", "green", "red", "swir1")}
    assert water_veto(fit_scene_model(no_nir, calibrated=True), params) is None


def test_vetoed_pixels_leave_built_up_and_the_others_keep_their_bytes(spyndex_pixels):
    bands = _scene_with_flooded_land(spyndex_pixels)
    model = fit_scene_model(bands, calibrated=True)
    veto = water_veto(model, SpectralParams())
    rows = {r: v[None, :].astype(np.float32) for r, v in bands.items()}
    before = predict_proba(model, rows)
    probs = before.copy()
    vetoed = apply_water_veto(veto, probs, rows)[0]
    b = model.classes.index("builtup")
    mndwi = compute_index("MNDWI", rows)[0]
    wet = water_like(veto, rows)[0]
    assert np.array_equal(vetoed, wet | darker_than_built(veto, rows)[0])
    assert wet.any() and np.all(mndwi[wet] > veto.index_min)
    assert np.all(probs[b, 0, vetoed] == 0)
    np.testing.assert_allclose(probs[:, 0, vetoed].sum(axis=0), 1.0, rtol=1e-5)
    assert np.array_equal(probs[:, 0, ~vetoed], before[:, 0, ~vetoed])
    # Per pixel: the same pixels vetoed in any split of the array (tiles).
    half = len(mndwi) // 2
    parts = [{r: v[:, s] for r, v in rows.items()} for s in (slice(None, half), slice(half, None))]
    split = [apply_water_veto(veto, predict_proba(model, p), p)[0] for p in parts]
    assert np.array_equal(np.concatenate(split), vetoed)


def test_a_white_roof_bright_in_nir_is_never_water_like(spyndex_pixels):
    """A white roof's SWIR1 is low enough to lift its MNDWI above the veto's cut (Buffalo's:
    green 0.62, NIR 0.68, SWIR1 0.48); water is dark in NIR, the roof is not: kept built-up.
    The same roof dimmed to water's NIR is vetoed: the NIR test is what keeps it."""
    bands = _scene_with_flooded_land(spyndex_pixels)
    veto = water_veto(fit_scene_model(bands, calibrated=True), SpectralParams())
    roof = {"blue": 0.59, "green": 0.62, "red": 0.64, "nir": 0.68, "swir1": 0.40, "swir2": 0.26}
    dimmed = roof | {"nir": WATER_NIR_MAX * 0.9, "red": WATER_NIR_MAX * 0.9}
    rows = {r: np.array([[roof[r], dimmed[r]]], dtype=np.float32) for r in REFLECTIVE}
    assert np.all(compute_index("MNDWI", rows)[0] > veto.index_min)
    assert water_like(veto, rows)[0].tolist() == [False, True]
    assert f"NIR < {WATER_NIR_MAX:g}" in veto.describe()


def test_pixels_darker_than_built_surfaces_give_their_built_up_probability_to_water(
    spyndex_pixels,
):
    bands = _scene_with_flooded_land(spyndex_pixels)
    # River margins: clear water with a tenth to a quarter of a roof's spectrum in the pixel.
    w, u = spyndex_pixels["Water"], spyndex_pixels["Urban"]
    n = min(len(w["red"]), len(u["red"]))
    share = np.linspace(0.1, 0.25, n)
    margin = {r: (1 - share) * w[r][:n] + share * u[r][:n] for r in REFLECTIVE}
    bands = {r: np.concatenate([bands[r], margin[r]]) for r in REFLECTIVE}
    model = fit_scene_model(bands, calibrated=True)
    veto = water_veto(model, SpectralParams())
    assert veto.dark_roles == ("nir", "swir1", "swir2")
    assert "darker than any built surface" in veto.describe()
    rows = {r: v[None, :].astype(np.float32) for r, v in bands.items()}
    dark = darker_than_built(veto, rows)[0]
    infrared = np.stack([rows[r][0] for r in ("nir", "swir1", "swir2")])
    assert np.array_equal(dark, (infrared < IMPERVIOUS_DARK_MAX).all(axis=0))
    assert dark[-n:].any() and not dark[-n:].all()  # the veto reads the pixel, not the mix
    before = predict_proba(model, rows)
    probs = before.copy()
    changed = apply_water_veto(veto, probs, rows)[0]
    b, wt = model.classes.index("builtup"), model.classes.index("water")
    o = model.classes.index("other")
    moved = dark & ~water_like(veto, rows)[0]  # dark only: the mass goes to water, unscaled
    assert changed[dark].all() and np.all(probs[(b, o), 0][:, dark] == 0)
    np.testing.assert_allclose(
        probs[wt, 0, moved],
        before[wt, 0, moved] + before[b, 0, moved] + before[o, 0, moved],
        rtol=1e-6,
    )
    others = [k for k in range(len(model.classes)) if k not in (b, o, wt)]
    assert np.array_equal(probs[others][:, 0, moved], before[others][:, 0, moved])
    # The DN form of the same scene has no veto: reflectance limits mean nothing there.
    dn = fit_scene_model({r: v * 250 for r, v in bands.items()}, calibrated=False)
    assert water_veto(dn, SpectralParams()) is None
    # Nor does a four-band form get the darkness test (high-resolution shadows): only NDWI's.
    four = {r: bands[r] for r in ("blue", "green", "red", "nir")}
    veto4 = water_veto(fit_scene_model(four, calibrated=True), SpectralParams())
    assert veto4 is not None and veto4.dark_roles == ()
    assert not darker_than_built(veto4, {r: v[None, :] for r, v in four.items()}).any()


def test_water_clamped_to_zero_is_water_not_left_unexplained(spyndex_pixels):
    # A Level-2A product clamps open water's negative blue, red and SWIR to 0 (EnMAP's
    # Potsdam lakes): far from the scene's clear water and every land class, so the broad
    # "other" class holds it, and no class is returned. Darker than any built surface, water.
    bands = _scene_with_flooded_land(spyndex_pixels)
    w = spyndex_pixels["Water"]
    n = len(w["red"])
    clamped = {r: np.zeros(n) for r in REFLECTIVE}
    clamped["green"] = np.clip(w["green"] * 0.2, 0.002, None)
    clamped["nir"] = np.clip(w["nir"] * 0.5, 0.001, 0.03)
    model = fit_scene_model(bands, calibrated=True)
    rows = {r: np.asarray(clamped[r], dtype=np.float32)[None, :] for r in REFLECTIVE}
    before = predict_proba(model, rows)
    o, wt = model.classes.index("other"), model.classes.index("water")
    assert (before[:, 0].argmax(axis=0) == o).mean() > 0.5  # without the rule: unexplained
    probs = before.copy()
    veto = water_veto(model, SpectralParams())
    changed = apply_water_veto(veto, probs, rows)[0]
    assert changed.all() and (probs[:, 0].argmax(axis=0) == wt).all()
    np.testing.assert_allclose(probs[:, 0].sum(axis=0), 1.0, rtol=1e-5)


def test_water_no_class_explains_is_water_where_it_looks_like_water(spyndex_pixels):
    """Where the broad "other" class wins, a water-like pixel darker in NIR than in green is
    water (a sediment-laden shore the scene's clear water did not seed), with water's
    probability as its confidence; one brighter in NIR than in green (NDVI still low: algae,
    a wet bank) stays unexplained, as do the others, and a pixel another class wins keeps it."""
    bands = _scene_with_flooded_land(spyndex_pixels)
    model = fit_scene_model(bands, calibrated=True)
    veto = water_veto(model, SpectralParams())
    shore = {"blue": 0.03, "green": 0.05, "red": 0.02, "nir": 0.023, "swir1": 0.005, "swir2": 0.003}
    bank = shore | {"red": 0.06, "nir": 0.07}  # water-like (NDVI 0.08), but NIR above green
    dry = shore | {"swir1": 0.09, "swir2": 0.08}  # MNDWI below the cut
    pixels = (shore, bank, dry, shore)
    rows = {r: np.array([[p[r] for p in pixels]], dtype=np.float32) for r in REFLECTIVE}
    assert water_like(veto, rows)[0].tolist() == [True, True, False, True]
    probs = np.full((len(model.classes), 1, 4), 0.05, dtype=np.float32)
    probs[veto.other, 0, :3] = 0.6
    probs[veto.water, 0, :] = 0.2
    probs[model.classes.index("vegetation"), 0, 3] = 0.7  # another class wins the last
    best, confidence = top_class(probs)
    claim_unexplained_water(veto, best, confidence, probs, rows)
    o, w, v = veto.other, veto.water, model.classes.index("vegetation")
    assert best[0].tolist() == [w, o, o, v]
    np.testing.assert_allclose(confidence[0], [0.2, 0.6, 0.6, 0.7])
    # Per pixel: the same answer for each pixel alone.
    for k in range(4):
        one = {r: vals[:, k : k + 1] for r, vals in rows.items()}
        b1, c1 = top_class(probs[:, :, k : k + 1])
        claim_unexplained_water(veto, b1, c1, probs[:, :, k : k + 1], one)
        assert b1[0, 0] == best[0, k]


def test_the_darkness_limit_is_below_built_surfaces_in_earthlib(sample_data):
    library = read_library(
        sample_data["earthlib_hdr"], sample_data["earthlib_sli"], sample_data["earthlib_csv"]
    )
    impervious = library.kind == "impervious"
    assert impervious.sum() == 888 and len(library.spectra) == 7261
    for sensor, ranges in BAND_RANGES_UM.items():
        for roles in ROLE_SETS:
            top = brightest_band(library, ranges, roles)
            # At most 1.5 % of the measured roofs, roads and pavements are this dark...
            assert np.mean(top[impervious] < IMPERVIOUS_DARK_MAX) <= 0.015, (sensor, roles)
            # ... and no soil, sand or canopy: the veto only ever takes water and shade.
            for cover in ("soil", "sand", "canopy"):
                assert top[library.cover == cover].min() > IMPERVIOUS_DARK_MAX, (sensor, cover)


def _explanation_of(name: str, out: Path) -> str:
    """The explanation of "extract water" on the extra scene `name`, built from its mirror."""
    folders = prepare_extra_scenes(SCENES, [name])
    assert folders
    result = extract(ExtractionRequest(folders[0] / "image.tif", "extract water", out))
    return (result.out_dir / "explanation.md").read_text(encoding="utf-8")


NAME = "sen1floods11_s2_spain"


@needs_mirror("cloudtostreet/Sen1Floods11", sen1floods11_mirror(), "SPEX_SEN1FLOODS11_MIRROR")
def test_flooded_fields_are_water_not_built_up(monkeypatch, tmp_path):
    # Measured (bench/quality): flood chip water 0.683 without the veto, 0.755 with it.
    explanation = _explanation_of(NAME, tmp_path / "o")
    assert "never built-up" in explanation
    # The share it moved is measured on the global sample: the flood's fields, a few per cent.
    share = float(re.search(r"\(([0-9.]+)% of the sampled pixels moved", explanation).group(1))
    assert 0.5 < share < 20, share
    scene = built_scene(NAME)
    with_veto = score_scene(scene, SpectralParams(), with_baselines=False)
    monkeypatch.setattr(fitted_scene, "water_veto", lambda model, params: None)
    without = score_scene(scene, SpectralParams(), with_baselines=False)
    water = {name: next(r for r in rows if r["target"] == "water")
             for name, rows in (("with", with_veto), ("without", without))}  # fmt: skip
    assert water["with"]["ours"] >= water["without"]["ours"] + 0.04, water


PORTO = "rstoolbox_s2_amazon"


@needs_mirror(
    RSTOOLBOX_REPO,
    mirror_path(RSTOOLBOX_REPO, "SPEX_RSTOOLBOX_MIRROR"),
    "SPEX_RSTOOLBOX_MIRROR",
)
def test_a_dark_river_margin_is_water_not_the_town(monkeypatch, tmp_path):
    # Measured (bench/quality): Porto Trombetas water 0.812 and built-up 0.719 without the
    # darkness rule, 0.994 and 0.798 with it.
    assert "darker than any built surface" in _explanation_of(PORTO, tmp_path / "o")
    with_rule, without = _scores_with_and_without(monkeypatch, PORTO, _without_darkness)
    assert with_rule["water"] >= without["water"] + 0.1, (with_rule, without)
    assert with_rule["builtup"] >= without["builtup"] + 0.04, (with_rule, without)


POTSDAM = "enmapbox_enmap_potsdam"


@needs_mirror(
    ENMAPBOX_REPO,
    mirror_path(ENMAPBOX_REPO, "SPEX_ENMAPBOX_MIRROR"),
    "SPEX_ENMAPBOX_MIRROR",
)
def test_lakes_clamped_to_zero_are_water(monkeypatch):
    # Measured (bench/quality): Potsdam water 0.610 while "other" kept the dark pixels that
    # EnMAP's L2A clamps to 0 in the blue, red and SWIR; 0.682 now. Its other targets stay.
    with_rule, without = _scores_with_and_without(monkeypatch, POTSDAM, _keeping_other)
    assert with_rule["water"] >= without["water"] + 0.05, (with_rule, without)
    for target in ("vegetation", "builtup", "bare"):
        assert with_rule[target] == pytest.approx(without[target], abs=0.005), target


def _scores_with_and_without(monkeypatch, name: str, patch) -> tuple[dict, dict]:
    """IoU per target of the extra scene `name`, as it is and with `apply_water_veto`
    wrapped by `patch`."""
    scene = built_scene(name)
    with_rule = ours_by_target(scene)
    monkeypatch.setattr(
        spectral_backend, "apply_water_veto", patch(spectral_backend.apply_water_veto)
    )
    without = ours_by_target(scene)
    return with_rule, without


def _keeping_other(apply):
    """`apply_water_veto` as before stop 34: dark pixels keep their "other" probability."""

    def wrapped(veto, probs, bands):
        other = probs[veto.other].copy()
        changed = apply(veto, probs, bands)
        dark = darker_than_built(veto, bands)
        probs[veto.water] -= np.where(dark, other, 0)
        probs[veto.other] = np.where(dark, other, probs[veto.other])
        return changed

    return wrapped


def _without_darkness(apply):
    """`apply_water_veto` with the darkness rule switched off (no dark bands)."""

    def wrapped(veto, probs, bands):
        return apply(replace(veto, dark_roles=()), probs, bands)

    return wrapped
