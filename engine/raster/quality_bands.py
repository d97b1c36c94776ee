"""A product's own per-pixel quality band, where it has one, and its flags.

A Landsat Collection 2 product carries ``QA_PIXEL`` (CFMask's cloud, cloud shadow, snow and
water bits) beside its band files; an HLS granule its ``Fmask``; a Sentinel-2 Level-2A product
its scene classification ``SCL`` (20 m), a Level-1C product (baseline 04.00 on) its cloud and
snow mask ``MSK_CLASSI_B00`` (60 m), an older one its cloud polygons ``MSK_CLOUDS_B00.gml``
(burned onto the 60 m grid: `cloud_polygons`); a PlanetScope scene its usable data mask
``<scene>_3B_udm2.tif`` (eight bands: clear, snow, shadow, light haze, heavy haze, cloud,
confidence, unusable). `quality_band_of` finds it for the raster the
analyst gave, `values_under` reads it under each pixel of a raster on the same ground (SCL's
20 m under 10 m bands). The run compares its result with it (`reports.product_quality`) and,
where asked, hides the clouds it flags (`cloud_masking`).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import numpy as np
import rasterio
from rasterio.windows import Window

from .hls_granules import granule_name, granules_in
from .landsat_folders import identifier
from .preset_names import PLANETSCOPE_NAME
from .product_files import (
    ARCHIVE_SUFFIXES,
    archive_members,
    safe_path,
    zip_archive,
    zip_members,
)
from .sentinel2_layers import LAYER
from .vrt_sources import vrt_source_files

#: Each quality band's flags, as their product guides define them: bit masks of
#: Landsat Collection 2's QA_PIXEL and HLS v2.0's Fmask; Sentinel-2 Level-1C's MSK_CLASSI
#: (processing baseline 04.00 on) holds three 0/1 bands, opaque cloud, cirrus and snow, read
#: as bits 0, 1 and 2 (`values_under`); Planet's UDM2 eight, band n as bit n - 1 (snow band 2,
#: shadow band 3, cloud band 6).
FLAGS = {
    "QA_PIXEL": {"cloud": 1 << 3, "cloud shadow": 1 << 4, "snow": 1 << 5, "water": 1 << 7},
    "Fmask": {"cloud": 1 << 1, "cloud shadow": 1 << 3, "snow": 1 << 4, "water": 1 << 5},
    "CLASSI": {"cloud": 0b011, "snow": 0b100},
    "MSK_CLOUDS": {"cloud": 0b011},
    "UDM2": {"cloud": 1 << 5, "cloud shadow": 1 << 2, "snow": 1 << 1},
}
#: Sentinel-2 L2A's scene classification values per flag (cloud: medium and high probability
#: and thin cirrus).
SCL_CLASSES = {"cloud": (8, 9, 10), "cloud shadow": (3,), "snow": (11,), "water": (6,)}
#: Which product's algorithm each kind of band holds.
MADE_BY = {
    "QA_PIXEL": "CFMask's",
    "Fmask": "Fmask's",
    "SCL": "Sen2Cor's scene classification",
    "CLASSI": "ESA's Level-1C cloud mask",
    "MSK_CLOUDS": "ESA's Level-1C cloud-polygon",
    "UDM2": "Planet's usable data mask (UDM2)",
}
#: Rows read at a time.
ROWS = 512
#: A Sentinel-2 product's quality bands among its files, in order of preference: Level-2A's
#: scene classification, Level-1C's cloud and snow mask (Level-2A has one too), the cloud
#: polygons of products before baseline 04.00 (compact names, ``MSK_CLOUDS_B00.gml``, and the
#: long ones of 2015-2016, ``S2A_OPER_MSK_CLOUDS_..._B00_MSIL1C.gml``).
SENTINEL2_BANDS = {
    "SCL": re.compile(r"GRANULE/[^/]+/IMG_DATA/R20m/[^/]+_SCL_20m\.jp2$", re.IGNORECASE),
    "CLASSI": re.compile(r"GRANULE/[^/]+/QI_DATA/MSK_CLASSI_B00\.jp2$", re.IGNORECASE),
    "MSK_CLOUDS": re.compile(
        r"GRANULE/[^/]+/QI_DATA/(?:[^/]+_)?MSK_CLOUDS_(?:[^/]+_)?B00(?:_MSIL1C)?\.gml$",
        re.IGNORECASE,
    ),
}
#: A PlanetScope scene's usable data mask beside its analytic file (``..._3B_udm2_clip.tif``).
UDM2_NAME = re.compile(r"_3B_udm2(?:_clip)?\.tif$", re.IGNORECASE)
#: The most files of a VRT looked through for their product's quality band (a product has a
#: dozen bands; a mosaic of hundreds of tiles is no product).
MAX_STACKED_FILES = 64


def flag_names(kind: str) -> list[str]:
    """The flags a kind of quality band is compared on, in order."""
    return list(SCL_CLASSES if kind == "SCL" else FLAGS[kind])


def flagged(kind: str, values: np.ndarray, flag: str) -> np.ndarray:
    """Where the quality band's `values` say `flag`."""
    if kind == "SCL":
        return np.isin(values, SCL_CLASSES[flag])
    return (values & FLAGS[kind][flag]) != 0


