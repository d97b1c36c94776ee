"""How far a projection's plane misstates ground areas over a raster.

A projected CRS is measured in its plane (`geodesy`), as QGIS's planar measure does, except the
cylindrical ones whose plane is no measure at all (`geodesy.plane_misleads`). The plane is the
ground within 0.2 % for UTM and national grids, but not for a conformal projection far from its
true scale: a polar stereographic grid true at 70 degrees (NSIDC's EPSG:3413, EPSG:3031)
overstates areas at 60 degrees by 8 % and understates them at the pole by 6 %, a continental
Lambert conformal conic grid by several percent at its edges. Equal-area projections (Albers,
Lambert azimuthal, sinusoidal) keep areas whatever their extent. So the departure is measured
here over the raster itself, by its own pixels' ground areas on the CRS's ellipsoid, not
guessed from the projection's name: the explanation says it where it passes
`PLANE_AREA_TOLERANCE`.
"""

from __future__ import annotations

import math

import numpy as np
from osgeo import osr

from .geodesy import Ellipsoid, plane_misleads, rings_area_length, spatial_reference

#: The plane's area error below which it goes unsaid (UTM's is 0.2 % at a zone's edge).
PLANE_AREA_TOLERANCE = 0.01
#: Points measured across the raster, per side.
SAMPLES_PER_SIDE = 7
#: Side of the square measured at each point, in metres: large enough for float64 to resolve
#: its ground area (to 1e-7), small enough that its edges are straight in longitude and
#: latitude (a square of 16 km 80 km from a pole was measured 1.6 % small).
SQUARE_M = 200.0


def plane_area_ratios(dataset: object) -> tuple[float, float] | None:
    """The least and greatest ratio of an area in `dataset`'s plane to the same area on the
    ground (the CRS's ellipsoid), over a grid of points across the raster; None where the
    raster is not measured in its plane (no CRS, a geographic one, `plane_misleads`). `dataset`
    is an open rasterio dataset."""
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
    rows = np.linspace(0.5, dataset.height - 0.5, SAMPLES_PER_SIDE)
    cols = np.linspace(0.5, dataset.width - 0.5, SAMPLES_PER_SIDE)
    half = SQUARE_M / unit / 2
    square = np.array([[-half, -half], [half, -half], [half, half], [-half, half], [-half, -half]])
    rings = [np.array(transform * (col, row)) + square for row in rows for col in cols]
    lonlat = np.asarray(to_lonlat.TransformPoints(np.concatenate(rings)))[:, :2]
    ratios = []
    for ring in np.split(lonlat, len(rings)):
        lon = np.degrees(np.unwrap(np.radians(ring[:, 0])))  # across the antimeridian
        if not np.isfinite(ring).all() or np.ptp(lon) > 90:  # around a pole: its neighbours say
            continue
        ground = rings_area_length([np.column_stack([lon, ring[:, 1]])], ellipsoid, math.pi / 180)
        if ground[0][0] > 0:
            ratios.append(SQUARE_M**2 / ground[0][0])
    if not ratios:
        return None
    return float(min(ratios)), float(max(ratios))


def plane_area_caveat(dataset: object) -> str | None:
    """What the explanation says where `dataset`'s plane misstates ground areas by more than
    `PLANE_AREA_TOLERANCE` somewhere over it; None otherwise."""
    ratios = plane_area_ratios(dataset)
    if ratios is None:
        return None
    low, high = ratios
    if max(1.0 - low, high - 1.0) <= PLANE_AREA_TOLERANCE:
        return None
    errors = []
    if high - 1.0 > PLANE_AREA_TOLERANCE / 10:
        errors.append(f"overstates ground areas by up to {high - 1.0:.1%}")
    if 1.0 - low > PLANE_AREA_TOLERANCE / 10:
        them = "them" if errors else "ground areas"
        errors.append(f"understates {them} by up to {1.0 - low:.1%}")
    return (
        f"Areas (the summary, the polygons' m2 and ha, size limits) are measured in the plane of "
        f"{dataset.crs.to_string()}, as QGIS's planar measure is; over this raster that plane "
        f"{' and '.join(errors)}. For ground areas, "
        "reproject the raster to an equal-area CRS (Lambert azimuthal, e.g. EPSG:6931 or "
        "EPSG:6932 near a pole; Albers) and run on that."
    )
