"""`extract`: the backend-independent passes from instruction and raster to outputs."""

from __future__ import annotations

import math
import shutil
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import CRSError, NotGeoreferencedWarning, RasterioIOError
from rasterio.transform import array_bounds
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from .backends import Backend, backend_key, get_backend, left_out_refusal
from .errors import BandError, ExtentOutsideError, InputError, PromptError
from .instructions.instruction import parse_instruction
from .instructions.plan import Plan
from .instructions.targets import TARGETS
from .outputs import StagedOutputDir, check_output_dir
from .passes.classify_pass import classify_pass
from .passes.mask_writer import KeptRegions, write_mask, write_region_ids
from .passes.pixel_areas import PixelAreas
from .passes.regions import Regions
from .passes.selection import select_regions
from .passes.vectorize import RegionRecord, write_features
from .progress import RunMonitor
from .raster.cloud_masking import check_cloud_buffer
from .raster.pixel_grid import gcp_warp_hint, grid_transform
from .raster.raster_source import RasterSource, open_source
from .raster.windows import make_grid
from .reports.explanation import write_explanation
from .reports.manifest import write_manifest
from .reports.product_quality import QualityComparison, compare_with_quality_band
from .reports.profiling import StageProfile, profile_from_env
from .reports.run_facts import ExtractionRequest, RunFacts

__all__ = ["ExtractionRequest", "ExtractionResult", "RunFacts", "extract"]

#: GDAL block cache (MB): reads stream, so a small cache keeps memory flat.
GDAL_CACHE_MB = 64


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


#: The classify pass's signature: (facts, provisional labels path, monitor) -> regions.
ClassifyPass = Callable[[RunFacts, Path, RunMonitor], Regions]


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
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), warnings.catch_warnings():
        # A raster without a CRS is measured in pixels and says so in the explanation.
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return _extract(request, monitor, classify)


def _backend_options(request: ExtractionRequest) -> dict[str, object]:
    """The backend's options, with the analyst's index thresholds and examples for the
    spectral backend."""
    options = dict(request.backend_options)
    given = {
        "thresholds": ("Index thresholds (--threshold)", dict(request.index_thresholds)),
        "examples": ("Examples (--examples)", request.examples),
    }
    for key, (what, value) in given.items():
        if not value:
            continue
        if backend_key(request.backend) != "spectral":
            raise InputError(
                f"{what} set the spectral backend's seeds; leave them out for the "
                f"'{request.backend}' backend, or run --backend spectral."
            )
        options[key] = value
    return options


def check_request(request: ExtractionRequest) -> None:
    """Raise a one-line `SpexError` for what is wrong with `request` itself, whatever raster it
    runs on: its sizes and, for the spectral backend, its instruction (a model backend's
    classes are known once its model is loaded). A batch checks its request once this way,
    before any scene runs."""
    _check_sizes(request)
    if backend_key(request.backend) == "spectral":
        _plan(request, get_backend(request.backend, **_backend_options(request)))


def _check_sizes(request: ExtractionRequest) -> None:
    if request.min_area_m2 is not None and not request.min_area_m2 >= 0:  # NaN too
        raise InputError(
            f"Minimum area {request.min_area_m2:g} m2 is not an area; give 0 (keep every "
            "region) or more square metres."
        )
    if request.tile_size < 64:
        raise InputError(f"Tile size {request.tile_size} is too small; use --tile 64 or more.")
    check_cloud_buffer(request.mask_clouds, request.cloud_buffer_m)
    if request.overlap < 0:
        raise InputError(f"Overlap {request.overlap} is negative; give 0 or more pixels.")


def _plan(request: ExtractionRequest, backend: Backend) -> Plan:
    """The instruction's plan for `backend`, with the request's minimum area."""
    try:
        plan = parse_instruction(request.prompt, available=backend.supported_targets())
    except PromptError as exc:
        note = backend.targets_note()
        if note is None:
            raise
        raise PromptError(f"{exc}; {note}") from exc
    refusal = left_out_refusal(plan.left_out, request.backend)
    if refusal:
        raise PromptError(refusal)
    if request.mask_clouds and "cloud" in plan.targets:
        raise InputError(
            "Hiding the product's clouds (--mask-clouds) would hide the clouds the instruction "
            "asks for; leave it out to map cloud."
        )
    if request.min_area_m2 is not None:
        plan = plan.with_min_area(request.min_area_m2)
    return plan


