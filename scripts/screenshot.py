"""Runs inside the QGIS desktop (``qgis --code``) for ``make screenshot``; see screenshot.sh.

Loads the scene, opens the SPEX dock, shows the scene in true colour with the dock's button, types the instruction, presses
Run, waits for the task, zooms to the scene and saves the main window as a PNG. The first line
of $SPEX_SHOT_STATUS says ``ok`` or what went wrong.
"""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

import qgis.utils
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtGui import QImage
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QDockWidget

PROMPT = "extract the water bodies and vegetation larger than 1 ha"
SHOT = Path(os.environ["SPEX_SHOT"])
STATUS = Path(os.environ["SPEX_SHOT_STATUS"])
#: docs/screenshot.png must stay small for the README.
MAX_BYTES = 480_000
state: dict[str, object] = {"start": time.monotonic()}


def finish(status: str) -> None:
    STATUS.write_text(status + "\n", encoding="utf-8")
    QTimer.singleShot(200, QgsApplication.instance().quit)


def guarded(step):
    def run() -> None:
        try:
            step()
        except Exception:  # noqa: BLE001 - reported through the status file
            finish("error\n" + traceback.format_exc())

    return run


@guarded
def start() -> None:
    iface = qgis.utils.iface
    window = iface.mainWindow()
    window.resize(1600, 1000)
    window.showMaximized()
    layer = QgsRasterLayer(os.environ["SPEX_SCENE"], "Sentinel-2 L1C 2017-02-16", "gdal")
    if not layer.isValid():
        raise RuntimeError("the scene did not load")
    QgsProject.instance().addMapLayer(layer)
    plugin = qgis.utils.plugins.get("spex")
    if plugin is None:
        raise RuntimeError(f"plugin 'spex' not loaded; loaded: {sorted(qgis.utils.plugins)}")
    plugin.run()
    dock = plugin.dock
    for panel in window.findChildren(QDockWidget):
        if panel.objectName() == "Browser":
            panel.hide()  # room for the map and the SPEX panel
    window.resizeDocks([dock], [560], Qt.Orientation.Horizontal)
    dock.layer_combo.setLayer(layer)
    # the scene in true colour from its band roles, as a user would click it
    QTest.mouseClick(dock.input_picker.buttons["true colour"], Qt.MouseButton.LeftButton)
    dock.output_folder.setFilePath(os.environ["SPEX_SHOT_OUT"])
    dock.prompt_edit.setFocus()
    QTest.keyClicks(dock.prompt_edit, PROMPT)  # typed, as a user would
    dock.update_plan()
    QTest.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
    state["dock"] = dock
    QTimer.singleShot(500, wait_for_task)


@guarded
def wait_for_task() -> None:
    dock = state["dock"]
    if time.monotonic() - state["start"] > 180:
        raise RuntimeError("the task did not finish within 180 s")
    if dock.is_running():
        QTimer.singleShot(300, wait_for_task)
        return
    if dock.last_result is None:
        raise RuntimeError(f"the run failed: {dock.stage_label.text()}")
    canvas = qgis.utils.iface.mapCanvas()
    scene = QgsProject.instance().mapLayersByName("Sentinel-2 L1C 2017-02-16")[0]
    extent = scene.extent()
    extent.scale(0.6)  # the middle of the scene: lakes, fields, labels sized by area
    canvas.setExtent(extent)
    canvas.refresh()
    # the run's group open on its legend (class colours), the scene's band legend closed
    view = qgis.utils.iface.layerTreeView()
    view.expandAll()
    view.collapse(view.node2index(QgsProject.instance().layerTreeRoot().findLayer(scene.id())))
    QTimer.singleShot(4000, save)


@guarded
def save() -> None:
    window = qgis.utils.iface.mainWindow()
    image = window.grab().toImage()
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(SHOT), "PNG")
    if SHOT.stat().st_size > MAX_BYTES:
        # a palette keeps UI text sharp and the file small enough for the README
        image.convertToFormat(
            QImage.Format.Format_Indexed8, Qt.ImageConversionFlag.DiffuseDither
        ).save(str(SHOT), "PNG")
    dock = state["dock"]
    finish(
        f"ok {image.width()}x{image.height()}\n"
        f"plan: {dock.plan_label.text()}\n{dock.device_label.text()}\n"
        f"layers: {', '.join(layer.name() for layer in QgsProject.instance().mapLayers().values())}"
    )


QTimer.singleShot(3000, start)
