"""Maxar products as delivered (`maxar_products`): a GeoTIFF of radiometrically corrected
digital numbers with the product's ``.IMD`` beside it, read by GDAL's DigitalGlobe reader.

No Maxar imagery may be redistributed, so each product here is the real Sentinel-2 sample scene
turned into one (a fake, named as such): its top-of-atmosphere reflectance divided by the
factor the IMD written beside it gives each band, stored as uint16 digital numbers. The IMD is
written in Maxar's layout (band groups, ``absCalFactor``, ``effectiveBandwidth``, ``IMAGE_1``);
what reads it is GDAL's own reader and the engine's. WorldView-2's yellow band, which
Sentinel-2 lacks, is the mean of its green and red."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine.cli import main
from spex.engine.errors import BandError
from spex.engine.raster.maxar_products import ESUN, find_product
from spex.engine.raster.raster_source import open_source
from spex.engine.raster.reflectance import earth_sun_distance_on

WINDOW = Window(0, 0, 160, 120)
NAME = "17MAY05102030-M2AS-058000000010_01_P001"
EIGHT = ("C", "B", "G", "Y", "R", "RE", "N", "N2")
ROLES = ("coastal", "blue", "green", "yellow", "red", "rededge1", "nir", "nir08")
FOUR = ("B", "G", "R", "N")
SUN_ELEVATION = 55.0
ACQUIRED = date(2017, 5, 5)
#: absCalFactor per band (effectiveBandwidth 0.05 for all): a factor of its own for each band.
ABS_CAL = dict(zip(EIGHT, (0.004, 0.005, 0.0045, 0.0035, 0.006, 0.004, 0.007, 0.0038), strict=True))


def _reflectance(s2_scene: Path) -> dict[str, np.ndarray]:
    """The sample scene's top-of-atmosphere reflectance, as WorldView-2's roles."""
    with open_source(s2_scene) as src:
        s2 = src.read(WINDOW, roles=("coastal", "blue", "green", "red", "rededge1", "nir", "nir08"))
    return s2 | {"yellow": (s2["green"] + s2["red"]) / 2}


def _factor(satellite: str, band: str) -> float:
    """Reflectance per digital number: pi d^2 absCalFactor / effectiveBandwidth / (ESUN sin)."""
    d = earth_sun_distance_on(ACQUIRED)
    sine = math.sin(math.radians(SUN_ELEVATION))
    return ABS_CAL[band] / 0.05 * math.pi * d * d / (ESUN[satellite][band] * sine)


def _imd(satellite: str, bands: tuple[str, ...], enhancement: str = "Off") -> str:
    lines = [
        'version = "28.0";',
        'imageDescriptor = "Standard2A";',
        'bandId = "Multi";',
        'productLevel = "LV2A";',
        f"numRows = {WINDOW.height};",
        f"numColumns = {WINDOW.width};",
        "bitsPerPixel = 16;",
        f'radiometricEnhancement = "{enhancement}";',
        'panSharpenAlgorithm = "None";',
    ]
    for band in bands:
        lines += [f"BEGIN_GROUP = BAND_{band}", f"\tabsCalFactor = {ABS_CAL[band]:e};",
                  "\teffectiveBandwidth = 5.000000e-02;", f"END_GROUP = BAND_{band}"]  # fmt: skip
    lines += [
        "BEGIN_GROUP = IMAGE_1",
        f'\tsatId = "{satellite}";',
        f"\tfirstLineTime = {ACQUIRED.isoformat()}T10:20:30.000000Z;",
        f"\tmeanSunEl = {SUN_ELEVATION};",
        "END_GROUP = IMAGE_1",
        "END;",
    ]
    return "\n".join(lines) + "\n"


def _product(
    folder: Path,
    s2_scene: Path,
    satellite: str = "WV02",
    bands: tuple[str, ...] = EIGHT,
    enhancement: str = "Off",
    name: str = NAME,
) -> Path:
    """The fake product: `bands` of the sample scene as `satellite`'s digital numbers, with
    its IMD beside it."""
    refl = _reflectance(s2_scene)
    factor = satellite if satellite in ESUN else "WV02"  # a satellite without ESUN: any DNs
    dn = [np.round(refl[ROLES[EIGHT.index(b)]] / _factor(factor, b)) for b in bands]
    with rasterio.open(s2_scene) as src:
        profile = src.profile | {"count": len(bands), "dtype": "uint16", "nodata": None}
        profile.update(width=WINDOW.width, height=WINDOW.height, driver="GTiff")
        profile["transform"] = src.window_transform(WINDOW)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.TIF"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.clip(np.stack(dn), 1, 2047).astype("uint16"))
    (folder / f"{name}.IMD").write_text(_imd(satellite, bands, enhancement))
    return path


def test_a_worldview2_product_with_its_imd_is_top_of_atmosphere_reflectance(
    s2_scene, tmp_path
) -> None:
    """Roles from the IMD's band groups, and each band's own factor: the reflectance the
    product was made from comes back, within half a digital number, through the GeoTIFF and
    through the ``.TIL`` that lists it (GDAL's TIL driver, what QGIS opens too)."""
    path = _product(tmp_path / "product", s2_scene)
    expected = _reflectance(s2_scene)
    til = path.with_suffix(".TIL")
    til.write_text(
        f'bandId = "Multi";\nnumTiles = 1;\nBEGIN_GROUP = TILE_1\n\tfilename = "{path.name}";\n'
        f"\tULColOffset = 0;\n\tULRowOffset = 0;\n\tLRColOffset = {WINDOW.width - 1};\n"
        f"\tLRRowOffset = {WINDOW.height - 1};\nEND_GROUP = TILE_1\nEND;\n"
    )
    for raster in (path, til):
        product = find_product(raster)
        assert (product.satellite, product.band_ids, product.preset) == (
            "WV02",
            EIGHT,
            "worldview2_8band",
        )
        with open_source(raster) as src:
            assert src.mapping.sensor == "worldview2_8band" and src.mapping.roles == ROLES
            scaling = src.scaling
            assert scaling.calibrated and scaling.source == f"product {NAME}, IMD"
            assert "absCalFactor" in scaling.note and "not applied" in scaling.note
            for role, band in zip(ROLES, EIGHT, strict=True):
                assert scaling.factors(role) == pytest.approx((_factor("WV02", band), 0.0))
            got = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=ROLES)
        for role, band in zip(ROLES, EIGHT, strict=True):
            half_dn = _factor("WV02", band) / 2
            inside = expected[role] / _factor("WV02", band) < 2047
            np.testing.assert_allclose(
                got[role][inside], expected[role][inside], atol=half_dn + 1e-6, err_msg=role
            )


