"""Reflectance scaling rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from spex.engine.errors import InputError
from spex.engine.raster.reflectance import Scaling, resolve_scaling
from spex.engine.raster.sensors import get_preset


def percentiles(values: np.ndarray) -> dict[str, float]:
    """The statistics the sample pass hands to resolve_scaling."""
    valid = values[np.isfinite(values)] if values.dtype.kind == "f" else values.ravel()
    return {
        "p1": float(np.percentile(valid, 1)),
        "p99": float(np.percentile(valid, 99)),
        "max": float(valid.max()),
    }


RNG = np.random.default_rng(42)


def test_uint8_without_preset_is_uncalibrated_digital_numbers():
    dn = RNG.integers(10, 256, size=(3, 50, 50), dtype=np.uint8)
    scaling = resolve_scaling("uint8", percentiles(dn), None)
    assert scaling.scale == pytest.approx(1 / 255) and scaling.offset == 0
    assert not scaling.calibrated
    assert "adapt to the scene" in scaling.note
    out = scaling.apply(dn)
    assert out.dtype == np.float32 and out.max() <= 1.0 and out.min() >= 0.0


def test_uint8_with_naip_preset_uses_preset():
    dn = RNG.integers(0, 256, size=(4, 20, 20), dtype=np.uint8)
    scaling = resolve_scaling("uint8", percentiles(dn), get_preset("naip"))
    assert scaling.source == "preset naip" and not scaling.calibrated
    assert scaling.scale == pytest.approx(1 / 255)


def test_uint16_sentinel2_preset_is_calibrated():
    dn = RNG.integers(200, 9000, size=(12, 40, 40)).astype(np.uint16)
    scaling = resolve_scaling("uint16", percentiles(dn), get_preset("sentinel2_l2a"))
    assert scaling.calibrated and scaling.source == "preset sentinel2_l2a"
    assert scaling.scale == pytest.approx(1e-4) and scaling.offset == 0
    assert scaling.apply(np.array([5000], dtype=np.uint16))[0] == pytest.approx(0.5)


def test_uint16_landsat_c2_preset_applies_offset():
    dn = RNG.integers(7500, 30000, size=(7, 30, 30)).astype(np.uint16)
    scaling = resolve_scaling("uint16", percentiles(dn), get_preset("landsat8_9_oli"))
    assert scaling.calibrated
    value = scaling.apply(np.array([[10000]], dtype=np.uint16))[0, 0]
    assert value == pytest.approx(10000 * 0.0000275 - 0.2, abs=1e-6)


def test_preset_that_does_not_fit_falls_back_with_note():
    # Old LEDAPS surface reflectance (x 10000) read with the Collection 2 preset.
    dn = RNG.integers(50, 6000, size=(6, 30, 30)).astype(np.int16)
    scaling = resolve_scaling("int16", percentiles(dn), get_preset("landsat_tm_etm"))
    assert scaling.source == "assumed reflectance x 10000" and not scaling.calibrated
    assert "does not fit" in scaling.note and "--scale/--offset" in scaling.note
    # 8-bit true-colour export read with a Sentinel-2 preset.
    rgb = RNG.integers(0, 256, size=(3, 20, 20), dtype=np.uint8)
    scaling = resolve_scaling("uint8", percentiles(rgb), get_preset("sentinel2_l1c"))
    assert scaling.source == "digital numbers" and scaling.scale == pytest.approx(1 / 255)


def test_reflectance_x1000_is_not_read_with_a_sentinel2_preset():
    # ARCSI's Sentinel-2 surface reflectance x 1000 (Aberystwyth: p1 21, p99 635), its bands
    # named like Sentinel-2's: x 0.0001 would make its 99th percentile 0.064, ten times below any
    # land scene, and every roof darker than asphalt.
    p = {"p1": 21.0, "p99": 635.0, "max": 1115.0}
    scaling = resolve_scaling("uint16", p, get_preset("sentinel2_l2a"))
    assert scaling.source == "assumed reflectance x 1000" and scaling.scale == pytest.approx(1e-3)
    assert "sentinel2_l2a scaling (x 0.0001 + 0) does not fit" in scaling.note
    assert "99th percentile of all bands at 0.0635 reflectance, below the 0.1" in scaling.note
    # The same preset still reads a dark but ordinary x 10000 scene (p99 0.12).
    dark = resolve_scaling(
        "uint16", {"p1": 40.0, "p99": 1200.0, "max": 3000.0}, get_preset("sentinel2_l2a")
    )
    assert dark.source == "preset sentinel2_l2a" and dark.calibrated


def test_uint16_without_preset_assumes_x10000():
    dn = RNG.integers(100, 12000, size=(4, 30, 30)).astype(np.uint16)
    scaling = resolve_scaling("uint16", percentiles(dn), None)
    assert scaling.scale == pytest.approx(1e-4) and not scaling.calibrated
    assert "assumed reflectance x 10000" in scaling.note


def test_large_integers_scale_by_bit_depth():
    dn = RNG.integers(20000, 60000, size=(4, 30, 30)).astype(np.uint16)
    scaling = resolve_scaling("uint16", percentiles(dn), None)
    assert scaling.scale == pytest.approx(1 / 65535) and not scaling.calibrated


def test_float_reflectance_is_identity_calibrated():
    refl = RNG.uniform(-0.02, 0.8, size=(4, 30, 30)).astype(np.float32)
    refl[0, 0, 0] = np.nan
    scaling = resolve_scaling("float32", percentiles(refl), get_preset("sentinel2_l2a"))
    assert (scaling.scale, scaling.offset, scaling.calibrated) == (1.0, 0.0, True)
    out = scaling.apply(refl)
    assert np.isnan(out[0, 0, 0]) and np.allclose(out[1:], refl[1:])
    assert out is not refl


def test_float_out_of_range_is_identity_uncalibrated():
    values = RNG.uniform(0, 300, size=(3, 10, 10)).astype(np.float64)
    scaling = resolve_scaling("float64", percentiles(values), None)
    assert (scaling.scale, scaling.calibrated) == (1.0, False)
    assert "not reflectance" in scaling.note
    # A float raster holding Sentinel-2 digital numbers takes the preset's scaling.
    s2 = RNG.uniform(100, 8000, size=(3, 10, 10)).astype(np.float32)
    scaling = resolve_scaling("float32", percentiles(s2), get_preset("s2"))
    assert scaling.calibrated and scaling.scale == pytest.approx(1e-4)


def test_user_scale_and_offset_win():
    stats = {"p1": 0.0, "p99": 200.0, "max": 255.0}
    scaling = resolve_scaling("uint8", stats, get_preset("rgb"), scale=0.002, offset=-0.1)
    assert (scaling.scale, scaling.offset, scaling.calibrated) == (0.002, -0.1, True)
    assert scaling.source == "--scale/--offset"
    only_offset = resolve_scaling("uint16", stats, None, offset=-0.1)
    assert (only_offset.scale, only_offset.offset) == (1.0, -0.1)
    only_scale = resolve_scaling("uint16", stats, None, scale=1e-4)
    assert (only_scale.scale, only_scale.offset) == (1e-4, 0.0)


@pytest.mark.parametrize(
    ("scale", "offset"),
    [(0.0, None), (-1e-4, None), (math.inf, None), (math.nan, 0.0), (1e-4, math.nan)],
)
def test_invalid_scale_or_offset(scale, offset):
    stats = {"p1": 0.0, "p99": 200.0, "max": 255.0}
    with pytest.raises(InputError) as info:
        resolve_scaling("uint16", stats, None, scale=scale, offset=offset)
    assert "\n" not in str(info.value) and "finite" in str(info.value)


def test_no_valid_pixels_is_an_input_error():
    stats = {"p1": math.nan, "p99": math.nan, "max": math.nan}
    with pytest.raises(InputError, match="--scale"):
        resolve_scaling("uint16", stats, None)


def test_scaling_to_dict_round_trip():
    scaling = Scaling(1e-4, -0.1, True, "preset sentinel2_l2a", "note")
    assert Scaling(**scaling.to_dict()) == scaling


def test_scaling_from_real_geotiff(tmp_path):
    path = tmp_path / "l2a.tif"
    data = RNG.integers(300, 7000, size=(4, 32, 32)).astype(np.uint16)
    data[:, :2, :2] = 0  # nodata corner
    profile = {
        "driver": "GTiff",
        "width": 32,
        "height": 32,
        "count": 4,
        "dtype": "uint16",
        "nodata": 0,
        "crs": "EPSG:32633",
        "transform": from_origin(400000, 5800000, 10, 10),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    with rasterio.open(path) as src:
        masked = src.read(masked=True)
        dtype = src.dtypes[0]
    stats = percentiles(masked.compressed())
    assert stats["p1"] >= 300  # the nodata zeros are excluded
    scaling = resolve_scaling(dtype, stats, get_preset("sentinel2_l2a"))
    reflectance = scaling.apply(masked.filled(0))
    assert scaling.calibrated and 0.03 <= reflectance[:, 5:, 5:].mean() <= 0.7


@pytest.mark.parametrize("preset", ["sentinel2_l2a", "sentinel2_l1c", None])
def test_values_that_start_at_1000_are_sentinel2_of_baseline_04(preset):
    # Processing baseline 04.00 and later store reflectance x 10000 + 1000 (BOA_ADD_OFFSET and
    # RADIO_ADD_OFFSET = -1000): a real scene's darkest pixels then sit just above 1000.
    reflectance = RNG.uniform(0.005, 0.6, size=(12, 40, 40))
    dn = np.round(reflectance * 10000 + 1000).astype(np.uint16)
    scaling = resolve_scaling("uint16", percentiles(dn), preset and get_preset(preset))
    assert scaling.calibrated and "1000 added" in scaling.source
    assert scaling.scale == pytest.approx(1e-4) and scaling.offset == pytest.approx(-0.1)
    np.testing.assert_allclose(scaling.apply(dn), reflectance, atol=6e-5)
    assert "--scale 0.0001 --offset 0" in scaling.note  # how to undo it, in one line


def test_a_water_chip_with_1000_added_is_read_without_it():
    """A chip of open water of a baseline 04.00 Level-2A product (Porto Trombetas' river: its
    1st and 99th percentiles 1049 and 1277): without the offset every value would be 0.1 too
    bright, and water would not be water. Its 99th percentile, 0.028 once read, is below the
    0.05 a scene with land reaches, which refused the offset before."""
    reflectance = RNG.uniform(0.002, 0.03, size=(12, 24, 24))
    dn = np.round(reflectance * 10000 + 1000).astype(np.uint16)
    scaling = resolve_scaling("uint16", percentiles(dn), get_preset("sentinel2_l2a"))
    assert scaling.calibrated and "1000 added" in scaling.source
    np.testing.assert_allclose(scaling.apply(dn), reflectance, atol=6e-5)


@pytest.mark.parametrize(
    ("low", "dtype", "added"),
    [
        (200, "uint16", False),  # an ordinary scene: water and shadow far below 1000
        (2500, "uint16", False),  # every band above 0.25 reflectance: cloud, not an offset
        (1100, "float32", False),  # float values hold no added digital numbers
    ],
)
def test_no_added_offset_without_its_signature(low, dtype, added):
    dn = RNG.integers(low, 9000, size=(12, 40, 40)).astype(dtype)
    scaling = resolve_scaling(dtype, percentiles(dn), get_preset("sentinel2_l2a"))
    assert ("added" in scaling.source) is added and scaling.offset == 0


def test_the_user_scaling_wins_over_the_added_offset():
    dn = RNG.integers(1050, 7000, size=(12, 40, 40)).astype(np.uint16)
    scaling = resolve_scaling("uint16", percentiles(dn), get_preset("sentinel2_l2a"), 1e-4, 0.0)
    assert scaling.offset == 0 and scaling.source == "--scale/--offset"


def _declaring(path, scales, offsets, data):
    profile = {"driver": "GTiff", "width": 32, "height": 32, "count": len(data), "nodata": 0,
               "dtype": "uint16", "crs": "EPSG:32633",
               "transform": from_origin(400000, 5800000, 10, 10)}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.scales, dst.offsets = scales, offsets
    return path


def test_the_scale_and_offset_a_file_declares_are_used(tmp_path):
    from spex.engine.raster.raster_source import open_source

    reflectance = RNG.uniform(0.01, 0.5, size=(4, 32, 32))
    data = np.round((reflectance + 0.2) / 2.75e-5).astype(np.uint16)  # Landsat C2 L2 encoding
    path = _declaring(tmp_path / "c2.tif", [2.75e-5] * 4, [-0.2] * 4, data)
    with open_source(path, bands="blue,green,red,nir") as src:
        assert src.scaling.source == "declared by the file" and src.scaling.calibrated
        got = src.read(rasterio.windows.Window(0, 0, 32, 32))["nir"]
    np.testing.assert_allclose(got, reflectance[3], atol=2e-5)
    with open_source(path, bands="blue,green,red,nir", scale=1e-4) as src:
        assert src.scaling.source == "--scale/--offset"  # the user's word wins


def test_bands_that_declare_different_scalings_are_not_guessed(tmp_path):
    from spex.engine.raster.raster_source import open_source

    data = RNG.integers(300, 7000, size=(2, 32, 32)).astype(np.uint16)
    path = _declaring(tmp_path / "mixed.tif", [1e-4, 2e-4], [0.0, 0.0], data)
    with open_source(path, bands="red,nir") as src:
        assert src.scaling.source != "declared by the file"
    with open_source(path, bands="red,-") as src:  # only the band used counts
        assert src.scaling.source == "declared by the file" and src.scaling.scale == 1e-4


def test_values_of_landsat_c2_level2_get_a_hint_not_a_guess():
    reflectance = RNG.uniform(0.0, 0.4, size=(6, 40, 40))
    dn = np.round((reflectance + 0.2) / 2.75e-5).astype(np.uint16)
    scaling = resolve_scaling("uint16", percentiles(dn), None)
    assert not scaling.calibrated and scaling.offset == 0  # Level-1 DN can look the same
    assert "--sensor landsat8_9_oli" in scaling.note
    ordinary = RNG.integers(200, 9000, size=(6, 40, 40)).astype(np.uint16)
    assert "landsat" not in resolve_scaling("uint16", percentiles(ordinary), None).note
