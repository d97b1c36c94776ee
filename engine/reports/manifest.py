"""`run.json`: what ran, on what, with which settings, and what it measured."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..raster.dataset_open import absolute_name
from ..raster.pixel_grid import grid_transform

if TYPE_CHECKING:
    from .run_facts import RunFacts

SCHEMA = "spex-run/1"


def build_manifest(facts: RunFacts) -> dict[str, object]:
    """The manifest as a JSON-able dict."""
    source, grid = facts.source, facts.grid
    ds = source.dataset
    report = facts.backend_report()
    totals = facts.target_totals()
    counts = {target: count for target, (count, _) in totals.items()}
    area = {target: area for target, (_, area) in totals.items()}
    return {
        "schema": SCHEMA,
        "spex_version": __version__,
        "prompt": facts.plan.prompt,
        "plan": facts.plan.to_dict(),
        "backend": {
            "name": facts.backend.name,
            "method": report.method,
            "device": report.device,
            "thresholds": report.thresholds,
            "details": report.details,
            "notes": report.notes,
            "undivided": report.undivided,
        },
        "input": {
            "path": absolute_name(source.name),
            "width": ds.width,
            "height": ds.height,
            "count": ds.count,
            "dtype": ds.dtypes[0],
            "nodata": ds.nodata,
            "crs": ds.crs.to_string() if ds.crs else None,
            "transform": list(grid_transform(ds))[:6],
            "descriptions": list(ds.descriptions),
            "cloud_mask": source.cloud_mask.to_dict() if source.cloud_mask else None,
        },
        "bands": source.mapping.to_dict()
        | ({"role_shift": source.role_shift.as_dict()} if source.role_shift else {}),
        "scaling": source.scaling.to_dict(),
        "tiling": {
            "tile_size": grid.tile_size,
            "halo": grid.halo,
            "tiles": len(grid),
            "tiles_skipped_nodata": facts.tiles_skipped_nodata,
            "extent_window": [
                int(grid.area.col_off),
                int(grid.area.row_off),
                int(grid.area.width),
                int(grid.area.height),
            ],
            # as the analyst gave it, and in which CRS (None: the raster's)
            "extent": list(facts.request.extent) if facts.request.extent else None,
            "extent_crs": facts.request.extent_crs,
            "sample_valid_pixels": facts.sample_pixels,
            # (share of the sample, value) read as nodata for an undeclared fill, else None
            "undeclared_fill": list(facts.undeclared_fill) if facts.undeclared_fill else None,
            # role bands that alone make part of the sample nodata (share, commonest value)
            "band_gaps": [gap.as_dict() for gap in facts.band_gaps],
            "decoded_copy": facts.decoded_copy,
        },
        "counts": {
            "valid_pixels": facts.valid_pixels,
            "area_unit": "m2" if facts.metric else "pixel",
            "valid_area_m2": round(facts.valid_area_m2, 2) if facts.metric else None,
            "regions_found": facts.regions_found,
            "regions_kept": len(facts.kept),
            "regions_per_target": counts,
            "area_m2_per_target": (
                {k: round(v, 2) for k, v in area.items()} if facts.metric else None
            ),
            "pixels_per_target": None if facts.metric else {k: int(v) for k, v in area.items()},
        },
        "product_quality": (
            facts.product_quality.to_dict() if facts.product_quality is not None else None
        ),
        "outputs": {
            "mask": "mask.tif",
            "features": "features.gpkg",
            "explanation": "explanation.md",
        },
        "timings_s": {k: round(v, 3) for k, v in facts.timings.items()},
        "profile": facts.profile.to_dict() if facts.profile.enabled else None,
        "environment": {"python": sys.version.split()[0], "platform": platform.platform()},
    }


def write_manifest(facts: RunFacts, path: Path) -> dict[str, object]:
    """Write `run.json` and return its content."""
    manifest = build_manifest(facts)
    path.write_text(json.dumps(manifest, indent=2, default=_jsonable) + "\n", encoding="utf-8")
    return manifest


def _jsonable(value: object) -> object:
    """numpy scalars and arrays, paths and tuples in JSON form."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
