"""Bulk geodesic areas and perimeters of polygonized regions in a geographic CRS, and in a
projection whose plane misstates them (Web Mercator)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from affine import Affine
from osgeo import ogr, osr

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


def _web_mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:3857's forward formula (the sphere of WGS84's semi-major axis), independent of GDAL."""
    return A * np.radians(lon), A * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def test_web_mercator_is_measured_on_the_ellipsoid_not_its_plane() -> None:
    """Web Mercator's plane inflates areas by 1 / cos(latitude) squared (2.6x at 52 N): the
    same boxes as above, drawn in EPSG:3857, measure as on the ellipsoid; UTM stays planar."""
    outer, hole = (5.0, 52.0, 5.01, 52.006), (5.002, 52.002, 5.004, 52.003)
    rings = [_box(*(c for corner in ((b[0], b[1]), (b[2], b[3])) for c in _web_mercator(*corner)))
             for b in (outer, hole)]  # fmt: skip
    geometry = ogr.CreateGeometryFromWkt(f"POLYGON({rings[0]}, {rings[1]})")
    mercator = osr.SpatialReference()
    mercator.ImportFromEPSG(3857)
    measurer = MetricMeasurer(spatial_reference(mercator.ExportToWkt()))
    assert geodesy.plane_misleads(mercator) and measurer.geographic
    area, perimeter = measurer.area_and_perimeter(geometry)
    refs = [_box_reference(*b) for b in (outer, hole)]
    assert area == pytest.approx(refs[0][0] - refs[1][0], rel=1e-5)
    assert perimeter == pytest.approx(refs[0][1] + refs[1][1], rel=1e-5)
    # The plane's own factor, 1 / cos^2 of the latitude (to the ellipsoid's flattening).
    assert geometry.GetArea() / area == pytest.approx(1 / np.cos(np.radians(52.003)) ** 2, rel=5e-3)
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(32631)
    assert not geodesy.plane_misleads(utm) and not MetricMeasurer(utm).geographic


def test_a_web_mercator_rasters_pixels_are_measured_on_the_ellipsoid(tmp_path) -> None:
    """`row_pixel_areas` of a north-up EPSG:3857 grid: each row's pixel, as the integrated
    ellipsoid gives the lon/lat quadrangle it covers."""
    x0, y0 = _web_mercator(5.0, 52.01)
    _, y1 = _web_mercator(5.0, 52.0)
    size = (y0 - y1) / 4  # four rows of square pixels down to 52 N
    profile = {"driver": "GTiff", "width": 3, "height": 4, "count": 1, "dtype": "uint8",
               "crs": "EPSG:3857", "transform": Affine(size, 0, x0, 0, -size, y0)}  # fmt: skip
    with rasterio.open(tmp_path / "mercator.tif", "w", **profile) as dst:
        dst.write(np.zeros((1, 4, 3), "uint8"))
    with rasterio.open(tmp_path / "mercator.tif") as dataset:
        areas = geodesy.row_pixel_areas(dataset, np.arange(4) + 0.5)
    lon_width = np.degrees(size / A)
    lats = np.degrees(2 * np.arctan(np.exp((y0 - size * np.arange(5)) / A)) - np.pi / 2)
    expected = [_box_reference(5.0, lats[k + 1], 5.0 + lon_width, lats[k])[0] for k in range(4)]
    np.testing.assert_allclose(areas, expected, rtol=1e-5)
    assert size * size / areas[0] > 2.5  # what the plane said


def test_the_same_scene_measures_the_same_hectares_in_utm_and_web_mercator(
    s2_scene, tmp_path
) -> None:
    """The real sample, cut and warped to Web Mercator (as EO Browser's "Popular Web Mercator"
    or a QGIS XYZ export gives it): the run's valid area and water area are the UTM run's
    (within the resampling's pixels), not 2.7 times them at 52.4 N, as before."""
    from osgeo import gdal

    from tests.rasters import crop_raster
    from tests.test_cli import run_spex

    utm = crop_raster(s2_scene, tmp_path / "utm.tif", (600, 200, 400, 300))
    gdal.Warp(str(tmp_path / "mercator.tif"), str(utm), dstSRS="EPSG:3857", resampleAlg="near")
    measured = {}
    for name in ("utm", "mercator"):
        out = tmp_path / f"out-{name}"
        done = run_spex("extract", tmp_path / f"{name}.tif", "--prompt", "extract the water",
                        "--out", out, "--quiet")  # fmt: skip
        assert done.returncode == 0, done.stderr
        counts = json.loads((out / "run.json").read_text(encoding="utf-8"))["counts"]
        measured[name] = (counts["valid_area_m2"], counts["area_m2_per_target"]["water"])
    assert measured["mercator"][0] == pytest.approx(measured["utm"][0], rel=0.01)
    assert measured["mercator"][1] == pytest.approx(measured["utm"][1], rel=0.03)
    assert measured["utm"][1] > 0
