"""The MUUFL Gulfport unmixing scene (`bench/muufl_scene.py`): its abundances made pure-pixel
labels as the module says, the real scene built from its pinned source and read by wavelength,
and the spectral backend's rows on it above floors set about 0.08 below what `bench/quality`
measured when the scene was added, held out (built-up 0.924, vegetation 0.923, forest 0.919;
docs/benchmarks.md, "A held-out airborne scene")."""

from __future__ import annotations

import numpy as np
import pytest

from bench.jasper_scene import pure_pixel_labels
from bench.muufl_scene import MUUFL_CODES, TREE, UPCGIT_REPO, upcgit_mirror
from spex.engine import ExtractionRequest, extract
from tests.scene_sources import (
    built_scene,
    label_counts,
    needs_mirror,
    ours_by_target,
    read_scene,
)

NAME = "muufl_casi_gulfport"
needs_muufl = needs_mirror(UPCGIT_REPO, upcgit_mirror(), "SPEX_UPCGIT_MIRROR")


def test_pure_pixels_are_labelled_and_shadow_and_mixtures_are_not() -> None:
    # Abundances of roof, grass, tree, shadow, asphalt for six pixels.
    fractions = np.array(
        [
            [0.9, 0.1, 0.0, 0.0, 0.0],  # roof
            [0.0, 0.85, 0.15, 0.0, 0.0],  # grass
            [0.0, 0.1, 0.9, 0.0, 0.0],  # tree
            [0.0, 0.0, 0.0, 1.0, 0.0],  # shadow: no land cover
            [0.1, 0.0, 0.0, 0.0, 0.9],  # asphalt
            [0.5, 0.5, 0.0, 0.0, 0.0],  # mixed
        ]
    ).reshape(1, 6, 5)
    labels, trees = pure_pixel_labels(fractions, MUUFL_CODES, TREE)
    assert labels.tolist() == [[3, 2, 2, 0, 3, 0]]
    assert trees.tolist() == [[0, 0, 1, 255, 0, 255]]


@pytest.fixture(scope="module")
def muufl():
    """The built scene (built once into the quality cache, then reused)."""
    return built_scene(NAME)


@needs_muufl
def test_the_scene_is_read_by_wavelength_without_swir(muufl) -> None:
    roles, _, labels = read_scene(muufl, "nir")
    assert {"blue", "green", "red", "nir"} <= roles
    assert not {"swir1", "swir2"} & roles
    assert label_counts(labels) == {0: 4543, 2: 1835, 3: 1722}


@needs_muufl
def test_built_up_vegetation_and_forest_stay_above_their_floors(muufl) -> None:
    rows = ours_by_target(muufl)
    assert rows["builtup"] >= 0.84, rows
    assert rows["vegetation"] >= 0.84, rows
    assert rows["forest"] >= 0.84, rows


@needs_muufl
def test_water_asked_on_the_campus_says_its_shadows_may_pass_for_it(muufl, tmp_path) -> None:
    """The campus has no water; its shadows pass NDWI (no SWIR band) and the raster has no CRS
    to tell its 1 m pixels: the explanation says what the water may be."""
    result = extract(ExtractionRequest(muufl.rasters[0][0], "extract water", tmp_path / "run"))
    text = result.explanation_path.read_text(encoding="utf-8")
    assert "pixels of unknown size (no CRS)" in text and "shadows of buildings" in text
