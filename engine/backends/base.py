"""The interface every backend implements, and what it returns per tile."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
from rasterio.windows import Window

from ..instructions.plan import Plan
from ..progress import RunMonitor
from ..raster.raster_source import RasterSource, Sample


@dataclass(frozen=True)
class TilePrediction:
    """A backend's answer for one read window (core plus halo).

    `classes` is uint8: 0 background, 1..N the plan's targets in order, 255 nodata.
    `confidence` is float32 in 0..1. `evidence` is a float32 (E, H, W) stack of the index
    values named by `Backend.evidence_names`, kept as per-region means and as evidence in the
    explanation.
    """

    classes: np.ndarray
    confidence: np.ndarray
    evidence: np.ndarray


@dataclass
class BackendReport:
    """What a backend did, for the manifest and the explanation."""

    method: str
    thresholds: dict[str, float] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    device: str = "cpu"
    explanation: str = ""
    #: Asked targets the scene could not tell from another cover, with that cover: their
    #: result holds it too (spectral: built-up and bare soil, where the land is one class).
    undivided: dict[str, str] = field(default_factory=dict)
    #: Asked targets whose result the backend doubts, each with the clause its summary line
    #: ends with (spectral: vegetation that may be soil, `reddish_vegetation`).
    doubts: dict[str, str] = field(default_factory=dict)


class Backend(ABC):
    """One way of turning a plan and a raster into classes, behind one interface.

    The pipeline calls `prepare` once per raster with the global sample, then `predict` per
    tile; `halo` pixels around each tile are read so neighbourhood work stays tile-exact.
    """

    name: str = ""

    @abstractmethod
    def supported_targets(self) -> tuple[str, ...]:
        """Target ids this backend can extract."""

    @property
    def halo(self) -> int:
        """Pixels of context needed on each side of a tile."""
        return 0

    @property
    def evidence_names(self) -> tuple[str, ...]:
        """Names of the evidence layers returned by `predict` (after `prepare`)."""
        return ()

    def targets_note(self) -> str | None:
        """What decides `supported_targets`, for the refusal of a target (e.g. a model's
        classes); None when the target list says it all."""
        return None

    def undetectable_targets(self, plan: Plan, roles: tuple[str, ...]) -> dict[str, str]:
        """The targets of `plan` that a raster with bands of `roles` cannot show, each with
        the bands it would need; {} when every one can be looked for (or it is known only
        after `prepare`)."""
        return {}

    def required_roles(self) -> tuple[str, ...] | None:
        """Band roles `predict` reads (after `prepare`); None: every band with a role.

        Tiles are read with only these bands: less I/O and scaling for a model that uses a
        few of a scene's bands. A pixel is nodata when any of them is.
        """
        return None

    def planned_roles(self, plan: Plan, roles: tuple[str, ...]) -> tuple[str, ...] | None:
        """The roles `required_roles` will give once `prepare` has seen a raster with `roles`,
        known before it (None: every band with a role, or not known in advance).

        The sample read keeps the decoded bands of a compressed input for the tiles
        (`raster/decoded_copy.py`): only these.
        """
        return None

    @abstractmethod
    def prepare(
        self, source: RasterSource, plan: Plan, sample: Sample, monitor: RunMonitor
    ) -> None:
        """Fit everything that is global to the raster (thresholds, classifiers, models)."""

    @abstractmethod
    def predict(self, bands: dict[str, np.ndarray], window: Window) -> TilePrediction:
        """Classify one read window given as float32 reflectance per band role.

        `window` is where the bands sit in the raster (pixel coordinates, halo included), so
        a model that runs on its own fixed grid of windows can anchor that grid to the raster,
        not to the tile, and give every pixel the same answer whatever the tile size. May be
        called from several threads at once.
        """

    @abstractmethod
    def report(self) -> BackendReport:
        """What was fitted and how, once the run is over."""
