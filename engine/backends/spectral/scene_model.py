"""Scene-adaptive pixel classifier seeded by spectral-index priors.

Fit once per raster on a decimated sample of the whole raster:

1. Offsets: none for calibrated reflectance; a partial dark-object subtraction for digital numbers.
2. Seeds: confident pixels per class from index priors with per-scene thresholds (``seeds``).
3. Model: one Gaussian per seeded class in log-band space (log makes band ratios, hence all the
   normalised-difference indices, linear, and illumination a shift; a second one where the seeds
   give a class a second, unlike part: ``SeedResult.extra_components``), shrunk towards a scaled
   identity (built-up and bare soil first borrow the land classes' pooled shape:
   ``SpectralParams.land_shape_pooling``), refined by a few seed-anchored EM iterations on the
   whole sample so each class adapts to the scene's own spread (mixed, turbid, shaded pixels).
   A broad "other" Gaussian over the whole sample catches what no seeded class explains.

Prediction (``scene_proba``) is purely per-pixel and computed with elementwise operations in a
fixed order (no BLAS over pixels), so a pixel gets the same bytes whatever tile it is in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import BandError
from .bright_patches import GridCells, SampleGrid
from .example_seeds import EXAMPLE_PRIOR, seed_with_examples
from .examples import ExamplePixels
from .gaussians import covariance, gaussian, loglik, pooled_shape, shrunk_gaussian
from .params import SpectralParams
from .seed_context import UNDETECTABLE, min_seeds
from .seeds import BRIGHTNESS_ROLES, dark_offsets, select_seeds
from .set_thresholds import unseeded_note

#: Every class the scene model knows; "shadow" and "other" are internal and never output.
SCENE_CLASSES: tuple[str, ...] = (
    "water", "vegetation", "builtup", "bare", "snow", "cloud", "shadow", "other",
)  # fmt: skip
INTERNAL_CLASSES = frozenset({"shadow", "other"})

#: Band roles used as classifier features, when present (atmospheric bands are left out).
FEATURE_ROLES = ("blue", "green", "red", "rededge1", "nir", "swir1", "swir2")
FALLBACK_ROLES = ("coastal", "yellow", "rededge2", "rededge3", "nir08", "pan")

#: Fewer valid pixels than this fit no scene: a class's seeds need a few of them each.
MIN_FIT_PIXELS = 50
MAX_FIT_PIXELS = 200_000
EM_ITERATIONS = 3
FLOOR = 0.003  # reflectance-like floor before the log (sensor noise level)
OTHER_PRIOR = 0.02
# Free unseeded "other" components: measured to help the hazy full S2 scene (water 0.59 -> 0.62)
# but to steal target pixels on the flood-like chip (0.89 -> 0.86) and L7 vegetation; off.
N_FREE = 0
_SEED = 20240601
#: The land classes whose seeds' covariances are pooled into one shape, and those that borrow it.
LAND_CLASSES = frozenset({"vegetation", "builtup", "bare"})
SHAPE_BORROWERS = frozenset({"builtup", "bare"})


@dataclass(frozen=True, eq=False)
class SceneModel:
    """A fitted per-raster classifier: per-class Gaussians in log-band space, and its evidence."""

    classes: tuple[str, ...]
    features: tuple[str, ...]
    calibrated: bool
    offsets: dict[str, float]
    means: np.ndarray  # (C, d) one row per Gaussian component
    whiten: np.ndarray  # (C, d, d) lower-triangular L^-1 with L L^T = covariance
    log_consts: np.ndarray  # (C,) log prior - 0.5 log det - 0.5 d log 2 pi
    component_class: tuple[int, ...]  # (C,) index into classes of each Gaussian component
    thresholds: dict[str, float]
    threshold_how: dict[str, str]
    seed_counts: dict[str, int]
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Per class: the analyst's example pixels, and the scene's seeds they dropped.
    example_pixels: dict[str, int] = field(default_factory=dict)
    seeds_dropped: dict[str, int] = field(default_factory=dict)

    @property
    def roles(self) -> tuple[str, ...]:
        """Band roles the model reads (one per feature)."""
        return tuple(f[4:-1] for f in self.features)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary for the run manifest."""
        return {
            "method": "index-seeded Gaussian classifier in log-band space, seed-anchored EM",
            "components": len(self.component_class),
            "classes": list(self.classes),
            "features": list(self.features),
            "calibrated": self.calibrated,
            "dark_offsets": {k: round(v, 6) for k, v in self.offsets.items()},
            "thresholds": {k: round(v, 4) for k, v in self.thresholds.items()},
            "thresholds_how": dict(self.threshold_how),
            "seed_counts": dict(self.seed_counts),
            "example_pixels": dict(self.example_pixels),
            "seeds_dropped_by_examples": dict(self.seeds_dropped),
            "priors": {
                c: round(float(p), 4) for c, p in zip(self.classes, self._priors(), strict=True)
            },
            "notes": list(self.notes),
        }

    def _priors(self) -> np.ndarray:
        d = self.means.shape[1]
        logdet = np.array([-2 * np.log(np.diag(w)).sum() for w in self.whiten])
        comp = np.exp(self.log_consts + 0.5 * logdet + 0.5 * d * np.log(2 * np.pi))
        out = np.zeros(len(self.classes))
        np.add.at(out, np.array(self.component_class), comp)
        return out