def has_data(kind: str, values: np.ndarray) -> np.ndarray:
    """Where the quality band has data: QA_PIXEL's fill bit (0) unset; Fmask not 255; SCL not
    0 (no data) or 1 (saturated or defective); UDM2 where one of its first seven bands is set
    (blackfill sets none); MSK_CLASSI and the cloud polygons everywhere."""
    if kind == "QA_PIXEL":
        return (values & 1) == 0
    if kind == "UDM2":  # imaged: clear, a class or some confidence (bands 1-7); not blackfill
        return (values & 0x7F) != 0
    if kind in ("CLASSI", "MSK_CLOUDS"):
        return np.ones(values.shape, dtype=bool)
    return values != 255 if kind == "Fmask" else values > 1


def quality_band_of(input_name: str) -> tuple[str, str] | None:
    """The quality band of the product the input names, and its kind: a Landsat product's
    ``<identifier>_QA_PIXEL.TIF`` or an HLS granule's ``<granule>.Fmask.tif`` in its folder
    (given, or of the file given, or in its .tar), a Sentinel-2 product's SCL (Level-2A),
    MSK_CLASSI or MSK_CLOUDS polygons (Level-1C), as GDAL names the file, a PlanetScope
    scene's UDM2 beside its analytic file; that of the product
    whose band files a VRT stacks (Build Virtual Raster, the dock's product layer); None where
    there is none."""
    if input_name.lower().endswith(".vrt") and Path(input_name).is_file():
        return _quality_band_of_stack(input_name)
    sentinel2 = _sentinel2_band(input_name)
    if sentinel2 is not None:
        return sentinel2
    path = Path(input_name)
    if (udm2 := _planetscope_udm2(path)) is not None:
        return udm2, "UDM2"
    folder = path if path.is_dir() else path.parent
    landsat, granule = identifier(path.name), granule_name(path.name)
    if not folder.is_dir() or not (landsat or granule or path.is_dir()):
        return None  # a file named by no product: its folder is not listed
    if path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES):  # a Landsat .tar
        files = archive_members(path)
    else:
        files = [str(f) for f in folder.iterdir() if f.is_file()]
    names = {PurePosixPath(f).name.upper(): f for f in files}
    if landsat and (found := names.get(f"{landsat}_QA_PIXEL.TIF")):
        return found, "QA_PIXEL"
    granules = granules_in(names) if path.is_dir() else [granule] if granule else []
    if len(granules) == 1 and (found := names.get(f"{granules[0]}.FMASK.TIF".upper())):
        return found, "Fmask"
    return None


