"""The default backend: spectral priors, scene-adaptive classification, spatial clean-up.

SPIE-style: spectral indices give confident seeds per class with thresholds chosen on the
global sample of this scene; a classifier fitted on those seeds over the log of up to seven
bands (visible, red edge, NIR, SWIR) labels every pixel; a tile-exact smoothing of class
probabilities removes salt-and-pepper noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
from rasterio.windows import Window

from ...indices import compute_index, get_index
from ...instructions.plan import Plan
from ...instructions.targets import TARGETS
from ...progress import RunMonitor
from ...raster.cloud_masking import pixel_metres
from ...raster.raster_source import RasterSource, Sample
from ..base import Backend, BackendReport, TilePrediction
from .bright_land import (
    BrightLand,
    bare_within_land,
    fit_scene_bright_land,
    with_bright_land_note,
)
from .detectable import fine_shadow_note, fine_white_note, undetectable
from .evidence import evidence_names
from .example_notes import (
    BRIGHT_LAND,
    SOIL,
    TREES,
    examples_mapped,
    mapped_note,
    poorly_mapped_notes,
)
from .examples import Examples, example_pixels
from .margins import MARGIN_HALO, grow_margins, margin_class_indexes
from .params import SpectralParams
from .pixel_classes import PixelClasses, pixel_classes
from .reddish_vegetation import (
    VEGETATION_OR_SOIL,
    ReddishVegetation,
    fit_scene_reddish_vegetation,
)
from .scene_model import (
    SCENE_CLASSES,
    UNSEEDED_NOTE,
    SceneModel,
    feature_roles,
    fit_scene_model,
    predict_proba,
    top_class,
)
from .seeds import ONE_LAND
from .set_thresholds import (
    TREE_CUT,
    check_thresholds_used,
    check_tree_cut_asked,
    validate_thresholds,
)
from .shadow_veto import ShadowVeto, fit_scene_shadow_veto
from .smoothing import HALO, smooth_probabilities
from .soil_in_vegetation import SoilInVegetation, fit_scene_soil_in_vegetation
from .tree_cover import TreeCut, fit_scene_tree_cut, tree_cover, visible_roles
from .water_veto import WaterVeto, apply_water_veto, water_veto

#: The thresholds table's name for tree cover's cut (`tree_cover`).
TREE_THRESHOLD = f"{TREE_CUT}, visible brightness (tree cover)"
#: The thresholds table's name for the land's bright-mode cut (`bright_land`).
BRIGHT_THRESHOLD = "brightness (bare soil)"

#: The two covers of the non-vegetated land, each with the other.
LAND_PARTNER = {"builtup": "bare", "bare": "builtup"}


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
        self._example_outside = 0
        #: Per example class: its pixels counted by the scene class the fitted model gives
        #: them (set by `prepare`; empty without examples).
        self.examples_mapped: dict[str, dict[str, int]] = {}
        self.params = params or SpectralParams()
        if thresholds:
            pairs = tuple(sorted(validate_thresholds(thresholds).items()))
            self.params = replace(self.params, set_thresholds=pairs)
        self.smoothing_radius = smoothing_radius
        self.model: SceneModel | None = None
        self._lut = np.zeros(len(SCENE_CLASSES), dtype=np.uint8)
        self._evidence: tuple[str, ...] = ()
        self._calibrated = True
        self._shares: dict[str, float] = {}
        self._vetoed_share = 0.0
        self._land_undivided = False
        self._asked: tuple[str, ...] = ()
        self._halved = np.zeros(len(SCENE_CLASSES), dtype=bool)
        self._veto: WaterVeto | None = None
        self._shadows: ShadowVeto | None = None
        #: What passes for water, cloud and snow at fine pixels, said (`detectable`).
        self._fine_notes: tuple[str, ...] = ()
        #: The vegetation that is redder than green, where it is enough to say (`prepare`).
        self._reddish: ReddishVegetation | None = None
        #: Vegetation below its seeds' NDVI and redder than green, mapped as bare soil.
        self._soil: SoilInVegetation | None = None
        #: Tree cover's cut within the vegetation, its plan target number (0: not asked, or
        #: left out of the vegetation: `_trees_left_out`) and the scene class it splits
        #: (`set_targets`).
        self._trees: TreeCut | None = None
        self._forest = 0
        self._trees_left_out = False
        self._vegetation = -1
        #: Bare soil as the bright mode of an undivided land, its plan target number (0: not
        #: asked) and the scene class it splits.
        self._bright: BrightLand | None = None
        self._bare = 0
        self._builtup = -1

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
        self._calibrated = source.scaling.calibrated
        pixels = example_pixels(source, self.examples) if self.examples else None
        self._example_outside = pixels.outside if pixels else 0
        self.model = fit_scene_model(
            sample.bands,
            calibrated=self._calibrated,
            # Forest is split from the vegetation: its seeds, notes and examples are the whole's.
            targets=tuple(dict.fromkeys(TARGETS[t].part_of or t for t in plan.targets)),
            params=self.params,
            examples=pixels.by_scene_class() if pixels is not None else None,
        )
        self._veto = water_veto(self.model, self.params)
        # The sampled pixels' classes, once: the splits and the scene shares are measured on them.
        classified = (
            pixel_classes(self.model, self._veto, sample.bands) if sample.valid_pixels else None
        )
        self._bright = fit_scene_bright_land(self.model, sample.bands, classified, self.params)
        self._soil = fit_scene_soil_in_vegetation(
            self.model, sample.bands, classified, self._calibrated, self.params
        )
        self._reddish = (
            fit_scene_reddish_vegetation(
                self.model,
                sample.bands,
                classified,
                self._calibrated,
                self.params.builtup_ndvi_margin,
                self._soil,
            )
            if VEGETATION_OR_SOIL & set(plan.targets)
            else None
        )
        self._trees_left_out = "forest" in plan.left_out
        if "forest" in plan.targets or self._trees_left_out:
            self._trees = fit_scene_tree_cut(
                self.model,
                sample.bands,
                classified,
                pixels,
                self.params.analyst_threshold(TREE_CUT),
            )
        classes = self.model.classes
        self._land_undivided = (
            "builtup" in classes and "bare" not in classes and self._bright is None
        )
        self.set_targets(plan.targets)
        if pixels is not None:
            self.examples_mapped = examples_mapped(
                self.model, self._veto, pixels, self._trees, self._bright, self._soil
            )
        self._asked = tuple(plan.targets)
        self._halved = np.zeros(len(classes), dtype=bool)
        if self._land_undivided:
            self._halved[classes.index("builtup")] = True
        self._evidence = evidence_names(plan.targets, source.roles)
        self._shares, self._vetoed_share = _scene_shares(self.model, classified)
        pixel_m = _pixel_m(source)
        self._shadows = fit_scene_shadow_veto(self.model, source, sample, classified, pixel_m)
        self._fine_notes = tuple(
            note
            for note in (
                fine_shadow_note(plan.targets, source.roles, pixel_m),
                fine_white_note(self._shares, pixel_m),
            )
            if note
        )
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
            if target == "bare" and self._land_answers_for_bare(targets):
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
        return {
            t: why
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
        assert self.model is not None, "prepare() must run first"
        probs = predict_proba(self.model, bands)
        if self._veto is not None:
            apply_water_veto(self._veto, probs, bands)
        if self._shadows is not None and window is not None:
            self._shadows.apply(probs, bands, window)
        if self.smoothing_radius > 0:
            probs = smooth_probabilities(probs, self.smoothing_radius)
        best, confidence = top_class(probs)
        nodata = np.isnan(confidence)
        margins = self._margin_classes()
        if margins:
            grow_margins(best, confidence, probs, nodata, margins, self.params.margin_probability)
        if self._land_undivided:
            # Built-up or bare soil, the scene cannot say which: half the confidence.
            confidence = np.where(self._halved[best], confidence * np.float32(0.5), confidence)
        classes = self._lut[best]
        radius = self.smoothing_radius
        if (
            (self._forest or self._trees_left_out)
            and self._trees is not None
            and self._vegetation >= 0
        ):
            # forest's own target, or background where it is left out of the vegetation
            trees = tree_cover(bands, self.model.offsets, self._trees, radius)
            classes[(best == self._vegetation) & trees] = self._forest
        # Neither bare soil nor built-up asked: the land is background whichever side it is on.
        if (
            self._bright is not None
            and self._builtup >= 0
            and (self._bare or self._lut[self._builtup])
        ):
            bright = bare_within_land(bands, self.model.offsets, self._bright, radius)
            classes[(best == self._builtup) & bright] = self._bare
        indices = {name: compute_index(name, bands) for name in self._evidence}
        if self._soil is not None and self._vegetation >= 0:
            # After the trees: soil is never tree cover, whichever target is asked. NDVI is
            # the vegetation's evidence too: computed once per tile.
            soil = self._soil.applies(bands, indices.get("NDVI"))
            classes[(best == self._vegetation) & soil] = self._bare
        classes[nodata] = 255
        shape = classes.shape
        evidence = np.stack(list(indices.values()) or [np.zeros(shape, np.float32)])[
            : len(self._evidence)
        ]
        return TilePrediction(classes, confidence, evidence.astype(np.float32, copy=False))

    def _examples_note(self) -> str:
        """What the analyst's examples were and what they changed in the seeds."""
        assert self.model is not None and self.examples is not None
        if not self.model.example_pixels:
            return (
                f"none of the {len(self.examples.features)} examples of {self.examples.source} "
                "falls on a valid pixel of this raster (they are shared by the batch's scenes): "
                "trained on the scene's own seeds alone"
            )
        pixels = ", ".join(f"{c} {n}" for c, n in sorted(self.model.example_pixels.items()))
        note = f"trained with the analyst's examples from {self.examples.source} (pixels: {pixels})"
        dropped = {c: n for c, n in self.model.seeds_dropped.items() if n}
        if dropped:
            note += "; scene seeds dropped as nearer another class's examples: " + ", ".join(
                f"{c} {n}" for c, n in sorted(dropped.items())
            )
        if self._example_outside:
            note += f"; {self._example_outside} example(s) fell outside the raster or on nodata"
        targets = [None, *self._asked]
        answer = {c: targets[self._lut[k]] for k, c in enumerate(self.model.classes)}
        if self._forest and self._trees is not None:
            answer[TREES] = "forest"
        if self._bright is not None:
            answer[BRIGHT_LAND] = targets[self._bare]
        if self._soil is not None:
            answer[SOIL] = targets[self._bare]
        return note + "; " + mapped_note(self.examples_mapped, answer)

    def _forest_note(self) -> str:
        """What forest is in this run: the darker part of the vegetation, or why none (asked
        for, or left out of the vegetation)."""
        if self._trees is None:
            why = "no red band" if not visible_roles(self.model.roles) else "too little vegetation"
            if self._trees_left_out:
                return (
                    f"forest: not left out ({why} to tell tree cover within the vegetation): "
                    "the vegetation includes it"
                )
            return f"forest: not mapped ({why} to tell tree cover within the vegetation)"
        what = "forest, left out of the vegetation" if self._trees_left_out else "forest"
        rest = "vegetation is the rest of it" if "vegetation" in self._asked else ""
        if self._trees.scene_threshold is not None:
            return (
                f"{what}: the vegetation darker in the visible bands than VIS "
                f"{self._trees.brightness:.4g}, the value set with --threshold, "
                f"{self._trees.share:.0%} of it"
                + (
                    " (set a value nearer the scene's own choice, in the threshold table, to "
                    "map some)"
                    if self._trees.share == 0
                    else ""
                )
                + (f"; {rest}" if rest else "")
            )
        return (
            f"{what}: the vegetation darker in the visible bands than this scene's cut, "
            f"{self._trees.share:.0%} of it (a canopy shades itself; crops and grass of the "
            f"same greenness are brighter){'; ' + rest if rest else ''}"
        )

    def _land_answers_for_bare(self, targets: Sequence[str]) -> bool:
        """Whether the undivided land (a built-up class, no bare one, no bright mode split
        off) is returned for bare soil: asked for without built-up, which the land is
        returned as otherwise."""
        return self._land_undivided and "bare" in targets and "builtup" not in targets

    def _undivided_targets(self) -> dict[str, str]:
        """The asked land targets, each with the cover it was not told apart from."""
        if not self._land_undivided:
            return {}
        return {t: LAND_PARTNER[t] for t in self._asked if t in LAND_PARTNER}

    def report(self) -> BackendReport:
        """Thresholds, seed counts and notes of the fitted scene model."""
        assert self.model is not None
        summary = self.model.to_dict()
        summary["scene_shares"] = self._shares
        summary["params"] = self.params.to_dict()
        summary["builtup_bare_separated"] = not self._land_undivided
        if self.examples:
            summary["examples"] = {
                "source": self.examples.source,
                "features": self.examples.counts(),
                "outside_raster": self._example_outside,
                "pixels_by_scene_class": self.examples_mapped,
            }
        notes = list(self.model.notes)
        if self._land_answers_for_bare(self._asked) or self._bright is not None:
            # The land, or its bright mode, answers for bare soil: "not mapped" would deny the
            # result it returns.
            notes = [n for n in notes if n != UNSEEDED_NOTE.format(target="bare")]
        if self.examples:
            notes.append(self._examples_note())
            notes += poorly_mapped_notes(self.examples_mapped, split=self._trees is not None)
        if self._veto is not None:
            veto = (
                f"{self._veto.describe()} ({self._vetoed_share:.1%} of the sampled pixels "
                "moved out of built-up)"
            )
            summary["water_veto"] = veto
            summary["water_veto_share"] = self._vetoed_share
            notes.append(veto)
        if self._shadows is not None:
            summary["cloud_shadows"] = self._shadows.describe()
            notes.append(self._shadows.describe())
        notes.extend(self._fine_notes)
        soil_note = self._soil.note() if self._soil is not None else None
        if soil_note and VEGETATION_OR_SOIL & set(self._asked):
            notes.append(soil_note)
            summary["soil_in_vegetation"] = self._soil.summary()
        if self._reddish is not None:
            notes.append(self._reddish.note())
            summary["reddish_vegetation"] = self._reddish.summary()
        if self._undivided_targets():
            notes = _with_halved_land_note(notes)
        thresholds = dict(self.model.thresholds)
        if self._bright is not None and {"bare", "builtup"} & set(self._asked):
            notes = with_bright_land_note(notes, self._bright)
            thresholds[BRIGHT_THRESHOLD] = self._bright.brightness
            summary["thresholds_how"] = {
                **summary["thresholds_how"],
                BRIGHT_THRESHOLD: self._bright.describe(),
            }
            summary["bare_by_brightness"] = self._bright.summary()
        margins = [self.model.classes[k] for k in self._margin_classes()]
        if margins:
            why = {"cloud": "thin cloud edges", "snow": "patchy snow"}
            notes.append(
                f"{' and '.join(margins)} margins: a pixel beside {' or '.join(margins)} whose "
                f"own probability of it is at least {self.params.margin_probability:g} joins it "
                f"({', '.join(why[m] for m in margins)})"
            )
        if self._forest or self._trees_left_out:
            notes.append(self._forest_note())
            if self._trees is not None:
                thresholds[TREE_THRESHOLD] = self._trees.brightness
                summary["thresholds_how"] = {
                    **summary["thresholds_how"],
                    TREE_THRESHOLD: self._trees.describe(),
                }
                summary["tree_cover"] = self._trees.summary()
        if not self._calibrated:
            notes.append(
                "The input is in uncalibrated digital numbers: thresholds were chosen on this "
                "scene's own histograms, so index values are relative, not physical."
            )
        return BackendReport(
            method="spectral index priors -> per-scene thresholds -> seeded scene classifier "
            "-> tile-exact probability smoothing",
            thresholds=thresholds,
            details=summary,
            notes=notes,
            device="cpu",
            undivided=self._undivided_targets(),
            doubts=self._reddish.doubts(self._asked) if self._reddish is not None else {},
        )


