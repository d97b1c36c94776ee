"""Every model layout Deepness accepts, built here with the `onnx` package, run through
`spex extract --backend onnx` on a crop of the real Sentinel-2 scene with real onnxruntime
sessions; the classes follow Deepness's rule, computed in numpy from the same bands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.cli import main
from spex.engine.errors import BackendError, BandError, PromptError
from spex.engine.raster.raster_source import open_source
from tests.rasters import crop_raster

pytest.importorskip("onnxruntime")
from tests.deepness_models import (  # noqa: E402
    BANDS,
    GREEN,
    WATER,
    ZERO,
    Layout,
    Output,
    build,
    deepness_classes,
    scores,
)

THREE = [ZERO, WATER, GREEN]
NAMES = {"0": "background", "1": "water", "2": "forest"}
META = {"model_type": "Segmentor", "bands": list(BANDS), "tiles_overlap": 25}


@pytest.fixture(scope="module")
def scene(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crop_raster(s2_scene, tmp_path_factory.mktemp("crop") / "crop.tif", (480, 300, 320, 200))


@pytest.fixture(scope="module")
def bands(scene: Path) -> dict[str, np.ndarray]:
    with open_source(scene) as source:
        return source.read(Window(0, 0, source.width, source.height), BANDS)


def run(scene: Path, model: Path, out: Path, prompt: str, tile: int = 128) -> object:
    request = ExtractionRequest(
        scene, prompt, out, tile_size=tile, backend="onnx", backend_options={"model": model}
    )
    return extract(request)


def mask_of(result: object) -> np.ndarray:
    with rasterio.open(result.mask_path) as mask:
        return mask.read(1)


# name -> (layout, prompt, expected plan class of every pixel from the bands)
def _three(b, out, thr=0.0):
    return np.array([0, 1, 2], np.uint8)[deepness_classes(scores(b, out), thr)]


def _two_outputs(b, outs):
    coffee = deepness_classes(scores(b, outs[0]), 0.5) == 1
    juice = deepness_classes(scores(b, outs[1]), 0.5) == 1
    return np.where(coffee, 1, np.where(juice, 2, 0)).astype(np.uint8)


SOFT = Output(THREE, [0, -0.5, -2], "Softmax")
RAW = Output(THREE, [0, -0.5, -2])
SIG3 = Output(THREE, [0, -0.5, -2], "Sigmoid")
COFFEE = Output([GREEN], [-2.0], "Sigmoid")
JUICE = Output([(30.0, 0, 0, 0, 0)], [-3.6], "Sigmoid")  # bright blue
LAYOUTS = {
    "class_names json dict": (
        Layout([SOFT], {**META, "class_names": NAMES}),
        lambda b: _three(b, SOFT),
    ),
    "names as a python literal": (
        Layout([RAW], {**META, "names": "{0: 'background', 1: 'water', 2: 'forest'}"}),
        lambda b: _three(b, RAW),
    ),
    "class_names list": (
        Layout([RAW], {**META, "class_names": ["background", "water", "forest"]}),
        lambda b: _three(b, RAW),
    ),
    "two outputs, one class each": (
        Layout(
            [COFFEE, JUICE],
            {**META, "class_names": [{"0": "Coffee"}, {"0": "Juice"}], "seg_thresh": 0.5},
        ),
        lambda b: _two_outputs(b, [COFFEE, JUICE]),
    ),
    "output smaller than input": (
        Layout([Output(THREE, [0, -0.5, -2], crop=6)], {**META, "class_names": NAMES}),
        lambda b: _three(b, RAW),
    ),
    "fixed batch": (
        Layout([Output(THREE, [0, -0.5, -2], batch=1)], {**META, "class_names": NAMES}, batch=1),
        lambda b: _three(b, RAW),
    ),
    "fixed output batch": (
        Layout([Output(THREE, [0, -0.5, -2], batch=1)], {**META, "class_names": NAMES}),
        lambda b: _three(b, RAW),
    ),
    "N x H x W output": (
        Layout(
            [Output([GREEN], [-2.0], "Sigmoid", rank3=True)],
            {**META, "class_names": {"0": "forest"}, "seg_thresh": 0.5},
        ),
        lambda b: deepness_classes(scores(b, COFFEE), 0.5).astype(np.uint8),
    ),
    "seg_thresh on raw outputs": (
        Layout([SIG3], {**META, "class_names": NAMES, "seg_thresh": 0.9}),
        lambda b: _three(b, SIG3, 0.9),
    ),
}
PROMPTS = {"two outputs, one class each": "extract the coffee and the JUICE"}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_each_deepness_layout_runs_and_follows_deepness_rule(
    name: str, scene: Path, bands: dict[str, np.ndarray], tmp_path: Path
) -> None:
    layout, expected = LAYOUTS[name]
    model = build(tmp_path / "m.onnx", layout)
    prompt = PROMPTS.get(name, "extract the water and the forest")
    if name == "N x H x W output":
        prompt = "forest"
    mask = mask_of(run(scene, model, tmp_path / "out", prompt))
    want = expected(bands)
    agreement = (mask == want).mean()
    assert agreement >= 0.999, (
        name,
        agreement,
        np.bincount(mask.ravel()),
        np.bincount(want.ravel()),
    )
    assert len(np.unique(want)) >= 2  # the layout is tested on pixels of several classes


def test_resolution_is_honoured_and_classes_come_back_on_the_raster_grid(
    scene: Path, tmp_path: Path
) -> None:
    layout = Layout([RAW], {**META, "class_names": NAMES, "resolution": 2000})  # 20 m, raster 10 m
    result = run(scene, build(tmp_path / "m.onnx", layout), tmp_path / "out", "water and forest")
    mask = mask_of(result)
    with rasterio.open(scene) as src, rasterio.open(result.mask_path) as out:
        assert out.transform == src.transform and out.shape == src.shape
    blocks = mask.reshape(100, 2, 160, 2)
    assert (blocks == blocks[:, :1, :, :1]).all()  # one class per 20 m model pixel
    with open_source(scene) as source:  # the raster averaged to 20 m, classified per pixel
        coarse = source.dataset.read(
            [2, 3, 4, 8, 12], out_shape=(5, 100, 160), resampling=rasterio.enums.Resampling.average
        )
        halves = source._to_roles(coarse, BANDS)
    want = _three(halves, RAW).repeat(2, axis=0).repeat(2, axis=1)
    assert (mask == want).mean() >= 0.99
    assert any("model's resolution" in n for n in result.manifest["backend"]["notes"])
    fine = Layout([RAW], {**META, "class_names": NAMES, "resolution": 20})  # 20 cm: 50x finer
    with pytest.raises(BackendError, match="50 times finer") as refused:
        run(scene, build(tmp_path / "f.onnx", fine), tmp_path / "fine", "water")
    assert "\n" not in str(refused.value) and not (tmp_path / "fine").exists()


def test_a_web_mercator_rasters_resolution_is_its_ground_resolution(
    scene: Path, tmp_path: Path
) -> None:
    """The same pixels placed in Web Mercator at 60 N, 10 m a side in its plane and 5 m on the
    ground (a synthetic georeference): a model trained at 10 m reads them 2 x 2 to a model pixel,
    not one to one as the plane's 10 m said."""
    import math

    north = 6378137.0 * math.log(math.tan(math.pi / 4 + math.radians(60.0) / 2))
    mercator = tmp_path / "mercator.tif"
    with rasterio.open(scene) as src:
        profile = src.profile | {
            "crs": "EPSG:3857", "transform": rasterio.Affine(10.0, 0, 1e6, 0, -10.0, north),
        }  # fmt: skip
        with rasterio.open(mercator, "w", **profile) as dst:
            dst.write(src.read())
            dst.descriptions = src.descriptions
    layout = Layout([RAW], {**META, "class_names": NAMES, "resolution": 1000})  # 10 m
    result = run(mercator, build(tmp_path / "m.onnx", layout), tmp_path / "out", "water and forest")
    blocks = mask_of(result).reshape(100, 2, 160, 2)
    assert (blocks == blocks[:, :1, :, :1]).all()  # one class per 10 m model pixel
    notes = result.manifest["backend"]["notes"]
    assert any(re.match(r"The raster \(499\.\d+ cm/px\) was processed", n) for n in notes), notes


