"""A Landsat product given whole, as USGS delivers it (its folder of band files, its .tar, its MTL
file), reads as its reflectance bands stacked in band order: before, a folder was "a folder;
give a raster file", a .tar or an MTL could not be read at all. The bands are the real
Sentinel-2 sample scene's reflectance, written as Collection 2 Level-2 files store it."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine.errors import BandError, InputError
from spex.engine.raster.raster_source import open_source
from tests.rasters import LANDSAT_PRODUCT, LANDSAT_WINDOW, landsat_product_folder
from tests.rasters import write_band as _write
from tests.test_cli import run_spex

PRODUCT = LANDSAT_PRODUCT
WINDOW = LANDSAT_WINDOW


@pytest.fixture(scope="module")
def product(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The product's folder (`tests.rasters.landsat_product_folder`)."""
    return landsat_product_folder(s2_scene, tmp_path_factory.mktemp("landsat"))


def test_its_folder_tar_and_mtl_read_as_the_products_bands(
    product: Path, s2_scene: Path, tmp_path: Path
) -> None:
    archive = tmp_path / f"{PRODUCT}.tar"
    with tarfile.open(archive, "w") as tar:
        for file in sorted(product.iterdir()):
            tar.add(file, arcname=file.name)
    whole = Window(0, 0, WINDOW.width, WINDOW.height)
    with rasterio.open(s2_scene) as src:
        index = {d: i for i, d in enumerate(src.descriptions, start=1)}
        nir = src.read(index["B8A"], window=WINDOW) / 1e4
    for given in (product, archive, product / f"{PRODUCT}_MTL.txt"):
        with open_source(given) as src:
            assert src.mapping.roles == (
                "coastal", "blue", "green", "red", "nir", "swir1", "swir2"
            ), given  # fmt: skip
            assert src.mapping.sensor == "landsat8_9_oli"
            assert (src.scaling.scale, src.scaling.offset) == (2.75e-5, -0.2)
            assert src.path == Path(given)  # what the analyst gave, in reports
            got = src.read(whole, roles=("nir",))["nir"]
        np.testing.assert_allclose(got, nir, atol=2e-5, err_msg=str(given))


def test_extract_runs_on_the_products_folder(product: Path, tmp_path: Path) -> None:
    out = tmp_path / "lakes"
    done = run_spex("extract", product, "--prompt", "extract the lakes", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    explanation = (out / "explanation.md").read_text(encoding="utf-8")
    assert f"`{PRODUCT}`" in explanation and "swir1" in explanation


def test_a_folder_of_two_dates_or_of_no_product_is_refused(product: Path, tmp_path: Path) -> None:
    two = tmp_path / "two"
    two.mkdir()
    for file in product.glob("*_SR_B*.TIF"):
        (two / file.name).symlink_to(file)
        (two / file.name.replace("20230315", "20230331")).symlink_to(file)
    with pytest.raises(InputError, match=r"holds the band files of 2 Landsat products .*MTL"):
        open_source(two)
    (two / f"{PRODUCT}_MTL.txt").write_text((product / f"{PRODUCT}_MTL.txt").read_text())
    with open_source(two / f"{PRODUCT}_MTL.txt") as src:  # as the refusal says
        assert len(src.roles) == 7
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        open_source(tmp_path / "empty")


def test_a_level1_folder_leaves_out_the_panchromatic_band(s2_scene: Path, tmp_path: Path) -> None:
    """Level-1 OLI: B1..B11 as digital numbers (DN = (reflectance + 0.1) / 2e-5); B8 (15 m) is
    on another grid and left out. Its .tar with the MTL inside is calibrated by that MTL."""
    level1 = "LC08_L1TP_193023_20230315_20230317_02_T1"
    folder = tmp_path / level1
    folder.mkdir()
    with rasterio.open(s2_scene) as src:
        dn = np.round((src.read(1, window=WINDOW) / 1e4 + 0.1) / 2e-5).astype("uint16")
        profile = src.profile | {
            "width": WINDOW.width,
            "height": WINDOW.height,
            "transform": src.window_transform(WINDOW),
        }
    for band in (*range(1, 8), 9, 10, 11):
        _write(folder / f"{level1}_B{band}.TIF", dn, profile)
    pan = profile | {"width": 2 * WINDOW.width, "height": 2 * WINDOW.height}
    _write(folder / f"{level1}_B8.TIF", np.repeat(np.repeat(dn, 2, 0), 2, 1), pan)
    with open_source(folder) as src:
        assert src.dataset.count == 10
        assert not any(f.endswith("_B8.TIF") for f in src.dataset.files)
        assert src.mapping.roles[:7] == ("coastal", "blue", "green", "red", "nir", "swir1", "swir2")
        assert src.scaling.source.endswith("sun elevation computed")  # no MTL anywhere
    (folder / f"{level1}_MTL.txt").write_text(
        "SUN_ELEVATION = 30.0\n"
        + "".join(
            f"REFLECTANCE_MULT_BAND_{b} = 2.0E-05\nREFLECTANCE_ADD_BAND_{b} = -0.1\n"
            for b in range(1, 10)
        )
    )
    archive = tmp_path / f"{level1}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=level1)  # in a folder of its own inside, as some tools pack
    for given in (folder, archive):
        with open_source(given) as src:
            assert src.scaling.source == f"product {level1}, MTL", given
            assert src.scaling.scale == pytest.approx(4e-5)  # / sin(30 deg)


def test_one_band_file_of_a_product_names_the_product_to_give(
    product: Path, s2_scene: Path, tmp_path: Path
) -> None:
    """A band file dragged in alone has no band roles to read; the refusal says which product
    it belongs to and what to give (it listed band roles to choose from)."""
    band = product / f"{PRODUCT}_SR_B4.TIF"
    with pytest.raises(BandError, match=rf"is one band of Landsat product {PRODUCT}; give the"):
        open_source(band)
    safe = "S2B_MSIL2A_20230315T103629_N0509_R008_T32UPU_20230315T134106.SAFE"
    folder = tmp_path / safe / "GRANULE" / "L2A_T32UPU" / "IMG_DATA" / "R10m"
    folder.mkdir(parents=True)
    jp2 = folder / "T32UPU_20230315T103629_B04_10m.jp2"
    with rasterio.open(s2_scene) as src:
        profile = src.profile | {"driver": "JP2OpenJPEG", "count": 1, "width": 64, "height": 64}
        profile.pop("compress", None)
        profile.pop("tiled", None)
        profile.pop("blockxsize", None)
        profile.pop("blockysize", None)
        profile.pop("interleave", None)
        _write(jp2, src.read(4, window=Window(0, 0, 64, 64)), profile)
    done = run_spex("extract", jp2, "--prompt", "water", "--out", tmp_path / "out")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"is one band of Sentinel-2 product {safe}; give the product" in done.stderr
