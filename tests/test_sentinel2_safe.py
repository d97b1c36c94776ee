"""A Sentinel-2 Level-2A product opened as QGIS opens it: GDAL's SENTINEL2 driver, one layer per
resolution (``SENTINEL2_L2A:.../MTD_MSIL2A.xml:10m:EPSG_32633``), each with auxiliary layers
(AOT, WVP; at 20 m also CLD, SCL, SNW) among its reflectance bands.

Before: the 10 m layer's AOT values (~100) made the scaling's 1st percentile say that the
provider had removed the 1000 of baseline 05.09 (every reflectance 0.1 too high); the 20 m
layer's AOT, ``Aerosol Optical Thickness map (at 550nm)``, was read as the green band; the 10 m
layer had no SWIR band, the 20 m layer no visible one. The product is the real sample scene
stored as ESA stores it (`bench.sentinel2_safe`).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import gdal
from rasterio.windows import Window

from bench.sentinel2_safe import layer, scene_values, write_scene_window
from spex.engine.raster.band_names import is_auxiliary
from spex.engine.raster.dataset_open import absolute_name
from spex.engine.raster.raster_source import open_source, sampled_bands
from tests.test_cli import run_spex

gdal.UseExceptions()

#: The real scene's lakes and their shores; sides divisible by 6 (the 60 m grid).
WINDOW = Window(1024, 256, 384, 240)


@pytest.fixture(scope="module")
def product(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The product's MTD_MSIL2A.xml (baseline 05.09: 1000 added to every value)."""
    return write_scene_window(tmp_path_factory.mktemp("safe"), s2_scene, WINDOW)


def _coarse(values: np.ndarray, factor: int) -> np.ndarray:
    """`values` averaged over blocks of `factor` x `factor` pixels, then repeated over them: a
    coarser band as the finer grid holds it."""
    h, w = values.shape
    means = values.reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))
    return np.repeat(np.repeat(means, factor, axis=0), factor, axis=1)


def test_the_10m_layer_reads_reflectance_with_the_products_swir(
    product: Path, s2_scene: Path
) -> None:
    dn = scene_values(s2_scene, WINDOW)
    with open_source(layer(product, 10)) as src:
        scaling = src.scaling
        assert (scaling.scale, scaling.offset, scaling.calibrated) == (1e-4, -0.1, True)
        assert "(its own files)" in scaling.note
        roles = set(src.roles)
        assert {"blue", "green", "red", "nir", "rededge1", "swir1", "swir2"} <= roles
        got = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=("red", "nir", "swir1"))
    np.testing.assert_allclose(got["red"], dn["B04"] / 1e4, atol=1e-6)
    np.testing.assert_allclose(got["nir"], dn["B08"] / 1e4, atol=1e-6)
    # B11 is a 20 m band: each value covers its 2 x 2 pixels of the 10 m grid.
    np.testing.assert_allclose(got["swir1"], np.round(_coarse(dn["B11"], 2)) / 1e4, atol=1e-6)