def _planetscope_udm2(path: Path) -> str | None:
    """The UDM2 beside a PlanetScope scene's analytic file (``<scene>_3B_AnalyticMS...tif``:
    ``<scene>_3B_udm2...tif``, the one of its clip where there are two), or None."""
    named = PLANETSCOPE_NAME.search(path.name)
    if named is None or not path.parent.is_dir():
        return None
    scene = named.group(0).split("_3B_")[0]
    found = sorted(
        f for f in path.parent.glob(f"{scene}_3B_*") if f.is_file() and UDM2_NAME.search(f.name)
    )
    clipped = [f for f in found if "_clip" in f.name.lower()] if "_clip" in path.name else found
    return str(clipped[0]) if len(clipped) == 1 else None


def _quality_band_of_stack(vrt: str) -> tuple[str, str] | None:
    """The one quality band of the products whose files the VRT `vrt` stacks, or None (none,
    several products, or too many files to look through)."""
    sources = [str(s) for s in vrt_source_files(vrt)]
    if not sources or len(sources) > MAX_STACKED_FILES:
        return None
    found = {quality_band_of(s) for s in sources if not s.lower().endswith(".vrt")}
    return found.pop() if len(found) == 1 else None


def _sentinel2_band(input_name: str) -> tuple[str, str] | None:
    """A Sentinel-2 product's quality band and its kind (`SENTINEL2_BANDS`: Level-2A's SCL,
    else Level-1C's MSK_CLASSI, else its MSK_CLOUDS polygons) for its .SAFE folder, its zip as downloaded, its metadata file
    or a layer QGIS lists for it (``SENTINEL2_L2A:<MTD>:10m:EPSG_32633``, in the zip too), as
    GDAL names the file; None where there is none."""
    layer = LAYER.match(input_name)
    name = layer.group(2) if layer else input_name
    zipped = zip_archive(name)
    if zipped or name.lower().endswith(".zip"):
        archive = Path(zipped or name)
        files = [f"/vsizip/{archive.absolute()}/{m}" for m in zip_members(archive)]
    else:
        safe = safe_path(Path(name))
        if safe is None or not safe.is_dir():
            return None
        files = [str(f) for f in safe.glob("GRANULE/*/*/**/*.jp2")]
        files += [str(f) for f in safe.glob("GRANULE/*/QI_DATA/*.gml")]
    for kind, pattern in SENTINEL2_BANDS.items():
        found = [f for f in files if pattern.search(f)]
        if len(found) == 1:
            return found[0], kind
    return None


def same_ground(quality: rasterio.DatasetReader, mask: rasterio.DatasetReader) -> bool:
    """Whether the quality band's pixels tile the mask's ground: north-up, the same origin
    lattice, each quality pixel a whole number of mask pixels (SCL's 20 m over 10 m)."""
    q, m = quality.transform, mask.transform
    if q.b or q.d or m.b or m.d:
        return False
    ratio_x, ratio_y = q.a / m.a, q.e / m.e
    offset_x, offset_y = (m.c - q.c) / m.a, (m.f - q.f) / m.e
    return all(abs(v - round(v)) < 1e-6 and round(v) >= 1 for v in (ratio_x, ratio_y)) and all(
        abs(v - round(v)) < 1e-6 for v in (offset_x, offset_y)
    )


