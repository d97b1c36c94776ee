"""One huge mosaic across Dask workers: the classify pass spread by bands of whole tile rows.

The driver reads the global sample and prepares the backend once (`pipeline.extract`); this
pass ships the prepared backend to every worker, and each worker predicts, labels and links
one band of tile rows with a `RegionAccumulator` of its own. Bands of whole tile rows taken
in order are the grid's own row-major order, so the driver, adding the bands in order with
`RegionAccumulator.add_block`, numbers every provisional label exactly as the single-process
pass does and links regions across band borders with the same border-pair graph: the outputs
are byte-identical. The driver writes the provisional labels, then the usual write and
vectorize passes run on it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from rasterio.windows import Window

from ..backends.base import TilePrediction
from ..errors import BackendError
from ..passes.classify_pass import analyse_tile
from ..passes.regions import NODATA_LABEL, RegionAccumulator, RegionBlock, Regions
from ..passes.tile_runner import predict_tiles
from ..progress import RunMonitor
from ..raster.bands import BandMapping
from ..raster.dataset_open import absolute_name, open_dataset
from ..raster.raster_sink import GeoTiffSink
from ..raster.raster_source import RasterSource
from ..raster.reflectance import Scaling
from ..raster.windows import Tile, TileGrid
from .dask_cluster import (
    ClusterSpec,
    dask_client,
    restore_malloc_defaults,
    tile_threads_per_worker,
)

if TYPE_CHECKING:
    from distributed import Client, Future

    from ..backends import Backend
    from ..passes.pixel_areas import PixelAreas
    from ..pipeline import RunFacts

#: Backends whose whole state after `prepare` is small and whose report needs no tile results.
MOSAIC_BACKENDS = ("spectral",)
#: Bands per worker, so that a slow band does not leave the others idle at the end.
BANDS_PER_WORKER = 3
#: Seconds between checks for cancel while waiting for a band.
POLL_S = 0.5


@dataclass(frozen=True)
class BandJob:
    """One worker task: a band of whole tile rows of the run's grid."""

    path: str
    mapping: BandMapping
    scaling: Scaling
    grid: TileGrid  # the run's grid restricted to the band (same tiles, rows from 0)
    n_targets: int
    n_evidence: int
    threads: int | None


@dataclass(frozen=True)
class TileTally:
    """What one tile adds to the run's counts (summed on the driver in grid order)."""

    skipped: bool  # all nodata
    origin: tuple[int, int]  # raster row and column of the core's first pixel
    valid_per_row: np.ndarray
    valid_per_col: np.ndarray
    evidence_sums: np.ndarray


@dataclass(frozen=True)
class BandResult:
    """A band's provisional labels (numbered from 1, nodata marked) and its regions."""

    window: Window
    labels: np.ndarray
    regions: RegionBlock
    tallies: tuple[TileTally, ...]
    seconds: float  # the worker's time on the band


def band_grids(grid: TileGrid, rows_per_band: int) -> list[TileGrid]:
    """`grid` cut into bands of `rows_per_band` whole tile rows, top to bottom."""
    area, bands = grid.area, []
    for first in range(0, grid.n_rows, rows_per_band):
        top = int(area.row_off) + first * grid.tile_size
        bottom = min(top + rows_per_band * grid.tile_size, int(area.row_off + area.height))
        window = Window(int(area.col_off), top, int(area.width), bottom - top)
        bands.append(
            TileGrid(grid.raster_width, grid.raster_height, window, grid.tile_size, grid.halo)
        )
    return bands


def classify_band(job: BandJob, backend: Backend) -> BandResult:
    """Predict, label and link one band on a worker (the task Dask runs)."""
    from ..pipeline import GDAL_CACHE_MB

    restore_malloc_defaults()
    start = time.perf_counter()
    area = job.grid.area
    row0, col0 = int(area.row_off), int(area.col_off)
    out = np.empty((int(area.height), int(area.width)), dtype=np.uint32)
    tallies: list[TileTally] = []

    def analyse(tile: Tile, prediction: TilePrediction | None) -> object:
        return analyse_tile(tile, prediction, job.n_targets, job.n_evidence)

    with (
        rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB),
        RasterSource(open_dataset(job.path), job.mapping, job.scaling) as source,
    ):
        accumulator = RegionAccumulator(source.width, job.n_evidence)
        top = np.zeros(source.width, dtype=np.uint32)
        for result in predict_tiles(source, backend, job.grid, _never, job.threads, analyse):
            core, facts = result.tile.core, result.analysis
            r, c = int(core.row_off), int(core.col_off)
            h, w = int(core.height), int(core.width)
            labels = accumulator.add(result.tile.row, r, c, facts.regions)
            if result.tile.row == 0:
                top[c : c + w] = np.where(labels[0] == NODATA_LABEL, 0, labels[0])
            out[r - row0 : r - row0 + h, c - col0 : c - col0 + w] = labels
            tallies.append(
                TileTally(
                    result.prediction is None,
                    (r, c),
                    facts.valid_per_row,
                    facts.valid_per_col,
                    facts.evidence_sums,
                )
            )
    seconds = time.perf_counter() - start
    return BandResult(area, out, accumulator.block(top), tuple(tallies), seconds)


