"""Imaging-spectrometer rasters (EnMAP, PRISMA, DESIS): one band per role, picked by wavelength.

Their hundreds of bands are described by wavelength only ("band 48 (666.435 Nanometers)", or
ENVI-style ``wavelength`` metadata), several near each role's centre; absorption bands are
flagged bad (``bbl`` 0) and filled with nodata. The real-data test expands the real Sentinel-2
scene into such a raster (its spectra linearly interpolated across 10 nm bands) and checks that
the spectrometer path finds the water the multispectral path finds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from spex.engine.errors import BandError
from spex.engine.raster.band_names import SHOWN_DESCRIPTIONS, described_bands
from spex.engine.raster.bands import resolve_band_mapping
from spex.engine.raster.raster_source import open_source, sampled_bands
from spex.engine.raster.sensors import get_preset
from tests.rasters import SPECTROMETER_BAD, SPECTROMETER_NM, crop_raster, spectrometer_copy

WAVELENGTHS, BAD = SPECTROMETER_NM, SPECTROMETER_BAD
#: (col, row, width, height) of the real scene with its lakes and their shores.
WINDOW = (1024, 256, 384, 256)


def _description(i: int, wavelength: float) -> str:
    return f"band {i + 1} ({wavelength:g} Nanometers)"


def test_the_nearest_band_carries_each_role() -> None:
    descriptions = [
        None if bad else _description(i, w)
        for i, (w, bad) in enumerate(zip(WAVELENGTHS, BAD, strict=True))
    ]
    mapping = resolve_band_mapping(len(WAVELENGTHS), descriptions)
    assert mapping.source == "band descriptions" and mapping.sensor is None
    picked = {role: WAVELENGTHS[mapping.index_of(role)] for role in mapping.present_roles()}
    # 660 and 670 nm are equally near red's 665 nm: the first band wins.
    assert picked["blue"] == 490 and picked["green"] == 560 and picked["red"] == 660
    assert picked["nir"] == 840 and picked["swir1"] == 1610 and picked["swir2"] == 2200
    # The cirrus band's wavelengths are flagged bad: no good band lies near 1375 nm.
    assert "cirrus" not in picked
    assert len(mapping.present_roles()) == len(set(mapping.present_roles()))


def test_band_metadata_completes_only_descriptions_that_say_nothing() -> None:
    descriptions = ["Red", "B4", None, "Band 3", "", "band 6 (500 nm)"]
    tags = [
        {"wavelength": "665"},  # a role word stays a role word
        {"WAVELENGTH": "665", "WAVELENGTH_UNIT": "nm"},  # as GDAL's Sentinel-2 driver has it
        {"wavelength": "0.86", "wavelength_units": "Micrometers"},
        {"wavelength": "560"},
        {"wavelength": "1610", "bbl": "0"},  # flagged bad: no description, no role
        {"wavelength": "900"},  # the description's own wavelength wins
    ]
    assert described_bands(descriptions, tags) == [
        "Red", "B4", "band 3 (0.86 um)", "Band 3 (560 nm)", None, "band 6 (500 nm)",
    ]  # fmt: skip
    roles = resolve_band_mapping(6, described_bands(["", "", "", "", "", ""], tags)).roles
    assert roles == ("red", None, "nir", "green", None, None)


def test_a_role_far_from_every_band_of_a_spectrometer_gets_none() -> None:
    wavelengths = WAVELENGTHS[WAVELENGTHS < 1000]  # a VNIR-only spectrometer
    mapping = resolve_band_mapping(
        len(wavelengths), [_description(i, w) for i, w in enumerate(wavelengths)]
    )
    assert not {"swir1", "swir2", "cirrus"} & set(mapping.present_roles())
    assert {"blue", "green", "red", "nir"} <= set(mapping.present_roles())


def test_the_error_for_hundreds_of_unknown_bands_stays_one_short_line() -> None:
    with pytest.raises(BandError) as info:
        resolve_band_mapping(224, [f"layer {i}" for i in range(224)])
    message = str(info.value)
    assert f"... ({224 - SHOWN_DESCRIPTIONS} more)" in message and "layer 223" not in message
    assert "\n" not in message and len(message) < 1200 and "--bands" in message


@pytest.fixture(scope="module")
def scenes(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The real scene's window, and the same window as a 203-band spectrometer raster."""
    folder = tmp_path_factory.mktemp("spectrometer")
    centres = [band.center_nm for band in get_preset("sentinel2_l1c").bands]
    return (
        crop_raster(s2_scene, folder / "s2.tif", WINDOW),
        spectrometer_copy(s2_scene, folder / "spectrometer.tif", WINDOW, centres),
    )


