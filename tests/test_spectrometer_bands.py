"""Imaging-spectrometer rasters (EnMAP, PRISMA, DESIS): roles found by wavelength, each read as
the mean of its bands near the role's centre.

Their hundreds of bands are described by wavelength only ("band 48 (666.435 Nanometers)", or
ENVI-style ``wavelength`` metadata), several near each role's centre; absorption bands are
flagged bad (``bbl`` 0) and filled with nodata. The nearest band names a role, and every band
within ``SPECTROMETER_TOLERANCE_NM`` of its centre is averaged into it. The real-data tests
expand the real Sentinel-2 scene into such a raster (its spectra linearly interpolated across
10 nm bands) and check that the spectrometer path finds the water the multispectral path
finds, and score the EnMAP-Box's Potsdam scene with the roles averaged and with one band each.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from bench.extra_scenes import mirror_path
from bench.more_scenes import ENMAPBOX_REPO
from spex.engine.backends.onnx.window_reader import WindowReader
from spex.engine.errors import BandError
from spex.engine.raster.averaged_bands import band_numbers
from spex.engine.raster.band_names import (
    SHOWN_DESCRIPTIONS,
    SPECTROMETER_TOLERANCE_NM,
    described_bands,
)
from spex.engine.raster.bands import resolve_band_mapping
from spex.engine.raster.raster_source import open_source, sampled_bands
from spex.engine.raster.sensors import get_preset
from tests.rasters import SPECTROMETER_BAD, SPECTROMETER_NM, crop_raster, spectrometer_copy
from tests.scene_sources import built_scene, needs_mirror, ours_by_target

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


def test_each_role_is_the_mean_of_its_bands_near_the_role_centre() -> None:
    descriptions = [
        None if bad else _description(i, w)
        for i, (w, bad) in enumerate(zip(WAVELENGTHS, BAD, strict=True))
    ]
    mapping = resolve_band_mapping(len(WAVELENGTHS), descriptions)
    averaged = {role: WAVELENGTHS[list(bands)].tolist() for role, bands in mapping.averaged}
    assert averaged["red"] == [650, 660, 670, 680]  # within 15 nm of 665 nm
    assert averaged["nir"] == [830, 840, 850]  # 860 and 870 are nearer nir08's 865 nm
    assert averaged["nir08"] == [860, 870, 880]
    assert averaged["swir2"] == [2190, 2200, 2210]
    members = [i for _, bands in mapping.averaged for i in bands]
    assert len(members) == len(set(members))  # a band is averaged into one role only
    for role, bands in mapping.averaged:
        assert mapping.index_of(role) in bands  # the band that names the role is one of them
        assert not any(BAD[i] for i in bands)
        assert mapping.bands_of(role) == bands
    assert mapping.bands_of("thermal") == ()
    assert mapping.to_dict()["averaged"]["red"] == [i + 1 for i in dict(mapping.averaged)["red"]]


def test_a_multispectral_raster_reads_one_band_per_role() -> None:
    centres = [band.center_nm for band in get_preset("sentinel2_l1c").bands]
    mapping = resolve_band_mapping(len(centres), [f"{c:g} nm" for c in centres])
    assert mapping.averaged == () and mapping.bands_of("red") == (mapping.index_of("red"),)


def test_band_numbers_say_the_bands_as_a_reader_counts_them() -> None:
    assert band_numbers((71,)) == "band 72"
    assert band_numbers((72, 70, 71)) == "mean of bands 71-73"
    assert band_numbers((83, 84, 85, 94, 95)) == "mean of bands 84-86, 95-96"


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
        # Only the role bands and those averaged into them are sampled: the nodata of the bad
        # bands makes no pixel nodata.
        read = sorted({i + 1 for r in src.mapping.present_roles() for i in src.mapping.bands_of(r)})
        assert sampled_bands(src.dataset, src.mapping) == read
        assert len(read) > len(src.mapping.present_roles()) and not BAD[[i - 1 for i in read]].any()
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
    assert mapping.averaged == ()  # the analyst's bands are read as given, one each


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
    assert len(run["bands"]["bands"]) < 16  # one band names each role of the 203 ...
    red = SPECTROMETER_NM.tolist().index(650.0) + 1
    assert run["bands"]["averaged"]["red"] == [red, red + 1, red + 2, red + 3]  # ... 4 make red
    explanation = (tmp_path / "spectrometer" / "explanation.md").read_text(encoding="utf-8")
    assert f"red (mean of bands {red}-{red + 3})" in explanation
    assert "other bands unused" in explanation and "read as their mean" in explanation


def _copy_with(src_path: Path, dst_path: Path, change) -> Path:
    """The spectrometer raster at `src_path` with its raw values changed by `change(data)`,
    scales and band metadata kept."""
    with rasterio.open(src_path) as f:
        data, profile, tags = f.read(), f.profile, [f.tags(i) for i in range(1, f.count + 1)]
    change(data)
    with rasterio.open(dst_path, "w", **profile) as out:
        out.write(data)
        out.scales = (1e-4,) * len(data)
        for i, t in enumerate(tags, start=1):
            out.update_tags(i, **t)
    return dst_path


def test_a_window_reads_the_mean_of_the_role_bands(scenes: tuple[Path, Path]) -> None:
    with open_source(scenes[1]) as src:
        bands = src.mapping.bands_of("red")
        assert len(bands) == 4
        assert (np.abs(WAVELENGTHS[list(bands)] - 665) <= SPECTROMETER_TOLERANCE_NM).all()
        red = src.read(Window(0, 0, 384, 256), ("red",))["red"]
        # The global sample holds the same value for the same pixel (this raster is small
        # enough to be sampled whole): what the thresholds see is what the tiles read.
        sample = src.read_sample()
    with rasterio.open(scenes[1]) as f:
        raw = f.read([i + 1 for i in bands]).astype(np.float64)
    np.testing.assert_allclose(red, raw.mean(axis=0) * 1e-4, rtol=1e-6)
    assert sample.decimation == 1
    np.testing.assert_array_equal(sample.bands["red"], red.ravel()[sample.grid.ravel()])
    with open_source(scenes[1]) as src:
        first, again = src.read_sample(), src.read_sample()  # the open's read is not kept
    np.testing.assert_array_equal(first.bands["red"], again.bands["red"])


def test_one_striped_band_moves_the_role_by_its_share_only(
    scenes: tuple[Path, Path], tmp_path: Path
) -> None:
    """A striped or noisy band (a detector column of a pushbroom spectrometer) weighs 1/n."""
    with open_source(scenes[1]) as src:
        nominal, bands = src.mapping.index_of("nir"), src.mapping.bands_of("nir")

    def stripe(data: np.ndarray) -> None:
        data[nominal, :, ::7] += 400  # every 7th column 0.04 reflectance too bright

    striped = _copy_with(scenes[1], tmp_path / "striped.tif", stripe)
    window = Window(0, 0, 384, 256)
    with open_source(scenes[1]) as clean, open_source(striped) as dirty:
        moved = dirty.read(window, ("nir",))["nir"] - clean.read(window, ("nir",))["nir"]
    np.testing.assert_allclose(moved[:, ::7], 0.04 / len(bands), atol=1e-6)
    assert np.abs(moved[:, 1::7]).max() < 1e-7


def test_where_one_averaged_band_is_nodata_the_others_make_the_mean(
    scenes: tuple[Path, Path], tmp_path: Path
) -> None:
    """A dead detector element, or the edge of the other detector's swath: the mean of the
    role's other bands stands; a pixel is nodata where every band of a role is."""
    with open_source(scenes[1]) as src:
        red = src.mapping.index_of("red")
        bands = src.mapping.bands_of("red")
        member = next(i for i in bands if i != red)

    def holes(data: np.ndarray) -> None:
        data[member, 10, 20] = 0  # the raster's nodata, in one band averaged into red
        data[list(bands), 30, 40] = 0  # in every band of red

    with open_source(_copy_with(scenes[1], tmp_path / "holed.tif", holes)) as src:
        read = src.read(Window(0, 0, 64, 64), ("red", "nir"))
    with rasterio.open(scenes[1]) as f:
        raw = f.read([i + 1 for i in bands], window=Window(0, 0, 64, 64)).astype(np.float64)
    others = [k for k, i in enumerate(bands) if i != member]
    assert read["red"][10, 20] == pytest.approx(raw[others, 10, 20].mean() * 1e-4, rel=1e-6)
    assert np.isfinite(read["nir"][10, 20])
    assert np.isnan(read["red"][30, 40]) and np.isnan(read["nir"][30, 40])
    assert np.isfinite(read["red"]).sum() == 64 * 64 - 1


