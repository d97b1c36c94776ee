"""Polygonize on a worker thread, handed over in batches: the same polygons as one plain call."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr
from scipy import ndimage

from spex.engine.errors import CancelledError
from spex.engine.passes import polygon_stream as stream_module
from spex.engine.passes.polygon_stream import polygon_stream
from tests.rasters import write_raster


def _region_raster(path: Path) -> Path:
    # Synthetic region ids (geometry only): 8-connected blobs of a random field, some with
    # holes, numbered as the write pass numbers regions.
    field = ndimage.gaussian_filter(np.random.default_rng(7).normal(size=(400, 300)), 2.0)
    ids, count = ndimage.label(field > 0.05, structure=np.ones((3, 3)))
    assert count > 100
    return write_raster(path, ids.astype(np.int32))


def _plain(band: gdal.Band) -> list[tuple[int, bytes]]:
    memory = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = memory.CreateLayer("raw", None, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("region_id", ogr.OFTInteger))
    gdal.Polygonize(band, band, layer, 0, ["8CONNECTED=8"])
    return [
        (f.GetField(0), ogr.ForceToMultiPolygon(f.GetGeometryRef()).ExportToWkb()) for f in layer
    ]


def _polygonize_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "spex-polygonize"]


def test_streamed_polygons_are_the_plain_calls_in_its_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = gdal.Open(str(_region_raster(tmp_path / "regions.tif")))
    band = src.GetRasterBand(1)
    expected = _plain(band)
    monkeypatch.setattr(stream_module, "MAX_WAITING", 7)  # Polygonize waits for the caller
    batches = list(polygon_stream(band, None, lambda value: value % 3 != 0, lambda: None))
    got = [(value, geometry.ExportToWkb()) for batch in batches for value, geometry in batch]
    assert len(batches) > 5  # handed over while Polygonize ran, not once at the end
    assert got == [item for item in expected if item[0] % 3 != 0]
    assert not _polygonize_threads()


def test_a_cancel_stops_polygonize_and_is_raised(tmp_path: Path) -> None:
    src = gdal.Open(str(_region_raster(tmp_path / "regions.tif")))
    calls = []

    def cancel_on_second_look() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise CancelledError("cancelled")

    with pytest.raises(CancelledError):
        for _ in polygon_stream(src.GetRasterBand(1), None, bool, cancel_on_second_look):
            pass
    assert not _polygonize_threads()


def test_leaving_early_stops_polygonize(tmp_path: Path) -> None:
    src = gdal.Open(str(_region_raster(tmp_path / "regions.tif")))
    batches = polygon_stream(src.GetRasterBand(1), None, bool, lambda: None)
    first = next(batches)
    assert first and all(geometry.GetGeometryType() == ogr.wkbMultiPolygon for _, geometry in first)
    batches.close()
    assert not _polygonize_threads()