#: The note of a requested class that got no seeds.
UNSEEDED_NOTE = "no confident {target} pixels in this scene: {target} is not mapped"


def feature_roles(roles: Sequence[str]) -> tuple[str, ...]:
    """The bands of `roles` the classifier's features use: the core roles, or fallbacks."""
    chosen = tuple(r for r in FEATURE_ROLES if r in roles)
    if len(chosen) < 3:
        chosen += tuple(r for r in FALLBACK_ROLES if r in roles)[: 3 - len(chosen)]
    return chosen


def _features(bands: Mapping[str, np.ndarray], roles: Sequence[str], offsets) -> np.ndarray:
    """(d, ...) float64 log of offset-corrected bands, floored."""
    return np.stack(
        [
            np.log(np.maximum(np.asarray(bands[r], dtype=np.float64) - offsets[r], FLOOR))
            for r in roles
        ]
    )


def fit_scene_model(
    sample: Mapping[str, np.ndarray],
    calibrated: bool,
    targets: Sequence[str] = ("water", "vegetation", "builtup", "bare", "snow", "cloud"),
    params: SpectralParams | None = None,
    examples: ExamplePixels | None = None,
    below_clouds: str = "",
    grid: GridCells | None = None,
) -> SceneModel:
    """Fit the scene model on a whole-raster sample of valid pixels (1-D arrays keyed by role).

    Deterministic: a fixed-seed subsample of at most MAX_FIT_PIXELS pixels is used. ``targets``
    only adds notes when a requested class could not be seeded; every seedable class is fitted,
    because the confusers decide the targets' boundaries. `examples` are the analyst's
    (`example_seeds`): they correct the seeds and seed classes the scene could not.
    `below_clouds`: why the image can hold no cloud (`detectable.taken_below_clouds`): then
    no cloud seeds; "" for any other image. `grid`: where the `sample` pixels lie on the
    raster's decimated grid, and a cell's area, for what the seeds measure of their neighbours
    (None: no such measure).
    """
    roles = feature_roles(list(sample))
    if not roles:
        raise BandError(
            "the spectral backend needs at least one of the bands blue, green, red, nir; "
            "set the band roles with --bands or --sensor"
        )
    arrays, fitted = _fit_pixels(sample, roles)
    offsets = dark_offsets(arrays, calibrated)
    corrected = {r: np.maximum(v - offsets[r], FLOOR) for r, v in arrays.items()}
    params = params or SpectralParams()
    whole = _sample_grid(sample, grid, fitted, offsets) if grid is not None else None
    seeds = select_seeds(corrected, calibrated, params, below_clouds, whole)
    notes = list(seeds.notes)
    if not calibrated:
        notes.append("uncalibrated digital numbers: thresholds are relative to this scene")

    x = _features(arrays, roles, offsets).T  # (n, d)
    n_scene = len(x)  # the scene's own pixels: the examples may add theirs to x
    weights = np.ones(n_scene)
    seed_of, extra_components = seeds.masks, seeds.extra_components
    other_examples, dropped = None, {}
    if examples is not None and examples.values:
        given = {c: _features(v, roles, offsets).T for c, v in examples.values.items()}
        corrected_seeds = seed_with_examples(
            x, seeds.masks, seeds.extra_components, given, seeds.extra_kinds
        )
        x, weights = corrected_seeds.x, corrected_seeds.weights
        seed_of, extra_components = corrected_seeds.masks, corrected_seeds.extra_components
        other_examples, dropped = corrected_seeds.other, corrected_seeds.dropped
        notes += [claim.note(cover) for cover, claim in corrected_seeds.gave_way.items()]
    given_classes = set(examples.values) if examples is not None else set()
    # The examples seed what the scene alone could not: its notes saying so no longer hold.
    notes = [n for n in notes if not any(_denies(n, c) for c in given_classes)]
    classes = [
        c
        for c in SCENE_CLASSES
        if c in seed_of and (seed_of[c].sum() >= min_seeds(n_scene) or c in given_classes)
    ]
    for t in targets:
        # A class the bands cannot show has no mask at all; the seeds' notes say why.
        if t not in classes and t in seeds.masks:
            notes.append(UNSEEDED_NOTE.format(target=t))
            why = unseeded_note(t, params)
            if why:
                notes.append(why)
    parts = _components(x, classes, seed_of, extra_components, other_examples)
    means, whiten, consts = _fit_gaussians(
        x, weights, parts, (*classes, "other"), params.land_shape_pooling, bool(given_classes)
    )
    return SceneModel(
        classes=tuple(classes) + ("other",),
        features=tuple(f"log({r})" for r in roles),
        calibrated=calibrated,
        offsets={r: offsets[r] for r in roles},
        means=means,
        whiten=whiten,
        log_consts=consts,
        component_class=parts.component_class,
        thresholds=dict(seeds.thresholds),
        threshold_how=dict(seeds.how),
        seed_counts={c: int(seeds.masks[c].sum()) for c in seeds.masks}
        | {
            f"{c} ({kind})": int(m.sum())
            for (c, m), kind in zip(seeds.extra_components, seeds.extra_kinds, strict=True)
        },
        notes=tuple(notes),
        example_pixels=examples.counts() if examples is not None else {},
        seeds_dropped=dropped,
    )


