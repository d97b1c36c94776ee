"""An ONNX segmentation model carrying its metadata, run from the dock panel and from the
Processing algorithm in real QGIS (offscreen); the provider that ran is shown."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer

from spex.spex_qgis import settings
from spex.spex_qgis.dock import SpexDock
from tests.qgis_helpers import wait_for
from tests.rasters import crop_raster

pytest.importorskip("onnxruntime")
from tests.onnx_models import PROMPT, build_model  # noqa: E402


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model(tmp_path_factory.mktemp("onnx") / "water_forest.onnx", tile=128)


@pytest.fixture(scope="module")
def scene(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crop_raster(s2_scene, tmp_path_factory.mktemp("crop") / "crop.tif", (300, 0, 600, 400))


@contextmanager
def _onnx_dock(qgis_iface, scene: Path, model: Path, out: Path) -> Iterator[SpexDock]:
    """The dock on `scene`, with `model` as the onnx backend's model; closed afterwards."""
    layer = QgsRasterLayer(str(scene), "scene", "gdal")
    QgsProject.instance().addMapLayer(layer)
    dock = SpexDock(qgis_iface, qgis_iface.mainWindow())
    try:
        dock.layer_combo.setLayer(layer)
        dock.output_folder.setFilePath(str(out))
        dock.model_folder.setFilePath(str(model))
        assert dock.backend_reasons()["onnx"] is None
        dock.backend_combo.setCurrentIndex(dock.backend_combo.findData("onnx"))
        yield dock
    finally:
        dock.shutdown()
        dock.deleteLater()
        settings.set_model_folder("")  # the choice persists in QgsSettings: leave none behind


def _run(qgis_iface, dock: SpexDock) -> list:
    """Click Run, wait for the task, and return the layers it added (two are expected)."""
    before = set(QgsProject.instance().mapLayers())
    dock.run_button.click()
    wait_for(lambda: not dock.is_running(), timeout=120)
    added = [
        QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before
    ]
    assert len(added) == 2, qgis_iface.messageBar().get_messages(2)
    return added


def test_dock_runs_an_onnx_model_and_shows_the_provider(
    qgis_iface, qgis_new_project, scene: Path, model: Path, tmp_path: Path
) -> None:
    with _onnx_dock(qgis_iface, scene, model, tmp_path / "out") as dock:
        dock.prompt_edit.setPlainText(PROMPT)
        _run(qgis_iface, dock)
        manifest = dock.last_result.manifest
        assert manifest["backend"]["name"] == "onnx"
        assert "CPUExecutionProvider" in dock.device_label.text()
        assert "onnx" in dock.device_label.text()


def test_processing_runs_an_onnx_model(provider, scene: Path, model: Path, tmp_path: Path) -> None:
    out, regions = _extract_with_model(scene, model, "extract the forest", tmp_path / "forest")
    assert regions.isValid() and regions.featureCount() > 0
    assert {f["class"] for f in regions.getFeatures()} == {"forest"}
    assert "onnx" in out["DEVICE"] and "CPUExecutionProvider" in out["DEVICE"]
    assert "Model classes: background, water (water), forest (forest)" in out["EXPLANATION"]


@pytest.fixture(scope="module")
def coffee_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.deepness_models import GREEN, Layout, Output, build

    layout = Layout(
        [Output([GREEN], [-2.0], "Sigmoid"), Output([(30.0, 0, 0, 0, 0)], [-3.6], "Sigmoid")],
        {
            "model_type": "Segmentor",
            "bands": ["blue", "green", "red", "nir", "swir1"],
            "names": "[{0: 'Coffee'}, {0: 'Juice'}]",
            "seg_thresh": 0.5,
        },
    )
    return build(tmp_path_factory.mktemp("deepness") / "coffee.onnx", layout)


def test_dock_plan_preview_names_the_models_classes_and_runs_them(
    qgis_iface, qgis_new_project, scene: Path, coffee_model: Path, tmp_path: Path
) -> None:
    with _onnx_dock(qgis_iface, scene, coffee_model, tmp_path / "out") as dock:
        dock.prompt_edit.setPlainText("extract the tea")
        assert dock.update_plan() == ""
        shown = html.unescape(dock.plan_label.text())
        assert "Coffee, Juice" in shown and "'tea'" in shown
        dock.prompt_edit.setPlainText("extract the coffee and the juices")
        assert dock.update_plan().startswith("Targets: Coffee, Juice.")
        added = _run(qgis_iface, dock)
        regions = next(layer for layer in added if isinstance(layer, QgsVectorLayer))
        assert {f["class_name"] for f in regions.getFeatures()} == {"Coffee", "Juice"}


def test_processing_extracts_a_models_own_class(
    provider, scene: Path, coffee_model: Path, tmp_path: Path
) -> None:
    out, regions = _extract_with_model(scene, coffee_model, "the Coffee", tmp_path / "coffee")
    assert regions.isValid() and regions.featureCount() > 0
    assert {f["class_name"] for f in regions.getFeatures()} == {"Coffee"}
    assert "How the model's scores became classes" in out["EXPLANATION"]


def _extract_with_model(
    scene: Path, model: Path, prompt: str, stem: Path
) -> tuple[dict, QgsVectorLayer]:
    """spex:extract_land_cover (provider registered) with the onnx backend and `model`: its
    outputs and regions."""
    import processing

    out = processing.run(
        "spex:extract_land_cover",
        {
            "INPUT": str(scene),
            "PROMPT": prompt,
            "BACKEND": "onnx",
            "MODEL": str(model),
            "OUTPUT_MASK": str(stem.with_suffix(".tif")),
            "OUTPUT_FEATURES": str(stem.with_suffix(".gpkg")),
        },
    )
    return out, QgsVectorLayer(out["OUTPUT_FEATURES"], "regions", "ogr")
