"""Hiding the product's clouds (``--mask-clouds``): what its own quality band flags as cloud or
cloud shadow is nodata in every statistic and output. The product is the real Sentinel-2
sample written as a Landsat Collection 2 product (`tests.rasters`); no CFMask or Sen2Cor run
can be had offline, so the quality bands are stand-ins written here and named as such (a
cloud shadow block over the lake, as in `test_product_quality`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import gdal, ogr
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.raster.quality_bands import quality_band_of
from tests import test_more_products as more_products
from tests.rasters import LANDSAT_PRODUCT, landsat_product_folder
from tests.test_cli import run_spex
from tests.test_product_quality import SHADOW_BIT, _stand_in_qa_pixel, stand_in_shadow
from tests.test_sentinel2_safe import _zipped


def _hidden_block_polygon(qa: Path) -> ogr.Geometry:
    """The ground the stand-in's cloud shadow block covers, shrunk by a tenth of a pixel."""
    with rasterio.open(qa) as band:
        rows, cols = np.nonzero(band.read(1) & SHADOW_BIT)
        t = band.transform
    x0, y0 = t * (cols.min() + 0.1, rows.min() + 0.1)
    x1, y1 = t * (cols.max() + 0.9, rows.max() + 0.9)
    return ogr.CreateGeometryFromWkt(
        f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"
    )


def test_the_products_clouds_are_nodata_in_every_output(s2_scene: Path, tmp_path: Path) -> None:
    folder = landsat_product_folder(s2_scene, tmp_path)
    qa = _stand_in_qa_pixel(folder)
    shadow = stand_in_shadow(qa)
    plain = extract(ExtractionRequest(folder, "water", tmp_path / "plain"))
    masked = extract(ExtractionRequest(folder, "water", tmp_path / "masked", mask_clouds=True))
    small = extract(
        ExtractionRequest(folder, "water", tmp_path / "small", tile_size=64, mask_clouds=True)
    )
    with rasterio.open(masked.mask_path) as mask, rasterio.open(small.mask_path) as tiles:
        classes = mask.read(1)
        assert np.array_equal(classes, tiles.read(1))  # whatever the tiles
    assert np.array_equal(classes == 255, shadow)  # the flagged pixels, and only they
    hidden = masked.manifest["input"]["cloud_mask"]
    assert hidden["band"] == qa.name and hidden["kind"] == "QA_PIXEL"
    assert (hidden["hidden_pixels"], hidden["flagged_pixels"]) == (1600, shadow.size)
    assert plain.manifest["input"]["cloud_mask"] is None
    counts = masked.manifest["counts"]["valid_pixels"], plain.manifest["counts"]["valid_pixels"]
    assert counts[0] == counts[1] - 1600
    # the scene's statistics are taken without them: the global sample holds fewer pixels
    sampled = [r.manifest["tiling"]["sample_valid_pixels"] for r in (masked, plain)]
    assert sampled[0] < sampled[1]
    assert masked.manifest["product_quality"]["flag_pixels"]["cloud shadow"] == 0
    assert plain.manifest["product_quality"]["flag_pixels"]["cloud shadow"] == 1600
    text = masked.explanation_path.read_text(encoding="utf-8")
    assert "Clouds hidden: 5.2% of the raster (1,600 pixels)" in text, text
    assert "cloud, dilated cloud, cirrus or cloud shadow" in text
    # no polygon reaches into the hidden block, where the plain run maps water
    block = _hidden_block_polygon(qa)

    def overlap(features: Path) -> float:
        source = ogr.Open(str(features))  # held: its layer dies with it
        return sum(f.GetGeometryRef().Intersection(block).GetArea() for f in source.GetLayer(0))

    assert overlap(plain.features_path) > 0
    assert overlap(masked.features_path) == 0


