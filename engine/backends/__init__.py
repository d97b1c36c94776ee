"""Backends behind one interface; heavy ones are imported only when asked for."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from ..errors import BackendError
from ..instructions.targets import TARGETS
from .base import Backend, BackendReport, TilePrediction

#: Backend name -> (module, class), in the order they are offered to the user. Modules are
#: imported on first use, so torch / onnxruntime load only for the backend that needs them.
BACKENDS: dict[str, tuple[str, str]] = {
    "spectral": ("spex.engine.backends.spectral.backend", "SpectralBackend"),
    "spex": ("spex.engine.backends.spex.backend", "SpexBackend"),
    "onnx": ("spex.engine.backends.onnx.backend", "OnnxBackend"),
}
BACKEND_NAMES = tuple(BACKENDS)
#: The backends that can leave a part out of its whole ("vegetation except forest"): the
#: spectral one splits the vegetation itself; a model answers its own classes only.
LEAVE_OUT_PARTS = ("spectral",)


def backend_key(name: str | None) -> str:
    """The `BACKENDS` key a user's backend name means (empty: the default, spectral)."""
    return (name or "spectral").strip().lower()


def left_out_refusal(left_out: Sequence[str], name: str | None) -> str | None:
    """Why the backend called `name` cannot leave the parts `left_out` out of their wholes
    (a plan's `left_out`), or None where it can or none is left out."""
    key = backend_key(name)
    if not left_out or key in LEAVE_OUT_PARTS:
        return None
    return (
        f"The {key} backend cannot leave {', '.join(left_out)} out of "
        f"{', '.join(dict.fromkeys(TARGETS[p].part_of or p for p in left_out))}: ask for the "
        "whole, or use the spectral backend"
    )


def get_backend(name: str, **options: object) -> Backend:
    """Build the backend called `name` with backend-specific `options`."""
    key = backend_key(name)
    if key not in BACKENDS:
        raise BackendError(
            f"Unknown backend '{name}'; available: {', '.join(BACKEND_NAMES)} (e.g. --backend spectral)."
        )
    module_name, class_name = BACKENDS[key]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise BackendError(
            f"Backend '{key}' cannot run here: Python package '{exc.name}' is missing; "
            "run `make setup` or install the plugin's dependencies."
        ) from exc
    return getattr(module, class_name)(**options)


__all__ = [
    "BACKENDS",
    "BACKEND_NAMES",
    "Backend",
    "BackendReport",
    "TilePrediction",
    "backend_key",
    "get_backend",
    "left_out_refusal",
]
