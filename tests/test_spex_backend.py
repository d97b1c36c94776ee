"""The SPEX backend end to end on a real Sentinel-2 crop with a tiny random model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

pytest.importorskip("torch")
pytest.importorskip("transformers")

from spex.engine.backends.spex.stretch import fit_stretch  # noqa: E402
from spex.engine.backends.spex.tiling import MaskBlender, ModelGrid, blend_weights  # noqa: E402
from spex.engine.cli import main  # noqa: E402
from spex.engine.errors import BandError  # noqa: E402
from tests.rasters import crop_raster  # noqa: E402

PROMPT = "extract the water bodies and vegetation"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spex") / "tiny"
    assert main(["models", "init", "--size", "tiny", "--out", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def crop(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 512 x 700: two model windows, rows 0 and 188 (the last one ends at the raster's edge).
    return crop_raster(
        s2_scene, tmp_path_factory.mktemp("raster") / "crop.tif", (300, 50, 512, 700)
    )


def _extract(crop: Path, model: Path, out: Path, tile: int = 512, *extra: str) -> Path:
    argv = [
        "extract",
        str(crop),
        "--prompt",
        PROMPT,
        "--out",
        str(out),
        "--backend",
        "spex",
        "--model",
        str(model),
        "--max-new-tokens",
        "6",
        "--tile",
        str(tile),
        "--device",
        "cpu",
        *extra,
    ]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def run_512(crop: Path, tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _extract(crop, tiny_dir, tmp_path_factory.mktemp("runs") / "a")


def test_init_writes_the_published_layout(tiny_dir: Path) -> None:
    names = {p.name for p in tiny_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
    config = json.loads((tiny_dir / "config.json").read_text())
    assert config["spex"]["random_weights"] is True


def test_end_to_end_outputs(run_512: Path, crop: Path, tiny_dir: Path) -> None:
    with rasterio.open(run_512 / "mask.tif") as mask, rasterio.open(crop) as src:
        assert (mask.width, mask.height) == (src.width, src.height)
        values = mask.read(1)
    assert set(np.unique(values)) <= {0, 1, 2, 255}
    manifest = json.loads((run_512 / "run.json").read_text())
    details = manifest["backend"]["details"]
    assert manifest["backend"]["name"] == "spex"
    assert details["model_folder"] == str(tiny_dir.absolute())
    assert details["random_weights"] is True
    assert details["config"]["spex"]["vision"]["channels"] == 16
    assert len(details["checkpoint_sha256"]) == 64
    assert details["windows_total"] == 2
    # the reference runs the model on every window, candidates or not
    assert details["skip_empty_windows"] is False and details["max_regions"] == 10
    assert details["windows_run"] == 2 and details["windows_skipped_no_candidate"] == 0
    assert details["requests"] == 4 and details["dtype"] == "float32"
    text = (run_512 / "explanation.md").read_text()
    assert "## Model answer" in text and "random weights" in text
    assert "### Appendix: answers per model window" in text
    assert "window r0 c0 (pixels x 0..512, y 0..512" in text
    assert "window r1 c0 (pixels x 0..512, y 188..700" in text
    assert (run_512 / "features.gpkg").is_file()


def test_deterministic_and_independent_of_tile_size(
    run_512: Path, crop: Path, tiny_dir: Path, tmp_path: Path
) -> None:
    again = _extract(crop, tiny_dir, tmp_path / "b")
    small = _extract(crop, tiny_dir, tmp_path / "c", tile=256)
    with rasterio.open(run_512 / "mask.tif") as a, rasterio.open(again / "mask.tif") as b:
        reference = a.read(1)
        assert np.array_equal(reference, b.read(1))
    with rasterio.open(small / "mask.tif") as c:
        assert np.array_equal(c.read(1), reference)
    answers = [
        (r / "explanation.md").read_text().split("### Appendix")[1] for r in (run_512, again, small)
    ]
    assert answers[0] == answers[1] == answers[2]


def test_model_grid_is_global_and_covers_the_raster() -> None:
    grid = ModelGrid(width=1000, height=512, size=512, overlap=64)
    assert (grid.n_cols, grid.n_rows, grid.stride) == (3, 1, 448)
    # the last window is shifted back inside the raster: no padding
    assert [grid.origin(0, c)[0] for c in range(3)] == [0, 448, 488]
    assert list(grid.intersecting(0, 0, 10, 10)) == [(0, 0)]
    assert list(grid.intersecting(440, 0, 470, 10)) == [(0, 0), (0, 1)]
    assert list(grid.intersecting(500, 0, 520, 10)) == [(0, 0), (0, 1), (0, 2)]
    assert list(grid.intersecting(950, 0, 1000, 10)) == [(0, 1), (0, 2)]
    assert list(grid.intersecting(990, 0, 1000, 10)) == [(0, 2)]
    covered = np.zeros(1000, bool)
    for _, c in grid.intersecting(0, 0, 1000, 512):
        x0 = grid.origin(0, c)[0]
        assert x0 + 512 <= 1000
        covered[x0 : x0 + 512] = True
    assert covered.all()
    # an axis shorter than a window: one window, the whole axis (resized as the reference)
    small = ModelGrid(width=300, height=700, size=512, overlap=64)
    assert small.shape() == (512, 300) and (small.n_cols, small.n_rows) == (1, 2)
    assert small.origin(1, 0) == (0, 188)


def test_blending_averages_overlaps_and_keeps_single_windows_exact() -> None:
    weights = blend_weights(8, 2)
    assert weights.max() == 1.0 and weights.min() > 0
    assert blend_weights(8, 2, 5).shape == (8, 5)
    blender = MaskBlender(0, 0, 14, 8, 1)
    blender.add(0, 0, np.full((1, 8, 8), 1.0, np.float32), weights)
    blender.add(6, 0, np.full((1, 8, 8), 0.0, np.float32), weights)
    out = blender.result(empty=-9.0)[0]
    assert np.allclose(out[:, :5], 1.0) and np.allclose(out[:, 9:], 0.0)
    assert np.allclose(out[:, 6:8].mean(), 0.5, atol=1e-6)  # symmetric ramps meet halfway
    assert np.all(np.diff(out[3]) <= 1e-6)  # a smooth hand-over, no jump


def test_soft_mask_is_the_reference_post_processing() -> None:
    from spex.engine.backends.spex.postprocess import resize_rgb, soft_mask

    logits = np.full((1, 4, 4), -1.0, np.float32)
    logits[0, 1, 1] = 0.3
    soft = soft_mask(logits, 16, 16, 16)[0]
    expected = torch_interpolate((logits > 0).astype(np.float32), 16, 16)
    assert np.array_equal(soft, expected[0])
    # one 128 px cell reaches 8 x 8 output pixels, each by at most 49/64 (the README's figure)
    assert soft.max() == 49 / 64 and set(np.unique(soft * 64)) <= set(range(65))
    assert soft_mask(logits, 16, 16, 10).shape == (1, 16, 10)  # then to the window's size
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert resize_rgb(rgb, 4).shape == (4, 4, 3) and resize_rgb(rgb, 4)[0, 0, 0] == rgb[0, 0, 0]


def torch_interpolate(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    import torch

    tensor = torch.from_numpy(maps)[None]
    out = torch.nn.functional.interpolate(tensor, size=(height, width), mode="bilinear")
    return out[0].numpy()


def test_windows_never_hold_padding_and_small_rasters_are_tile_independent(
    s2_scene: Path, tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model sees only raster pixels: the edge window is shifted inside the raster, and an
    axis shorter than a window is resized (300 px wide here); the answer still does not depend
    on the pipeline's tile size."""
    from spex.engine.backends.spex.backend import SpexBackend

    narrow = crop_raster(s2_scene, tmp_path / "narrow.tif", (40, 30, 300, 700))
    seen: list[tuple[tuple[int, int], dict]] = []
    real_crop = SpexBackend._crop

    def recording_crop(self, bands, key, col, row):  # a spy on the real method
        crop = real_crop(self, bands, key, col, row)
        seen.append((self.grid.origin(*key), crop))
        return crop

    monkeypatch.setattr(SpexBackend, "_crop", recording_crop)
    runs = [_extract(narrow, tiny_dir, tmp_path / f"t{tile}", tile) for tile in (512, 200)]
    with rasterio.open(narrow) as src:
        red = src.read(list(src.descriptions).index("B4") + 1).astype(np.float64)
    assert {origin for origin, _ in seen} == {(0, 0), (0, 188)}
    for (x0, y0), crop in seen:
        assert crop["red"].shape == (512, 300) and np.isfinite(crop["red"]).all()
        raw = red[y0 : y0 + 512, x0 : x0 + 300]
        assert np.corrcoef(raw.ravel(), crop["red"].ravel())[0, 1] > 0.9999
    masks = []
    for run in runs:
        with rasterio.open(run / "mask.tif") as mask:
            masks.append(mask.read(1))
    assert np.array_equal(masks[0], masks[1])
    text = (runs[0] / "explanation.md").read_text()
    assert "window r1 c0 (pixels x 0..300, y 188..700" in text


