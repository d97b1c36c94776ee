"""Windowed, tiled, compressed GeoTIFF writing.

GDAL writes a block to the file when its shared block cache flushes it: at close, in an order
that differs from process to process, or earlier, when another thread needs the room, and a
block flushed half-written is written again at the end of the file. A product file is
therefore written to a scratch file beside it and copied, block by block in order, on close
(`ordered`): the same pixels always give the same bytes, with no dead space.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from .gdal_io import GDAL_IO
from .pixel_grid import grid_window_transform

#: Block size of every GeoTIFF the engine writes.
BLOCK = 256


def _gtiff_has_zstd() -> bool:
    from osgeo import gdal

    options = gdal.GetDriverByName("GTiff").GetMetadataItem("DMD_CREATIONOPTIONLIST") or ""
    return "ZSTD" in options


#: Compression of the files the run writes and reads back (or copies) itself.
_SCRATCH_COMPRESSION = (
    {"compress": "zstd", "zstd_level": 1} if _gtiff_has_zstd() else {"compress": "deflate"}
)


class GeoTiffSink:
    """A GeoTIFF opened for window-by-window writing on the grid of a source dataset."""

    def __init__(
        self,
        path: Path,
        like: rasterio.DatasetReader,
        dtype: str,
        count: int = 1,
        nodata: float | None = None,
        area: Window | None = None,
        scratch: bool = False,
        ordered: bool = False,
    ) -> None:
        """`scratch` marks a work file read back by the run itself: ZSTD level 1 compresses
        label rasters about as well as deflate, three to four times faster. `ordered` writes
        `path` on close, its blocks in order (see the module's docstring)."""
        area = area or Window(0, 0, like.width, like.height)
        self.origin = (int(area.col_off), int(area.row_off))
        tiled = area.width >= BLOCK and area.height >= BLOCK
        profile = {
            "driver": "GTiff",
            "width": int(area.width),
            "height": int(area.height),
            "count": count,
            "dtype": dtype,
            "crs": like.crs,
            "transform": grid_window_transform(like, area),
            "nodata": nodata,
            "compress": "deflate",
            "tiled": tiled,
            "BIGTIFF": "IF_SAFER",
        }
        if tiled:
            profile.update(blockxsize=BLOCK, blockysize=BLOCK)
        if dtype.startswith("float"):
            profile["predictor"] = 3
        self.path = Path(path)
        #: Creation options of the file copied to `path` on close; None when written in place.
        self._copy_options = _creation_options(profile) if ordered else None
        if scratch or ordered:
            profile.update(_SCRATCH_COMPRESSION)
        written = self.path.with_name(f".{self.path.name}.scratch.tif") if ordered else self.path
        with warnings.catch_warnings():
            # A raster without a CRS keeps its grid (`pixel_grid`): the outputs are on it.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            self.dataset = rasterio.open(written, "w", **profile)

    def write(self, array: np.ndarray, window: Window, band: int = 1) -> None:
        """Write a 2-D `array` at `window` (in source raster pixel coordinates)."""
        local = Window(
            int(window.col_off) - self.origin[0],
            int(window.row_off) - self.origin[1],
            int(window.width),
            int(window.height),
        )
        values = array.astype(self.dataset.dtypes[band - 1], copy=False)
        with GDAL_IO:
            self.dataset.write(values, band, window=local)

    def describe(
        self,
        band_names: Sequence[str] | None = None,
        colormap: Mapping[int, tuple[int, int, int]] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Attach band descriptions, a colour table (band 1) and dataset tags."""
        for i, name in enumerate(band_names or [], start=1):
            self.dataset.set_band_description(i, name)
        if colormap:
            self.dataset.write_colormap(1, {k: (*v, 255) for k, v in colormap.items()})
        if tags:
            self.dataset.update_tags(**tags)

    def close(self, complete: bool = True) -> None:
        """Flush and close the file (under `GDAL_IO`: flushing writes blocks); an `ordered`
        sink then copies it to `path` when `complete`, and removes its scratch file."""
        with GDAL_IO:
            self.dataset.close()
        if self._copy_options is None:
            return
        scratch = Path(self.dataset.name)
        try:
            if complete:
                with GDAL_IO, warnings.catch_warnings():
                    warnings.simplefilter("ignore", NotGeoreferencedWarning)
                    rasterio.shutil.copy(scratch, self.path, **self._copy_options)
        finally:
            scratch.unlink(missing_ok=True)

    def __enter__(self) -> GeoTiffSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(complete=exc_type is None)


def _creation_options(profile: Mapping[str, object]) -> dict[str, object]:
    """The GTiff creation options of `profile` (what `rasterio.shutil.copy` takes)."""
    keys = ("compress", "tiled", "blockxsize", "blockysize", "predictor", "BIGTIFF")
    return {"driver": "GTiff"} | {key: profile[key] for key in keys if key in profile}
