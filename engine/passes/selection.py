"""Which regions a plan keeps: area bounds and the N largest per target."""

from __future__ import annotations

import numpy as np

from ..instructions.plan import Plan
from .regions import Regions


def select_regions(regions: Regions, areas_m2: np.ndarray, plan: Plan) -> np.ndarray:
    """Indices of the regions the plan keeps, ordered by target, then by area (largest first)."""
    keep = np.ones(len(regions), dtype=bool)
    if plan.min_area_m2 is not None:
        keep &= areas_m2 >= plan.min_area_m2
    if plan.max_area_m2 is not None:
        keep &= areas_m2 <= plan.max_area_m2
    if plan.min_pixels is not None:
        keep &= regions.count >= plan.min_pixels
    if plan.max_pixels is not None:
        keep &= regions.count <= plan.max_pixels
    chosen: list[np.ndarray] = []
    for target in range(1, len(plan.targets) + 1):
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
        if plan.largest_n is not None:
            candidates = candidates[: plan.largest_n]
        chosen.append(candidates)
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
