"""`OnnxBackend`: segmentation models (.onnx) and exported SPEX folders on onnxruntime.

A segmentation model is read the way Deepness reads it: every output is a group of classes,
each pixel takes the argmax over all classes of an output (after values below `seg_thresh`
are set to 0), and the plan keeps the classes its instruction names (`classes`). The model
runs at its own `resolution` when it gives one (windows resampled from the raster, classes
written back on the raster's grid), on a global window grid (`segmentation`), batched, with
outputs smaller than their input centre-cropped. An exported SPEX folder (with
`spex_onnx.json`) is run by `spex_runner` over the same tiling, prompts and outputs as the
torch backend.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from rasterio.windows import Window

from ...errors import BackendError, PromptError
from ...indices import compute_index, get_index
from ...instructions.plan import Plan
from ...instructions.targets import answered_as
from ...passes.pixel_areas import pixel_metres
from ...progress import RunMonitor
from ...raster.raster_source import RasterSource, Sample
from ..base import Backend, BackendReport, TilePrediction
from ..spectral.evidence import evidence_names
from .classes import ModelClass, catalogue_target, describe, model_classes, targets_of
from .metadata import SegmentationMetadata, check_model_type, parse_segmentation_metadata
from .output_shapes import check_output_sizes, output_channels
from .runtime import RuntimeSession, open_session
from .segmentation import (
    TiledSegmenter,
    WindowGrid,
    batch_size_for,
    decide,
    inner_region,
    looks_like_probabilities,
)
from .window_reader import WindowReader

#: Providers whose inputs and outputs live on a device: bound once per batch (IO binding).
DEVICE_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider", "ROCMExecutionProvider")

#: A model finer than the raster by more than this (per side) is refused, not upsampled.
MAX_UPSAMPLING = 4

#: Kept for callers of the earlier name: the catalogue target a class name means.
target_of_class = catalogue_target


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
        if not path.exists() and str(model) and "/" not in str(model):
            from ..spex.download import load_registry

            entry = load_registry().get(str(model))  # a name from `spex models add`
            path = Path(entry["path"]) if entry else path
            self.path = path
        if not path.is_file():
            raise BackendError(
                f"Model {path} does not exist; give a .onnx file, an exported SPEX folder or a "
                "name from `spex models list`."
            )
        self.runtime: RuntimeSession = open_session(path, provider, threads)
        session = self.runtime.session
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1:
            raise BackendError(
                f"Model {path.name} has {len(inputs)} inputs; a segmentation model takes one "
                "N x C x H x W image (an exported SPEX model is a folder)."
            )
        check_model_type(self.runtime.header.metadata, path.name)  # a type named: refused first
        check_output_sizes(path.name, inputs, outputs)
        self.meta: SegmentationMetadata = parse_segmentation_metadata(
            self.runtime.header.metadata,
            path.name,
            inputs[0].shape,
            output_channels(path.name, outputs),
        )
        self._input_name = inputs[0].name
        self._output_names = [o.name for o in outputs]
        in_batch = inputs[0].shape[0]
        out_batches = [o.shape[0] for o in outputs if isinstance(o.shape[0], int)]
        self._fixed_batch = in_batch if isinstance(in_batch, int) and in_batch > 0 else None
        if self._fixed_batch is None and out_batches:
            self._fixed_batch = min(out_batches)  # a fixed output batch binds the input's too
        self._batch = batch_size_for(len(self.meta.bands), self.meta.tile_size, self._fixed_batch)
        self.classes: tuple[ModelClass, ...] = model_classes(self.meta.outputs)
        self._luts = [np.zeros(len(names), np.uint8) for names in self.meta.outputs]
        self._activations: list[str] = [self.meta.activation] * len(self.meta.outputs)
        self._channels: list[int] = []
        self._evidence: tuple[str, ...] = ()
        #: The raster roles read for the model's bands, in its channel order (`prepare`: a role
        #: the raster answers with another's band, B8A's nir08 as nir, is read as that).
        self._read_roles: tuple[str, ...] = self.meta.bands
        self._segmenter: TiledSegmenter | None = None
        self._size = (0, 0)
        self._factor = 1.0
        self._reader: WindowReader | None = None
        mean = np.asarray(self.meta.mean, np.float32)[:, None, None]
        std = np.asarray(self.meta.std, np.float32)[:, None, None]
        # value = reflectance * scale + offset; model input = (value - mean) / std
        self._gain = np.float32(self.meta.scale) / std
        self._bias = (np.float32(self.meta.offset) - mean) / std

    # --- what the backend offers -----------------------------------------------------------

    def supported_targets(self) -> tuple[str, ...]:
        """The model's classes as targets (catalogue targets, or the classes' own)."""
        if self._spex is not None:
            return self._spex.supported_targets()
        return targets_of(self.classes)

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
        roles = set(self._read_roles)
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
        """The model's classes and the catalogue targets they map to, for messages."""
        return describe(self.classes)

    # --- the run ----------------------------------------------------------------------------

    def prepare(
        self, source: RasterSource, plan: Plan, sample: Sample, monitor: RunMonitor
    ) -> None:
        """Check bands and classes, probe the outputs, set up the window grid."""
        if self._spex is not None:
            self._spex.prepare(source, plan, sample, monitor)
            return
        source.mapping.require(self.meta.bands, f"Model {self.path.name}")
        self._read_roles = tuple(source.mapping.carrier(r) for r in self.meta.bands)
        offered = targets_of(self.classes)
        absent = [t for t in plan.targets if t not in offered]
        if absent:
            raise PromptError(
                f"Model {self.path.name} has no class for {', '.join(absent)}; its classes are "
                f"{self.class_summary()}."
            )
        for lut in self._luts:
            lut[:] = 0
        for c in self.classes:
            answer = answered_as(c.target, plan.targets) if c.target else None
            if answer is not None:
                self._luts[c.output][c.index] = plan.targets.index(answer) + 1
        self._size = (source.width, source.height)
        self._factor = self._resolution_factor(source)
        self._reader = WindowReader(source)
        margin = self._probe(sample)
        width = math.ceil(source.width / self._factor)
        height = math.ceil(source.height / self._factor)
        grid = WindowGrid(
            width, height, self.meta.tile_size, self.meta.overlap, margin, self.meta.origin
        )
        self._segmenter = TiledSegmenter(grid, self._run, self._batch)
        self._evidence = evidence_names(plan.targets, source.roles)
        monitor.progress(1.0, f"model ready: {self.runtime.describe()}")

    def _run_outputs(self, batch: np.ndarray) -> list[np.ndarray]:
        """Every output for a batch (padded to a fixed batch), as (B, K, h, w) float32."""
        count = batch.shape[0]
        if self._fixed_batch and count != self._fixed_batch:
            pad = np.zeros((self._fixed_batch - count, *batch.shape[1:]), batch.dtype)
            batch = np.concatenate([batch, pad]) if count < self._fixed_batch else batch
        session = self.runtime.session
        if self.runtime.provider in DEVICE_PROVIDERS:
            binding = session.io_binding()  # one host-to-device copy in, one out
            binding.bind_cpu_input(self._input_name, np.ascontiguousarray(batch))
            for name in self._output_names:
                binding.bind_output(name)
            session.run_with_iobinding(binding)
            outs = binding.copy_outputs_to_cpu()
        else:
            outs = session.run(self._output_names, {self._input_name: batch})
        result = []
        for out in outs:
            out = np.asarray(out, np.float32)[:count]
            result.append(out[:, None] if out.ndim == 3 else out)
        return result

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return np.concatenate(self._run_outputs(batch), axis=1)

    def _standardise(self, stack: np.ndarray) -> np.ndarray:
        return stack * self._gain + self._bias

    def _probe(self, sample: Sample) -> int:
        """One window of sample pixels through the model: output sizes (centre crop), channel
        counts and, where not given, whether the outputs are logits or probabilities."""
        t, name = self.meta.tile_size, self.path.name
        pixels = np.stack([sample.bands[r] for r in self._read_roles]) if sample.bands else None
        if pixels is None or pixels.shape[1] == 0:
            window = np.zeros((len(self.meta.bands), t, t), np.float32)
        else:
            reps = math.ceil(t * t / pixels.shape[1])
            window = np.tile(pixels, reps)[:, : t * t].reshape(len(self.meta.bands), t, t)
        batch = np.nan_to_num(self._standardise(window))[None].astype(np.float32)
        try:
            outs = self._run_outputs(batch)
        except Exception as exc:  # onnxruntime's own error types
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc)
            raise BackendError(
                f"Model {name} failed on a {t} x {t} window of {len(self.meta.bands)} channels "
                f"({first}); check 'tile_size' and the input shape."
            ) from exc
        sides = {out.shape[2:] for out in outs}
        side = outs[0].shape[2:]
        margin = (t - side[0]) // 2
        if len(sides) != 1 or side[0] != side[1] or side[0] > t or (t - side[0]) % 2:
            raise BackendError(
                f"Model {name} returns {[list(o.shape) for o in outs]} for a {t} x {t} input, "
                "which cannot be mapped to the input grid; a segmentation model answers at the "
                "input's size or for its centre."
            )
        self._channels = [out.shape[1] for out in outs]
        for o, (out, names) in enumerate(zip(outs, self.meta.outputs, strict=True)):
            count = out.shape[1]
            if count != len(names) and not (count == 1 and len(names) == 2):
                raise BackendError(
                    f"Model {name}: output {o} has {count} channels but 'class_names' names "
                    f"{len(names)} classes; fix the metadata."
                )
            if self._activations[o] == "auto":
                if looks_like_probabilities(out):
                    self._activations[o] = "none"
                else:
                    self._activations[o] = "sigmoid" if count == 1 else "softmax"
        return margin

    def _resolution_factor(self, source: RasterSource) -> float:
        """Model pixels per raster pixel side: the raster is read at the model's resolution."""
        res = self.meta.resolution_cm
        crs = source.dataset.crs
        if res is None:
            return 1.0
        if not crs or not crs.is_projected:
            self._notes.append(
                f"The model was trained at {res:g} cm/px; the raster's CRS is not projected, so "
                "it was processed at its own resolution."
            )
            return 1.0
        # On the ground: Web Mercator's plane says 10 cm where the ground has 6 at 52 N.
        pixel_cm = pixel_metres(source.dataset, source.height / 2)[1] * 100
        factor = res / pixel_cm
        if abs(factor - 1) < 1e-3:
            return 1.0
        if factor < 1 / MAX_UPSAMPLING:
            raise BackendError(
                f"Model {self.path.name} works at {res:g} cm/px, {1 / factor:.0f} times finer "
                f"than this raster ({pixel_cm:g} cm/px); use imagery near the model's "
                "resolution, or set 'resolution' with `spex models add MODEL --metadata "
                "sidecar.json` if the model suits this one."
            )
        self._notes.append(
            f"The raster ({pixel_cm:g} cm/px) was processed at the model's resolution "
            f"({res:g} cm/px) and its classes written back on the raster's grid."
        )
        return factor

    def _model_pixels(self, start: int, stop: int, count: int) -> np.ndarray:
        """The model pixel under each raster pixel in [start, stop) along an axis."""
        centres = (np.arange(start, stop) + 0.5) / self._factor
        return np.minimum(centres.astype(np.intp), count - 1)

    def predict(self, bands: dict[str, np.ndarray], window: Window) -> TilePrediction:
        """Classes of the read window's core area from blended model windows."""
        if self._spex is not None:
            return self._spex.predict(bands, window)
        assert self._segmenter is not None, "prepare() must run first"
        width, height = self._size
        r0, r1, c0, c1 = inner_region(window, self.halo, width, height)
        oy, ox = int(window.row_off), int(window.col_off)
        shape = (int(window.height), int(window.width))
        # context for the small-segment filter: the class map around the core, tile-exact
        pad = (self.meta.small_segment // 2) if self.meta.small_segment else 0
        e0, e1 = max(0, r0 - pad), min(height, r1 + pad)
        f0, f1 = max(0, c0 - pad), min(width, c1 + pad)
        scores = self._scores(bands, (oy, ox, shape), (e0, e1, f0, f1))
        classes_region = np.zeros((e1 - e0, f1 - f0), np.uint8)
        confidence_region = np.zeros(classes_region.shape, np.float32)
        start = 0
        for o, count in enumerate(self._channels):
            part = scores[start : start + count]
            start += count
            best, conf = decide(
                part,
                self._activations[o],
                self.meta.threshold,
                threshold_on_raw=self.meta.activation == "auto",
            )
            if self.meta.small_segment:
                from scipy.ndimage import median_filter

                size = (self.meta.small_segment // 2) * 2 + 1  # as Deepness: odd
                best = median_filter(best.astype(np.uint8), size=size, mode="nearest")
            value = self._luts[o][best]
            first = classes_region == 0
            classes_region[first] = value[first]  # the first output that names a target wins
            confidence_region[first] = conf[first]
        inner = (slice(r0 - oy, r1 - oy), slice(c0 - ox, c1 - ox))
        core = (slice(r0 - e0, r1 - e0), slice(c0 - f0, c1 - f0))
        nodata = np.zeros((r1 - r0, c1 - c0), bool)
        for role in self._read_roles:
            nodata |= np.isnan(bands[role][inner])
        classes = np.full(shape, 255, np.uint8)
        classes[inner] = np.where(nodata, 255, classes_region[core])
        conf = np.zeros(shape, np.float32)
        conf[inner] = np.where(nodata, 0.0, confidence_region[core])
        evidence = np.full((len(self._evidence), *shape), np.nan, np.float32)
        if self._evidence:
            part = {role: array[inner] for role, array in bands.items()}
            for e, name in enumerate(self._evidence):
                evidence[e][inner] = compute_index(name, part)
        return TilePrediction(classes, conf, evidence)

    def _scores(
        self,
        bands: dict[str, np.ndarray],
        read: tuple[int, int, tuple[int, int]],
        region: tuple[int, int, int, int],
    ) -> np.ndarray:
        """Blended scores (K, h, w) for raster pixels `region`, from model windows."""
        seg, t, roles = self._segmenter, self.meta.tile_size, self._read_roles
        grid = seg.grid
        oy, ox, shape = read
        factor = self._factor
        width, height = self._size

        def window_input(i: int, j: int) -> np.ndarray:
            y0, x0 = grid.origin(i), grid.origin(j)  # model pixels
            ya, xa = max(y0, 0), max(x0, 0)
            yb, xb = min(y0 + t, grid.height), min(x0 + t, grid.width)
            if factor == 1.0:
                inside = ya >= oy and xa >= ox and yb <= oy + shape[0] and xb <= ox + shape[1]
                if inside:
                    part = {r: bands[r][ya - oy : yb - oy, xa - ox : xb - ox] for r in roles}
                else:
                    part = self._reader.read(Window(xa, ya, xb - xa, yb - ya), roles)
            else:  # the raster's footprint of these model pixels, resampled to them
                win = Window(
                    xa * factor,
                    ya * factor,
                    min(xb * factor, width) - xa * factor,
                    min(yb * factor, height) - ya * factor,
                )
                part = self._reader.read(win, roles, (yb - ya, xb - xa))
            stack = self._standardise(np.stack([part[r] for r in roles]))
            pads = ((0, 0), (ya - y0, y0 + t - yb), (xa - x0, x0 + t - xb))
            if self.meta.padding == "mirror":
                return np.pad(stack, pads, mode="symmetric")
            return np.pad(stack, pads)  # zeros: the mean, once standardised

        r0, r1, c0, c1 = region
        if factor == 1.0:
            return seg.scores(window_input, region)
        rows = self._model_pixels(r0, r1, grid.height)
        cols = self._model_pixels(c0, c1, grid.width)
        m0, n0 = int(rows[0]), int(cols[0])
        model = seg.scores(window_input, (m0, int(rows[-1]) + 1, n0, int(cols[-1]) + 1))
        return model[:, rows - m0][:, :, cols - n0]

    def report(self) -> BackendReport:
        """Model, classes, provider that ran, how scores became classes, tiling and cache."""
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
            "class_targets": {c.name: c.target for c in self.classes},
            "output_activation": self._activations[0],
            "output_activations": list(self._activations),
            "batch_size": self._batch,
            "model_pixel_per_raster_pixel": round(1 / self._factor, 6),
            "decision": self._decision_text(),
        }
        if seg is not None:
            details.update(
                windows_read_apart=self._reader.reads if self._reader else 0,
                windows_run=seg.windows_run,
                window_cache_hits=seg.cache.hits,
                window_stride=seg.grid.stride,
                output_margin=seg.grid.margin,
            )
        notes = [f"Ran on {self.runtime.describe()}.", *self._notes]
        return BackendReport(
            method=(
                f"ONNX segmentation model {self.path.name}: {self.meta.tile_size} px windows on a "
                f"global grid, {self.meta.overlap} px overlap, blended scores, argmax per output"
            ),
            details=details,
            notes=notes,
            device=f"{self.runtime.device} (onnxruntime {self.runtime.provider})",
            explanation=f"Model classes: {self.class_summary()}.",
        )

    def _decision_text(self) -> str:
        """How the model's scores became classes, for the explanation."""
        thr = self.meta.threshold
        rule = "takes the class with the highest score over all the classes of each model output"
        if thr is not None:
            on = "raw outputs" if self.meta.activation == "auto" else "probabilities"
            rule += f", after {on} below seg_thresh {thr:g} are set to 0 (Deepness's rule)"
        text = (
            f"The model {self.path.name} scored every pixel in {self.meta.tile_size} px windows "
            f"({self.meta.overlap} px overlap, blended"
            + (", edges mirrored" if self.meta.padding == "mirror" else "")
            + f"); each pixel {rule}."
        )
        if 1 in self._channels:
            default = "" if thr is not None else " (a probability of 0.5)"
            text += f" A one-channel output marks its class where it passes the threshold{default}."
        text += " The plan keeps the classes it names; no threshold was fitted to this scene."
        if self.meta.small_segment:
            text += f" A median filter of {self.meta.small_segment} px (seg_small_segment) "
            text += "removed small segments from the class map."
        if self._factor != 1.0:
            text += f" The raster was read at the model's {self.meta.resolution_cm:g} cm/px."
        return text
