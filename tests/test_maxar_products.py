"""Maxar products as delivered (`maxar_products`): a GeoTIFF of radiometrically corrected
digital numbers with the product's ``.IMD`` beside it, read by GDAL's DigitalGlobe reader.
No Maxar imagery may be redistributed: each product is made from the real Sentinel-2 sample
scene (`tests/maxar_fake.py`, a fake named as such)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
import rasterio
from osgeo import gdal
from rasterio.windows import Window

from spex.engine.cli import main
from spex.engine.errors import BandError
from spex.engine.raster.maxar_products import find_product, imd_bands, parsed_imd
from spex.engine.raster.raster_source import open_source
from spex.engine.raster.reflectance import earth_sun_distance_on
from tests.maxar_fake import (
    EIGHT,
    FOUR,
    NAME,
    ROLES,
    WINDOW,
    factor,
    imd_text,
    maxar_product,
    reflectance,
)

gdal.UseExceptions()


def test_a_worldview2_product_with_its_imd_is_top_of_atmospherereflectance(
    s2_scene, tmp_path
) -> None:
    """Roles from the IMD's band groups, and each band's own factor: the reflectance the
    product was made from comes back, within half a digital number, through the GeoTIFF and
    through the ``.TIL`` that lists it (GDAL's TIL driver, what QGIS opens too)."""
    path = maxar_product(tmp_path / "product", s2_scene)
    expected = reflectance(s2_scene)
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
                assert scaling.factors(role) == pytest.approx((factor("WV02", band), 0.0))
            got = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=ROLES)
        for role, band in zip(ROLES, EIGHT, strict=True):
            half_dn = factor("WV02", band) / 2
            inside = expected[role] / factor("WV02", band) < 2047
            np.testing.assert_allclose(
                got[role][inside], expected[role][inside], atol=half_dn + 1e-6, err_msg=role
            )


def test_a_nitf_product_reads_its_imd_from_the_file(s2_scene, tmp_path) -> None:
    """Maxar delivers NITF too (``...P001.NTF``); GDAL's NITF driver does not attach the IMD,
    so it is read from the file (`parsed_imd`): the same roles and factors as the GeoTIFF,
    and the same reflectance."""
    tif = maxar_product(tmp_path / "tif", s2_scene)
    folder = tmp_path / "ntf"
    folder.mkdir()
    ntf = folder / f"{NAME}.NTF"
    gdal.Translate(str(ntf), str(tif), format="NITF")
    (folder / f"{NAME}.IMD").write_text(tif.with_suffix(".IMD").read_text())
    with rasterio.open(ntf) as nitf, rasterio.open(tif) as geotiff:
        assert not nitf.tags(ns="IMD")  # what the engine reads itself
        assert parsed_imd(tif.with_suffix(".IMD")) == geotiff.tags(ns="IMD")
    whole = Window(0, 0, WINDOW.width, WINDOW.height)
    with open_source(tif) as a, open_source(ntf) as b:
        assert (b.mapping.sensor, b.mapping.roles) == (a.mapping.sensor, a.mapping.roles)
        assert b.scaling.by_role == a.scaling.by_role and b.scaling.calibrated
        got, want = b.read(whole), a.read(whole)
    for role in ROLES:
        np.testing.assert_array_equal(got[role], want[role])


def test_without_its_imd_a_product_stays_digital_numbers(s2_scene, tmp_path) -> None:
    """The same file without the IMD (an IMD under another name is not its): refused saying
    the IMD is missing and what else to give; read with ``--sensor wv2`` it is not calibrated;
    a mistake in the flags is still refused for what it is; renamed, it is refused as any
    unnamed stack is."""
    path = maxar_product(tmp_path / "product", s2_scene)
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


def test_one_tile_of_an_order_reads_with_the_orders_imd(s2_scene, tmp_path) -> None:
    """A large order comes in tiles (``..._R1C1-...TIF``) beside one IMD under the order's name
    (``...-M2AS-...P001.IMD``, every tile's factors), which GDAL attaches to none of them: a tile
    given alone reads with it, as the whole product does."""
    path = maxar_product(tmp_path / "product", s2_scene)
    tile = path.rename(path.with_name(NAME.replace("-M2AS-", "-M2AS_R1C1-") + ".TIF"))
    product = find_product(tile)
    assert product is not None and product.imd == f"{NAME}.IMD"
    whole = Window(0, 0, WINDOW.width, WINDOW.height)
    with open_source(tile) as src:
        assert src.mapping.roles == ROLES and src.scaling.calibrated
        got = src.read(whole)
    expected = reflectance(s2_scene)
    for role, band in zip(ROLES, EIGHT, strict=True):
        inside = expected[role] / factor("WV02", band) < 2047
        np.testing.assert_allclose(
            got[role][inside], expected[role][inside], atol=factor("WV02", band) / 2 + 1e-6
        )