def test_without_its_imd_a_product_stays_digital_numbers(s2_scene, tmp_path) -> None:
    """The same file without the IMD (an IMD under another name is not its): refused saying
    the IMD is missing and what else to give; read with ``--sensor wv2`` it is not calibrated;
    a mistake in the flags is still refused for what it is; renamed, it is refused as any
    unnamed stack is."""
    path = _product(tmp_path / "product", s2_scene)
    path.with_suffix(".IMD").rename(tmp_path / "product" / "other.IMD")
    assert find_product(path) is None
    with pytest.raises(BandError, match=r"named as a Maxar product, but its \.IMD is not beside"):
        open_source(path)
    with open_source(path, sensor="wv2") as src:
        assert src.mapping.roles == ROLES and not src.scaling.calibrated
    with pytest.raises(BandError, match="7 roles") as refused:
        open_source(path, bands="coastal,blue,green,yellow,red,rededge1,nir")
    assert "Maxar" not in str(refused.value)
    renamed = path.rename(tmp_path / "product" / "scene.tif")
    with pytest.raises(BandError, match="cannot tell the band roles"):
        open_source(renamed)


def test_a_swir_product_is_refused_naming_its_bands(s2_scene, tmp_path) -> None:
    """WorldView-3's SWIR product alone (bands S1..S8) has no role set here: refused in one
    line naming the product, its bands and the flag."""
    path = _product(tmp_path / "swir", s2_scene, satellite="WV03", name="SWIR")
    swir = tuple(f"S{i}" for i in range(1, 9))
    imd = _imd("WV03", EIGHT)
    for band, new in zip(EIGHT, swir, strict=True):
        imd = imd.replace(f"BAND_{band}\n", f"BAND_{new}\n")
    path.with_suffix(".IMD").write_text(imd)
    assert find_product(path).band_ids == swir and find_product(path).preset is None
    with pytest.raises(BandError) as refused:
        open_source(path)
    message = str(refused.value)
    assert "WorldView-3 Standard2A product of bands S1, S2" in message
    assert "--bands" in message and "\n" not in message


