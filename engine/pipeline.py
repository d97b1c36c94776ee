"""`extract`: the backend-independent passes from instruction and raster to outputs."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window, from_bounds

from .backends import Backend, BackendReport, get_backend
from .classify_pass import classify_pass
from .errors import InputError, PromptError
from .explanation import write_explanation
from .geodesy import MetricMeasurer, pixel_area_m2, spatial_reference
from .instruction import parse_instruction
from .manifest import write_manifest
from .mask_writer import write_pass
from .outputs import StagedOutputDir, check_output_dir
from .plan import Plan
from .progress import RunMonitor
from .raster_source import RasterSource, open_source
from .regions import Regions
from .selection import select_regions
from .targets import TARGETS
from .vectorize import RegionRecord, write_features
from .windows import TileGrid, make_grid

#: GDAL block cache (MB): reads stream, so a small cache keeps memory flat.
GDAL_CACHE_MB = 64


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
    extent: tuple[float, float, float, float] | None = None  # xmin, ymin, xmax, ymax (raster CRS)
    min_area_m2: float | None = None
    workers: int | None = None  # tile threads (default: CPU cores, at most 4)
    backend_options: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ExtractionResult:
    """Where the outputs are, the plan, and the headline of the explanation."""

    out_dir: Path
    mask_path: Path
    features_path: Path
    explanation_path: Path
    manifest_path: Path
    plan: Plan
    summary: str
    manifest: dict[str, object]


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

    def target_totals(self) -> dict[str, tuple[int, float]]:
        """Per plan target: the regions kept and their polygons' area in m2."""
        totals = {target: (0, 0.0) for target in self.plan.targets}
        for record in self.kept:
            count, area = totals[record.class_key]
            polygon = self.polygons.get(record.region_id)
            totals[record.class_key] = (count + 1, area + (polygon.area_m2 if polygon else 0.0))
        return totals

    @property
    def workers(self) -> int | None:
        """Tile threads asked for by the request."""
        return self.request.workers


#: The classify pass's signature: (facts, provisional labels path, monitor) -> regions.
ClassifyPass = Callable[["RunFacts", Path, RunMonitor], Regions]


def extract(
    request: ExtractionRequest,
    monitor: RunMonitor | None = None,
    classify: ClassifyPass = classify_pass,
) -> ExtractionResult:
    """Run one extraction end to end and move the outputs into `request.out_dir`.

    Every user mistake raises a one-line `SpexError` before anything is written; a failure
    or cancel later on removes the partial outputs. `classify` replaces the in-process
    classify pass (the Dask mosaic passes one that spreads it over workers).
    """
    monitor = monitor or RunMonitor()
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        return _extract(request, monitor, classify)


def _extract(
    request: ExtractionRequest, monitor: RunMonitor, classify: ClassifyPass
) -> ExtractionResult:
    clock = time.perf_counter()
    backend = get_backend(request.backend, **request.backend_options)
    try:
        plan = parse_instruction(request.prompt, available=backend.supported_targets())
    except PromptError as exc:
        note = backend.targets_note()
        if note is None:
            raise
        raise PromptError(f"{exc}; {note}") from exc
    if request.min_area_m2 is not None:
        plan = replace(plan, min_area_m2=request.min_area_m2)
    check_output_dir(Path(request.out_dir))
    if request.tile_size < 64:
        raise InputError(f"Tile size {request.tile_size} is too small; use --tile 64 or more.")
    with open_source(
        request.input_path, request.bands, request.sensor, request.scale, request.offset
    ) as source:
        monitor.progress(0.01, "reading the global sample")
        sample = source.read_sample()
        backend.prepare(source, plan, sample, monitor.stage(0.02, 0.1))
        area = _extent_window(source, request.extent)
        grid = make_grid(
            source.width, source.height, request.tile_size, max(request.overlap, backend.halo), area
        )
        facts = RunFacts(request, plan, source, backend, grid, backend.evidence_names)
        facts.sample_pixels = sample.valid_pixels
        facts.timings["prepare_s"] = time.perf_counter() - clock
        with StagedOutputDir(Path(request.out_dir)) as staging:
            work = staging / "_work"
            work.mkdir()
            _run_passes(facts, staging, work, monitor, classify)
            shutil.rmtree(work)
            facts.timings["total_s"] = time.perf_counter() - clock
            facts.report = backend.report()  # once: the explanation and the manifest share it
            summary = write_explanation(facts, staging / "explanation.md")
            manifest = write_manifest(facts, staging / "run.json")
    out = Path(request.out_dir).absolute()
    monitor.progress(1.0, "done")
    return ExtractionResult(
        out_dir=out,
        mask_path=out / "mask.tif",
        features_path=out / "features.gpkg",
        explanation_path=out / "explanation.md",
        manifest_path=out / "run.json",
        plan=plan,
        summary=summary,
        manifest=manifest,
    )


