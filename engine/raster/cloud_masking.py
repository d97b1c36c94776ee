"""Hiding what the product's own quality band flags as cloud (``--mask-clouds``).

An analyst working on a Landsat, HLS, Sentinel-2 or PlanetScope product masks its clouds and
their shadows with the product's quality band before anything else (QA_PIXEL, Fmask, SCL,
MSK_CLASSI or the MSK_CLOUDS polygons, UDM2: `quality_bands`); otherwise a shadow is water, a cloud
edge built-up, and both move every statistic of the scene. Here the flags become a mask on the
raster's own grid (255 clear, 0 hidden; a GeoTIFF written once per raster and band,
`temporary_files`), and the raster is read through a VRT that declares it as its mask band. Every read then takes the hidden pixels
for nodata (`mask_band`): the global sample, its statistics and seeds, the tiles, the mask
and the polygons, in this process and in a Dask worker that reopens the VRT.

A buffer (``--cloud-buffer``, metres) hides the pixels near the flags as well, as an analyst
widens a mask whose edges leave haze and thin shadow behind: SCL has no buffer of its own;
QA_PIXEL's dilated cloud and Fmask's adjacency bit are their products' own. Level-1C flags no
cloud shadow: its clouds' shadows are cast from the sun's angles (`cloud_shadows`) and hidden
with them, before the buffer.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import rasterio
from rasterio.windows import Window

from ..errors import InputError
from ..passes.pixel_areas import pixel_metres
from .cloud_shadows import CastShadows, SunAngles, cast_clause, cast_shadows
from .mask_band import hidden_fills
from .pixel_grid import close_dataset
from .quality_bands import (
    CLOUD_FLAGS,
    MADE_BY,
    ROWS,
    cloudy,
    has_data,
    open_quality_band,
    quality_band_of,
    same_ground,
    values_under,
)
from .temporary_files import file_stamp, written_once

#: Where the masks and the VRTs that declare them are written.
MASK_FOLDER = "spex-cloud-masks"
#: Values of the mask: GDAL's mask band convention.
CLEAR, HIDDEN = 255, 0
#: The widest buffer (m): its rows are read around each block of the mask.
MAX_BUFFER_M = 2000.0
#: The quality bands that flag no cloud shadow: their clouds' shadows are cast.
CAST_KINDS = ("CLASSI", "MSK_CLOUDS")


@dataclass(frozen=True)
class CloudMask:
    """The clouds a run hides: which band flagged them and how many pixels they are.

    Attributes:
        band: The quality band's file name.
        kind: ``"QA_PIXEL"``, ``"Fmask"``, ``"SCL"``, ``"CLASSI"``, ``"MSK_CLOUDS"`` or ``"UDM2"``.
        path: The mask on the raster's grid (`CLEAR`, `HIDDEN`).
        hidden_pixels: Raster pixels hidden.
        flagged_pixels: Raster pixels the quality band has data for.
        buffer_m: How far around the flagged pixels the mask reaches (m).
        shadow_pixels: Raster pixels hidden as the cast shadow of a Level-1C cloud (and not
            flagged themselves).
        sun: The sun's angles the shadows were cast from; None where none were (a product
            whose band flags its shadows, or a granule without them).
    """

    band: str
    kind: str
    path: Path
    hidden_pixels: int
    flagged_pixels: int
    buffer_m: float = 0.0
    shadow_pixels: int = 0
    sun: SunAngles | None = None

    @property
    def flags(self) -> str:
        """The flags hidden, in words."""
        return CLOUD_FLAGS[self.kind]

    @property
    def share(self) -> float:
        """The hidden share of the pixels the quality band has data for."""
        return self.hidden_pixels / self.flagged_pixels if self.flagged_pixels else 0.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for run.json."""
        return {
            "band": self.band,
            "kind": self.kind,
            "flags": self.flags,
            "hidden_pixels": self.hidden_pixels,
            "flagged_pixels": self.flagged_pixels,
            "buffer_m": self.buffer_m,
            "cast_shadow_pixels": self.shadow_pixels,
            "sun": None if self.sun is None else asdict(self.sun),
        }

    def sentence(self) -> str:
        """One line for the explanation."""
        near = f", widened by {self.buffer_m:g} m" if self.buffer_m else ""
        cast = cast_clause(self.sun, self.shadow_pixels) if self.kind in CAST_KINDS else ""
        return (
            f"Clouds hidden: {self.share:.1%} of the raster "
            f"({self.hidden_pixels:,} pixels) is what `{self.band}` ({MADE_BY[self.kind]} "
            f"flags) marks as {self.flags}{cast}{near}; those pixels are nodata in every "
            "statistic and output."
        )


