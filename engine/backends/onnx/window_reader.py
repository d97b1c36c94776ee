"""Model windows read from a second handle on the raster: windows that cross tile borders, or
that are resampled to the model's resolution."""

from __future__ import annotations

import threading
import weakref

import numpy as np
from rasterio.enums import Resampling
from rasterio.windows import Window

from ...raster.averaged_bands import read_indexes
from ...raster.gdal_io import GDAL_IO
from ...raster.mask_band import read_masked
from ...raster.pixel_grid import close_dataset, reopen_dataset
from ...raster.raster_source import RasterSource


class WindowReader:
    """A second handle on the raster for model windows that cross tile borders, or that are
    resampled to the model's resolution (thread-safe)."""

    def __init__(self, source: RasterSource) -> None:
        dataset = reopen_dataset(source.dataset)
        self._source = RasterSource(dataset, source.mapping, source.scaling)
        self._lock = threading.Lock()
        self.reads = 0
        # closed at the end of the run, or when collected, never left to interpreter exit
        self._finalizer = weakref.finalize(self, close_dataset, dataset)

    def read(
        self, window: Window, roles: tuple[str, ...], shape: tuple[int, int] | None = None
    ) -> dict[str, np.ndarray]:
        """Bands `roles` of `window` as float32 reflectance, exactly like the pipeline's reads;
        with `shape`, resampled to it (averaged when shrinking, bilinear when enlarging)."""
        with self._lock:
            self.reads += 1
            if shape is None:
                return self._source.read(window, roles)
            source = self._source
            wanted = tuple(r for r in source.roles if r in roles)
            indexes = read_indexes(source.mapping, wanted)
            shrink = window.height > shape[0]
            with GDAL_IO:
                raw = read_masked(
                    source.dataset,
                    indexes,
                    window,
                    source.hidden_fills,
                    out_shape=(len(indexes), *shape),
                    resampling=Resampling.average if shrink else Resampling.bilinear,
                )
            return source.scale_raw(source.role_rows(raw, indexes, wanted), wanted)

    def close(self) -> None:
        """Close the handle."""
        self._finalizer()