def test_small_segments_are_removed_tile_exact(
    scene: Path, bands: dict[str, np.ndarray], tmp_path: Path
) -> None:
    from scipy.ndimage import median_filter

    layout = Layout([RAW], {**META, "class_names": NAMES, "seg_small_segment": 5})
    model = build(tmp_path / "m.onnx", layout)
    small = mask_of(run(scene, model, tmp_path / "a", "water and forest", tile=64))
    large = mask_of(run(scene, model, tmp_path / "b", "water and forest", tile=256))
    assert np.array_equal(small, large)
    raw = deepness_classes(scores(bands, RAW))
    want = median_filter(raw.astype(np.uint8), size=5, mode="nearest")
    assert (small == want).mean() >= 0.999
    assert (small != raw).sum() > 0  # the filter changed something


def test_prompts_name_the_models_classes(scene: Path, tmp_path: Path) -> None:
    layout = Layout(
        [COFFEE, JUICE],
        {**META, "class_names": [{"0": "Coffee"}, {"0": "Juice"}], "seg_thresh": 0.5},
    )
    model = build(tmp_path / "m.onnx", layout)
    both = mask_of(run(scene, model, tmp_path / "both", "extract the Coffee and juices"))
    coffee = run(scene, model, tmp_path / "c", "the 3 largest coffees")
    assert coffee.plan.targets == ("coffee",) and coffee.plan.largest_n == 3
    assert (mask_of(coffee) == 1).sum() <= (both == 1).sum()
    with pytest.raises(PromptError) as refused:
        run(scene, model, tmp_path / "x", "extract the tea")
    message = str(refused.value)
    assert "'tea'" in message and "Coffee" in message and "Juice" in message
    assert "\n" not in message
    assert (both == 1).sum() > 0 and (both == 2).sum() > 0
    explanation = (tmp_path / "both" / "explanation.md").read_text()
    assert "this scene's own values" not in explanation
    assert "How the model's scores became classes" in explanation
    assert "highest score over all the classes" in explanation