def test_skip_empty_windows_is_an_explicit_option_recorded_in_the_manifest(
    crop: Path, tiny_dir: Path, run_512: Path, tmp_path: Path
) -> None:
    skipped = _extract(crop, tiny_dir, tmp_path / "skip", 512, "--skip-empty-windows")
    details = json.loads((skipped / "run.json").read_text())["backend"]["details"]
    default = json.loads((run_512 / "run.json").read_text())["backend"]["details"]
    assert details["skip_empty_windows"] is True and default["skip_empty_windows"] is False
    # every (window, target) is either asked or skipped; by default all are asked
    assert details["requests"] + details["requests_skipped_no_candidate"] == 4
    assert default["requests"] == 4 and default["requests_skipped_no_candidate"] == 0
    assert default["requests_without_candidates"] == details["requests_skipped_no_candidate"]
    text = (skipped / "explanation.md").read_text()
    assert "skipped: --skip-empty-windows" in text


def test_stretch_is_global_and_needs_true_colour() -> None:
    rng = np.random.default_rng(0)
    sample = {r: rng.uniform(0.0, 0.3, 10_000).astype(np.float32) for r in ("red", "green", "blue")}
    stretch = fit_stretch(sample)
    tile = {r: np.array([[0.0, 0.15, 0.3, np.nan]], np.float32) for r in sample}
    rgb, valid = stretch.apply(tile)
    assert rgb.shape == (1, 4, 3) and valid.tolist() == [[True, True, True, False]]
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, 2].tolist() == [255, 255, 255]
    assert 120 <= int(rgb[0, 1, 0]) <= 135 and rgb[0, 3].tolist() == [0, 0, 0]
    with pytest.raises(BandError, match="blue"):
        fit_stretch({"red": sample["red"], "green": sample["green"], "nir": sample["red"]})


