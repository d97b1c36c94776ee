"""`SpexBackend`: the SPEX vision-language model behind the engine's backend interface.

Per raster (`prepare`): the spectral backend is fitted as the prior, the global true-colour
stretch is fitted on the global sample, and the model folder is loaded. Per read window
(`predict`): the fixed global grid of model windows (`tiling.ModelGrid`, never past the raster's
edge) that covers the tile is run once each (results are cached), one request per target, as
the reference does even where the priors list no candidate region (``skip_empty_windows``
skips those, for speed). Each window's logits become the reference's soft mask
(`postprocess.soft_mask`); the soft masks are blended across overlaps and cut at 0.5. `halo`
is one model window, so every model window touching a tile's core lies inside its read window.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rasterio.windows import Window

from ...errors import BackendError
from ...indices import compute_index
from ...instructions.instruction import Plan
from ...instructions.spie import regions_from_mask, render_spie_prompt
from ...instructions.targets import TARGETS
from ...progress import RunMonitor
from ...raster.raster_source import RasterSource, Sample
from ..base import Backend, BackendReport, TilePrediction
from ..spectral.backend import SpectralBackend
from .answers import WindowAnswer, explanation_text
from .config import SpexConfig
from .postprocess import SOFT_THRESHOLD, resize_rgb, soft_mask
from .stretch import RGB_ROLES, TrueColourStretch, check_rgb_roles, fit_stretch
from .tiling import MaskBlender, ModelGrid, blend_weights

#: Logit standing for "no mask" (a skipped window without candidates, an empty answer).
NO_CANDIDATE_LOGIT = -20.0
#: Regions listed in a prompt at most: the reference's prompts list up to 10.
MAX_REGIONS = 10
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass
class _WindowResult:
    logits: np.ndarray | None  # (targets, h, w) at the decoder's resolution; None: all nodata


class SpexBackend(Backend):
    """SPEX: SPIE prompts from the spectral priors, answers and masks from the model."""

    name = "spex"

    def __init__(
        self,
        model: str | Path | None = None,
        device: str | None = None,
        dtype: str | None = None,
        max_new_tokens: int | None = None,
        batch_size: int | None = None,
        overlap: int = 64,
        max_regions: int = MAX_REGIONS,
        min_region_pixels: int = 16,
        skip_empty_windows: bool = False,
    ) -> None:
        from .download import resolve_model

        self.folder = resolve_model(model)
        self.config = SpexConfig.load(self.folder)
        self.device_option = (device or "auto").lower()
        self.dtype_option = (dtype or "auto").lower()
        if self.device_option not in DEVICES:
            raise BackendError(f"--device '{device}' is unknown; use one of {', '.join(DEVICES)}.")
        if self.dtype_option not in DTYPES:
            raise BackendError(f"--dtype '{dtype}' is unknown; use one of {', '.join(DTYPES)}.")
        self.max_new_tokens = int(max_new_tokens or 256)
        if self.max_new_tokens < 2:  # the mask prompt pools the fed-back answer tokens
            raise BackendError("--max-new-tokens must be at least 2; give 2 or more.")
        self.batch_size = batch_size
        self.size = self.config.vision.image_size
        if not 0 <= overlap < self.size // 2:
            raise BackendError(f"SPEX window overlap must be in 0..{self.size // 2 - 1} px.")
        self.overlap = int(overlap)
        self.max_regions, self.min_region_pixels = int(max_regions), int(min_region_pixels)
        self.skip_empty_windows = bool(skip_empty_windows)
        self._prior = SpectralBackend()
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, int], _WindowResult] = OrderedDict()
        self._answers: dict[tuple[int, int, str], WindowAnswer] = {}
        self._counts = {"windows_skipped_nodata": set(), "windows_skipped_no_candidate": set()}
        self._requests_skipped: set[tuple[int, int, str]] = set()
        self._no_candidates: set[tuple[int, int, str]] = set()
        self._run: set[tuple[int, int]] = set()
        self.runner = None
        self.load_info = None
        self.stretch: TrueColourStretch | None = None
        self.grid: ModelGrid | None = None
        self.plan: Plan | None = None

    # -- interface ------------------------------------------------------------------------
    def supported_targets(self) -> tuple[str, ...]:
        """The targets the spectral priors can propose candidates for."""
        return self._prior.supported_targets()

    @property
    def halo(self) -> int:
        """One model window: every window touching a tile's core is inside its read window."""
        return self.size

    @property
    def evidence_names(self) -> tuple[str, ...]:
        """The priors' evidence indices."""
        return self._prior.evidence_names

    def prepare(
        self, source: RasterSource, plan: Plan, sample: Sample, monitor: RunMonitor
    ) -> None:
        """Fit the priors and the stretch on the global sample, then load the model."""
        check_rgb_roles(source.roles)
        self.plan = plan
        self._monitor = monitor
        self._prior.prepare(source, plan, sample, monitor.stage(0.0, 0.3))
        self.stretch = fit_stretch(sample.bands)
        self.grid = ModelGrid(source.width, source.height, self.size, self.overlap)
        window_h, window_w = self.grid.shape()
        self._weights = blend_weights(window_h, self.overlap, window_w)
        self._transform = source.dataset.transform
        self._raster_shape = (source.height, source.width)
        self._cache_limit = max(16, 3 * self.grid.n_cols)
        monitor.progress(0.3, "loading the SPEX model")
        self._load()
        monitor.progress(1.0, "SPEX model ready")

    def _load(self) -> None:
        import torch

        from .inference import SpexRunner
        from .model import exact_float32, pick_attention
        from .tokenizer import load_tokenizer
        from .weights import load_model

        device = self._device(torch)
        dtype = self._dtype(torch, device)
        if device.startswith("cuda") and dtype == torch.float32:
            exact_float32()  # the reference's precision, not TF32
        self.attention = pick_attention(device)
        model, self.load_info = load_model(self.folder, self.config, device, dtype, self.attention)
        tokenizer = load_tokenizer(self.folder)
        batch = self.batch_size or (4 if device.startswith("cuda") else 1)
        self.runner = SpexRunner(model, tokenizer, self.max_new_tokens, batch)
        self.device, self.dtype = device, str(dtype).replace("torch.", "")

    def _device(self, torch: object) -> str:
        cuda = torch.cuda.is_available()
        if self.device_option == "cuda" and not cuda:
            raise BackendError("--device cuda was asked for but no CUDA GPU is usable; use cpu.")
        return (
            "cuda"
            if self.device_option == "cuda" or (self.device_option == "auto" and cuda)
            else "cpu"
        )

    def _dtype(self, torch: object, device: str) -> object:
        option = self.dtype_option
        if option == "auto":  # the reference's precision: bf16 has not been shown to agree
            return torch.float32
        if option == "float16" and device == "cpu":
            raise BackendError("--dtype float16 needs a GPU; use float32 (or bfloat16) on CPU.")
        return getattr(torch, option)

    def predict(self, bands: dict[str, np.ndarray], window: Window) -> TilePrediction:
        """Blend the soft masks of the model windows covering this read window's inner part."""
        assert self.grid is not None and self.plan is not None, "prepare() must run first"
        col, row = int(window.col_off), int(window.row_off)
        height, width = next(iter(bands.values())).shape
        inner = self._inner(col, row, width, height)
        keys = [
            key
            for key in self.grid.intersecting(*inner)
            if self._available(key, col, row, width, height)
        ]
        n_targets = len(self.plan.targets)
        blender = MaskBlender(col, row, width, height, n_targets)
        with self._lock:
            results = self._windows(keys, bands, col, row)
        for key, result in zip(keys, results, strict=True):
            if result.logits is None:
                continue
            x0, y0 = self.grid.origin(*key)
            blender.add(x0, y0, self._soft(result.logits), self._weights)
        return self._classes(blender.result(0.0), bands)

    def _soft(self, logits: np.ndarray) -> np.ndarray:
        """A window's logits (K, h, w) -> the reference's soft masks at the window's size."""
        return soft_mask(logits, self.size, *self.grid.shape())

    def report(self) -> BackendReport:
        """Model, checkpoint, device, tiling counts and the model's answers."""
        answers = list(self._answers.values())
        counts = self.counts()
        info = self.load_info
        random_weights = self.config.random_weights
        details: dict[str, object] = {
            "model_folder": str(self.folder.absolute()),
            "config": self.config.to_json_dict(),
            "checkpoint_sha256": info.checkpoint_sha256 if info else "",
            "checkpoint_files": info.files if info else {},
            "lm_head_in_file": info.lm_head_in_file if info else None,
            "image_newline_in_file": info.image_newline_in_file if info else None,
            "random_weights": random_weights,
            "dtype": getattr(self, "dtype", None),
            "attention": getattr(self, "attention", None),
            "max_new_tokens": self.max_new_tokens,
            "batch_size": self.runner.batch_size if self.runner else self.batch_size,
            "overlap": self.overlap,
            "max_regions": self.max_regions,
            "skip_empty_windows": self.skip_empty_windows,
            "postprocess": "per window as the reference: logits > 0, bilinear to the window; "
            f"soft masks blended across windows, > {SOFT_THRESHOLD}",
            "stretch": self.stretch.to_dict() if self.stretch else None,
            "requests": len(answers),
            "requests_skipped_no_candidate": len(self._requests_skipped),
            "timings_s": {
                k: round(v, 3) for k, v in (self.runner.timings if self.runner else {}).items()
            },
            **counts,
        }
        notes = [
            "Candidate regions come from the spectral priors; the model answers one request "
            "per target and model window, and each window's mask is post-processed as the "
            "reference does, then blended across overlaps.",
        ]
        if random_weights:
            notes.insert(0, "RANDOM WEIGHTS: this model folder was made by `spex models init`.")
        return BackendReport(
            method=f"SPEX vision-language model ({self.folder.name}): SPIE prompts from spectral "
            "priors -> InternImage + Qwen2 answer -> condensed tokens -> SAM mask decoder",
            thresholds={"mask_logit": 0.0, "soft_mask": SOFT_THRESHOLD},
            details=details,
            notes=notes,
            device=getattr(self, "device", "cpu"),
            explanation=explanation_text(answers, counts, random_weights, self.skip_empty_windows),
        )

    def counts(self) -> dict[str, int]:
        """Model-window counts for the manifest."""
        return {
            "window_size": self.size,
            "windows_total": len(self.grid) if self.grid else 0,
            "windows_run": len(self._run),
            "windows_skipped_nodata": len(self._counts["windows_skipped_nodata"]),
            "windows_skipped_no_candidate": len(self._counts["windows_skipped_no_candidate"]),
            "requests_without_candidates": len(self._no_candidates),
            "empty_answers": sum(1 for a in self._answers.values() if a.empty),
        }

    # -- internals ------------------------------------------------------------------------
    def _inner(self, col: int, row: int, width: int, height: int) -> tuple[int, int, int, int]:
        """The read window minus the halo where the halo was not clipped: it holds the core."""
        h, w = self._raster_shape
        c0 = col + self.halo if col > 0 else col
        r0 = row + self.halo if row > 0 else row
        c1 = col + width - self.halo if col + width < w else col + width
        r1 = row + height - self.halo if row + height < h else row + height
        return c0, r0, max(c0 + 1, c1), max(r0 + 1, r1)

    def _available(self, key: tuple[int, int], col: int, row: int, width: int, height: int) -> bool:
        """Whether the part of model window `key` inside the raster is inside the read window."""
        x0, y0 = self.grid.origin(*key)
        h, w = self._raster_shape
        x1, y1 = min(x0 + self.size, w), min(y0 + self.size, h)
        return x0 >= col and y0 >= row and x1 <= col + width and y1 <= row + height

    def _crop(self, bands: dict[str, np.ndarray], key: tuple[int, int], col: int, row: int) -> dict:
        """The model window's pixels: always inside the raster, so never padded."""
        x0, y0 = self.grid.origin(*key)
        h, w = self.grid.shape()
        return {
            role: np.ascontiguousarray(array[y0 - row : y0 - row + h, x0 - col : x0 - col + w])
            for role, array in bands.items()
        }

    def _windows(self, keys: list, bands: dict, col: int, row: int) -> list[_WindowResult]:
        """Results of model windows `keys`, computing the missing ones (call under the lock)."""
        found: dict[tuple[int, int], _WindowResult] = {}
        jobs = []
        for key in keys:
            if key in self._cache:
                self._cache.move_to_end(key)
                found[key] = self._cache[key]
                continue
            self._monitor.check_cancel()
            crop = self._crop(bands, key, col, row)
            rgb, valid = self.stretch.apply(crop)
            rgb = resize_rgb(rgb, self.size)  # a raster smaller than a window: as the reference
            if not valid.any():
                self._counts["windows_skipped_nodata"].add(key)
                found[key] = _WindowResult(None)
                continue
            requests = self._requests(key, crop)
            if not requests:
                self._counts["windows_skipped_no_candidate"].add(key)
                found[key] = _WindowResult(self._constant_logits())
                continue
            jobs.append((key, rgb, requests))
        if jobs:
            tokens, embeds = self.runner.encode(np.stack([rgb for _, rgb, _ in jobs]))
            for i, (key, _, requests) in enumerate(jobs):
                self._monitor.check_cancel()
                found[key] = _WindowResult(self._answer(key, tokens[i], embeds[i], requests))
        for key in keys:
            if key not in self._cache:
                self._store(key, found[key])
        return [found[key] for key in keys]

    def _store(self, key: tuple[int, int], result: _WindowResult) -> None:
        self._cache[key] = result
        while len(self._cache) > max(self._cache_limit, 1):
            self._cache.popitem(last=False)

    def _constant_logits(self) -> np.ndarray:
        side = self.size // 4
        return np.full((len(self.plan.targets), side, side), NO_CANDIDATE_LOGIT, np.float32)

    def _requests(self, key: tuple[int, int], crop: dict) -> dict[int, tuple[str, int]]:
        """Target index -> (SPIE request, candidate count); a target without candidates gets
        the request with an empty region list, unless ``skip_empty_windows``."""
        prior = self._prior.predict(crop).classes
        requests = {}
        for t, target in enumerate(self.plan.targets):
            regions = regions_from_mask(prior == t + 1, self.min_region_pixels, self.max_regions)
            if not regions and self.skip_empty_windows:
                self._requests_skipped.add((*key, target))
                continue
            if not regions:
                self._no_candidates.add((*key, target))
            phrase = TARGETS[target].spie_phrase
            requests[t] = (render_spie_prompt(phrase, regions, self.max_regions), len(regions))
        return requests

    def _answer(self, key, image_tokens, sam_embedding, requests) -> np.ndarray:
        logits = self._constant_logits()
        x0, y0 = self.grid.origin(*key)
        map_xy = self._transform * (x0, y0)
        for t, (request, n_regions) in requests.items():
            answer = self.runner.answer(image_tokens, sam_embedding, request)
            if answer.logits is not None:  # None: an empty answer, no mask (see answers.py)
                logits[t] = answer.logits
            target = self.plan.targets[t]
            self._answers[(*key, target)] = WindowAnswer(
                key[0],
                key[1],
                x0,
                y0,
                self.size,
                (float(map_xy[0]), float(map_xy[1])),
                target,
                TARGETS[target].title,
                n_regions,
                answer.tokens,
                answer.stopped,
                answer.text,
                None if self.grid.shape() == (self.size,) * 2 else self.grid.shape()[::-1],
            )
        self._run.add(key)
        return logits

    def _classes(self, soft: np.ndarray, bands: dict[str, np.ndarray]) -> TilePrediction:
        """Blended soft masks (K, h, w) -> classes: the highest above 0.5 (ties: plan order)."""
        best = soft.argmax(axis=0)
        top = np.take_along_axis(soft, best[None], axis=0)[0]
        classes = np.where(top > SOFT_THRESHOLD, best + 1, 0).astype(np.uint8)
        confidence = np.where(top > SOFT_THRESHOLD, top, 1.0 - top).astype(np.float32)
        nodata = ~np.isfinite(np.stack([bands[r] for r in RGB_ROLES])).all(axis=0)
        classes[nodata] = 255
        confidence[nodata] = np.nan
        shape = classes.shape
        names = self.evidence_names
        evidence = np.stack(
            [compute_index(n, bands) for n in names] or [np.zeros(shape, np.float32)]
        )
        return TilePrediction(classes, confidence, evidence[: len(names)].astype(np.float32))
