"""The Moffett Field unmixing scene (`bench/moffett_scene.py`): its channels placed from its own
spectra, the real scene built from its pinned source column by column and read by wavelength
with SWIR bands, and the spectral backend on it: water above a floor set about 0.08 below what
`bench/quality` measured when the scene was added, held out (0.975); its soil, taken for
vegetation when it was added (vegetation 0.151, bare soil 0.000), mapped as bare soil since
(docs/benchmarks.md, "Soil the scene model called vegetation")."""

from __future__ import annotations

import json

import numpy as np

from bench.jasper_scene import channel_wavelengths
from bench.moffett_scene import KEPT_CHANNELS
from bench.muufl_scene import UPCGIT_REPO, upcgit_mirror
from spex.engine import ExtractionRequest, extract
from tests.scene_sources import (
    built_scene,
    label_counts,
    needs_mirror,
    ours_by_target,
    read_scene,
)

NAME = "upcgit_aviris_moffett"
needs_moffett = needs_mirror(UPCGIT_REPO, upcgit_mirror(), "SPEX_UPCGIT_MIRROR")


def test_the_channels_kept_are_184_in_three_blocks_between_the_water_vapour_gaps() -> None:
    assert len(KEPT_CHANNELS) == 184 and len(set(KEPT_CHANNELS)) == 184
    nm = channel_wavelengths()[np.asarray(KEPT_CHANNELS) - 1]
    gaps = np.flatnonzero(np.diff(KEPT_CHANNELS) > 1)
    assert gaps.tolist() == [100, 134]  # the jumps of the vegetation spectrum
    # The water-vapour absorptions near 1400 and 1900 nm fall in the gaps.
    assert nm[100] < 1400 < nm[101] and nm[134] < 1900 < nm[135]
    assert nm[33] < 717 < nm[35]  # the red edge's steepest rise


@needs_moffett
def test_the_scene_is_read_by_wavelength_with_its_swir_bands() -> None:
    moffett = built_scene(NAME)
    roles, nir, labels = read_scene(moffett, "nir")
    assert {"blue", "green", "red", "nir", "swir1", "swir2"} <= roles
    # read row by row instead, the labelled water is as bright in NIR as the land
    assert np.median(nir[labels == 1]) < 0.05 < 0.4 < np.median(nir[labels == 4])
    assert label_counts(labels) == {0: 550, 1: 1372, 2: 88, 4: 490}


@needs_moffett
def test_water_stays_above_its_floor_and_the_soil_is_bare_soil(tmp_path) -> None:
    """Its soil, red above green under the vegetation seeds' NDVI edge, is mapped as bare
    soil (measured: vegetation 0.151 -> 0.830, bare soil 0.000 -> 0.924) and said."""
    moffett = built_scene(NAME)
    rows = ours_by_target(moffett)
    assert rows["water"] >= 0.9, rows
    assert rows["vegetation"] >= 0.75 and rows["bare"] >= 0.85, rows
    image, _ = moffett.rasters[0]
    extract(ExtractionRequest(image, "map the vegetation and bare soil", tmp_path / "run"))
    text = (tmp_path / "run" / "explanation.md").read_text(encoding="utf-8")
    found = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    rule = found["backend"]["details"]["soil_in_vegetation"]
    assert rule["ndvi_below"] == 0.35 and rule["share_of_vegetation"] > 0.4
    assert "mapped as bare soil, not vegetation" in text
