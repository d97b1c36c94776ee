"""The tiny SPEX model exported to ONNX matches the torch backend: tokens and masks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from spex.engine import ExtractionRequest, extract
from spex.engine.cli import main
from spex.engine.errors import BackendError, OutputError
from tests.rasters import crop_raster
from tests.test_cli import run_spex

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

PROMPT = "extract the water bodies and vegetation"
MAX_TOKENS = 24


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("spex_onnx")
    model, out = root / "tiny", root / "tiny_onnx"
    assert main(["models", "init", "--size", "tiny", "--out", str(model)]) == 0
    assert main(["export-onnx", "--model", str(model), "--out", str(out)]) == 0
    return model, out


@pytest.fixture(scope="module")
def crop(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 600 x 512 px: two 512 px model windows side by side, with their overlap
    return crop_raster(s2_scene, tmp_path_factory.mktemp("crop") / "crop.tif", (300, 128, 600, 512))


def test_export_writes_pinned_parts_with_a_manifest(exported: tuple[Path, Path]) -> None:
    from spex.engine.backends.onnx.metadata import read_header

    model, out = exported
    manifest = json.loads((out / "spex_onnx.json").read_text())
    assert manifest["opset"] == 17 and manifest["ir_version"] == 8
    assert manifest["decoder_max_abs_error"] < 1e-4
    assert set(manifest["parts"]) == {"vision", "embed", "decoder", "condense", "mask"}
    for name, part in manifest["parts"].items():
        header = read_header(out / part["file"])
        assert (header.ir_version, header.opset) == (8, 17), name
        assert header.metadata["spex_format"] == "spex-onnx/2"
        assert part["inputs"][0]["shape"][0] == "batch" or name == "decoder"
    decoder = {i["name"]: i["shape"] for i in manifest["parts"]["decoder"]["inputs"]}
    assert decoder["past_keys"][1] == "batch" and decoder["past_keys"][3] == "past"
    assert (out / "tokenizer.json").read_bytes() == (model / "tokenizer.json").read_bytes()
    assert (out / "config.json").is_file()
    from spex.engine.backends.onnx.export import export_spex

    with pytest.raises(OutputError, match="not empty"):
        export_spex(model, out)


def test_a_file_as_the_models_folder_is_one_line(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    """`spex models init` and `spex export-onnx` given a file for --out: one line each, as
    `spex extract` gives; both stopped on a NotADirectoryError traceback."""
    model, _ = exported
    taken = tmp_path / "notes.txt"
    taken.write_text("an analyst's file", encoding="utf-8")
    for args in (
        ["models", "init", "--size", "tiny", "--out", taken],
        ["export-onnx", "--model", model, "--out", taken],
    ):
        done = run_spex(*args)
        assert done.returncode == 2, done.stderr
        assert done.stderr == f"spex: error: Output {taken} is a file; give a new or empty " \
            "folder with --out.\n"  # fmt: skip
    assert taken.read_text(encoding="utf-8") == "an analyst's file"


def test_runner_gives_the_same_tokens_and_mask_as_torch(exported: tuple[Path, Path]) -> None:
    from spex.engine.backends.onnx.spex_runner import (
        OrtSpexRunner,
        adaptive_mean,
        read_manifest,
        upsample_bilinear,
    )
    from spex.engine.backends.spex import inference
    from spex.engine.backends.spex.tokenizer import load_tokenizer
    from spex.engine.backends.spex.weights import load_model

    model_dir, out = exported
    model, _ = load_model(model_dir, hash_files=False)
    tokenizer = load_tokenizer(model_dir)
    torch_runner = inference.SpexRunner(model, tokenizer, MAX_TOKENS)
    ort_runner = OrtSpexRunner(
        out, model.config, read_manifest(out), load_tokenizer(out), max_new_tokens=MAX_TOKENS
    )
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (2, 512, 512, 3), dtype=np.uint8)
    t_tokens, t_embed = torch_runner.encode(rgb)
    o_tokens, o_embed = ort_runner.encode(rgb)
    assert np.allclose(t_tokens.numpy(), o_tokens, atol=1e-4)
    assert np.allclose(t_embed.numpy(), o_embed, atol=1e-4)
    request = "<image>\nDescribe the water bodies regions: [{'Size of area': 'large'}]"
    for i in range(2):
        expected = torch_runner.answer(t_tokens[i], t_embed[i], request)
        got = ort_runner.answer(o_tokens[i], o_embed[i], request)
        assert (got.text, got.tokens, got.stopped) == (
            expected.text,
            expected.tokens,
            expected.stopped,
        )
        a, b = expected.logits > 0, got.logits > 0
        assert (a & b).sum() / max(1, (a | b).sum()) >= 0.99
        assert np.abs(expected.logits - got.logits).max() < 1e-3
    # the torch-free helpers agree with the torch ones
    logits = rng.normal(size=(2, 16, 16)).astype(np.float32)
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(logits)[None], size=(64, 64), mode="bilinear", align_corners=False
    )[0].numpy()
    assert np.allclose(upsample_bilinear(logits, 64), expected, atol=1e-5)
    states = rng.normal(size=(1, 7, 8)).astype(np.float32)
    pooled = torch.nn.functional.adaptive_avg_pool1d(torch.from_numpy(states).transpose(1, 2), 4)
    assert np.allclose(adaptive_mean(states, 4), pooled.transpose(1, 2).numpy(), atol=1e-6)


def test_extract_with_onnx_matches_the_torch_backend(
    exported: tuple[Path, Path], crop: Path, tmp_path: Path
) -> None:
    model_dir, out = exported
    runs = {}
    for backend, model in (("spex", model_dir), ("onnx", out)):
        options = {"model": model, "max_new_tokens": MAX_TOKENS}
        request = ExtractionRequest(crop, PROMPT, tmp_path / backend, backend=backend,
                                    backend_options=options)  # fmt: skip
        runs[backend] = extract(request)
    masks = {}
    for backend, result in runs.items():
        with rasterio.open(result.mask_path) as mask:
            masks[backend] = mask.read(1)
    for target in (1, 2):
        a, b = masks["spex"] == target, masks["onnx"] == target
        assert a.any() and (a & b).sum() / (a | b).sum() >= 0.99
    answers = [r.explanation_path.read_text().split("## Model answer")[1] for r in runs.values()]
    assert answers[0] == answers[1]  # the same generated text, window by window
    details = runs["onnx"].manifest["backend"]["details"]
    assert details["provider"] == "CPUExecutionProvider"
    assert details["requests"] == runs["spex"].manifest["backend"]["details"]["requests"] > 0
    assert runs["onnx"].manifest["backend"]["name"] == "onnx"


def test_folder_errors(tmp_path: Path, exported: tuple[Path, Path], capsys) -> None:
    from spex.engine.backends.onnx.backend import OnnxBackend

    with pytest.raises(BackendError, match="no spex_onnx.json"):
        OnnxBackend(model=exported[0])  # a torch folder, not an export
    assert main(["models", "inspect", str(exported[1])]) == 0
    text = capsys.readouterr().out
    assert "part decoder: decoder.onnx" in text and "past_keys" in text
