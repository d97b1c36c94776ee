"""How large the bright patches are that cloud candidates lie in: clouds are large, roofs not.

White roofs (membranes, metal, concrete) can pass every spectral cloud test: bright across the
visible, white enough, brighter than the scene's bright land and than the canopy in NIR
(Buffalo's, Sentinel-2 L2A: 156 of its 652 built-up pixels were cloud). Their size tells them
apart: a cloud thick enough to seed covers hectares to thousands of them, a building one or two.
The candidates' patches are 8-connected, on the whole sample's grid (the raster decimated to
about a megapixel, never a tile, so every extent and tile size sees the same), and their median
over the candidates is read. Measured on every benchmark scene (`bench/cloud_patches.py`;
docs/benchmarks.md, "White roofs the size of buildings, not clouds"): labelled clouds lie in
patches of 4.9 ha (the smallest, in a 61-pixel Landsat chip) to 636 ha, the built-up scenes'
candidates in patches of 0.03 to 2.2 ha (Buffalo's 1.6 ha, the only ones no other test refused).
The bar (`SpectralParams.cloud_min_patch_ha`, 3 ha) lies between them, about 1.4x and 1.6x from
each side's nearest. Bright soil and sand can lie in larger patches (20.7 ha in one scene): the
tint test refuses them, not this one. Candidates so refused are roofs: a built-up component of
their own (as the reddened bright land is), which keeps them from broadening the rest of the
land (as one class they took the vegetation of a hazy true-colour scene).

A patch that touches the raster's edge or its nodata may go on beyond them: it is not judged
small. A patch of fewer than `RESOLVED_CELLS` cells says little of its object (a broken cloud's
bright cores at 30 m: 0.3 to 1.3 ha): the test judges none (at 30 m it sees roofs of 1.8 ha and
more; on a coarsely decimated grid, whose cell is larger than the bar, nothing). A raster
without a CRS has no area: the test is not made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .histograms import saturated

#: Patches of fewer cells say little of their object's size: at coarse pixels a thin or
#: broken cloud's bright cores are a few pixels (the Landsat time-series chips' broken clouds:
#: 3 to 14 pixels of 30 m), where a roof that passes every spectral test fills many (Buffalo's:
#: 163 of 10 m).
RESOLVED_CELLS = 20
#: Where a sample's pixels lie on the raster's decimated grid (its True cells, in row-major
#: order) and the area of one cell in hectares.
GridCells = tuple[np.ndarray, float]
#: 8-connectivity: a cloud's cells touch at their corners on a decimated grid.
_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class SampleGrid:
    """The whole sample on its decimated grid, for what needs the pixels' neighbours.

    Attributes:
        grid: (rows, cols) bool: the grid's cells that hold a sampled pixel (in row-major
            order, the order of `bands`).
        bands: The sample's 1-D brightness bands (dark offsets removed, red standing in for
            a missing green, as the seeds read them), one value per True cell of `grid`.
        fitted: Per pixel the seeds read (a fixed subsample of the sample), its index into
            `bands`.
        cell_ha: The area of one grid cell in hectares (the raster's pixel area times the
            decimation squared).
    """

    grid: np.ndarray
    bands: Mapping[str, np.ndarray]
    fitted: np.ndarray
    cell_ha: float

    def patch_ha_of(
        self, test: Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray]], np.ndarray]
    ) -> np.ndarray:
        """Per pixel the seeds read, the area (`patch_ha`) of the patch of the whole sample's
        pixels passing `test` (called with the whole sample's bands and, per band, its
        pixels on the saturation plateau) that it lies in."""
        clip = {role: saturated(v) for role, v in self.bands.items()}
        return self.patch_ha(test(self.bands, clip))[self.fitted]

    def patch_ha(self, bright: np.ndarray) -> np.ndarray:
        """Per pixel of the sample (1-D, aligned with `bands`), the area in hectares of the
        8-connected patch of `bright` cells it lies in: 0 outside them, infinite for a patch
        that touches the grid's edge or a cell without a sampled pixel."""
        on_grid = np.zeros(self.grid.shape, dtype=bool)
        on_grid[self.grid] = bright
        labels, count = ndimage.label(on_grid, structure=_EIGHT)
        cells = np.bincount(labels.ravel(), minlength=count + 1).astype(np.float64)
        areas = cells * self.cell_ha
        areas[_open_patches(labels, self.grid)] = np.inf
        areas[0] = 0.0
        return areas[labels[self.grid]]


def _open_patches(labels: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The labels of the patches that touch the grid's edge or a cell without a pixel."""
    edge = np.zeros(grid.shape, dtype=bool)
    edge[[0, -1], :] = edge[:, [0, -1]] = True
    beside_nodata = ndimage.binary_dilation(~grid, structure=_EIGHT)
    return np.unique(labels[edge | beside_nodata])


def bright_candidates(
    bands: Mapping[str, np.ndarray],
    clip: Mapping[str, np.ndarray],
    blue: str,
    visible: list[str],
    limits: tuple[float, float, float | None],
) -> np.ndarray:
    """The cloud tests' bright pixels of the 1-D `bands`: above the `limits` (the `blue`
    band's, the mean `visible` brightness's and, where there is one, SWIR1's) or clipped."""
    b_hi, bright_hi, swir1_hi = limits
    bright = np.mean([bands[r] for r in visible], axis=0)
    any_clipped = np.any([clip[r] for r in visible], axis=0)
    cloud = ((bands[blue] > b_hi) | clip[blue]) & ((bright > bright_hi) | any_clipped)
    if swir1_hi is not None:
        cloud &= (bands["swir1"] > swir1_hi) | clip["swir1"]
    return cloud


def roof_sized(
    cloud: np.ndarray, patch_ha: np.ndarray, min_ha: float, cell_ha: float
) -> tuple[np.ndarray, str]:
    """The cloud seeds, none where the candidates' median patch (`patch_ha`, per candidate)
    is smaller than `min_ha` hectares yet at least `RESOLVED_CELLS` cells of `cell_ha`; and
    a note saying why."""
    if not cloud.any():
        return cloud, ""
    median = float(np.median(patch_ha[cloud]))
    if not median < min_ha or median < RESOLVED_CELLS * cell_ha:
        return cloud, ""
    return np.zeros_like(cloud), (
        f"cloud candidates lie in bright patches of {median:.2g} ha (median), smaller than "
        f"a cloud ({min_ha:g} ha or more): roofs or bright land, not cloud"
    )
