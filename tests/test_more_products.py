"""Products whose band names mislead a reader that knows only Sentinel-2's and Landsat's: MODIS
numbers its bands in its own order, HLS L30 numbers OLI's bands as Sentinel-2 does, and a
Sentinel-2 20 m stack has B8A without B08. Each is read with its own roles, on the real
Sentinel-2 sample scene re-stored as the product stores it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import gdal
from rasterio.windows import Window

from spex.engine.cli import main
from spex.engine.errors import BandError
from spex.engine.raster.bands import resolve_band_mapping
from spex.engine.raster.hls_products import find_product
from spex.engine.raster.product_names import file_band_mapping
from spex.engine.raster.raster_source import open_source

gdal.UseExceptions()

L30 = "HLS.L30.T33UUU.2017047T101059.v2.0"
S30 = "HLS.S30.T33UUU.2017047T102101.v2.0"
WINDOW = Window(0, 0, 128, 96)


def _reflectance(s2_scene: Path, roles: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The sample scene's reflectance per role, in the window the tests compare."""
    with open_source(s2_scene) as src:
        return src.read(WINDOW, roles=roles)


def _write(
    path: Path, s2_scene: Path, bands: list[np.ndarray], names: list[str], gain=10000, **kw
) -> Path:
    """`bands` x `gain` (reflectance x 10000 unless given) as int16 (nodata -9999) unless
    `kw` says otherwise, under `names`."""
    with rasterio.open(s2_scene) as src:
        profile = src.profile | {"count": len(bands), "dtype": "int16", "nodata": -9999}
        profile.update(width=WINDOW.width, height=WINDOW.height)
        profile["transform"] = src.window_transform(WINDOW)
    profile.update(kw)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.stack([np.round(b * gain) for b in bands]).astype(profile["dtype"]))
        dst.descriptions = tuple(names)
    return path


def _same_reflectance(path: Path, expected: dict[str, np.ndarray]) -> None:
    with open_source(path) as src:
        got = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=tuple(expected))
    for role, values in expected.items():
        np.testing.assert_allclose(got[role], values, atol=1e-4, err_msg=role)


def test_modis_bands_are_read_in_modis_order(s2_scene, tmp_path) -> None:
    """sur_refl_b01 is red and b02 NIR; read as Sentinel-2's B01 and B02 (what the band code
    inside the name matched before) they were coastal and blue."""
    order = ("red", "nir", "blue", "green", "rededge1", "swir1", "swir2")  # b05 (1240 nm) unused
    refl = _reflectance(s2_scene, order)
    names = [f"sur_refl_b0{i}" for i in range(1, 8)]
    path = _write(tmp_path / "MOD09A1.A2017041.h18v03.061.tif", s2_scene, [refl[r] for r in order],
                  names, nodata=-28672)  # fmt: skip
    with open_source(path) as src:
        assert src.mapping.sensor == "modis_surface_reflectance"
        assert src.mapping.roles == ("red", "nir", "blue", "green", None, "swir1", "swir2")
        assert (src.scaling.scale, src.scaling.offset, src.scaling.calibrated) == (1e-4, 0, True)
    _same_reflectance(path, {r: refl[r] for r in order if r != "rededge1"})
    nbar = [f"Nadir_Reflectance_Band{i}" for i in range(1, 8)]
    assert resolve_band_mapping(7, nbar).roles == ("red", "nir", "blue", "green", None, "swir1",
                                                   "swir2")  # fmt: skip


def test_an_hls_product_name_is_found_with_its_sensor() -> None:
    product = find_product(f"/data/{L30}.B05.tif")
    assert (product.identifier, product.product, product.version) == (L30, "L30", "2.0")
    assert product.preset == "hls_l30" and product.label == "HLS L30 v2.0 (Landsat 8/9 OLI)"
    assert find_product("stack.vrt", [f"{S30}.B04", f"{S30}.B8A"]).preset == "hls_s30"
    assert find_product("stack.vrt", [f"{S30}.B04", f"{L30}.B04"]) is None  # two products
    assert find_product("HLS.L30.T33UUU.2017047.v2.0.B05.tif") is None  # no time: not the name


def _hls_band_files(folder: Path, s2_scene: Path, product: str, bands: dict[str, np.ndarray]):
    """One file per band, named as NASA names them, stacked by GDAL's BuildVRT as QGIS's Build
    Virtual Raster does (each file a band), with the product's Fmask band last."""
    files = [
        str(_write(folder / f"{product}.{name}.tif", s2_scene, [values], [""]))
        for name, values in bands.items()
    ]
    fmask = np.zeros_like(next(iter(bands.values())))
    files.append(str(_write(folder / f"{product}.Fmask.tif", s2_scene, [fmask], [""])))
    stack = folder / "stack.vrt"
    gdal.BuildVRT(str(stack), files, separate=True)
    return stack