def _sample_grid(
    sample: Mapping[str, np.ndarray],
    grid: GridCells,
    fitted: np.ndarray,
    offsets: Mapping[str, float],
) -> SampleGrid | None:
    """The whole `sample`'s brightness bands on its `grid`, dark `offsets` removed and red
    standing in for a missing green as the seeds read them; `fitted`: the seeds' pixels.
    None where the sample is not the grid's (its lengths differ)."""
    cells, cell_ha = grid
    if len(next(iter(sample.values()))) != int(cells.sum()):
        return None
    bands = {
        r: np.maximum(np.asarray(sample[r], dtype=np.float32) - np.float32(offsets[r]), FLOOR)
        for r in BRIGHTNESS_ROLES
        if r in sample and r in offsets
    }
    if "green" not in bands and "red" in bands:
        bands["green"] = bands["red"]
    return SampleGrid(cells, bands, fitted, cell_ha)


def _fit_pixels(
    sample: Mapping[str, np.ndarray], roles: Sequence[str]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The sample's pixels valid in every band, as float64, and their indexes in it; a
    fixed-seed subsample of `MAX_FIT_PIXELS` of them where there are more. Too few raise
    `BandError`."""
    flat = {r: np.asarray(v).ravel() for r, v in sample.items()}
    ok = np.ones(len(flat[roles[0]]), dtype=bool)
    for v in flat.values():
        ok &= np.isfinite(v)
    kept = np.flatnonzero(ok)
    n = len(kept)
    if n < MIN_FIT_PIXELS:
        raise BandError(
            f"only {n} valid pixels to fit the scene on (at least {MIN_FIT_PIXELS} are needed): "
            "the raster is too small or mostly nodata; give a larger extent, or check its "
            "nodata value"
        )
    if n > MAX_FIT_PIXELS:
        kept = kept[np.sort(np.random.default_rng(_SEED).choice(n, MAX_FIT_PIXELS, replace=False))]
    # Only the kept pixels are converted: the sample can be millions of pixels per band.
    return {r: v[kept].astype(np.float64) for r, v in flat.items()}, kept


@dataclass(frozen=True, eq=False)
class _Components:
    """The model's Gaussian components before the fit.

    Attributes:
        seed_masks: Per anchored component, its seed pixels: one a class, then the classes'
            second components, then the analyst's "other" examples.
        seeded: The pixels any component is anchored to.
        free: Per free "other" component, the unseeded pixels it starts from.
        component_class: Per component (anchored, free, then the broad outlier one), the
            index of its class in the model's classes ("other" last).
    """

    seed_masks: list[np.ndarray]
    seeded: np.ndarray
    free: list[np.ndarray]
    component_class: tuple[int, ...]


def _components(
    x: np.ndarray,
    classes: Sequence[str],
    seed_of: Mapping[str, np.ndarray],
    extra_components: Sequence[tuple[str, np.ndarray]],
    other_examples: np.ndarray | None,
) -> _Components:
    """The anchored and free components of the features `x` (n, d)."""
    seed_masks = [seed_of[c] for c in classes]
    comp_extra = []
    for cls, mask in extra_components:
        if cls in classes:  # a second Gaussian of the class, anchored like the first
            seed_masks.append(mask)
            comp_extra.append(classes.index(cls))
    seeded = np.zeros(len(x), dtype=bool)
    for m in seed_masks:
        seeded |= m
    # Free "other" components, initialised on the unseeded pixels (split by brightness) and
    # left free in EM: they take the scene's unmodelled land covers (wet soil, shade, haze),
    # which otherwise would be pulled into the nearest seeded class.
    free = []
    rest = np.flatnonzero(~seeded)
    if N_FREE and len(rest) >= N_FREE * 10 * x.shape[1]:
        level = x[rest].mean(1)
        edges = np.quantile(level, np.linspace(0, 1, N_FREE + 1))
        for i in range(N_FREE):
            free.append(rest[(level >= edges[i]) & (level <= edges[i + 1])])
    if other_examples is not None:  # the analyst's "other": one more anchored component
        seed_masks.append(other_examples)
        comp_extra.append(len(classes))
        seeded |= other_examples
    comp_class = list(range(len(classes))) + comp_extra + [len(classes)] * (len(free) + 1)
    return _Components(seed_masks, seeded, free, tuple(comp_class))


def _fit_gaussians(
    x: np.ndarray,
    weights: np.ndarray,
    parts: _Components,
    names: Sequence[str],
    pooling: float,
    from_examples: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means, whitening matrices and log constants (prior, determinant) of every component
    of `parts` over the features `x` (n, d), the broad outlier one last: each anchored one
    first fitted on its seeds (weighted by `weights`), then a few seed-anchored EM steps on
    the whole sample. `names`: the model's classes, "other" last."""
    seed_masks, seeded, free = parts.seed_masks, parts.seeded, parts.free
    # Seeds are each class's confident tail, cut by the indices that picked them; the land
    # classes share the scene's spread (light, mixing, moisture): built-up and bare soil
    # borrow their pooled shape (regularised discriminant analysis, Friedman 1989).
    owners = [names[k] for k in parts.component_class[: len(seed_masks)]]
    counts = [int(m.sum()) for m in seed_masks]
    moments = [covariance(x[m], weights[m]) for m in seed_masks]
    shape = pooled_shape(
        [
            (cov, n)
            for (_, cov), n, c in zip(moments, counts, owners, strict=True)
            if c in LAND_CLASSES
        ]
    )
    # One shape (or none) per fitted component; the free ones keep their own.
    shapes = [shape if c in SHAPE_BORROWERS else None for c in owners] + [None] * len(free)
    gaussians = [
        shrunk_gaussian(mu, cov, shapes[k], pooling) for k, (mu, cov) in enumerate(moments)
    ]
    gaussians += [gaussian(x[f], np.ones(len(f))) for f in free]
    # One broad Gaussian of the whole sample at a small fixed prior catches outliers.
    broad = gaussian(x, np.ones(len(x)))
    n_fit = len(gaussians)
    priors = np.array([m.mean() for m in seed_masks] + [len(f) / len(x) for f in free])
    if from_examples:  # a class seeded by a few examples still gets a chance in EM
        priors[: len(seed_masks)] = np.maximum(priors[: len(seed_masks)], EXAMPLE_PRIOR)
    d = x.shape[1]

    def consts_of(gaussians, priors):
        every = gaussians + [broad]
        pri = np.append(priors * (1 - OTHER_PRIOR) / priors.sum(), OTHER_PRIOR)
        logdets = np.array([g[2] for g in every])
        return (
            np.array([g[0] for g in every]),
            np.array([g[1] for g in every]),
            np.log(pri) - 0.5 * logdets - 0.5 * d * np.log(2 * np.pi),
        )

    for _ in range(EM_ITERATIONS if n_fit else 0):
        ll = loglik(x.T, *consts_of(gaussians, priors))
        resp = np.exp(ll - ll.max(0))
        resp /= resp.sum(0)
        resp[:, seeded] = 0.0  # seeds stay anchored to their class
        for k, m in enumerate(seed_masks):
            resp[k, m] = weights[m]
        gaussians = [gaussian(x, resp[k], shapes[k], pooling) for k in range(n_fit)]
        priors = np.maximum(resp[:n_fit].mean(1), 1e-4)
    return consts_of(gaussians, priors) if n_fit else consts_of([], np.ones(0))


def _denies(note: str, cls: str) -> bool:
    """Whether a seeds' note says the bands cannot show `cls` (`seeds.select_seeds`); the
    "not mapped" note is only written for classes left unseeded, which examples never are."""
    return note.endswith(UNDETECTABLE.format(target=cls))
