"""WorldView-3's SWIR product read with the multispectral product of its collect (`maxar_swir`).
Both products are fakes made from the real Sentinel-2 sample scene (`tests/maxar_fake.py`; no
Maxar imagery may be redistributed), laid out as Maxar delivers an order: ``..._P001_MUL`` and
``..._P001_SWR`` folders side by side."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window

from spex.engine.cli import main
from spex.engine.errors import BandError
from spex.engine.raster.maxar_products import find_product
from spex.engine.raster.maxar_swir import same_collect
from spex.engine.raster.raster_source import open_source
from tests.maxar_fake import (
    EIGHT,
    ROLES,
    SWIR,
    SWIR_BLOCK,
    SWIR_CATALOG_ID,
    VNIR_CATALOG_ID,
    WINDOW,
    factor,
    reflectance,
    swir_reflectance,
    worldview3_order,
)

WHOLE = Window(0, 0, WINDOW.width, WINDOW.height)


def order(tmp_path, s2_scene, swir_catalog_id: str = SWIR_CATALOG_ID):
    """The fake WorldView-3 order (`worldview3_order`) in `tmp_path`; its multispectral file."""
    return worldview3_order(tmp_path / "058000000010", s2_scene, swir_catalog_id)


def test_the_multispectral_product_reads_its_collects_swir_bands(s2_scene, tmp_path) -> None:
    """The order's multispectral file opens as its eight bands and SWIR-2 and SWIR-6 as swir1
    and swir2, all top-of-atmosphere reflectance: the VNIR bands as before, within half a
    digital number; the SWIR bands as the coarser product's reflectance resampled bilinearly
    onto the multispectral grid (away from the edges, where the resampling has no neighbour)."""
    mul = order(tmp_path, s2_scene)
    product = find_product(mul)
    assert product.preset == "worldview3_vnir_swir" and product.swir.band_ids == SWIR
    with open_source(mul) as src:
        assert src.mapping.sensor == "worldview3_vnir_swir"
        assert src.mapping.roles == (*ROLES, "swir1", "swir2")
        assert src.mapping.source == "product band order"
        assert src.scaling.calibrated and "SWIR bands S2, S6" in src.scaling.note
        assert src.scaling.factors("swir1") == pytest.approx((factor("WV03", "S2"), 0.0))
        assert src.scaling.factors("swir2") == pytest.approx((factor("WV03", "S6"), 0.0))
        got = src.read(WHOLE)
        grid, crs = src.dataset.transform, src.dataset.crs
    expected = reflectance(s2_scene)
    for role, band in zip(ROLES, EIGHT, strict=True):
        inside = expected[role] / factor("WV03", band) < 2047
        np.testing.assert_allclose(got[role][inside], expected[role][inside],
                                   atol=factor("WV03", band) / 2 + 1e-6, err_msg=role)  # fmt: skip
    coarse, coarse_grid = swir_reflectance(s2_scene)
    margin = SWIR_BLOCK
    for role, band in (("swir1", "S2"), ("swir2", "S6")):
        resampled = np.zeros((WINDOW.height, WINDOW.width))
        reproject(coarse[role], resampled, src_transform=coarse_grid, src_crs=crs,
                  dst_transform=grid, dst_crs=crs, resampling=Resampling.bilinear)  # fmt: skip
        inner = (slice(margin, -margin), slice(margin, -margin))
        # One digital number of the SWIR band, rounded once when made and once resampled.
        np.testing.assert_allclose(got[role][inner], resampled[inner],
                                   atol=factor("WV03", band) * 1.01, err_msg=role)  # fmt: skip
        assert np.isfinite(got[role]).mean() > 0.9


def test_any_tile_reads_the_same_swir_values(s2_scene, tmp_path) -> None:
    """The resampled bands are the same bytes whatever window reads them: tiles of 37 x 29
    pixels put together equal the whole read."""
    mul = order(tmp_path, s2_scene)
    with open_source(mul) as src:
        whole = src.read(WHOLE, roles=("swir1", "swir2"))
        for row in range(0, WINDOW.height, 29):
            for col in range(0, WINDOW.width, 37):
                tile = Window(col, row, min(37, WINDOW.width - col), min(29, WINDOW.height - row))
                part = src.read(tile, roles=("swir1", "swir2"))
                for role in ("swir1", "swir2"):
                    np.testing.assert_array_equal(
                        part[role], whole[role][tile.toslices()], err_msg=f"{role} at {tile}"
                    )


def test_only_the_same_collects_swir_product_is_read(s2_scene, tmp_path) -> None:
    """A SWIR product of another collect beside it (another catalogue id) is not read: the
    multispectral product opens alone, as its eight bands."""
    mul = order(tmp_path, s2_scene, swir_catalog_id="104A01000FFFFF00")
    assert find_product(mul).preset == "worldview3_8band"
    with open_source(mul) as src:
        assert src.mapping.roles == ROLES and src.dataset.count == 8


def test_a_swir_product_covering_part_of_the_extent_is_left_out_saying_so(
    s2_scene, tmp_path
) -> None:
    """The stack has data only where both products do: a SWIR product of the collect that
    covers half of the multispectral extent is not read, and the scaling note says why (the
    analyst keeps every pixel, with eight bands)."""
    mul = order(tmp_path, s2_scene)
    swir = next((mul.parent.parent / "058000000020_01_P001_SWR").glob("*.TIF"))
    with rasterio.open(swir) as src:
        profile, top = src.profile, src.read(window=Window(0, 0, src.width, src.height // 2))
    profile.update(height=top.shape[1])
    cropped = tmp_path / "cropped.tif"  # GDAL's create would delete the IMD beside the file
    with rasterio.open(cropped, "w", **profile) as dst:
        dst.write(top)
    cropped.replace(swir)
    product = find_product(mul)
    assert product.swir is None and product.preset == "worldview3_8band"
    assert "covers 50% of this product's extent" in product.swir_left_out
    with open_source(mul) as src:
        assert src.dataset.count == 8 and src.mapping.roles == ROLES
        assert f"not read with the collect's SWIR product {swir.name}" in src.scaling.note


def test_roles_the_analyst_gives_read_the_file_alone(s2_scene, tmp_path) -> None:
    """`--sensor` or `--bands` name the roles of the file's own eight bands: the SWIR product
    is not added, and the file is still read as reflectance by its IMD."""
    mul = order(tmp_path, s2_scene)
    for given in ({"sensor": "wv3"}, {"bands": ",".join(ROLES)}):
        with open_source(mul, **given) as src:
            assert src.dataset.count == 8 and "swir1" not in src.roles
            assert src.scaling.calibrated


def test_the_swir_product_alone_is_refused_naming_the_multispectral_one(s2_scene, tmp_path) -> None:
    """Its eight SWIR bands hold no visible or NIR band: refused in one line that says to give
    the collect's multispectral product, or --bands."""
    mul = order(tmp_path, s2_scene)
    swir = next((mul.parent.parent / "058000000020_01_P001_SWR").glob("*.TIF"))
    with pytest.raises(BandError) as refused:
        open_source(swir)
    message = str(refused.value)
    assert "WorldView-3 SWIR product" in message and "multispectral product" in message
    assert "--bands" in message and "\n" not in message


