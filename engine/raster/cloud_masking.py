"""Hiding what the product's own quality band flags as cloud (``--mask-clouds``).

An analyst working on a Landsat, HLS or Sentinel-2 L2A product masks its clouds and their
shadows with the product's quality band before anything else (QA_PIXEL, Fmask, SCL:
`quality_bands`); otherwise a shadow is water, a cloud edge built-up, and both move every
statistic of the scene. Here the flags become a mask on the raster's own grid (255 clear,
0 hidden; a GeoTIFF written once per raster and band, `temporary_files`), and the raster is
read through a VRT that declares it as its mask band. Every read then takes the hidden pixels
for nodata (`mask_band`): the global sample, its statistics and seeds, the tiles, the mask
and the polygons, in this process and in a Dask worker that reopens the VRT.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import rasterio
from rasterio.windows import Window

from ..errors import InputError
from .mask_band import hidden_fills
from .pixel_grid import close_dataset
from .quality_bands import (
    CLOUD_FLAGS,
    MADE_BY,
    ROWS,
    cloudy,
    has_data,
    quality_band_of,
    same_ground,
    values_under,
)
from .temporary_files import file_stamp, written_once

#: Where the masks and the VRTs that declare them are written.
MASK_FOLDER = "spex-cloud-masks"
#: Values of the mask: GDAL's mask band convention.
CLEAR, HIDDEN = 255, 0


@dataclass(frozen=True)
class CloudMask:
    """The clouds a run hides: which band flagged them and how many pixels they are.

    Attributes:
        band: The quality band's file name.
        kind: ``"QA_PIXEL"``, ``"Fmask"`` or ``"SCL"``.
        path: The mask on the raster's grid (`CLEAR`, `HIDDEN`).
        hidden_pixels: Raster pixels hidden.
        flagged_pixels: Raster pixels the quality band has data for.
    """

    band: str
    kind: str
    path: Path
    hidden_pixels: int
    flagged_pixels: int

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
        }

    def sentence(self) -> str:
        """One line for the explanation."""
        return (
            f"Clouds hidden: {self.share:.1%} of the raster "
            f"({self.hidden_pixels:,} pixels) is what `{self.band}` ({MADE_BY[self.kind]} "
            f"flags) marks as {self.flags}; those pixels are nodata in every statistic and "
            "output."
        )


def cloud_mask_for(input_name: str, dataset: rasterio.DatasetReader) -> CloudMask:
    """The mask of the clouds that the quality band of the product `input_name` names flags,
    on the grid of `dataset` (the raster opened from it). Raises `InputError` where the product
    has no quality band or it lies on another grid."""
    shown = Path(input_name).name or input_name
    found = quality_band_of(input_name)
    if found is None:
        raise InputError(
            f"Hiding the product's clouds (--mask-clouds) needs its quality band beside {shown} "
            "(Landsat QA_PIXEL, HLS Fmask, Sentinel-2 L2A SCL or L1C MSK_CLASSI); give the "
            "product whole or a band file in its folder, or leave it out."
        )
    band_path, kind = found
    band = PurePosixPath(band_path).name
    if getattr(dataset, "src_dataset", None) is not None:
        raise InputError(
            f"{shown} is read warped, so the product's clouds (--mask-clouds) cannot be hidden "
            "pixel by pixel; leave it out."
        )
    with rasterio.open(band_path) as quality:
        if quality.crs != dataset.crs or not same_ground(quality, dataset):
            raise InputError(
                f"{band} does not lie on {shown}'s pixel grid, so the product's clouds "
                "(--mask-clouds) cannot be hidden pixel by pixel; leave it out, or give the "
                "product as delivered."
            )
    # the raster, what was given (a .tar's stamp for a band inside it) and the band, as now
    key = "\n".join(f"{n}:{file_stamp(n)}" for n in (dataset.name, input_name, band_path))
    path = written_once(
        MASK_FOLDER,
        f"{key}\n{kind}",
        "clouds.tif",
        lambda partial: _write_mask(band_path, kind, dataset, partial),
    )
    with rasterio.open(path) as written:
        tags = written.tags()
    return CloudMask(band, kind, path, int(tags["HIDDEN_PIXELS"]), int(tags["FLAGGED_PIXELS"]))


def _write_mask(band_path: str, kind: str, dataset: rasterio.DatasetReader, partial: Path) -> None:
    """The mask of `band_path`'s clouds on `dataset`'s grid, row block by row block; pixels
    that `dataset`'s own mask band hides stay hidden (a VRT has one mask band)."""
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
    hidden = flagged = 0
    with rasterio.open(band_path) as quality, rasterio.open(partial, "w", **profile) as out:
        for row in range(0, dataset.height, ROWS):
            window = Window(0, row, dataset.width, min(ROWS, dataset.height - row))
            values = values_under(quality, dataset, window).astype(np.int64)
            with_data = has_data(kind, values)
            clouds = with_data & cloudy(kind, values)
            hidden += int(clouds.sum())
            flagged += int(with_data.sum())
            clear = ~clouds
            if own_mask:
                clear &= dataset.read_masks(1, window=window) > 0
            out.write(np.where(clear, CLEAR, HIDDEN).astype(np.uint8), 1, window=window)
        out.update_tags(HIDDEN_PIXELS=hidden, FLAGGED_PIXELS=flagged)


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
