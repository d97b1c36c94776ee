"""Region attributes computed in bulk give what one region at a time gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import ogr
from rasterio.transform import from_origin
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.instructions.spie import min_area_rectangle
from spex.engine.passes import polygon_stream, vectorize
from spex.engine.passes.vectorize import _outer_hull, _rotated_boxes, _round_as_python
from tests.rasters import write_raster


def test_bulk_rounding_is_pythons_round_also_at_halves() -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate(
        [rng.uniform(0, 1, 200_000), np.arange(0, 1.0001, 0.0005), np.arange(0, 1, 1 / 1024)]
    )
    expected = np.array([round(float(v), 2) for v in values])
    np.testing.assert_array_equal(_round_as_python(values, 2), expected)


def test_rotated_boxes_in_bulk_match_each_region_alone() -> None:
    # Pixel-edged regions as Polygonize writes them (a geographic grid of 0.001 degree pixels),
    # from one pixel to an L shape, and one with a hull too large for the batched calipers.
    wkts = [
        "POLYGON((10.0 50.0, 10.001 50.0, 10.001 49.999, 10.0 49.999, 10.0 50.0))",
        "POLYGON((10.01 50.0, 10.014 50.0, 10.014 49.999, 10.011 49.999, 10.011 49.996, "
        "10.01 49.996, 10.01 50.0))",
    ]
    angles = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    ring = ", ".join(f"{10.05 + 0.01 * np.cos(a)} {49.95 + 0.004 * np.sin(a)}" for a in angles)
    wkts.append(f"POLYGON(({ring}, {10.06} {49.95}))")
    geometries = [ogr.ForceToMultiPolygon(ogr.CreateGeometryFromWkt(w)) for w in wkts]
    inverse = (-10000.0, 1000.0, 0.0, 50000.0, 0.0, -1000.0)  # degrees -> pixels
    extent = (0, 0, 100, 80)
    boxes = _rotated_boxes(geometries, inverse, extent)
    assert len(boxes) == 3
    for geometry, box in zip(geometries, boxes, strict=True):
        convex = geometry.ConvexHull()  # held: its ring is only a view into it
        hull = np.array(convex.GetGeometryRef(0).GetPoints())[:, :2]
        cols = (hull[:, 0] * 1000.0 - 10000.0) / 100
        rows = (50000.0 - hull[:, 1] * 1000.0) / 80
        alone = min_area_rectangle(np.stack([cols, rows], axis=1))
        expected = tuple(
            (round(min(1.0, max(0.0, x)), 2), round(min(1.0, max(0.0, y)), 2)) for x, y in alone
        )
        assert box == expected
    assert boxes[0] == ((0.0, 0.0), (0.01, 0.0), (0.01, 0.01), (0.0, 0.01))


def _rows(path: Path) -> list[dict[str, object]]:
    ds = ogr.Open(str(path))
    return sorted((f.items() for f in ds.GetLayer(0)), key=lambda r: r["region_id"])


def test_features_do_not_depend_on_the_batch_size(
    s2_scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real Sentinel-2 crop on a geographic grid (synthetic georeferencing: the bulk
    # geodesic path), extracted with the default batches and with batches of a few polygons,
    # Polygonize handing them over two at a time.
    with rasterio.open(s2_scene) as src:
        bands = src.read(window=Window(0, 0, 300, 240))
        names = src.descriptions
    image = write_raster(
        tmp_path / "s2_4326.tif",
        bands,
        crs="EPSG:4326",
        transform=from_origin(13.4, 52.6, 0.0001, 0.0001),
        descriptions=names,
    )
    request = "extract water bodies and vegetation"
    default = extract(ExtractionRequest(image, request, tmp_path / "default"))
    monkeypatch.setattr(vectorize, "BATCH", 3)
    monkeypatch.setattr(vectorize, "BATCH_WKB_BYTES", 2000)
    monkeypatch.setattr(polygon_stream, "MAX_WAITING", 2)  # Polygonize waits for every pair
    small = extract(ExtractionRequest(image, request, tmp_path / "small"))
    rows = _rows(default.features_path)
    assert len(rows) > 10  # enough regions for many batches of three
    assert rows == _rows(small.features_path)
    assert all(row["area_m2"] > 0 and row["rotated_box"] for row in rows)


def test_hull_from_exterior_rings_is_the_polygons_hull() -> None:
    # Two parts (a region Polygonize split and the run merged), the first with a hole.
    geometry = ogr.CreateGeometryFromWkt(
        "MULTIPOLYGON(((0 0, 4 0, 4 3, 0 3, 0 0), (1 1, 2 1, 2 2, 1 2, 1 1)), "
        "((5 4, 6 4, 6 6, 5 6, 5 4)))"
    )
    assert _outer_hull(geometry).Equals(geometry.ConvexHull())
    assert _outer_hull(geometry).GetArea() == pytest.approx(geometry.ConvexHull().GetArea())
