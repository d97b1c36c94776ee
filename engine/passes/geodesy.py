"""Areas and lengths in metres, correct in projected and geographic CRSs alike.

Projected CRSs are measured in their plane (the CRS's linear unit converted to metres), as QGIS
does for a planar measurement. Geographic CRSs are measured on the CRS's ellipsoid in bulk,
from the vertices in degrees, with no reprojection: areas with the ellipsoid's zone area (exact
for edges along parallels and meridians, which every polygonized pixel edge is), lengths with
the radii of curvature at each edge's mid-latitude. A raster without a CRS has no metric
measure: areas are counted in pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from osgeo import ogr, osr

#: Radius of the sphere with the WGS84 ellipsoid's area (authalic radius), in metres.
AUTHALIC_RADIUS_M = 6_371_007.2


def spatial_reference(wkt: str) -> osr.SpatialReference | None:
    """An OSR spatial reference with traditional GIS (x, y) axis order; None for no CRS."""
    if not wkt:
        return None
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


class Ellipsoid:
    """Zone areas and radii of curvature of an ellipsoid (semi-major axis, eccentricity)."""

    def __init__(self, semi_major: float, inverse_flattening: float) -> None:
        self.a = float(semi_major)
        f = 1.0 / inverse_flattening if inverse_flattening else 0.0
        self.e2 = f * (2.0 - f)
        self.e = math.sqrt(self.e2)
        self.b2 = (self.a * (1.0 - f)) ** 2

    def zone_area(self, lat_rad: np.ndarray) -> np.ndarray:
        """Area from the equator to each latitude per radian of longitude (m2), signed."""
        s = np.sin(lat_rad)
        if self.e == 0.0:
            return self.b2 * s
        es = self.e * s
        return (
            0.5 * self.b2 * (s / (1.0 - es * es) + np.log((1.0 + es) / (1.0 - es)) / (2 * self.e))
        )

    def radii(self, lat_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Meridional (M) and prime-vertical (N) radii of curvature at each latitude (m)."""
        w2 = 1.0 - self.e2 * np.sin(lat_rad) ** 2
        return self.a * (1.0 - self.e2) / w2**1.5, self.a / np.sqrt(w2)


def _ring_area_length(xy: np.ndarray, ellipsoid: Ellipsoid, to_rad: float) -> tuple[float, float]:
    """Area (m2, unsigned) and length (m) of a closed ring of (lon, lat) vertices."""
    lon, lat = xy[:, 0] * to_rad, xy[:, 1] * to_rad
    dlon, dlat = np.diff(lon), np.diff(lat)
    zone = ellipsoid.zone_area(lat)
    area = abs(float(np.sum(dlon * 0.5 * (zone[:-1] + zone[1:]))))
    mid = 0.5 * (lat[:-1] + lat[1:])
    m, n = ellipsoid.radii(mid)
    length = float(np.sum(np.hypot(n * np.cos(mid) * dlon, m * dlat)))
    return area, length


class MetricMeasurer:
    """Measures OGR polygons in square metres and metres (see the module docstring).

    `metric` is False for a raster without a CRS: areas are then in pixels (the identity
    grid's unit) and lengths in pixel edges.
    """

    def __init__(self, srs: osr.SpatialReference | None) -> None:
        self.srs = srs
        self.metric = srs is not None
        self.geographic = bool(srs is not None and srs.IsGeographic())
        self.unit = 1.0
        self._ellipsoid: Ellipsoid | None = None
        if self.geographic:
            self.unit = float(srs.GetAngularUnits() or math.pi / 180.0)  # radians per unit
            self._ellipsoid = Ellipsoid(srs.GetSemiMajor(), srs.GetInvFlattening())
        elif srs is not None:
            self.unit = float(srs.GetLinearUnits() or 1.0)

    def area_and_perimeter(self, geometry: ogr.Geometry) -> tuple[float, float]:
        """Area (m2) and perimeter (m) of a polygon or multipolygon."""
        if not self.geographic:
            return (
                geometry.GetArea() * self.unit * self.unit,
                geometry.Boundary().Length() * self.unit,
            )
        assert self._ellipsoid is not None
        area = length = 0.0
        for polygon in _polygons(geometry):
            for k in range(polygon.GetGeometryCount()):
                xy = np.asarray(polygon.GetGeometryRef(k).GetPoints(), dtype=np.float64)
                if len(xy) < 2:
                    continue
                ring_area, ring_length = _ring_area_length(xy[:, :2], self._ellipsoid, self.unit)
                area += ring_area if k == 0 else -ring_area  # holes after the exterior ring
                length += ring_length
        return area, length


def _polygons(geometry: ogr.Geometry) -> Sequence[ogr.Geometry]:
    if geometry.GetGeometryType() in (ogr.wkbPolygon, ogr.wkbPolygon25D):
        return [geometry]
    return [geometry.GetGeometryRef(i) for i in range(geometry.GetGeometryCount())]


def pixel_area_m2(transform: tuple[float, ...], geographic: bool, unit: float, row: float) -> float:
    """Area of one pixel in m2 at pixel row `row` (a fractional row is fine), on a sphere.

    For geographic rasters the area shrinks with the cosine of the latitude. `row_pixel_areas`
    measures on the CRS's own ellipsoid, for whole arrays of rows.
    """
    a, b, c, d, e, f = transform[:6]
    planar = abs(a * e - b * d)
    if not geographic:
        return planar * unit * unit
    lat = math.radians(f + e * row)
    metres_per_degree = math.pi / 180.0 * AUTHALIC_RADIUS_M
    return planar * metres_per_degree**2 * math.cos(lat)


def row_pixel_areas(dataset: object, rows: np.ndarray) -> np.ndarray | None:
    """Area in m2 of one pixel centred at each fractional row (`r + 0.5` is row r's centre).

    On the ellipsoid for a geographic CRS (the exact area of the pixel's quadrangle, for a
    north-up grid), in the plane for a projected one; None without a CRS (areas in pixels).
    `dataset` is an open rasterio dataset.
    """
    crs = dataset.crs
    if crs is None:
        return None
    measurer = MetricMeasurer(spatial_reference(crs.to_wkt()))
    a, b, _c, d, e, f = tuple(dataset.transform)[:6]
    rows = np.asarray(rows, dtype=np.float64)
    if not measurer.geographic:
        return np.full(rows.shape, abs(a * e - b * d) * measurer.unit**2)
    assert measurer._ellipsoid is not None
    to_rad = measurer.unit
    # Latitudes of the pixel's top and bottom edges (north-up: b = d = 0; a rotated grid is
    # measured by its row step all the same).
    top = (f + e * (rows - 0.5)) * to_rad
    bottom = (f + e * (rows + 0.5)) * to_rad
    zone = measurer._ellipsoid.zone_area
    return np.abs(zone(top) - zone(bottom)) * abs(a) * to_rad
