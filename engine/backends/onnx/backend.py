"""`OnnxBackend`: segmentation models (.onnx) and exported SPEX folders on onnxruntime.

A segmentation model's classes become plan targets through the target catalogue's synonyms
("woodland" -> vegetation, "building" -> built-up); several classes of one target are merged.
An exported SPEX folder (with `spex_onnx.json`) is run by `spex_runner` over the same tiling,
prompts and outputs as the torch backend.
"""

from __future__ import annotations

import math
import threading
import weakref
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from ...errors import BackendError, PromptError
from ...indices import compute_index, get_index
from ...instruction import Plan, parse_instruction
from ...progress import RunMonitor
from ...raster_source import RasterSource, Sample
from ...targets import TARGETS
from ..base import Backend, BackendReport, TilePrediction
from ..spectral.evidence import evidence_names
from .metadata import SegmentationMetadata, is_background, parse_segmentation_metadata
from .runtime import RuntimeSession, open_session
from .segmentation import (
    TiledSegmenter,
    WindowGrid,
    batch_size_for,
    decide,
    inner_region,
    looks_like_probabilities,
)


def target_of_class(class_name: str) -> str | None:
    """The catalogue target a model class name means, or None (background, unknown)."""
    if is_background(class_name):
        return None
    try:
        plan = parse_instruction(class_name.replace("_", " "))
    except PromptError:
        return None
    return plan.targets[0] if len(plan.targets) == 1 else None


class _WindowReader:
    """A second handle on the raster for model windows that cross tile borders (thread-safe)."""

    def __init__(self, source: RasterSource) -> None:
        dataset = rasterio.open(source.dataset.name)
        self._source = RasterSource(dataset, source.mapping, source.scaling)
        self._lock = threading.Lock()
        self.reads = 0
        # closed at the end of the run, or when collected, never left to interpreter exit
        self._finalizer = weakref.finalize(self, dataset.close)

    def read(self, window: Window, roles: tuple[str, ...] | None) -> dict[str, np.ndarray]:
        """Bands `roles` of `window` as float32 reflectance, exactly like the pipeline's reads."""
        with self._lock:
            self.reads += 1
            return self._source.read(window, roles)

    def close(self) -> None:
        """Close the handle."""
        self._finalizer()


