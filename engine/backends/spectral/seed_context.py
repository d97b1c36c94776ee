"""What every class's seeds read of the scene's sample, and what they write of their choices.

`seeds.select_seeds` picks each class's seeds in turn (vegetation, water, snow, cloud, the
land); each reads the same sample bands, clipped pixels and shared indices, and adds its
thresholds, how they were chosen and its notes to the same record, in that order: the
explanation lists them as they were decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ...indices import compute_index
from .bright_patches import SampleGrid
from .params import SpectralParams
from .set_thresholds import chosen_threshold

#: How a note ends that says the bands cannot show a class (`scene_model` drops it where the
#: analyst's examples seed that class).
UNDETECTABLE = "{target} cannot be detected"
#: Seeds below this count disable a class (too few to fit a covariance reliably); tiny samples
#: (unit tests, small rasters) use ``min_seeds``.
MIN_SEEDS = 25


def min_seeds(n: int) -> int:
    """Fewest seeds that make a class for a sample of ``n`` pixels (5 for tiny samples, up to 25)."""
    return int(np.clip(n // 200, 5, MIN_SEEDS))


@dataclass
class SeedContext:
    """The sample as the seeds read it, and the record they write.

    Attributes:
        bands: 1-D sample bands keyed by role, all finite, dark offsets removed; red stands in
            for a missing green band (the snow index needs one).
        calibrated: Whether the bands are reflectance (else digital numbers: every brightness
            test is relative to the scene).
        params: The backend's tunable values.
        clip: Per brightness band, the pixels on its saturation plateau.
        has_green: Whether the raster has a green band of its own (water needs one).
        thresholds: Each threshold chosen, by name.
        how: How each threshold was chosen, in words.
        notes: What was decided, in words, in the order it was.
        sample_grid: The whole sample on its grid, for the cloud candidates' patches; None
            where it is not known (the patches are not measured).
    """

    bands: Mapping[str, np.ndarray]
    calibrated: bool
    params: SpectralParams
    clip: dict[str, np.ndarray]
    has_green: bool
    thresholds: dict[str, float] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sample_grid: SampleGrid | None = None

    @cached_property
    def roles(self) -> set[str]:
        """The band roles of the sample."""
        return set(self.bands)

    @cached_property
    def n(self) -> int:
        """The number of sampled pixels."""
        return len(next(iter(self.bands.values())))

    @cached_property
    def need(self) -> int:
        """Fewest seeds that make a class (`min_seeds`)."""
        return min_seeds(self.n)

    @cached_property
    def ndvi(self) -> np.ndarray | None:
        """NDVI of the sample, or None without red and NIR."""
        return self.index("NDVI") if {"red", "nir"} <= self.roles else None

    @cached_property
    def visible(self) -> list[str]:
        """The visible bands of the sample, blue to red."""
        return [r for r in ("blue", "green", "red") if r in self.roles]

    @cached_property
    def brightness(self) -> np.ndarray | None:
        """The mean of the visible bands, or None without any."""
        vis = self.visible
        return np.mean([self.bands[r] for r in vis], axis=0) if vis else None

    def index(self, name: str) -> np.ndarray:
        """A spectral index of the sample."""
        return compute_index(name, self.bands)

    def choose(self, name: str, scene_value: float, scene_how: str) -> float:
        """The threshold of index `name`: the analyst's value where set, else the scene's
        `scene_value`; recorded with how it was chosen (`set_thresholds.chosen_threshold`)."""
        return chosen_threshold(
            name, scene_value, scene_how, self.params, self.thresholds, self.how
        )

    def zeros(self) -> np.ndarray:
        """An empty mask over the sample."""
        return np.zeros(self.n, dtype=bool)
