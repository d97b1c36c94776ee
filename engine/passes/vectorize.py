"""Polygons from the region-id raster, with attributes, written to a GeoPackage.

GDAL's Polygonize walks the whole region raster scanline by scanline, so a region is one
polygon however many tiles it spans, and memory holds only the polygons being built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr

from ..instructions.spie import (
    SMALL_HULL,
    location_word,
    min_area_rectangle,
    size_word,
    small_convex_rectangle,
)
from ..reports.profiling import StageProfile
from .geodesy import MetricMeasurer, spatial_reference

gdal.UseExceptions()
ogr.UseExceptions()
gdal.SetCacheMax(64 * 1024 * 1024)  # bounded block cache: memory must not grow with the raster

#: Name of the polygon layer inside features.gpkg.
LAYER_NAME = "regions"


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
) -> dict[int, PolygonSummary]:
    """Polygonize `region_raster` (int32 region ids, 0 = none) into `out_path`.

    `extent_pixels` is (col_off, row_off, width, height) of the processed extent in the
    region raster's own pixel grid; centroids and rotated boxes are normalised to it. Without
    a CRS the polygons are in pixel coordinates and their m2, ha and m fields are left empty
    (NULL); `PolygonSummary` then holds areas in pixels.
    """
    profile = profile or StageProfile()
    src = gdal.Open(str(region_raster))
    srs = spatial_reference(src.GetProjection())
    scratch_path = out_path.with_name(out_path.stem + ".scratch.gpkg")
    scratch = ogr.GetDriverByName("GPKG").CreateDataSource(str(scratch_path))
    try:
        raw = scratch.CreateLayer("raw", srs, ogr.wkbPolygon)
        raw.CreateField(ogr.FieldDefn("region_id", ogr.OFTInteger))
        with profile.stage("vectorize.polygonize"):
            scratch.StartTransaction()  # one SQLite transaction: 3-4x faster than one per polygon
            _polygonize(src.GetRasterBand(1), raw, check_cancel)
            scratch.CommitTransaction()
        out = ogr.GetDriverByName("GPKG").CreateDataSource(str(out_path))
        try:
            context = _LayerContext(
                records,
                evidence_names,
                extent_pixels,
                gdal.InvGeoTransform(src.GetGeoTransform()),
                MetricMeasurer(srs),
            )
            with profile.stage("vectorize.attributes"):
                return _write_layer(raw, out, srs, context, check_cancel)
        finally:
            out = None  # closes the GeoPackage, also when cancelled
    finally:
        raw = scratch = src = None  # GDAL objects close before their files go
        scratch_path.unlink(missing_ok=True)


@dataclass(frozen=True)
class _LayerContext:
    records: dict[int, RegionRecord]
    evidence_names: Sequence[str]
    extent_pixels: tuple[int, int, int, int]
    inverse: Sequence[float]
    measurer: MetricMeasurer


def _write_layer(
    raw: ogr.Layer,
    out: ogr.DataSource,
    srs: object,
    context: _LayerContext,
    check_cancel: Callable[[], None],
) -> dict[int, PolygonSummary]:
    """Copy the polygonized regions into the final layer, with their attributes."""
    layer = out.CreateLayer(LAYER_NAME, srs, ogr.wkbMultiPolygon)
    _create_fields(layer, context.evidence_names)
    defn = layer.GetLayerDefn()
    field_index = {defn.GetFieldDefn(i).GetName(): i for i in range(defn.GetFieldCount())}
    summaries: dict[int, PolygonSummary] = {}
    fids: dict[int, int] = {}
    out.StartTransaction()
    raw.ResetReading()
    for n, feature in enumerate(raw):
        if n % 2000 == 0:
            check_cancel()
        rid = feature.GetField(0)
        record = context.records.get(rid)
        if record is None:
            continue
        geometry = ogr.ForceToMultiPolygon(feature.GetGeometryRef().Clone())
        if rid in fids:  # a region split by Polygonize: merge the parts
            existing = layer.GetFeature(fids[rid])
            geometry = ogr.ForceToMultiPolygon(existing.GetGeometryRef().Union(geometry))
            target = existing
        else:
            target = ogr.Feature(defn)
        area, perimeter = context.measurer.area_and_perimeter(geometry)
        box = _rotated_box(geometry, context.inverse, context.extent_pixels)
        _fill(target, record, area, perimeter, box, context, field_index)
        target.SetGeometry(geometry)
        if rid in fids:
            layer.SetFeature(target)
        else:
            layer.CreateFeature(target)
            fids[rid] = target.GetFID()
        summaries[rid] = PolygonSummary(rid, area, perimeter, box)
    out.CommitTransaction()
    return summaries


def _polygonize(band: gdal.Band, layer: ogr.Layer, check_cancel: Callable[[], None]) -> None:
    """GDAL Polygonize with cancel: the callback stops GDAL, then the cancel is re-raised."""
    stop: list[BaseException] = []

    def callback(_complete: float, _message: str, _data: object) -> int:
        try:
            check_cancel()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after GDAL stops
            stop.append(exc)
            return 0
        return 1

    try:
        gdal.Polygonize(band, band, layer, 0, ["8CONNECTED=8"], callback=callback)
    except RuntimeError:
        if not stop:
            raise
    if stop:
        raise stop[0]


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
) -> None:
    evidence_names = context.evidence_names
    cx, cy = record.centroid
    values: dict[str, object] = {
        "region_id": record.region_id,
        "class_id": record.class_id,
        "class": record.class_key,
        "class_name": record.class_name,
        "pixels": record.pixels,
        "confidence": round(record.confidence, 4),
        "size": size_word(record.area_fraction),
        "location": location_word(cx, cy),
        "centroid_x": round(cx, 4),
        "centroid_y": round(cy, 4),
        "rotated_box": str([list(corner) for corner in box]),
    }
    if context.measurer.metric:  # without a CRS there are no metres: the fields stay NULL
        values["area_m2"] = round(area, 2)
        values["area_ha"] = round(area / 10_000.0, 4)
        values["perimeter_m"] = round(perimeter, 2)
    for name in evidence_names:
        value = record.evidence.get(name)
        if value is not None and np.isfinite(value):
            values[f"mean_{name.lower()}"] = round(float(value), 4)
    for key, value in values.items():
        feature.SetField(field_index[key], value)


def _rotated_box(
    geometry: ogr.Geometry, inverse: Sequence[float], extent: tuple[int, int, int, int]
) -> tuple[tuple[float, float], ...]:
    """Minimum-area rotated rectangle of the region, normalised to the processed extent."""
    hull = geometry.ConvexHull()
    ring = hull.GetGeometryRef(0) if hull.GetGeometryCount() else hull
    points = ring.GetPoints() or [(hull.GetX(), hull.GetY())]
    a, b, c, d, e, f = inverse
    col_off, row_off, width, height = extent
    norm = [
        [(a + b * x + c * y - col_off) / width, (d + e * x + f * y - row_off) / height]
        for x, y, *_ in points
    ]
    if len(norm) <= SMALL_HULL:
        corners = small_convex_rectangle(norm)
    else:
        corners = [tuple(p) for p in min_area_rectangle(np.array(norm), convex=True)]
    return tuple(
        (round(min(1.0, max(0.0, x)), 2), round(min(1.0, max(0.0, y)), 2)) for x, y in corners
    )