def test_missing_model_is_one_line_error(
    crop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "extract",
        str(crop),
        "--prompt",
        PROMPT,
        "--out",
        str(tmp_path / "x"),
        "--backend",
        "spex",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "--model" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_cancel_mid_run_leaves_nothing(crop: Path, tiny_dir: Path, tmp_path: Path) -> None:
    from spex.engine import ExtractionRequest, RunMonitor, extract
    from spex.engine.errors import CancelledError

    asked = {"n": 0}

    def cancel_once_running() -> bool:
        asked["n"] += 1
        return asked["n"] > 2  # after the model is loaded and the first checks have passed

    out = tmp_path / "cancelled"
    request = ExtractionRequest(
        crop,
        PROMPT,
        out,
        backend="spex",
        tile_size=256,
        backend_options={"model": tiny_dir, "max_new_tokens": 4, "device": "cpu"},
    )
    with pytest.raises(CancelledError):
        extract(request, RunMonitor(is_cancelled=cancel_once_running))
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_an_empty_answer_gives_no_mask_and_is_explained(
    crop: Path, tiny_dir: Path, tmp_path: Path
) -> None:
    """When the first generated token is an end token, the reference fails; here that target
    gets no mask in that window, counted in run.json and said in the explanation, on torch and
    on onnxruntime alike."""
    import shutil

    import torch

    from spex.engine.backends.spex.tokenizer import load_tokenizer
    from spex.engine.backends.spex.weights import load_model, save_model

    # A real tiny model whose head can only say an end token: the two end-token rows are +e0
    # and -e0 and every other row is 0, so one end token always has the largest logit.
    model, _ = load_model(tiny_dir, hash_files=False)
    eos = sorted(load_tokenizer(tiny_dir).eos_ids)
    with torch.no_grad():
        model.lm_head.weight.zero_()
        model.lm_head.weight[eos[0], 0] = 10.0
        model.lm_head.weight[eos[1], 0] = -10.0
    mute = tmp_path / "mute"
    save_model(model, mute)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy2(tiny_dir / name, mute / name)
    exported = tmp_path / "mute_onnx"
    assert main(["export-onnx", "--model", str(mute), "--out", str(exported)]) == 0
    for backend, folder in (("spex", mute), ("onnx", exported)):
        out = tmp_path / backend
        argv = ["extract", str(crop), "--prompt", PROMPT, "--out", str(out), "--backend", backend]
        assert main([*argv, "--model", str(folder), "--device", "cpu"]) == 0
        details = json.loads((out / "run.json").read_text())["backend"]["details"]
        assert details["requests"] == details["empty_answers"] == 4
        with rasterio.open(out / "mask.tif") as mask:
            assert set(np.unique(mask.read(1))) <= {0, 255}  # no target anywhere
        text = (out / "explanation.md").read_text()
        assert "4 answers were empty" in text and "no mask" in text


def test_float32_on_cuda_turns_tf32_off() -> None:
    """`exact_float32`, which the backend calls for a float32 run on CUDA: cuDNN and matmuls
    stop using TF32 (on an H200 TF32 moved 0.05-0.07 % of the golden crop's mask pixels; the
    flags are process-wide, so this test puts them back)."""
    import torch

    from spex.engine.backends.spex.model import exact_float32

    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    try:
        exact_float32()
        assert not torch.backends.cudnn.allow_tf32
        assert not torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before
