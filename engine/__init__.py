"""The QGIS-free core of SPEX for QGIS: band roles, instructions, backends and outputs.

The public entry point is `spex.engine.extract` with an `ExtractionRequest`; heavy modules are
imported on first use so that `import spex.engine` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["ExtractionRequest", "ExtractionResult", "RunMonitor", "__version__", "extract"]


def __getattr__(name: str) -> object:
    if name in {"ExtractionRequest", "ExtractionResult", "extract"}:
        from . import pipeline

        return getattr(pipeline, name)
    if name == "RunMonitor":
        from .progress import RunMonitor

        return RunMonitor
    raise AttributeError(name)
