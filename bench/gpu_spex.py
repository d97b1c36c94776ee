"""GPU check of the SPEX model (for a session with a CUDA GPU): one call does all of it.

First the precision check (`bench/spex_precision.py`): the golden crop and prompt in float32
and in bfloat16 on the GPU, for the golden weight sets (and ``--model DIR``, the real
checkpoint, when given); bf16 may become the default only where every mask IoU against float32
is >= 0.99 (float32 is the default until then). Then the timing: full-size architecture,
random weights, in ``--dtype`` (default float32, the reference's precision), on one batch of 512 px tiles (``--tiles``, default 4; real Sentinel-2 tiles when the sample scene is
there, else random colour): vision tower on the whole batch in one forward pass, then one
request per tile (prefill + greedy decoding capped at ``--new-tokens`` + condensation + SAM
decoding). Prints JSON and Markdown: tiles/s, peak GPU memory, and the share of time in the
vision tower, generation and the mask decoder; also checks the pure-PyTorch DCNv3 against the
compiled op when that is installed.

    python bench/gpu_spex.py --tiles 4 --new-tokens 64      # about 1-3 minutes on one GPU

Without a CUDA GPU it says so and exits 0 (nothing to measure).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))  # `spex` = the repository root when not installed

REQUEST = (
    "<image>\nBased on the provided image and the attributes of the water bodies regions, please "
    "provide a detailed description of them:[{'Size of area': 'large', 'Centroid': [0.48, 0.422], "
    "'Location': 'center', 'Bounding box': [[0.09, 0.0], [0.998, 0.0], [0.998, 0.963], "
    "[0.09, 0.963]]}]"
)


def _rgb(n: int) -> object:
    import numpy as np

    scene = ROOT / ".cache" / "data" / "s2l1c_T33UUU_20170216.tif"
    if scene.is_file():
        from bench.spex_bench import _tiles

        return _tiles(n)
    return np.random.default_rng(0).integers(0, 256, (n, 512, 512, 3), dtype=np.uint8)


def main() -> int:
    """Run the checks; without a GPU say so and exit 0."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiles", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"))
    parser.add_argument("--model", type=Path, action="append", default=[])
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print(
            "no CUDA GPU on this machine: the bf16-vs-float32 mask check and the GPU timing did "
            "not run (float32 stays the default); run this script again where a GPU is.",
            file=sys.stderr,
        )
        return 0
    from bench import spex_precision

    if spex_precision.GOLDEN.is_dir():
        check = spex_precision.bf16_check("cuda", args.model)
        print(json.dumps(check, indent=2))
        print(spex_precision.markdown(check) + "\n")
    else:
        print(
            f"no golden data at {spex_precision.GOLDEN}: precision check skipped", file=sys.stderr
        )
    from spex.engine.backends.spex import dcnv3
    from spex.engine.backends.spex.config import full_config
    from spex.engine.backends.spex.inference import SpexRunner
    from spex.engine.backends.spex.model import build_model, pick_attention
    from spex.engine.backends.spex.tokenizer import build_tiny_tokenizer
    from spex.engine.backends.spex.weights import random_init_

    dtype = getattr(torch, args.dtype)
    if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        dtype = torch.float16
    result: dict[str, object] = {"gpu": torch.cuda.get_device_name(0), "dtype": str(dtype)}
    result["dcnv3_cuda_op"] = dcnv3.cuda_op_available()
    x = torch.randn(2, 32, 32, 64, device="cuda")
    off = torch.randn(2, 32, 32, 4 * 9 * 2, device="cuda")
    mask = torch.softmax(torch.randn(2, 32, 32, 4, 9, device="cuda"), -1).flatten(-2)
    pure = dcnv3.dcnv3_core_torch(x, off, mask, 3, 1, 1, 1, 4, 2.0)
    fused = dcnv3.dcnv3_core(x, off, mask, 3, 1, 1, 1, 4, 2.0)
    result["dcnv3_max_abs_diff"] = float((pure - fused).abs().max())

    clock = time.perf_counter()
    attention = pick_attention("cuda")
    model = build_model(full_config(), "cuda", attention)  # allocated on the GPU, then random
    random_init_(model, seed=0)
    model = model.to(dtype).eval()
    result.update(attention=attention, build_s=round(time.perf_counter() - clock, 1))
    runner = SpexRunner(model, build_tiny_tokenizer(512), args.new_tokens, batch_size=args.tiles)
    rgb = _rgb(args.tiles)
    runner.encode(rgb[:1])  # warm-up (kernels, allocator)
    runner.answer(*[t[0] for t in runner.encode(rgb[:1])], REQUEST)
    runner.timings = {k: 0.0 for k in runner.timings}
    torch.cuda.reset_peak_memory_stats()
    torch.cuda.synchronize()
    clock = time.perf_counter()
    tokens, embeds = runner.encode(rgb)
    lengths = [runner.answer(tokens[i], embeds[i], REQUEST).tokens for i in range(args.tiles)]
    torch.cuda.synchronize()
    total = time.perf_counter() - clock
    shares = {k: round(v / total, 3) for k, v in runner.timings.items()}
    result.update(
        tiles=args.tiles,
        new_tokens_cap=args.new_tokens,
        mean_tokens=sum(lengths) / len(lengths),
        seconds=round(total, 2),
        tiles_per_s=round(args.tiles / total, 3),
        peak_gpu_gb=round(torch.cuda.max_memory_allocated() / 2**30, 2),
        time_share=shares,
    )
    print(json.dumps(result, indent=2))
    print(
        f"\n| GPU | dtype | tiles | tiles/s | peak GPU memory | vision | generation | mask decoder |\n"
        f"| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        f"| {result['gpu']} | {dtype} | {args.tiles} | {result['tiles_per_s']} | "
        f"{result['peak_gpu_gb']} GiB | {shares['vision_s']:.0%} | {shares['generation_s']:.0%} | "
        f"{shares['mask_decoder_s']:.0%} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
