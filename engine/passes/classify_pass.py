"""The classify pass: tiles predicted and labelled in worker threads, regions linked in order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..backends.base import TilePrediction
from ..progress import RunMonitor
from ..raster.raster_sink import GeoTiffSink
from ..raster.windows import Tile
from .regions import RegionAccumulator, Regions, TileRegions, label_tile
from .tile_runner import predict_tiles

if TYPE_CHECKING:
    from ..reports.run_facts import RunFacts

#: Class value of nodata pixels in the mask.
MASK_NODATA = 255


@dataclass(frozen=True)
class _TileFacts:
    """What one tile contributes, computed in its worker thread."""

    regions: TileRegions
    valid_per_row: np.ndarray
    valid_per_col: np.ndarray
    evidence_sums: np.ndarray  # (4, targets, evidence): inside sum, inside n, outside sum, n


def analyse_tile(
    tile: Tile, prediction: TilePrediction | None, n_targets: int, n_evidence: int
) -> _TileFacts:
    """Label one tile core and sum what it contributes; needs nothing from other tiles."""
    shape = (int(tile.core.height), int(tile.core.width))
    if prediction is None:
        classes = np.full(shape, MASK_NODATA, dtype=np.uint8)
        confidence = np.zeros(shape, np.float32)
        evidence = np.zeros((n_evidence, *shape), np.float32)
        sums = np.zeros((4, n_targets, n_evidence))
    else:
        classes, confidence = prediction.classes, prediction.confidence
        evidence = prediction.evidence
        sums = _evidence_sums(classes, evidence, n_targets)
    valid = classes != MASK_NODATA
    return _TileFacts(
        label_tile(classes, confidence, evidence), valid.sum(axis=1), valid.sum(axis=0), sums
    )


def classify_pass(facts: RunFacts, labels_path: Path, monitor: RunMonitor) -> Regions:
    """Predict every tile, label its regions, and write the provisional labels to `labels_path`.

    Also fills the run's valid pixel count and area, nodata-tile count and evidence sums.
    """
    source, grid = facts.source, facts.grid
    n_targets, n_evidence = len(facts.plan.targets), len(facts.evidence_names)
    evidence_totals = np.zeros((4, n_targets, n_evidence))
    accumulator = RegionAccumulator(source.width, n_evidence)
    # Without a CRS the valid area is in pixels (`valid_pixels`).
    areas = facts.pixel_areas

    def analyse(tile: Tile, prediction: TilePrediction | None) -> _TileFacts:
        return analyse_tile(tile, prediction, n_targets, n_evidence)

    with GeoTiffSink(
        labels_path, source.dataset, "uint32", nodata=None, area=grid.area, scratch=True
    ) as sink:
        profile = facts.profile
        results = predict_tiles(
            source, facts.backend, grid, monitor.check_cancel, facts.workers, analyse, profile
        )
        for i, result in enumerate(results):
            tile, tile_facts = result.tile, result.analysis
            if result.prediction is None:
                facts.tiles_skipped_nodata += 1
            evidence_totals += tile_facts.evidence_sums
            facts.valid_pixels += int(tile_facts.valid_per_row.sum())
            if areas.metric:
                facts.valid_area_m2 += areas.of_part(
                    int(tile.core.row_off),
                    int(tile.core.col_off),
                    tile_facts.valid_per_row,
                    tile_facts.valid_per_col,
                )
            with profile.stage("classify.link"):
                labels = accumulator.add(
                    tile.row, int(tile.core.row_off), int(tile.core.col_off), tile_facts.regions
                )
            with profile.stage("classify.write"):
                sink.write(labels, tile.core)
            monitor.progress((i + 1) / len(grid), f"classified tile {i + 1}/{len(grid)}")
    facts.inside_sum, facts.inside_n, facts.outside_sum, facts.outside_n = evidence_totals
    with facts.profile.stage("classify.merge"):
        return accumulator.finish()


def _evidence_sums(classes: np.ndarray, evidence: np.ndarray, n_targets: int) -> np.ndarray:
    """Per target and index: sum and count of finite values inside the target and outside it."""
    out = np.zeros((4, n_targets, len(evidence)))
    valid = classes != MASK_NODATA
    finite = np.isfinite(evidence)
    values = np.where(finite, evidence, 0.0)
    for t in range(n_targets):
        inside = classes == t + 1
        outside = valid & ~inside
        for mask, row in ((inside, 0), (outside, 2)):
            out[row, t] = (values * mask).sum(axis=(1, 2))
            out[row + 1, t] = (finite & mask).sum(axis=(1, 2))
    return out