def test_a_stack_of_the_products_band_files_finds_its_quality_band(
    s2_scene: Path, tmp_path: Path
) -> None:
    """The analyst's own stack of the band files (Build Virtual Raster, a band each), as the
    dock's product layer is: its sources' product gives the quality band."""
    folder = landsat_product_folder(s2_scene, tmp_path)
    files = [str(folder / f"{LANDSAT_PRODUCT}_SR_B{b}.TIF") for b in range(1, 8)]
    stack = tmp_path / "stack.vrt"
    gdal.BuildVRT(str(stack), files, separate=True).FlushCache()
    qa = folder / f"{LANDSAT_PRODUCT}_QA_PIXEL.TIF"
    assert quality_band_of(str(stack)) == (str(qa), "QA_PIXEL")
    elsewhere = tmp_path / "elsewhere.vrt"  # a mosaic of two products has no one band
    gdal.BuildVRT(str(elsewhere), [files[0], str(s2_scene)], separate=True).FlushCache()
    assert quality_band_of(str(elsewhere)) is None


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # the zip's top
def test_a_sentinel2_scl_hides_each_10m_pixel_under_its_20m_cloud(
    s2_scene: Path, tmp_path: Path
) -> None:
    """SCL is 20 m: a 10 m pixel is hidden where the SCL pixel under its centre says cloud
    shadow (3), medium or high probability cloud (8, 9) or cirrus (10); vegetation (4) and
    water (6) stay. A stand-in SCL (as above) of each of them in blocks; the product given as
    QGIS's 10 m layer, as its zip and as the layer QGIS lists in the zip."""
    from bench.sentinel2_safe import layer, write_scene_window

    mtd = write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240))
    scl = next(mtd.parent.glob("GRANULE/*/IMG_DATA/R20m/*_SCL_20m.jp2"))
    with rasterio.open(scl) as band:
        profile = {k: v for k, v in band.profile.items() if k != "tiled"} | {"dtype": "uint8"}
        shape = band.shape
    classes = np.full(shape, 4, dtype="uint8")
    for i, value in enumerate((3, 6, 8, 9, 10)):
        classes[10:30, 10 + 25 * i : 30 + 25 * i] = value
    with rasterio.open(scl, "w", **profile, QUALITY=100, REVERSIBLE="YES") as dst:
        dst.write(classes, 1)
    archive = _zipped(mtd.parent, tmp_path)  # as downloaded, and QGIS's layer in it
    with rasterio.open(f"/vsizip/{archive}/{mtd.parent.name}/MTD_MSIL2A.xml") as top:
        in_zip = next(n for n in top.subdatasets if ":10m:" in n)
    for given in (layer(mtd, 10), archive, in_zip):
        found = quality_band_of(str(given))
        assert found is not None and found[0].endswith("_SCL_20m.jp2"), (given, found)
        out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
        result = extract(ExtractionRequest(given, "water", out, mask_clouds=True))
        with rasterio.open(result.mask_path) as mask:
            hidden = mask.read(1) == 255
        under = np.repeat(np.repeat(classes, 2, axis=0), 2, axis=1)[
            : hidden.shape[0], : hidden.shape[1]
        ]
        assert np.array_equal(hidden, np.isin(under, (3, 8, 9, 10))), given
        assert result.manifest["input"]["cloud_mask"]["hidden_pixels"] == 4 * 4 * 400


def test_the_command_line_refuses_what_it_cannot_hide(s2_scene: Path, tmp_path: Path) -> None:
    """A raster with no quality band beside it, and an instruction that asks for the clouds
    hidden: one line each, no traceback, no output folder."""
    none = run_spex("extract", s2_scene, "--prompt", "water", "--out", tmp_path / "a",
                    "--mask-clouds")  # fmt: skip
    assert none.returncode != 0 and "Traceback" not in none.stderr
    assert len(none.stderr.strip().splitlines()) == 1
    assert "needs its quality band beside s2l1c_T33UUU_20170216.tif" in none.stderr
    assert not (tmp_path / "a").exists()
    folder = landsat_product_folder(s2_scene, tmp_path)
    clouds = run_spex("extract", folder, "--prompt", "map the clouds", "--out", tmp_path / "b",
                      "--mask-clouds")  # fmt: skip
    assert clouds.returncode != 0 and "Traceback" not in clouds.stderr
    assert "would hide the clouds the instruction asks for" in clouds.stderr
    assert not (tmp_path / "b").exists()
    done = run_spex("extract", folder, "--prompt", "water", "--out", tmp_path / "c",
                    "--mask-clouds")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Clouds hidden: 0.0% of the raster (0 pixels)" in (
        tmp_path / "c" / "explanation.md"
    ).read_text(encoding="utf-8")


def test_a_scene_all_cloud_is_refused_naming_the_mask(s2_scene: Path, tmp_path: Path) -> None:
    """A product whose quality band flags every pixel (an overcast scene; a stand-in QA_PIXEL
    with the cloud shadow bit everywhere): `--mask-clouds` leaves nothing to classify, and
    says so in one line that names the flag and the band, not "all nodata"."""
    folder = landsat_product_folder(s2_scene, tmp_path)
    qa = _stand_in_qa_pixel(folder)
    with rasterio.open(qa, "r+") as band:
        band.write(band.read(1) | SHADOW_BIT, 1)
    done = run_spex("extract", folder, "--prompt", "water", "--out", tmp_path / "a",
                    "--mask-clouds")  # fmt: skip
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert f"--mask-clouds hid every pixel of {folder.name}: its quality band ({qa.name})" in (
        done.stderr
    )
    assert "all nodata" not in done.stderr and not (tmp_path / "a").exists()


