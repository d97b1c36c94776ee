"""`summary.gpkg`: every scene's regions in one layer, with a `scene` attribute."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from osgeo import gdal, ogr, osr

from ..passes.geodesy import layer_reference
from ..passes.vectorize import LAYER_NAME, close_now

gdal.UseExceptions()
ogr.UseExceptions()
osr.UseExceptions()


def write_summary(scenes: Sequence[tuple[str, Path]], path: Path) -> tuple[str, ...]:
    """Gather the `regions` layer of each `(name, folder)` into `path`; return the names of
    the scenes left out (below).

    The layer keeps the scenes' CRS when they share one, else WGS 84; its fields are every
    field the scenes have (a scene lacking one leaves it empty), after `scene`. A scene without
    a CRS has its regions in its own pixel grid, and one in a local (engineering) CRS in a site
    grid; no map places either, and no transformation reaches WGS 84 from them: they are left
    out, unless no scene is placed (the layer then has their CRS if they share one, else the
    undefined Cartesian reference, srs_id -1).
    """
    layers = [(name, folder / "features.gpkg") for name, folder in scenes]
    sources = [(name, _open_finished(gpkg)) for name, gpkg in layers]
    placed = [(name, source) for name, source in sources if _on_the_earth(source)]
    left_out: tuple[str, ...] = ()
    if placed:  # else no scene has a CRS: all are gathered, in pixel coordinates
        kept = {name for name, _ in placed}
        left_out = tuple(name for name, _ in sources if name not in kept)
        sources = placed
    fd, tmp = tempfile.mkstemp(prefix=".summary.", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # the GeoPackage driver creates the file itself
    try:
        srs, fields = _common_srs_and_fields(
            [src.GetLayerByName(LAYER_NAME) for _, src in sources], georeferenced=bool(placed)
        )
        out = ogr.GetDriverByName("GPKG").CreateDataSource(tmp)
        layer = out.CreateLayer(LAYER_NAME, layer_reference(srs), ogr.wkbMultiPolygon)
        layer.CreateField(ogr.FieldDefn("scene", ogr.OFTString))
        for field in fields:
            layer.CreateField(field)
        defn = layer.GetLayerDefn()
        out.StartTransaction()
        for name, src in sources:
            _copy_regions(src.GetLayerByName(LAYER_NAME), layer, defn, name, srs)
        out.CommitTransaction()
        close_now(out)  # before the move: a frame held elsewhere must not keep it open
        out = None
        os.replace(tmp, path)
    finally:
        sources = None
        Path(tmp).unlink(missing_ok=True)
    return left_out


def _open_finished(gpkg: Path) -> gdal.Dataset:
    """A finished scene's GeoPackage, opened in SQLite's immutable mode.

    The file was closed before its folder was moved in, and nothing writes it afterwards:
    immutable mode reads it without SQLite's locks and without looking for a journal to roll
    back. A plain read-only open failed in the test suite with "attempt to write a readonly
    database", SQLite's error when it would have to roll back a journal, which a read-only
    connection cannot do: the writer's GeoPackage had closed late, during the move, from a
    profiler's thread (`passes.vectorize.close_now`, which closes it before the move now).
    """
    return gdal.OpenEx(str(gpkg), gdal.OF_VECTOR | gdal.OF_READONLY, open_options=["IMMUTABLE=YES"])


def _on_the_earth(source: gdal.Dataset) -> bool:
    """Whether a scene's regions carry a CRS that places them on the Earth: a geographic or
    projected one. GeoPackage srs_id 0 and -1 are the specification's undefined ones, which
    GDAL gives a layer written without a CRS; a local (engineering) CRS has no datum."""
    result = source.ExecuteSQL(
        f"SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = '{LAYER_NAME}'"
    )
    try:
        row = result.GetNextFeature()
        if row is None or row.GetField(0) <= 0:
            return False
    finally:
        source.ReleaseResultSet(result)
    srs = source.GetLayerByName(LAYER_NAME).GetSpatialRef()
    return srs is not None and bool(srs.IsGeographic() or srs.IsProjected())


def _common_srs_and_fields(
    layers: Sequence[ogr.Layer], georeferenced: bool
) -> tuple[osr.SpatialReference | None, list[ogr.FieldDefn]]:
    srs_list = [layer.GetSpatialRef() for layer in layers]
    shared = all(s is not None and s.IsSame(srs_list[0]) for s in srs_list)
    srs: osr.SpatialReference | None
    if shared:  # one CRS: a map's, or one site grid's
        srs = srs_list[0].Clone()
    elif not georeferenced:
        srs = None  # pixel grids, or several site grids: no common reference
    else:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(4326)
    if srs is not None:
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    fields: dict[str, ogr.FieldDefn] = {}
    for layer in layers:
        defn = layer.GetLayerDefn()
        for i in range(defn.GetFieldCount()):
            field = defn.GetFieldDefn(i)
            fields.setdefault(field.GetName(), field)
    return srs, list(fields.values())


def _copy_regions(
    src: ogr.Layer,
    dst: ogr.Layer,
    defn: ogr.FeatureDefn,
    scene: str,
    srs: osr.SpatialReference | None,
) -> None:
    source_srs = src.GetSpatialRef()
    transform = None
    if srs is not None and not source_srs.IsSame(srs):
        source_srs = source_srs.Clone()
        source_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        transform = osr.CoordinateTransformation(source_srs, srs)
    names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    src.ResetReading()
    for feature in src:
        out = ogr.Feature(defn)
        out.SetField("scene", scene)
        for name in names[1:]:
            index = feature.GetFieldIndex(name)
            if index >= 0 and feature.IsFieldSetAndNotNull(index):
                out.SetField(name, feature.GetField(index))
        geometry = feature.GetGeometryRef().Clone()
        if transform is not None:
            geometry.Transform(transform)
        out.SetGeometry(geometry)
        dst.CreateFeature(out)
