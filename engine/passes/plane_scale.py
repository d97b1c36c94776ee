"""How far a projection's plane departs from the ground over a raster, and the ground area of
each of its pixels where the departure matters.

A projected CRS is measured in its plane (`geodesy`), except the cylindrical ones whose plane
is no measure at all (`geodesy.plane_misleads`). The plane is the ground within 0.2 % for UTM
and national grids, but not for a conformal projection far from its true scale: a polar
stereographic grid true at 70 degrees (NSIDC's EPSG:3413, EPSG:3031) overstates areas at 60
degrees by 8 % and understates them at the pole by 6 %, a continental Lambert conformal conic
grid by several percent at its edges. Equal-area projections (Albers, Lambert azimuthal,
sinusoidal) keep areas whatever their extent. So the departure is measured over the raster
itself, the ground area of small squares across it on the CRS's ellipsoid, not guessed from the
projection's name; where it passes `PLANE_AREA_TOLERANCE` the run measures ground areas with
`PlaneScale`, the plane-to-ground ratio interpolated between those squares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from osgeo import osr
from scipy import ndimage

from .geodesy import Ellipsoid, plane_misleads, rings_area_length, spatial_reference

#: The plane's area error above which ground areas replace the plane's (UTM's is 0.2 % at a
#: zone's edge, a national grid's less: both stay in the plane, as QGIS's planar measure).
PLANE_AREA_TOLERANCE = 0.01
#: Squares measured across the raster, per side: the ratio is smooth (a polar grid's varies
#: with the distance from the pole), so bilinear interpolation between 17 x 17 of them is
#: within 0.1 % even over a whole hemisphere's grid.
NODES_PER_SIDE = 17
#: Side of each square, in metres: large enough for float64 to resolve its ground area (to
#: 1e-7), small enough that its edges are straight in longitude and latitude (a square of
#: 16 km 80 km from a pole was measured 1.6 % small).
SQUARE_M = 200.0


@dataclass(frozen=True)
class PlaneScale:
    """The ratio of plane area to ground area across a raster, at a grid of points from its
    first pixel's corner to its last's (fractional rows and columns: `r + 0.5` is row r's
    centre), and one pixel's area in the plane (m2)."""

    crs: str
    rows: np.ndarray  # (n,) node rows, increasing
    cols: np.ndarray  # (n,) node columns, increasing
    ratios: np.ndarray  # (n, n) plane / ground at the nodes
    inverse: tuple[float, ...]  # CRS (x, y) -> (col, row): the raster's inverse transform
    plane_pixel_m2: float

    @property
    def low(self) -> float:
        """The least plane / ground ratio over the raster."""
        return float(self.ratios.min())

    @property
    def high(self) -> float:
        """The greatest plane / ground ratio over the raster."""
        return float(self.ratios.max())

    def ratio_at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Plane / ground at fractional pixel positions (bilinear between the nodes)."""
        rows = np.clip(np.asarray(rows, dtype=np.float64), self.rows[0], self.rows[-1])
        cols = np.clip(np.asarray(cols, dtype=np.float64), self.cols[0], self.cols[-1])
        i = np.clip(np.searchsorted(self.rows, rows, side="right") - 1, 0, len(self.rows) - 2)
        j = np.clip(np.searchsorted(self.cols, cols, side="right") - 1, 0, len(self.cols) - 2)
        u = (rows - self.rows[i]) / (self.rows[i + 1] - self.rows[i])
        v = (cols - self.cols[j]) / (self.cols[j + 1] - self.cols[j])
        r = self.ratios
        top = r[i, j] * (1 - v) + r[i, j + 1] * v
        bottom = r[i + 1, j] * (1 - v) + r[i + 1, j + 1] * v
        return top * (1 - u) + bottom * u

    def pixel_area_at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Ground area (m2) of one pixel centred at fractional pixel positions."""
        return self.plane_pixel_m2 / self.ratio_at(rows, cols)

    def ratio_at_xy(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Plane / ground at CRS coordinates."""
        a, b, c, d, e, f = self.inverse[:6]
        xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        return self.ratio_at(d * xs + e * ys + f, a * xs + b * ys + c)

    def note(self) -> str:
        """What the explanation says of it."""
        errors = []
        if self.high - 1.0 > PLANE_AREA_TOLERANCE / 10:
            errors.append(f"overstates ground areas by up to {self.high - 1.0:.1%}")
        if 1.0 - self.low > PLANE_AREA_TOLERANCE / 10:
            them = "them" if errors else "ground areas"
            errors.append(f"understates {them} by up to {1.0 - self.low:.1%}")
        return (
            f"The plane of {self.crs} {' and '.join(errors)} over this raster, so areas (the "
            "summary, the polygons' m2 and ha, size limits) are ground areas: each measured in "
            "the plane and divided by the plane's scale there, measured across the raster on "
            "the ellipsoid. QGIS's planar measure of the polygons gives the plane's areas."
        )


def plane_scale(dataset: object) -> PlaneScale | None:
    """`dataset`'s `PlaneScale` where its plane departs from the ground by more than
    `PLANE_AREA_TOLERANCE` somewhere over it; None where the plane holds, or where the raster is
    not measured in its plane (no CRS, a geographic one, `plane_misleads`). `dataset` is an open
    rasterio dataset."""
    scale = measure_plane_scale(dataset)
    if scale is None or max(1.0 - scale.low, scale.high - 1.0) <= PLANE_AREA_TOLERANCE:
        return None
    return scale


def measure_plane_scale(dataset: object) -> PlaneScale | None:
    """`dataset`'s plane-to-ground ratio at `NODES_PER_SIDE` squared pixels across it, however
    small its departure; None where the raster is not measured in its plane."""
    if dataset.crs is None:
        return None
    srs = spatial_reference(dataset.crs.to_wkt())
    if srs is None or not srs.IsProjected() or plane_misleads(srs):
        return None
    geographic = srs.CloneGeogCS()
    geographic.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_lonlat = osr.CoordinateTransformation(srs, geographic)
    ellipsoid = Ellipsoid(srs.GetSemiMajor(), srs.GetInvFlattening())
    unit = float(srs.GetLinearUnits() or 1.0)
    transform = dataset.transform
    # From edge to edge (not centre to centre): a raster one pixel high still has two rows
    # of nodes to interpolate between.
    rows = np.linspace(0.0, dataset.height, NODES_PER_SIDE)
    cols = np.linspace(0.0, dataset.width, NODES_PER_SIDE)
    half = SQUARE_M / unit / 2
    square = np.array([[-half, -half], [half, -half], [half, half], [-half, half], [-half, -half]])
    rings = [np.array(transform * (col, row)) + square for row in rows for col in cols]
    lonlat = np.asarray(to_lonlat.TransformPoints(np.concatenate(rings)))[:, :2]
    ratios = np.full(len(rings), np.nan)
    for k, ring in enumerate(np.split(lonlat, len(rings))):
        lon = np.degrees(np.unwrap(np.radians(ring[:, 0])))  # across the antimeridian
        if not np.isfinite(ring).all() or np.ptp(lon) > 90:  # around a pole: its neighbours say
            continue
        ground = rings_area_length([np.column_stack([lon, ring[:, 1]])], ellipsoid, math.pi / 180)
        if ground[0][0] > 0:
            ratios[k] = SQUARE_M**2 / ground[0][0]
    grid = ratios.reshape(NODES_PER_SIDE, NODES_PER_SIDE)
    missing = ~np.isfinite(grid)
    if missing.all():
        return None
    if missing.any():  # a node on a pole, or off the projection: its nearest measured node's
        nearest = ndimage.distance_transform_edt(
            missing, return_distances=False, return_indices=True
        )
        grid = grid[tuple(nearest)]
    plane_pixel_m2 = abs(transform.a * transform.e - transform.b * transform.d) * unit * unit
    return PlaneScale(
        dataset.crs.to_string(), rows, cols, grid, tuple(~transform)[:6], plane_pixel_m2
    )
