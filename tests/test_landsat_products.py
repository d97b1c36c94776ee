"""Landsat product identifiers in file names: the level they name decides the scaling.

Level-1 OLI digital numbers (zero reflectance at DN 5000) and Collection 2 Level-2 surface
reflectance (zero at 7273) start in the same range; read as uncalibrated DN or with the Level-2
preset, a Level-1 stack's band ratios are wrong. The real Level-1 patch of the shared benchmark
(38-Cloud, LC08_L1TP_002053_20160520) under the name its source gives it is read as
top-of-atmosphere reflectance, and its cloud is found better for it.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from bench.quality import score_scene
from bench.scenes import DISTRIBUTED_NAMES, benchmark_scenes, extra_scenes
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.errors import BandError
from spex.engine.raster.landsat_products import find_product, product_reading, read_mtl
from spex.engine.raster.landsat_sun import sun_elevation
from spex.engine.raster.raster_source import open_source
from spex.engine.raster.reflectance import resolve_scaling
from tests.scene_sources import needs_benchmark

L1_ID = "LC08_L1TP_002053_20160520_20170324_01_T1"
L1_VALUES = {"p1": 7124.0, "p50": 10080.0, "p99": 42860.0, "max": 60000.0}  # the real patch's


def test_the_identifier_is_found_in_the_file_name_its_folder_or_the_band_descriptions() -> None:
    named = find_product(f"/data/patch_192_10_by_12_{L1_ID}.TIF")
    assert named is not None and named.identifier == L1_ID
    assert (named.sensor, named.satellite, named.level, named.collection) == ("C", 8, "L1TP", 1)
    assert named.is_oli and named.is_level1
    assert named.label == f"Landsat 8 OLI Level-1 ({L1_ID})"
    assert find_product(f"/data/{L1_ID}/stack.tif").identifier == L1_ID
    assert find_product("stack.tif", [f"{L1_ID}_B4", f"{L1_ID}_B5"]).identifier == L1_ID
    l2 = find_product("lc09_l2sp_044034_20230101_20230105_02_t1_sr_b4.tif")
    assert l2 is not None and (l2.level, l2.collection, l2.satellite) == ("L2SP", 2, 9)
    tm = find_product("LT05_L1TP_224063_19880815_20200917_02_T1_B3.TIF")
    assert not tm.is_oli and tm.preset == "landsat_tm_etm"
    tirs = find_product("LT08_L1GT_044034_20230101_20230105_02_T2.TIF")  # thermal only
    assert not tirs.is_oli and tirs.preset is None


def test_no_identifier_two_dates_or_an_espa_reflectance_product_name_none() -> None:
    assert find_product("scene.tif", ["blue", "green"]) is None
    other = "LC08_L1TP_002053_20160605_20170324_01_T1"
    assert find_product("stack.tif", [f"{L1_ID}_B4", f"{other}_B4"]) is None
    # ESPA's Collection 1 surface reflectance keeps the Level-1 name: reflectance x 10000.
    assert find_product(f"{L1_ID}_sr_band4.tif") is None
    assert find_product(f"{L1_ID}_toa_band4.tif") is None
    assert find_product("XLC08_L1TP_002053_20160520_20170324_01_T1.tif") is None


def test_level1_oli_without_its_mtl_takes_the_sun_elevation_its_identifier_gives(tmp_path) -> None:
    """Without the MTL file the identifier's date and WRS-2 row still give the sun's elevation
    (`landsat_sun`): top-of-atmosphere reflectance, calibrated."""
    reading = product_reading(
        find_product(tmp_path / f"{L1_ID}.TIF"), tmp_path / f"{L1_ID}.TIF", L1_VALUES
    )
    s = reading.scaling
    sine = math.sin(math.radians(sun_elevation(53, date(2016, 5, 20))))
    assert 0.85 < sine < 0.95  # path 2 row 53, 10 N, a May morning: about 64 deg
    assert s.calibrated and s.source == f"product {L1_ID}, sun elevation computed"
    assert math.isclose(s.scale, 2e-5 / sine) and math.isclose(s.offset, -0.1 / sine)
    assert "computed from the identifier's date and WRS-2 row" in s.note
    assert f"{L1_ID}_MTL.txt" in s.note  # how to get USGS's own
    # A full scene's staggered band edges leave 0 in some bands of a pixel: its 1st percentile
    # may be 0, its median is not.
    edged = dict(L1_VALUES, p1=0.0)
    assert product_reading(find_product(f"{L1_ID}.TIF"), f"{L1_ID}.TIF", edged).scaling == s
    # It wins over the Level-2 preset an analyst may name (--sensor landsat8_9_oli).
    from spex.engine.raster.sensors import get_preset

    chosen = resolve_scaling("uint16", L1_VALUES, get_preset("landsat8_9_oli"), named=reading)
    assert (chosen.scale, chosen.offset) == (s.scale, s.offset)


def test_level1_oli_without_a_sun_to_divide_by_stays_times_the_sine() -> None:
    """Row 10 (about 70 N) in late December has the sun below the horizon at the overpass, and a
    name whose date is no calendar date gives none: reflectance times the sine, uncalibrated."""
    for name in (
        "LC08_L1TP_200010_20161221_20170324_01_T1",
        "LC08_L1TP_002053_20161340_20170324_01_T1",
    ):
        product = find_product(f"{name}.TIF")
        assert product is not None and product.is_oli and product.is_level1
        s = product_reading(product, f"{name}.TIF", L1_VALUES).scaling
        assert (s.scale, s.offset, s.calibrated) == (2e-5, -0.1, False)
        assert "sine of the sun's elevation" in s.note and f"{name}_MTL.txt" in s.note
    assert find_product("LC08_L1TP_002053_20161340_20170324_01_T1.TIF").acquired is None


@pytest.mark.parametrize("form", ["txt", "json"])
def test_level1_oli_with_its_mtl_is_calibrated_top_of_atmosphere_reflectance(
    tmp_path, form
) -> None:
    factors = {f"REFLECTANCE_{k}_BAND_{b}": v for b in range(1, 10)
               for k, v in (("MULT", "2.0000E-05"), ("ADD", "-0.100000"))}  # fmt: skip
    if form == "txt":
        lines = ["GROUP = L1_METADATA_FILE", "  GROUP = IMAGE_ATTRIBUTES",
                 "    SUN_ELEVATION = 30.00000000", "  END_GROUP = IMAGE_ATTRIBUTES",
                 *(f"    {k} = {v}" for k, v in factors.items()), "END"]  # fmt: skip
        (tmp_path / f"{L1_ID}_MTL.txt").write_text("\n".join(lines))
    else:
        doc = {"LANDSAT_METADATA_FILE": {"IMAGE_ATTRIBUTES": {"SUN_ELEVATION": "30.0"},
                                         "LEVEL1_RADIOMETRIC_RESCALING": factors}}  # fmt: skip
        (tmp_path / f"{L1_ID}_MTL.json").write_text(json.dumps(doc))
    image = tmp_path / f"{L1_ID}.TIF"
    s = product_reading(find_product(image), image, L1_VALUES).scaling
    assert s.calibrated and "MTL" in s.source and "sun elevation 30" in s.note
    assert math.isclose(s.scale, 4e-5) and math.isclose(s.offset, -0.2)  # / sin(30 deg)


def test_mtl_values_are_read_as_text_only(tmp_path) -> None:
    mtl = tmp_path / "x_MTL.txt"
    mtl.write_text(
        '  SUN_ELEVATION = __import__("os").system("false")\n  SPACECRAFT_ID = "LANDSAT_8"\n'
    )
    meta = read_mtl(mtl)
    assert meta["SPACECRAFT_ID"] == "LANDSAT_8"
    assert meta["SUN_ELEVATION"].startswith("__import__")  # kept as a string, never evaluated
    image = tmp_path / f"{L1_ID}.TIF"
    (tmp_path / f"{L1_ID}_MTL.txt").write_text(mtl.read_text())
    s = product_reading(find_product(image), image, L1_VALUES).scaling
    assert "sun elevation computed" in s.source  # an unreadable MTL: the identifier's sun


def test_values_that_do_not_fit_the_named_level_are_not_forced_into_it() -> None:
    values = {"p1": 120.0, "p50": 900.0, "p99": 3500.0, "max": 9000.0}  # reflectance x 10000
    reading = product_reading(find_product(f"{L1_ID}.TIF"), f"{L1_ID}.TIF", values)
    assert reading.scaling is None and "are not its Level-1 digital numbers" in reading.note
    chosen = resolve_scaling("uint16", values, None, named=reading)
    assert chosen.scale == 1e-4 and chosen.note.startswith("the file names Landsat product")


def test_collection2_level2_is_calibrated_surface_reflectance_and_tm_level1_stays_dn() -> None:
    values = {"p1": 7600.0, "p99": 25000.0, "max": 40000.0}
    name = "LE07_L2SP_016035_20000512_20200917_02_T1_SR_B3.TIF"
    s = product_reading(find_product(name), name, values).scaling
    assert (s.scale, s.offset, s.calibrated) == (2.75e-5, -0.2, True)
    tm = "LT05_L1TP_224063_19880815_20200917_02_T1.TIF"
    assert (
        product_reading(find_product(tm), tm, {"p1": 3, "p50": 60, "p99": 140, "max": 255}) is None
    )


@needs_benchmark
def test_the_real_level1_patch_under_its_name_finds_more_of_its_cloud() -> None:
    scene = next(s for s in benchmark_scenes() if s.name == "c38_l8_cloud")
    image, labels = scene.rasters[0]
    assert image.name == DISTRIBUTED_NAMES["c38_l8_cloud"]
    with open_source(image) as named, open_source(image.resolve()) as plain:
        sine = math.sin(math.radians(sun_elevation(53, date(2016, 5, 20))))
        assert math.isclose(named.scaling.scale * sine, 2e-5) and named.scaling.calibrated
        assert "product LC08_L1TP" in named.scaling.source
        assert plain.scaling.source == "digital numbers"  # image.tif: no name, no level

    def cloud(path: Path) -> float:
        rows = score_scene(replace(scene, rasters=((path, labels),)), SpectralParams(), False)
        return next(r["ours"] for r in rows if r["target"] == "cloud")

    assert cloud(image) > cloud(image.resolve()) + 0.02  # measured 0.885 against 0.856


@needs_benchmark
def test_band_names_of_several_sensors_are_read_as_the_sensor_the_product_names(tmp_path) -> None:
    """B2..B5 are OLI's and Sentinel-2's names alike (refused without more); the product
    identifier in the file name says OLI."""
    scene = next(s for s in benchmark_scenes() if s.name == "c38_l8_cloud")
    source = scene.rasters[0][0].resolve()
    plain, named = tmp_path / "stack.tif", tmp_path / f"{L1_ID}_stack.tif"
    for path in (plain, named):
        shutil.copy(source, path)
        with rasterio.open(path, "r+") as ds:
            for band, name in enumerate(("B2", "B3", "B4", "B5"), start=1):
                ds.set_band_description(band, name)
    with pytest.raises(BandError, match="fit several sensors"):
        open_source(plain)
    with open_source(named) as src:
        assert src.mapping.roles == ("blue", "green", "red", "nir")
        assert src.mapping.sensor == "landsat8_9_oli"
        assert "sun elevation computed" in src.scaling.source  # Level-1, not the preset


def test_scene_identifiers_before_collection_1_name_a_level1_product() -> None:
    tm = find_product("LT52240631988227CUB02_B1.TIF")
    assert (tm.identifier, tm.sensor, tm.satellite, tm.level, tm.preset) == (
        "LT52240631988227CUB02", "T", 5, "L1", "landsat_tm_etm",
    )  # fmt: skip
    oli = find_product("LC80020532016141LGN00_B4.TIF")
    assert oli.is_oli and oli.is_level1 and oli.collection == 0
    assert find_product("LC80020532016141LGN00_sr_band4.tif") is None  # ESPA reflectance


L5_SCENES = [s for s in extra_scenes() if s.name == "rstoolbox_l5_amazon"]


@pytest.mark.skipif(not L5_SCENES, reason="the RStoolbox Landsat 5 scene could not be built here "
                    "(bench/extra_scenes.py needs its pinned sources)")  # fmt: skip
def test_the_real_landsat5_bands_under_their_scene_identifier_are_tm(tmp_path) -> None:
    """RStoolbox ships LT52240631988227CUB02_B1.TIF ... _B7.TIF: B1..B7 fit OLI and TM alike
    (refused without more); the scene identifier says TM, whose band 6 is thermal."""
    image = L5_SCENES[0].rasters[0][0].resolve()  # image.tif: no name
    named = tmp_path / "LT52240631988227CUB02_stack.tif"
    shutil.copy(image, named)
    with pytest.raises(BandError, match="fit several sensors"):
        open_source(image)
    with open_source(named) as src:
        assert src.mapping.sensor == "landsat_tm_etm"
        assert src.mapping.roles == ("blue", "green", "red", "nir", "swir1", "thermal", "swir2")
        assert src.scaling.source == "digital numbers"  # TM gains differ per band and scene


@pytest.mark.skipif(not L5_SCENES, reason="the RStoolbox Landsat 5 scene could not be built here "
                    "(bench/extra_scenes.py needs its pinned sources)")  # fmt: skip
def test_the_real_landsat5_mtl_gives_radiance_that_becomes_reflectance() -> None:
    """RStoolbox's MTL file (1988, LPGS) gives radiance only: with the sun's irradiance per band
    (Chander et al. 2009) and the Earth-Sun distance of the day, each band becomes
    top-of-atmosphere reflectance, pi d^2 L / (ESUN sin(elevation))."""
    scene = L5_SCENES[0]
    named = scene.rasters[0][0]
    assert named.name == "LT52240631988227CUB02_stack.tif"
    mtl = read_mtl(named.resolve().parent / "LT52240631988227CUB02_MTL.txt")
    assert "REFLECTANCE_MULT_BAND_1" not in mtl and "RADIANCE_MULT_BAND_1" in mtl
    with open_source(named, bands=scene.bands) as src:
        assert src.scaling.calibrated and "ESUN" in src.scaling.note
        raw = src.read_raw(Window(0, 0, 64, 64), ("red", "nir"))
        got = src.read(Window(0, 0, 64, 64), roles=("red", "nir"))
    sine = math.sin(math.radians(float(mtl["SUN_ELEVATION"])))
    d = 1 - 0.01672 * math.cos(math.radians(0.9856 * (227 - 4)))  # 14 August 1988: day 227
    for i, (role, n, esun) in enumerate((("red", 3, 1536.0), ("nir", 4, 1031.0))):
        radiance = raw[i] * float(mtl[f"RADIANCE_MULT_BAND_{n}"]) + float(
            mtl[f"RADIANCE_ADD_BAND_{n}"]
        )
        expected = math.pi * d**2 * radiance / (esun * sine)
        np.testing.assert_allclose(got[role], expected, rtol=1e-4, err_msg=role)
    assert 0.2 < float(np.median(got["nir"])) < 0.5  # rain forest's NIR, top of atmosphere


TM_ID = "LT05_L1TP_224063_19880815_20200917_02_T1"
TM_MULT = {1: 1.2e-3, 2: 2.5e-3, 3: 1.9e-3, 4: 2.4e-3, 5: 1.6e-3, 7: 2.2e-3}


def _tm_stack(folder: Path, mtl_lines: list[str] | None) -> Path:
    """A six-band 8-bit TM stack under its product identifier (synthetic values: the test is of
    the factors), with an MTL file beside it when `mtl_lines` are given."""
    from tests.rasters import write_raster

    rng = np.random.default_rng(5)
    data = rng.integers(20, 200, size=(6, 32, 32)).astype("uint8")
    path = write_raster(folder / f"{TM_ID}.TIF", data)
    with rasterio.open(path, "r+") as ds:
        for band, name in enumerate(("B1", "B2", "B3", "B4", "B5", "B7"), start=1):
            ds.set_band_description(band, name)
    if mtl_lines is not None:
        (folder / f"{TM_ID}_MTL.txt").write_text("\n".join(mtl_lines))
    return path


def test_tm_level1_with_its_mtl_is_top_of_atmosphere_reflectance_per_band(tmp_path) -> None:
    lines = ["    SUN_ELEVATION = 30.0"]
    for n, mult in TM_MULT.items():
        lines += [
            f"    REFLECTANCE_MULT_BAND_{n} = {mult:.4E}",
            f"    REFLECTANCE_ADD_BAND_{n} = -0.0100",
        ]
    path = _tm_stack(tmp_path, lines)
    with open_source(path) as src:
        assert src.mapping.sensor == "landsat_tm_etm"  # B1..B5, B7 fit OLI too: the name says TM
        assert src.scaling.calibrated and "per band" in src.scaling.note
        raw = src.read_raw(Window(0, 0, 32, 32), src.roles)
        scaled = src.read(Window(0, 0, 32, 32))
        for i, (role, n) in enumerate(zip(src.roles, TM_MULT, strict=True)):
            expected = (raw[i].astype(np.float64) * TM_MULT[n] - 0.01) / 0.5  # sin(30 deg)
            np.testing.assert_allclose(scaled[role], expected, rtol=1e-5, err_msg=role)
        assert "blue value x 0.0024 - 0.02" in src.scaling.describe()


def test_tm_level1_without_reflectance_factors_stays_digital_numbers(tmp_path) -> None:
    path = _tm_stack(tmp_path, ["    SUN_ELEVATION = 30.0", "    RADIANCE_MULT_BAND_1 = 0.7657"])
    with open_source(path) as src:
        assert src.mapping.sensor == "landsat_tm_etm"
        assert src.scaling.source == "digital numbers" and not src.scaling.by_role


def test_a_products_whole_stack_without_band_names_takes_its_band_order(tmp_path) -> None:
    """SR_B1..SR_B7 stacked in order into one unnamed file (synthetic values: the test is of
    the roles) under the product's name; six unnamed bands are still refused."""
    from tests.rasters import write_raster

    name = "LC08_L2SP_044034_20230101_20230105_02_T1"
    values = np.random.default_rng(3).integers(7300, 20000, size=(7, 16, 16)).astype("uint16")
    with open_source(write_raster(tmp_path / f"{name}_stack.tif", values)) as src:
        assert src.mapping.roles == ("coastal", "blue", "green", "red", "nir", "swir1", "swir2")
        assert (src.mapping.sensor, src.mapping.source) == ("landsat8_9_oli", "product band order")
        assert (src.scaling.scale, src.scaling.offset) == (2.75e-5, -0.2)
    with pytest.raises(BandError, match="cannot tell the band roles"):
        open_source(write_raster(tmp_path / f"{name}_six.tif", values[:6]))