def _with_halved_land_note(notes: list[str]) -> list[str]:
    """`notes` where the seeds' note that built-up and bare soil could not be told apart
    (the reason, and what the land is returned as) also says what that costs the result;
    the note is added when the seeds gave none (a split whose bare side found too few seeds).
    """
    cost = ", at half its confidence; check it against the imagery before trusting the split"
    split = [i for i, n in enumerate(notes) if n.endswith(ONE_LAND)]
    if split:
        return [n + cost if i in split else n for i, n in enumerate(notes)]
    return [*notes, f"built-up and bare soil could not be told apart: {ONE_LAND}{cost}"]


def _scene_shares(
    model: SceneModel, classified: PixelClasses | None
) -> tuple[dict[str, float], float]:
    """Share of the sampled pixels whose most probable class is each scene class, and the
    share that the water veto moved out of built-up (`classified`: the sample's classes, None
    for an all-nodata sample).

    Per pixel, without smoothing: a measured estimate of cloud, snow or water cover for the
    explanation's caveats, from the same global sample the model was fitted on.
    """
    if classified is None:
        return {}, 0.0
    best, moved, _ = classified
    if not len(best):
        return {}, 0.0
    counts = np.bincount(best, minlength=len(model.classes))
    shares = {c: round(float(n) / len(best), 4) for c, n in zip(model.classes, counts, strict=True)}
    return shares, round(float(moved.mean()), 4)


def _pixel_m(source: RasterSource) -> float | None:
    """The raster's row spacing in metres at its middle row, or None without a CRS."""
    if source.dataset.crs is None:
        return None
    return pixel_metres(source.dataset, source.height / 2)[0]


def _bands_read(features: tuple[str, ...], evidence: tuple[str, ...]) -> tuple[str, ...]:
    """The roles a tile is read with: the classifier's features and every evidence index's."""
    roles = set(features)
    for name in evidence:
        roles.update(get_index(name).roles)
    return tuple(sorted(roles))
