"""Tiles predicted in parallel threads, yielded in grid order, with bounded memory.

numpy, GDAL and onnxruntime release the GIL in their heavy loops, so threads overlap the
reading of the next tiles with the prediction of the current ones. At most `2 x workers`
tiles are in flight; results come back in row-major order, as the region labelling needs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..backends.base import Backend, TilePrediction
from ..raster.cell_reader import CellReader
from ..raster.decimated_read import default_read_threads
from ..raster.raster_source import RasterSource
from ..raster.windows import Tile, TileGrid
from ..reports.profiling import StageProfile


@dataclass(frozen=True)
class TileResult:
    """A tile, the backend's prediction for its core (None: the core is all nodata), and what
    the caller's `analyse` made of them in the worker thread."""

    tile: Tile
    prediction: TilePrediction | None
    analysis: object = None


def default_workers() -> int:
    """Worker threads: the usable CPU cores, at most 4 (more brings little for this work)."""
    return default_read_threads()


def predict_tiles(
    source: RasterSource,
    backend: Backend,
    grid: TileGrid,
    check_cancel: Callable[[], None],
    workers: int | None = None,
    analyse: Callable[[Tile, TilePrediction | None], object] | None = None,
    profile: StageProfile | None = None,
) -> Iterator[TileResult]:
    """Yield each tile of `grid` with its core-cropped prediction, in grid order.

    `analyse(tile, prediction)` runs in the worker thread too, for per-tile work that needs
    nothing from other tiles (labelling, sums); its result is the `analysis` of the tile.
    `profile` times the reads, predictions and analyses (summed over the threads).
    """
    workers = workers or default_workers()
    profile = profile or StageProfile()
    reader = CellReader(source, grid, backend.required_roles())

    def run(tile: Tile) -> TileResult:
        with profile.stage("classify.read"):
            bands = reader.read(tile)  # each input block decoded once (cell_reader)
        core = tile.core_slices
        prediction = None
        if not np.isnan(next(iter(bands.values()))[core]).all():
            with profile.stage("classify.predict"):
                full = backend.predict(bands, tile.read)
            prediction = TilePrediction(
                full.classes[core], full.confidence[core], full.evidence[(slice(None), *core)]
            )
        with profile.stage("classify.analyse"):
            analysis = analyse(tile, prediction) if analyse is not None else None
        return TileResult(tile, prediction, analysis)

    tiles = iter(grid)
    pending: deque[Future[TileResult]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spex-tile") as pool:
        try:
            for tile in tiles:
                pending.append(pool.submit(run, tile))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                check_cancel()
                with profile.stage("classify.wait"):
                    result = pending.popleft().result()
                next_tile = next(tiles, None)
                if next_tile is not None:
                    pending.append(pool.submit(run, next_tile))
                yield result
        finally:
            for future in pending:
                future.cancel()
