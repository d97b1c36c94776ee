"""Does bfloat16 give the float32 masks? The check that decides SPEX's default precision.

The golden crop and prompt (``../shared/spex-golden``) run through the SPEX runner twice on one
device, in float32 and in bfloat16, for each model folder: the golden weight sets A and B, and
the real checkpoint when one is given. The soft masks (reference post-processing) are cut at
0.5 and compared: bf16 may become the default only where the mask IoU is >= 0.99 for every
folder. `bench/gpu_spex.py` runs it on CUDA; ``--device cpu`` exercises the same code here.

    python bench/spex_precision.py --device cpu [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parent))  # `spex` = the repository root when not installed
GOLDEN = ROOT.parent / "shared" / "spex-golden"
SETS = ("A_project_init_seed0", "B_stress_all_random")
#: bf16 must reach this mask IoU against float32 on every folder to become the default.
IOU_NEEDED = 0.99


def _mask(folder: Path, device: str, dtype: object, rgb: object, prompt: dict) -> dict:
    import numpy as np
    import torch

    from spex.engine.backends.spex.inference import SpexRunner
    from spex.engine.backends.spex.postprocess import SOFT_THRESHOLD, soft_mask
    from spex.engine.backends.spex.tokenizer import load_tokenizer
    from spex.engine.backends.spex.weights import load_model

    model, _ = load_model(folder, device=device, dtype=dtype, hash_files=False)
    runner = SpexRunner(model.eval(), load_tokenizer(folder), prompt["max_new_tokens"])
    tokens, embeds = runner.encode(rgb[None])
    answer = runner.answer(tokens[0], embeds[0], prompt["request"])
    del model, runner
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    if answer.logits is None:
        return {"ids": answer.token_ids, "logits": None, "mask": np.zeros((512, 512), bool)}
    soft = soft_mask(answer.logits[None], 512, 512, 512)[0]
    return {"ids": answer.token_ids, "logits": answer.logits, "mask": soft > SOFT_THRESHOLD}


def bf16_check(device: str, models: list[Path], golden: Path = GOLDEN) -> dict[str, object]:
    """float32 vs bfloat16 masks per model folder; ``bf16_agrees`` when every IoU >= 0.99."""
    import numpy as np
    import torch
    from safetensors.numpy import load_file

    rgb = load_file(golden / "inputs" / "inputs.safetensors")["image_rgb"]
    prompt = json.loads((golden / "inputs" / "prompt.json").read_text())
    folders = [golden / "weights" / name for name in SETS] + list(models)
    rows = []
    for folder in folders:
        full = _mask(folder, device, torch.float32, rgb, prompt)
        half = _mask(folder, device, torch.bfloat16, rgb, prompt)
        union = int((full["mask"] | half["mask"]).sum())
        iou = 1.0 if union == 0 else int((full["mask"] & half["mask"]).sum()) / union
        row = {"model": folder.name, "mask_iou": round(iou, 5)}
        row["same_answer_ids"] = full["ids"] == half["ids"]
        if full["logits"] is not None and half["logits"] is not None:
            scale = float(np.abs(full["logits"]).max()) or 1.0
            error = float(np.abs(full["logits"] - half["logits"]).max())
            row["logits_max_rel_diff"] = round(error / scale, 5)
        rows.append(row)
    agrees = all(row["mask_iou"] >= IOU_NEEDED for row in rows)
    return {"device": device, "iou_needed": IOU_NEEDED, "bf16_agrees": agrees, "models": rows}


def markdown(result: dict[str, object]) -> str:
    """The check as a Markdown table."""
    lines = [
        "| model | mask IoU bf16 vs float32 | same answer | logits max rel. diff |",
        "| --- | ---: | --- | ---: |",
    ]
    for row in result["models"]:
        lines.append(
            f"| {row['model']} | {row['mask_iou']} | {row['same_answer_ids']} | "
            f"{row.get('logits_max_rel_diff', '-')} |"
        )
    verdict = "agrees" if result["bf16_agrees"] else "does NOT agree: keep float32"
    lines.append(f"\nbf16 on {result['device']} {verdict} (IoU needed: {result['iou_needed']}).")
    return "\n".join(lines)


def main() -> int:
    """Run the check on the device asked for."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", type=Path, action="append", default=[])
    args = parser.parse_args()
    if not GOLDEN.is_dir():
        print(f"no golden data at {GOLDEN}: nothing to compare", file=sys.stderr)
        return 0
    result = bf16_check(args.device, args.model)
    print(json.dumps(result, indent=2))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
