"""GDAL Polygonize on a second thread, its polygons handed over in batches while it runs.

Polygonize is one C call that holds no Python lock, and the attributes of its polygons are
measured and written in Python: run one after the other they leave a core idle (Polygonize
was a third of a 21,800-polygon vectorize). Here Polygonize writes into an in-memory layer on
a worker thread. GDAL calls the progress callback between scanlines (every 1 % of the rows);
when the caller asks for polygons, or too many wait, the callback pauses Polygonize while the
caller moves the polygons finished so far out of that layer. Python work happens only on the
caller's thread (two threads taking turns at Python's lock per OGR call were slower than
one), and the caller takes the polygons in the order Polygonize emitted them: the output is
the same as polygonizing first and reading the layer after.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from osgeo import gdal, ogr

from ..raster.gdal_io import GDAL_IO
from ..reports.profiling import StageProfile

#: Polygons the in-memory layer holds at most before Polygonize waits for the caller.
MAX_WAITING = 5000
#: Seconds between the caller's cancel checks while it waits for Polygonize.
POLL_S = 0.05


def polygon_stream(
    band: gdal.Band,
    srs: object,
    wanted: Callable[[int], bool],
    check_cancel: Callable[[], None],
    profile: StageProfile | None = None,
) -> Iterator[list[tuple[int, ogr.Geometry]]]:
    """Yield (value, multipolygon) lists of the 8-connected polygons of `band` (0 = none), in
    Polygonize's order, keeping only the values `wanted` says; the geometries are the caller's.

    `check_cancel` is called between batches and while waiting for Polygonize; its exception
    stops Polygonize and is raised here. Leaving the iteration early stops Polygonize too,
    before this returns. The Polygonize call is the stage `vectorize.polygonize` of `profile`.
    """
    profile = profile or StageProfile()
    memory = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = memory.CreateLayer("raw", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("region_id", ogr.OFTInteger))
    turn = _Turns()

    def callback(_complete: float, _message: str, _data: object) -> int:
        with turn.cond:
            waiting = layer.GetFeatureCount()
            if waiting and (turn.wanted or waiting >= MAX_WAITING) and not turn.stop:
                turn.paused = True
                turn.cond.notify_all()
                while turn.paused and not turn.stop:
                    turn.cond.wait()
            return 0 if turn.stop else 1

    def work() -> None:
        try:
            # GDAL_IO: the mask is written beside this (`pipeline.py`) through the same block
            # cache; the polygons' attributes, vector work only, need no such lock.
            with GDAL_IO, profile.stage("vectorize.polygonize"):
                gdal.Polygonize(band, band, layer, 0, ["8CONNECTED=8"], callback=callback)
        except BaseException as exc:  # noqa: BLE001 - raised on the caller's thread
            turn.error = exc
        with turn.cond:
            turn.finished = True
            turn.cond.notify_all()

    worker = threading.Thread(target=work, name="spex-polygonize", daemon=True)
    worker.start()
    try:
        while True:
            check_cancel()
            with turn.cond:
                turn.wanted = True
                while not (turn.paused or turn.finished):
                    turn.cond.wait(POLL_S)
                    check_cancel()
                if turn.error is not None:
                    raise turn.error
                last = turn.finished
                batch = _take(layer, wanted)
                turn.wanted = turn.paused = False
                turn.cond.notify_all()
            if batch:
                yield batch
            if last:
                return
    finally:
        with turn.cond:
            turn.stop = True
            turn.cond.notify_all()
        worker.join()
        layer = memory = None


class _Turns:
    """Who works on the in-memory layer: Polygonize, or the caller while Polygonize waits."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.wanted = False  # the caller waits for polygons
        self.paused = False  # Polygonize waits in its callback: the layer is the caller's
        self.finished = False
        self.stop = False
        self.error: BaseException | None = None


def _take(layer: ogr.Layer, wanted: Callable[[int], bool]) -> list[tuple[int, ogr.Geometry]]:
    """Move every polygon out of `layer`, in FID order (Polygonize's); return the wanted ones
    as (value, multipolygon copy)."""
    batch = []
    taken = []
    layer.ResetReading()
    for feature in layer:
        value = feature.GetField(0)
        if wanted(value):
            batch.append((value, ogr.ForceToMultiPolygon(feature.GetGeometryRef())))
        taken.append(feature.GetFID())
    for fid in taken:
        layer.DeleteFeature(fid)
    return batch