def test_a_product_enhanced_for_display_holds_no_radiance(s2_scene, tmp_path) -> None:
    """Dynamic range adjustment rescales each band for display: its IMD still gives the
    factors, but the values are not radiance; read by the IMD's roles, uncalibrated, saying so."""
    path = _product(tmp_path / "product", s2_scene, enhancement="DRA")
    with open_source(path) as src:
        assert src.mapping.roles == ROLES
        assert not src.scaling.calibrated
        assert "enhanced for display (radiometricEnhancement DRA)" in src.scaling.note


def test_four_band_products_of_the_other_satellites(s2_scene, tmp_path) -> None:
    """GeoEye-1's blue, green, red and NIR take its own irradiance; WorldView-4, whose
    irradiance the calibration note does not give, keeps its roles and stays uncalibrated."""
    geoeye = _product(tmp_path / "ge01", s2_scene, satellite="GE01", bands=FOUR)
    with open_source(geoeye) as src:
        assert src.mapping.sensor == "maxar_4band"
        assert src.mapping.roles == ("blue", "green", "red", "nir")
        assert src.scaling.calibrated
        assert src.scaling.factors("red") == pytest.approx((_factor("GE01", "R"), 0.0))
    wv4 = _product(tmp_path / "wv04", s2_scene, satellite="WV04", bands=FOUR)
    with open_source(wv4) as src:
        assert src.mapping.roles == ("blue", "green", "red", "nir")
        assert not src.scaling.calibrated
        assert "no solar irradiance is known here for satellite 'WV04'" in src.scaling.note


def test_extract_on_a_worldview_product_runs_on_its_reflectance(s2_scene, tmp_path) -> None:
    """`spex extract` on the product as delivered: calibrated in run.json, the explanation
    names the product and how its reflectance was made, and the vegetation it maps is the
    vegetation of the scene it was made from (at least 95 % the same pixels)."""
    path = _product(tmp_path / "product", s2_scene)
    reference = tmp_path / "reference.tif"
    refl = _reflectance(s2_scene)
    with rasterio.open(path) as src:
        profile = src.profile | {"dtype": "float32"}
    with rasterio.open(reference, "w", **profile) as dst:
        dst.write(np.stack([refl[r] for r in ROLES]).astype("float32"))
        dst.descriptions = ROLES
    for raster, out in ((path, "wv"), (reference, "reference")):
        assert main(["extract", str(raster), "--prompt", "vegetation", "--out",
                     str(tmp_path / out), "--quiet"]) == 0  # fmt: skip
    run = json.loads((tmp_path / "wv" / "run.json").read_text())
    assert run["scaling"]["calibrated"] is True and run["bands"]["sensor"] == "worldview2_8band"
    text = (tmp_path / "wv" / "explanation.md").read_text()
    assert "WorldView-2 Standard2A" in text and "top-of-atmosphere reflectance" in text
    with (
        rasterio.open(tmp_path / "wv" / "mask.tif") as a,
        rasterio.open(tmp_path / "reference" / "mask.tif") as b,
    ):
        ours, theirs = a.read(1) == 1, b.read(1) == 1
    assert theirs.sum() > 1000
    assert (ours == theirs).mean() >= 0.95


def test_the_earth_sun_distance_of_a_day() -> None:
    """Perihelion in early January, aphelion in early July (0.9833 and 1.0167 AU)."""
    assert earth_sun_distance_on(date(2021, 1, 4)) == pytest.approx(0.9833, abs=2e-4)
    assert earth_sun_distance_on(date(2021, 7, 5)) == pytest.approx(1.0167, abs=2e-4)
