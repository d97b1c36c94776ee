"""Tiny but real ONNX segmentation models for tests: torch modules exported with
torch.onnx.export, Deepness-style metadata written with the `onnx` package."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

BANDS = ["blue", "green", "red", "nir", "swir1"]
CLASSES = ("background", "water", "forest")
# A per-pixel "water / forest" rule on reflectance: logits = W @ bands + B.
WEIGHTS = np.array([[0, 0, 0, 0, 0], [0, 30, 0, -30, -10], [0, 0, -30, 30, 0]], np.float32)
BIAS = np.array([0.0, -0.5, -2.0], np.float32)
PROMPT = "extract the water and the forest"


def build_model(
    path: Path,
    kind: str = "pixel",
    tile: int = 64,
    overlap_pct: float = 25,
    classes: tuple[str, ...] = CLASSES,
    bands: list[str] | None = BANDS,
    softmax: bool = False,
    **extra: object,
) -> Path:
    """Export a tiny segmentation model with Deepness-style metadata and return its path.

    `kind` "pixel": 1x1 convolution (per-pixel); "conv": two 5x5 convolutions (a receptive
    field of 9 px, zero padding).
    """
    torch.manual_seed(0)
    if kind == "pixel":
        conv = torch.nn.Conv2d(5, len(classes), 1)
        with torch.no_grad():
            conv.weight[:] = torch.from_numpy(WEIGHTS[: len(classes)])[:, :, None, None]
            conv.bias[:] = torch.from_numpy(BIAS[: len(classes)])
        layers = [conv]
    else:
        layers = [
            torch.nn.Conv2d(5, 8, 5, padding=2),
            torch.nn.ReLU(),
            torch.nn.Conv2d(8, len(classes), 5, padding=2),
        ]
    if softmax:
        layers.append(torch.nn.Softmax(dim=1))
    model = torch.nn.Sequential(*layers).eval()
    axes = {0: "n", 2: "h", 3: "w"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter
        torch.onnx.export(
            model,
            torch.zeros(1, 5, tile, tile),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["input"],
            output_names=["scores"],
            dynamic_axes={"input": axes, "scores": axes},
        )
    proto = onnx.load(str(path))
    meta: dict[str, object] = {
        "model_type": "Segmentor",
        "class_names": {str(i): name for i, name in enumerate(classes)},
        "tile_size": tile,
        "tiles_overlap": overlap_pct,
        "resolution": 1000,
        **extra,
    }
    if bands is not None:
        meta["bands"] = bands
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    onnx.save(proto, str(path))
    return path