class OnnxBackend(Backend):
    """Runs an ONNX segmentation model, or an exported SPEX model, with onnxruntime."""

    name = "onnx"

    def __init__(
        self,
        model: str | Path | None = None,
        provider: str | None = None,
        device: str | None = None,
        dtype: str | None = None,
        max_new_tokens: int | None = None,
        threads: int | None = None,
        skip_empty_windows: bool = False,
    ) -> None:
        if model is None:
            raise BackendError(
                "The onnx backend needs a model: --model FILE.onnx or an exported SPEX folder "
                "(spex export-onnx)."
            )
        path = Path(model).expanduser()
        if not provider and device:  # --device cuda|cpu chooses the provider too
            provider = {"cuda": "cuda", "gpu": "cuda", "cpu": "cpu"}.get(device.lower())
        self.path = path
        self._spex = None
        self._notes: list[str] = []
        if path.is_dir():
            from .spex_runner import SpexOnnxBackend

            self._spex = SpexOnnxBackend(
                path, provider, max_new_tokens, threads, skip_empty_windows
            )
            return
        if not path.is_file():
            raise BackendError(
                f"Model {path} does not exist; give a .onnx file or an exported SPEX folder."
            )
        self.runtime: RuntimeSession = open_session(path, provider, threads)
        session = self.runtime.session
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1:
            raise BackendError(
                f"Model {path.name} has {len(inputs)} inputs; a segmentation model takes one "
                "N x C x H x W image (an exported SPEX model is a folder)."
            )
        out_shape = outputs[0].shape
        channels = out_shape[1] if len(out_shape) == 4 and isinstance(out_shape[1], int) else None
        if len(out_shape) == 3:
            channels = 1
        self.meta: SegmentationMetadata = parse_segmentation_metadata(
            self.runtime.header.metadata, path.name, inputs[0].shape, channels
        )
        self._input_name = inputs[0].name
        batch = inputs[0].shape[0]
        self._batch = batch_size_for(
            len(self.meta.bands), self.meta.tile_size, batch if isinstance(batch, int) else None
        )
        self._class_targets = [target_of_class(n) for n in self.meta.class_names]
        self._lut = np.zeros(len(self.meta.class_names) + 1, np.uint8)  # index -1: background
        self._activation = self.meta.activation
        self._evidence: tuple[str, ...] = ()
        self._segmenter: TiledSegmenter | None = None
        self._size = (0, 0)
        self._reader: _WindowReader | None = None
        mean = np.asarray(self.meta.mean, np.float32)[:, None, None]
        std = np.asarray(self.meta.std, np.float32)[:, None, None]
        # value = reflectance * scale + offset; model input = (value - mean) / std
        self._gain = np.float32(self.meta.scale) / std
        self._bias = (np.float32(self.meta.offset) - mean) / std

    # --- what the backend offers -----------------------------------------------------------

    def supported_targets(self) -> tuple[str, ...]:
        """Catalogue targets the model has a class for (or all SPEX targets)."""
        if self._spex is not None:
            return self._spex.supported_targets()
        return tuple(dict.fromkeys(t for t in self._class_targets if t is not None))

    @property
    def halo(self) -> int:
        """None for a segmentation model: model windows reaching past a tile are read apart.

        The pipeline would otherwise read a whole model window of context around every tile
        (4 to 9 times the pixels); here each window that crosses a tile border is read once,
        by its own dataset handle, and its output is cached for the neighbouring tiles.
        """
        if self._spex is not None:
            return self._spex.halo
        return 0

    def required_roles(self) -> tuple[str, ...] | None:
        """A segmentation model's bands and the evidence indices'; every band for SPEX."""
        if self._spex is not None:
            return self._spex.required_roles()
        roles = set(self.meta.bands)
        for name in self._evidence:
            roles.update(get_index(name).roles)
        return tuple(sorted(roles))

    @property
    def evidence_names(self) -> tuple[str, ...]:
        """Spectral indices kept as evidence for the plan's targets (set by `prepare`)."""
        if self._spex is not None:
            return self._spex.evidence_names
        return self._evidence

    def targets_note(self) -> str | None:
        """The model's own class names, which decide what can be extracted."""
        if self._spex is not None:
            return None
        return f"the model {self.path.name} has the classes {self.class_summary()}"

    def class_summary(self) -> str:
        """The model's classes and the targets they map to, for messages and the report."""
        parts = []
        for name, target in zip(self.meta.class_names, self._class_targets, strict=True):
            parts.append(f"{name} ({TARGETS[target].title})" if target else name)
        return ", ".join(parts)

    # --- the run ----------------------------------------------------------------------------

    def prepare(
        self, source: RasterSource, plan: Plan, sample: Sample, monitor: RunMonitor
    ) -> None:
        """Check bands and classes, choose the output activation, set up the window grid."""
        if self._spex is not None:
            self._spex.prepare(source, plan, sample, monitor)
            return
        source.mapping.require(self.meta.bands, f"Model {self.path.name}")
        absent = [t for t in plan.targets if t not in self._class_targets]
        if absent:
            raise PromptError(
                f"Model {self.path.name} has no class for "
                f"{', '.join(TARGETS[t].title for t in absent)}; its classes are "
                f"{self.class_summary()}."
            )
        self._lut[:] = 0
        for k, target in enumerate(self._class_targets):
            if target in plan.targets:
                self._lut[k] = plan.targets.index(target) + 1
        self._size = (source.width, source.height)
        self._reader = _WindowReader(source)
        grid = WindowGrid(source.width, source.height, self.meta.tile_size, self.meta.overlap)
        self._segmenter = TiledSegmenter(grid, self._run, self._batch)
        if self._activation == "auto":
            self._activation = self._probe_activation(sample)
        self._evidence = evidence_names(plan.targets, source.roles)
        self._resolution_note(source)
        monitor.progress(1.0, f"model ready: {self.runtime.describe()}")

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self.runtime.session.run(None, {self._input_name: batch})[0]

    def _standardise(self, stack: np.ndarray) -> np.ndarray:
        return stack * self._gain + self._bias

    def _probe_activation(self, sample: Sample) -> str:
        """Logits or probabilities? One window of sample pixels through the model decides."""
        t = self.meta.tile_size
        pixels = np.stack([sample.bands[r] for r in self.meta.bands]) if sample.bands else None
        if pixels is None or pixels.shape[1] == 0:
            return "softmax"
        reps = math.ceil(t * t / pixels.shape[1])
        window = np.tile(pixels, reps)[:, : t * t].reshape(len(self.meta.bands), t, t)
        batch = np.nan_to_num(self._standardise(window))[None].astype(np.float32)
        scores = np.asarray(self._run(batch))
        scores = scores[:, None] if scores.ndim == 3 else scores
        if looks_like_probabilities(scores):
            return "none"
        return "sigmoid" if scores.shape[1] == 1 else "softmax"

    def _resolution_note(self, source: RasterSource) -> None:
        if self.meta.resolution_cm is None or not source.dataset.crs:
            return
        if not source.dataset.crs.is_projected:
            return
        pixel_cm = abs(source.dataset.res[0]) * source.dataset.crs.linear_units_factor[1] * 100
        ratio = pixel_cm / self.meta.resolution_cm
        if ratio > 2 or ratio < 0.5:
            self._notes.append(
                f"The model was trained at {self.meta.resolution_cm:g} cm/px; this raster has "
                f"{pixel_cm:g} cm/px (resample it for better results)."
            )

    def predict(self, bands: dict[str, np.ndarray], window: Window) -> TilePrediction:
        """Classes of the read window's core area from blended model windows."""
        if self._spex is not None:
            return self._spex.predict(bands, window)
        assert self._segmenter is not None, "prepare() must run first"
        width, height = self._size
        halo = self.halo
        r0, r1, c0, c1 = inner_region(window, halo, width, height)
        oy, ox = int(window.row_off), int(window.col_off)
        shape = (int(window.height), int(window.width))
        grid, t = self._segmenter.grid, self.meta.tile_size

        def window_input(i: int, j: int) -> np.ndarray:
            y0, x0 = i * grid.stride, j * grid.stride  # raster pixels
            y1, x1 = min(y0 + t, height), min(x0 + t, width)
            inside = y0 >= oy and x0 >= ox and y1 <= oy + shape[0] and x1 <= ox + shape[1]
            if inside:
                part = {r: bands[r][y0 - oy : y1 - oy, x0 - ox : x1 - ox] for r in self.meta.bands}
            else:
                part = self._reader.read(Window(x0, y0, x1 - x0, y1 - y0), self.required_roles())
            patch = np.zeros((len(self.meta.bands), t, t), np.float32)
            stack = np.stack([part[r] for r in self.meta.bands])
            patch[:, : y1 - y0, : x1 - x0] = self._standardise(stack)
            return patch

        scores = self._segmenter.scores(window_input, (r0, r1, c0, c1))
        best, confidence = decide(scores, self._activation, self.meta.threshold)
        inner = (slice(r0 - oy, r1 - oy), slice(c0 - ox, c1 - ox))
        nodata = np.zeros(best.shape, bool)
        for role in self.meta.bands:
            nodata |= np.isnan(bands[role][inner])
        classes = np.full(shape, 255, np.uint8)
        classes[inner] = np.where(nodata, 255, self._lut[best])
        conf = np.zeros(shape, np.float32)
        conf[inner] = np.where(nodata, 0.0, confidence)
        evidence = np.full((len(self._evidence), *shape), np.nan, np.float32)
        if self._evidence:
            part = {role: array[inner] for role, array in bands.items()}
            for e, name in enumerate(self._evidence):
                evidence[e][inner] = compute_index(name, part)
        return TilePrediction(classes, conf, evidence)

    def report(self) -> BackendReport:
        """Model, classes, provider that ran, tiling and cache figures."""
        if self._spex is not None:
            return self._spex.report()
        if self._reader is not None:
            self._reader.close()  # the run is over
        seg = self._segmenter
        details: dict[str, object] = {
            "model": str(self.path.absolute()),
            "runtime": f"onnxruntime {self.runtime.runtime_version}",
            "provider": self.runtime.provider,
            "providers_requested": self.runtime.requested,
            "threads": self.runtime.threads,
            "ir_version": self.runtime.header.ir_version,
            "opset": self.runtime.header.opset,
            "metadata": self.meta.to_dict(),
            "class_targets": {
                n: t for n, t in zip(self.meta.class_names, self._class_targets, strict=True)
            },
            "output_activation": self._activation,
            "batch_size": self._batch,
        }
        if seg is not None:
            details.update(
                windows_read_apart=self._reader.reads if self._reader else 0,
                windows_run=seg.windows_run,
                window_cache_hits=seg.cache.hits,
                window_stride=seg.grid.stride,
            )
        notes = [f"Ran on {self.runtime.describe()}.", *self._notes]
        return BackendReport(
            method=(
                f"ONNX segmentation model {self.path.name}: {self.meta.tile_size} px windows on a "
                f"global grid, {self.meta.overlap} px overlap, blended {self._activation} scores"
            ),
            details=details,
            notes=notes,
            device=f"{self.runtime.device} (onnxruntime {self.runtime.provider})",
            explanation=f"Model classes: {self.class_summary()}.",
        )