def _add_band(
    result: BandResult,
    accumulator: RegionAccumulator,
    sink: GeoTiffSink,
    facts: RunFacts,
    evidence_totals: np.ndarray,
    areas: PixelAreas,
) -> None:
    """Number and link the band's regions after the previous bands, write its labels, and add
    its tiles' counts in grid order (the float sums then match the single-process pass)."""
    offset = accumulator.add_block(result.regions)
    labels = result.labels
    np.add(labels, np.uint32(offset), out=labels, where=(labels > 0) & (labels != NODATA_LABEL))
    sink.write(labels, result.window)
    for tally in result.tallies:
        facts.tiles_skipped_nodata += int(tally.skipped)
        evidence_totals += tally.evidence_sums
        facts.valid_pixels += int(tally.valid_per_row.sum())
        if areas.metric:  # without a CRS the valid area is in pixels
            facts.valid_area_m2 += areas.of_part(
                *tally.origin, tally.valid_per_row, tally.valid_per_col
            )


def _never() -> None:
    """Workers are not cancelled tile by tile; the driver cancels their tasks."""


class DaskClassifyPass:
    """The classify pass (`pipeline.ClassifyPass`) run on a Dask cluster, band by band."""

    def __init__(self, cluster: ClusterSpec | Client, rows_per_band: int | None = None) -> None:
        """`cluster`: a connected client, or where to start one when the pass runs (after
        every check of the request, so a mistake never waits for a cluster)."""
        self.cluster = cluster
        self.rows_per_band = rows_per_band
        self.bands_run = 0
        #: Seconds the driver spent waiting for bands, linking and writing them, merging the
        #: regions at the end, and the workers' own seconds on the bands (for `make bench`).
        self.timings = {"wait_s": 0.0, "link_write_s": 0.0, "finish_s": 0.0, "bands_s": 0.0}

    def __call__(self, facts: RunFacts, labels_path: Path, monitor: RunMonitor) -> Regions:
        """Classify `facts.grid` on the workers; write the provisional labels here."""
        if facts.backend.name not in MOSAIC_BACKENDS:
            raise BackendError(
                f"The {facts.backend.name} backend runs in one process; drop --scheduler/"
                "--workers, or use the spectral backend for a mosaic across workers."
            )
        if not isinstance(self.cluster, ClusterSpec):
            return self._classify(self.cluster, None, facts, labels_path, monitor)
        threads = tile_threads_per_worker(self.cluster)
        monitor.progress(0.0, "starting the Dask workers")
        with dask_client(self.cluster) as client:
            return self._classify(client, threads, facts, labels_path, monitor)

    def _classify(
        self,
        client: Client,
        threads: int | None,
        facts: RunFacts,
        labels_path: Path,
        monitor: RunMonitor,
    ) -> Regions:
        source, grid = facts.source, facts.grid
        workers = max(1, len(client.nthreads()))
        rows = self.rows_per_band or math.ceil(grid.n_rows / (BANDS_PER_WORKER * workers))
        bands = band_grids(grid, max(1, rows))
        self.bands_run = len(bands)
        n_targets, n_evidence = len(facts.plan.targets), len(facts.evidence_names)
        jobs = (
            BandJob(
                absolute_name(source.pixels_name),  # workers may run in another folder
                source.mapping,
                source.scaling,
                band,
                n_targets,
                n_evidence,
                threads,
            )
            for band in bands
        )
        [backend] = client.scatter([facts.backend], broadcast=True, hash=False)
        accumulator = RegionAccumulator(source.width, n_evidence)
        evidence_totals = np.zeros((4, n_targets, n_evidence))
        areas = facts.pixel_areas
        pending: deque[Future] = deque()
        try:
            with GeoTiffSink(
                labels_path, source.dataset, "uint32", nodata=None, area=grid.area
            ) as sink:
                for done in range(len(bands)):
                    while len(pending) < 2 * workers and (job := next(jobs, None)) is not None:
                        pending.append(client.submit(classify_band, job, backend, pure=False))
                    clock = time.perf_counter()
                    result = self._wait(pending.popleft(), monitor)
                    self.timings["wait_s"] += time.perf_counter() - clock
                    self.timings["bands_s"] += result.seconds
                    clock = time.perf_counter()
                    _add_band(result, accumulator, sink, facts, evidence_totals, areas)
                    self.timings["link_write_s"] += time.perf_counter() - clock
                    monitor.progress(
                        (done + 1) / len(bands), f"classified band {done + 1}/{len(bands)}"
                    )
        finally:
            client.cancel(list(pending) + [backend])
        facts.inside_sum, facts.inside_n, facts.outside_sum, facts.outside_n = evidence_totals
        clock = time.perf_counter()
        regions = accumulator.finish()
        self.timings["finish_s"] = time.perf_counter() - clock
        return regions

    @staticmethod
    def _wait(future: Future, monitor: RunMonitor) -> BandResult:
        from distributed import TimeoutError as DaskTimeout

        while True:
            monitor.check_cancel()
            try:
                return future.result(timeout=POLL_S)
            except (TimeoutError, DaskTimeout):
                continue