def test_an_index_hides_the_products_clouds(s2_scene: Path, tmp_path: Path) -> None:
    """`spex indices --mask-clouds`: the index is nodata under the flagged block, the same
    values elsewhere."""
    folder = landsat_product_folder(s2_scene, tmp_path)
    qa = _stand_in_qa_pixel(folder)
    shadow = stand_in_shadow(qa)
    for name, flag in (("plain.tif", ()), ("clear.tif", ("--mask-clouds",))):
        done = run_spex("indices", folder, "--index", "NDVI", "--out", tmp_path / name, *flag)
        assert done.returncode == 0, done.stderr
    with (
        rasterio.open(tmp_path / "plain.tif") as plain,
        rasterio.open(tmp_path / "clear.tif") as clear,
    ):
        assert clear.nodata == plain.nodata
        before, after = plain.read(1, masked=True), clear.read(1, masked=True)
    assert np.array_equal(after.mask, before.mask | shadow) and not before.mask[shadow].any()
    assert np.array_equal(after[~shadow], before[~shadow])


def test_a_level1c_products_cloud_mask_hides_opaque_cloud_and_cirrus(
    s2_scene: Path, tmp_path: Path
) -> None:
    """Sentinel-2 Level-1C (baseline 04.00 on) carries MSK_CLASSI_B00.jp2: three 0/1 bands at
    60 m, opaque cloud, cirrus, snow. A stand-in (as above) with a block of each: the 10 m
    pixels under the opaque and cirrus blocks are hidden, the snow block's are not; the
    comparison counts the product's cloud and snow."""
    from bench.sentinel2_safe import layer, write_scene_window

    mtd = write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240), level="L1C")
    granule = next(mtd.parent.glob("GRANULE/*"))
    with rasterio.open(next(granule.glob("IMG_DATA/*_B01.jp2"))) as b01:  # the 60 m grid
        profile = {k: v for k, v in b01.profile.items() if k != "tiled"}
    flags = np.zeros((3, profile["height"], profile["width"]), dtype="uint8")
    for band in range(3):  # opaque, cirrus, snow: 5 x 5 blocks of 60 m pixels
        flags[band, 10:15, 5 + 10 * band : 10 + 10 * band] = 1
    classi = granule / "QI_DATA" / "MSK_CLASSI_B00.jp2"
    classi.parent.mkdir(exist_ok=True)
    with rasterio.open(classi, "w", **profile | {"count": 3, "dtype": "uint8"},
                       QUALITY=100, REVERSIBLE="YES") as dst:  # fmt: skip
        dst.write(flags)
    assert quality_band_of(str(mtd.parent)) == (str(classi), "CLASSI")
    result = extract(ExtractionRequest(layer(mtd, 10), "water", tmp_path / "out", mask_clouds=True))
    with rasterio.open(result.mask_path) as mask:
        hidden = mask.read(1) == 255
    cloudy = np.repeat(np.repeat(flags[0] | flags[1], 6, axis=0), 6, axis=1)
    assert np.array_equal(hidden, cloudy.astype(bool))
    assert result.manifest["input"]["cloud_mask"]["hidden_pixels"] == 2 * 25 * 36
    check = result.manifest["product_quality"]
    assert check["kind"] == "CLASSI" and set(check["flag_pixels"]) == {"cloud", "snow"}
    assert check["flag_pixels"] == {"cloud": 0, "snow": 25 * 36}  # the clouds are hidden
    text = result.explanation_path.read_text(encoding="utf-8")
    assert "opaque cloud or cirrus (Level-1C flags no cloud shadow)" in text


def test_a_batch_says_how_much_of_each_scene_was_hidden(s2_scene: Path, tmp_path: Path) -> None:
    """`spex batch --mask-clouds`: each product's hidden share in batch.json and in the
    closing lines; a raster with no quality band fails alone, saying why."""
    import json

    folder = landsat_product_folder(s2_scene, tmp_path)
    _stand_in_qa_pixel(folder)
    done = run_spex("batch", folder, s2_scene, "--prompt", "water", "--mask-clouds",
                    "--workers", "1", "--out", tmp_path / "batch")  # fmt: skip
    assert done.returncode == 1, done.stderr  # the plain scene failed
    assert f"hidden as the product's clouds: {LANDSAT_PRODUCT} 5.2%" in done.stdout, done.stdout
    assert "needs its quality band" in done.stdout
    record = json.loads((tmp_path / "batch" / "batch.json").read_text(encoding="utf-8"))
    shares = {scene["status"]: scene["clouds_hidden_share"] for scene in record["scenes"]}
    assert shares == {"done": 0.0521, "failed": None}


