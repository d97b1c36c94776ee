"""Helpers for the QGIS tests: waiting on the event loop, loading the plugin through qgis.utils."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

import qgis.utils
from qgis.PyQt.QtCore import QCoreApplication, QEvent

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "spex"


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> float:
    """Run the Qt event loop until `condition()` is true; return the seconds waited."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"condition not met within {timeout} s")
        QCoreApplication.processEvents()
        time.sleep(0.01)
    return time.monotonic() - start


def flush_deferred_deletes() -> None:
    """Let Qt delete the objects scheduled with deleteLater."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _is_spex_module(name: str) -> bool:
    return name == PLUGIN or name.startswith(PLUGIN + ".")


@contextlib.contextmanager
def qgis_plugin_path(folder: Path, plugin_dir: Path = REPO_ROOT):
    """Make ``folder`` a plugin path holding ``spex`` (a symlink to ``plugin_dir`` unless it is
    already there); restore ``sys.modules``, ``sys.path`` and the plugin paths afterwards.

    The editable install also maps ``spex`` to the repository; to load the plugin the way QGIS
    does, every ``spex*`` module is taken out of ``sys.modules`` meanwhile and put back after.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / PLUGIN).exists():
        (folder / PLUGIN).symlink_to(plugin_dir, target_is_directory=True)
    saved_modules = {n: m for n, m in sys.modules.items() if _is_spex_module(n)}
    saved_sys_path = list(sys.path)
    saved_plugin_paths = list(qgis.utils.plugin_paths)
    for name in saved_modules:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    qgis.utils.plugin_paths.insert(0, str(folder))
    qgis.utils.updateAvailablePlugins()
    try:
        yield folder
    finally:
        if qgis.utils.isPluginLoaded(PLUGIN):
            qgis.utils.unloadPlugin(PLUGIN)
        flush_deferred_deletes()
        for name in [n for n in sys.modules if _is_spex_module(n)]:
            del sys.modules[name]
        sys.modules.update(saved_modules)
        sys.path[:] = saved_sys_path
        qgis.utils.plugin_paths[:] = saved_plugin_paths
        qgis.utils.updateAvailablePlugins()