def test_catalogue_ids_of_one_collect() -> None:
    """The SWIR instrument's id differs from the VNIR one's in its fourth character alone."""
    assert same_collect(VNIR_CATALOG_ID, SWIR_CATALOG_ID)
    assert not same_collect(VNIR_CATALOG_ID, "104A01000FFFFF00")
    assert not same_collect(VNIR_CATALOG_ID, VNIR_CATALOG_ID)  # not a SWIR product's
    assert not same_collect("", SWIR_CATALOG_ID)


def test_extract_uses_mndwi_with_the_swir_bands(s2_scene, tmp_path) -> None:
    """`spex extract` on the multispectral file of the order: run.json lists the SWIR roles and
    the water index is MNDWI, not the NDWI a four- or eight-band raster without SWIR has."""
    mul = order(tmp_path, s2_scene)
    out = tmp_path / "out"
    assert main(["extract", str(mul), "--prompt", "water", "--out", str(out), "--quiet"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["bands"]["sensor"] == "worldview3_vnir_swir" and run["scaling"]["calibrated"]
    text = (out / "explanation.md").read_text()
    assert "MNDWI" in text and "no SWIR band" not in text
    with rasterio.open(out / "mask.tif") as mask:
        assert (mask.width, mask.height) == (WINDOW.width, WINDOW.height)
