"""Tiny Deepness-format ONNX models built node by node with the `onnx` package, one per layout
Deepness accepts (built here, not copied from Deepness): per-pixel linear scores (a 1x1
convolution), so the expected classes of every pixel follow from the bands alone and any
difference is the backend's, not the tiling's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

BANDS = ("blue", "green", "red", "nir", "swir1")
# rows: channels scoring "water" (green over nir) and "vegetation" (nir over red)
WATER = (0.0, 30.0, 0.0, -30.0, -10.0)
GREEN = (0.0, 0.0, -30.0, 30.0, 0.0)
ZERO = (0.0,) * 5


@dataclass
class Output:
    """One model output: rows of a 1x1 convolution, an activation, a centre crop, a batch."""

    weights: Sequence[Sequence[float]]
    bias: Sequence[float]
    activation: str | None = None  # "Sigmoid", "Softmax" or None (raw scores)
    crop: int = 0  # pixels cut on every side (an output smaller than its input)
    batch: int | str = "n"  # a fixed output batch when an int
    rank3: bool = False  # N x H x W (one channel)


@dataclass
class Layout:
    """A whole model: input bands, outputs, tile size, metadata (values written as given)."""

    outputs: list[Output]
    metadata: dict[str, object] = field(default_factory=dict)
    channels: int = 5
    tile: int | str = 64
    batch: int | str = "n"
    rank: int = 4


def build(path: Path, layout: Layout) -> Path:
    """Write the model and return its path."""
    c, t = layout.channels, layout.tile
    dims = [layout.batch, c, t, t] if layout.rank == 4 else [c, t, t]
    inp = helper.make_tensor_value_info("image", TensorProto.FLOAT, dims)
    nodes, inits, outs = [], [], []
    source = "image"
    if layout.rank == 3:  # a C x H x W input, made N x C x H x W inside the graph
        inits.append(numpy_helper.from_array(np.array([0], np.int64), "axis0"))
        nodes.append(helper.make_node("Unsqueeze", ["image", "axis0"], ["image4"]))
        source = "image4"
    for o, out in enumerate(layout.outputs):
        w = np.asarray(out.weights, np.float32)[:, :c, None, None]
        inits += [
            numpy_helper.from_array(w, f"w{o}"),
            numpy_helper.from_array(np.asarray(out.bias, np.float32), f"b{o}"),
        ]
        name = f"conv{o}"
        nodes.append(helper.make_node("Conv", [source, f"w{o}", f"b{o}"], [name]))
        if out.activation:
            kwargs = {"axis": 1} if out.activation == "Softmax" else {}
            nodes.append(helper.make_node(out.activation, [name], [f"act{o}"], **kwargs))
            name = f"act{o}"
        if out.crop:
            k = out.crop
            starts = numpy_helper.from_array(np.array([k, k], np.int64), f"s{o}")
            ends = numpy_helper.from_array(np.array([-k, -k], np.int64), f"e{o}")
            axes = numpy_helper.from_array(np.array([2, 3], np.int64), f"a{o}")
            inits += [starts, ends, axes]
            nodes.append(helper.make_node("Slice", [name, f"s{o}", f"e{o}", f"a{o}"], [f"crop{o}"]))
            name = f"crop{o}"
        if out.rank3:
            axes = numpy_helper.from_array(np.array([1], np.int64), f"q{o}")
            inits.append(axes)
            nodes.append(helper.make_node("Squeeze", [name, f"q{o}"], [f"sq{o}"]))
            name = f"sq{o}"
        nodes.append(helper.make_node("Identity", [name], [f"out{o}"]))
        side = t if isinstance(t, str) else t - 2 * out.crop
        shape = [out.batch, len(out.bias), side, side]
        outs.append(
            helper.make_tensor_value_info(
                f"out{o}", TensorProto.FLOAT, [shape[0], *shape[2:]] if out.rank3 else shape
            )
        )
    graph = helper.make_graph(nodes, "deepness_layout", [inp], outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in layout.metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    onnx.save(model, str(path))
    return path


def scores(bands: dict[str, np.ndarray], out: Output) -> np.ndarray:
    """The output's scores for every pixel, computed in numpy (K, H, W)."""
    stack = np.stack([np.nan_to_num(bands[r]) for r in BANDS])
    w = np.asarray(out.weights, np.float32)
    s = np.einsum("kc,chw->khw", w, stack) + np.asarray(out.bias, np.float32)[:, None, None]
    if out.activation == "Sigmoid":
        s = 1 / (1 + np.exp(-s))
    elif out.activation == "Softmax":
        e = np.exp(s - s.max(axis=0))
        s = e / e.sum(axis=0)
    return s


def deepness_classes(s: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """Deepness's rule (map_processor_segmentation._process_tile) on (K, H, W) scores."""
    s = np.where(s < threshold, 0.0, s)
    if s.shape[0] == 1:
        return (s[0] != 0).astype(np.intp)
    return s.argmax(axis=0)
