"""The plugin shell, loaded and unloaded through QGIS's own plugin machinery (``qgis.utils``).

QGIS finds a plugin as a folder named after the plugin (``spex``) inside a plugin path, but the
repository's folder may have any name. The test therefore makes a temporary plugin path holding
a symlink ``spex`` -> the repository root. The editable install also maps ``spex`` to the
repository root; to load the plugin the way QGIS does, every ``spex*`` module is taken out of
``sys.modules`` for the duration of the test and the temporary path is put first on ``sys.path``,
so ``loadPlugin`` imports a fresh ``spex`` module object from ``<tmp>/spex/__init__.py``. The
original module objects are put back afterwards (``unloadPlugin`` deletes the plugin's modules),
so tests that hold ``spex.engine`` classes are not affected.
"""

from __future__ import annotations

import configparser
import contextlib
import sys
from pathlib import Path

import pytest
import qgis.utils
from qgis.core import Qgis
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QCoreApplication, QEvent
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QToolBar

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "spex"


def _is_spex_module(name: str) -> bool:
    return name == PLUGIN or name.startswith(PLUGIN + ".")


@contextlib.contextmanager
def qgis_plugin_path(folder: Path):
    """Make ``folder`` a plugin path holding ``spex`` -> the repository; restore everything after."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PLUGIN).symlink_to(REPO_ROOT, target_is_directory=True)
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
        for name in [n for n in sys.modules if _is_spex_module(n)]:
            del sys.modules[name]
        sys.modules.update(saved_modules)
        sys.path[:] = saved_sys_path
        qgis.utils.plugin_paths[:] = saved_plugin_paths
        qgis.utils.updateAvailablePlugins()


@pytest.fixture
def plugin_path(tmp_path: Path):
    """A temporary QGIS plugin path with the plugin ``spex`` in it."""
    with qgis_plugin_path(tmp_path) as folder:
        yield folder


def _flush_deferred_deletes() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)


def test_metadata_is_complete_and_matches_the_package() -> None:
    parser = configparser.ConfigParser()  # QGIS reads metadata.txt the same way
    parser.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    general = parser["general"]
    required = [
        "name",
        "description",
        "about",
        "version",
        "qgisMinimumVersion",
        "author",
        "email",
        "repository",
        "tracker",
        "homepage",
        "category",
        "icon",
        "experimental",
        "hasProcessingProvider",
        "license",
        "tags",
    ]
    assert [key for key in required if not general.get(key, "").strip()] == []
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{general["version"]}"' in pyproject
    assert (REPO_ROOT / general["icon"]).is_file()
    assert len(general["about"].splitlines()) > 1
    minimum = tuple(int(p) for p in general["qgisMinimumVersion"].split("."))
    assert minimum <= (Qgis.QGIS_VERSION_INT // 10000, Qgis.QGIS_VERSION_INT // 100 % 100)


def test_icon_renders() -> None:
    icon = QIcon(str(REPO_ROOT / "resources" / "icons" / "spex.svg"))
    pixmap = icon.pixmap(32, 32)
    assert not pixmap.isNull()
    assert pixmap.width() == 32


def test_load_start_run_unload(qgis_app, qgis_iface, plugin_path: Path) -> None:
    assert PLUGIN in qgis.utils.available_plugins
    assert qgis.utils.pluginMetadata(PLUGIN, "name") == "SPEX for QGIS"

    assert qgis.utils.loadPlugin(PLUGIN)
    module = sys.modules[PLUGIN]
    assert Path(module.__file__) == plugin_path / PLUGIN / "__init__.py"  # QGIS's path, not pip's
    assert qgis.utils.startPlugin(PLUGIN)
    assert qgis.utils.isPluginLoaded(PLUGIN)

    instance = qgis.utils.plugins[PLUGIN]
    assert type(instance).__name__ == "SpexPlugin"
    assert type(instance).__module__ == "spex.spex_qgis.plugin"
    main_window = qgis_iface.mainWindow()
    action = main_window.findChild(QAction, "spexExtractAction")
    assert action is instance.action and action is not None
    assert not action.icon().isNull()
    toolbar = main_window.findChild(QToolBar, "spexToolbar")
    assert toolbar is not None and action in toolbar.actions()

    qgis_iface.messageBar().clear_messages()
    action.trigger()
    messages = qgis_iface.messageBar().get_messages(Qgis.Info)
    assert len(messages) == 1
    assert "next release" in messages[0] and "spex extract" in messages[0]

    assert qgis.utils.unloadPlugin(PLUGIN)
    _flush_deferred_deletes()
    assert not qgis.utils.isPluginLoaded(PLUGIN)
    assert PLUGIN not in sys.modules  # qgis.utils removed the plugin's modules
    assert sip.isdeleted(action) and sip.isdeleted(toolbar)
    assert main_window.findChild(QAction, "spexExtractAction") is None
    assert main_window.findChild(QToolBar, "spexToolbar") is None
    assert instance.action is None and instance.toolbar is None


def test_engine_modules_survive_the_plugin_round_trip(qgis_iface, tmp_path: Path) -> None:
    """Loading and unloading the plugin must not replace ``spex`` modules other tests hold."""
    import spex.engine.errors as errors_before

    before = {n: m for n, m in sys.modules.items() if _is_spex_module(n)}
    with qgis_plugin_path(tmp_path):
        assert qgis.utils.loadPlugin(PLUGIN) and qgis.utils.startPlugin(PLUGIN)
        assert sys.modules[PLUGIN] is not before[PLUGIN]
        assert qgis.utils.unloadPlugin(PLUGIN)
        _flush_deferred_deletes()
    assert {n: m for n, m in sys.modules.items() if _is_spex_module(n)} == before
    import spex.engine.errors as errors_after

    assert errors_after is errors_before
    assert str(tmp_path) not in sys.path and str(tmp_path) not in qgis.utils.plugin_paths
