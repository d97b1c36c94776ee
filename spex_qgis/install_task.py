"""Installing the missing Python packages in the background, with progress from pip's output."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from . import dependencies

#: pip output prefixes that mark progress, with the share of the bar they reach.
_STEPS = (("Collecting", 10.0), ("Downloading", 40.0), ("Installing collected", 70.0))


class InstallTask(QgsTask):
    """Runs `dependencies.install`; `result` is its `InstallResult` once finished."""

    lineReceived = pyqtSignal(str)  # noqa: N815 - Qt naming

    def __init__(
        self,
        specs: Sequence[str],
        on_done: Callable[[InstallTask], None] | None,
        base: Path | None = None,
        find_links: Path | None = None,
        no_index: bool = False,
    ) -> None:
        """Install `specs` into `base` (default: the plugin-private folder of this profile)."""
        super().__init__("SPEX: installing Python packages", QgsTask.Flag.CanCancel)
        self.specs = list(specs)
        self.on_done = on_done
        self.base = base or dependencies.default_base()
        self.find_links = find_links
        self.no_index = no_index
        self.result: dependencies.InstallResult | None = None

    def run(self) -> bool:
        """Worker thread: run pip, never raises."""
        self.result = dependencies.install(
            self.specs,
            self.base,
            find_links=self.find_links,
            no_index=self.no_index,
            on_line=self._line,
            is_cancelled=self.isCanceled,
        )
        return self.result.ok

    def _line(self, line: str) -> None:
        for prefix, share in _STEPS:
            if line.startswith(prefix):
                self.setProgress(max(self.progress(), min(share + 1.0, 95.0)))
        self.lineReceived.emit(line)

    def finished(self, ok: bool) -> None:
        """Main thread: report."""
        callback, self.on_done = self.on_done, None
        if callback is not None:
            callback(self)
