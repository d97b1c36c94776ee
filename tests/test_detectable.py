"""Classes the spectral backend cannot find with a raster's bands: known from the band roles
before the sample is read, in step with the seeds, and said to the analyst instead of an empty
map that would read as "none here"."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from spex.engine import ExtractionRequest, extract
from spex.engine.backends.spectral.detectable import (
    NEEDS,
    fine_shadow_note,
    fine_white_note,
    undetectable,
)
from spex.engine.backends.spectral.seeds import select_seeds
from spex.engine.instructions.targets import TARGETS
from spex.engine.raster.raster_source import open_source
from tests.rasters import true_colour_copy

ROLES = ("blue", "green", "red", "nir", "swir1")


@pytest.fixture(scope="module")
def sample_bands(s2_scene: Path) -> dict[str, np.ndarray]:
    """20,000 pixels of the real Sentinel-2 scene's global sample, by role."""
    with open_source(s2_scene) as src:
        bands = src.read_sample().bands
    return {role: bands[role][:20_000] for role in ROLES}


@pytest.mark.parametrize(
    "roles",
    [c for k in range(1, len(ROLES) + 1) for c in itertools.combinations(ROLES, k)],
    ids=lambda c: "+".join(c),
)
def test_the_needs_agree_with_the_seeds(sample_bands, roles: tuple[str, ...]) -> None:
    """A class is undetectable exactly when the seeds have no mask for it with these bands
    (forest's are vegetation's: it is split from the vegetation afterwards)."""
    seeds = select_seeds({r: sample_bands[r] for r in roles}, calibrated=True)
    missing = undetectable(NEEDS, roles)
    for target in NEEDS:
        seeded = TARGETS[target].part_of or target
        assert (seeded in seeds.masks) == (target not in missing), (target, roles)


@pytest.fixture(scope="module")
def true_colour(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real scene's blue, green and red bands only (B2, B3, B4), named as such."""
    return true_colour_copy(s2_scene, tmp_path_factory.mktemp("rgb") / "true_colour.tif")


def test_asking_only_for_what_the_bands_cannot_show_is_one_line(
    true_colour: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "spex.engine.cli", "extract", str(true_colour),
         "--prompt", "extract the water bodies", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "bands blue, green, red" in lines[0] and "water needs" in lines[0]
    assert "NIR or SWIR1" in lines[0] and "--bands" in lines[0]
    assert "or examples of it: --examples" in lines[0]  # they seed it whatever the bands
    assert not out.exists()


def test_a_class_the_bands_cannot_show_is_said_beside_the_others(
    true_colour: Path, tmp_path: Path
) -> None:
    prompt = "extract the water bodies and vegetation"
    result = extract(ExtractionRequest(true_colour, prompt, tmp_path / "run"))
    summary = result.summary.splitlines()
    water = next(line for line in summary if line.startswith("water"))
    assert "cannot be found with these bands" in water and "NIR or SWIR1" in water
    assert "or examples of it: --examples; the dock's Examples layer; Processing's EXAMPLES" in (
        water
    )
    assert any(line.startswith("vegetation:") and "regions" in line for line in summary)
    text = (tmp_path / "run" / "explanation.md").read_text()
    assert "Not mapped: it needs a green band with a NIR or SWIR1 band" in text
    assert "no confident water pixels" not in text  # it is not a scene without water


def test_water_at_fine_pixels_without_swir_says_what_passes_for_it(
    s2_scene: Path, tmp_path: Path
) -> None:
    """Water found with NDWI alone at pixels finer than 5 m (a WorldView or PlanetScope scene)
    is said to take shadows and dark asphalt with it; the same bands at 10 m, water not asked,
    or a SWIR band, say nothing of it. The four-band product is the real scene made into a
    GeoEye-1 one (`tests/maxar_fake.py`), then given 1 m pixels."""
    from affine import Affine

    from tests.maxar_fake import FOUR, maxar_product

    product = maxar_product(tmp_path / "ten", s2_scene, satellite="GE01", bands=FOUR)
    fine = maxar_product(tmp_path / "one", s2_scene, satellite="GE01", bands=FOUR)
    with rasterio.open(fine, "r+") as dst:
        t = dst.transform
        dst.transform = Affine(1.0, 0.0, t.c, 0.0, -1.0, t.f)
    said = "the shadows of buildings and trees and dark asphalt pass NDWI"
    runs = {
        "fine water": (fine, "water"),
        "ten water": (product, "water"),
        "fine vegetation": (fine, "vegetation"),
        "swir water": (s2_scene, "water"),
    }
    texts = {}
    for name, (raster, prompt) in runs.items():
        result = extract(ExtractionRequest(raster, prompt, tmp_path / name.replace(" ", "_")))
        texts[name] = result.explanation_path.read_text(encoding="utf-8")
    assert "water at 1 m pixels without a SWIR band" in texts["fine water"]
    assert said in texts["fine water"]
    assert not any(said in texts[name] for name in ("ten water", "fine vegetation", "swir water"))


def test_water_at_fine_pixels_with_swir_names_dark_asphalt() -> None:
    """With SWIR bands (a WorldView-3 product read with its SWIR product), fine pixels still
    have car parks that pass MNDWI: said so, not the NDWI wording; at 10 m nothing."""
    with_swir = ("blue", "green", "red", "nir", "swir1", "swir2")
    note = fine_shadow_note(("water",), with_swir, 1.2)
    assert note is not None and "dark asphalt" in note and "MNDWI" in note
    assert "without a SWIR band" not in note
    assert fine_shadow_note(("water",), with_swir, 10.0) is None
    assert fine_shadow_note(("vegetation",), with_swir, 1.2) is None


def test_water_without_swir_at_pixels_of_unknown_size_says_what_may_pass_for_it() -> None:
    """No CRS, no pixel size: without SWIR the note says what passes NDWI if the pixels are
    fine; with SWIR, or where water is not asked, nothing (MNDWI's car parks are said only
    where the pixels are known to be fine)."""
    four = ("blue", "green", "red", "nir")
    note = fine_shadow_note(("water",), four, None)
    assert note is not None and "unknown size (no CRS)" in note and "shadows" in note
    assert fine_shadow_note(("water",), (*four, "swir1"), None) is None
    assert fine_shadow_note(("vegetation",), four, None) is None


def test_cloud_and_snow_at_fine_pixels_may_be_white_roofs() -> None:
    """At pixels finer than 5 m, cloud or snow taking a share of the scene is said to be
    possibly white roofs and cars (a real cloudless WorldView-3 suburb: 1.9 % cloud, 0.5 %
    snow); a trace of it, 10 m pixels or an unknown pixel size say nothing."""
    shares = {"cloud": 0.019, "snow": 0.005, "vegetation": 0.6}
    note = fine_white_note(shares, 1.2)
    assert note is not None and "white roofs and cars" in note
    assert "cloud (1.9% of the scene) and snow (0.5% of the scene)" in note
    assert "snow (" not in fine_white_note({"cloud": 0.019, "snow": 0.0001}, 1.2)
    assert fine_white_note({"cloud": 0.0001}, 1.2) is None
    assert fine_white_note(shares, 10.0) is None and fine_white_note(shares, None) is None
