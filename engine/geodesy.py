"""Areas and lengths in metres, correct in projected and geographic CRSs alike."""

from __future__ import annotations

import math

from osgeo import ogr, osr

#: Radius of the sphere with the WGS84 ellipsoid's area (authalic radius), in metres.
AUTHALIC_RADIUS_M = 6_371_007.2


def spatial_reference(wkt: str) -> osr.SpatialReference:
    """An OSR spatial reference with traditional GIS (x, y) axis order."""
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


class MetricMeasurer:
    """Measures OGR geometries in square metres and metres.

    Projected CRSs are measured in their plane (the CRS's linear unit converted to metres),
    as QGIS does for a planar measurement. Geographic CRSs are measured after projecting each
    geometry to a Lambert azimuthal equal-area projection centred on it, which keeps areas exact
    and lengths accurate to well under 1% for regions of a few hundred kilometres.
    """

    def __init__(self, srs: osr.SpatialReference) -> None:
        self.srs = srs
        self.geographic = bool(srs.IsGeographic())
        self.unit = 1.0 if self.geographic else float(srs.GetLinearUnits() or 1.0)

    def _local(self, geometry: ogr.Geometry) -> ogr.Geometry:
        centre = geometry.Centroid()
        laea = osr.SpatialReference()
        laea.SetLAEA(centre.GetY(), centre.GetX(), 0.0, 0.0)
        laea.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        local = geometry.Clone()
        local.Transform(osr.CoordinateTransformation(self.srs, laea))
        return local

    def area_and_perimeter(self, geometry: ogr.Geometry) -> tuple[float, float]:
        """Area (m2) and perimeter (m) of a polygon or multipolygon."""
        geom = self._local(geometry) if self.geographic else geometry
        scale = self.unit
        return geom.GetArea() * scale * scale, geom.Boundary().Length() * scale


def pixel_area_m2(transform: tuple[float, ...], geographic: bool, unit: float, row: float) -> float:
    """Area of one pixel in m2 at pixel row `row` (a fractional row is fine).

    For geographic rasters the area shrinks with the cosine of the latitude.
    """
    a, b, c, d, e, f = transform[:6]
    planar = abs(a * e - b * d)
    if not geographic:
        return planar * unit * unit
    lat = math.radians(f + e * row)
    metres_per_degree = math.pi / 180.0 * AUTHALIC_RADIUS_M
    return planar * metres_per_degree**2 * math.cos(lat)
