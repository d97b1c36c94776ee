"""Progress and cancel, shared by the command line, the QGIS task and Processing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import CancelledError

ProgressCallback = Callable[[float, str], None]
CancelCheck = Callable[[], bool]


@dataclass
class RunMonitor:
    """Reports progress (0..1 with a message) and raises `CancelledError` when asked to stop."""

    on_progress: ProgressCallback | None = None
    is_cancelled: CancelCheck | None = None

    def progress(self, fraction: float, message: str = "") -> None:
        """Report `fraction` (clamped to 0..1) of the run done."""
        if self.on_progress is not None:
            self.on_progress(min(1.0, max(0.0, fraction)), message)

    def check_cancel(self) -> None:
        """Raise `CancelledError` if the caller asked to cancel."""
        if self.is_cancelled is not None and self.is_cancelled():
            raise CancelledError("The run was cancelled; nothing was written.")

    def stage(self, start: float, end: float) -> RunMonitor:
        """A monitor whose 0..1 maps onto [start, end] of this one."""

        def scaled(fraction: float, message: str) -> None:
            self.progress(start + (end - start) * fraction, message)

        return RunMonitor(scaled, self.is_cancelled)
