"""Sentinel-2 product names: the processing baseline they name says whether 1000 was added.

The values tell it too (every band starting at 1000), except where cloud or snow covers a scene
almost whole: then a product before baseline 04.00 starts above 1000 as well, and one after it
above 2000. The name settles both; values below 1000 mean the provider removed the offset.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from spex.engine.raster.raster_source import open_source
from spex.engine.raster.reflectance import resolve_scaling
from spex.engine.raster.sensors import get_preset
from spex.engine.raster.sentinel2_products import find_product, product_reading

NEW = "S2B_MSIL2A_20230315T103629_N0509_R008_T32UPU_20230315T134106"
OLD = "S2A_MSIL1C_20170216T102101_N0204_R065_T33UUU_20170216T102204"


def test_the_name_is_found_with_its_level_and_baseline() -> None:
    new = find_product(f"/data/{NEW}.SAFE/stack.tif")
    assert (new.identifier, new.level, new.baseline, new.preset) == (
        NEW,
        "L2A",
        5.09,
        "sentinel2_l2a",
    )
    assert new.adds_dn and new.label == "Sentinel-2 L2A, processing baseline 05.09"
    old = find_product(f"{OLD}_stack.tif")
    assert (old.level, old.baseline, old.preset, old.adds_dn) == (
        "L1C",
        2.04,
        "sentinel2_l1c",
        False,
    )
    assert find_product("stack.tif", [f"{NEW} B04", f"{NEW} B08"]).identifier == NEW
    assert find_product("stack.tif", [f"{NEW} B04", f"{OLD} B04"]) is None  # two dates
    assert find_product("S2B_MSIL2A_20230315T103629_R008_T32UPU_20230315T134106.tif") is None


@pytest.mark.parametrize(
    ("name", "p1", "offset", "said"),
    [
        (NEW, 1100.0, -0.1, "adds 1000 to every value"),
        (NEW, 2600.0, -0.1, "adds 1000 to every value"),  # snow-covered: the values miss it
        (NEW, 40.0, 0.0, "the provider removed it"),
        (OLD, 1300.0, 0.0, "adds nothing"),  # cloud-covered before 04.00: the values mistake it
    ],
)
def test_the_baseline_decides_the_offset_where_the_values_cannot(name, p1, offset, said) -> None:
    values = {"p1": p1, "p99": 9000.0, "max": 12000.0}
    reading = product_reading(find_product(f"{name}.tif"), f"{name}.tif", values)
    s = reading.scaling
    assert s.scale == 1e-4 and s.offset == pytest.approx(offset) and s.calibrated
    assert said in s.note and name in s.note
    preset = get_preset(find_product(f"{name}.tif").preset)
    assert resolve_scaling("uint16", values, preset, named=reading) is s


def test_without_the_name_bright_scenes_are_misread_as_the_readme_says() -> None:
    """What the name fixes: the values-only rule on the same two bright cases."""
    preset = get_preset("sentinel2_l2a")
    snowy = resolve_scaling("uint16", {"p1": 2600.0, "p99": 9000.0, "max": 12000.0}, preset)
    cloudy = resolve_scaling("uint16", {"p1": 1300.0, "p99": 9000.0, "max": 12000.0}, preset)
    assert snowy.offset == 0.0 and cloudy.offset == pytest.approx(-0.1)


def test_values_that_are_not_reflectance_x_10000_are_not_forced() -> None:
    values = {"p1": 0.01, "p99": 0.4, "max": 1.0}  # float reflectance under a product name
    reading = product_reading(find_product(f"{NEW}.tif"), f"{NEW}.tif", values)
    assert reading.scaling is None and "not its reflectance x 10000" in reading.note
    chosen = resolve_scaling("float32", values, None, named=reading)
    assert (chosen.scale, chosen.offset, chosen.source) == (1.0, 0.0, "float reflectance")


def test_a_real_scene_stored_as_baseline_05_09_is_read_under_its_name(s2_scene, tmp_path) -> None:
    """The real 2017 Level-1C stack without its cirrus band, as a Level-2A product of baseline
    05.09 stores it (+1000), under its product name: (DN - 1000) / 10000, every pixel as before."""
    with rasterio.open(s2_scene) as src:
        keep = [i for i, d in enumerate(src.descriptions, start=1) if d != "B10"]
        profile = src.profile | {"count": len(keep)}
        data = src.read(keep)
        descriptions = [src.descriptions[i - 1] for i in keep]
    named = tmp_path / f"{NEW}.tif"
    with rasterio.open(named, "w", **profile) as dst:
        dst.write(np.where(data > 0, data + 1000, 0).astype(data.dtype))
        for band, desc in enumerate(descriptions, start=1):
            dst.set_band_description(band, desc)
    with open_source(named) as src:
        assert src.scaling.offset == pytest.approx(-0.1) and src.scaling.scale == 1e-4
        assert src.scaling.source == f"product {NEW}"
        assert "processing baseline 05.09 adds 1000" in src.scaling.note