def check_cloud_buffer(mask_clouds: bool, buffer_m: float) -> None:
    """Raise `InputError` for a cloud buffer that is no distance, too wide, or given without
    hiding the clouds it widens."""
    if not 0 <= buffer_m <= MAX_BUFFER_M:  # NaN too
        raise InputError(
            f"Cloud buffer {buffer_m:g} m is not a distance from 0 to {MAX_BUFFER_M:,.0f} m; "
            "give --cloud-buffer in metres within it."
        )
    if buffer_m and not mask_clouds:
        raise InputError(
            "A cloud buffer (--cloud-buffer) widens the clouds that --mask-clouds hides; add "
            "--mask-clouds, or leave the buffer out."
        )


def cloud_mask_for(
    input_name: str, dataset: rasterio.DatasetReader, buffer_m: float = 0.0
) -> CloudMask:
    """The mask of the clouds that the quality band of the product `input_name` names flags,
    and of the pixels within `buffer_m` metres of them, on the grid of `dataset` (the raster
    opened from it). Raises `InputError` where the product has no quality band, it lies on
    another grid, or a buffer cannot be measured in metres (no CRS). `buffer_m` is one
    `check_cloud_buffer` passed."""
    shown = Path(input_name).name or input_name
    found = quality_band_of(input_name)
    if found is None:
        raise InputError(
            f"Hiding the product's clouds (--mask-clouds) needs its quality band beside {shown} "
            "(Landsat QA_PIXEL, HLS Fmask, Sentinel-2 L2A SCL, L1C MSK_CLASSI or MSK_CLOUDS, "
            "PlanetScope udm2); "
            "give the product whole or a band file in its folder, or leave it out."
        )
    band_path, kind = found
    band = PurePosixPath(band_path).name
    if getattr(dataset, "src_dataset", None) is not None:
        raise InputError(
            f"{shown} is read warped, so the product's clouds (--mask-clouds) cannot be hidden "
            "pixel by pixel; leave it out."
        )
    with open_quality_band(band_path, kind) as quality:
        if quality.crs != dataset.crs or not same_ground(quality, dataset):
            raise InputError(
                f"{band} does not lie on {shown}'s pixel grid, so the product's clouds "
                "(--mask-clouds) cannot be hidden pixel by pixel; leave it out, or give the "
                "product as delivered."
            )
    if buffer_m and dataset.crs is None:
        raise InputError(
            f"{shown} has no CRS, so a cloud buffer (--cloud-buffer) cannot be measured in "
            "metres; leave it out."
        )
    # the raster, what was given (a .tar's stamp for a band inside it) and the band, as now
    key = "\n".join(f"{n}:{file_stamp(n)}" for n in (dataset.name, input_name, band_path))
    shadows = cast_shadows(band_path, kind) if kind in CAST_KINDS else None
    sun = shadows.sun if shadows is not None else None
    cast = shadows.reach_path if shadows is not None else ""
    try:
        path = written_once(
            MASK_FOLDER,
            f"{key}\n{kind}\n{buffer_m!r}\n{cast}",
            "clouds.tif",
            lambda partial: _write_mask(band_path, kind, dataset, partial, buffer_m, shadows),
        )
    finally:
        if shadows is not None:
            shadows.close()
    with rasterio.open(path) as written:
        tags = written.tags()
    return CloudMask(
        band,
        kind,
        path,
        int(tags["HIDDEN_PIXELS"]),
        int(tags["FLAGGED_PIXELS"]),
        buffer_m,
        int(tags.get("SHADOW_PIXELS", 0)),
        sun,
    )


def widened(clouds: np.ndarray, buffer_m: float, spacing: tuple[float, float]) -> np.ndarray:
    """`clouds` and every pixel whose centre lies within `buffer_m` metres of a cloud pixel's
    (Euclidean, pixels `spacing` metres apart by row and column).

    The disk is the union of a few rectangles (`disk_steps`): the clouds spread over a
    rectangle's rows by shifted copies (contiguous rows, grown one row at a time from the last
    rectangle's), then over its columns by a running maximum. Several times faster than a
    distance transform at the usual buffers (docs/benchmarks.md)."""
    if not buffer_m or not clouds.any():
        return clouds
    from scipy.ndimage import maximum_filter1d

    flags = clouds.astype(np.uint8)
    reach = flags.copy()  # the clouds spread over `spread` rows up and down
    hidden = np.zeros_like(flags)
    spread = 0
    for rows, cols in disk_steps(buffer_m, *spacing):
        for shift in range(spread + 1, rows + 1):
            np.maximum(reach[shift:], flags[:-shift], out=reach[shift:])
            np.maximum(reach[:-shift], flags[shift:], out=reach[:-shift])
        spread = rows
        wide = maximum_filter1d(reach, 2 * cols + 1, axis=1, mode="constant")
        np.maximum(hidden, wide, out=hidden)
    return hidden.astype(bool)