def _extract(
    request: ExtractionRequest, monitor: RunMonitor, classify: ClassifyPass
) -> ExtractionResult:
    clock = time.perf_counter()
    backend = get_backend(request.backend, **_backend_options(request))
    plan = _plan(request, backend)
    check_output_dir(Path(request.out_dir))
    _check_sizes(request)
    profile = StageProfile(request.profile or profile_from_env())
    with StagedOutputDir(Path(request.out_dir)) as staging:
        work = staging / "_work"
        work.mkdir()
        # The sample read keeps what it decodes for the in-process tiles (the Dask mosaic's
        # workers read the input themselves; an extent reads a part of it).
        in_process = classify is classify_pass and request.extent is None
        with profile.run_pass("prepare"), profile.stage("prepare.open"):
            source = open_source(
                request.input_path,
                request.bands,
                request.sensor,
                request.scale,
                request.offset,
                decoded_dir=work / "decoded" if in_process else None,
                decoded_roles=lambda roles: backend.planned_roles(plan, roles),
                mask_clouds=request.mask_clouds,
                cloud_buffer_m=request.cloud_buffer_m,
            )
        with source:
            _check_measurable(source, plan)
            _check_detectable(source, plan, backend)
            with profile.run_pass("prepare"):
                monitor.progress(0.01, "reading the global sample")
                with profile.stage("prepare.sample"):
                    sample = source.read_sample()
                with profile.stage("prepare.fit"):
                    backend.prepare(source, plan, sample, monitor.stage(0.02, 0.1))
            area = _extent_window(source, _extent_in_raster_crs(request, source))
            grid = make_grid(
                source.width,
                source.height,
                request.tile_size,
                max(request.overlap, backend.halo),
                area,
            )
            facts = RunFacts(request, plan, source, backend, grid, backend.evidence_names)
            facts.profile = profile
            facts.sample_pixels = sample.valid_pixels
            facts.undeclared_fill = sample.undeclared_fill
            facts.band_gaps = sample.band_gaps
            facts.timings["prepare_s"] = time.perf_counter() - clock
            _run_passes(facts, staging, work, monitor, classify)
            facts.decoded_copy = source.decoded is not None and not source.decoded.failed
            shutil.rmtree(work)
            with profile.run_pass("report"):
                facts.report = backend.report()  # once: the explanation and the manifest share it
                facts.product_quality = _against_product_quality(facts, staging)
            facts.timings["total_s"] = time.perf_counter() - clock
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


def _against_product_quality(facts: RunFacts, staging: Path) -> QualityComparison | None:
    """The written class raster against the product's own quality band, where it has one; a
    band that cannot be read (or cloud polygons that cannot be placed) leaves the comparison
    out, never the run."""
    try:
        return compare_with_quality_band(
            str(facts.request.input_path), staging / "mask.tif", facts.plan.targets
        )
    except (RasterioIOError, OSError, InputError):
        return None


def _extent_in_raster_crs(
    request: ExtractionRequest, source: RasterSource
) -> tuple[float, ...] | None:
    """The request's extent in the raster's CRS: as given, or from `extent_crs` (its bounds
    followed along their edges, so a lon/lat box covers its whole area in UTM)."""
    extent, given = request.extent, request.extent_crs
    if extent is None or not given:
        return extent
    try:
        crs = CRS.from_user_input(given)
    except CRSError:
        raise InputError(
            f"The extent's CRS '{given}' is unknown; give an EPSG code (EPSG:4326) or WKT."
        ) from None
    raster = source.dataset.crs
    if raster is None:
        raise InputError(
            f"The raster has no CRS, so an extent in {crs.to_string()} cannot be placed on it; "
            "give the extent in its pixel coordinates, without a CRS."
        )
    if crs == raster:
        return extent
    xmin, ymin, xmax, ymax = extent
    if xmin >= xmax or ymin >= ymax:
        raise InputError("The extent is empty; give xmin,ymin,xmax,ymax with min < max.")
    bounds = tuple(transform_bounds(crs, raster, *extent, densify_pts=21))
    if not all(math.isfinite(v) for v in bounds):  # PROJ's inf: no such place in `crs`
        raise InputError(
            f"The extent {xmin:.10g},{ymin:.10g},{xmax:.10g},{ymax:.10g} is not a place in "
            f"{crs.to_string()} (its coordinates lie outside what that CRS holds); give the CRS "
            "its coordinates are in, or none for the raster's own."
        )
    return bounds


def _extent_window(source: RasterSource, extent: tuple[float, ...] | None) -> Window | None:
    if extent is None:
        return None
    xmin, ymin, xmax, ymax = extent
    if xmin >= xmax or ymin >= ymax:
        raise InputError("The extent is empty; give xmin,ymin,xmax,ymax with min < max.")
    window = _bounds_window(grid_transform(source.dataset), extent).round_offsets().round_lengths()
    clipped = (
        window.intersection(Window(0, 0, source.width, source.height))
        if _overlaps(window, source)
        else None
    )
    if clipped is None or clipped.width < 1 or clipped.height < 1:
        left, bottom, right, top = array_bounds(
            source.height, source.width, grid_transform(source.dataset)
        )
        crs = source.dataset.crs
        looks = (  # degrees given for a projected raster: the CRS was left out
            f"; it looks like longitude and latitude: add its CRS ({EXTENT_CRS_EXAMPLE})"
            if crs is not None and crs.is_projected and _in_degrees(extent)
            else ""
        )
        raise ExtentOutsideError(
            "The extent does not overlap the raster; give one inside its bounds, in its CRS ("
            f"{crs.to_string() if crs else 'pixels, no CRS'}): x {left:.10g} to {right:.10g}, "
            f"y {min(bottom, top):.10g} to {max(bottom, top):.10g}{looks}."
        )
    return clipped


