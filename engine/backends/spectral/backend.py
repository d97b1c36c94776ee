"""The default backend: spectral priors, scene-adaptive classification, spatial clean-up.

SPIE-style: spectral indices give confident seeds per class with thresholds chosen on the
global sample of this scene; a classifier fitted on those seeds over all bands labels every
pixel; a tile-exact smoothing of class probabilities removes salt-and-pepper noise.
"""

from __future__ import annotations

import numpy as np
from rasterio.windows import Window

from ...indices import compute_index, get_index
from ...plan import Plan
from ...progress import RunMonitor
from ...raster_source import RasterSource, Sample
from ...targets import TARGETS
from ..base import Backend, BackendReport, TilePrediction
from .context import ContextRule, apply_context_rule, context_halo, fit_context_rule, texture
from .evidence import evidence_names
from .scene_model import SCENE_CLASSES, SceneModel, fit_scene_model, predict_proba, top_class
from .smoothing import HALO, smooth_probabilities


class SpectralBackend(Backend):
    """Index priors + seeded scene classifier; needs no model download."""

    name = "spectral"

    def __init__(self, smoothing_radius: int = HALO, context: bool = True) -> None:
        self.smoothing_radius = smoothing_radius
        self.context = context
        self.model: SceneModel | None = None
        self._rule = ContextRule(False, how="texture rule off")
        self._lut = np.zeros(len(SCENE_CLASSES), dtype=np.uint8)
        self._evidence: tuple[str, ...] = ()
        self._calibrated = True
        self._shares: dict[str, float] = {}

    def supported_targets(self) -> tuple[str, ...]:
        """Every target of the catalogue that the scene classifier models."""
        return tuple(t for t in TARGETS if t in SCENE_CLASSES)

    @property
    def halo(self) -> int:
        """The context a tile needs for exact results: smoothing radius or texture window.

        The texture rule reads the texture and the smoothed class of each pixel's neighbourhood
        (`context_halo`). Before `prepare` it assumes the texture rule will be on.
        """
        texture_on = self._rule.active if self.model is not None else self.context
        if texture_on:
            return context_halo(self.smoothing_radius)
        return self.smoothing_radius

    @property
    def evidence_names(self) -> tuple[str, ...]:
        """Evidence indices for the plan's targets (set by `prepare`)."""
        return self._evidence

    def prepare(
        self, source: RasterSource, plan: Plan, sample: Sample, monitor: RunMonitor
    ) -> None:
        """Choose the scene's thresholds and fit the classifier on the global sample."""
        monitor.progress(0.0, "fitting the scene classifier")
        self._calibrated = source.scaling.calibrated
        self.model = fit_scene_model(
            sample.bands, calibrated=self._calibrated, targets=plan.targets
        )
        classes = list(self.model.classes)
        self._lut = np.zeros(len(classes), dtype=np.uint8)
        for i, target in enumerate(plan.targets, start=1):
            if target in classes:
                self._lut[classes.index(target)] = i
        self._evidence = evidence_names(plan.targets, source.roles)
        self._shares = _scene_shares(self.model, sample)
        asked = {"builtup", "bare"} & set(plan.targets)
        self._rule = ContextRule(
            False,
            how="texture rule off: "
            + ("neither built-up nor bare soil asked" if self.context else "switched off"),
        )
        if self.context and asked:
            monitor.progress(0.7, "measuring texture on sample windows")
            self._rule = fit_context_rule(
                self.model,
                lambda b: source.read(Window(b[1], b[0], b[3], b[2])),
                source.height,
                source.width,
                self.smoothing_radius,
            )
        monitor.progress(1.0, "scene classifier ready")

    def required_roles(self) -> tuple[str, ...] | None:
        """The classifier's bands, the evidence indices' and the texture rule's."""
        if self.model is None:
            return None
        roles = set(self.model.roles)
        for name in self._evidence:
            roles.update(get_index(name).roles)
        if self._rule.active:
            roles.update(("red", "nir"))
        return tuple(sorted(roles))

    def predict(self, bands: dict[str, np.ndarray], window: Window | None = None) -> TilePrediction:
        """Class probabilities, smoothed, then the most probable class per pixel.

        Per pixel and tile-exact, so `window` is not needed.
        """
        assert self.model is not None, "prepare() must run first"
        probs = predict_proba(self.model, bands)
        if self.smoothing_radius > 0:
            probs = smooth_probabilities(probs, self.smoothing_radius)
        best, confidence = top_class(probs)
        nodata = np.isnan(confidence)
        if self._rule.active:
            apply_context_rule(self._rule, best, confidence, probs, texture(self.model, bands))
        classes = self._lut[best]
        classes[nodata] = 255
        shape = classes.shape
        evidence = np.stack(
            [compute_index(name, bands) for name in self._evidence] or [np.zeros(shape, np.float32)]
        )[: len(self._evidence)]
        return TilePrediction(classes, confidence, evidence.astype(np.float32, copy=False))

    def report(self) -> BackendReport:
        """Thresholds, seed counts and notes of the fitted scene model."""
        assert self.model is not None
        summary = self.model.to_dict()
        summary["scene_shares"] = self._shares
        summary["texture_rule"] = self._rule.to_dict()
        if self._rule.active:
            summary["thresholds_how"] = dict(summary["thresholds_how"])
            summary["thresholds_how"]["NDVI texture"] = (
                "2 x the median 3 x 3 NDVI standard deviation of built-up and bare land "
                "(sample windows); built-up where most of the neighbourhood is above it"
            )
        notes = list(self.model.notes)
        if self._rule.active:
            notes.append(
                "Built-up and bare soil were told apart by texture (settlements are "
                "heterogeneous, fields homogeneous): " + self._rule.how + "."
            )
        if not self._calibrated:
            notes.append(
                "The input is in uncalibrated digital numbers: thresholds were chosen on this "
                "scene's own histograms, so index values are relative, not physical."
            )
        return BackendReport(
            method="spectral index priors -> per-scene thresholds -> seeded scene classifier "
            "-> tile-exact probability smoothing -> texture rule for built-up vs bare soil",
            thresholds=dict(self.model.thresholds) | self._rule.thresholds(),
            details=summary,
            notes=notes,
            device="cpu",
        )


def _scene_shares(model: SceneModel, sample: Sample) -> dict[str, float]:
    """Share of the sampled pixels whose most probable class is each scene class.

    Per pixel, without smoothing: a measured estimate of cloud, snow or water cover for the
    explanation's caveats, from the same global sample the model was fitted on.
    """
    if sample.valid_pixels == 0:
        return {}
    rows = {role: values[None, :] for role, values in sample.bands.items()}
    probs = predict_proba(model, rows)[:, 0, :]
    valid = ~np.isnan(probs).any(axis=0)
    if not valid.any():
        return {}
    best = np.nanargmax(np.where(np.isnan(probs), -1.0, probs), axis=0)[valid]
    counts = np.bincount(best, minlength=len(model.classes))
    return {c: round(float(n) / len(best), 4) for c, n in zip(model.classes, counts, strict=True)}