def _extent_window(source: RasterSource, extent: tuple[float, ...] | None) -> Window | None:
    if extent is None:
        return None
    xmin, ymin, xmax, ymax = extent
    if xmin >= xmax or ymin >= ymax:
        raise InputError("The extent is empty; give xmin,ymin,xmax,ymax with min < max.")
    window = (
        from_bounds(xmin, ymin, xmax, ymax, source.dataset.transform)
        .round_offsets()
        .round_lengths()
    )
    clipped = (
        window.intersection(Window(0, 0, source.width, source.height))
        if _overlaps(window, source)
        else None
    )
    if clipped is None or clipped.width < 1 or clipped.height < 1:
        raise InputError("The extent does not overlap the raster; give an extent inside it.")
    return clipped


def _overlaps(window: Window, source: RasterSource) -> bool:
    return (
        window.col_off < source.width
        and window.row_off < source.height
        and window.col_off + window.width > 0
        and window.row_off + window.height > 0
    )


def _run_passes(
    facts: RunFacts, staging: Path, work: Path, monitor: RunMonitor, classify: ClassifyPass
) -> None:
    clock = time.perf_counter()
    labels_path = work / "provisional.tif"
    regions = classify(facts, labels_path, monitor.stage(0.1, 0.7))
    facts.timings["classify_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    measurer = MetricMeasurer(spatial_reference(facts.source.dataset.crs.to_wkt()))
    areas = _region_areas(facts, regions, measurer)
    kept = select_regions(regions, areas, facts.plan)
    facts.regions_found = len(regions)
    facts.kept = _records(facts, regions, kept)
    region_raster = work / "regions.tif"
    write_pass(facts, labels_path, regions, kept, staging / "mask.tif", region_raster, monitor)
    facts.timings["write_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    monitor.progress(0.85, "vectorizing regions")
    area = facts.grid.area
    facts.polygons = write_features(
        region_raster,
        staging / "features.gpkg",
        {r.region_id: r for r in facts.kept},
        facts.evidence_names,
        (0, 0, int(area.width), int(area.height)),
        monitor.check_cancel,
    )
    facts.timings["vectorize_s"] = time.perf_counter() - clock


def _region_areas(facts: RunFacts, regions: Regions, measurer: MetricMeasurer) -> np.ndarray:
    transform = tuple(facts.source.dataset.transform)
    if not measurer.geographic:
        return regions.count * pixel_area_m2(transform, False, measurer.unit, 0.0)
    per_pixel = np.array([pixel_area_m2(transform, True, 1.0, row) for row in regions.centroid_row])
    return regions.count * per_pixel


def _records(facts: RunFacts, regions: Regions, kept: np.ndarray) -> list[RegionRecord]:
    area = facts.grid.area
    extent_pixels = float(area.width * area.height)
    records = []
    for new_id, index in enumerate(kept, start=1):
        target = facts.plan.targets[int(regions.target[index]) - 1]
        records.append(
            RegionRecord(
                region_id=new_id,
                class_id=int(regions.target[index]),
                class_key=target,
                class_name=TARGETS[target].title,
                pixels=int(regions.count[index]),
                confidence=float(regions.confidence[index]),
                evidence={
                    name: float(regions.evidence[index, e])
                    for e, name in enumerate(facts.evidence_names)
                },
                centroid=(
                    float((regions.centroid_col[index] - area.col_off) / area.width),
                    float((regions.centroid_row[index] - area.row_off) / area.height),
                ),
                area_fraction=float(regions.count[index] / extent_pixels),
            )
        )
    return records
