"""Backends behind one interface; heavy ones are imported only when asked for."""

from __future__ import annotations

from ..errors import BackendError
from .base import Backend, BackendReport, TilePrediction

#: Backend names, in the order they are offered to the user.
BACKEND_NAMES = ("spectral",)


def get_backend(name: str, **options: object) -> Backend:
    """Build the backend called `name` (options are backend-specific)."""
    key = (name or "spectral").strip().lower()
    if key == "spectral":
        from .spectral.backend import SpectralBackend

        return SpectralBackend(**options)
    raise BackendError(
        f"Unknown backend '{name}'; available: {', '.join(BACKEND_NAMES)} (use --backend spectral)."
    )


__all__ = ["BACKEND_NAMES", "Backend", "BackendReport", "TilePrediction", "get_backend"]
