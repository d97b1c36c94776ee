"""Areas and lengths in metres, correct in projected and geographic CRSs alike.

Projected CRSs are measured in their plane (the CRS's linear unit converted to metres), as QGIS
does for a planar measurement. Geographic CRSs are measured on the CRS's ellipsoid in bulk,
from the vertices in degrees, with no reprojection: areas with the ellipsoid's zone area (exact
for edges along parallels and meridians, which every polygonized pixel edge is), lengths with
the radii of curvature at each edge's mid-latitude. So are the cylindrical projections whose
plane is no measure (`plane_misleads`: Mercator, Web Mercator, plate carree, whose scale grows
away from the equator: at 40 degrees a Web Mercator pixel's plane is 1.7 times its ground),
from their vertices taken back to longitude and latitude; every pixel edge is still a parallel
or a meridian there. A projection whose plane departs from the ground by the row and the column
(a polar stereographic grid) is measured in its plane and divided by its scale there
(`plane_scale`). A raster without a CRS has no metric measure: areas are counted in pixels.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from osgeo import ogr, osr

if TYPE_CHECKING:
    from .plane_scale import PlaneScale

#: Vertices measured in one vectorised pass (whole rings, so a ring's sums never depend on
#: its neighbours): the float64 temporaries stay near 100 bytes per vertex of it.
RING_CHUNK_VERTICES = 65536

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


def layer_reference(srs: osr.SpatialReference | None) -> osr.SpatialReference:
    """The spatial reference to write a layer with: `srs`, or for no CRS the GeoPackage's
    undefined Cartesian one (srs_id -1): pixel coordinates are not degrees, but written with no
    reference at all GDAL gives the undefined geographic one (srs_id 0), which QGIS and GDAL
    read back as latitude and longitude."""
    if srs is not None:
        return srs
    undefined = osr.SpatialReference()
    undefined.SetFromUserInput('LOCAL_CS["Undefined Cartesian SRS"]')
    return undefined


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


#: A little-endian WKB count or type.
_UINT = struct.Struct("<I")


def polygon_rings(geometry: ogr.Geometry) -> list[tuple[np.ndarray, bool]]:
    """The rings of a 2-D polygon or multipolygon as ((n, 2) float64 vertices, is_exterior).

    Read from the geometry's WKB in one call: no Python tuple per vertex.
    """
    wkb = bytes(geometry.ExportToWkb(ogr.wkbNDR))
    rings: list[tuple[np.ndarray, bool]] = []
    kind = _UINT.unpack_from(wkb, 1)[0]
    if kind == ogr.wkbPolygon:
        _read_polygon(wkb, 0, rings)
    elif kind == ogr.wkbMultiPolygon:
        offset = 9
        for _ in range(_UINT.unpack_from(wkb, 5)[0]):
            offset = _read_polygon(wkb, offset, rings)
    else:
        raise ValueError(f"not a 2-D polygon or multipolygon (WKB type {kind})")
    return rings


def _read_polygon(wkb: bytes, offset: int, rings: list[tuple[np.ndarray, bool]]) -> int:
    """Append the rings of the WKB polygon at `offset` to `rings`; return the offset after it."""
    kind, n_rings = _UINT.unpack_from(wkb, offset + 1)[0], _UINT.unpack_from(wkb, offset + 5)[0]
    if kind != ogr.wkbPolygon:
        raise ValueError(f"not a 2-D polygon (WKB type {kind})")
    offset += 9
    for k in range(n_rings):
        count = _UINT.unpack_from(wkb, offset)[0]
        xy = np.frombuffer(wkb, dtype="<f8", count=2 * count, offset=offset + 4)
        rings.append((xy.reshape(count, 2), k == 0))
        offset += 4 + 16 * count
    return offset


#: Projections (by their name's words, lower case) whose plane is no measure of area: their
#: scale grows with the distance from the equator (1 / cos(latitude), squared for areas).
#: Transverse and oblique Mercator (UTM) keep theirs within 0.1 %.
MISLEADING_PLANES = ("mercator", "equirectangular", "plate_carree")


def plane_misleads(srs: osr.SpatialReference | None) -> bool:
    """Whether `srs` is a cylindrical projection whose plane misstates areas by the latitude
    (Mercator, Web Mercator, plate carree): measured on the ellipsoid instead."""
    if srs is None or not srs.IsProjected():
        return False
    method = (srs.GetAttrValue("PROJECTION") or "").lower()
    return any(m in method for m in MISLEADING_PLANES) and not (
        "transverse" in method or "oblique" in method
    )


class MetricMeasurer:
    """Measures OGR polygons in square metres and metres (see the module docstring).

    `metric` is False for a raster without a CRS: areas are then in pixels (the identity
    grid's unit) and lengths in pixel edges. `geographic` is True where the vertices are
    measured on the ellipsoid (a geographic CRS, or a projection whose plane misleads, whose
    vertices `lonlat` takes back to degrees first).
    """

    def __init__(self, srs: osr.SpatialReference | None, plane: PlaneScale | None = None) -> None:
        """`plane`: for a projected CRS measured in its plane, the plane's scale across the
        raster (`plane_scale`); each polygon's planar area and perimeter are then divided by
        it at the polygon's centroid (by its square root for the perimeter)."""
        self.srs = srs
        self.metric = srs is not None
        self.plane = plane
        self._to_lonlat: osr.CoordinateTransformation | None = None
        if plane_misleads(srs):
            geographic = srs.CloneGeogCS()
            geographic.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            self._to_lonlat = osr.CoordinateTransformation(srs, geographic)
        self.geographic = bool(srs is not None and (srs.IsGeographic() or self._to_lonlat))
        self.unit = 1.0
        self._ellipsoid: Ellipsoid | None = None
        if self.geographic:
            # Radians per unit of the vertices as measured: degrees after `lonlat`.
            angular = srs.GetAngularUnits() if srs.IsGeographic() else 0.0
            self.unit = float(angular or math.pi / 180.0)
            self._ellipsoid = Ellipsoid(srs.GetSemiMajor(), srs.GetInvFlattening())
        elif srs is not None:
            self.unit = float(srs.GetLinearUnits() or 1.0)

    def lonlat(self, xy: np.ndarray) -> np.ndarray:
        """(n, 2) vertices in the CRS as the ellipsoid measures them: as they are in a
        geographic CRS, in degrees of longitude and latitude for a projection whose plane
        misleads."""
        if self._to_lonlat is None or not len(xy):
            return xy
        return np.asarray(self._to_lonlat.TransformPoints(np.ascontiguousarray(xy)))[:, :2]

    def area_and_perimeter(self, geometry: ogr.Geometry) -> tuple[float, float]:
        """Area (m2) and perimeter (m) of a polygon or multipolygon."""
        areas, lengths = self.areas_and_perimeters([geometry])
        return float(areas[0]), float(lengths[0])

    def areas_and_perimeters(
        self, geometries: Sequence[ogr.Geometry]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Areas (m2) and perimeters (m) of 2-D polygons or multipolygons, as float64 arrays.

        In a geographic CRS every vertex of every geometry is measured in one vectorised pass
        (the cost is per vertex, not per polygon); in a projected one OGR measures each.
        """
        if not self.geographic:
            areas = np.array([g.GetArea() * self.unit * self.unit for g in geometries], float)
            lengths = np.array([_rings_length(g) * self.unit for g in geometries], float)
            if self.plane is not None and len(geometries):
                centroids = np.array([g.Centroid().GetPoint_2D() for g in geometries])
                ratio = self.plane.ratio_at_xy(centroids[:, 0], centroids[:, 1])
                areas, lengths = areas / ratio, lengths / np.sqrt(ratio)
            return areas, lengths
        assert self._ellipsoid is not None
        areas = np.zeros(len(geometries))
        lengths = np.zeros(len(geometries))
        rings: list[np.ndarray] = []
        owner: list[int] = []
        sign: list[float] = []

        def measure() -> None:
            measured = rings
            if self._to_lonlat is not None:  # every vertex of the chunk taken back at once
                sizes = np.cumsum([len(r) for r in rings])[:-1]
                measured = np.split(self.lonlat(np.concatenate(rings)), sizes)
            ring_areas, ring_lengths = rings_area_length(measured, self._ellipsoid, self.unit)
            np.add.at(areas, owner, np.asarray(sign) * ring_areas)  # in ring order
            np.add.at(lengths, owner, ring_lengths)
            rings.clear()
            owner.clear()
            sign.clear()

        vertices = 0
        for index, geometry in enumerate(geometries):
            for xy, exterior in polygon_rings(geometry):
                if len(xy) >= 2:
                    rings.append(xy)
                    owner.append(index)
                    sign.append(1.0 if exterior else -1.0)  # holes after the exterior ring
                    vertices += len(xy)
                    if vertices >= RING_CHUNK_VERTICES:  # bounded temporaries (~100 B each)
                        measure()
                        vertices = 0
        if rings:
            measure()
        return areas, lengths


def _rings_length(geometry: ogr.Geometry) -> float:
    """Planar length of every ring of a polygon or multipolygon, summed as
    `Boundary().Length()` sums it, without building that boundary (a copy of every vertex)."""
    if ogr.GT_Flatten(geometry.GetGeometryType()) == ogr.wkbPolygon:
        polygons = [geometry]
    else:
        polygons = [geometry.GetGeometryRef(i) for i in range(geometry.GetGeometryCount())]
    length = 0.0
    for polygon in polygons:
        for k in range(polygon.GetGeometryCount()):
            length += polygon.GetGeometryRef(k).Length()
    return length


def rings_area_length(
    rings: Sequence[np.ndarray], ellipsoid: Ellipsoid, to_rad: float
) -> tuple[np.ndarray, np.ndarray]:
    """Areas (m2, unsigned) and lengths (m) of closed rings of (lon, lat) vertices, in bulk."""
    sizes = np.array([len(r) for r in rings])
    xy = np.concatenate(rings) * to_rad
    lon, lat = xy[:, 0], xy[:, 1]
    dlon, dlat = np.diff(lon), np.diff(lat)
    zone = ellipsoid.zone_area(lat)
    mid = 0.5 * (lat[:-1] + lat[1:])
    m, n = ellipsoid.radii(mid)
    area_terms = dlon * 0.5 * (zone[:-1] + zone[1:])
    length_terms = np.hypot(n * np.cos(mid) * dlon, m * dlat)
    # Edge i joins vertices i and i + 1; the edge from a ring's last vertex to the next ring's
    # first is not an edge: zero it, and sum each ring's edges from its first vertex (every
    # ring has two vertices or more, so each start is an edge).
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    joins = starts[1:] - 1
    area_terms[joins] = 0.0
    length_terms[joins] = 0.0
    return np.abs(np.add.reduceat(area_terms, starts)), np.add.reduceat(length_terms, starts)


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

    On the ellipsoid for a geographic CRS and for a projection whose plane misleads (the exact
    area of the pixel's quadrangle, for a north-up grid), in the plane for another projected
    one; None without a CRS (areas in pixels). `dataset` is an open rasterio dataset.
    """
    crs = dataset.crs
    if crs is None:
        return None
    measurer = MetricMeasurer(spatial_reference(crs.to_wkt()))
    a, b, c, d, e, f = tuple(dataset.transform)[:6]
    rows = np.asarray(rows, dtype=np.float64)
    if not measurer.geographic:
        return np.full(rows.shape, abs(a * e - b * d) * measurer.unit**2)
    assert measurer._ellipsoid is not None
    to_rad = measurer.unit
    # The pixel's top and bottom edges, and its width, in longitude and latitude (north-up:
    # b = d = 0; a rotated grid is measured by its row step all the same). On a cylindrical
    # projection a column spans the same longitude on every row.
    edges = np.concatenate([f + e * (rows - 0.5), f + e * (rows + 0.5)])
    lat = measurer.lonlat(np.column_stack([np.full(edges.shape, c), edges]))[:, 1]
    width = np.diff(measurer.lonlat(np.array([[c, f], [c + a, f]]))[:, 0])[0]
    top, bottom = np.split(lat * to_rad, 2)
    zone = measurer._ellipsoid.zone_area
    return np.abs(zone(top) - zone(bottom)) * abs(width) * to_rad