def test_an_imd_that_does_not_fit_the_raster_is_refused_saying_so(s2_scene, tmp_path) -> None:
    """Bands taken out of the product but its IMD kept beside it (or a damaged IMD): no band
    group per band, so the roles and factors cannot be read from it; one line saying so."""
    path = maxar_product(tmp_path / "product", s2_scene)
    with rasterio.open(path) as src:
        profile, four = src.profile | {"count": 4}, src.read([2, 3, 5, 7])
    subset = path.with_name("scene.tif")
    with rasterio.open(subset, "w", **profile) as dst:
        dst.write(four)
    subset.with_suffix(".IMD").write_text(path.with_suffix(".IMD").read_text())
    assert find_product(subset) is None
    with pytest.raises(BandError, match=r"its IMD, scene\.IMD, gives no band group") as refused:
        open_source(subset)
    assert "\n" not in str(refused.value)
    with open_source(subset, bands="blue,green,red,nir") as src:
        assert not src.scaling.calibrated


def test_a_product_of_other_bands_is_refused_naming_them(s2_scene, tmp_path) -> None:
    """A product whose band groups fit no role set (here WorldView-3's eight bands under ids
    this reading does not know) is refused in one line naming the product, its bands and the
    flag. (The SWIR product alone: `tests/test_maxar_swir.py`.)"""
    path = maxar_product(tmp_path / "other", s2_scene, satellite="WV03", name="OTHER")
    other = tuple(f"X{i}" for i in range(1, 9))
    imd = imd_text("WV03", EIGHT)
    for band, new in zip(EIGHT, other, strict=True):
        imd = imd.replace(f"BAND_{band}\n", f"BAND_{new}\n")
    path.with_suffix(".IMD").write_text(imd)
    assert find_product(path).band_ids == other and find_product(path).preset is None
    with pytest.raises(BandError) as refused:
        open_source(path)
    message = str(refused.value)
    assert "WorldView-3 Standard2A product of bands X1, X2" in message
    assert "--bands" in message and "\n" not in message


def test_a_product_enhanced_for_display_holds_no_radiance(s2_scene, tmp_path) -> None:
    """Dynamic range adjustment rescales each band for display: its IMD still gives the
    factors, but the values are not radiance; read by the IMD's roles, uncalibrated, saying so."""
    path = maxar_product(tmp_path / "product", s2_scene, enhancement="DRA")
    with open_source(path) as src:
        assert src.mapping.roles == ROLES
        assert not src.scaling.calibrated
        assert "enhanced for display (radiometricEnhancement DRA)" in src.scaling.note


def test_four_band_products_of_the_other_satellites(s2_scene, tmp_path) -> None:
    """GeoEye-1's blue, green, red and NIR take its own irradiance; WorldView-4, whose
    irradiance the calibration note does not give, keeps its roles and stays uncalibrated."""
    geoeye = maxar_product(tmp_path / "ge01", s2_scene, satellite="GE01", bands=FOUR)
    with open_source(geoeye) as src:
        assert src.mapping.sensor == "maxar_4band"
        assert src.mapping.roles == ("blue", "green", "red", "nir")
        assert src.scaling.calibrated
        assert src.scaling.factors("red") == pytest.approx((factor("GE01", "R"), 0.0))
    wv4 = maxar_product(tmp_path / "wv04", s2_scene, satellite="WV04", bands=FOUR)
    with open_source(wv4) as src:
        assert src.mapping.roles == ("blue", "green", "red", "nir")
        assert not src.scaling.calibrated
        assert "no solar irradiance is known here for satellite 'WV04'" in src.scaling.note


def test_extract_on_a_worldview_product_runs_on_itsreflectance(s2_scene, tmp_path) -> None:
    """`spex extract` on the product as delivered: calibrated in run.json, the explanation
    names the product and how its reflectance was made, and the vegetation it maps is the
    vegetation of the scene it was made from (at least 95 % the same pixels)."""
    path = maxar_product(tmp_path / "product", s2_scene)
    reference = tmp_path / "reference.tif"
    refl = reflectance(s2_scene)
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


def test_the_band_order_does_not_rest_on_gdals_key_order(tmp_path) -> None:
    """GDAL 3.6, QGIS 3.22's, gives the IMD domain's keys sorted by name (``BAND_B`` first: a
    real WorldView-3 product in `qgis_process` was refused as bands B, C, G, N, ...); the bands
    come back in the product's order whatever order the keys come in."""
    (tmp_path / "p.IMD").write_text(imd_text("WV03", EIGHT))
    items = parsed_imd(tmp_path / "p.IMD")
    for keys in (list(items), sorted(items), sorted(items, reverse=True)):
        assert tuple(b.band for b in imd_bands({k: items[k] for k in keys})) == EIGHT
    others = {
        f"BAND_{b}.{k}": "1.0" for b in ("X2", "X1") for k in ("absCalFactor", "effectiveBandwidth")
    }
    assert tuple(b.band for b in imd_bands(others)) == ("X2", "X1")


def test_the_earth_sun_distance_of_a_day() -> None:
    """Perihelion in early January, aphelion in early July (0.9833 and 1.0167 AU)."""
    assert earth_sun_distance_on(date(2021, 1, 4)) == pytest.approx(0.9833, abs=2e-4)
    assert earth_sun_distance_on(date(2021, 7, 5)) == pytest.approx(1.0167, abs=2e-4)
