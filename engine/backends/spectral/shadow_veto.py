"""Water in the shadow of the scene's own clouds is not water, where no quality band says so.

A raster without its product's quality band (a chip, an export, a clip) gets no cloud shadow
from anywhere, and a cloud's shadow over land is dark enough to read as water. The scene
classifier finds the clouds; their shadows are cast as `raster.cloud_shadows` casts a Level-1C
product's, on the global sample's grid (the whole raster, decimated to about a megapixel):
possible shadow is NIR below `cloud_shadows.DARK_SHARE` of the sample's clear median and not
below green (water is; a shadow over land is not); the sun's azimuth, which such a raster does
not carry, is the one (in `AZIMUTH_STEP` steps) whose sweep of the clouds holds the most
possible shadow beyond chance; the clouds that some height puts on possible shadow are swept
out to 3,000 m (`ASSUMED_ZENITH`). In `predict`, a pixel in that sweep that passes the darkness
test itself and that the classifier calls water loses its water probability (it goes to its
next class): water that looks like water (NIR below green) keeps it, shadow or not.

The sweep is made once, in `prepare`, so a pixel gets the same answer whatever the tiles.
Measured on the benchmark (docs/benchmarks.md, "Water in the scene's own cloud shadows").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from rasterio.windows import Window

from ...raster.cloud_shadows import (
    DARK_SHARE,
    SunAngles,
    casting_clouds,
    possible_shadow,
    shadow_offsets,
    swept,
)
from ...raster.raster_source import RasterSource, Sample
from .pixel_classes import PixelClasses
from .scene_model import SceneModel

#: The sun's zenith angle assumed (degrees; a raster without a product carries no sun angles):
#: the shadows of clouds up to `cloud_shadows.MAX_CLOUD_HEIGHT_M` high are looked for within
#: 3,000 m of them; the benchmark chips' shadows lie 0.5-1.6 km from their clouds.
ASSUMED_ZENITH = 45.0
#: The azimuths tried, in degrees.
AZIMUTH_STEP = 10
#: The direction is searched on a grid of at most this many pixels a side (stride sampled).
SEARCH_SIDE = 512
#: A raster without a CRS is taken as pixels this many metres wide (the benchmark's chips).
UNKNOWN_PIXEL_M = 30.0


@dataclass(frozen=True)
class ShadowVeto:
    """The scene's cloud shadows, on the global sample's grid, and the test a pixel under them
    passes to lose its water probability.

    Attributes:
        reach: Where a matched cloud's sweep falls (the sample grid, bool).
        raster_shape: The raster's (height, width): a pixel's cell is its row and column
            scaled to the grid.
        dark: NIR below which a swept pixel is shadow (the engine's scaled values).
        azimuth: The sun's azimuth the shadows point away from (degrees, from north).
        water: The scene class whose probability a shadow pixel loses.
        shadow_share: Share of the sampled pixels in the sweep that pass the darkness test
            (shadow, whatever the classifier calls them).
    """

    reach: np.ndarray
    raster_shape: tuple[int, int]
    dark: float
    azimuth: float
    water: int
    shadow_share: float

    def apply(
        self, probs: np.ndarray, bands: Mapping[str, np.ndarray], window: Window
    ) -> np.ndarray:
        """Take the water probability from the shadow pixels that `probs` (K, H, W; of
        `window` of the raster) calls water, in place (the rest renormalised); returns where."""
        height, width = probs.shape[1:]
        grid_h, grid_w = self.reach.shape
        rows = (np.arange(height) + int(window.row_off)) * grid_h // self.raster_shape[0]
        cols = (np.arange(width) + int(window.col_off)) * grid_w // self.raster_shape[1]
        reached = self.reach[np.ix_(np.clip(rows, 0, grid_h - 1), np.clip(cols, 0, grid_w - 1))]
        if not reached.any():
            return reached
        water = probs[self.water]
        called = water >= probs.max(axis=0)
        shadow = reached & called & possible_shadow(bands["green"], bands["nir"], self.dark)
        if shadow.any():
            water[shadow] = 0.0
            total = probs[:, shadow].sum(axis=0)
            probs[:, shadow] /= np.where(total > 0, total, 1.0)
        return shadow

    def describe(self) -> str:
        """The explanation's line."""
        return (
            f"cloud shadows: water under the shadows the scene's clouds cast (away from a sun at "
            f"azimuth {self.azimuth:.0f} deg, found from the shadows themselves; within "
            f"{_sun(self.azimuth).reach_m():,.0f} m; NIR below {DARK_SHARE:.0%} of the clear "
            f"median and not below green) is not water; {self.shadow_share:.1%} of the sampled "
            "pixels lie in such shadows"
        )


def shadow_veto(
    clouds: np.ndarray,
    grid: np.ndarray,
    bands: Mapping[str, np.ndarray],
    water: int,
    raster_shape: tuple[int, int],
    pixel_m: float,
) -> ShadowVeto | None:
    """The veto of the scene whose sampled pixels (1-D `bands`, at the True cells of the
    decimated `grid`) the classifier calls cloud where `clouds` (on the grid) is True; `water`
    its water class, `pixel_m` the grid's pixel size (m). None where no cloud casts a shadow."""
    if not clouds.any() or "green" not in bands or "nir" not in bands:
        return None
    green, nir = (_on_grid(bands[role], grid) for role in ("green", "nir"))
    clear = grid & ~clouds
    if not clear.any():
        return None
    dark = DARK_SHARE * float(np.median(nir[clear]))
    possible = possible_shadow(green, nir, dark) & clear
    azimuth = _azimuth(clouds, possible, pixel_m)
    if azimuth is None:
        return None
    offsets = shadow_offsets(_sun(azimuth), pixel_m)
    reach = swept(casting_clouds(clouds, possible, offsets), offsets) & ~clouds
    if not reach.any():
        return None
    share = float((reach & possible).sum()) / max(int(grid.sum()), 1)
    return ShadowVeto(reach, raster_shape, dark, azimuth, water, share)


def _on_grid(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The 1-D sampled `values` back on the sample's grid (0 where no valid pixel)."""
    out = np.zeros(grid.shape, dtype=np.float32)
    out[grid] = values
    return np.nan_to_num(out)


def _sun(azimuth: float) -> SunAngles:
    """The sun taken for a raster without sun angles: at `azimuth`, `ASSUMED_ZENITH`."""
    return SunAngles(ASSUMED_ZENITH, azimuth)


def _azimuth(clouds: np.ndarray, possible: np.ndarray, pixel_m: float) -> float | None:
    """The azimuth whose sweep of every cloud holds the most possible shadow beyond its share
    of the clear grid (on the grid stride-sampled to `SEARCH_SIDE`); None where none holds
    more than chance."""
    stride = max(1, math.ceil(max(clouds.shape) / SEARCH_SIDE))
    clouds, possible = clouds[::stride, ::stride], possible[::stride, ::stride]
    base = float(possible[~clouds].mean()) if (~clouds).any() else 0.0
    best, found = 0.0, None
    for azimuth in range(0, 360, AZIMUTH_STEP):
        reach = swept(clouds, shadow_offsets(_sun(float(azimuth)), pixel_m * stride)) & ~clouds
        excess = float((reach & possible).sum()) - base * float(reach.sum())
        if excess > best:
            best, found = excess, float(azimuth)
    return found


def fit_scene_shadow_veto(
    model: SceneModel,
    source: RasterSource,
    sample: Sample,
    classified: PixelClasses | None,
    pixel_m: float | None,
) -> ShadowVeto | None:
    """The veto of water under the scene's own cloud shadows (`shadow_veto`), where the
    classifier has cloud and water classes, reads green and NIR, and the sample its grid;
    `pixel_m`: the raster's pixel size (the row spacing of
    `fitted_scene.raster_pixel_spacing`)."""
    classes = model.classes
    if (
        classified is None
        or sample.grid is None
        or not {"cloud", "water"} <= set(classes)
        or not {"green", "nir"} <= set(model.roles)
    ):
        return None
    cells = np.flatnonzero(sample.grid)[classified.valid]
    clouds = np.zeros(sample.grid.shape, dtype=bool)
    clouds.flat[cells] = classified.best == classes.index("cloud")
    height, width = source.height, source.width
    raster_m = pixel_m or UNKNOWN_PIXEL_M
    return shadow_veto(
        clouds,
        sample.grid,
        sample.bands,
        classes.index("water"),
        (height, width),
        raster_m * height / sample.grid.shape[0],
    )
