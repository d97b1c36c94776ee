"""SPEX model on this CPU: tiles per second and peak memory, tiny config and full size.

Each configuration runs in its own process (so its peak memory is its own) on real 512 px
true-colour tiles cut from the Sentinel-2 sample scene, with random weights:
vision tower on the tiles, then one request per tile (prefill + greedy decoding + condensation
+ SAM decoding). The full size on CPU is slow, so it runs one tile with a prefill-only answer and
a 5-token answer; the cost of a full 256-token answer is extrapolated from the per-token time
(stated as such). Writes the "spex" section of docs/benchmarks.md.

    .venv/bin/python bench/spex_bench.py            # both sizes (full needs ~10 GB RAM)
    .venv/bin/python bench/spex_bench.py --skip-full
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import replace_section  # noqa: E402

SCENE = ROOT / ".cache" / "data" / "s2l1c_T33UUU_20170216.tif"
REQUEST = (
    "<image>\nBased on the provided image and the attributes of the water bodies regions, please "
    "provide a detailed description of them:[{'Size of area': 'large', 'Centroid': [0.48, 0.422], "
    "'Location': 'center', 'Bounding box': [[0.09, 0.0], [0.998, 0.0], [0.998, 0.963], "
    "[0.09, 0.963]]}]"
)


def _tiles(n: int) -> object:
    """n real 512 px true-colour tiles (global stretch) from the sample scene."""
    import numpy as np
    import rasterio

    from spex.engine.backends.spex.stretch import fit_stretch

    with rasterio.open(SCENE) as src:
        rgb = src.read([4, 3, 2]).astype(np.float32) / 10000.0  # B04, B03, B02
    bands = {"red": rgb[0], "green": rgb[1], "blue": rgb[2]}
    stretch = fit_stretch({k: v.ravel()[::7] for k, v in bands.items()})
    out = []
    for i in range(n):
        r, c = (i // 3) % 2 * 256, (i % 3) * 512
        crop = {k: v[r : r + 512, c : c + 512] for k, v in bands.items()}
        out.append(stretch.apply(crop)[0])
    return np.stack(out)


def measure(size: str, tiles: int, new_tokens: int) -> dict[str, float]:
    """Run in this process; returns timings and peak RSS."""
    import torch

    from spex.engine.backends.spex.config import preset
    from spex.engine.backends.spex.inference import SpexRunner
    from spex.engine.backends.spex.tokenizer import build_tiny_tokenizer
    from spex.engine.backends.spex.weights import build_random_model

    torch.manual_seed(0)
    clock = time.perf_counter()
    model = build_random_model(preset(size), seed=0).eval()
    build_s = time.perf_counter() - clock
    runner = SpexRunner(model, build_tiny_tokenizer(512), new_tokens, batch_size=1)
    rgb = _tiles(tiles)
    if size == "tiny":  # warm-up: one-time kernel set-up would dominate the tiny timings
        runner.answer(*[t[0] for t in runner.encode(rgb[:1])], REQUEST)
    clock = time.perf_counter()
    tokens, embeds = runner.encode(rgb)
    vision_s = time.perf_counter() - clock
    result: dict[str, float] = {"build_s": build_s, "vision_s_per_tile": vision_s / tiles}
    if size == "full":
        runner.max_new_tokens = 1
        runner.answer(tokens[0], embeds[0], REQUEST)  # warm-up: one-time kernel set-up
        runner.max_new_tokens = new_tokens
        runner.timings = {k: 0.0 for k in runner.timings}
        clock = time.perf_counter()
        answer = runner.answer(tokens[0], embeds[0], REQUEST)
        answer_s = time.perf_counter() - clock
        prefill_s = runner.timings["prefill_s"]
        decode_s = runner.timings["generation_s"] - prefill_s
        per_token = decode_s / max(1, answer.tokens - 1)  # the last token is not fed back
        result.update(prefill_s=prefill_s, per_token_s=per_token, tokens=answer.tokens)
        result["mask_decoder_s"] = runner.timings["mask_decoder_s"]
        result["answer_s_256"] = prefill_s + 255 * per_token + result["mask_decoder_s"]
        result["tile_s_measured"] = vision_s / tiles + answer_s
        result["tile_s_256"] = vision_s / tiles + result["answer_s_256"]
    else:
        clock = time.perf_counter()
        lengths = [runner.answer(tokens[i], embeds[i], REQUEST).tokens for i in range(tiles)]
        answer_s = (time.perf_counter() - clock) / tiles
        result.update(answer_s=answer_s, tokens=sum(lengths) / tiles)
        result["tile_s_measured"] = vision_s / tiles + answer_s
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    result["threads"] = torch.get_num_threads()
    return result


def _child(size: str, tiles: int, new_tokens: int) -> dict[str, float]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        size,
        "--tiles",
        str(tiles),
        "--new-tokens",
        str(new_tokens),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def report(tiny: dict, full: dict | None, tiny_tokens: int) -> str:
    """The Markdown section."""
    lines = [
        f"Random weights, float32, CPU ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, torch threads {tiny['threads']}); real 512 px tiles from the "
        "Sentinel-2 sample; one request per tile; `.venv/bin/python bench/spex_bench.py`. "
        "The machine was shared with other jobs: expect noise of tens of percent.",
        "",
        "| model | tiles/s | s/tile | vision s/tile | answer s/tile | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| tiny ({tiny_tokens} new tokens) | {1 / tiny['tile_s_measured']:.2f} | "
        f"{tiny['tile_s_measured']:.2f} | {tiny['vision_s_per_tile']:.2f} | "
        f"{tiny['answer_s']:.2f} | {tiny['peak_rss_gb']:.2f} GB |",
    ]
    if full:
        lines.append(
            f"| full 1.78 B ({full['tokens']:.0f} new tokens, measured) | "
            f"{1 / full['tile_s_measured']:.4f} | {full['tile_s_measured']:.1f} | "
            f"{full['vision_s_per_tile']:.1f} | {full['tile_s_measured'] - full['vision_s_per_tile']:.1f} | "
            f"{full['peak_rss_gb']:.1f} GB |"
        )
        lines.append(
            f"| full 1.78 B (256 new tokens, extrapolated) | {1 / full['tile_s_256']:.4f} | "
            f"{full['tile_s_256']:.0f} | {full['vision_s_per_tile']:.1f} | {full['answer_s_256']:.0f} | "
            f"{full['peak_rss_gb']:.1f} GB |"
        )
        ratio = full["tile_s_measured"] / tiny["tile_s_measured"]
        lines += [
            "",
            f"Full size: prefill (about 1,100 tokens incl. 1,024 visual) {full['prefill_s']:.1f} s, "
            f"then {full['per_token_s']:.2f} s per generated token; the 256-token row is "
            f"prefill + 255 x per-token time (extrapolated, not run). Building the random "
            f"weights took {full['build_s']:.0f} s. Full size is {ratio:.0f}x slower than tiny "
            "per tile at the measured token counts.",
            "",
            f"Verdict: full size on CPU runs, at about {full['peak_rss_gb']:.0f} GB of memory in "
            f"float32, but at {full['tile_s_256'] / 60:.1f} min per tile and request with full "
            "answers it is practical only for a few tiles (spot checks); whole scenes need a GPU.",
        ]
    return "\n".join(lines)


def main() -> int:
    """Parse arguments, run the children, print and write the section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", choices=("tiny", "full"))
    parser.add_argument("--tiles", type=int, default=6)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.tiles, args.new_tokens)))
        return 0
    tiny = _child("tiny", args.tiles, args.new_tokens)
    full = None if args.skip_full else _child("full", 1, 6)
    text = report(tiny, full, args.new_tokens)
    print(text)
    if not args.no_write:
        replace_section(
            ROOT / "docs" / "benchmarks.md", "spex", "## SPEX model (PyTorch, CPU)\n\n" + text
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