def test_hls_l30_band_files_are_landsat_bands(s2_scene, tmp_path) -> None:
    """L30's B05 is OLI's NIR and B06/B07 its SWIR bands; without the product name the same
    names are Sentinel-2's red edges, as the reader had them."""
    roles = ("blue", "green", "red", "nir", "swir1", "swir2")
    refl = _reflectance(s2_scene, roles)
    named = {f"B0{i}": refl[r] for i, r in enumerate(roles, start=2)}
    (tmp_path / "named").mkdir()
    stack = _hls_band_files(tmp_path / "named", s2_scene, L30, named)
    with open_source(stack) as src:
        assert src.mapping.sensor == "hls_l30"
        assert src.mapping.roles == (*roles, None)
        assert src.scaling.source == f"product {L30}" and src.scaling.calibrated
        assert "nothing added" in src.scaling.note
    _same_reflectance(stack, dict(zip(roles, named.values(), strict=True)))

    (tmp_path / "plain").mkdir()
    plain = _hls_band_files(tmp_path / "plain", s2_scene, "scene", named)
    with open_source(plain) as src:
        assert src.mapping.roles[3:6] == ("rededge1", "rededge2", "rededge3")


def test_hls_s30_is_not_read_with_the_1000_recent_sentinel2_products_add(s2_scene, tmp_path):
    """A bright S30 scene (values from 1000 up) under its name keeps every value: HLS adds
    nothing; under Sentinel-2's names alone the values say baseline 04.00 and 1000 comes off."""
    roles = ("blue", "green", "red", "nir", "swir1", "swir2")
    refl = _reflectance(s2_scene, roles)
    bright = [np.clip(refl[r], 0, 1) * 0.8 + 0.12 for r in roles]  # p1 above 1000
    names = ["B02", "B03", "B04", "B08", "B11", "B12"]
    named = _write(tmp_path / f"{S30}.stack.tif", s2_scene, bright, names)
    plain = _write(tmp_path / "stack.tif", s2_scene, bright, names)
    with open_source(named) as src:
        assert src.mapping.sensor == "hls_s30" and src.scaling.offset == 0.0
    with open_source(plain) as src:
        assert src.scaling.offset == pytest.approx(-0.1)
    _same_reflectance(named, dict(zip(roles, bright, strict=True)))
    r20m = file_band_mapping(f"{S30}.stack.tif", ["B02", "B03", "B04", "B8A", "B11", "B12"])
    assert r20m.sensor == "hls_s30" and r20m.roles[3] == "nir" and r20m.index_of("nir08") == 3


def test_a_sentinel2_20m_stack_reads_b8a_as_its_nir(s2_scene, tmp_path, capsys) -> None:
    """Level-2A's R20m folder has B8A and no B08: B8A is the NIR (865 nm, Landsat's), not a
    raster without NIR. Where B08 is there, B8A stays the narrow NIR."""
    r20m = ["B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"]
    mapping = resolve_band_mapping(len(r20m), r20m)
    assert mapping.roles[6] == "nir" and "nir08" not in mapping.roles
    assert mapping.index_of("nir08") == 6 and mapping.to_dict()["stand_ins"] == {"nir08": "nir"}
    assert mapping.sensor.startswith("sentinel2")
    full = resolve_band_mapping(4, ["B04", "B08", "B8A", "B11"])
    assert full.roles == ("red", "nir", "nir08", "swir1")
    assert resolve_band_mapping(3, [None] * 3, bands="red,nir08,swir1").roles == (
        "red",
        "nir",
        "swir1",
    )
    roles = ("blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir08", "swir1", "swir2")
    refl = _reflectance(s2_scene, roles)
    path = _write(tmp_path / "r20m.tif", s2_scene, [refl[r] for r in roles], r20m)
    _same_reflectance(path, {"nir": refl["nir08"], "swir1": refl["swir1"]})
    assert main(["inspect", str(path)]) == 0
    assert "nir (also nir08)" in capsys.readouterr().out


PLANET_SR = "20170216_102101_38_0f4e_3B_AnalyticMS_SR_harmonized_clip"