def test_band_metadata_gives_the_roles_and_bad_bands_none(scenes: tuple[Path, Path]) -> None:
    with open_source(scenes[1]) as src:
        roles = src.mapping.roles
        picked = {role: WAVELENGTHS[i] for i, role in enumerate(roles) if role is not None}
        assert picked["red"] == 660 and picked["swir1"] == 1610 and "cirrus" not in picked
        # Only the role bands are sampled: the nodata of the bad bands makes no pixel nodata.
        assert sampled_bands(src.dataset, src.mapping) == [i + 1 for i, r in enumerate(roles) if r]
        sample = src.read_sample()
        assert sample.valid_pixels > 0.99 * sample.total_pixels


def test_bands_by_number_name_the_few_that_have_a_role() -> None:
    """``--bands 48=red,72=nir``: what a spectrometer product without wavelengths needs."""
    mapping = resolve_band_mapping(224, [None] * 224, bands="16=blue, 30=green,48=Red,72=nir")
    assert mapping.source == "--bands"
    assert {r: mapping.index_of(r) + 1 for r in mapping.present_roles()} == {
        "blue": 16, "green": 30, "red": 48, "nir": 72,
    }  # fmt: skip
    assert sum(r is None for r in mapping.roles) == 220


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("48=red,nir", "mixes a list of roles"),
        ("0=red", "must be 1 to 224"),
        ("225=red", "must be 1 to 224"),
        ("x=red", "must be 1 to 224"),
        ("48=red,48=nir", "names band 48 twice"),
        ("48=red,49=red", "'red'"),
        ("48=reed", "unknown role 'reed'"),
    ],
)
def test_bands_by_number_errors_are_one_line(text: str, fragment: str) -> None:
    with pytest.raises(BandError) as info:
        resolve_band_mapping(224, [None] * 224, bands=text)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_without_wavelengths_the_error_shows_the_numbered_form() -> None:
    with pytest.raises(BandError, match="--bands 16=blue,30=green,48=red"):
        resolve_band_mapping(224, [None] * 224)


def _extract(raster: Path, out: Path) -> np.ndarray:
    result = subprocess.run(
        [sys.executable, "-m", "spex.engine.cli", "extract", str(raster),
         "--prompt", "extract the water bodies", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with rasterio.open(out / "mask.tif") as mask:
        return mask.read(1) == 1


def test_the_spectrometer_finds_the_water_the_multispectral_scene_has(
    scenes: tuple[Path, Path], tmp_path: Path
) -> None:
    multispectral = _extract(scenes[0], tmp_path / "s2")
    spectrometer = _extract(scenes[1], tmp_path / "spectrometer")
    assert multispectral.mean() > 0.1  # the lakes are there
    iou = (multispectral & spectrometer).sum() / (multispectral | spectrometer).sum()
    assert iou > 0.9, iou
    run = json.loads((tmp_path / "spectrometer" / "run.json").read_text(encoding="utf-8"))
    assert run["bands"]["source"] == "band descriptions"
    assert len(run["bands"]["bands"]) < 16  # one band per role of the 203
    red = SPECTROMETER_NM.tolist().index(660.0) + 1
    explanation = (tmp_path / "spectrometer" / "explanation.md").read_text(encoding="utf-8")
    assert f"red (band {red})" in explanation and "other bands unused" in explanation
