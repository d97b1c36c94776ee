"""The ground area of a raster's pixels, for its valid area and its regions' areas.

Per row where the area depends on the row alone (a geographic CRS, Mercator, or any plane that
holds: `geodesy.row_pixel_areas`), across the raster where a projection's plane departs from
the ground by the row and the column (`plane_scale`: a polar stereographic grid). A part of the
raster is measured by its pixel count times the area at its pixels' centroid: exact where the
area varies linearly, within 1e-5 over a 128 km tile of a polar grid (`tests/test_plane_scale.py`),
and less with the square of a smaller part's extent.
"""

from __future__ import annotations

import numpy as np

from .geodesy import row_pixel_areas
from .plane_scale import PlaneScale, plane_scale


class PixelAreas:
    """m2 per pixel of an open rasterio dataset; `metric` False without a CRS (areas are then
    counted in pixels by the caller)."""

    def __init__(self, dataset: object) -> None:
        self.dataset = dataset
        self.metric = dataset.crs is not None
        #: Set where the plane departs from the ground across the raster.
        self.scale: PlaneScale | None = plane_scale(dataset) if self.metric else None
        self._rows: np.ndarray | None = None
        if self.metric and self.scale is None:
            self._rows = row_pixel_areas(dataset, np.arange(dataset.height) + 0.5)

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Area (m2) of one pixel centred at fractional (row, col) positions (`r + 0.5` is row
        r's centre)."""
        if not self.metric:
            raise ValueError("a raster without a CRS has no pixel areas in m2")
        if self.scale is not None:
            return self.scale.pixel_area_at(rows, cols)
        return row_pixel_areas(self.dataset, np.asarray(rows, dtype=np.float64))

    def of_part(
        self, row_off: int, col_off: int, valid_per_row: np.ndarray, valid_per_col: np.ndarray
    ) -> float:
        """Area (m2) of the valid pixels of a window at (`row_off`, `col_off`), given their
        counts per row and per column of it."""
        if not self.metric:
            raise ValueError("a raster without a CRS has no pixel areas in m2")
        if self.scale is None:
            assert self._rows is not None
            return float(valid_per_row @ self._rows[row_off : row_off + len(valid_per_row)])
        count = float(valid_per_row.sum())
        if not count:
            return 0.0
        row = row_off + (valid_per_row @ (np.arange(len(valid_per_row)) + 0.5)) / count
        col = col_off + (valid_per_col @ (np.arange(len(valid_per_col)) + 0.5)) / count
        return count * float(self.scale.pixel_area_at(np.array([row]), np.array([col]))[0])
