"""The shadows of a Level-1C product's clouds, cast from the sun's angles (``--mask-clouds``).

Level-1C's cloud mask (MSK_CLASSI, or the MSK_CLOUDS polygons) flags no cloud shadow, and a
shadow over land reads as water. As Fmask does, a flagged cloud casts its shadow away from the
sun (the granule's mean sun azimuth, ``MTD_TL.xml``), at the ground distance height x tan(sun
zenith), up to `MAX_CLOUD_HEIGHT_M` high. A pixel may be shadow where its NIR (B08) is darker
than `DARK_SHARE` of the granule's clear-sky median and not below its green (B03: water is, a
shadow over land is not). A cloud is taken to cast a shadow where some height puts its shape
on such pixels (`MIN_MATCH`, and `MATCH_LIFT` times their share in the clear granule): haze
and thin cloud cast none that can be seen. Each such cloud is swept over every height, and the
swept pixels that pass the darkness test, pixel by pixel on the raster's own grid, are shadow.

The matching and the sweep are made once, on the quality band's 60 m grid over the whole
granule (1,830 x 1,830 pixels, the bands averaged onto it): a cloud outside the analyst's
extent casts its shadow into it, and a pixel is shadow or not whatever the extent.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from ..errors import InputError
from .product_files import file_bytes, granule_file, granule_folder
from .quality_bands import ROWS, cloudy, open_quality_band, values_under
from .reflectance import SENTINEL2_ADDED_DN
from .sentinel2_products import find_product
from .temporary_files import file_stamp, written_once

#: Where the swept clouds are written.
SHADOW_FOLDER = "spex-cloud-shadows"
#: Changes when the way the swept clouds are made does (their files' key).
REACH_VERSION = 1
#: The highest cloud whose shadow is cast (m): the boundary layer's cumulus and stratocumulus.
#: A 0-3,000 m sweep holds the labelled shadows of the ukis-csmask chips as well as 5,000 m
#: (docs/benchmarks.md, "Cloud shadows cast from the sun").
MAX_CLOUD_HEIGHT_M = 3000.0
#: A swept pixel is shadow where its NIR is below this share of the granule's clear-sky median:
#: shadowed land keeps only the diffuse light (the chips' labelled shadows: 0.33-0.55 of their
#: lit land's median). A share, not a reflectance: a winter scene's lit land is as dark in NIR
#: (median 0.17) as a summer shadow.
DARK_SHARE = 0.7
#: Sun zenith angles past which no shadow is cast (a low sun's shadows run off the granule).
MAX_SUN_ZENITH = 80.0
#: The least share of a cloud's shifted shape on possible shadow for it to cast one (Fmask's
#: similarity threshold, Zhu & Woodcock 2012).
MIN_MATCH = 0.3
#: ... and how many times that share must be the possible shadow's share of the clear granule
#: (1.5 kept more of the chips' shadows than 2 or 3, and the haze clouds of the winter sample
#: scene cast none at any: docs/benchmarks.md).
MATCH_LIFT = 1.5
#: The fewest 60 m pixels of a cloud matched on its own (smaller ones are swept with it or not
#: at all: too few pixels to tell a shadow from chance).
MIN_CLOUD_PIXELS = 4


@dataclass(frozen=True)
class SunAngles:
    """The sun's mean angles over a granule, in degrees: zenith, and azimuth clockwise from
    north."""

    zenith: float
    azimuth: float

    def reach_m(self) -> float:
        """How far from its cloud a shadow falls at most (m)."""
        return MAX_CLOUD_HEIGHT_M * math.tan(math.radians(self.zenith))


def sun_angles(qi_file: str) -> SunAngles | None:
    """The mean sun angles in the tile metadata (``MTD_TL.xml``, or the long name of 2015-2016)
    of the granule holding `qi_file`; None where there is none or it gives none."""
    from osgeo import gdal

    granule = granule_folder(qi_file)
    names = [
        n
        for n in gdal.ReadDir(granule) or []
        if n.upper().endswith(".XML") and ("MTD_TL" in n.upper() or "_MTD_L1C_TL_" in n.upper())
    ]
    if len(names) != 1:
        return None
    try:
        root = ET.fromstring(file_bytes(f"{granule}/{names[0]}"))
        zenith = float(root.findtext(".//Mean_Sun_Angle/ZENITH_ANGLE") or "nan")
        azimuth = float(root.findtext(".//Mean_Sun_Angle/AZIMUTH_ANGLE") or "nan")
    except (ET.ParseError, ValueError):
        return None
    if not (0 <= zenith < MAX_SUN_ZENITH and math.isfinite(azimuth)):
        return None
    return SunAngles(zenith, azimuth % 360)


def shadow_offsets(sun: SunAngles, pixel_m: float) -> list[tuple[int, int]]:
    """The (row, column) offsets, one pixel apart, from a cloud pixel to every pixel its shadow
    may fall on (pixels `pixel_m` metres square, north up): away from the sun, from the cloud
    itself out to `SunAngles.reach_m`."""
    steps = int(sun.reach_m() / pixel_m + 1e-9)  # tan(45 deg) is 0.99999...
    azimuth = math.radians(sun.azimuth)
    # the shadow runs opposite the sun: south (+rows) for a northern sun, west for an eastern
    down, right = math.cos(azimuth), -math.sin(azimuth)
    offsets = dict.fromkeys((round(k * down), round(k * right)) for k in range(steps + 1))
    return list(offsets)


def swept(clouds: np.ndarray, offsets: list[tuple[int, int]]) -> np.ndarray:
    """Every pixel that one of `offsets` from a pixel of `clouds` reaches."""
    out = np.zeros_like(clouds)
    height, width = clouds.shape
    for dr, dc in offsets:
        if abs(dr) >= height or abs(dc) >= width:
            continue
        src = clouds[max(0, -dr) : height - max(0, dr), max(0, -dc) : width - max(0, dc)]
        out[max(0, dr) : height - max(0, -dr), max(0, dc) : width - max(0, -dc)] |= src
    return out


class CastShadows:
    """The shadows a Level-1C granule's flagged clouds cast, read under any raster on its
    ground: open with `cast_shadows`, `close` when done."""

    def __init__(self, sun: SunAngles, reach_path: str, bands: tuple[str, str]) -> None:
        self.sun = sun
        #: The swept clouds' file (its name is its key: what it was made from).
        self.reach_path = reach_path
        self._reach = rasterio.open(reach_path)
        self._green, self._nir = (rasterio.open(band) for band in bands)
        #: NIR digital numbers below which a swept pixel is shadow.
        self.dark_dn = float(self._reach.tags()["DARK_DN"])

    def close(self) -> None:
        """Close the swept clouds and the bands."""
        for dataset in (self._reach, self._green, self._nir):
            dataset.close()

    def under(self, dataset: rasterio.DatasetReader, window: Window) -> np.ndarray:
        """Where, in `window` of `dataset`, a cloud's shadow falls: swept, and dark in NIR
        but not below green."""
        reached = values_under(self._reach, dataset, window) > 0
        if not reached.any():
            return reached
        green = values_under(self._green, dataset, window)
        nir = values_under(self._nir, dataset, window)
        return reached & possible_shadow(green, nir, self.dark_dn)


def possible_shadow(green: np.ndarray, nir: np.ndarray, dark_dn: float) -> np.ndarray:
    """Where the digital numbers may be a shadow over land: NIR below `dark_dn`, and not below
    green (0: no data)."""
    return (nir > 0) & (nir < dark_dn) & (nir >= green)


def casting_clouds(
    clouds: np.ndarray, possible: np.ndarray, offsets: list[tuple[int, int]]
) -> np.ndarray:
    """The clouds (8-connected objects of `clouds`) that some offset of `offsets` puts on
    `possible` shadow: on at least `MIN_MATCH` of the shape's pixels that fall on clear ground,
    and `MATCH_LIFT` times the share of possible shadow in the clear pixels."""
    from scipy import ndimage

    clear = ~clouds
    floor = max(MIN_MATCH, MATCH_LIFT * float(possible[clear].mean())) if clear.any() else 1.0
    labels, _ = ndimage.label(clouds, structure=np.ones((3, 3), dtype=bool))
    height, width = clouds.shape
    casting = np.zeros(labels.max() + 1, dtype=bool)
    for index, box in enumerate(ndimage.find_objects(labels), 1):
        rows, cols = np.nonzero(labels[box] == index)
        if rows.size < MIN_CLOUD_PIXELS:
            continue
        rows, cols = rows + box[0].start, cols + box[1].start
        for dr, dc in offsets[1:]:
            r, c = rows + dr, cols + dc
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            if inside.sum() < rows.size / 2:  # the shadow runs off the granule
                break
            on_ground = clear[r[inside], c[inside]]
            if on_ground.sum() < rows.size / 4:  # mostly on another cloud
                continue
            if possible[r[inside], c[inside]][on_ground].mean() >= floor:
                casting[index] = True
                break
    return casting[labels]


def cast_shadows(band_path: str, kind: str) -> CastShadows | None:
    """The shadows of the clouds the Level-1C quality band `band_path` (`kind` ``"CLASSI"`` or
    ``"MSK_CLOUDS"``) flags; None where the granule gives no sun angles or has no B03 or B08
    band."""
    sun = sun_angles(band_path)
    bands = tuple(granule_file(band_path, (f"_{code}.JP2",)) for code in ("B03", "B08"))
    if sun is None or None in bands:
        return None
    product = find_product(band_path)
    added = SENTINEL2_ADDED_DN if product is not None and product.adds_dn else 0.0
    # a file in the product's zip is stamped by the zip (`file_stamp`)
    stamps = "\n".join(f"{name}:{file_stamp(name)}" for name in (band_path, *bands))
    key = f"{stamps}\n{kind}\n{sun!r}\n{added!r}\n{REACH_VERSION}"
    try:
        reach = written_once(
            SHADOW_FOLDER,
            key,
            "reach.tif",
            lambda partial: _write_reach(band_path, kind, sun, bands, added, partial),
        )
        return CastShadows(sun, str(reach), bands)
    except RasterioIOError as error:  # a band that is no image: the product is damaged
        raise InputError(
            f"The granule's B03 or B08 band cannot be read to cast its clouds' shadows "
            f"({error}); give the product as delivered, or leave out --mask-clouds."
        ) from None


def _write_reach(
    band_path: str,
    kind: str,
    sun: SunAngles,
    bands: tuple[str, str],
    added: float,
    partial: Path,
) -> None:
    """The flagged clouds that cast a shadow (`casting_clouds`) swept along their shadows'
    direction, less the clouds, on the quality band's own grid, into `partial`; tagged with the
    NIR digital number below which a swept pixel is dark (`DARK_SHARE` of the median over the
    granule's clear pixels above the `added` offset, B08 averaged onto the same grid). A
    granule without a flagged cloud has nothing to cast, and its bands are not read."""
    with open_quality_band(band_path, kind) as quality:
        whole = Window(0, 0, quality.width, quality.height)
        clouds = cloudy(kind, values_under(quality, quality, whole))
        profile = {"driver": "GTiff", "count": 1, "dtype": "uint8", "crs": quality.crs,
                   "transform": quality.transform, "width": quality.width,
                   "height": quality.height, "compress": "deflate"}  # fmt: skip
        pixel_m = abs(quality.transform.a)
    median = dark_dn = added  # no cloud, or no clear pixel: none dark
    reach = np.zeros_like(clouds)
    if clouds.any():
        green, nir = (_block_means(band, clouds.shape) for band in bands)
        clear = nir[(nir > added) & ~clouds]
        if clear.size:
            median = float(np.median(clear))
            dark_dn = added + DARK_SHARE * (median - added)
        offsets = shadow_offsets(sun, pixel_m)
        casting = casting_clouds(clouds, possible_shadow(green, nir, dark_dn), offsets)
        reach = swept(casting, offsets) & ~clouds
    with rasterio.open(partial, "w", **profile) as out:
        out.write(reach.astype(np.uint8), 1)
        out.update_tags(DARK_DN=repr(dark_dn), CLEAR_NIR_MEDIAN_DN=repr(median))


def _block_means(band: str, shape: tuple[int, int]) -> np.ndarray:
    """The band `band` averaged over the pixels of a coarser grid of `shape` on the same
    ground (whole blocks of its pixels; 0 where a block holds a pixel with no data, 0), read
    in strips of rows from its coarsest overview whose factor divides the grids' (a JPEG 2000
    band's resolution levels: 10 m to 60 m from the 20 m level, a ninth of the decoding). A
    decimated read would be shorter, but goes through GDAL's block cache, which the run keeps
    small: 180 times slower on a 4,608 x 4,608 band."""
    with rasterio.open(band) as full:
        factor = max(1, full.height // shape[0])
        levels = [i for i, o in enumerate(full.overviews(1)) if factor % o == 0]
        scale = full.overviews(1)[levels[-1]] if levels else 1
    options = {"overview_level": levels[-1]} if levels else {}
    factor //= scale
    with rasterio.open(band, **options) as dataset:
        rows = min(shape[0], dataset.height // factor)
        cols = min(shape[1], dataset.width // factor)
        out = np.zeros(shape, dtype=np.float64)
        step = max(1, ROWS // factor)  # coarse rows per strip
        for top in range(0, rows, step):
            height = min(step, rows - top)
            window = Window(0, top * factor, cols * factor, height * factor)
            blocks = dataset.read(1, window=window).reshape(height, factor, cols, factor)
            means = blocks.mean(axis=(1, 3), dtype=np.float64)
            means[(blocks == 0).any(axis=(1, 3))] = 0.0
            out[top : top + height, :cols] = means
    return out


def cast_clause(sun: SunAngles | None, shadow_pixels: int) -> str:
    """The explanation's words on the shadows cast, after the clouds' (`sun` None: none could
    be)."""
    if sun is None:
        return (
            ", with none of their shadows: the granule's metadata gives no sun angles (or it "
            "lacks its B03 or B08 band) to cast them from, so they stay and may read as water"
        )
    return (
        f", and the shadows those clouds cast ({shadow_pixels:,} pixels: within "
        f"{sun.reach_m():,.0f} m of a cloud away from the sun, azimuth {sun.azimuth:.0f} deg, "
        f"zenith {sun.zenith:.0f} deg, for clouds up to {MAX_CLOUD_HEIGHT_M:,.0f} m high; where "
        f"NIR is below {DARK_SHARE:.0%} of the granule's clear-sky median and not below green; "
        "from the clouds that some height puts on such pixels)"
    )