#: How an extent is given in another CRS, for a refusal.
EXTENT_CRS_EXAMPLE = "--extent 'xmin,ymin,xmax,ymax [EPSG:4326]'"


def _in_degrees(extent: tuple[float, ...]) -> bool:
    """Whether every coordinate of `extent` could be a longitude (x) or latitude (y)."""
    xmin, ymin, xmax, ymax = extent
    return all(abs(x) <= 180 for x in (xmin, xmax)) and all(abs(y) <= 90 for y in (ymin, ymax))


def _bounds_window(transform: Affine, extent: tuple[float, ...]) -> Window:
    """The pixel window that covers `extent` (xmin, ymin, xmax, ymax) on the grid `transform`,
    whichever way the grid's rows run (rasterio's ``from_bounds`` refuses a grid whose rows
    run south, as a raster with an identity geotransform has)."""
    xmin, ymin, xmax, ymax = extent
    inverse = ~transform
    corners = [inverse * (x, y) for x in (xmin, xmax) for y in (ymin, ymax)]
    cols, rows = [c for c, _ in corners], [r for _, r in corners]
    return Window(min(cols), min(rows), max(cols) - min(cols), max(rows) - min(rows))


def _overlaps(window: Window, source: RasterSource) -> bool:
    return (
        window.col_off < source.width
        and window.row_off < source.height
        and window.col_off + window.width > 0
        and window.row_off + window.height > 0
    )


def _check_measurable(source: RasterSource, plan: Plan) -> None:
    """Without a CRS areas are in pixels: a size limit in m2 or ha cannot be applied."""
    if source.dataset.crs is not None:
        return
    if plan.has_area_limit:
        hint = gcp_warp_hint(source.dataset)
        fix = f"; {hint}" if hint else " or assign a CRS to the raster first"
        raise InputError(
            f"{source.path.name} has no coordinate reference system, so areas cannot be "
            f"measured in m2 or ha; give the size in pixels (e.g. 'larger than 20 pixels'){fix}."
        )


def _check_detectable(source: RasterSource, plan: Plan, backend: Backend) -> None:
    """A plan whose every target needs bands the raster lacks stops here: an empty map would
    read as "none here". With other targets beside, the summary says it per target."""
    missing = backend.undetectable_targets(plan, source.roles)
    if not missing or len(missing) < len(plan.targets):
        return
    needs = "; ".join(f"{TARGETS[t].title} needs {words}" for t, words in missing.items())
    raise BandError(
        f"{source.path.name} has the bands {', '.join(source.roles)}, and {needs}; give the "
        "band roles with --bands (Band roles in QGIS) if the raster has them, or use another "
        "backend (--backend spex or onnx)."
    )


def _run_passes(
    facts: RunFacts, staging: Path, work: Path, monitor: RunMonitor, classify: ClassifyPass
) -> None:
    profile = facts.profile
    clock = time.perf_counter()
    labels_path = work / "provisional.tif"
    with profile.run_pass("classify"):
        regions = classify(facts, labels_path, monitor.stage(0.1, 0.7))
    facts.timings["classify_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    with profile.run_pass("select"):
        areas = _region_areas(facts.pixel_areas, regions)
        kept = select_regions(regions, areas, facts.plan)
        facts.regions_found = len(regions)
        facts.kept = _records(facts, regions, kept)
    region_raster = work / "regions.tif"
    lookups = KeptRegions.of(regions, kept)
    area = facts.grid.area
    # The mask is written on a second thread, beside the region ids and the vectorizing (one
    # core is idle otherwise); it reads the provisional labels, vectorizing the region ids.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="spex-mask") as pool:

        def mask_job() -> None:
            with profile.stage("write.mask"):
                write_mask(facts, labels_path, lookups, staging / "mask.tif", monitor.check_cancel)

        # On an error or a cancel here, leaving the pool waits for the mask job (its own cancel
        # check stops it) and the first error is the one raised.
        mask_done = pool.submit(mask_job)
        with profile.run_pass("write"):
            write_region_ids(facts, labels_path, lookups, region_raster, monitor)
        facts.timings["write_s"] = time.perf_counter() - clock
        clock = time.perf_counter()
        monitor.progress(0.85, "vectorizing regions")
        with profile.run_pass("vectorize"):
            facts.polygons = write_features(
                region_raster,
                staging / "features.gpkg",
                {r.region_id: r for r in facts.kept},
                facts.evidence_names,
                (0, 0, int(area.width), int(area.height)),
                monitor.check_cancel,
                profile=profile,
                plane=facts.pixel_areas.scale,
            )
        mask_done.result()
    facts.timings["vectorize_s"] = time.perf_counter() - clock


def _region_areas(pixel_areas: PixelAreas, regions: Regions) -> np.ndarray:
    """Region areas for the plan's limits and ranking: m2 (each region's pixel count times the
    area at its centroid), or pixels without a CRS."""
    if not pixel_areas.metric:
        return regions.count.astype(np.float64)
    return regions.count * pixel_areas.at(regions.centroid_row, regions.centroid_col)


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
                class_name=facts.plan.title(target),
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
