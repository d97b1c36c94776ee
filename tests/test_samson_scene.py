"""The Samson unmixing scene (`bench/samson_scene.py`): its abundances made pure-pixel labels,
the real scene built from its pinned source column by column (its water dark in NIR), read by
wavelength, and the spectral backend's water and forest on it above floors set about 0.08
below what `bench/quality` measured when the scene was added, held out (water 1.000, forest
0.988; its soil, NDVI 0.3 on these values, went to vegetation: bare 0.000, docs/benchmarks.md,
"A held-out airborne scene")."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from bench.jasper_scene import pure_pixel_labels
from bench.muufl_scene import UPCGIT_REPO, upcgit_mirror
from bench.samson_scene import SAMSON_CODES, TREE
from spex.engine import ExtractionRequest, extract
from spex.engine.backends.spectral.params import SpectralParams
from tests.scene_sources import (
    built_scene,
    label_counts,
    needs_mirror,
    ours_by_target,
    read_scene,
)

NAME = "upcgit_samson_shore"
needs_samson = needs_mirror(UPCGIT_REPO, upcgit_mirror(), "SPEX_UPCGIT_MIRROR")


def test_pure_soil_tree_and_water_are_labelled_and_mixtures_are_not() -> None:
    fractions = np.array(
        [[0.9, 0.1, 0.0], [0.0, 0.85, 0.15], [0.0, 0.0, 1.0], [0.5, 0.3, 0.2]]
    ).reshape(1, 4, 3)
    labels, trees = pure_pixel_labels(fractions, SAMSON_CODES, TREE)
    assert labels.tolist() == [[4, 2, 1, 0]]
    assert trees.tolist() == [[0, 1, 0, 255]]


@pytest.fixture(scope="module")
def samson():
    """The built scene (built once into the quality cache, then reused)."""
    return built_scene(NAME)


@needs_samson
def test_the_scene_is_read_column_by_column_and_by_wavelength(samson) -> None:
    roles, nir, labels = read_scene(samson, "nir")
    assert {"blue", "green", "red", "nir"} <= roles
    assert not {"swir1", "swir2"} & roles
    # read row by row instead, the labelled water is as bright in NIR as the land
    assert np.median(nir[labels == 1]) < 0.05 < 0.4 < np.median(nir[labels == 2])
    assert label_counts(labels) == {0: 3455, 1: 1615, 2: 1947, 4: 2008}


@needs_samson
def test_water_and_forest_stay_above_their_floors(samson) -> None:
    rows = ours_by_target(samson)
    assert rows["water"] >= 0.92, rows
    assert rows["forest"] >= 0.9, rows


@needs_samson
def test_its_soil_is_said_and_the_advised_cut_maps_it(samson, tmp_path) -> None:
    """The soil taken for vegetation is said in the explanation, with the cut above it
    (measured: half the vegetation redder than green, NDVI 0.26-0.61, cut 0.70); set, it makes
    the soil bare (measured 0.994, before 0.000) and the vegetation the trees (0.994, 0.492)."""
    image, _ = samson.rasters[0]
    result = extract(ExtractionRequest(image, "extract the vegetation", tmp_path / "veg"))
    text = (tmp_path / "veg" / "explanation.md").read_text(encoding="utf-8")
    found = json.loads((tmp_path / "veg" / "run.json").read_text(encoding="utf-8"))
    said = found["backend"]["details"]["reddish_vegetation"]
    assert said["share_of_vegetation"] > 0.3 and said["suggested_ndvi_cut"] == 0.7
    assert "of the vegetation is redder than it is green" in text
    assert "--threshold NDVI=0.70" in text
    assert result.mask_path.exists()
    # The summary, the first thing the command line and the dock show, points at it.
    assert "vegetation: 1 region" in result.summary
    assert "50% of it may be soil (see the caveats)" in result.summary
    advised = replace(SpectralParams(), set_thresholds=(("NDVI", 0.7),))
    rows = ours_by_target(samson, advised)
    assert rows["bare"] >= 0.9 and rows["vegetation"] >= 0.9, rows
    # Asked for water only, nothing is said of it.
    water = extract(ExtractionRequest(image, "extract the water", tmp_path / "water"))
    text = (tmp_path / "water" / "explanation.md").read_text(encoding="utf-8")
    assert "redder than it is green" not in text and "may be soil" not in water.summary
