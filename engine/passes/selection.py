"""Which regions a plan keeps: area bounds and the N largest, per target."""

from __future__ import annotations

import numpy as np

from ..instructions.plan import Plan, RegionLimits
from .regions import Regions


def _within(regions: Regions, areas_m2: np.ndarray, limits: RegionLimits) -> np.ndarray:
    """Which regions the size limits keep (inclusive bounds)."""
    keep = np.ones(len(regions), dtype=bool)
    if limits.min_area_m2 is not None:
        keep &= areas_m2 >= limits.min_area_m2
    if limits.max_area_m2 is not None:
        keep &= areas_m2 <= limits.max_area_m2
    if limits.min_pixels is not None:
        keep &= regions.count >= limits.min_pixels
    if limits.max_pixels is not None:
        keep &= regions.count <= limits.max_pixels
    return keep


def select_regions(regions: Regions, areas_m2: np.ndarray, plan: Plan) -> np.ndarray:
    """Indices of the regions the plan keeps, ordered by target, then by area (largest first);
    each target's regions by its own limits (`Plan.limits`)."""
    chosen: list[np.ndarray] = []
    for target, name in enumerate(plan.targets, start=1):
        limits = plan.limits(name)
        keep = _within(regions, areas_m2, limits)
        candidates = np.nonzero(keep & (regions.target == target))[0]
        # Stable order: area, then position, so ties never depend on tiling.
        order = np.lexsort(
            (
                regions.centroid_col[candidates],
                regions.centroid_row[candidates],
                -areas_m2[candidates],
            )
        )
        candidates = candidates[order]
        if limits.largest_n is not None:
            candidates = candidates[: limits.largest_n]
        chosen.append(candidates)
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