def test_examples_only_on_hidden_clouds_are_refused_saying_so(
    s2_scene: Path, tmp_path: Path
) -> None:
    """Examples the analyst put where the product's clouds are hidden fall on no valid pixel:
    one line that says the clouds are hidden, not only that the CRS may be wrong."""
    from osgeo import osr

    from spex.engine.backends.spectral.examples import load_examples
    from spex.engine.errors import InputError

    folder = landsat_product_folder(s2_scene, tmp_path)
    qa = _stand_in_qa_pixel(folder)
    with rasterio.open(qa) as band:
        rows, cols = np.nonzero(band.read(1) & SHADOW_BIT)
        transform, crs = band.transform, band.crs
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "clicks.gpkg"))
    srs = osr.SpatialReference()
    srs.ImportFromWkt(crs.to_wkt())
    layer = source.CreateLayer("clicks", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTString))
    for i in range(0, len(rows), 400):  # four points in the hidden block
        x, y = transform * (cols[i] + 0.5, rows[i] + 0.5)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("class", "water")
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({x} {y})"))
        layer.CreateFeature(feature)
    source = None  # written
    examples = load_examples(tmp_path / "clicks.gpkg")
    request = ExtractionRequest(folder, "water", tmp_path / "out", examples=examples)
    assert extract(request).manifest["backend"]["details"]["example_pixels"] == {"water": 4}
    with pytest.raises(InputError, match=r"outside the product's clouds \(--mask-clouds"):
        extract(replace(request, out_dir=tmp_path / "hidden", mask_clouds=True))
    assert not (tmp_path / "hidden").exists()


def test_a_planetscope_scenes_udm2_hides_cloud_heavy_haze_and_shadow(
    s2_scene: Path, tmp_path: Path
) -> None:
    """PlanetScope's usable data mask lies beside the analytic file: eight bands (clear, snow,
    shadow, light haze, heavy haze, cloud, confidence, unusable). A stand-in (as above) over a
    scene written as Planet's surface reflectance from the real one: blocks of cloud, heavy
    haze and shadow are hidden; light haze, snow and blackfill are not; the clipped scene takes
    the clipped UDM2."""
    order = ("blue", "green", "red", "nir")
    refl = more_products._reflectance(s2_scene, order)
    scene = tmp_path / f"{more_products.PLANET_SR}.tif"
    more_products._write(scene, s2_scene, [refl[r] for r in order], [""] * 4, dtype="uint16",
                         nodata=0)  # fmt: skip
    with rasterio.open(scene) as src:
        profile = src.profile | {"count": 8, "dtype": "uint8", "nodata": None}
        height, width = src.shape
    udm2 = np.zeros((8, height, width), dtype="uint8")
    udm2[0], udm2[6] = 1, 80  # clear, confidence 80
    blocks = {2: (10, 10), 3: (10, 40), 4: (10, 70), 5: (10, 100), 1: (50, 10)}  # band index
    for band, (row, col) in blocks.items():  # shadow, light haze, heavy haze, cloud, snow
        udm2[0, row : row + 20, col : col + 20] = 0
        udm2[band, row : row + 20, col : col + 20] = 1
    udm2[:, 80:, :] = 0  # blackfill: unusable only
    udm2[7, 80:, :] = 1
    stem = more_products.PLANET_SR.split("_3B_")[0]
    clipped = tmp_path / f"{stem}_3B_udm2_clip.tif"
    for path in (clipped, tmp_path / f"{stem}_3B_udm2.tif"):
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(udm2 if path == clipped else np.zeros_like(udm2))
    assert quality_band_of(str(scene)) == (str(clipped), "UDM2")
    result = extract(ExtractionRequest(scene, "vegetation", tmp_path / "out", mask_clouds=True))
    with rasterio.open(result.mask_path) as mask:
        hidden = mask.read(1) == 255
    expected = np.zeros((height, width), dtype=bool)
    for band in (2, 4, 5):
        row, col = blocks[band]
        expected[row : row + 20, col : col + 20] = True
    assert np.array_equal(hidden, expected)
    cloud_mask = result.manifest["input"]["cloud_mask"]
    assert (cloud_mask["kind"], cloud_mask["hidden_pixels"]) == ("UDM2", 1200)
    text = result.explanation_path.read_text(encoding="utf-8")
    assert "cloud, heavy haze or cloud shadow" in text and "Planet's usable data mask" in text
