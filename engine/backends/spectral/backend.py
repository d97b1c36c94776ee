"""The default backend: spectral priors, scene-adaptive classification, spatial clean-up.

SPIE-style: spectral indices give confident seeds per class with thresholds chosen on the
global sample of this scene; a classifier fitted on those seeds over the log of up to seven
bands (visible, red edge, NIR, SWIR) labels every pixel; a tile-exact smoothing of class
probabilities removes salt-and-pepper noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
from rasterio.windows import Window

from ...indices import compute_index, get_index
from ...instructions.plan import Plan
from ...instructions.targets import TARGETS
from ...progress import RunMonitor
from ...raster.raster_source import RasterSource, Sample
from ..base import Backend, BackendReport, TilePrediction
from .bright_land import bare_within_land
from .detectable import undetectable
from .evidence import evidence_names
from .examples import EXAMPLES_WHERE, Examples
from .fitted_scene import FittedScene, fit_scene
from .margins import MARGIN_HALO, grow_margins, margin_class_indexes
from .params import SpectralParams
from .scene_model import SCENE_CLASSES, SceneModel, feature_roles
from .scene_proba import predict_proba
from .scene_report import scene_report
from .set_thresholds import check_thresholds_used, check_tree_cut_asked, validate_thresholds
from .smoothing import HALO, smooth_probabilities
from .tree_cover import tree_cover
from .water_veto import apply_water_veto, most_probable_class


class SpectralBackend(Backend):
    """Index priors + seeded scene classifier; needs no model download."""

    name = "spectral"

    def __init__(
        self,
        smoothing_radius: int = HALO,
        params: SpectralParams | None = None,
        thresholds: Mapping[str, float] | None = None,
        examples: Examples | None = None,
    ) -> None:
        """`thresholds`: index thresholds the analyst set (`set_thresholds.SETTABLE`), in
        place of the scene's own choice; `examples`: the analyst's labelled points or polygons
        (`examples`), which correct the scene's seeds."""
        self.examples = examples
        self.params = params or SpectralParams()
        if thresholds:
            pairs = tuple(sorted(validate_thresholds(thresholds).items()))
            self.params = replace(self.params, set_thresholds=pairs)
        self.smoothing_radius = smoothing_radius
        #: The scene classifier and what was fitted beside it (set by `prepare`).
        self.scene: FittedScene | None = None
        self._lut = np.zeros(len(SCENE_CLASSES), dtype=np.uint8)
        self._evidence: tuple[str, ...] = ()
        self._asked: tuple[str, ...] = ()
        #: Plan target numbers (0: not asked) of forest and bare soil, and the scene classes
        #: the tree cut and the land's splits read (-1: not in the scene) (`set_targets`).
        self._forest = 0
        self._bare = 0
        self._vegetation = -1
        self._builtup = -1

    @property
    def model(self) -> SceneModel | None:
        """The fitted scene classifier (None before `prepare`)."""
        return self.scene.model if self.scene is not None else None

    @property
    def examples_mapped(self) -> dict[str, dict[str, int]]:
        """Per example class: its pixels counted by the scene class the fitted model gives
        them (empty without examples, or before `prepare`)."""
        return self.scene.examples_mapped if self.scene is not None else {}

    def supported_targets(self) -> tuple[str, ...]:
        """Every target of the catalogue that the scene classifier models."""
        return tuple(t for t in TARGETS if t in SCENE_CLASSES or t == "forest")

    @property
    def halo(self) -> int:
        """The context a tile needs for exact results: the smoothing radius, and one pixel
        more where cloud or snow margins are grown (`margins`)."""
        return self.smoothing_radius + (MARGIN_HALO if self._margin_classes() else 0)

    def _margin_classes(self) -> tuple[int, ...]:
        """The asked cloud and snow classes whose margins join them (none before `prepare`)."""
        if self.model is None or self.params.margin_probability >= 0.5:
            return ()
        return margin_class_indexes(self.model.classes, self._lut)

    @property
    def evidence_names(self) -> tuple[str, ...]:
        """Evidence indices for the plan's targets (set by `prepare`)."""
        return self._evidence

    def prepare(
        self, source: RasterSource, plan: Plan, sample: Sample, monitor: RunMonitor
    ) -> None:
        """Choose the scene's thresholds and fit the classifier on the global sample."""
        check_thresholds_used(dict(self.params.set_thresholds), source.roles)
        check_tree_cut_asked(dict(self.params.set_thresholds), (*plan.targets, *plan.left_out))
        monitor.progress(0.0, "fitting the scene classifier")
        self.scene = fit_scene(source, plan, sample, self.params, self.examples)
        self.set_targets(plan.targets)
        self._asked = tuple(plan.targets)
        self._evidence = evidence_names(plan.targets, source.roles)
        monitor.progress(1.0, "scene classifier ready")

    def set_targets(self, targets: tuple[str, ...]) -> None:
        """Answer `targets` from now on (after `prepare`, which fitted the scene for them)."""
        assert self.model is not None, "prepare() must run first"
        self._lut = self.target_lut(targets)
        classes = self.model.classes
        self._vegetation = classes.index("vegetation") if "vegetation" in classes else -1
        self._forest = targets.index("forest") + 1 if "forest" in targets else 0
        self._builtup = classes.index("builtup") if "builtup" in classes else -1
        self._bare = targets.index("bare") + 1 if "bare" in targets else 0

    def target_lut(self, targets: tuple[str, ...]) -> np.ndarray:
        """Scene class index -> plan target number (0 background), after `prepare`.

        Where the scene could not tell built-up from bare soil, its non-vegetated land is the
        built-up class; asked for bare soil alone, that land answers for it (the report says
        so), rather than an empty result for a class the scene has.
        """
        assert self.model is not None, "prepare() must run first"
        classes = list(self.model.classes)
        lut = np.zeros(len(classes), dtype=np.uint8)
        for i, target in enumerate(targets, start=1):
            source = target
            if target == "bare" and self.scene.land_answers_for_bare(targets):
                source = "builtup"
            if source in classes:
                lut[classes.index(source)] = i
        return lut

    def required_roles(self) -> tuple[str, ...] | None:
        """The classifier's bands and the evidence indices'."""
        if self.model is None:
            return None
        return _bands_read(self.model.roles, self._evidence)

    def undetectable_targets(self, plan: Plan, roles: tuple[str, ...]) -> dict[str, str]:
        """The plan's targets whose seeds need bands this raster lacks (`detectable.NEEDS`) and
        that the analyst's examples do not seed either."""
        given = self.examples.counts() if self.examples else {}
        seeded = set(given) | {TARGETS[c].part_of for c in given if c in TARGETS}
        # Examples seed a class whatever the bands (true colour's water: 0.000 -> 1.000 with
        # ten of them, docs/benchmarks.md "Examples the analyst gives"): the other way in.
        return {
            t: f"{why}, or examples of it: {EXAMPLES_WHERE}"
            for t, why in undetectable(plan.targets, roles).items()
            if t not in seeded and TARGETS[t].part_of not in seeded
        }

    def planned_roles(self, plan: Plan, roles: tuple[str, ...]) -> tuple[str, ...]:
        """The classifier's bands and the plan's evidence indices', before `prepare`."""
        return _bands_read(feature_roles(roles), evidence_names(plan.targets, roles))

    def predict(self, bands: dict[str, np.ndarray], window: Window | None = None) -> TilePrediction:
        """Class probabilities, smoothed, then the most probable class per pixel, and the
        margins of asked cloud and snow (`margins`).

        Tile-exact given the `halo`, so `window` is not needed.
        """
        scene = self.scene
        assert scene is not None, "prepare() must run first"
        model = scene.model
        probs = predict_proba(model, bands)
        if scene.veto is not None:
            apply_water_veto(scene.veto, probs, bands)
        if scene.shadows is not None and window is not None:
            scene.shadows.apply(probs, bands, window)
        if self.smoothing_radius > 0:
            probs = smooth_probabilities(probs, self.smoothing_radius)
        best, confidence = most_probable_class(probs, scene.veto, bands)
        nodata = np.isnan(confidence)
        margins = self._margin_classes()
        if margins:
            grow_margins(best, confidence, probs, nodata, margins, self.params.margin_probability)
        if scene.land_undivided:
            # Built-up or bare soil, the scene cannot say which: half the confidence (an
            # undivided land always has its built-up class).
            halved = best == self._builtup
            confidence = np.where(halved, confidence * np.float32(0.5), confidence)
        classes = self._lut[best]
        radius = self.smoothing_radius
        if (
            (self._forest or scene.trees_left_out)
            and scene.trees is not None
            and self._vegetation >= 0
        ):
            # forest's own target, or background where it is left out of the vegetation
            trees, tree_p = tree_cover(bands, model.offsets, scene.trees, radius)
            vegetation = best == self._vegetation
            classes[vegetation & trees] = self._forest
            confidence = _times_side_probability(confidence, vegetation, trees, tree_p)
        # Neither bare soil nor built-up asked: the land is background whichever side it is on.
        if (
            scene.bright is not None
            and self._builtup >= 0
            and (self._bare or self._lut[self._builtup])
        ):
            bright, bright_p = bare_within_land(bands, model.offsets, scene.bright, radius)
            land = best == self._builtup
            classes[land & bright] = self._bare
            confidence = _times_side_probability(confidence, land, bright, bright_p)
        indices = {name: compute_index(name, bands) for name in self._evidence}
        if scene.soil is not None and self._vegetation >= 0:
            # After the trees: soil is never tree cover, whichever target is asked. NDVI is
            # the vegetation's evidence too: computed once per tile.
            soil = scene.soil.applies(bands, indices.get("NDVI"))
            classes[(best == self._vegetation) & soil] = self._bare
        classes[nodata] = 255
        shape = classes.shape
        evidence = np.stack(list(indices.values()) or [np.zeros(shape, np.float32)])[
            : len(self._evidence)
        ]
        return TilePrediction(classes, confidence, evidence.astype(np.float32, copy=False))

    def report(self) -> BackendReport:
        """Thresholds, seed counts and notes of the fitted scene model (`scene_report`)."""
        assert self.scene is not None, "prepare() must run first"
        margins = [self.scene.model.classes[k] for k in self._margin_classes()]
        return scene_report(self.scene, self._asked, self._lut, self.params, self.examples, margins)


def _times_side_probability(
    confidence: np.ndarray, within: np.ndarray, side: np.ndarray, side_p: np.ndarray
) -> np.ndarray:
    """`confidence` where a cut splits a class's pixels (`within`) in two: sure of the class,
    not yet of its side, so times the probability of the pixel's side (`side_p`, that of
    `side`; its complement off it)."""
    return np.where(within, confidence * np.where(side, side_p, 1 - side_p), confidence)


def _bands_read(features: tuple[str, ...], evidence: tuple[str, ...]) -> tuple[str, ...]:
    """The roles a tile is read with: the classifier's features and every evidence index's."""
    roles = set(features)
    for name in evidence:
        roles.update(get_index(name).roles)
    return tuple(sorted(roles))
