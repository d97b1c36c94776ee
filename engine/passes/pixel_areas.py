"""The ground size of a raster's pixels: their areas, for its valid area and its regions' areas,
and their spacing, for distances given in metres (a cloud buffer, a model's resolution).

Per row where the area depends on the row alone (a geographic CRS, Mercator, or any plane that
holds: `geodesy.row_pixel_areas`), across the raster where a projection's plane departs from
the ground by the row and the column (`plane_scale`: a polar stereographic grid). A part of the
raster is measured by its pixel count times the area at its pixels' centroid: exact where the
area varies linearly, within 1e-5 over a 128 km tile of a polar grid (`tests/test_plane_scale.py`),
and less with the square of a smaller part's extent.
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from .geodesy import AUTHALIC_RADIUS_M, MetricMeasurer, row_pixel_areas, spatial_reference
from .plane_scale import PlaneScale, plane_scale


class PixelAreas:
    """m2 per pixel of an open rasterio dataset; `metric` False without a CRS (areas are then
    counted in pixels by the caller)."""

    def __init__(self, dataset: object) -> None:
        self.dataset = dataset
        self.metric = dataset.crs is not None
        #: Set where the plane departs from the ground across the raster.
        self.scale: PlaneScale | None = plane_of(dataset) if self.metric else None
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


def pixel_metres(dataset: object, row: float, col: float | None = None) -> tuple[float, float]:
    """The (row, column) spacing of `dataset`'s pixels in metres on the ground at fractional
    pixel row `row` (and column `col`, default the middle one). In the CRS's linear unit where
    its plane holds; divided by the plane's linear scale where it departs from the ground
    (`plane_scale`: a polar stereographic grid, whose 100 m pixel is 96 m of ground at 60
    degrees); on the authalic sphere at that latitude for a geographic CRS (degrees) and a
    projection whose plane misleads (Web Mercator: `plane_misleads`). `dataset` is an open
    rasterio dataset with a CRS."""
    a, c, e, f = dataset.transform.a, dataset.transform.c, dataset.transform.e, dataset.transform.f
    measurer = MetricMeasurer(spatial_reference(dataset.crs.to_wkt()))
    if not measurer.geographic:
        # The measurer's unit: a local (engineering) CRS has one too, where rasterio has none.
        spacing = abs(e) * measurer.unit, abs(a) * measurer.unit
        plane = plane_of(dataset)
        if plane is None:
            return spacing
        at = dataset.width / 2 if col is None else col
        linear = math.sqrt(float(plane.ratio_at(np.array([row]), np.array([at]))[0]))
        return spacing[0] / linear, spacing[1] / linear
    y = f + e * row
    # The pixel's steps in degrees there (a geographic CRS's own; a misleading plane's taken back).
    (lon, lat), (right, _), (_, below) = measurer.lonlat(np.array([[c, y], [c + a, y], [c, y + e]]))
    metres_per_degree = math.radians(AUTHALIC_RADIUS_M)
    return (
        abs(below - lat) * metres_per_degree,
        abs(right - lon) * metres_per_degree * math.cos(math.radians(lat)),
    )


def plane_of(dataset: object) -> PlaneScale | None:
    """`plane_scale` of an open rasterio dataset with a CRS, measured once a grid (20-26 ms)
    however often the run asks: its pixel areas, the scene fit's and the cloud buffer's pixel
    spacing, each window's."""
    return _plane_of(dataset.crs.to_wkt(), tuple(dataset.transform)[:6], *dataset.shape)


@functools.lru_cache(maxsize=16)
def _plane_of(wkt: str, transform: tuple[float, ...], height: int, width: int) -> PlaneScale | None:
    """`plane_scale` of the grid these describe."""
    grid = SimpleNamespace(
        crs=CRS.from_wkt(wkt), transform=Affine(*transform), height=height, width=width
    )
    return plane_scale(grid)