def test_a_product_without_a_preset_leaves_the_band_names_refused(tmp_path) -> None:
    """MSS (and Landsat 8's TIRS-only LT08) products have no preset: their name settles nothing,
    and B1..B4 stay refused with the readings offered, in one line, not a traceback."""
    from tests.rasters import write_raster

    values = np.random.default_rng(2).integers(10, 200, size=(4, 16, 16)).astype("uint8")
    path = write_raster(tmp_path / "LM05_L1TP_224063_19880815_20200917_02_T2_stack.tif", values,
                        descriptions=["B1", "B2", "B3", "B4"])  # fmt: skip
    with pytest.raises(BandError, match="fit several sensors"):
        open_source(path)


@pytest.mark.parametrize(
    ("p1", "first", "second"),
    [
        # Zion's Level-1 digital numbers start below Level-2's zero (7273): Level-1 comes first.
        (7029.0, "--scale 0.00002 --offset -0.1", "--sensor landsat8_9_oli"),
        (7600.0, "--sensor landsat8_9_oli", "--scale 0.00002 --offset -0.1"),
    ],
)
def test_unnamed_landsat_like_values_are_told_the_flags_of_both_levels(p1, first, second) -> None:
    values = {"p1": p1, "p50": 10000.0, "p99": 20902.0, "max": 31961.0}
    note = resolve_scaling("uint16", values, None).note
    assert first in note and second in note
    assert note.index(first) < note.index(second)
    # Outside Landsat's range, or with a sensor named, no hint.
    assert "--offset -0.1" not in resolve_scaling("uint16", {**values, "p1": 300.0}, None).note