def disk_steps(buffer_m: float, row_m: float, col_m: float) -> list[tuple[int, int]]:
    """The rectangles (half height, half width, in pixels) whose union is every pixel offset
    within `buffer_m` metres (pixels `row_m` by `col_m` apart): a staircase's corners, the
    widest rectangle for each height."""
    tolerance = 1e-9  # an offset exactly `buffer_m` away is within it
    steps: list[tuple[int, int]] = []
    for rows in range(int(buffer_m / row_m + tolerance) + 1):
        across = max(buffer_m**2 - (rows * row_m) ** 2, 0.0)
        cols = int(math.sqrt(across) / col_m + tolerance)
        if steps and steps[-1][1] == cols:
            steps[-1] = (rows, cols)
        else:
            steps.append((rows, cols))
    return steps


def _write_mask(
    band_path: str,
    kind: str,
    dataset: rasterio.DatasetReader,
    partial: Path,
    buffer_m: float = 0.0,
    shadows: CastShadows | None = None,
) -> None:
    """The mask of `band_path`'s clouds and of the `shadows` they cast, widened by `buffer_m`,
    on `dataset`'s grid, row block by row block (each read with the rows a buffer reaches
    across: the same mask whatever the blocks); pixels that `dataset`'s own mask band hides
    stay hidden (a VRT has one mask band)."""
    own_mask = hidden_fills(dataset) is not None
    profile = {
        "driver": "GTiff",
        "width": dataset.width,
        "height": dataset.height,
        "count": 1,
        "dtype": "uint8",
        "crs": dataset.crs,
        "transform": dataset.transform,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
    }
    hidden = flagged = shadowed = 0
    halo = disk_steps(buffer_m, *pixel_metres(dataset, 0))[-1][0] if buffer_m else 0
    with (
        open_quality_band(band_path, kind) as quality,
        rasterio.open(partial, "w", **profile) as out,
    ):
        for row in range(0, dataset.height, ROWS):
            window = Window(0, row, dataset.width, min(ROWS, dataset.height - row))
            top = max(0, row - halo)
            bottom = min(dataset.height, row + window.height + halo)
            around = Window(0, top, dataset.width, bottom - top)
            values = values_under(quality, dataset, around).astype(np.int64)
            with_data = has_data(kind, values)
            clouds = with_data & cloudy(kind, values)
            core = slice(row - top, row - top + window.height)
            if shadows is not None:
                cast = shadows.under(dataset, around) & with_data & ~clouds
                shadowed += int(cast[core].sum())
                clouds |= cast
            if buffer_m:
                spacing = pixel_metres(dataset, row + window.height / 2)
                clouds = widened(clouds, buffer_m, spacing)
            with_data = with_data[core]
            clouds = clouds[core] & with_data
            hidden += int(clouds.sum())
            flagged += int(with_data.sum())
            clear = ~clouds
            if own_mask:
                clear &= dataset.read_masks(1, window=window) > 0
            out.write(np.where(clear, CLEAR, HIDDEN).astype(np.uint8), 1, window=window)
        out.update_tags(HIDDEN_PIXELS=hidden, FLAGGED_PIXELS=flagged, SHADOW_PIXELS=shadowed)


def masked_dataset(dataset: rasterio.DatasetReader, mask: CloudMask) -> rasterio.DatasetReader:
    """`dataset` read through a VRT whose mask band is `mask` (`dataset` is closed)."""
    name = dataset.name
    key = f"{name}:{file_stamp(name)}\n{mask.path}:{file_stamp(mask.path)}"
    vrt = written_once(
        MASK_FOLDER, key, "masked.vrt", lambda partial: _write_vrt(name, mask.path, partial)
    )
    close_dataset(dataset)
    return rasterio.open(vrt)


def _write_vrt(name: str, mask_path: Path, partial: Path) -> None:
    """A VRT of the raster `name` (GDAL's Translate: its bands, nodata, scales and metadata as
    they are) with `mask_path` as its mask band."""
    from osgeo import gdal

    try:
        translated = gdal.Translate(str(partial), name, format="VRT")
    except RuntimeError:  # where GDAL raises (gdal.UseExceptions)
        translated = None
    if translated is None:
        raise InputError(
            f"GDAL cannot wrap {Path(name).name} to hide the product's clouds "
            f"({gdal.GetLastErrorMsg()}); leave out --mask-clouds."
        )
    translated = None  # closing it writes it
    tree = ET.parse(partial)
    band = ET.SubElement(ET.SubElement(tree.getroot(), "MaskBand"), "VRTRasterBand")
    band.set("dataType", "Byte")
    source = ET.SubElement(band, "SimpleSource")
    ET.SubElement(source, "SourceFilename", relativeToVRT="0").text = str(mask_path)
    ET.SubElement(source, "SourceBand").text = "1"
    tree.write(partial, encoding="unicode")
