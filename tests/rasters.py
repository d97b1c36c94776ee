"""Writing small GeoTIFFs for tests (synthetic rasters are for geometry, tiling and scale)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

from bench.spectrometer_raster import (  # noqa: F401  (the tests' spectrometer raster)
    SPECTROMETER_BAD,
    SPECTROMETER_NM,
    spectrometer_copy,
)


def write_raster(
    path: Path,
    array: np.ndarray,
    crs: str = "EPSG:32633",
    transform: object | None = None,
    nodata: float | None = None,
    descriptions: Sequence[str] | None = None,
) -> Path:
    """Write a (bands, rows, cols) array as a GeoTIFF and return its path."""
    if array.ndim == 2:
        array = array[None]
    transform = transform or from_origin(500_000.0, 5_800_000.0, 10.0, 10.0)
    profile = {
        "driver": "GTiff",
        "width": array.shape[2],
        "height": array.shape[1],
        "count": array.shape[0],
        "dtype": array.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array)
        for i, name in enumerate(descriptions or [], start=1):
            dst.set_band_description(i, name)
    return path


def crop_raster(src_path: Path, dst_path: Path, window: tuple[int, int, int, int]) -> Path:
    """Copy a (col, row, width, height) window of a raster to a new GeoTIFF."""
    from rasterio.windows import Window

    with rasterio.open(src_path) as src:
        win = Window(*window)
        profile = src.profile | {
            "width": window[2],
            "height": window[3],
            "transform": src.window_transform(win),
        }
        profile.pop("blockxsize", None)
        profile.pop("blockysize", None)
        profile["tiled"] = False
        with rasterio.open(dst_path, "w", **profile) as dst:
            dst.write(src.read(window=win))
            for i, name in enumerate(src.descriptions, start=1):
                if name:
                    dst.set_band_description(i, name)
    return dst_path


def ungeoreferenced_copy(src_path: Path, dst_path: Path, window: tuple[int, int, int, int]) -> Path:
    """Copy a (col, row, width, height) window with no CRS and an identity transform, as
    scanned or exported imagery often comes (e.g. the ukis cloud-mask scenes)."""
    import warnings

    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.windows import Window

    with rasterio.open(src_path) as src:
        data = src.read(window=Window(*window))
        descriptions = src.descriptions
    profile = {
        "driver": "GTiff",
        "width": window[2],
        "height": window[3],
        "count": data.shape[0],
        "dtype": data.dtype.name,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(dst_path, "w", **profile) as dst:
            dst.write(data)
            for i, name in enumerate(descriptions, start=1):
                if name:
                    dst.set_band_description(i, name)
    return dst_path


def gcp_placed_copy(
    src_path: Path, dst_path: Path, window: tuple[int, int, int, int], srs: str | None
) -> Path:
    """Copy a (col, row, width, height) window placed only by four GCPs on its true corners
    (in `srs`, or with no CRS for them when None), with no geotransform: as raw Level-1 or
    scanned imagery comes before it is warped."""
    from osgeo import gdal

    col, row, width, height = window
    with rasterio.open(src_path) as src:
        corners = [
            (c, r, *(src.transform * (col + c, row + r))) for c in (0, width) for r in (0, height)
        ]
    gcps = [gdal.GCP(x, y, 0, c, r) for c, r, x, y in corners]
    options = gdal.TranslateOptions(srcWin=window, GCPs=gcps, outputSRS=srs)
    gdal.Translate(str(dst_path), str(src_path), options=options)
    assert gdal.Open(str(dst_path)).GetGeoTransform(can_return_null=True) is None
    return dst_path


def rpc_placed_copy(src_path: Path, dst_path: Path, window: tuple[int, int, int, int]) -> Path:
    """Copy a (col, row, width, height) window placed only by RPCs, with no geotransform: as a
    satellite's Level-1B product comes. The RPCs are a first-order model of the window's true
    longitudes and latitudes (fitted on its pixel centres; over a few km the UTM grid is
    affine in degrees to well under a metre), without height terms."""
    from osgeo import gdal
    from rasterio.warp import transform as warp_points

    col, row, width, height = window
    with rasterio.open(src_path) as src:
        lines, samples = np.mgrid[0:height:8, 0:width:8].reshape(2, -1).astype(float)
        xs, ys = src.transform * (col + samples + 0.5, row + lines + 0.5)
        lons, lats = (np.asarray(v) for v in warp_points(src.crs, "EPSG:4326", xs, ys))
    offsets = {"LAT": lats.mean(), "LONG": lons.mean(), "LINE": height / 2, "SAMP": width / 2}
    scales = {"LAT": np.ptp(lats) / 2, "LONG": np.ptp(lons) / 2}
    scales |= {"LINE": height / 2, "SAMP": width / 2}
    p = (lats - offsets["LAT"]) / scales["LAT"]
    lng = (lons - offsets["LONG"]) / scales["LONG"]
    design = np.column_stack([np.ones_like(p), lng, p])
    rpc = {f"{k}_OFF": repr(float(v)) for k, v in offsets.items()}
    rpc |= {f"{k}_SCALE": repr(float(v)) for k, v in scales.items()}
    rpc |= {"HEIGHT_OFF": "0", "HEIGHT_SCALE": "1000", "ERR_BIAS": "-1", "ERR_RAND": "-1"}
    for axis, values in (("LINE", lines), ("SAMP", samples)):
        # RPCs count from the first pixel's centre, GDAL's pixels from its corner
        fitted = (values - offsets[axis]) / scales[axis]
        coeffs = np.linalg.lstsq(design, fitted, rcond=None)[0]
        rpc[f"{axis}_NUM_COEFF"] = " ".join(repr(float(c)) for c in [*coeffs, *[0.0] * 17])
        rpc[f"{axis}_DEN_COEFF"] = " ".join(["1", *["0"] * 19])
    gdal.UseExceptions()
    copy = gdal.Translate("", str(src_path), format="MEM", srcWin=window)
    out = gdal.GetDriverByName("GTiff").Create(
        str(dst_path), width, height, copy.RasterCount, copy.GetRasterBand(1).DataType
    )
    for b in range(1, copy.RasterCount + 1):
        out.GetRasterBand(b).WriteArray(copy.GetRasterBand(b).ReadAsArray())
        out.GetRasterBand(b).SetDescription(copy.GetRasterBand(b).GetDescription())
    out.SetMetadata(rpc, "RPC")
    out = None
    assert gdal.Open(str(dst_path)).GetGeoTransform(can_return_null=True) is None
    return dst_path


def true_colour_copy(s2_path: Path, dst_path: Path) -> Path:
    """The top-left 512 x 256 px of the real Sentinel-2 stack in its blue, green and red bands
    only (B2, B3, B4), named as such: a true-colour raster, georeferenced like the scene."""
    with rasterio.open(s2_path) as src:
        data = src.read([2, 3, 4], window=((0, 256), (0, 512)))
        crs, transform = src.crs.to_string(), src.transform
    return write_raster(
        dst_path, data, crs=crs, transform=transform, descriptions=["blue", "green", "red"]
    )


def numbered_bands_copy(s2_path: Path, dst_path: Path) -> Path:
    """64 x 64 px of the real Sentinel-2 stack as a Landsat TM stack would hold them (blue,
    green, red, NIR, SWIR1, a cirrus band where TM has its thermal band, SWIR2), named only
    B1..B7: names that Landsat TM/ETM+ and OLI (and Sentinel-2) all use."""
    with rasterio.open(s2_path) as src:
        data = src.read([2, 3, 4, 8, 11, 10, 12], window=((0, 64), (0, 64)))
        crs, transform = src.crs.to_string(), src.transform
    return write_raster(
        dst_path, data, crs=crs, transform=transform, descriptions=[f"B{i}" for i in range(1, 8)]
    )


def zipped_copy(src_path: Path, folder: Path) -> str:
    """`src_path` inside a new zip archive in `folder`, as GDAL and QGIS name it (/vsizip//...)."""
    import zipfile

    archive = folder / "product.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(src_path, f"product/{src_path.name}")
    return f"/vsizip/{archive.resolve()}/product/{src_path.name}"


def orthophoto_copy(s2_path: Path, dst_path: Path, alpha: bool = False) -> Path:
    """The top-left 512 x 256 px of the real Sentinel-2 stack as an orthophoto or a map export
    stores it: 8-bit red, green and blue (B4, B3, B2 stretched from 0-0.3 reflectance), no
    band descriptions, GDAL's colour interpretation red, green, blue (TIFF ``PHOTOMETRIC=RGB``).
    With `alpha`, a fourth band marks the left 64 columns transparent, black beneath."""
    with rasterio.open(s2_path) as src:
        data = src.read([4, 3, 2], window=((0, 256), (0, 512))).astype(np.float64)
        crs, transform = src.crs, src.transform
    rgb = np.clip(np.round(data * 0.0001 / 0.3 * 255), 1, 255).astype(np.uint8)
    bands = [rgb]
    if alpha:
        rgb[:, :, :64] = 0
        bands.append(
            np.where(np.arange(512) < 64, 0, 255).astype(np.uint8)[None, None].repeat(256, 1)
        )
    data = np.concatenate(bands)
    profile = {"driver": "GTiff", "width": 512, "height": 256, "count": len(data),
               "dtype": "uint8", "crs": crs, "transform": transform, "photometric": "RGB"}  # fmt: skip
    if alpha:
        profile["alpha"] = "YES"  # GTiff's creation option: the fourth band is transparency
    with rasterio.open(dst_path, "w", **profile) as dst:
        dst.write(data)
    return dst_path


#: A Landsat 9 Collection 2 Level-2 product (`landsat_product_folder`).
LANDSAT_PRODUCT = "LC09_L2SP_193023_20230315_20230317_02_T1"
#: OLI's reflectance bands and the Sentinel-2 bands that stand for them.
LANDSAT_OLI = {1: "B1", 2: "B2", 3: "B3", 4: "B4", 5: "B8A", 6: "B11", 7: "B12"}
#: The window of the Sentinel-2 sample the product holds.
LANDSAT_WINDOW = Window(1024, 256, 192, 160)


def sample_window(
    s2_scene: Path, window: Window, bands: Iterable[str]
) -> tuple[dict[str, np.ndarray], dict]:
    """The real Sentinel-2 sample's `bands` (``B2``, ``B8A``, ...: reflectance x 10000) in
    `window`, and the window's one-band profile (its georeferencing, no nodata), to write a
    product's band files from with `write_band`."""
    with rasterio.open(s2_scene) as src:
        index = {d: i for i, d in enumerate(src.descriptions, start=1)}
        values = {band: src.read(index[band], window=window) for band in bands}
        profile = src.profile | {
            "width": window.width, "height": window.height, "count": 1,
            "transform": src.window_transform(window), "nodata": None,
        }  # fmt: skip
    return values, profile


def write_band(path: Path, values: np.ndarray, profile: dict) -> None:
    """One band file of `values` with `profile`'s georeferencing."""
    with rasterio.open(path, "w", **(profile | {"count": 1, "dtype": values.dtype.name})) as dst:
        dst.write(values, 1)


def landsat_product_folder(s2_scene: Path, parent: Path) -> Path:
    """A Landsat product's folder in `parent`, as USGS delivers it, from the real Sentinel-2
    sample: SR_B1..SR_B7 (DN = (reflectance + 0.2) / 2.75e-5), ST_B10, QA_PIXEL, its MTL file;
    the bands written out of order, as a listing gives them."""
    folder = parent / LANDSAT_PRODUCT
    folder.mkdir()
    window = LANDSAT_WINDOW
    values, profile = sample_window(s2_scene, window, LANDSAT_OLI.values())
    profile["nodata"] = 0
    for band, s2 in sorted(LANDSAT_OLI.items(), reverse=True):
        dn = np.round((values[s2] / 1e4 + 0.2) / 2.75e-5).astype("uint16")
        write_band(folder / f"{LANDSAT_PRODUCT}_SR_B{band}.TIF", dn, profile)
    shape = (window.height, window.width)
    write_band(folder / f"{LANDSAT_PRODUCT}_ST_B10.TIF", np.full(shape, 40000, "uint16"), profile)
    write_band(folder / f"{LANDSAT_PRODUCT}_QA_PIXEL.TIF", np.full(shape, 21824, "uint16"), profile)
    (folder / f"{LANDSAT_PRODUCT}_MTL.txt").write_text(
        "".join(
            f"REFLECTANCE_MULT_BAND_{b} = 2.75E-05\nREFLECTANCE_ADD_BAND_{b} = -0.2\n"
            for b in LANDSAT_OLI
        )
    )
    return folder


def uniform_pixels(
    rng: np.random.Generator, n: int, ranges: dict[str, tuple[float, float]]
) -> dict[str, np.ndarray]:
    """`n` synthetic pixels per band role, each drawn uniformly from its (low, high) range."""
    return {role: rng.uniform(low, high, n) for role, (low, high) in ranges.items()}
