"""The dock panel: raster, instruction, band roles, backend, extent, Run/Cancel, explanation."""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsProject
from qgis.gui import QgsCollapsibleGroupBox, QgsDockWidget, QgsFileWidget
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from . import settings
from .cloud_mask_check import CloudBufferSpin, CloudMaskCheck
from .example_layer import ExamplesPicker
from .explanation_html import markdown_to_html, results_first
from .input_picker import InputPicker
from .plan_preview import preview
from .results import add_result_layers
from .task import ExtractionTask
from .widgets import BandRoleTable, ExtentPicker, backend_problem, layer_file, narrow

LOG_TAG = "SPEX"
#: The panel's width when docked first; everything in it fits without a horizontal scroll bar.
MINIMUM_WIDTH = 340


#: Picking one of these files in the model picker selects its folder.
MODEL_MARKER_FILES = ("config.json", "spex_onnx.json")
MODEL_FILTER = "Models (*.onnx config.json spex_onnx.json);;ONNX models (*.onnx);;All files (*)"


class SpexDock(QgsDockWidget):
    """The SPEX panel. `run()` starts a task; layers are added when it finishes."""

    def __init__(self, iface, parent: QWidget | None = None) -> None:
        """Build the panel; nothing runs until Run is pressed."""
        super().__init__("SPEX: land cover from an instruction", parent)
        self.setObjectName("spexDock")
        self.iface = iface
        self.task: ExtractionTask | None = None
        self.last_result = None
        self.last_added = None
        body = QWidget(self)
        layout = QVBoxLayout(body)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # labels above: a narrow dock
        layout.addLayout(form)

        self.band_table = BandRoleTable(body)
        self.input_picker = InputPicker(self.band_table.roles, self._fail, body)
        self.layer_combo = self.input_picker.combo
        form.addRow("Raster", self.input_picker)

        self.prompt_edit = QPlainTextEdit(body)
        self.prompt_edit.setObjectName("spexPrompt")
        self.prompt_edit.setPlaceholderText("e.g. extract the water bodies larger than 2 ha")
        self.prompt_edit.setMaximumHeight(70)
        form.addRow("Instruction", self.prompt_edit)
        self.examples = QComboBox(body)
        self.examples.setObjectName("spexExamples")
        narrow(self.examples)
        form.addRow("", self.examples)
        self.plan_label = QLabel(body)
        self.plan_label.setObjectName("spexPlan")
        self.plan_label.setWordWrap(True)
        form.addRow("Plan", self.plan_label)

        self.band_table.table.setMaximumHeight(150)
        form.addRow("Band roles", self.band_table)

        self.backend_combo = QComboBox(body)
        self.backend_combo.setObjectName("spexBackend")
        narrow(self.backend_combo)
        self.backend_reason = QLabel(body)
        self.backend_reason.setWordWrap(True)
        self.model_folder = QgsFileWidget(body)
        # One picker for every kind of model: a file is chosen, and a folder's marker file
        # (SPEX config.json, exported spex_onnx.json) stands for its folder.
        self.model_folder.setStorageMode(QgsFileWidget.StorageMode.GetFile)
        self.model_folder.setFilter(MODEL_FILTER)
        self.model_folder.setToolTip(
            "SPEX weights: the folder's config.json; exported SPEX: its spex_onnx.json; "
            "a segmentation model: its .onnx file (a folder path may also be typed)"
        )
        self.model_folder.setFilePath(settings.model_folder())
        form.addRow("Backend", self.backend_combo)
        form.addRow("", self.backend_reason)
        form.addRow("Model", self.model_folder)

        self.extent_picker = ExtentPicker(body)
        form.addRow("Extent", self.extent_picker)
        self.mask_clouds_check = CloudMaskCheck(body)
        form.addRow("", self.mask_clouds_check)
        self.cloud_buffer_spin = CloudBufferSpin(self.mask_clouds_check, body)
        form.addRow("Cloud buffer", self.cloud_buffer_spin)

        advanced = QgsCollapsibleGroupBox("Advanced", body)
        advanced.setCollapsed(True)
        adv = QFormLayout(advanced)
        self.tile_spin = QSpinBox(advanced)
        self.tile_spin.setRange(64, 4096)
        self.tile_spin.setSingleStep(64)
        self.tile_spin.setValue(512)
        self.overlap_spin = QSpinBox(advanced)
        self.overlap_spin.setRange(0, 512)
        self.min_area_spin = QDoubleSpinBox(advanced)
        self.min_area_spin.setRange(0.0, 1e7)
        self.min_area_spin.setDecimals(2)
        self.min_area_spin.setSuffix(" ha")
        self.min_area_spin.setSpecialValueText("from the instruction")
        # Empty: the engine takes the scaling from the file, its preset or its values, and the
        # explanation says which; these are the command line's --scale/--offset.
        self.scale_edit, self.offset_edit = QLineEdit(advanced), QLineEdit(advanced)
        for edit, example in ((self.scale_edit, "0.0001"), (self.offset_edit, "-0.1")):
            edit.setPlaceholderText(f"automatic (e.g. {example})")
            edit.setToolTip("reflectance = value x scale + offset; empty: automatic")
        self.thresholds_edit = QLineEdit(advanced)
        self.thresholds_edit.setPlaceholderText("the scene's own (e.g. NDVI=0.65)")
        from spex.engine.backends.spectral.set_thresholds import SETTABLE_HELP

        self.thresholds_edit.setToolTip(
            "Index thresholds in place of the scene's own choice (spectral backend): "
            f"{SETTABLE_HELP}; the explanation shows both"
        )
        self.examples_picker = ExamplesPicker(advanced, iface.mapCanvas())
        self.examples_picker.setToolTip(
            "Points or polygons you labelled, and the field naming each one's class (a target, "
            "or 'other'): they correct the scene's own seeds (spectral backend)"
        )
        self.output_folder = QgsFileWidget(advanced)
        self.output_folder.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.output_folder.lineEdit().setPlaceholderText("project folder, else temporary")
        adv.addRow("Tile size (px)", self.tile_spin)
        adv.addRow("Overlap (px)", self.overlap_spin)
        adv.addRow("Minimum area", self.min_area_spin)
        adv.addRow("Reflectance scale", self.scale_edit)
        adv.addRow("Reflectance offset", self.offset_edit)
        adv.addRow("Index thresholds", self.thresholds_edit)
        adv.addRow("Examples", self.examples_picker)
        adv.addRow("Output folder", self.output_folder)
        layout.addWidget(advanced)
        layout.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setObjectName("spexScroll")
        scroll.setWidgetResizable(True)
        # the panel fits its width: long texts wrap or elide, never a horizontal scroll bar
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.scroll = scroll
        self.explanation_view = QTextBrowser(self)
        self.explanation_view.setObjectName("spexExplanation")
        self.explanation_view.setOpenExternalLinks(True)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(scroll, "Instruction")
        self.tabs.addTab(self.explanation_view, "Explanation")

        outer = QWidget(self)
        main = QVBoxLayout(outer)
        main.setContentsMargins(4, 4, 4, 4)
        main.addWidget(self.tabs, 1)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run", outer)
        self.run_button.setObjectName("spexRun")
        self.cancel_button = QPushButton("Cancel", outer)
        self.cancel_button.setObjectName("spexCancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(outer)
        self.progress.setRange(0, 100)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        main.addLayout(buttons)
        self.stage_label = QLabel(outer)
        self.stage_label.setWordWrap(True)
        self.device_label = QLabel(outer)
        self.device_label.setObjectName("spexDevice")
        main.addWidget(self.stage_label)
        main.addWidget(self.device_label)
        self.setWidget(outer)
        self.setMinimumWidth(MINIMUM_WIDTH)

        self._plan_timer = QTimer(self)
        self._plan_timer.setSingleShot(True)
        self._plan_timer.setInterval(250)
        self._plan_timer.timeout.connect(self.update_plan)
        self.prompt_edit.textChanged.connect(self._plan_timer.start)
        self.examples.activated.connect(self._use_example)
        self.layer_combo.layerChanged.connect(self.band_table.detect)
        self.layer_combo.layerChanged.connect(self.mask_clouds_check.follow)
        self.layer_combo.layerChanged.connect(self._plan_timer.start)
        self.band_table.rolesChanged.connect(self._plan_timer.start)
        self.model_folder.fileChanged.connect(self._model_folder_changed)
        self.backend_combo.currentIndexChanged.connect(self._show_backend_reason)
        self.backend_combo.currentIndexChanged.connect(self._plan_timer.start)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        # Clicks on the map never add examples while the panel that shows them is closed.
        self.visibilityChanged.connect(
            lambda visible: None if visible else self.examples_picker.stop_drawing()
        )
        self.fill_examples()
        self.refresh_backends()
        self.band_table.detect(self.layer_combo.currentLayer())
        self.mask_clouds_check.follow(self.layer_combo.currentLayer())
        self.update_plan()

    # -- inputs -------------------------------------------------------------------------------

    def fill_examples(self) -> None:
        """The example list: recent prompts first, then the built-in examples."""
        self.examples.clear()
        self.examples.addItem("Examples and recent instructions…")
        for prompt in settings.recent_prompts():
            self.examples.addItem(f"recent: {prompt}", prompt)
        for prompt in settings.EXAMPLE_PROMPTS:
            self.examples.addItem(prompt, prompt)

    def _use_example(self, index: int) -> None:
        prompt = self.examples.itemData(index)
        if prompt:
            self.prompt_edit.setPlainText(prompt)
        self.examples.setCurrentIndex(0)

    def refresh_backends(self) -> None:
        """List the backends; one that cannot run is disabled and says why."""
        from spex.engine.backends import BACKEND_NAMES

        wanted = self.backend_combo.currentData() or settings.backend()
        self.backend_combo.blockSignals(True)
        self.backend_combo.clear()
        for name in BACKEND_NAMES:
            problem = backend_problem(name, self.model_path())
            label = name if problem is None else f"{name} (unavailable)"
            self.backend_combo.addItem(label, name)
            item = self.backend_combo.model().item(self.backend_combo.count() - 1)
            item.setToolTip(problem or "ready")
            item.setData(problem, Qt.ItemDataRole.UserRole + 1)
            if problem is not None:
                item.setEnabled(False)
        index = self.backend_combo.findData(wanted)
        if index < 0 or not self.backend_combo.model().item(index).isEnabled():
            index = self.backend_combo.findData("spectral")
        self.backend_combo.setCurrentIndex(index)
        self.backend_combo.blockSignals(False)
        self._show_backend_reason()

    def model_path(self) -> str:
        """The chosen model: an .onnx file, or the folder whose marker file was picked."""
        path = self.model_folder.filePath()
        if path and Path(path).name in MODEL_MARKER_FILES:
            return str(Path(path).parent)
        return path

    def backend_reasons(self) -> dict[str, str | None]:
        """Backend name -> why it cannot run (None when it can), as listed."""
        model = self.backend_combo.model()
        return {
            self.backend_combo.itemData(i): model.item(i).data(Qt.ItemDataRole.UserRole + 1)
            for i in range(self.backend_combo.count())
        }

    def _show_backend_reason(self) -> None:
        reasons = [f"{name}: {why}" for name, why in self.backend_reasons().items() if why]
        self.backend_reason.setText("<br>".join(reasons))

    def _model_folder_changed(self, path: str) -> None:
        settings.set_model_folder(path)
        self.refresh_backends()
        self._plan_timer.start()

    def update_plan(self) -> str:
        """Show what the instruction will extract, with which backend and bands, or why it is
        refused; return the plan's description ('' when refused)."""
        backend = self.backend_combo.currentData() or "spectral"
        roles = self.band_table.roles()
        shown = preview(
            self.prompt_edit.toPlainText(),
            backend,
            roles if any(roles) else None,
            backend_problem(backend, self.model_path()),
            self._model_targets(),
        )
        self.plan_label.setText(shown.html)
        return shown.plan

    def _model_targets(self) -> tuple[str, ...] | None:
        """The chosen .onnx model's classes as targets, so the plan names them; else None."""
        from spex.engine.errors import SpexError

        path = self.model_path()
        if self.backend_combo.currentData() != "onnx" or not path.lower().endswith(".onnx"):
            return None
        from spex.engine.backends.onnx.classes import model_file_targets

        try:
            return model_file_targets(path)
        except SpexError:
            return None  # the backend list already says why the model cannot run

    def output_dir(self, prompt: str) -> Path:
        """A new folder for this run: output folder, else project folder, else temporary."""
        base = self.output_folder.filePath() or QgsProject.instance().homePath()
        root = Path(base) / "spex-runs" if base else Path(tempfile.gettempdir()) / "spex-runs"
        slug = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:40] or "run"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        candidate, n = root / f"{stamp}-{slug}", 1
        while candidate.exists():
            n += 1
            candidate = root / f"{stamp}-{slug}-{n}"
        return candidate

    def build_request(self) -> object:
        """The `ExtractionRequest` for the current inputs; ValueError names what is wrong."""
        from spex.engine import ExtractionRequest

        layer = self.layer_combo.currentLayer()
        if layer is None or not layer.isValid():
            raise ValueError("choose a raster layer")
        if layer.providerType() != "gdal":
            raise ValueError(f"'{layer.name()}' is not a file raster; save it as a GeoTIFF first")
        prompt = " ".join(self.prompt_edit.toPlainText().split())
        if not prompt:
            raise ValueError("write an instruction, e.g. 'extract the water bodies'")
        backend = self.backend_combo.currentData() or "spectral"
        problem = backend_problem(backend, self.model_path())
        if problem:
            raise ValueError(f"backend '{backend}' cannot run: {problem}")
        extent = self.extent_picker.extent(layer, self.iface.mapCanvas(), QgsProject.instance())
        model = self.model_path()
        min_area_ha = self.min_area_spin.value()
        thresholds = _thresholds(self.thresholds_edit.text())
        examples = self.examples_picker.examples()
        for given, what in ((thresholds, "index thresholds set"), (examples, "examples correct")):
            if given and backend != "spectral":
                raise ValueError(f"{what} the spectral backend's seeds; clear them or choose it")
        return ExtractionRequest(
            input_path=Path(layer_file(layer)),
            prompt=prompt,
            out_dir=self.output_dir(prompt),
            bands=self.band_table.override(),
            sensor=self.band_table.sensor if self.band_table.override() else None,
            backend=backend,
            tile_size=self.tile_spin.value(),
            overlap=self.overlap_spin.value(),
            extent=extent,
            min_area_m2=min_area_ha * 10_000 if min_area_ha > 0 else None,
            scale=_optional_number(self.scale_edit.text(), "reflectance scale"),
            offset=_optional_number(self.offset_edit.text(), "reflectance offset"),
            backend_options={"model": Path(model)} if model and backend != "spectral" else {},
            index_thresholds=thresholds,
            examples=examples,
            mask_clouds=self.mask_clouds_check.isChecked(),
            cloud_buffer_m=self.cloud_buffer_spin.metres(),
        )

    # -- running ------------------------------------------------------------------------------

    def run(self) -> None:
        """Start the extraction in the background (the plan is shown first)."""
        if self.task is not None:
            return
        plan = self.update_plan()
        try:
            request = self.build_request()
        except ValueError as error:
            self._fail(str(error))
            return
        settings.remember_prompt(request.prompt)
        settings.set_last_input(str(request.input_path))
        settings.set_backend(request.backend)
        self.fill_examples()
        self.explanation_view.setHtml(
            f"<h3>Plan</h3><p>{plan}</p><p>Running on <code>{request.input_path.name}</code>…</p>"
        )
        self.tabs.setCurrentIndex(1)
        self.device_label.clear()
        self.progress.setValue(0)
        self.task = ExtractionTask(request, self._on_done)
        self.task.progressChanged.connect(self._on_progress)
        self.task.stageChanged.connect(self.stage_label.setText)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        QgsApplication.taskManager().addTask(self.task)

    def _on_progress(self, value: float) -> None:
        self.progress.setValue(int(value))

    def cancel(self) -> None:
        """Ask the running task to stop; the engine checks between tiles."""
        if self.task is not None:
            self.stage_label.setText("cancelling…")
            self.task.cancel()

    def is_running(self) -> bool:
        """Whether a task is in flight."""
        return self.task is not None

    def _on_done(self, task: ExtractionTask) -> None:
        self.task = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if task.result is not None:
            self._show_result(task.result)
        elif task.cancelled:
            self.progress.setValue(0)
            self.stage_label.setText("cancelled: nothing was written")
            self.explanation_view.setHtml("<p>The run was cancelled; nothing was written.</p>")
            self.tabs.setCurrentIndex(0)
            self.iface.messageBar().pushMessage(
                LOG_TAG, "The run was cancelled.", Qgis.MessageLevel.Info, 5
            )
        else:
            self._fail(task.error or "the run failed", task.details)

    def _show_result(self, result: object) -> None:
        try:
            self.last_added = add_result_layers(result)
        except RuntimeError as error:
            self._fail(str(error))
            return
        self.last_result = result
        backend = result.manifest.get("backend", {})
        device = f"Ran with backend {backend.get('name', '?')} on {backend.get('device', '?')}"
        self.device_label.setText(device)
        self.stage_label.setText(f"done: outputs in {result.out_dir}")
        markdown = Path(result.explanation_path).read_text(encoding="utf-8")
        self.explanation_view.setHtml(markdown_to_html(results_first(markdown)))
        QgsMessageLog.logMessage(
            f"{device}; outputs in {result.out_dir}", LOG_TAG, Qgis.MessageLevel.Info
        )
        self.iface.messageBar().pushMessage(
            LOG_TAG, " ".join(result.summary.splitlines()), Qgis.MessageLevel.Success, 8
        )

    def _fail(self, message: str, details: str | None = None) -> None:
        self.stage_label.setText("failed")
        self.iface.messageBar().pushMessage(LOG_TAG, message, Qgis.MessageLevel.Critical, 0)
        QgsMessageLog.logMessage(details or message, LOG_TAG, Qgis.MessageLevel.Critical)

    def shutdown(self) -> None:
        """Cancel a running task and detach from it (the plugin is unloading)."""
        self._plan_timer.stop()
        self.input_picker.shutdown()
        self.examples_picker.stop_drawing()
        if self.task is not None:
            self.task.on_done = None
            self.task.cancel()
            self.task = None


def _thresholds(text: str) -> dict[str, float]:
    """The index thresholds field's values ({} when empty); ValueError says what is wrong."""
    from spex.engine.backends.spectral.set_thresholds import parse_thresholds
    from spex.engine.errors import SpexError

    try:
        return parse_thresholds(text)
    except SpexError as error:
        raise ValueError(str(error)) from None


def _optional_number(text: str, what: str) -> float | None:
    """None for an empty field, else its number; ValueError names the field."""
    text = text.strip().replace(",", ".")  # a decimal comma, as some locales type it
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(
            f"the {what} '{text}' is not a number; leave it empty for automatic"
        ) from None
