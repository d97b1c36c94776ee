"""The plugin loaded and unloaded through QGIS's own plugin machinery (``qgis.utils``).

QGIS finds a plugin as a folder named after the plugin (``spex``) inside a plugin path, but the
repository's folder may have any name: ``tests.qgis_helpers.qgis_plugin_path`` makes a temporary
plugin path holding a symlink ``spex`` -> the repository root and takes the editable install's
``spex*`` modules out of ``sys.modules`` meanwhile (put back afterwards).
"""

from __future__ import annotations

import configparser
import importlib
import sys
from pathlib import Path

import pytest
import qgis.utils
from qgis.core import Qgis, QgsApplication, QgsProject
from qgis.PyQt import sip
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QDockWidget, QToolBar

try:  # Qt6 moved QAction to QtGui
    from qgis.PyQt.QtGui import QAction
except ImportError:  # Qt5
    from qgis.PyQt.QtWidgets import QAction

from tests.qgis_helpers import PLUGIN, REPO_ROOT, flush_deferred_deletes, qgis_plugin_path


@pytest.fixture
def plugin_path(tmp_path: Path):
    """A temporary QGIS plugin path with the plugin ``spex`` in it."""
    with qgis_plugin_path(tmp_path) as folder:
        yield folder


def _footprint(main_window) -> dict[str, object]:
    """Everything a plugin could leave behind: widgets, providers, signal connections."""
    project = QgsProject.instance()
    return {
        "actions": len(main_window.findChildren(QAction)),
        "toolbars": len(main_window.findChildren(QToolBar)),
        "docks": len(main_window.findChildren(QDockWidget)),
        "providers": sorted(p.id() for p in QgsApplication.processingRegistry().providers()),
        "layersAdded": project.receivers(project.layersAdded),
        "layersRemoved": project.receivers(project.layersRemoved),
        "layerWillBeRemoved": project.receivers(project.layerWillBeRemoved),
        "tasks": QgsApplication.taskManager().count(),
    }


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
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    minimum = tuple(int(p) for p in general["qgisMinimumVersion"].split("."))
    assert minimum <= (Qgis.QGIS_VERSION_INT // 10000, Qgis.QGIS_VERSION_INT // 100 % 100)


def test_icon_renders() -> None:
    icon = QIcon(str(REPO_ROOT / "resources" / "icons" / "spex.svg"))
    pixmap = icon.pixmap(32, 32)
    assert not pixmap.isNull()
    assert pixmap.width() == 32


def test_load_start_open_dock_unload(qgis_app, qgis_iface, plugin_path: Path) -> None:
    assert PLUGIN in qgis.utils.available_plugins
    assert qgis.utils.pluginMetadata(PLUGIN, "name") == "SPEX for QGIS"
    main_window = qgis_iface.mainWindow()
    registry = QgsApplication.processingRegistry()

    assert qgis.utils.loadPlugin(PLUGIN)
    module = sys.modules[PLUGIN]
    assert Path(module.__file__) == plugin_path / PLUGIN / "__init__.py"  # QGIS's path, not pip's
    assert qgis.utils.startPlugin(PLUGIN)
    assert qgis.utils.isPluginLoaded(PLUGIN)

    instance = qgis.utils.plugins[PLUGIN]
    assert type(instance).__name__ == "SpexPlugin"
    assert type(instance).__module__ == "spex.spex_qgis.plugin"
    action = main_window.findChild(QAction, "spexExtractAction")
    assert action is instance.action and action is not None
    assert not action.icon().isNull()
    toolbar = main_window.findChild(QToolBar, "spexToolbar")
    assert toolbar is not None and action in toolbar.actions()
    provider = registry.providerById("spex")
    assert provider is not None and provider.name() == "SPEX"
    assert {a.id() for a in provider.algorithms()} == {
        "spex:extract_land_cover",
        "spex:spectral_index",
        "spex:install_dependencies",
        "spex:batch_extract_land_cover",
    }

    action.trigger()
    dock = main_window.findChild(QDockWidget, "spexDock")
    assert dock is instance.dock and dock is not None and not dock.isHidden()

    assert qgis.utils.unloadPlugin(PLUGIN)
    flush_deferred_deletes()
    assert not qgis.utils.isPluginLoaded(PLUGIN)
    # every module of the plugin is gone: qgis.utils misses parents such as spex.engine
    assert [n for n in sys.modules if n == PLUGIN or n.startswith(PLUGIN + ".")] == []
    assert sip.isdeleted(action) and sip.isdeleted(toolbar) and sip.isdeleted(dock)
    assert main_window.findChild(QAction, "spexExtractAction") is None
    assert main_window.findChild(QDockWidget, "spexDock") is None
    assert registry.providerById("spex") is None
    assert instance.action is None and instance.toolbar is None and instance.dock is None


def test_ten_load_unload_cycles_leave_nothing(qgis_app, qgis_iface, plugin_path: Path) -> None:
    main_window = qgis_iface.mainWindow()
    before = _footprint(main_window)
    for _ in range(10):
        assert qgis.utils.loadPlugin(PLUGIN) and qgis.utils.startPlugin(PLUGIN)
        qgis.utils.plugins[PLUGIN].run()  # opens the dock, which connects to the project
        assert _footprint(main_window) != before
        assert qgis.utils.unloadPlugin(PLUGIN)
        flush_deferred_deletes()
        assert _footprint(main_window) == before


def test_missing_packages_do_not_break_loading(qgis_app, qgis_iface, plugin_path: Path) -> None:
    assert qgis.utils.loadPlugin(PLUGIN)
    deps = importlib.import_module("spex.spex_qgis.dependencies")  # from the plugin path
    absent = deps.Requirement("spex_no_such_module", "spex-no-such-package")
    deps.REQUIREMENTS = (*deps.REQUIREMENTS, absent)
    assert qgis.utils.startPlugin(PLUGIN)
    instance = qgis.utils.plugins[PLUGIN]
    assert [m.requirement for m in instance.missing] == [absent]
    assert "spex-no-such-package" in deps.describe_missing(instance.missing)
    # the algorithm ids exist and say what is missing and how to install it headless
    registry = QgsApplication.processingRegistry()
    algorithm = registry.algorithmById("spex:extract_land_cover")
    assert algorithm is not None
    ok, message = algorithm.canExecute()
    assert not ok and "spex-no-such-package" in message
    assert "qgis_process.bin run spex:install_dependencies" in message
    assert registry.algorithmById("spex:install_dependencies") is not None
    offer = instance.install_offer
    assert offer is not None and offer in qgis_iface.messageBar().items()
    instance.action.trigger()
    assert instance.dock is None  # offers the install instead of a panel that cannot run
    assert qgis_iface.mainWindow().findChild(QAction, "spexInstallAction") is not None
    assert qgis.utils.unloadPlugin(PLUGIN)
    assert offer not in qgis_iface.messageBar().items()  # no bar left behind by an unload


def test_engine_modules_survive_the_plugin_round_trip(qgis_iface, tmp_path: Path) -> None:
    """Loading and unloading the plugin must not replace ``spex`` modules other tests hold."""
    import spex.engine.errors as errors_before

    before = {n: m for n, m in sys.modules.items() if n == PLUGIN or n.startswith(PLUGIN + ".")}
    with qgis_plugin_path(tmp_path):
        assert qgis.utils.loadPlugin(PLUGIN) and qgis.utils.startPlugin(PLUGIN)
        assert sys.modules[PLUGIN] is not before[PLUGIN]
        assert qgis.utils.unloadPlugin(PLUGIN)
        flush_deferred_deletes()
    after = {n: m for n, m in sys.modules.items() if n == PLUGIN or n.startswith(PLUGIN + ".")}
    assert after == before
    import spex.engine.errors as errors_after

    assert errors_after is errors_before
    assert str(tmp_path) not in sys.path and str(tmp_path) not in qgis.utils.plugin_paths
