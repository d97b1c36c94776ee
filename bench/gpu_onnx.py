"""GPU check of the onnx backend (run on a machine with an NVIDIA GPU and onnxruntime-gpu).

Checks, in one short run (about 3-5 minutes):
1. onnxruntime lists CUDAExecutionProvider, and a session really runs on it (not CPU fallback);
2. `spex extract --backend onnx` on CUDA against raw onnxruntime on CUDA over the same model
   windows (per-pixel and small convolutional models), with the provider in run.json;
3. the tiny SPEX export on onnxruntime-CUDA against the torch backend on CUDA: identical
   generated tokens and mask IoU >= 0.99, and the time per window of each;
4. TensorRT, when listed: one session on the per-pixel model (engine build time reported).

Prints Markdown, writes results.json under $OUT (or .cache/bench) and, unless --no-write, the
"onnx-gpu" section of docs/benchmarks.md. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.large_raster import build_tiled_raster  # noqa: E402
from bench.onnx_bench import (  # noqa: E402
    CACHE,
    SCENE,
    TILE,
    build_model,
    ours,
    raw_onnxruntime,
    spex_per_window,
)
from bench.report import replace_section  # noqa: E402


def main() -> int:
    """Run the GPU checks; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    import onnxruntime as ort
    import torch

    providers = ort.get_available_providers()
    print(f"onnxruntime {ort.__version__}: {providers}; torch cuda: {torch.cuda.is_available()}")
    failures: list[str] = []
    if "CUDAExecutionProvider" not in providers:
        print("FAIL: CUDAExecutionProvider is not available (install onnxruntime-gpu)")
        return 1
    CACHE.mkdir(parents=True, exist_ok=True)
    raster = build_tiled_raster(SCENE, CACHE / f"s2_{args.size}.tif", args.size)
    results: dict[str, object] = {"providers": providers, "onnxruntime": ort.__version__}
    lines = [
        f"GPU: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else '?'}; "
        f"onnxruntime {ort.__version__}; raster {args.size} x {args.size} px.",
        "",
        "| model | raw onnxruntime (CUDA) | ours: classify | ours: extract | extract / raw "
        "| provider in run.json |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, kind in (("per-pixel", "pixel"), ("small conv", "conv")):
            model = build_model(work / f"{kind}.onnx", kind)
            raw = raw_onnxruntime(model, raster, TILE, 0, "cuda")
            run = ours(model, raster, work / f"out_{kind}", 1024, "cuda")
            provider = run["details"]["provider"]
            if raw["provider"] != "CUDAExecutionProvider" or provider != "CUDAExecutionProvider":
                failures.append(f"{name}: ran on {raw['provider']} / {provider}, not CUDA")
            results[kind] = {"raw": raw, "ours": run}
            lines.append(
                f"| {name} | {raw['run_s']:.2f} s | {run['timings']['classify_s']:.2f} s | "
                f"{run['wall_s']:.2f} s | {run['wall_s'] / raw['run_s']:.2f}x | {provider} |"
            )
        spex = spex_per_window(work, device="cuda", provider="cuda")
        results["spex"] = spex
        if not spex["same_tokens"] or spex["mask_iou"] < 0.99:
            failures.append(
                f"SPEX on CUDA: tokens equal {spex['same_tokens']}, IoU {spex['mask_iou']}"
            )
        if spex["provider"] != "CUDAExecutionProvider":
            failures.append(f"SPEX parts ran on {spex['provider']}")
        lines += [
            "",
            f"Tiny SPEX per window on CUDA: torch {spex['torch']['total_s']:.3f} s, onnxruntime "
            f"{spex['ort']['total_s']:.3f} s; same tokens: {spex['same_tokens']}, mask IoU "
            f"{spex['mask_iou']:.4f}.",
        ]
        if "TensorrtExecutionProvider" in providers:
            from spex.engine.backends.onnx.runtime import open_session

            clock = time.perf_counter()
            try:
                session = open_session(work / "pixel.onnx", "tensorrt")
                lines.append(
                    f"TensorRT: session on {session.provider} in {time.perf_counter() - clock:.1f} s."
                )
            except Exception as exc:  # report, do not fail the CUDA checks
                lines.append(f"TensorRT: could not start ({str(exc)[:200]}).")
    text = "\n".join(lines)
    print(text)
    out = Path(os.environ.get("OUT", CACHE))
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    if not args.no_write:
        replace_section(
            ROOT / "docs" / "benchmarks.md", "onnx-gpu", "## ONNX backend on a GPU\n\n" + text
        )
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
