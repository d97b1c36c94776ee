"""Band roles, sensor presets and band-role resolution."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from spex.engine.errors import BandError
from spex.engine.raster.bands import BandMapping, describe_mapping, resolve_band_mapping
from spex.engine.raster.roles import BAND_ROLES, parse_roles
from spex.engine.raster.sensors import SENSORS_DIR, get_preset, load_presets

S2_L1C_NAMES = [
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12",
]  # fmt: skip
EXPECTED_PRESETS = {
    "sentinel2_l1c",
    "sentinel2_l2a",
    "landsat8_9_oli",
    "landsat_tm_etm",
    "naip",
    "planetscope_4band",
    "planetscope_8band",
    "worldview3_8band",
    "worldview2_8band",
    "worldview3_vnir_swir",
    "maxar_4band",
    "rgb",
    "modis_surface_reflectance",
    "hls_l30",
    "hls_s30",
    "landsat8_9_sentinel_hub",
    "landsat_tm_etm_sentinel_hub",
    "drone_reflectance_maps",
}


def test_band_roles_vocabulary_and_order():
    assert BAND_ROLES[:5] == ("coastal", "blue", "green", "yellow", "red")
    assert BAND_ROLES[-4:] == ("swir1", "swir2", "pan", "thermal")
    assert len(BAND_ROLES) == len(set(BAND_ROLES)) == 16


def test_every_preset_file_loads_with_valid_roles():
    presets = load_presets()
    assert set(presets) == EXPECTED_PRESETS
    assert {p.stem for p in SENSORS_DIR.glob("*.json")} == EXPECTED_PRESETS
    for name, preset in presets.items():
        assert preset.name == name
        assert preset.bands, name
        assert preset.scale != 0 and np.isfinite(preset.scale)
        assert preset.note
        roles = [b.role for b in preset.bands + preset.extra_bands if b.role is not None]
        assert all(role in BAND_ROLES for role in roles), name
        assert len(roles) == len(set(roles)), name
        assert all(b.center_nm is None or 400 <= b.center_nm <= 12500 for b in preset.bands)


def test_load_presets_returns_independent_dicts():
    first = load_presets()
    first.pop("rgb")
    assert "rgb" in load_presets()


def test_sentinel2_presets():
    l1c = get_preset("sentinel2_l1c")
    assert [b.name for b in l1c.bands] == S2_L1C_NAMES
    assert l1c.roles[S2_L1C_NAMES.index("B10")] == "cirrus"
    assert l1c.roles[S2_L1C_NAMES.index("B8A")] == "nir08"
    assert l1c.scale == pytest.approx(1e-4) and l1c.offset == 0 and l1c.calibrated
    l2a = get_preset("sentinel2_l2a")
    assert len(l2a.bands) == 12 and "cirrus" not in l2a.roles
    assert "-1000" in l2a.note and "04.00" in l2a.note


def test_landsat_and_other_presets():
    oli = get_preset("landsat8_9_oli")
    assert [b.name for b in oli.bands] == [f"SR_B{i}" for i in range(1, 8)]
    assert oli.roles == ("coastal", "blue", "green", "red", "nir", "swir1", "swir2")
    assert (oli.scale, oli.offset) == (pytest.approx(0.0000275), pytest.approx(-0.2))
    tm = get_preset("landsat_tm_etm")
    assert tm.roles == ("blue", "green", "red", "nir", "swir1", "swir2")
    assert [b.name for b in tm.bands][-1] == "SR_B7"
    naip = get_preset("naip")
    assert naip.roles == ("red", "green", "blue", "nir") and not naip.calibrated
    assert naip.scale == pytest.approx(1 / 255)
    assert get_preset("rgb").roles == ("red", "green", "blue")
    ps8 = get_preset("planetscope_8band")
    assert ps8.roles.count(None) == 1 and len(ps8.bands) == 8
    assert get_preset("worldview3_8band").roles[-2:] == ("nir", "nir08")


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("s2", "sentinel2_l2a"),
        ("Sentinel-2", "sentinel2_l2a"),
        ("SENTINEL2_L1C", "sentinel2_l1c"),
        ("l8", "landsat8_9_oli"),
        ("Landsat 9", "landsat8_9_oli"),
        ("etm+", "landsat_tm_etm"),
        ("WV3", "worldview3_8band"),
        ("superdove", "planetscope_8band"),
    ],
)
def test_get_preset_accepts_aliases(alias, name):
    assert get_preset(alias).name == name


def test_get_preset_unknown_lists_names():
    with pytest.raises(BandError, match="sentinel2_l2a") as info:
        get_preset("sentinel3_olci")
    assert "'sentinel3_olci'" in str(info.value) and "\n" not in str(info.value)


def test_parse_roles_aliases_and_unused():
    roles = parse_roles(" B, g ,Red, -, NIR1, swir16 , SWIR 2, skip, none")
    assert roles == ("blue", "green", "red", None, "nir", "swir1", "swir2", None, None)
    assert parse_roles(["red edge", "swir22", "narrow nir"]) == ("rededge1", "swir2", "nir08")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("red,infrared,nir", "'infrared'"),
        ("red,,nir", "entry 2 is empty"),
        ("", "empty"),
        ("red,green,RED", "'red' is given to bands 1 and 3"),
    ],
)
def test_parse_roles_errors(text, fragment):
    with pytest.raises(BandError, match=fragment) as info:
        parse_roles(text)
    if "infrared" in text:
        assert "swir1" in str(info.value)  # the valid roles are listed


def test_bands_flag_count_must_match():
    with pytest.raises(BandError) as info:
        resolve_band_mapping(6, [None] * 6, bands="blue,green,red,nir")
    assert str(info.value) == (
        "--bands gives 4 roles but the raster has 6 bands; give one role per band, in order"
    )


def test_bands_flag_wins_and_keeps_sensor_for_scaling():
    mapping = resolve_band_mapping(4, ["B02", "B03", "B04", "B08"], sensor="s2", bands="r,g,b,nir")
    assert mapping.roles == ("red", "green", "blue", "nir")
    assert (mapping.sensor, mapping.source) == ("sentinel2_l2a", "--bands")


def test_mapping_methods():
    mapping = BandMapping(("blue", None, "red", "nir"), None, "--bands")
    assert mapping.index_of("red") == 2 and mapping.index_of("swir1") is None
    assert mapping.has("red", "nir") and not mapping.has("red", "swir1")
    assert mapping.present_roles() == ("blue", "red", "nir")
    data = mapping.to_dict()
    assert json.loads(json.dumps(data))["roles"] == ["blue", None, "red", "nir"]
    assert describe_mapping(mapping) == "B1=blue, B2=unused, B3=red, B4=nir"
    with pytest.raises(BandError):
        BandMapping(("red", "red"), None, "--bands")


def test_sensor_flag_uses_preset_order_or_descriptions():
    mapping = resolve_band_mapping(13, [None] * 13, sensor="sentinel2_l1c")
    assert mapping.roles == get_preset("sentinel2_l1c").roles and mapping.source == "--sensor"
    # A four-band Sentinel-2 stack: the descriptions say which bands were kept.
    mapping = resolve_band_mapping(4, ["B08", "B04", "B03", "B02"], sensor="sentinel2_l2a")
    assert mapping.roles == ("nir", "red", "green", "blue")
    # Landsat 8 stack with surface temperature as an eighth band.
    names = [f"SR_B{i}" for i in range(1, 8)] + ["ST_B10"]
    assert resolve_band_mapping(8, names, sensor="l9").roles[-1] == "thermal"


def test_sensor_flag_count_mismatch_names_both_counts():
    with pytest.raises(BandError) as info:
        resolve_band_mapping(4, [None] * 4, sensor="sentinel2_l2a")
    message = str(info.value)
    assert "expects 12 bands" in message and "has 4 bands" in message and "--bands" in message


def test_descriptions_sentinel2_l1c():
    mapping = resolve_band_mapping(13, S2_L1C_NAMES)
    assert mapping.sensor == "sentinel2_l1c" and mapping.source == "band descriptions"
    assert mapping.roles == get_preset("sentinel2_l1c").roles
    assert mapping.index_of("nir08") == 8 and mapping.index_of("cirrus") == 10


def test_descriptions_sentinel2_unpadded_and_gdal_driver_style():
    names = [n.replace("B0", "B") for n in S2_L1C_NAMES if n != "B10"]
    mapping = resolve_band_mapping(12, names)
    assert mapping.sensor == "sentinel2_l2a"
    assert mapping.roles == get_preset("sentinel2_l2a").roles
    # Band names inside file stems: SR_B5 is Landsat's, never Sentinel-2's B5.
    stems = [f"LC09_L2SP_193023_20230601_20230603_02_T1_SR_B{i}" for i in range(2, 8)]
    assert resolve_band_mapping(6, stems).roles == ("blue", "green", "red", "nir", "swir1", "swir2")
    gdal_style = ["B4, central wavelength 665 nm", "B8, central wavelength 842 nm"]
    assert resolve_band_mapping(2, gdal_style).roles == ("red", "nir")


def test_descriptions_landsat_oli():
    names = [f"SR_B{i}" for i in range(1, 8)] + ["ST_B10"]
    mapping = resolve_band_mapping(8, names)
    assert mapping.sensor == "landsat8_9_oli"
    assert mapping.roles == ("coastal", "blue", "green", "red", "nir", "swir1", "swir2", "thermal")


def test_descriptions_landsat_etm():
    names = ["SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B7", "ST_B6"]
    mapping = resolve_band_mapping(7, names)
    assert mapping.sensor == "landsat_tm_etm"
    assert mapping.roles == ("blue", "green", "red", "nir", "swir1", "swir2", "thermal")
    # No SR_B1 and no SR_B6: the contiguous reading (TM/ETM+) wins over OLI with a gap.
    short = resolve_band_mapping(5, ["SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B7"])
    assert short.sensor == "landsat_tm_etm" and short.roles[0] == "green"
    plain = resolve_band_mapping(6, ["B1", "B2", "B3", "B4", "B5", "B7"])
    assert plain.sensor == "landsat_tm_etm" and plain.roles[3] == "nir"


def test_plain_b1_to_b7_is_tm_with_its_thermal_band_or_oli_and_is_refused():
    # A TM/ETM+ stack of all seven bands (RStoolbox's `lsat`: B6 is thermal) and OLI's seven
    # reflective bands have the same names; read as OLI, TM's blue became coastal, its NIR red
    # and its thermal band SWIR1, and water vanished without a word. Neither reading is chosen.
    with pytest.raises(BandError) as info:
        resolve_band_mapping(7, [f"B{i}" for i in range(1, 8)])
    message = str(info.value)
    assert "landsat_tm_etm: blue,green,red,nir,swir1,thermal,swir2" in message
    assert "landsat8_9_oli: coastal,blue" in message and "--sensor" in message
    # The same readings as data, for the dock to offer (one role per band).
    assert info.value.readings["landsat_tm_etm"] == (
        "blue", "green", "red", "nir", "swir1", "thermal", "swir2",
    )  # fmt: skip
    assert info.value.readings["landsat8_9_oli"][0] == "coastal"
    tm = resolve_band_mapping(7, [f"B{i}" for i in range(1, 8)], sensor="landsat_tm_etm")
    assert tm.roles == ("blue", "green", "red", "nir", "swir1", "thermal", "swir2")


def test_descriptions_plain_names_and_wavelengths():
    mapping = resolve_band_mapping(5, ["Red", "GREEN", "blue", "Near Infrared", "SWIR 1"])
    assert mapping.roles == ("red", "green", "blue", "nir", "swir1")
    assert mapping.sensor is None
    waves = resolve_band_mapping(3, ["480 nm", "band 3 (0.66 um)", "860nm"])
    assert waves.roles == ("blue", "red", "nir")


def test_descriptions_planetscope_8band():
    names = ["Coastal Blue", "Blue", "Green I", "Green", "Yellow", "Red", "Red Edge", "NIR"]
    mapping = resolve_band_mapping(8, names)
    assert mapping.sensor == "planetscope_8band"
    assert mapping.roles[2] is None and mapping.index_of("green") == 3
    assert describe_mapping(mapping, names).startswith("B1[Coastal Blue]=coastal, B2[Blue]=blue")


def test_ambiguous_descriptions_name_the_fix():
    with pytest.raises(BandError) as info:
        resolve_band_mapping(4, ["B2", "B3", "B4", "B5"])
    message = str(info.value)
    assert "--bands" in message and "--sensor" in message
    assert "landsat8_9_oli" in message and "rededge1" in message and "\n" not in message


def test_no_descriptions_is_an_error_unless_count_identifies_sensor():
    with pytest.raises(BandError) as info:
        resolve_band_mapping(3, [None, "", None])
    message = str(info.value)
    assert "3 bands" in message and "--bands" in message and "--sensor" in message
    mapping = resolve_band_mapping(13, [None] * 13)
    assert (mapping.sensor, mapping.source) == ("sentinel2_l1c", "band count")


def test_duplicate_roles_in_descriptions():
    with pytest.raises(BandError, match="'red'"):
        resolve_band_mapping(2, ["Red", "B04"])


def _write_geotiff(path, descriptions):
    data = np.arange(len(descriptions) * 8 * 8, dtype=np.uint16).reshape(len(descriptions), 8, 8)
    profile = {
        "driver": "GTiff",
        "width": 8,
        "height": 8,
        "count": len(descriptions),
        "dtype": "uint16",
        "crs": "EPSG:32633",
        "transform": from_origin(400000, 5800000, 10, 10),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for index, description in enumerate(descriptions, start=1):
            if description:
                dst.set_band_description(index, description)


def test_resolve_from_real_geotiff_descriptions(tmp_path):
    path = tmp_path / "s2_subset.tif"
    _write_geotiff(path, ["B02", "B03", "B04", "B08", "B11", "B12"])
    with rasterio.open(path) as src:
        count, descriptions = src.count, src.descriptions
    mapping = resolve_band_mapping(count, descriptions)
    assert mapping.roles == ("blue", "green", "red", "nir", "swir1", "swir2")
    assert mapping.sensor in {"sentinel2_l1c", "sentinel2_l2a"}

    bare = tmp_path / "bare.tif"
    _write_geotiff(bare, [None, None, None, None])
    with rasterio.open(bare) as src:
        assert src.descriptions == (None, None, None, None)
        with pytest.raises(BandError, match="--bands"):
            resolve_band_mapping(src.count, src.descriptions)


def test_landsat_level1_thermal_names_are_landsat_not_sentinel2():
    # OLI Level-1 bands 1-7 with its thermal bands 10 and 11: read as Sentinel-2 they were
    # cirrus and SWIR1; ETM+ Level-1's two gains of band 6 are its thermal band (once).
    oli = resolve_band_mapping(9, [f"B{i}" for i in range(1, 8)] + ["B10", "B11"])
    assert oli.sensor == "landsat8_9_oli"
    assert oli.roles[4:] == ("nir", "swir1", "swir2", "thermal", None)
    etm = ["B1", "B2", "B3", "B4", "B5", "B6_VCID_1", "B6_VCID_2", "B7"]
    mapping = resolve_band_mapping(8, etm)
    assert mapping.sensor == "landsat_tm_etm"
    assert mapping.roles == ("blue", "green", "red", "nir", "swir1", "thermal", None, "swir2")


def test_all_eleven_landsat_level1_bands_are_refused_not_read_as_sentinel2():
    names = [f"B{i}" for i in range(1, 12)]
    with pytest.raises(BandError) as info:
        resolve_band_mapping(11, names)
    assert "Landsat 8/9 Level-1" in str(info.value) and "--sensor" in str(info.value)
    oli_reading = info.value.readings["landsat8_9_oli"]
    assert oli_reading[4] == "nir" and oli_reading[7:] == (None, None, "thermal", None)
    assert info.value.readings["sentinel2_l1c"][7] == "nir"  # the panchromatic band
    oli = resolve_band_mapping(11, names, sensor="landsat8_9_oli")
    assert oli.roles[4] == "nir" and oli.roles[7:] == (None, None, "thermal", None)
    # A Sentinel-2 Level-1C stack has B12 beside B10 and B11: still Sentinel-2.
    full = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12"]
    assert resolve_band_mapping(13, full).sensor == "sentinel2_l1c"


def test_a_stack_of_two_dates_names_the_first_dates_bands() -> None:
    """Two dates of one sensor stacked (a change-detection stack): its band names repeat, which
    is no mix of sensors; the refusal says so and gives the first date's roles by number, and
    they run."""
    with pytest.raises(BandError) as info:
        resolve_band_mapping(26, S2_L1C_NAMES * 2)
    message = str(info.value)
    assert "name sentinel2_l1c bands more than once (B01, B02" in message
    assert "several dates" in message and "different sensors" not in message
    assert "--bands 2=blue,3=green,4=red,8=nir,12=swir1,13=swir2 (the first)" in message
    mapping = resolve_band_mapping(26, S2_L1C_NAMES * 2, bands="2=blue,3=green,4=red,8=nir")
    assert mapping.index_of("nir") == 7 and mapping.roles[20] is None


def test_an_index_raster_is_told_to_be_no_bands() -> None:
    """A raster of one index (as `spex indices` or the Raster Calculator writes it) has no band
    roles: the refusal says it holds an index and what to give instead."""
    with pytest.raises(BandError) as info:
        resolve_band_mapping(1, ["ndvi"])
    message = str(info.value)
    assert message.startswith("the raster holds the spectral index NDVI, not reflectance bands")
    assert "multiband raster it was computed from" in message and "\n" not in message
    with pytest.raises(BandError, match="cannot tell the band roles"):
        resolve_band_mapping(2, ["NDVI", "elevation"])  # not only indices: the usual refusal
