"""onnxruntime sessions: which execution provider, which threads, and which versions it reads.

The best provider present is used (CUDA where the GPU build of onnxruntime has it, else CPU)
unless one is asked for; the provider that actually runs is read back from the session,
because onnxruntime falls back to CPU when a GPU provider's libraries fail to load. TensorRT is
used only when asked for: it builds an engine per input shape, which takes minutes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import BackendError
from .metadata import ModelHeader, read_header

#: Opset and IR version of the graphs we export: read by onnxruntime 1.14 (Feb 2023) and later.
EXPORT_OPSET = 17
EXPORT_IR_VERSION = 8

PROVIDER_ALIASES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "gpu": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "trt": "TensorrtExecutionProvider",
    "directml": "DmlExecutionProvider",
    "dml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "rocm": "ROCMExecutionProvider",
}
#: Preferred order when nothing is asked for (TensorRT left out on purpose, see above).
AUTO_ORDER = ("CUDAExecutionProvider", "ROCMExecutionProvider", "DmlExecutionProvider")
_IR_RE = re.compile(r"IR version:? (\d+), max supported IR version:? (\d+)")
_OPSET_RE = re.compile(r"[Oo]pset (\d+).*?(?:till|up to|max(?:imum)?) opset (\d+)", re.S)


def import_onnxruntime() -> Any:
    """The onnxruntime module, or a one-line error saying how to install it."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise BackendError(
            "The onnx backend needs onnxruntime: pip install onnxruntime "
            "(onnxruntime-gpu for an NVIDIA GPU) into QGIS's Python, or run `make setup`."
        ) from exc
    return onnxruntime


def usable_cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def choose_providers(requested: str | None, available: list[str]) -> list[str]:
    """Execution providers to try, best first, always ending with CPU.

    `requested` is a provider name or alias (`cpu`, `cuda`, `tensorrt`, ...) or None/`auto`.
    """
    if requested and requested.strip().lower() not in ("auto", ""):
        key = requested.strip()
        name = PROVIDER_ALIASES.get(key.lower(), key)
        if name not in available:
            raise BackendError(
                f"Execution provider '{requested}' is not available in this onnxruntime; "
                f"available: {', '.join(available)} (install onnxruntime-gpu for CUDA)."
            )
        chain = [name]
        if name == "TensorrtExecutionProvider" and "CUDAExecutionProvider" in available:
            chain.append("CUDAExecutionProvider")  # nodes TensorRT cannot take
    else:
        chain = [p for p in AUTO_ORDER if p in available][:1]
    return chain + ([] if "CPUExecutionProvider" in chain else ["CPUExecutionProvider"])


@dataclass
class RuntimeSession:
    """An onnxruntime session with what was asked for and what actually runs."""

    session: Any
    path: Path
    header: ModelHeader
    requested: list[str]
    providers: list[str]
    threads: int
    runtime_version: str

    @property
    def provider(self) -> str:
        """The provider that runs the graph (the first one the session kept)."""
        return self.providers[0] if self.providers else "CPUExecutionProvider"

    @property
    def device(self) -> str:
        """`cuda`, `tensorrt`, `cpu`... for the report."""
        return self.provider.replace("ExecutionProvider", "").lower()

    def describe(self) -> str:
        """One line for notes and the dock panel, e.g. 'onnxruntime 1.20 on CPU (8 threads)'."""
        text = f"onnxruntime {self.runtime_version} on {self.provider}"
        if self.provider == "CPUExecutionProvider":
            text += f" ({self.threads} threads)"
        if self.requested[0] != self.provider:
            text += f"; {self.requested[0]} was asked for but could not start"
        return text


def open_session(
    path: str | Path, provider: str | None = None, threads: int | None = None
) -> RuntimeSession:
    """Create a session with graph optimisations on, or raise a one-line `BackendError`.

    A model whose IR version or opset the installed runtime cannot read fails with both
    versions named, and how to fix it.
    """
    ort = import_onnxruntime()
    path = Path(path)
    if not path.is_file():
        raise BackendError(f"Model file {path} does not exist; give a .onnx file.")
    header = read_header(path)
    chain = choose_providers(provider, list(ort.get_available_providers()))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    threads = threads or usable_cores()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: no warnings on stderr in the dock panel
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=chain)
    except Exception as exc:  # onnxruntime raises its own Fail / InvalidGraph types
        raise version_error(path, header, ort.__version__, str(exc)) from exc
    return RuntimeSession(
        session, path, header, chain, list(session.get_providers()), threads, ort.__version__
    )


def version_error(path: Path, header: ModelHeader, runtime: str, message: str) -> BackendError:
    """The one-line error for a model onnxruntime could not load."""
    ir = _IR_RE.search(message)
    if ir:
        return BackendError(
            f"{path.name} has ONNX IR version {ir.group(1)} but onnxruntime {runtime} reads IR "
            f"version {ir.group(2)} at most; upgrade onnxruntime or re-export the model with an "
            f"older IR version (e.g. IR {EXPORT_IR_VERSION}, opset {EXPORT_OPSET})."
        )
    opset = _OPSET_RE.search(message)
    if opset and "opset" in message.lower():
        return BackendError(
            f"{path.name} uses opset {opset.group(1)} but onnxruntime {runtime} supports opset "
            f"{opset.group(2)} at most; upgrade onnxruntime or re-export with opset {EXPORT_OPSET}."
        )
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return BackendError(
        f"onnxruntime {runtime} could not load {path.name} (IR version {header.ir_version}, "
        f"opset {header.opset}): {first[:300]}"
    )
