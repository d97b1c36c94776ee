"""Vegetation without a green peak, said: the measurement on spyndex's real Landsat 8 surface
reflectance pixels (its vegetation, and its urban pixels standing in for a red, moderately
NIR-bright land the scene took for vegetation), and the backend's note end to end (on Samson,
where it is right, in `tests/test_samson_scene.py`)."""

from __future__ import annotations

import numpy as np
import pytest

from spex.engine.backends.spectral.reddish_vegetation import (
    GREEN_PEAK_MARGIN,
    MIN_SHARE,
    reddish_vegetation,
)


def _indices(pixels: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """NDVI and (green - red) / (green + red) of the pixels, each repeated three times (40 a
    class: a scene's sample holds thousands; the note needs `MIN_PIXELS`)."""
    g, r, n = (np.tile(pixels[k], 3) for k in ("green", "red", "nir"))
    return (n - r) / (n + r), (g - r) / (g + r)


def test_green_leaves_have_the_green_peak_and_the_urban_pixels_do_not(spyndex_pixels) -> None:
    _, leaves = _indices(spyndex_pixels["Vegetation"])
    _, urban = _indices(spyndex_pixels["Urban"])
    assert np.mean(leaves < -GREEN_PEAK_MARGIN) < 0.05
    assert np.mean(urban < -GREEN_PEAK_MARGIN) > 0.5


def test_green_vegetation_alone_is_not_said(spyndex_pixels) -> None:
    ndvi, ngrdi = _indices(spyndex_pixels["Vegetation"])
    assert reddish_vegetation(ndvi, ngrdi, margin=0.05) is None


def test_a_red_part_below_the_green_vegetation_is_said_with_a_cut_above_it(
    spyndex_pixels,
) -> None:
    leaves, urban = (_indices(spyndex_pixels[k]) for k in ("Vegetation", "Urban"))
    ndvi = np.concatenate([leaves[0], urban[0]])
    ngrdi = np.concatenate([leaves[1], urban[1]])
    found = reddish_vegetation(ndvi, ngrdi, margin=0.05)
    assert found is not None
    reddish = ngrdi < -GREEN_PEAK_MARGIN
    assert found.share == pytest.approx(reddish.mean())
    high = np.percentile(ndvi[reddish], 95)
    # The cut clears the red part's NDVI by the land seeds' margin, on a 0.05 step, and lies
    # below the green vegetation's median.
    assert found.suggested_cut is not None
    assert high + 0.05 <= found.suggested_cut < high + 0.1 + 1e-9
    assert found.suggested_cut < found.green_ndvi
    note = found.note()
    assert f"--threshold NDVI={found.suggested_cut:.2f}" in note
    assert note.startswith(f"{found.share:.0%} of the vegetation is redder than it is green")
    assert found.doubts(("vegetation", "water")) == {
        "vegetation": f"{found.share:.0%} of it may be soil (see the caveats)"
    }
    assert set(found.doubts(("bare",))) == {"bare"} and not found.doubts(("forest",))
    assert set(found.summary()) == {
        "share_of_vegetation",
        "ndvi_5_95",
        "green_vegetation_ndvi_median",
        "suggested_ndvi_cut",
        "above_soil_edge",
    }


def test_above_the_soil_rules_edge_no_cut_is_offered(spyndex_pixels) -> None:
    """Where the part below the vegetation seeds' edge is mapped as bare soil
    (`soil_in_vegetation`), what is left is said with that edge and no cut: on Samson's shore a
    cut above it lowered every row."""
    leaves, urban = (_indices(spyndex_pixels[k]) for k in ("Vegetation", "Urban"))
    ndvi = np.concatenate([leaves[0], urban[0]])
    ngrdi = np.concatenate([leaves[1], urban[1]])
    found = reddish_vegetation(ndvi, ngrdi, margin=0.05, soil_edge=0.35)
    assert found is not None and found.suggested_cut is None and found.soil_edge == 0.35
    note = found.note()
    assert "above NDVI 0.35, the vegetation seeds' edge" in note and "--threshold" not in note
    assert found.summary()["above_soil_edge"] == 0.35


def test_a_red_part_as_green_in_ndvi_as_the_rest_gets_no_cut(spyndex_pixels) -> None:
    leaves, urban = (_indices(spyndex_pixels[k]) for k in ("Vegetation", "Urban"))
    # The urban pixels moved up to the leaves' NDVI: no cut separates them.
    ndvi = np.concatenate([leaves[0], np.full(urban[0].shape, np.median(leaves[0]))])
    found = reddish_vegetation(ndvi, np.concatenate([leaves[1], urban[1]]), margin=0.05)
    assert found is not None and found.suggested_cut is None
    assert "its NDVI overlaps the green vegetation's: give examples of both" in found.note()


def test_vegetation_all_redder_than_green_is_said_without_a_cut(spyndex_pixels) -> None:
    ndvi, ngrdi = _indices(spyndex_pixels["Urban"])
    red = ngrdi < -GREEN_PEAK_MARGIN
    found = reddish_vegetation(ndvi[red], ngrdi[red], margin=0.05)
    assert found is not None and found.share == 1.0 and found.suggested_cut is None
    assert "where the rest" not in found.note()
    assert "none of the vegetation is greener than red" in found.note()
    assert found.summary()["green_vegetation_ndvi_median"] is None


def test_a_red_part_under_the_least_share_is_not_said(spyndex_pixels) -> None:
    leaves, urban = (_indices(spyndex_pixels[k]) for k in ("Vegetation", "Urban"))
    many = 60  # above MIN_PIXELS, under MIN_SHARE of the whole
    repeat = int(np.ceil(many / MIN_SHARE / leaves[0].size))
    ndvi = np.concatenate([np.tile(leaves[0], repeat), np.resize(urban[0], many)])
    ngrdi = np.concatenate([np.tile(leaves[1], repeat), np.resize(urban[1], many)])
    assert np.mean(ngrdi < -GREEN_PEAK_MARGIN) < MIN_SHARE
    assert reddish_vegetation(ndvi, ngrdi, margin=0.05) is None