def test_a_model_window_resampled_reads_the_same_mean(scenes: tuple[Path, Path]) -> None:
    """The ONNX backend's resampled windows (`WindowReader`) average the same bands."""
    window = Window(0, 0, 128, 128)
    with open_source(scenes[1]) as src:
        full = src.read(window, ("red", "nir"))
        reader = WindowReader(src)
        try:
            half = reader.read(window, ("red", "nir"), shape=(64, 64))
        finally:
            reader.close()
    for role in ("red", "nir"):
        blocks = full[role].reshape(64, 2, 64, 2).mean(axis=(1, 3))
        # GDAL averages each uint16 band to a whole number: within 1 DN (0.0001) of the mean.
        np.testing.assert_allclose(half[role], blocks, atol=1e-4)
        assert np.abs(half[role] - blocks).mean() < 5e-5


@needs_mirror(
    ENMAPBOX_REPO, mirror_path(ENMAPBOX_REPO, "SPEX_ENMAPBOX_MIRROR"), "SPEX_ENMAPBOX_MIRROR"
)
def test_averaged_roles_map_potsdam_better_than_one_band_each() -> None:
    # Measured (bench/quality, stop 59): EnMAP's Potsdam with one band per role, water 0.682,
    # vegetation 0.699, built-up 0.491, bare soil 0.029, forest 0.474; averaged, 0.685, 0.757,
    # 0.496, 0.034, 0.535.
    scene = built_scene("enmapbox_enmap_potsdam")
    with open_source(scene.rasters[0][0]) as src:
        assert len(src.mapping.averaged) >= 7
        one_each = ",".join(f"{i + 1}={r}" for i, r in enumerate(src.mapping.roles) if r)
    scores = {
        how: ours_by_target(s)
        for how, s in (("averaged", scene), ("one", dataclasses.replace(scene, bands=one_each)))
    }
    for target in ("vegetation", "forest"):
        assert scores["averaged"][target] >= scores["one"][target] + 0.03, scores
    for target in scores["one"]:
        assert scores["averaged"][target] >= scores["one"][target] - 0.005, (target, scores)


