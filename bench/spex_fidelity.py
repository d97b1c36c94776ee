"""How far SPEX's masks are from the reference's golden tensors, before and after the fix.

For both golden weight sets (``../shared/spex-golden``), end to end on the golden crop and for
the isolated decoder call: the 128 x 128 logits against the reference (max error relative to
max|ref|, share of signs that differ) and the soft masks cut at 0.5, with

- ``fixed``: the decoder as built now (the reference's double softmax);
- ``single softmax``: transformers' SAM decoder as is, i.e. the project before the fix;
- ``old post-processing``: this decoder's logits upsampled first, then cut at 0 (what the
  project did per window before), against the reference's soft mask cut at 0.5.

    python bench/spex_fidelity.py                  # about 10 s on one CPU core
    python bench/spex_fidelity.py --device cuda    # the same on a GPU (float32)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parent))  # `spex` = the repository root when not installed
GOLDEN = ROOT.parent / "shared" / "spex-golden"
SETS = ("A_project_init_seed0", "B_stress_all_random")


def _plain_decoder(model: object) -> object:
    """transformers' SamMaskDecoder with the model's decoder weights (single softmax)."""
    from transformers.models.sam.modeling_sam import SamMaskDecoder

    from spex.engine.backends.spex.sam_parts import sam_config

    config = sam_config(model.config.sam).mask_decoder_config
    config._attn_implementation = "eager"
    plain = SamMaskDecoder(config).eval()
    plain.load_state_dict(model.model.vision_tower.mask_decoder.state_dict())
    return plain


def _logits(
    model: object, rgb: object, prompt: dict, ref: dict, device: str = "cpu"
) -> dict[str, object]:
    import torch

    from spex.engine.backends.spex.inference import SpexRunner
    from spex.engine.backends.spex.tokenizer import load_tokenizer

    runner = SpexRunner(model, load_tokenizer(GOLDEN / "weights" / SETS[0]), 24)
    tokens, embeds = runner.encode(rgb[None])
    answer = runner.answer(tokens[0], embeds[0], prompt["request"])
    with torch.no_grad():
        iso = (
            model.decode_masks(
                torch.from_numpy(ref["iso_image_embeddings"]).to(device),
                torch.from_numpy(ref["iso_sparse_prompts"]).to(device),
            )
            .cpu()
            .numpy()
        )
    return {"mask_logits_128": answer.logits[None], "iso_mask_logits_128": iso}


def _compare(got: object, ref: dict, stage: str) -> dict[str, float]:
    import numpy as np

    from spex.engine.backends.spex.postprocess import resize_bilinear, soft_mask

    want = ref[stage]
    final = ref[stage.replace("logits_128", "final_512")] > 0.5
    scale = float(np.abs(want).max())
    error = float(np.abs(got - want).max())
    old_post = resize_bilinear(got, 512, 512) > 0
    return {
        "max_abs_error": error,
        "max_abs_ref": scale,
        "relative_error": error / scale,
        "signs_differ_pct": round(100 * float(((got > 0) != (want > 0)).mean()), 2),
        "soft_mask_cut_differs_pct": round(
            100 * float(((soft_mask(got, 512, 512, 512) > 0.5) != final).mean()), 2
        ),
        "old_postprocessing_differs_pct": round(100 * float((old_post != final).mean()), 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the comparison as JSON and Markdown."""
    import argparse

    import torch
    from safetensors.numpy import load_file

    from spex.engine.backends.spex.model import exact_float32
    from spex.engine.backends.spex.weights import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    device = parser.parse_args(argv).device
    if not GOLDEN.is_dir():
        print(f"no golden data at {GOLDEN}: nothing to compare", file=sys.stderr)
        return 0
    torch.set_num_threads(1)
    if device.startswith("cuda"):
        exact_float32()  # as the backend runs float32 on CUDA
    rgb = load_file(GOLDEN / "inputs" / "inputs.safetensors")["image_rgb"]
    prompt = json.loads((GOLDEN / "inputs" / "prompt.json").read_text())
    rows = []
    for name in SETS:
        ref = load_file(GOLDEN / "reference" / f"{name}.safetensors")
        model, _ = load_model(GOLDEN / "weights" / name, hash_files=False)
        model = model.to(device).eval()
        fixed = _logits(model, rgb, prompt, ref, device)
        model.model.vision_tower.mask_decoder = _plain_decoder(model).to(device)
        before = _logits(model, rgb, prompt, ref, device)
        for stage in ("mask_logits_128", "iso_mask_logits_128"):
            for decoder, got in (("fixed", fixed), ("single softmax", before)):
                rows.append({"set": name, "call": stage, "decoder": decoder})
                rows[-1].update(_compare(got[stage], ref, stage))
    print(json.dumps(rows, indent=2))
    print(
        "\n| weight set | call | decoder | max abs error / max abs ref | rel. error | signs "
        "differ | mask (soft > 0.5) differs | old post-processing differs |\n"
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    )
    for r in rows:
        call = "end to end" if r["call"] == "mask_logits_128" else "decoder alone"
        print(
            f"| {r['set'][0]} | {call} | {r['decoder']} | {r['max_abs_error']:.3g} / "
            f"{r['max_abs_ref']:.3g} | {r['relative_error']:.2g} | {r['signs_differ_pct']} % | "
            f"{r['soft_mask_cut_differs_pct']} % | {r['old_postprocessing_differs_pct']} % |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
