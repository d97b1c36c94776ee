"""The background task: `spex.engine.extract` in a `QgsTask`, with progress and cancel.

`run` executes on a worker thread and touches no layer or widget; `finished` runs on the main
thread and hands the outcome to the caller, who creates the layers there.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal


class ExtractionTask(QgsTask):
    """One extraction. After it ends: `result` on success, else `error` (one line) or
    `cancelled`; `details` holds a traceback for unexpected failures."""

    #: The engine's stage message ("classified tile 3/6"); queued to the main thread.
    stageChanged = pyqtSignal(str)  # noqa: N815 - Qt naming

    def __init__(self, request: object, on_done: Callable[[ExtractionTask], None] | None) -> None:
        """`request` is a `spex.engine.ExtractionRequest`; `on_done(task)` runs on the main thread."""
        super().__init__(f"SPEX: {request.prompt[:60]}", QgsTask.Flag.CanCancel)
        self.request = request
        self.on_done = on_done
        self.result = None
        self.error: str | None = None
        self.details: str | None = None
        self.cancelled = False

    def run(self) -> bool:
        """Worker thread: run the engine; never raises."""
        from spex.engine import RunMonitor, extract
        from spex.engine.errors import CancelledError, SpexError

        monitor = RunMonitor(on_progress=self._progress, is_cancelled=self.isCanceled)
        try:
            self.result = extract(self.request, monitor)
            return True
        except CancelledError:
            self.cancelled = True
        except SpexError as error:
            self.error = str(error)
        except Exception as error:  # noqa: BLE001 - shown to the user, details to the log
            self.error = f"unexpected error: {type(error).__name__}: {error}".splitlines()[0]
            self.details = traceback.format_exc()
        return False

    def _progress(self, fraction: float, message: str) -> None:
        self.setProgress(100.0 * fraction)
        self.stageChanged.emit(message)

    def finished(self, ok: bool) -> None:
        """Main thread: hand the outcome over (a cancel before `run` started lands here too)."""
        if not ok and self.error is None:
            self.cancelled = True
        callback, self.on_done = self.on_done, None
        if callback is not None:
            callback(self)