def test_one_class_of_many_keeps_the_argmax_over_all(scene: Path, tmp_path: Path) -> None:
    model = build(tmp_path / "m.onnx", Layout([SOFT], {**META, "class_names": NAMES}))
    both = mask_of(run(scene, model, tmp_path / "both", "water and forest"))
    water = mask_of(run(scene, model, tmp_path / "w", "water"))
    forest = mask_of(run(scene, model, tmp_path / "f", "forests"))
    assert np.array_equal(water == 1, both == 1)
    assert np.array_equal(forest == 1, both == 2)
    assert (both == 1).sum() > 0 and (both == 2).sum() > 0


def _one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text and text
    return text


def test_bad_models_get_one_line_errors(tmp_path: Path) -> None:
    from spex.engine.backends.onnx.backend import OnnxBackend

    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\xff\xff\xff\xffnot a model at all")
    with pytest.raises(BackendError) as bad:
        OnnxBackend(model=garbage)
    assert "garbage.onnx" in _one_line(bad.value)
    rank3 = build(tmp_path / "r.onnx", Layout([RAW], {**META, "class_names": NAMES}, rank=3))
    with pytest.raises(BackendError, match="N x C x H x W") as bad:
        OnnxBackend(model=rank3)
    _one_line(bad.value)
    four = build(
        tmp_path / "c.onnx",
        Layout([RAW], {"class_names": NAMES}, channels=4),
    )
    with pytest.raises(BandError, match="4 input channels") as bad:
        OnnxBackend(model=four)
    assert "spex models add" in _one_line(bad.value)
    detector = build(tmp_path / "d.onnx", Layout([RAW], {**META, "model_type": "Detector"}))
    with pytest.raises(BackendError, match="'Detector' model") as bad:
        OnnxBackend(model=detector)
    _one_line(bad.value)


def test_an_output_larger_than_its_input_is_refused(tmp_path: Path) -> None:
    from onnx import TensorProto, helper, numpy_helper

    from spex.engine.backends.onnx.backend import OnnxBackend

    # a super-resolution layout: the image doubled in size
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    node = helper.make_node("Resize", ["image", "", "scales"], ["big"], mode="nearest")
    graph = helper.make_graph(
        [node],
        "sr",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, 64, 64])],
        [helper.make_tensor_value_info("big", TensorProto.FLOAT, ["n", 3, 128, 128])],
        [scales],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "sr.onnx"
    import onnx

    onnx.save(model, str(path))
    with pytest.raises(BackendError, match="cannot be mapped to the input grid") as bad:
        OnnxBackend(model=path)
    _one_line(bad.value)


def test_models_add_writes_a_metadata_carrying_copy(
    scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("SPEX_MODEL_DIR", str(tmp_path / "cache"))
    bare = build(tmp_path / "bare.onnx", Layout([SOFT], {}))
    sidecar = tmp_path / "bare.json"
    sidecar.write_text(json.dumps({**META, "class_names": NAMES}))
    assert main(["models", "add", str(bare), "--metadata", str(sidecar), "--name", "wf"]) == 0
    copy = tmp_path / "cache" / "wf" / "wf.onnx"
    assert copy.is_file() and bare.read_bytes() in copy.read_bytes()[: len(bare.read_bytes())]
    out = tmp_path / "out"
    argv = ["extract", str(scene), "--prompt", "forest", "--out", str(out), "--quiet"]
    assert main([*argv, "--backend", "onnx", "--model", "wf"]) == 0
    assert json.loads((out / "run.json").read_text())["plan"]["targets"] == ["forest"]
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**META, "class_names": {"0": "a", "1": "b"}}))
    capsys.readouterr()
    assert main(["models", "add", str(bare), "--metadata", str(wrong), "--name", "bad"]) == 2
    err = capsys.readouterr().err.strip()
    assert "3 channels" in err and "2 classes" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "cache" / "bad").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")] == []


def test_a_model_without_class_names_gets_deepness_channel_names(
    scene: Path, bands: dict[str, np.ndarray], tmp_path: Path
) -> None:
    model = build(tmp_path / "n.onnx", Layout([RAW], {"bands": list(BANDS)}))
    result = run(scene, model, tmp_path / "out", "extract channel 1 and Channel 2")
    assert result.plan.targets == ("channel_1", "channel_2")
    assert (mask_of(result) == _three(bands, RAW)).mean() >= 0.999
    with pytest.raises(PromptError, match="channel 0, channel 1, channel 2"):
        run(scene, model, tmp_path / "bad", "extract channel 7")