def test_the_20m_layer_reads_its_visible_bands_averaged_from_the_10m_files(
    product: Path, s2_scene: Path
) -> None:
    dn = scene_values(s2_scene, WINDOW)
    with open_source(layer(product, 20)) as src:
        assert not any(is_auxiliary(d) for d in src.dataset.descriptions)
        assert {"blue", "green", "red", "nir", "swir1"} <= set(src.roles)
        assert src.scaling.offset == -0.1
        got = src.read(Window(0, 0, WINDOW.width // 2, WINDOW.height // 2), roles=("green",))
    # Green is B3's 10 m values averaged (not the aerosol map "at 550nm", not JPEG 2000's
    # wavelet level).
    green = dn["B03"].reshape(WINDOW.height // 2, 2, WINDOW.width // 2, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(got["green"], green / 1e4, atol=1e-6)


def test_a_stack_of_a_resolution_folders_files_leaves_out_its_auxiliary_layers(
    product: Path, tmp_path: Path
) -> None:
    """Every file of R20m stacked with QGIS's Build Virtual Raster (GDAL's BuildVRT): AOT, SCL
    and WVP among the bands. They take no role and stay out of the scaling's percentiles."""
    files = sorted(str(f) for f in product.parent.glob("GRANULE/*/IMG_DATA/R20m/*.jp2"))
    vrt = tmp_path / "r20m.vrt"
    gdal.BuildVRT(str(vrt), files, separate=True)
    with open_source(vrt) as src:
        names = [Path(f).stem.split("_")[2] for f in files]
        roles = dict(zip(names, src.mapping.roles, strict=True))
        sampled = sampled_bands(src.dataset, src.mapping)
        offset = src.scaling.offset
    assert {code: roles[code] for code in ("AOT", "SCL", "WVP")} == dict.fromkeys(
        ("AOT", "SCL", "WVP")
    )
    assert (roles["B8A"], roles["B11"], roles["B03"]) == ("nir", "swir1", "green")
    assert sampled == [i + 1 for i, code in enumerate(names) if code not in ("AOT", "SCL", "WVP")]
    assert offset == -0.1  # the product's own files: its 1000 stays removed


def test_values_below_the_offset_keep_it_in_the_products_own_files(
    s2_scene: Path, tmp_path: Path
) -> None:
    """An atmospheric correction leaves the darkest pixels below zero reflectance (deep water in
    SWIR): with 2% of every band below it here, the 1st percentile lies under 1000. In a stack
    from an unknown provider that means the offset was removed; in ESA's own files it cannot."""
    dn = scene_values(s2_scene, WINDOW)
    shifted = {code: v - np.percentile(v, 2) for code, v in dn.items()}
    mtd = write_scene_window(tmp_path, s2_scene, WINDOW, shifted)
    with open_source(layer(mtd, 10)) as src:
        assert src.scaling.offset == -0.1
        red = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=("red",))["red"]
    np.testing.assert_allclose(red, np.clip(np.round(shifted["B04"] + 1000), 1, None) / 1e4 - 0.1,
                               atol=1e-6)  # fmt: skip
    assert np.nanmin(red) < 0


def test_product_layers_and_quality_bands_are_auxiliary() -> None:
    for name in ("AOT, Aerosol Optical Thickness map (at 550nm)", "SCL, Scene Classification",
                 "T33UUU_20170216T102101_SCL_20m (S2A_MSIL2A_X.SAFE)", "MSK_CLDPRB_20m",
                 "LC08_L2SP_224078_20200518_20200823_02_T1_QA_PIXEL", "HLS.L30.T10SEG.v2.0.Fmask",
                 "sr_aerosol", "pixel_qa"):  # fmt: skip
        assert is_auxiliary(name), name
    for name in ("B4, central wavelength 665 nm", "SR_B4", "red", "HLS.S30.T33UUU.v2.0.B8A",
                 "scaled", "Band 1", "B11, central wavelength 1610 nm (from the 20 m layer)"):  # fmt: skip
        assert not is_auxiliary(name), name


def test_spex_extract_runs_on_the_layer_as_qgis_names_it(product: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = run_spex("extract", layer(product, 10), "--prompt", "extract the lakes",
                    "--out", out, "--quiet")  # fmt: skip
    assert done.returncode == 0, done.stderr
    explanation = (out / "explanation.md").read_text(encoding="utf-8")
    assert "`MTD_MSIL2A.xml:10m:EPSG_32633`" in explanation and "swir1" in explanation
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["input"]["path"] == layer(product, 10)  # what the analyst opened
    assert "(its own files)" in manifest["scaling"]["note"]


def test_a_level1c_layer_reads_every_band_of_its_product(s2_scene: Path, tmp_path: Path) -> None:
    """The sample scene is a Level-1C product: as ESA stores one now (one folder, each band at
    its own resolution, RADIO_ADD_OFFSET -1000), its 10 m layer reads all 13 bands, the cirrus
    band too, each coarser one repeated over its pixels of the 10 m grid."""
    dn = scene_values(s2_scene, WINDOW)
    mtd = write_scene_window(tmp_path, s2_scene, WINDOW, level="L1C")
    with open_source(layer(mtd, 10)) as src:
        assert src.mapping.sensor == "sentinel2_l1c" and len(src.roles) == 13
        assert (src.scaling.scale, src.scaling.offset) == (1e-4, -0.1)
        got = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=("blue", "cirrus"))
    np.testing.assert_allclose(got["blue"], dn["B02"] / 1e4, atol=1e-6)
    np.testing.assert_allclose(got["cirrus"], np.round(_coarse(dn["B10"], 6)) / 1e4, atol=1e-6)


def _zipped(safe: Path, folder: Path) -> Path:
    """The product's .SAFE folder zipped whole, as the Copernicus browser delivers it."""
    archive = folder / f"{safe.stem}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(safe.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(safe.parent))
    return archive


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # the zip's top
def test_a_zipped_product_as_downloaded_reads_alike(product: Path, tmp_path: Path) -> None:
    """The product as the Copernicus browser delivers it, a zip of its .SAFE folder, which QGIS
    opens without unpacking: the layer's name holds a /vsizip/ path."""
    safe = product.parent
    archive = _zipped(safe, tmp_path)
    with rasterio.open(f"/vsizip/{archive}/{safe.name}/MTD_MSIL2A.xml") as top:
        name = next(n for n in top.subdatasets if ":10m:" in n)  # as QGIS lists the layers
    with open_source(name) as zipped, open_source(layer(product, 10)) as unpacked:
        assert zipped.mapping.roles == unpacked.mapping.roles and "swir1" in zipped.roles
        assert zipped.scaling == unpacked.scaling
        whole = Window(0, 0, zipped.width, zipped.height)
        for role, values in zipped.read(whole).items():
            np.testing.assert_array_equal(values, unpacked.read(whole, roles=(role,))[role])


def test_another_process_reopens_a_gdal_dataset_name_as_it_is() -> None:
    name = "SENTINEL2_L2A:/data/S2A_MSIL2A_X.SAFE/MTD_MSIL2A.xml:10m:EPSG_32633"
    assert absolute_name(name) == name
    assert (
        absolute_name("/vsizip//data/product.zip/scene.tif")
        == "/vsizip//data/product.zip/scene.tif"
    )
    assert absolute_name("scene.tif") == str(Path.cwd() / "scene.tif")


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # the zip's top
def test_a_product_given_whole_reads_as_its_10m_layer(product: Path, tmp_path: Path) -> None:
    """`spex extract S2A_MSIL2A_....zip` as downloaded, its unpacked .SAFE folder or its
    MTD_MSIL2A.xml: GDAL opens each as a list of layers with no band of its own (the engine
    said "the raster has 0 bands"); each reads as the 10 m layer QGIS lists first."""
    safe = product.parent
    archive = _zipped(safe, tmp_path)
    whole = Window(0, 0, WINDOW.width, WINDOW.height)
    with open_source(layer(product, 10)) as ten:
        expected = ten.read(whole, roles=("red", "swir1"))
        for given in (archive, safe, product):
            with open_source(given) as src:
                assert src.mapping.roles == ten.mapping.roles and src.scaling == ten.scaling
                assert src.path.name == "MTD_MSIL2A.xml:10m:EPSG_32633"
                got = src.read(whole, roles=("red", "swir1"))
            for role, values in expected.items():
                np.testing.assert_array_equal(got[role], values, err_msg=f"{given.name} {role}")
    out = tmp_path / "run"
    done = run_spex("extract", archive, "--prompt", "extract the lakes", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "`MTD_MSIL2A.xml:10m:EPSG_32633`" in (out / "explanation.md").read_text("utf-8")
