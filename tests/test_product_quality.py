"""The result against the product's own quality band (Landsat's QA_PIXEL, HLS's Fmask), on
the real sample written as a Landsat Collection 2 product. No CFMask run can be had offline,
so its QA_PIXEL is a stand-in written here, named as one: the water bit where the scene's NDWI
is high, the cloud shadow bit over a block of the lake, as CFMask sets them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio

from spex.engine import ExtractionRequest, extract
from spex.engine.raster.quality_bands import quality_band_of
from tests.rasters import LANDSAT_PRODUCT, landsat_product_folder, write_band
from tests.test_cli import run_spex
from tests.test_hls_granules import GRANULE, write_granule

WATER_BIT, SHADOW_BIT, CLEAR = 1 << 7, 1 << 4, 1 << 6


def stand_in_shadow(qa: Path) -> np.ndarray:
    """Where the stand-in QA_PIXEL `qa` (`_stand_in_qa_pixel`) flags cloud shadow."""
    with rasterio.open(qa) as band:
        return (band.read(1) & SHADOW_BIT) > 0


def _stand_in_qa_pixel(folder: Path) -> Path:
    """QA_PIXEL from the product's own bands (a stand-in for CFMask's): water where NDWI
    > 0.3, cloud shadow over the 40 x 40 block of the water at its centre."""
    bands = {
        b: rasterio.open(folder / f"{LANDSAT_PRODUCT}_SR_B{b}.TIF").read(1) * 2.75e-5 - 0.2
        for b in (3, 5)
    }
    ndwi = (bands[3] - bands[5]) / (bands[3] + bands[5] + 1e-9)
    qa = np.where(ndwi > 0.3, WATER_BIT, CLEAR).astype("uint16")
    rows, cols = np.nonzero(ndwi > 0.3)
    r, c = int(np.median(rows)), int(np.median(cols))
    qa[r - 20 : r + 20, c - 20 : c + 20] |= SHADOW_BIT
    path = folder / f"{LANDSAT_PRODUCT}_QA_PIXEL.TIF"
    with rasterio.open(folder / f"{LANDSAT_PRODUCT}_SR_B3.TIF") as like:
        write_band(path, qa, like.profile)
    return path


def test_the_result_is_compared_with_the_products_qa_pixel(s2_scene: Path, tmp_path: Path) -> None:
    folder = landsat_product_folder(s2_scene, tmp_path)
    qa = _stand_in_qa_pixel(folder)
    assert quality_band_of(str(folder)) == (str(qa), "QA_PIXEL")
    assert quality_band_of(str(folder / f"{LANDSAT_PRODUCT}_MTL.txt")) == (str(qa), "QA_PIXEL")
    inspected = run_spex("inspect", folder)
    assert f"Quality band: {qa.name} (CFMask's flags)" in inspected.stdout, inspected.stderr
    assert "cloud, dilated cloud, cirrus or cloud shadow: 5.2% of the raster)" in inspected.stdout
    result = extract(ExtractionRequest(folder, "water and vegetation", tmp_path / "out"))
    check = json.loads(result.manifest_path.read_text(encoding="utf-8"))["product_quality"]
    assert check["band"] == qa.name and check["kind"] == "QA_PIXEL"
    with rasterio.open(result.mask_path) as mask, rasterio.open(qa) as band:
        classes, bits = mask.read(1), band.read(1)
    water = classes == 1
    assert check["target_pixels"]["water"] == int(water.sum())
    assert check["flagged"]["water"]["water"] == int((water & (bits & WATER_BIT > 0)).sum())
    assert check["flag_pixels"]["cloud shadow"] == 1600
    # the result agrees with the product's water; the shadow block lies in the water
    assert check["flagged"]["water"]["water"] / check["flag_pixels"]["water"] > 0.8
    text = result.explanation_path.read_text(encoding="utf-8")
    assert "## Against the product's own quality band" in text
    assert "| water | " in text and "pixels the product flags water" in text
    shadow = check["flagged"]["water"]["cloud shadow"] / check["target_pixels"]["water"]
    said = f"water: the product's own quality band flags {shadow:.0%} of it as cloud shadow"
    assert (said in text) == (shadow >= 0.05)


def test_no_quality_band_no_comparison(s2_scene: Path, tmp_path: Path) -> None:
    """A product without its quality band, or any other raster: nothing is compared."""
    folder = landsat_product_folder(s2_scene, tmp_path)
    (folder / f"{LANDSAT_PRODUCT}_QA_PIXEL.TIF").unlink()
    assert quality_band_of(str(folder)) is None
    assert quality_band_of(str(s2_scene)) is None
    result = extract(ExtractionRequest(s2_scene, "water", tmp_path / "plain"))
    assert json.loads(result.manifest_path.read_text(encoding="utf-8"))["product_quality"] is None


def test_an_hls_granules_fmask_is_found(s2_scene: Path, tmp_path: Path) -> None:
    folder = write_granule(s2_scene, tmp_path / "granule")
    fmask = folder / f"{GRANULE}.Fmask.tif"
    assert quality_band_of(str(folder)) == (str(fmask), "Fmask")
    assert quality_band_of(str(folder / f"{GRANULE}.B04.tif")) == (str(fmask), "Fmask")


def test_a_sentinel2_products_scene_classification_is_read_under_each_pixel(
    s2_scene: Path, tmp_path: Path
) -> None:
    """Sentinel-2 L2A's SCL is 20 m under a 10 m result: each result pixel takes the class
    under its centre. A stand-in SCL (as above): water (6) where the 20 m NDWI is high, cloud
    shadow (3) elsewhere; given as the .SAFE, as its metadata file and as QGIS's 10 m layer."""
    from rasterio.windows import Window

    from bench.sentinel2_safe import layer, write_scene_window

    mtd = write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240))
    scl = next(mtd.parent.glob("GRANULE/*/IMG_DATA/R20m/*_SCL_20m.jp2"))
    b03 = next(mtd.parent.glob("GRANULE/*/IMG_DATA/R20m/*_B03_20m.jp2"))
    b11 = next(mtd.parent.glob("GRANULE/*/IMG_DATA/R20m/*_B11_20m.jp2"))
    with rasterio.open(b03) as g, rasterio.open(b11) as s:
        green, swir = g.read(1).astype(float), s.read(1).astype(float)
        profile = {k: v for k, v in g.profile.items() if k != "tiled"} | {"dtype": "uint8"}
    classes = np.where((green - swir) / (green + swir + 1e-9) > 0.2, 6, 3).astype("uint8")
    with rasterio.open(scl, "w", **profile, QUALITY=100, REVERSIBLE="YES") as dst:
        dst.write(classes, 1)
    with rasterio.open(scl) as written:
        assert np.array_equal(written.read(1), classes)  # lossless
    for given in (mtd.parent, mtd, layer(mtd, 10)):
        assert quality_band_of(str(given)) == (str(scl), "SCL"), given
    result = extract(ExtractionRequest(layer(mtd, 10), "water", tmp_path / "out"))
    check = json.loads(result.manifest_path.read_text(encoding="utf-8"))["product_quality"]
    with rasterio.open(result.mask_path) as mask:
        water = mask.read(1) == 1
    under = np.repeat(np.repeat(classes, 2, axis=0), 2, axis=1)  # each 10 m pixel's 20 m class
    assert check["kind"] == "SCL" and check["target_pixels"]["water"] == int(water.sum())
    assert check["flagged"]["water"]["water"] == int((water & (under == 6)).sum())
    assert check["flag_pixels"]["water"] == int((under == 6).sum())
    assert "Sen2Cor's scene classification" in result.explanation_path.read_text(encoding="utf-8")


def test_a_landsat_tar_s_qa_pixel_is_read_inside_it(s2_scene: Path, tmp_path: Path) -> None:
    """The product as EarthExplorer delivers it, a .tar: its QA_PIXEL is read inside it."""
    import tarfile

    folder = landsat_product_folder(s2_scene, tmp_path)
    _stand_in_qa_pixel(folder)
    archive = tmp_path / f"{LANDSAT_PRODUCT}.tar"
    with tarfile.open(archive, "w") as tar:
        for file in sorted(folder.iterdir()):
            tar.add(file, arcname=file.name)
    band, kind = quality_band_of(str(archive))
    assert kind == "QA_PIXEL" and band.startswith(f"/vsitar/{archive}/")
    result = extract(ExtractionRequest(archive, "water", tmp_path / "out"))
    check = json.loads(result.manifest_path.read_text(encoding="utf-8"))["product_quality"]
    assert check["flag_pixels"]["cloud shadow"] == 1600
