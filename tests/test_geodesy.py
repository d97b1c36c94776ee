"""Bulk geodesic areas and perimeters of polygonized regions in a geographic CRS."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import ogr

from spex.engine.passes import geodesy
from spex.engine.passes.geodesy import MetricMeasurer, polygon_rings, spatial_reference

WGS84_WKT = 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]'  # noqa: E501
A, INV_F = 6378137.0, 298.257223563


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0})"


def _box_reference(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float]:
    """Area and perimeter of a lon/lat box on WGS84, integrated numerically (independent)."""
    f = 1 / INV_F
    e2 = f * (2 - f)
    lat = np.radians(np.linspace(y0, y1, 200_001))
    w2 = 1 - e2 * np.sin(lat) ** 2
    m = A * (1 - e2) / w2**1.5  # meridional radius
    n = A / np.sqrt(w2)  # prime-vertical radius
    dlat = lat[1] - lat[0]
    dlon = np.radians(x1 - x0)
    strip = m * n * np.cos(lat)  # area element per radian of lat and lon
    area = dlon * dlat * (strip.sum() - 0.5 * (strip[0] + strip[-1]))
    meridian = dlat * (m.sum() - 0.5 * (m[0] + m[-1]))
    parallels = dlon * (n[0] * np.cos(lat[0]) + n[-1] * np.cos(lat[-1]))
    return float(area), float(2 * meridian + parallels)


def test_box_with_hole_and_second_part_matches_the_integrated_ellipsoid() -> None:
    # Pixel-sized edges are what Polygonize gives; boxes of a few hundred metres at 52 N.
    outer, hole = (5.0, 52.0, 5.01, 52.006), (5.002, 52.002, 5.004, 52.003)
    other = (5.02, 52.0, 5.023, 52.001)
    geometry = ogr.CreateGeometryFromWkt(
        f"MULTIPOLYGON(({_box(*outer)}, {_box(*hole)}), ({_box(*other)}))"
    )
    measurer = MetricMeasurer(spatial_reference(WGS84_WKT))
    area, perimeter = measurer.area_and_perimeter(geometry)
    refs = [_box_reference(*b) for b in (outer, hole, other)]
    assert area == pytest.approx(refs[0][0] - refs[1][0] + refs[2][0], rel=1e-6)
    assert perimeter == pytest.approx(sum(r[1] for r in refs), rel=1e-6)


def test_bulk_measure_equals_one_by_one_across_many_geometries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(3)
    geometries = []
    for _ in range(50):
        x, y = rng.uniform(-170, 170), rng.uniform(-70, 70)
        w, h = rng.uniform(1e-4, 0.05, size=2)
        if rng.random() < 0.5:
            wkt = f"POLYGON({_box(x, y, x + w, y + h)})"
        else:
            inner = _box(x + w / 4, y + h / 4, x + w / 2, y + h / 2)
            wkt = f"MULTIPOLYGON(({_box(x, y, x + w, y + h)}, {inner}), ({_box(x + 2 * w, y, x + 3 * w, y + h)}))"  # noqa: E501
        geometries.append(ogr.CreateGeometryFromWkt(wkt))
    measurer = MetricMeasurer(spatial_reference(WGS84_WKT))
    areas, perimeters = measurer.areas_and_perimeters(geometries)
    single = np.array([measurer.area_and_perimeter(g) for g in geometries])
    np.testing.assert_allclose(areas, single[:, 0], rtol=1e-12)
    np.testing.assert_allclose(perimeters, single[:, 1], rtol=1e-12)
    assert (areas > 0).all()
    # Measured a few rings at a time (bounded memory), each ring's sums are the same bits.
    monkeypatch.setattr(geodesy, "RING_CHUNK_VERTICES", 7)
    chunked = measurer.areas_and_perimeters(geometries)
    np.testing.assert_array_equal(chunked[0], areas)
    np.testing.assert_array_equal(chunked[1], perimeters)


def test_polygon_rings_reads_vertices_and_ring_roles_from_wkb() -> None:
    geometry = ogr.CreateGeometryFromWkt(
        f"MULTIPOLYGON(({_box(0, 0, 4, 4)}, {_box(1, 1, 2, 2)}), ({_box(5, 5, 6, 7)}))"
    )
    rings = polygon_rings(geometry)
    assert [exterior for _, exterior in rings] == [True, False, True]
    np.testing.assert_array_equal(rings[2][0], [[5, 5], [6, 5], [6, 7], [5, 7], [5, 5]])
    with pytest.raises(ValueError, match="not a 2-D polygon"):
        polygon_rings(ogr.CreateGeometryFromWkt("POLYGON Z((0 0 1, 1 0 1, 1 1 1, 0 0 1))"))