def test_inspect_lists_the_bands_of_each_mean(scenes: tuple[Path, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "spex.engine.cli", "inspect", str(scenes[1])],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    red = SPECTROMETER_NM.tolist().index(650.0) + 1
    lines = result.stdout.splitlines()
    assert any(line.endswith(f"red (mean of bands {red}-{red + 3})") for line in lines)
    assert sum(line.endswith("in the mean of red") for line in lines) == 3
    assert "read as their mean" in result.stdout


def test_unflagged_bands_of_nodata_take_no_role(s2_scene: Path, tmp_path: Path) -> None:
    """An export that lost its ``bbl`` flags, its absorption bands still filled with nodata:
    they take no role (no cirrus near 1375 nm from an empty band) and the raster reads."""
    centres = [band.center_nm for band in get_preset("sentinel2_l1c").bands]
    path = spectrometer_copy(
        s2_scene, tmp_path / "unflagged.tif", (0, 0, 128, 128), centres, flag_bad=False
    )
    with open_source(path) as src:
        assert "cirrus" not in src.mapping.present_roles()
        members = {i for r in src.mapping.present_roles() for i in src.mapping.bands_of(r)}
        assert not BAD[list(members)].any()
        sample = src.read_sample()
        assert sample.valid_pixels > 0.99 * sample.total_pixels
        unflagged = src.mapping
    flagged = spectrometer_copy(s2_scene, tmp_path / "flagged.tif", (0, 0, 128, 128), centres)
    with open_source(flagged) as src:  # read as the copy that kept its flags
        assert (src.mapping.roles, src.mapping.averaged) == (unflagged.roles, unflagged.averaged)
