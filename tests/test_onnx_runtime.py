"""onnxruntime details: providers, version errors, the header reader, `spex models inspect`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spex.engine.backends.onnx.metadata import parse_segmentation_metadata, read_header
from spex.engine.backends.onnx.runtime import (
    EXPORT_IR_VERSION,
    EXPORT_OPSET,
    choose_providers,
    open_session,
)
from spex.engine.backends.onnx.segmentation import WindowGrid, inner_region
from spex.engine.cli import main
from spex.engine.errors import BackendError, BandError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("torch")

from tests.test_onnx_segmentation import build_model  # noqa: E402


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model(tmp_path_factory.mktemp("rt") / "pixel.onnx")


def test_header_reader_matches_the_onnx_package(model: Path) -> None:
    header = read_header(model)
    proto = onnx.load(str(model))
    assert header.ir_version == proto.ir_version == EXPORT_IR_VERSION
    assert header.opset == EXPORT_OPSET
    assert header.producer == proto.producer_name == "pytorch"
    assert header.metadata == {p.key: p.value for p in proto.metadata_props}
    assert header.metadata["tiles_overlap"] == "25"


def test_too_new_ir_version_names_both_versions(model: Path, tmp_path: Path) -> None:
    proto = onnx.load(str(model))
    proto.ir_version = 99
    path = tmp_path / "new_ir.onnx"
    onnx.save(proto, str(path))
    with pytest.raises(BackendError) as caught:
        open_session(path)
    message = str(caught.value)
    assert "IR version 99" in message
    assert f"onnxruntime {ort.__version__} reads IR version" in message
    assert "\n" not in message
    proto.ir_version = EXPORT_IR_VERSION
    proto.opset_import[0].version = 99
    onnx.save(proto, str(path))
    with pytest.raises(BackendError, match=f"opset 99 but onnxruntime {ort.__version__}"):
        open_session(path)


def test_provider_choice() -> None:
    cpu = ["CPUExecutionProvider"]
    gpu = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(None, cpu) == cpu
    assert choose_providers(None, gpu) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers("auto", gpu)[0] == "CUDAExecutionProvider"
    assert choose_providers("TensorRT", gpu) == gpu
    assert choose_providers("cpu", gpu) == cpu
    with pytest.raises(BackendError, match="'cuda' is not available.*CPUExecutionProvider"):
        choose_providers("cuda", cpu)


def test_session_reports_what_ran(model: Path) -> None:
    runtime = open_session(model)
    assert runtime.provider in ort.get_available_providers()
    assert runtime.provider == runtime.session.get_providers()[0]
    assert runtime.describe().startswith(f"onnxruntime {ort.__version__} on {runtime.provider}")
    if "CUDAExecutionProvider" in ort.get_available_providers():  # only on a GPU machine
        assert runtime.provider == "CUDAExecutionProvider"


def test_metadata_validation_messages() -> None:
    shape = ["n", 4, "h", "w"]
    meta = {
        "class_names": '{"1": "water", "2": "building"}',
        "bands": "blue,green,red,nir",
        "tiles_overlap": "10",
        "tile_size": "200",
        "standardization_mean": "[0.1]",
        "standardization_std": "[0.2]",
        "scale": "255",
    }
    parsed = parse_segmentation_metadata(meta, "m.onnx", shape, 3)
    assert parsed.class_names == ("background", "water", "building")
    assert parsed.overlap == 20 and parsed.tile_size == 200
    assert parsed.mean == (0.1,) * 4 and parsed.scale == 255
    rgb = parse_segmentation_metadata({"class_names": '["a", "b"]'}, "m", [1, 3, 256, 256], 2)
    assert rgb.bands == ("red", "green", "blue") and rgb.tile_size == 256
    with pytest.raises(BackendError, match="'Detector' model"):
        parse_segmentation_metadata({**meta, "model_type": '"Detector"'}, "m", shape, 3)
    bands = {"bands": meta["bands"]}
    unnamed = parse_segmentation_metadata(bands, "m", shape, 3)  # Deepness's default names
    assert unnamed.class_names == ("channel 0", "channel 1", "channel 2")
    with pytest.raises(BackendError, match="no 'class_names' metadata and a dynamic channel"):
        parse_segmentation_metadata(bands, "m", shape, None)
    with pytest.raises(BandError, match="unknown role 'ir'"):
        parse_segmentation_metadata({**meta, "bands": "blue,green,red,ir"}, "m", shape, 3)
    with pytest.raises(BackendError, match="'tiles_overlap' is 120%"):
        parse_segmentation_metadata({**meta, "tiles_overlap": "120"}, "m", shape, 3)
    with pytest.raises(BackendError, match="differs from its fixed input size 256"):
        parse_segmentation_metadata({**meta, "tile_size": "512"}, "m", [1, 4, 256, 256], 3)


def test_window_grid_spans_and_exact_weights() -> None:
    grid = WindowGrid(width=1000, height=300, tile=128, overlap=32)
    assert grid.stride == 96 and grid.count(1000) == 11 and grid.count(300) == 3
    assert list(grid.span(0, 96, 1000)) == [0]
    assert list(grid.span(96, 192, 1000)) == [0, 1]
    assert list(grid.span(880, 1000, 1000)) == [8, 9, 10]  # 768 + 128 > 880
    weights = grid.weights()
    assert weights.max() < 2**26 and (weights >= 1).all() and (weights == weights.T).all()
    assert weights[0, 64] < weights[64, 64] / 1000  # a window's edge hardly counts
    value = np.float32(0.1234567)  # the same value from overlapping windows blends exactly
    w = weights[[0, 5, 40, 100], 64]
    assert np.float32((w * np.float64(value)).sum() / w.sum()) == value
    read = __import__("rasterio").windows.Window(200, 0, 400, 300)
    assert inner_region(read, 128, 1000, 300) == (0, 300, 328, 472)


def test_models_inspect_prints_metadata_inputs_and_outputs(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["models", "inspect", str(model)]) == 0
    out = capsys.readouterr().out
    assert f"ONNX IR version: {EXPORT_IR_VERSION}" in out
    assert "input: tensor(float) n x 5 x h x w" in out
    assert "scores: tensor(float) n x 3 x h x w" in out
    assert "forest -> forest" in out and "water -> water" in out
    assert "tile_size: 64" in out and "overlap_px: 16" in out
    proto = onnx.load(str(model))
    proto.ir_version = 99
    onnx.save(proto, str(tmp_path / "new.onnx"))
    assert main(["models", "inspect", str(tmp_path / "new.onnx")]) == 0
    out = capsys.readouterr().out
    assert "ONNX IR version: 99" in out and "cannot run here" in out
