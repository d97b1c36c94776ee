"""ONNX backend performance, in one run: our pipeline against raw onnxruntime, and ORT vs torch.

1. `spex extract --backend onnx` on a large raster with a per-pixel (1x1 conv) and a small
   convolutional model, against raw onnxruntime running the same model windows from arrays
   read into memory beforehand (the best the runtime can do). Reported: the whole extraction
   and its classify pass (read + predict + labelling), each as a ratio to raw onnxruntime.
2. The tiny SPEX config per model window: the exported parts on onnxruntime against the torch
   backend's runner (vision, one answer with a fixed token budget, mask decoder).

Writes the "onnx" section of docs/benchmarks.md. Usage: python bench/onnx_bench.py [--size N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.large_raster import build_tiled_raster  # noqa: E402
from bench.report import replace_section  # noqa: E402

CACHE = ROOT / ".cache" / "bench"
SCENE = ROOT / ".cache" / "data" / "s2l1c_T33UUU_20170216.tif"
BANDS = ["blue", "green", "red", "nir", "swir1"]
TILE = 512
PROMPT = "extract the water and the forest"


def build_model(path: Path, kind: str, tile: int = TILE, overlap_pct: float = 0) -> Path:
    """A per-pixel ("pixel"), small ("conv") or medium ("medium", segmentation-net-like cost)
    convolutional model with Deepness metadata."""
    import onnx
    import torch

    torch.manual_seed(0)
    if kind == "pixel":
        layers = [torch.nn.Conv2d(5, 3, 1)]
    elif kind == "medium":
        layers = [torch.nn.Conv2d(5, 32, 3, padding=1), torch.nn.ReLU()]
        for _ in range(3):
            layers += [torch.nn.Conv2d(32, 32, 3, padding=1), torch.nn.ReLU()]
        layers.append(torch.nn.Conv2d(32, 3, 1))
    else:
        layers = [
            torch.nn.Conv2d(5, 16, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(16, 16, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(16, 3, 1),
        ]
    model = torch.nn.Sequential(*layers).eval()
    axes = {0: "n", 2: "h", 3: "w"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
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
    meta = {
        "model_type": "Segmentor",
        "class_names": {"0": "background", "1": "water", "2": "forest"},
        "tile_size": tile,
        "tiles_overlap": overlap_pct,
        "bands": BANDS,
    }
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    onnx.save(proto, str(path))
    return path


def raw_onnxruntime(
    model: Path, raster: Path, tile: int, overlap: int, provider: str | None = None
) -> dict[str, float]:
    """Raw onnxruntime over the same model windows, read and standardised beforehand."""
    from rasterio.windows import Window

    from spex.engine.backends.onnx.runtime import open_session
    from spex.engine.backends.onnx.segmentation import WindowGrid, batch_size_for
    from spex.engine.raster.raster_source import open_source

    runtime = open_session(model, provider)
    with open_source(raster) as source:
        grid = WindowGrid(source.width, source.height, tile, overlap)
        clock = time.perf_counter()
        windows = []
        for i in range(grid.count(source.height)):
            for j in range(grid.count(source.width)):
                y0, x0 = i * grid.stride, j * grid.stride
                h, w = min(tile, source.height - y0), min(tile, source.width - x0)
                bands = source.read(Window(x0, y0, w, h))
                patch = np.zeros((len(BANDS), tile, tile), np.float32)
                patch[:, :h, :w] = np.nan_to_num(np.stack([bands[r] for r in BANDS]))
                windows.append(patch)
        read_s = time.perf_counter() - clock
    batch = batch_size_for(len(BANDS), tile)
    batches = [np.stack(windows[s : s + batch]) for s in range(0, len(windows), batch)]
    runtime.session.run(None, {"input": batches[0]})  # warm-up: first-run allocations
    best = float("inf")
    for _ in range(2):
        clock = time.perf_counter()
        for x in batches:
            runtime.session.run(None, {"input": x})
        best = min(best, time.perf_counter() - clock)
    return {"windows": len(windows), "read_s": read_s, "run_s": best, "provider": runtime.provider}


def ours(
    model: Path, raster: Path, out: Path, pipeline_tile: int, provider: str | None = None
) -> dict[str, object]:
    """`spex extract --backend onnx`, timed whole, with the pipeline's own pass timings."""
    from spex.engine import ExtractionRequest, extract

    shutil.rmtree(out, ignore_errors=True)
    clock = time.perf_counter()
    request = ExtractionRequest(
        raster,
        PROMPT,
        out,
        tile_size=pipeline_tile,
        backend="onnx",
        backend_options={"model": model} | ({"provider": provider} if provider else {}),
    )
    result = extract(request)
    wall = time.perf_counter() - clock
    details = result.manifest["backend"]["details"]
    timings = result.manifest["timings_s"]
    shutil.rmtree(out, ignore_errors=True)
    return {"wall_s": wall, "timings": timings, "details": details}