def test_planetscope_and_naip_files_without_band_names_are_read_by_their_names(
    s2_scene, tmp_path
) -> None:
    """Planet's and USDA's files carry no band descriptions: refused as a bare stack, read in
    the product's band order under the name they are delivered by."""
    order = ("blue", "green", "red", "nir")
    refl = _reflectance(s2_scene, order)
    bands = [refl[r] for r in order]
    named = _write(tmp_path / f"{PLANET_SR}.tif", s2_scene, bands, [""] * 4, dtype="uint16",
                   nodata=0)  # fmt: skip
    plain = _write(tmp_path / "scene.tif", s2_scene, bands, [""] * 4, dtype="uint16", nodata=0)
    with pytest.raises(BandError, match="cannot tell the band roles"):
        open_source(plain)
    with open_source(named) as src:
        assert (src.mapping.sensor, src.mapping.roles) == ("planetscope_4band", order)
        assert src.scaling.calibrated and src.scaling.scale == 1e-4
    _same_reflectance(named, dict(zip(order, bands, strict=True)))

    radiance = tmp_path / f"{PLANET_SR.replace('_SR', '')}.tif"
    _write(radiance, s2_scene, bands, [""] * 4, dtype="uint16", nodata=0)
    with open_source(radiance) as src:
        assert src.mapping.roles == order
        assert not src.scaling.calibrated and "radiance x 100" in src.scaling.note

    rgbn = [np.clip(refl[r] * 255, 1, 255) for r in ("red", "green", "blue", "nir")]
    # USDA's names since 2017 (60 cm), before (1 m: "_1_"; half a metre: "_h_") and USGS's
    # JPEG 2000 copies' second date, as GeoTIFFs.
    for name in (
        "m_3807537_ne_18_060_20180827",
        "m_3807708_ne_18_1_20130924",
        "m_3512018_ne_10_h_20160530_20161004",
    ):
        naip = tmp_path / f"{name}.tif"
        _write(naip, s2_scene, rgbn, [""] * 4, gain=1, dtype="uint8", nodata=0)
        with open_source(naip) as src:
            roles = ("red", "green", "blue", "nir")
            assert (src.mapping.sensor, src.mapping.roles) == ("naip", roles), name


PLANET_METADATA = """<?xml version="1.0" encoding="UTF-8"?>
<ps:EarthObservation xmlns:ps="http://schemas.planet.com/ps/v1/planet_product_metadata_geocorrected_level"
    xmlns:eop="http://earth.esa.int/eop">
  <eop:productType>AnalyticMS</eop:productType>
{bands}
</ps:EarthObservation>
"""
PLANET_BAND = """  <ps:bandSpecificMetadata>
    <ps:bandNumber>{n}</ps:bandNumber>
    <ps:radiometricScaleFactor>0.01</ps:radiometricScaleFactor>
    <ps:reflectanceCoefficient>{c:.6e}</ps:reflectanceCoefficient>
  </ps:bandSpecificMetadata>"""


def test_planetscope_radiance_with_its_metadata_file_is_reflectance(s2_scene, tmp_path) -> None:
    """Planet's radiance product with its metadata file beside it (the XML Planet delivers,
    written here with the real scene's values as the DN): each band's reflectanceCoefficient
    makes it top-of-atmosphere reflectance; the XML is read as data."""
    order = ("blue", "green", "red", "nir")
    coefficients = (2.2e-5, 2.4e-5, 2.7e-5, 3.6e-5)
    refl = _reflectance(s2_scene, order)
    dn = [np.clip(refl[r] / c, 1, 65535) for r, c in zip(order, coefficients, strict=True)]
    stem = "20170216_102101_38_0f4e_3B_AnalyticMS"
    path = _write(tmp_path / f"{stem}_clip.tif", s2_scene, dn, [""] * 4, gain=1, dtype="uint16",
                  nodata=0)  # fmt: skip
    bands = "\n".join(PLANET_BAND.format(n=n, c=c) for n, c in enumerate(coefficients, start=1))
    (tmp_path / f"{stem}_metadata_clip.xml").write_text(PLANET_METADATA.format(bands=bands))
    with open_source(path) as src:
        assert src.scaling.calibrated and src.scaling.source.endswith(", metadata")
        assert "reflectanceCoefficient" in src.scaling.note
        raw = src.read_raw(Window(0, 0, WINDOW.width, WINDOW.height), order)
        got = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=order)
    for i, (role, c) in enumerate(zip(order, coefficients, strict=True)):
        np.testing.assert_allclose(got[role], raw[i] * c, rtol=1e-5, err_msg=role)
