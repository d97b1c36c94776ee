"""ONNX segmentation models on the real Sentinel-2 scene: exact tiling, blending, classes.

The models are tiny but real: torch modules exported with torch.onnx.export, metadata written
with the `onnx` package, run by onnxruntime through `spex extract --backend onnx`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.cli import main
from spex.engine.errors import BackendError, BandError, PromptError
from spex.engine.raster.raster_source import open_source

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from tests.onnx_models import BANDS, PROMPT, build_model  # noqa: E402


def whole_image_classes(model: Path, raster: Path, activation: str = "softmax") -> np.ndarray:
    """The model run once on the whole raster (no tiling), mapped to plan classes 0/1/2/255."""
    from spex.engine.backends.onnx.segmentation import decide

    with open_source(raster) as source:
        bands = source.read(Window(0, 0, source.width, source.height), BANDS)
    stack = np.stack([bands[r] for r in BANDS])
    nodata = np.isnan(stack).any(axis=0)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    scores = session.run(None, {"input": np.nan_to_num(stack)[None]})[0][0]
    best, _ = decide(scores, activation, None)
    classes = np.array([0, 1, 2, 0], np.uint8)[best]  # index -1 -> background
    classes[nodata] = 255
    return classes


def run(raster: Path, model: Path, out: Path, tile: int = 256, prompt: str = PROMPT) -> object:
    request = ExtractionRequest(
        raster, prompt, out, tile_size=tile, backend="onnx", backend_options={"model": model}
    )
    return extract(request)


def read_mask(result: object) -> np.ndarray:
    with rasterio.open(result.mask_path) as mask:
        return mask.read(1)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("onnx_models")
    return {
        "pixel": build_model(folder / "pixel.onnx", "pixel"),
        "conv0": build_model(folder / "conv0.onnx", "conv", overlap_pct=0),
        "conv25": build_model(folder / "conv25.onnx", "conv", overlap_pct=25),
    }


def test_per_pixel_model_tiled_equals_whole_image_bit_for_bit(
    models: dict[str, Path], s2_scene: Path, tmp_path: Path
) -> None:
    whole = whole_image_classes(models["pixel"], s2_scene)
    assert {1, 2} <= set(np.unique(whole).tolist())  # the rule finds water and forest
    small = run(s2_scene, models["pixel"], tmp_path / "t128", tile=128)
    large = run(s2_scene, models["pixel"], tmp_path / "t2048", tile=2048)
    assert np.array_equal(read_mask(small), whole)
    assert np.array_equal(read_mask(large), whole)
    details = small.manifest["backend"]["details"]
    # 64 px windows at stride 48 over 1536 x 768: each runs once, the cache serves neighbours
    assert details["windows_run"] == 32 * 16
    assert details["window_cache_hits"] > 0
    assert details["windows_read_apart"] > 0  # windows across 128 px tiles: read once, apart
    assert details["provider"] == "CPUExecutionProvider"
    assert small.manifest["backend"]["device"] == "cpu (onnxruntime CPUExecutionProvider)"
    assert small.manifest["tiling"]["halo"] == 0  # border windows are read apart


def test_overlap_with_blending_removes_seams(
    models: dict[str, Path], s2_scene: Path, tmp_path: Path
) -> None:
    whole = whole_image_classes(models["conv25"], s2_scene)
    seams = run(s2_scene, models["conv0"], tmp_path / "o0", tile=512)
    blended = run(s2_scene, models["conv25"], tmp_path / "o25", tile=512)
    wrong_seams = read_mask(seams) != whole_image_classes(models["conv0"], s2_scene)
    wrong_blended = read_mask(blended) != whole
    rows, cols = np.nonzero(wrong_seams)
    # without overlap the errors sit on window borders (every 64 px), from zero padding
    near_border = np.minimum(
        np.minimum(rows % 64, 63 - rows % 64), np.minimum(cols % 64, 63 - cols % 64)
    )
    assert wrong_seams.sum() > 50 and (near_border < 4).all()
    assert wrong_blended.sum() <= wrong_seams.sum() // 20


def test_instruction_picks_classes_through_synonyms(
    models: dict[str, Path], s2_scene: Path, tmp_path: Path
) -> None:
    from spex.engine.backends.onnx.backend import OnnxBackend

    backend = OnnxBackend(model=models["pixel"])
    # The model's "forest" is the forest target, and answers for vegetation, which it is part of.
    assert backend.supported_targets() == ("water", "forest", "vegetation")
    result = run(s2_scene, models["pixel"], tmp_path / "lakes", prompt="the lakes")
    mask = read_mask(result)
    whole = whole_image_classes(models["pixel"], s2_scene)
    assert result.plan.targets == ("water",)
    assert np.array_equal(mask == 1, whole == 1)
    assert set(np.unique(mask).tolist()) <= {0, 1, 255}
    green = read_mask(run(s2_scene, models["pixel"], tmp_path / "green", prompt="vegetation"))
    woods = read_mask(run(s2_scene, models["pixel"], tmp_path / "woods", prompt="the woods"))
    assert (whole == 2).any() and np.array_equal(green == 1, whole == 2)
    assert np.array_equal(woods, green)
    with pytest.raises(PromptError, match="it extracts water, forest, vegetation") as refused:
        run(s2_scene, models["pixel"], tmp_path / "bad", prompt="extract the buildings")
    assert "classes background, water (water), forest (forest)" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_probability_output_and_metadata_errors(s2_scene: Path, tmp_path: Path) -> None:
    from spex.engine.backends.onnx.backend import OnnxBackend

    probs = build_model(tmp_path / "p.onnx", softmax=True)
    result = run(s2_scene, probs, tmp_path / "p", tile=512)
    assert result.manifest["backend"]["details"]["output_activation"] == "none"
    assert np.array_equal(read_mask(result), whole_image_classes(probs, s2_scene, "none"))
    no_bands = build_model(tmp_path / "nb.onnx", bands=None)
    with pytest.raises(BandError, match="5 input channels but has no 'bands'"):
        OnnxBackend(model=no_bands)
    wrong = build_model(tmp_path / "w.onnx", classes=("background", "water"), bands=BANDS)
    wrong_proto = onnx.load(str(wrong))
    for entry in wrong_proto.metadata_props:
        if entry.key == "class_names":
            entry.value = json.dumps({"0": "background", "1": "water", "2": "x", "3": "y"})
    onnx.save(wrong_proto, str(wrong))
    with pytest.raises(BackendError, match="outputs 2 channels but 'class_names' names 4"):
        OnnxBackend(model=wrong)
    thermal = build_model(tmp_path / "t.onnx", bands=["blue", "green", "red", "nir", "thermal"])
    with pytest.raises(BandError, match="lacks thermal"):
        run(s2_scene, thermal, tmp_path / "t")
    with pytest.raises(BackendError, match="does not exist"):
        OnnxBackend(model=tmp_path / "missing.onnx")


def test_cli_runs_a_metadata_model(
    models: dict[str, Path], s2_scene: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "cli"
    argv = ["extract", str(s2_scene), "--prompt", "water", "--out", str(out), "--quiet"]
    status = main([*argv, "--backend", "onnx", "--model", str(models["pixel"])])
    assert status == 0
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["backend"]["name"] == "onnx"
    assert manifest["backend"]["details"]["provider"] == "CPUExecutionProvider"
    assert "CPUExecutionProvider" in " ".join(manifest["backend"]["notes"])
    other = [*argv[:5], str(tmp_path / "x"), "--backend", "onnx", "--provider", "cuda"]
    status = main([*other, "--model", str(models["pixel"])])
    assert status == 2
    assert "'cuda' is not available" in capsys.readouterr().err


def test_a_model_asking_for_b8a_runs_on_a_20m_stack(s2_scene: Path, tmp_path: Path) -> None:
    """A 20 m stack has B8A and no B08: B8A is read as the NIR band and still answers a model
    that asks for it as nir08, giving the mask the full stack gives."""
    model = build_model(tmp_path / "b8a.onnx", bands=["blue", "green", "red", "nir08", "swir1"])
    with rasterio.open(s2_scene) as src:
        index = {d: i for i, d in enumerate(src.descriptions, start=1)}
        names = ["B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"]
        data = src.read([index[n.replace("B0", "B")] for n in names])
        profile = src.profile | {"count": len(names)}
    r20m = tmp_path / "r20m.tif"
    with rasterio.open(r20m, "w", **profile) as dst:
        dst.write(data)
        dst.descriptions = tuple(names)
    with open_source(r20m) as source:
        assert source.mapping.index_of("nir08") == source.mapping.index_of("nir") == 6
    full = read_mask(run(s2_scene, model, tmp_path / "full"))
    assert np.array_equal(read_mask(run(r20m, model, tmp_path / "r20m")), full)
    assert (full == 2).any() and (full == 1).any()
