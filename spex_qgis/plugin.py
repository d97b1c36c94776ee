"""The QGIS plugin shell: one action in the Plugins menu and on a toolbar.

The dock panel arrives in the next release; until then the action tells the user how to run the
same engine from the command line. Qt is imported only through ``qgis.PyQt``.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

PLUGIN_NAME = "SPEX for QGIS"
MENU_NAME = "&SPEX for QGIS"
TOOLBAR_NAME = "SPEX for QGIS"
ACTION_OBJECT_NAME = "spexExtractAction"
TOOLBAR_OBJECT_NAME = "spexToolbar"
ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "icons" / "spex.svg"
RUN_MESSAGE = (
    "The SPEX dock panel arrives in the next release. Meanwhile run the engine from a terminal: "
    'spex extract INPUT.tif --prompt "extract the water bodies larger than 2 ha" --out DIR '
    "(installed in the project's .venv by `make setup`; `spex extract --help` lists the options)."
)


class SpexPlugin:
    """The object QGIS creates through ``classFactory``; owns every widget it adds."""

    def __init__(self, iface) -> None:
        """Keep the QGIS interface; nothing is added to the GUI before ``initGui``."""
        self.iface = iface
        self.action: QAction | None = None
        self.toolbar = None

    def initGui(self) -> None:  # noqa: N802 - the name QGIS calls
        """Add the action to the Plugins menu and to the plugin's own toolbar."""
        main_window = self.iface.mainWindow()
        self.action = QAction(QIcon(str(ICON_PATH)), "SPEX: extract land cover…", main_window)
        self.action.setObjectName(ACTION_OBJECT_NAME)
        self.action.setToolTip("Extract land cover from a multispectral raster with an instruction")
        self.action.triggered.connect(self.run)
        self.iface.addPluginToMenu(MENU_NAME, self.action)
        self.toolbar = self.iface.addToolBar(TOOLBAR_NAME)
        self.toolbar.setObjectName(TOOLBAR_OBJECT_NAME)
        self.toolbar.addAction(self.action)

    def run(self) -> None:
        """Tell the user, in the message bar, how to use SPEX until the dock panel exists."""
        self.iface.messageBar().pushMessage(PLUGIN_NAME, RUN_MESSAGE, level=Qgis.Info, duration=0)

    def unload(self) -> None:
        """Remove the menu entry, the toolbar and the action; QGIS calls this on unload."""
        if self.action is not None:
            self.iface.removePluginMenu(MENU_NAME, self.action)
            if self.toolbar is not None:
                self.toolbar.removeAction(self.action)
            self.action.triggered.disconnect(self.run)
            self.action.deleteLater()
            self.action = None
        if self.toolbar is not None:
            # the toolbar belongs to the main window: take it out, then let Qt delete it
            self.iface.mainWindow().removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
            self.toolbar = None
