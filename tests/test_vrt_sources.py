"""A virtual raster stacked from a product's band files (QGIS's Build Virtual Raster, one file per
band) is read by its files' names, and one over multi-band files (a mosaic, a clip) by its
sources' band descriptions: no flag needed, as for the product's own stack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import gdal
from rasterio.windows import Window

from bench.scenes import benchmark_scenes
from spex.engine.errors import BandError
from spex.engine.raster.raster_source import open_source
from spex.engine.raster.vrt_sources import vrt_band_names
from tests.rasters import crop_raster
from tests.scene_sources import needs_benchmark

gdal.UseExceptions()


def _band_files(source: Path, folder: Path, names: dict[int, str]) -> list[str]:
    """One single-band GeoTIFF per `names` entry (band index -> file name), real values."""
    out = []
    with rasterio.open(source) as src:
        profile = src.profile | {"count": 1}
        for band, name in names.items():
            path = folder / name
            with rasterio.open(path, "w", **profile) as dst:
                dst.write(src.read(band), 1)
            out.append(str(path))
    return out


def _description_band(s2: Path) -> dict[str, int]:
    with rasterio.open(s2) as src:
        return {d: i for i, d in enumerate(src.descriptions, start=1)}


def test_a_stack_of_sentinel2_band_files_is_read_by_their_names(s2_scene, tmp_path) -> None:
    index = _description_band(s2_scene)
    names = {index[b]: f"T33UUU_20170216T102101_B0{b[1:]}.tif" for b in ("B2", "B3", "B4", "B8")}
    files = _band_files(s2_scene, tmp_path, names)
    stack = tmp_path / "stack.vrt"
    gdal.BuildVRT(str(stack), files, separate=True)
    assert vrt_band_names(stack, 4) == [Path(f).stem for f in files]
    with open_source(stack) as src:
        assert src.mapping.roles == ("blue", "green", "red", "nir")
        assert src.mapping.sensor in ("sentinel2_l1c", "sentinel2_l2a")
        assert src.scaling.scale == 1e-4 and src.scaling.calibrated
    # The same bands in a GeoTIFF without descriptions: nothing names them.
    plain = tmp_path / "plain.tif"
    gdal.Translate(str(plain), str(stack))
    with pytest.raises(BandError, match="cannot tell the band roles"):
        open_source(plain)


def test_a_band_of_several_files_or_a_file_that_is_not_a_vrt_names_nothing(
    s2_scene, tmp_path
) -> None:
    index = _description_band(s2_scene)
    files = _band_files(s2_scene, tmp_path, {index["B4"]: "a_B04.tif", index["B8"]: "b_B08.tif"})
    mosaic = tmp_path / "mosaic.vrt"
    gdal.BuildVRT(str(mosaic), files)  # one band, two files
    assert vrt_band_names(mosaic, 1) == [None]
    assert vrt_band_names(s2_scene, 13) == [None] * 13
    broken = tmp_path / "broken.vrt"
    broken.write_text("<VRTDataset><VRTRasterBand band='1'>")
    assert vrt_band_names(broken, 1) == [None]


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
@needs_benchmark
def test_a_stack_of_landsat_level1_band_files_is_oli_top_of_atmosphere(tmp_path) -> None:
    """The real Level-1 patch split into the files USGS names (..._B2.TIF ... _B5.TIF): B2..B5
    fit Sentinel-2 too, the identifier in the names says OLI and Level-1."""
    scene = next(s for s in benchmark_scenes() if s.name == "c38_l8_cloud")
    product = "LC08_L1TP_002053_20160520_20170324_01_T1"
    names = {i: f"{product}_B{b}.TIF" for i, b in enumerate((2, 3, 4, 5), start=1)}
    stack = tmp_path / "stack.vrt"
    # The patch has no CRS: BuildVRT needs a north-up grid, the VRT text is written directly.
    files = _band_files(scene.rasters[0][0], tmp_path, names)
    bands = "".join(
        f'<VRTRasterBand dataType="UInt16" band="{i}"><SimpleSource>'
        f'<SourceFilename relativeToVRT="1">{Path(f).name}</SourceFilename>'
        f"<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>"
        for i, f in enumerate(files, start=1)
    )
    stack.write_text(f'<VRTDataset rasterXSize="384" rasterYSize="384">{bands}</VRTDataset>')
    with open_source(stack) as src:
        assert src.mapping.roles == ("blue", "green", "red", "nir")
        assert src.mapping.sensor == "landsat8_9_oli"
        assert src.scaling.source == f"product {product}, sun elevation computed"
    # The product's MTL file beside its band files (the VRT in a folder of its own): calibrated.
    (tmp_path / f"{product}_MTL.txt").write_text(
        "SUN_ELEVATION = 30.0\n"
        + "".join(
            f"REFLECTANCE_MULT_BAND_{b} = 2.0E-05\nREFLECTANCE_ADD_BAND_{b} = -0.1\n"
            for b in range(1, 10)
        )
    )
    elsewhere = tmp_path / "project" / "stack.vrt"
    elsewhere.parent.mkdir()
    elsewhere.write_text(
        stack.read_text().replace('relativeToVRT="1">', f'relativeToVRT="0">{tmp_path}/')
    )
    with open_source(elsewhere) as src:
        assert src.scaling.calibrated and src.scaling.source.endswith("MTL")
        assert src.scaling.scale == pytest.approx(4e-5)  # / sin(30 deg)


def test_band_files_inside_a_sentinel2_product_carry_its_name(s2_scene, tmp_path) -> None:
    """Band files in a .SAFE product are named by tile and date; the product folder gives the
    level and processing baseline: stored as baseline 05.09 does (+1000), read without it."""
    safe = "S2B_MSIL2A_20230315T103629_N0509_R008_T32UPU_20230315T134106.SAFE"
    folder = tmp_path / safe / "GRANULE" / "L2A_T32UPU_A031234_20230315T103629" / "IMG_DATA"
    folder.mkdir(parents=True)
    files = []
    with rasterio.open(s2_scene) as src:
        index = {d: i for i, d in enumerate(src.descriptions, start=1)}
        for band in ("B2", "B3", "B4", "B8"):
            data = src.read(index[band])
            path = folder / f"T32UPU_20230315T103629_B0{band[1:]}_10m.tif"
            with rasterio.open(path, "w", **(src.profile | {"count": 1})) as dst:
                dst.write(np.where(data > 0, data + 1000, 0).astype(data.dtype), 1)
            files.append(str(path))
    stack = tmp_path / "stack.vrt"  # beside the product, not in it
    gdal.BuildVRT(str(stack), files, separate=True)
    assert vrt_band_names(stack, 4)[0] == f"T32UPU_20230315T103629_B02_10m ({safe})"
    with open_source(stack) as src:
        assert src.mapping.roles == ("blue", "green", "red", "nir")
        assert src.scaling.source == f"product {safe.removesuffix('.SAFE')}"
        assert src.scaling.offset == pytest.approx(-0.1)


def test_a_stack_of_subdatasets_is_read_by_their_names(s2_scene, tmp_path) -> None:
    """QGIS opens each variable of a MODIS HDF or NetCDF file as a subdataset
    (``NETCDF:"file.nc":sur_refl_b01``); a virtual raster of them is read by the subdatasets'
    names (MODIS's order: red, NIR, blue), not by the file's stem. Real subdatasets of a NetCDF
    file written with the real scene's reflectance x 10000."""
    order = {"sur_refl_b01": "red", "sur_refl_b02": "nir", "sur_refl_b03": "blue"}
    with open_source(s2_scene) as src:
        refl = src.read(rasterio.windows.Window(0, 0, 48, 32), roles=tuple(order.values()))
    nc = gdal.GetDriverByName("netCDF").CreateMultiDimensional(str(tmp_path / "MOD09A1.nc"))
    root = nc.GetRootGroup()
    dims = [root.CreateDimension("y", None, None, 32), root.CreateDimension("x", None, None, 48)]
    for name, role in order.items():
        array = root.CreateMDArray(name, dims, gdal.ExtendedDataType.Create(gdal.GDT_Int16))
        array.Write(np.round(refl[role] * 10000).astype("int16"))
    del array, dims, root, nc  # closes the file
    subdatasets = [name for name, _ in gdal.Open(str(tmp_path / "MOD09A1.nc")).GetSubDatasets()]
    assert subdatasets[0].startswith("NETCDF:") and subdatasets[0].endswith(":sur_refl_b01")
    stack = tmp_path / "stack.vrt"
    gdal.BuildVRT(str(stack), subdatasets, separate=True)
    with open_source(stack) as src:
        assert src.mapping.sensor == "modis_surface_reflectance"
        assert src.mapping.roles == tuple(order.values())
        got = src.read(rasterio.windows.Window(0, 0, 48, 32))
    for subdataset, role in zip(subdatasets, order.values(), strict=True):
        with rasterio.open(subdataset) as variable:  # as GDAL reads it (rows bottom-up or not)
            expected = variable.read(1) * 1e-4
        np.testing.assert_allclose(got[role], expected, atol=1e-6, err_msg=role)


def test_a_mosaic_of_a_scenes_tiles_keeps_its_band_descriptions(s2_scene, tmp_path) -> None:
    """gdalbuildvrt over multi-band tiles (QGIS's Build Virtual Raster without "separate") writes
    no band descriptions; each band takes its tiles' own, so the mosaic reads as the scene does,
    pixel for pixel."""
    with rasterio.open(s2_scene) as src:
        half, width = src.width // 2, src.width
    tiles = [
        str(crop_raster(s2_scene, tmp_path / f"tile_{i}.tif", window))
        for i, window in enumerate(((0, 0, half, 64), (half, 0, width - half, 64)))
    ]
    mosaic = tmp_path / "mosaic.vrt"
    gdal.BuildVRT(str(mosaic), tiles)
    with rasterio.open(mosaic) as vrt:
        assert not any(vrt.descriptions)  # what GDAL writes: nothing names the bands
    whole = Window(0, 0, 2 * half, 64)
    with open_source(s2_scene) as scene, open_source(mosaic) as src:
        assert src.mapping == scene.mapping
        assert src.scaling.scale == scene.scaling.scale
        expected = scene.read(whole, roles=("red", "nir"))
        got = src.read(whole, roles=("red", "nir"))
    for role in ("red", "nir"):
        np.testing.assert_array_equal(got[role], expected[role])
    # Tiles that describe a band differently name it nothing: the refusal stands.
    with rasterio.open(tiles[1], "r+") as dst:
        dst.set_band_description(1, "B2")
    gdal.BuildVRT(str(mosaic), tiles)
    assert vrt_band_names(mosaic, 13)[0] is None


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
@needs_benchmark
def test_a_vrt_over_a_named_product_file_is_that_product(tmp_path) -> None:
    """A VRT clipped from the Level-1 patch distributed under its product identifier: the
    identifier in its source file's name says OLI Level-1, as the file itself does."""
    scene = next(s for s in benchmark_scenes() if s.name == "c38_l8_cloud")
    product = "LC08_L1TP_002053_20160520_20170324_01_T1"
    named = tmp_path / f"{product}.TIF"
    named.symlink_to(Path(scene.rasters[0][0]).resolve())
    bands = "".join(
        f'<VRTRasterBand dataType="UInt16" band="{b}"><SimpleSource>'
        f"<SourceFilename>{named}</SourceFilename><SourceBand>{b}</SourceBand>"
        f'<SrcRect xOff="0" yOff="0" xSize="128" ySize="128"/>'
        f'<DstRect xOff="0" yOff="0" xSize="128" ySize="128"/></SimpleSource></VRTRasterBand>'
        for b in range(1, 5)
    )
    clip = tmp_path / "project" / "clip.vrt"
    clip.parent.mkdir()
    clip.write_text(f'<VRTDataset rasterXSize="128" rasterYSize="128">{bands}</VRTDataset>')
    with open_source(named) as whole, open_source(clip) as src:
        assert src.mapping.roles == whole.mapping.roles == ("blue", "green", "red", "nir")
        assert src.scaling.source == whole.scaling.source
        assert src.scaling.source == f"product {product}, sun elevation computed"


def test_a_stack_of_bands_of_different_types_is_read(s2_scene, tmp_path) -> None:
    """Build Virtual Raster over integer band files and one float band (an index or a DEM an
    analyst added): rasterio reads bands of one type only, and every run was a traceback
    ("more than one 'dtype' found"). The bands are read as float32, with their files' names,
    each with its own nodata value (0 for the integer files, -9999 for the float one; only
    the first band's was taken for all)."""
    index = _description_band(s2_scene)
    names = {index[b]: f"T33UUU_20170216T102101_B0{b[1:]}.tif" for b in ("B2", "B3", "B4", "B8")}
    files = _band_files(s2_scene, tmp_path, names)
    as_float = str(tmp_path / "float" / Path(files[3]).name)  # B08 as float32, -9999 nodata
    Path(as_float).parent.mkdir()
    gdal.Translate(as_float, files[3], outputType=gdal.GDT_Float32, noData=-9999)
    with rasterio.open(as_float, "r+") as band:
        values = band.read(1)
        values[256:288, 1024:1056] = -9999  # a gap in this band only
        band.write(values, 1)
    files[3] = as_float
    stack = tmp_path / "stack.vrt"
    gdal.BuildVRT(str(stack), files, separate=True)
    with rasterio.open(stack) as vrt:
        assert vrt.dtypes == ("uint16", "uint16", "uint16", "float32")
    window = Window(1024, 256, 128, 96)
    with open_source(stack) as src, open_source(s2_scene) as scene:
        assert src.mapping.roles == ("blue", "green", "red", "nir")
        raw = src.read_raw(window, ("red", "nir"))
        expected = scene.read_raw(window, ("red", "nir"))
    assert raw.dtype == np.float32
    gap = (slice(0, 32), slice(0, 32))
    np.testing.assert_array_equal(raw[0], expected[0].astype(np.float32))
    np.testing.assert_array_equal(raw[1][32:], expected[1][32:].astype(np.float32))
    # Each band's own nodata: the float band's -9999 is nodata in every role read with it.
    with open_source(stack) as src:
        read = src.read(window, ("red", "nir"))
    assert np.isnan(read["red"][gap]).all() and np.isnan(read["nir"][gap]).all()
    assert not np.isnan(read["red"][32:]).any()
    # The same VRT built again over other files is read as it is now, not as it was read.
    gdal.BuildVRT(str(stack), [files[2], files[1], files[0], files[3]], separate=True)
    with open_source(stack) as src:
        assert src.mapping.roles == ("red", "green", "blue", "nir")
