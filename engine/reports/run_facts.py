"""The run's record: what was asked (`ExtractionRequest`) and what was measured (`RunFacts`).

Its own module so that the passes and the reports (classify pass, write pass, explanation,
manifest) depend on the record, not on the pipeline that drives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..backends.base import Backend, BackendReport
from ..backends.spectral.examples import Examples
from ..instructions.plan import Plan
from ..passes.pixel_areas import PixelAreas
from ..passes.vectorize import RegionRecord
from ..raster.band_gaps import BandGap
from ..raster.raster_source import RasterSource
from ..raster.windows import TileGrid
from .product_quality import QualityComparison
from .profiling import StageProfile


@dataclass(frozen=True)
class ExtractionRequest:
    """Everything one extraction needs; the CLI, the QGIS task and Processing fill it."""

    input_path: Path
    prompt: str
    out_dir: Path
    bands: str | Sequence[str] | None = None
    sensor: str | None = None
    scale: float | None = None
    offset: float | None = None
    backend: str = "spectral"
    tile_size: int = 512
    overlap: int = 0
    extent: tuple[float, float, float, float] | None = None  # xmin, ymin, xmax, ymax
    #: The CRS of `extent` ("EPSG:4326", WKT, PROJ), where it is not the raster's.
    extent_crs: str | None = None
    min_area_m2: float | None = None
    workers: int | None = None  # tile threads (default: CPU cores, at most 4)
    backend_options: dict[str, object] = field(default_factory=dict)
    #: Index thresholds the analyst set (spectral backend; `set_thresholds.SETTABLE`).
    index_thresholds: dict[str, float] = field(default_factory=dict)
    #: Points or polygons the analyst labelled (spectral backend; `backends.spectral.examples`).
    examples: Examples | None = None
    #: Hide what the product's quality band flags as cloud (`raster.cloud_masking`).
    mask_clouds: bool = False
    #: Hide the pixels within this many metres of those clouds too (with `mask_clouds`).
    cloud_buffer_m: float = 0.0
    profile: bool = False  # per-stage profile in run.json and the explanation (or SPEX_PROFILE=1)


@dataclass
class RunFacts:
    """Measurements gathered during a run, for the explanation and the manifest."""

    request: ExtractionRequest
    plan: Plan
    source: RasterSource
    backend: Backend
    grid: TileGrid
    evidence_names: tuple[str, ...]
    valid_area_m2: float = 0.0
    valid_pixels: int = 0
    tiles_skipped_nodata: int = 0
    regions_found: int = 0
    inside_sum: np.ndarray | None = None  # (targets, evidence) sums of index inside target
    inside_n: np.ndarray | None = None
    outside_sum: np.ndarray | None = None
    outside_n: np.ndarray | None = None
    kept: list[RegionRecord] = field(default_factory=list)
    polygons: dict[int, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    report: BackendReport | None = None  # the backend's account, taken once the passes are done
    sample_pixels: int = 0
    #: (share, value) of the raster read as nodata for holding a fill value in every band
    #: the file does not declare (`raster_source.Sample.undeclared_fill`).
    undeclared_fill: tuple[float, float] | None = None
    #: The role bands that alone make part of the raster nodata (`band_gaps`).
    band_gaps: tuple[BandGap, ...] = ()
    decoded_copy: bool = False  # tiles read from the sample's decoded copy (decoded_copy.py)
    #: The result against the product's own quality band, where it has one (product_quality.py).
    product_quality: QualityComparison | None = None
    profile: StageProfile = field(default_factory=StageProfile)

    @property
    def metric(self) -> bool:
        """Whether areas are in m2: False for a raster without a CRS (areas in pixels)."""
        return self.source.dataset.crs is not None

    @cached_property
    def pixel_areas(self) -> PixelAreas:
        """The ground area of the raster's pixels, measured once a run (`pixel_areas`)."""
        return PixelAreas(self.source.dataset)

    @property
    def valid_area(self) -> float:
        """The valid area in the run's area unit: m2, or pixels without a CRS."""
        return self.valid_area_m2 if self.metric else float(self.valid_pixels)

    def backend_report(self) -> BackendReport:
        """The backend's account: the one taken after the passes, else a fresh one."""
        return self.report or self.backend.report()

    @property
    def undetectable(self) -> dict[str, str]:
        """The plan's targets that this raster's bands cannot show, each with the bands it
        would need (`Backend.undetectable_targets`)."""
        return self.backend.undetectable_targets(self.plan, self.source.roles)

    def target_totals(self) -> dict[str, tuple[int, float]]:
        """Per plan target: the regions kept and their area (polygons' m2, or pixels)."""
        totals = {target: (0, 0.0) for target in self.plan.targets}
        for record in self.kept:
            count, area = totals[record.class_key]
            if self.metric:
                polygon = self.polygons.get(record.region_id)
                area += polygon.area_m2 if polygon else 0.0
            else:
                area += record.pixels
            totals[record.class_key] = (count + 1, area)
        return totals

    @property
    def workers(self) -> int | None:
        """Tile threads asked for by the request."""
        return self.request.workers