def values_under(
    quality: rasterio.DatasetReader, mask: rasterio.DatasetReader, window: Window
) -> np.ndarray:
    """The quality band's value under each pixel of `mask` in `window` (its pixel's centre;
    0 outside the quality band)."""
    q, m = quality.transform, mask.transform
    if (q.a, q.e) == (m.a, m.e):  # the same pixels: read them (0 outside, no data)
        col, row = round((m.c - q.c) / m.a), round((m.f - q.f) / m.e)
        shifted = Window(window.col_off + col, window.row_off + row, window.width, window.height)
        return _read(quality, shifted, boundless=True, fill_value=0)
    rows = np.arange(window.row_off, window.row_off + window.height) + 0.5
    cols = np.arange(window.col_off, window.col_off + window.width) + 0.5
    xs = m.c + cols * m.a
    ys = m.f + rows * m.e
    qcols = np.floor((xs - q.c) / q.a).astype(np.int64)
    qrows = np.floor((ys - q.f) / q.e).astype(np.int64)
    inside_c = (qcols >= 0) & (qcols < quality.width)
    inside_r = (qrows >= 0) & (qrows < quality.height)
    out = np.zeros((window.height, window.width), dtype=np.uint16)
    if not inside_c.any() or not inside_r.any():
        return out
    c0, c1 = qcols[inside_c].min(), qcols[inside_c].max() + 1
    r0, r1 = qrows[inside_r].min(), qrows[inside_r].max() + 1
    block = _read(quality, Window(c0, r0, c1 - c0, r1 - r0))
    picked = block[np.ix_(qrows[inside_r] - r0, qcols[inside_c] - c0)]
    out[np.ix_(inside_r, inside_c)] = picked
    return out


def _read(quality: rasterio.DatasetReader, window: Window, **options: object) -> np.ndarray:
    """The quality band's values at `window`; of a mask of several 0/1 bands (MSK_CLASSI),
    each band as one bit (band 1 bit 0, ...)."""
    if quality.count == 1:
        return quality.read(1, window=window, **options)
    bands = quality.read(window=window, **options)
    return sum(((band != 0).astype(np.uint16) << i) for i, band in enumerate(bands))


#: What ``--mask-clouds`` hides, as each product guide builds a clear-sky mask: QA_PIXEL's
#: dilated cloud (bit 1), cirrus (2), cloud (3) and cloud shadow (4); Fmask's cloud (1),
#: adjacent to cloud or shadow (2) and cloud shadow (3); SCL's cloud shadow (3), cloud of
#: medium and high probability (8, 9) and thin cirrus (10); MSK_CLASSI's opaque cloud and
#: cirrus (Level-1C flags no cloud shadow); UDM2's shadow, heavy haze and cloud (its light
#: haze stays: Planet's own clear-sky mask is band 1, and light haze is usable ground).
CLOUD_BITS = {
    "QA_PIXEL": 0b11110,
    "Fmask": 0b01110,
    "CLASSI": 0b011,
    "MSK_CLOUDS": 0b011,
    "UDM2": (1 << 2) | (1 << 4) | (1 << 5),
}
CLOUD_CLASSES = (3, 8, 9, 10)
#: What Level-1C's cloud flags are called, as a mask or as polygons.
LEVEL1C_CLOUD_FLAGS = "opaque cloud or cirrus (Level-1C flags no cloud shadow)"
#: What those flags are called, per kind, for the explanation.
CLOUD_FLAGS = {
    "QA_PIXEL": "cloud, dilated cloud, cirrus or cloud shadow",
    "Fmask": "cloud, adjacent to cloud or cloud shadow",
    "SCL": "cloud (medium or high probability), thin cirrus or cloud shadow",
    "CLASSI": LEVEL1C_CLOUD_FLAGS,
    "MSK_CLOUDS": LEVEL1C_CLOUD_FLAGS,
    "UDM2": "cloud, heavy haze or cloud shadow",
}


def open_quality_band(band_path: str, kind: str) -> rasterio.DatasetReader:
    """The quality band `quality_band_of` found, opened as a raster (the cloud polygons burned
    onto their granule's 60 m grid first: `cloud_polygons`)."""
    if kind == "MSK_CLOUDS":
        from .cloud_polygons import burned_cloud_polygons

        return rasterio.open(burned_cloud_polygons(band_path))
    return rasterio.open(band_path)


def cloudy(kind: str, values: np.ndarray) -> np.ndarray:
    """Where the quality band's `values` flag cloud or what goes with it (`CLOUD_BITS`)."""
    if kind == "SCL":
        return np.isin(values, CLOUD_CLASSES)
    return (values & CLOUD_BITS[kind]) != 0