def spex_per_window(
    work: Path, tokens: int = 32, device: str = "cpu", provider: str | None = None
) -> dict[str, object]:
    """Tiny SPEX, one model window: onnxruntime parts against the torch runner."""
    from spex.engine.backends.onnx.export import export_spex
    from spex.engine.backends.onnx.spex_runner import OrtSpexRunner, read_manifest
    from spex.engine.backends.spex import inference
    from spex.engine.backends.spex.tokenizer import load_tokenizer
    from spex.engine.backends.spex.weights import load_model
    from spex.engine.cli import main

    model_dir, out = work / "tiny", work / "tiny_onnx"
    if not model_dir.exists():
        main(["models", "init", "--size", "tiny", "--out", str(model_dir)])
    if not out.exists():
        export_spex(model_dir, out)
    model, _ = load_model(model_dir, device=device, hash_files=False)
    tokenizer = load_tokenizer(model_dir)
    request = "<image>\nDescribe the water bodies regions: [{'Size of area': 'large'}]"
    rgb = np.random.default_rng(0).integers(0, 256, (1, 512, 512, 3), dtype=np.uint8)
    torch_runner = inference.SpexRunner(model, tokenizer, tokens)
    ort_runner = OrtSpexRunner(out, model.config, read_manifest(out), tokenizer, provider, tokens)

    def timed(runner: object, repeats: int = 5) -> dict[str, float]:
        best: dict[str, float] = {"total_s": float("inf")}
        for _ in range(repeats):
            runner.timings = dict.fromkeys(runner.timings, 0.0)
            clock = time.perf_counter()
            t, e = runner.encode(rgb)
            answer = runner.answer(t[0], e[0], request)
            total = time.perf_counter() - clock
            if total < best["total_s"]:
                best = {"total_s": total, **runner.timings, "tokens": answer.tokens}
        return best

    timed(torch_runner, 1), timed(ort_runner, 1)  # warm-up
    result = {"torch": timed(torch_runner), "ort": timed(ort_runner), "tokens": tokens}
    result["provider"] = ort_runner.provider
    t, e = torch_runner.encode(rgb)
    o, f = ort_runner.encode(rgb)
    a, b = torch_runner.answer(t[0], e[0], request), ort_runner.answer(o[0], f[0], request)
    inter, union = ((a.logits > 0) & (b.logits > 0)).sum(), ((a.logits > 0) | (b.logits > 0)).sum()
    result["same_tokens"] = a.text == b.text and a.tokens == b.tokens
    result["mask_iou"] = float(inter / max(1, union))
    return result


def markdown(size: int, results: dict[str, dict], spex: dict[str, float]) -> str:
    """The section's Markdown."""
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; onnxruntime on CPU. Raster: the "
        f"Sentinel-2 scene mirrored-tiled to {size} x {size} px, 13 bands uint16; model windows "
        f"of {TILE} px, 5 input bands, 3 classes. Command: `python bench/onnx_bench.py --size "
        f"{size}`.",
        "",
        "| model | raw onnxruntime run | ours: classify pass | ours: whole extract | "
        "classify / raw | extract / raw | windows |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        raw = r["raw"]["run_s"]
        classify = r["ours"]["timings"]["classify_s"]
        wall = r["ours"]["wall_s"]
        lines.append(
            f"| {name} | {raw:.2f} s | {classify:.2f} s | {wall:.2f} s | "
            f"{classify / raw:.2f}x | {wall / raw:.2f}x | {r['raw']['windows']} |"
        )
    lines += [
        "",
        "Raw onnxruntime excludes reading (done beforehand: "
        + ", ".join(f"{n} {r['raw']['read_s']:.1f} s" for n, r in results.items())
        + "); ours includes reading every tile (the model's bands and the evidence indices'; "
        "model windows that cross tile "
        "borders are read once more, apart), nodata masks, evidence indices and the "
        "pipeline's region labelling (classify pass), then the global sample, mask writing "
        "and polygonising (whole extract). For the per-pixel model the inference is cheaper "
        "than reading the raster, so the pipeline's own per-tile work (reading, "
        "evidence indices, region labelling, all in the worker threads) dominates, and the "
        "1.3x target is not met for these two; the overhead is a roughly fixed cost per pixel, "
        "so it shrinks as the model's share of the time grows (the medium conv, closer to a "
        "real segmentation network, shows where a real model lands).",
        "",
        f"Tiny SPEX config, one 512 px model window, best of 5 (vision, one answer of "
        f"{spex['torch']['tokens']} generated tokens, mask decoder):",
        "",
        "| runtime | total | vision | generation | mask decoder |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {name} | {r['total_s']:.3f} s | {r['vision_s']:.3f} s | {r['generation_s']:.3f} s "
            f"| {r['mask_decoder_s']:.3f} s |"
            for name, r in (("torch (CPU)", spex["torch"]), ("onnxruntime (CPU)", spex["ort"]))
        ],
        "",
        f"onnxruntime / torch: {spex['ort']['total_s'] / spex['torch']['total_s']:.2f}x the time.",
        "",
        "On a GPU: `python bench/gpu_onnx.py` (CUDA provider for both, same figures).",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark, print the Markdown and write it into docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="raster side in pixels")
    parser.add_argument("--pipeline-tile", type=int, default=1024)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    raster = build_tiled_raster(SCENE, CACHE / f"s2_{args.size}.tif", args.size)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, kind in (
            ("per-pixel (1x1 conv)", "pixel"),
            ("small conv (3x3 x2)", "conv"),
            ("medium conv (3x3 x4, 32 ch)", "medium"),
        ):
            model = build_model(work / f"{kind}.onnx", kind)
            raw = raw_onnxruntime(model, raster, TILE, 0)
            run = ours(model, raster, work / f"out_{kind}", args.pipeline_tile)
            results[name] = {"raw": raw, "ours": run}
            print(name, raw, run["wall_s"], run["timings"], file=sys.stderr)
        spex = spex_per_window(work)
    text = markdown(args.size, results, spex)
    print(text)
    if not args.no_write:
        replace_section(ROOT / "docs" / "benchmarks.md", "onnx", "## ONNX backend\n\n" + text)
    from bench import onnx_unet  # a real pretrained U-Net, beside the toy models

    unet = onnx_unet.run()
    print(unet)
    if not args.no_write:
        body = "## ONNX backend: a real U-Net (ukis-csmask)\n\n" + unet
        replace_section(ROOT / "docs" / "benchmarks.md", "onnx-unet", body)


if __name__ == "__main__":
    main()
