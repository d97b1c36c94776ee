"""`summary.gpkg`: every scene's regions in one layer, with a `scene` attribute."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from osgeo import ogr, osr

from ..passes.vectorize import LAYER_NAME

ogr.UseExceptions()
osr.UseExceptions()


def write_summary(scenes: Sequence[tuple[str, Path]], path: Path) -> Path:
    """Gather the `regions` layer of each `(name, folder)` into `path` and return it.

    The layer keeps the scenes' CRS when they share one, else WGS 84; its fields are every
    field the scenes have (a scene lacking one leaves it empty), after `scene`.
    """
    layers = [(name, folder / "features.gpkg") for name, folder in scenes]
    sources = [(name, ogr.Open(str(gpkg))) for name, gpkg in layers]
    fd, tmp = tempfile.mkstemp(prefix=".summary.", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # the GeoPackage driver creates the file itself
    try:
        srs, fields = _common_srs_and_fields([src.GetLayerByName(LAYER_NAME) for _, src in sources])
        out = ogr.GetDriverByName("GPKG").CreateDataSource(tmp)
        layer = out.CreateLayer(LAYER_NAME, srs, ogr.wkbMultiPolygon)
        layer.CreateField(ogr.FieldDefn("scene", ogr.OFTString))
        for field in fields:
            layer.CreateField(field)
        defn = layer.GetLayerDefn()
        out.StartTransaction()
        for name, src in sources:
            _copy_regions(src.GetLayerByName(LAYER_NAME), layer, defn, name, srs)
        out.CommitTransaction()
        out = None
        os.replace(tmp, path)
    finally:
        sources = None
        Path(tmp).unlink(missing_ok=True)
    return path


def _common_srs_and_fields(
    layers: Sequence[ogr.Layer],
) -> tuple[osr.SpatialReference, list[ogr.FieldDefn]]:
    srs_list = [layer.GetSpatialRef() for layer in layers]
    if srs_list and all(s is not None and s.IsSame(srs_list[0]) for s in srs_list):
        srs = srs_list[0].Clone()
    else:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    fields: dict[str, ogr.FieldDefn] = {}
    for layer in layers:
        defn = layer.GetLayerDefn()
        for i in range(defn.GetFieldCount()):
            field = defn.GetFieldDefn(i)
            fields.setdefault(field.GetName(), field)
    return srs, list(fields.values())


def _copy_regions(
    src: ogr.Layer, dst: ogr.Layer, defn: ogr.FeatureDefn, scene: str, srs: osr.SpatialReference
) -> None:
    source_srs = src.GetSpatialRef()
    transform = None
    if source_srs is not None and not source_srs.IsSame(srs):
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
