"""Soil the scene model calls vegetation, mapped as bare soil: the per-pixel test on spyndex's
real Landsat 8 surface reflectance pixels (its vegetation keeps its green peak; its urban
pixels, red and darker in NIR, stand in for soil), and the backend's rule end to end on a real
scene of soil taken for vegetation (Samson, `tests/test_samson_scene.py`; Moffett Field,
`tests/test_moffett_scene.py`)."""

from __future__ import annotations

import numpy as np

from spex.engine.backends.spectral.soil_in_vegetation import SoilInVegetation, soil_like


def test_green_leaves_are_never_soil_whatever_the_edge(spyndex_pixels) -> None:
    leaves = spyndex_pixels["Vegetation"]
    # Even an edge above every leaf's NDVI moves none: each has its green peak.
    assert not soil_like(leaves, ndvi_edge=1.0).any()


def test_red_land_below_the_edge_is_soil_and_above_it_is_not(spyndex_pixels) -> None:
    urban = spyndex_pixels["Urban"]
    g, r, n = (urban[k] for k in ("green", "red", "nir"))
    ndvi, no_peak = (n - r) / (n + r), (g - r) / (g + r) < -0.1
    assert no_peak.sum() > 10  # the test has red land to move
    edge = float(np.median(ndvi[no_peak]))
    moved = soil_like(urban, edge)
    assert moved.tolist() == ((ndvi < edge) & no_peak).tolist()
    assert 0 < moved.sum() < no_peak.sum()


def test_nodata_is_never_soil() -> None:
    bands = {k: np.array([np.nan, 0.1], dtype=np.float32) for k in ("green", "red", "nir")}
    bands["red"][1] = 0.2
    assert soil_like(bands, ndvi_edge=0.35).tolist() == [False, True]


def test_the_note_and_record_say_the_edge_and_the_share() -> None:
    rule = SoilInVegetation(ndvi_edge=0.35, share=0.312, moved=120)
    note = rule.note()
    assert note is not None and note.startswith("31.2% of the vegetation")
    assert "NDVI below 0.35" in note and "mapped as bare soil, not vegetation" in note
    assert rule.summary() == {
        "ndvi_below": 0.35,
        "green_red_below": -0.1,
        "share_of_vegetation": 0.312,
    }
    # A sample without any says nothing (the rule still holds for the whole raster).
    assert SoilInVegetation(0.35, 0.0, 0).note() is None
