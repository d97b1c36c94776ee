"""The plugin: toolbar button and menu entries, the dock, the Processing provider, clean unload.

Loading never needs the engine's Python packages: if one is missing the plugin says which, and
offers one action that installs them into a plugin-private folder (see `dependencies`).
Qt is imported only through ``qgis.PyQt``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsMessageLog
from qgis.PyQt import sip
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QPushButton

try:  # Qt6 moved QAction to QtGui
    from qgis.PyQt.QtGui import QAction
except ImportError:  # Qt5
    from qgis.PyQt.QtWidgets import QAction

from . import dependencies

PLUGIN_NAME = "SPEX for QGIS"
MENU_NAME = "&SPEX for QGIS"
TOOLBAR_NAME = "SPEX for QGIS"
ACTION_OBJECT_NAME = "spexExtractAction"
INSTALL_OBJECT_NAME = "spexInstallAction"
TOOLBAR_OBJECT_NAME = "spexToolbar"
PLUGIN_DIR = Path(__file__).resolve().parent.parent
ICON_PATH = PLUGIN_DIR / "resources" / "icons" / "spex.svg"
LOG_TAG = "SPEX"


class SpexPlugin:
    """The object QGIS creates through ``classFactory``; owns everything it adds."""

    def __init__(self, iface) -> None:
        """Keep the QGIS interface; nothing is added to the GUI before ``initGui``."""
        self.iface = iface
        self.action: QAction | None = None
        self.install_action: QAction | None = None
        self.toolbar = None
        self.dock = None
        self.provider = None
        self.install_task = None
        self.install_offer = None  # the message bar item with the Install button
        self.missing: list[dependencies.MissingPackage] = []

    # -- dependencies and Processing ----------------------------------------------------------

    def check_dependencies(self) -> bool:
        """Make the private package folder visible and list what is still missing."""
        dependencies.activate()
        self.missing = dependencies.missing_packages()
        return not self.missing

    def initProcessing(self) -> None:  # noqa: N802 - the name QGIS calls (also qgis_process)
        """Register the SPEX provider; with packages missing, its algorithms say what is missing
        and how to install it headless (``spex:install_dependencies``) instead of being absent."""
        ready = self.check_dependencies()
        if self.provider is not None:
            self.provider.set_missing(self.missing)
            return
        from .processing.provider import SpexProvider

        self.provider = SpexProvider(self.missing)
        QgsApplication.processingRegistry().addProvider(self.provider)
        if not ready:
            QgsMessageLog.logMessage(
                dependencies.describe_missing(self.missing), LOG_TAG, Qgis.MessageLevel.Warning
            )

    # -- GUI ----------------------------------------------------------------------------------

    def initGui(self) -> None:  # noqa: N802 - the name QGIS calls
        """Add the actions (Plugins and Raster menus, own toolbar) and the provider."""
        main_window = self.iface.mainWindow()
        self.action = QAction(QIcon(str(ICON_PATH)), "SPEX: extract land cover…", main_window)
        self.action.setObjectName(ACTION_OBJECT_NAME)
        self.action.setToolTip("Extract land cover from a multispectral raster with an instruction")
        self.action.triggered.connect(self.run)
        self.install_action = QAction("SPEX: install Python dependencies…", main_window)
        self.install_action.setObjectName(INSTALL_OBJECT_NAME)
        self.install_action.triggered.connect(self.install_dependencies)
        for action in (self.action, self.install_action):
            self.iface.addPluginToMenu(MENU_NAME, action)
            self.iface.addPluginToRasterMenu(MENU_NAME, action)
        self.toolbar = self.iface.addToolBar(TOOLBAR_NAME)
        self.toolbar.setObjectName(TOOLBAR_OBJECT_NAME)
        self.toolbar.addAction(self.action)
        self.initProcessing()
        if self.missing:
            self.offer_install()

    def run(self) -> None:
        """Show the dock (created on first use), or offer the install when packages are missing."""
        if not self.check_dependencies():
            self.offer_install()
            return
        self.initProcessing()
        if self.dock is None:
            from .dock import SpexDock

            self.dock = SpexDock(self.iface, self.iface.mainWindow())
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.show()
        self.dock.raise_()

    def offer_install(self) -> None:
        """Say what is missing, with an Install button, in the message bar."""
        text = dependencies.describe_missing(self.missing)
        QgsMessageLog.logMessage(text, LOG_TAG, Qgis.MessageLevel.Warning)
        self.withdraw_install_offer()
        bar = self.iface.messageBar()
        item = bar.createMessage(PLUGIN_NAME, text)
        button = QPushButton("Install", item)
        button.clicked.connect(self.install_dependencies)
        item.layout().addWidget(button)
        bar.pushWidget(item, Qgis.MessageLevel.Warning, 0)
        self.install_offer = item

    def withdraw_install_offer(self) -> None:
        """Take the "missing packages ... Install" bar away (installed, or unloading)."""
        item, self.install_offer = self.install_offer, None
        if item is None or sip.isdeleted(item):
            return
        self.iface.messageBar().popWidget(item)

    def install_dependencies(self, _checked: bool = False, **options: object) -> None:
        """Install the missing packages in the background into the plugin-private folder."""
        from .install_task import InstallTask

        if self.install_task is not None:
            return
        self.check_dependencies()
        specs = [m.requirement.spec for m in self.missing]
        if not specs:
            self.iface.messageBar().pushMessage(
                PLUGIN_NAME, "every Python package SPEX needs is present", Qgis.MessageLevel.Info, 5
            )
            return
        self.install_task = InstallTask(specs, self._installed, **options)
        self.install_task.lineReceived.connect(
            lambda line: QgsMessageLog.logMessage(line, LOG_TAG, Qgis.MessageLevel.Info)
        )
        self.iface.messageBar().pushMessage(
            PLUGIN_NAME,
            f"installing {', '.join(specs)} (progress in the task bar, pip's output in the log)",
            Qgis.MessageLevel.Info,
            5,
        )
        QgsApplication.taskManager().addTask(self.install_task)

    def _installed(self, task) -> None:
        self.install_task = None
        result = task.result
        bar = self.iface.messageBar()
        if result is None or not result.ok:
            message = result.message if result else "installation cancelled"
            QgsMessageLog.logMessage(
                result.log if result else message, LOG_TAG, Qgis.MessageLevel.Critical
            )
            bar.pushMessage(
                PLUGIN_NAME,
                f"{message} (pip's output is in the log)",
                Qgis.MessageLevel.Critical,
                0,
            )
            return
        if self.check_dependencies():
            self.withdraw_install_offer()
            self.initProcessing()
            bar.pushMessage(
                PLUGIN_NAME, f"{result.message}; SPEX is ready", Qgis.MessageLevel.Success, 10
            )
        else:
            # a package QGIS had already imported in another version needs a fresh process
            text = dependencies.describe_missing(self.missing)
            bar.pushMessage(
                PLUGIN_NAME, f"installed, but {text}; restart QGIS", Qgis.MessageLevel.Warning, 0
            )

    def unload(self) -> None:
        """Remove the dock, the provider, the menu entries, the toolbar and the actions."""
        if self.install_task is not None:
            self.install_task.on_done = None
            self.install_task.cancel()
            self.install_task = None
        self.withdraw_install_offer()
        if self.dock is not None:
            self.dock.shutdown()
            self.iface.removeDockWidget(self.dock)
            self.dock.close()
            self.dock.deleteLater()
            self.dock = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        for action in (self.action, self.install_action):
            if action is None:
                continue
            self.iface.removePluginMenu(MENU_NAME, action)
            self.iface.removePluginRasterMenu(MENU_NAME, action)
            if self.toolbar is not None:
                self.toolbar.removeAction(action)
            action.triggered.disconnect()
            action.deleteLater()
        self.action = self.install_action = None
        if self.toolbar is not None:
            # the toolbar belongs to the main window: take it out, then let Qt delete it
            self.iface.mainWindow().removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
            self.toolbar = None
        forget_plugin_modules()


def forget_plugin_modules() -> list[str]:
    """Drop this plugin's modules from ``sys.modules``; return their names.

    ``qgis.utils`` forgets only the modules it saw imported by name: parent packages imported on
    the way (``spex.engine`` for ``spex.engine.backends``) and modules loaded through
    ``importlib`` would stay, and a reload would mix old and new code.
    """
    package = __name__.split(".")[0]
    folder = PLUGIN_DIR
    names = []
    for name, module in list(sys.modules.items()):
        if name != package and not name.startswith(package + "."):
            continue
        paths = [getattr(module, "__file__", None), *(getattr(module, "__path__", None) or [])]
        if any(p and Path(p).resolve().is_relative_to(folder) for p in paths):
            del sys.modules[name]
            names.append(name)
    return names
