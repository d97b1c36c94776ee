"""Polygons from the region-id raster, with attributes, written to a GeoPackage.

GDAL's Polygonize walks the whole region raster scanline by scanline, so a region is one
polygon however many tiles it spans. It runs on a worker thread (`polygon_stream`) while this
thread measures and writes the polygons it has finished; memory holds the polygons being built
and at most a few thousand finished ones.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr

from ..instructions.spie import (
    SMALL_HULL,
    convex_rectangles,
    location_word,
    min_area_rectangle,
    size_word,
)
from ..reports.profiling import StageProfile
from .geodesy import MetricMeasurer, layer_reference, polygon_rings, spatial_reference
from .plane_scale import PlaneScale
from .polygon_stream import polygon_stream

gdal.UseExceptions()
ogr.UseExceptions()
gdal.SetCacheMax(64 * 1024 * 1024)  # bounded block cache: memory must not grow with the raster

#: Name of the polygon layer inside features.gpkg.
LAYER_NAME = "regions"
#: Polygons measured together, at most this many and this many bytes of WKB (16 per vertex):
#: their vertices and the measuring arrays are held at once; cancel is checked between.
BATCH = 2000
BATCH_WKB_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class RegionRecord:
    """The attributes of one region, known before its polygon exists."""

    region_id: int
    class_id: int
    class_key: str
    class_name: str
    pixels: int
    confidence: float
    evidence: dict[str, float]
    centroid: tuple[float, float]  # normalised x, y in the processed extent
    area_fraction: float


@dataclass(frozen=True)
class PolygonSummary:
    """What the explanation needs to know about a written polygon."""

    region_id: int
    area_m2: float
    perimeter_m: float
    bounding_box: tuple[tuple[float, float], ...]


def write_features(
    region_raster: Path,
    out_path: Path,
    records: dict[int, RegionRecord],
    evidence_names: Sequence[str],
    extent_pixels: tuple[int, int, int, int],
    check_cancel: Callable[[], None] = lambda: None,
    profile: StageProfile | None = None,
    plane: PlaneScale | None = None,
) -> dict[int, PolygonSummary]:
    """Polygonize `region_raster` (int32 region ids, 0 = none) into `out_path`.

    `extent_pixels` is (col_off, row_off, width, height) of the processed extent in the
    region raster's own pixel grid; centroids and rotated boxes are normalised to it. Without
    a CRS the polygons are in pixel coordinates and their m2, ha and m fields are left empty
    (NULL); `PolygonSummary` then holds areas in pixels. `plane`: where the CRS's plane departs
    from the ground across the raster, the polygons are measured on the ground with it.
    """
    profile = profile or StageProfile()
    src = gdal.Open(str(region_raster))
    srs = spatial_reference(src.GetProjection())
    out = ogr.GetDriverByName("GPKG").CreateDataSource(str(out_path))
    try:
        context = _LayerContext(
            records,
            evidence_names,
            extent_pixels,
            gdal.InvGeoTransform(src.GetGeoTransform()),
            MetricMeasurer(srs, plane),
        )
        stream = polygon_stream(
            src.GetRasterBand(1), srs, records.__contains__, check_cancel, profile
        )
        # closing: an error while writing stops Polygonize now, not when the traceback goes.
        with closing(stream), profile.stage("vectorize.attributes"):
            return _write_layer(_batches(stream), out, srs, context)
    except BaseException as exc:
        # The frames of the traceback hold the GeoPackage's layer: freed with them, it would
        # close after the run's folder is gone. Their locals go now (a cancel, an error).
        traceback.clear_frames(exc.__traceback__)
        raise
    finally:
        close_now(out)  # also when cancelled
        out = src = None


def close_now(dataset: ogr.DataSource) -> None:
    """Close a GDAL dataset now, not when the last reference to it goes.

    A frame that outlives its call keeps its locals: a sampling profiler's (a Dask worker's
    samples the running task's stack every few milliseconds) held `_write_layer`'s, and the
    GeoPackage closed later, from the profiler's thread, while the run's folder was being moved
    into place: SQLite's journal of the closing writes (the layer's extent and feature count)
    was left beside the moved file, which then opens read-only as "attempt to write a readonly
    database" (`tests/test_dask_distributed.py`, twice in 25 stops).
    """
    close = getattr(dataset, "Close", None)  # GDAL >= 3.8: its layers become invalid
    if close is not None:
        close()
    else:
        dataset.Destroy()  # older bindings: the layers are owned by it and never used again


@dataclass(frozen=True)
class _LayerContext:
    records: dict[int, RegionRecord]
    evidence_names: Sequence[str]
    extent_pixels: tuple[int, int, int, int]
    inverse: Sequence[float]
    measurer: MetricMeasurer


def _write_layer(
    batches: Iterator[list[tuple[int, ogr.Geometry]]],
    out: ogr.DataSource,
    srs: object,
    context: _LayerContext,
) -> dict[int, PolygonSummary]:
    """Write the polygonized regions into the final layer, with their attributes."""
    layer = out.CreateLayer(LAYER_NAME, layer_reference(srs), ogr.wkbMultiPolygon)
    _create_fields(layer, context.evidence_names)
    defn = layer.GetLayerDefn()
    field_index = {defn.GetFieldDefn(i).GetName(): i for i in range(defn.GetFieldCount())}
    # The evidence fields by evidence name: no field name is built per polygon.
    evidence_index = {name: field_index[f"mean_{name.lower()}"] for name in context.evidence_names}
    summaries: dict[int, PolygonSummary] = {}
    fids: dict[int, int] = {}
    out.StartTransaction()
    for batch in batches:
        # Measured in bulk (a geographic CRS costs per vertex, not per polygon); the rare part
        # of a region split by Polygonize is measured again once merged.
        geometries = [g for _, g in batch]
        areas, perimeters = context.measurer.areas_and_perimeters(geometries)
        boxes = _rotated_boxes(geometries, context.inverse, context.extent_pixels)
        for (rid, geometry), area, perimeter, box in zip(
            batch, areas, perimeters, boxes, strict=True
        ):
            record = context.records[rid]
            if rid in fids:  # a region split by Polygonize: merge the parts
                target = layer.GetFeature(fids[rid])
                geometry = ogr.ForceToMultiPolygon(target.GetGeometryRef().Union(geometry))
                area, perimeter = context.measurer.area_and_perimeter(geometry)
                box = _rotated_boxes([geometry], context.inverse, context.extent_pixels)[0]
            else:
                target = ogr.Feature(defn)
            area, perimeter = float(area), float(perimeter)
            _fill(target, record, area, perimeter, box, context, field_index, evidence_index)
            target.SetGeometryDirectly(geometry)  # the feature takes it: no copy
            if rid in fids:
                layer.SetFeature(target)
            else:
                layer.CreateFeature(target)
                fids[rid] = target.GetFID()
            summaries[rid] = PolygonSummary(rid, area, perimeter, box)
    out.CommitTransaction()
    return summaries


def _batches(
    stream: Iterator[list[tuple[int, ogr.Geometry]]],
) -> Iterator[list[tuple[int, ogr.Geometry]]]:
    """The streamed (region id, multipolygon) parts, re-cut into batches of at most `BATCH`
    polygons and about `BATCH_WKB_BYTES` of vertices."""
    batch: list[tuple[int, ogr.Geometry]] = []
    size = 0
    for handed in stream:
        for rid, geometry in handed:
            batch.append((rid, geometry))
            size += geometry.WkbSize()
            if len(batch) == BATCH or size >= BATCH_WKB_BYTES:
                yield batch
                batch, size = [], 0
    if batch:
        yield batch


def _create_fields(layer: ogr.Layer, evidence_names: Sequence[str]) -> None:
    specs = [
        ("region_id", ogr.OFTInteger),
        ("class_id", ogr.OFTInteger),
        ("class", ogr.OFTString),
        ("class_name", ogr.OFTString),
        ("area_m2", ogr.OFTReal),
        ("area_ha", ogr.OFTReal),
        ("perimeter_m", ogr.OFTReal),
        ("pixels", ogr.OFTInteger64),
        ("confidence", ogr.OFTReal),
    ]
    specs += [(f"mean_{name.lower()}", ogr.OFTReal) for name in evidence_names]
    specs += [
        ("size", ogr.OFTString),
        ("location", ogr.OFTString),
        ("centroid_x", ogr.OFTReal),
        ("centroid_y", ogr.OFTReal),
        ("rotated_box", ogr.OFTString),
    ]
    for name, kind in specs:
        layer.CreateField(ogr.FieldDefn(name, kind))


def _fill(
    feature: ogr.Feature,
    record: RegionRecord,
    area: float,
    perimeter: float,
    box: tuple[tuple[float, float], ...],
    context: _LayerContext,
    field_index: dict[str, int],
    evidence_index: dict[str, int],
) -> None:
    # Typed setters where OGR's Python API has them (what `SetField` calls for int and str
    # after testing the value's type: the same bytes, fewer Python steps per polygon).
    set_int, set_str, set_real = feature.SetFieldInteger64, feature.SetFieldString, feature.SetField
    cx, cy = record.centroid
    set_int(field_index["region_id"], record.region_id)
    set_int(field_index["class_id"], record.class_id)
    set_str(field_index["class"], record.class_key)
    set_str(field_index["class_name"], record.class_name)
    set_int(field_index["pixels"], record.pixels)
    set_real(field_index["confidence"], round(record.confidence, 4))
    set_str(field_index["size"], size_word(record.area_fraction))
    set_str(field_index["location"], location_word(cx, cy))
    set_real(field_index["centroid_x"], round(cx, 4))
    set_real(field_index["centroid_y"], round(cy, 4))
    set_str(field_index["rotated_box"], _BOX_TEXT % (*box[0], *box[1], *box[2], *box[3]))
    if context.measurer.metric:  # without a CRS there are no metres: the fields stay NULL
        set_real(field_index["area_m2"], round(area, 2))
        set_real(field_index["area_ha"], round(area / 10_000.0, 4))
        set_real(field_index["perimeter_m"], round(perimeter, 2))
    for name in context.evidence_names:
        value = record.evidence.get(name)
        if value is not None and math.isfinite(value):
            set_real(evidence_index[name], round(float(value), 4))


#: `str()` of the box as a list of [x, y] lists: %r is the float's repr, as `str(list)` writes.
_BOX_TEXT = "[[%r, %r], [%r, %r], [%r, %r], [%r, %r]]"


def _rotated_boxes(
    geometries: Sequence[ogr.Geometry],
    inverse: Sequence[float],
    extent: tuple[int, int, int, int],
) -> list[tuple[tuple[float, float], ...]]:
    """Minimum-area rotated rectangle of each region, normalised to the processed extent.

    The small hulls (nearly every region) are measured together (`convex_rectangles`).
    """
    hulls: list[np.ndarray] = []
    for geometry in geometries:
        hull = _outer_hull(geometry)
        if hull.GetGeometryType() == ogr.wkbPolygon:
            hulls.append(polygon_rings(hull)[0][0])  # from WKB: no tuple per vertex
        else:  # a degenerate hull: a point or a segment
            ring = hull.GetGeometryRef(0) if hull.GetGeometryCount() else hull
            points = ring.GetPoints() or [(hull.GetX(), hull.GetY())]
            hulls.append(np.array([p[:2] for p in points], dtype=np.float64))
    sizes = np.array([len(h) for h in hulls])
    xy = np.concatenate(hulls)
    a, b, c, d, e, f = inverse
    col_off, row_off, width, height = extent
    x, y = xy[:, 0], xy[:, 1]
    norm = np.stack(
        [(a + b * x + c * y - col_off) / width, (d + e * x + f * y - row_off) / height], 1
    )
    small = sizes <= SMALL_HULL
    corners = np.empty((len(hulls), 4, 2))
    corners[small] = convex_rectangles(norm[np.repeat(small, sizes)], sizes[small])
    starts = np.cumsum(sizes) - sizes
    for i in np.flatnonzero(~small):
        corners[i] = min_area_rectangle(norm[starts[i] : starts[i] + sizes[i]], convex=True)
    rounded = _round_as_python(np.clip(corners, 0.0, 1.0), 2)
    return [tuple(map(tuple, box)) for box in rounded.tolist()]


def _outer_hull(geometry: ogr.Geometry) -> ogr.Geometry:
    """The convex hull of a multipolygon, from its exterior rings only.

    Holes lie inside their exterior ring, so the hull is the same; GEOS is not handed the
    holes' vertices (a sea with tens of thousands of islands would cost it about 100 MB).
    """
    if geometry.GetGeometryCount() == 1 and geometry.GetGeometryRef(0).GetGeometryCount() == 1:
        return geometry.ConvexHull()  # one exterior ring and no holes: GEOS's own hull of it
    outer = ogr.Geometry(ogr.wkbMultiLineString)
    for i in range(geometry.GetGeometryCount()):
        ring = geometry.GetGeometryRef(i).GetGeometryRef(0)
        outer.AddGeometryDirectly(ogr.ForceToLineString(ring))  # a copy, as a line
    return outer.ConvexHull()


def _round_as_python(values: np.ndarray, digits: int) -> np.ndarray:
    """`round(value, digits)` of every value, in bulk and to the same bits.

    numpy rounds `value * 10**digits` to an integer first, which can land on the other side of
    a half when that product is inexact: values that close to a half are rounded by Python.
    """
    out = np.round(values, digits)
    scaled = values * 10.0**digits
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    for i in np.flatnonzero(near_half):
        out.flat[i] = round(float(values.flat[i]), digits)
    return out
