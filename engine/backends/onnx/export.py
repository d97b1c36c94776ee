"""`spex export-onnx`: a SPEX model folder to ONNX parts that onnxruntime runs.

Parts (all with a dynamic batch axis):

- `vision.onnx`: normalised RGB tile (B, 3, S, S) -> visual tokens after the projector
  (B, T, hidden) and the SAM image embedding (B, E, h, w); also, as extra outputs that the
  runner does not fetch, the four backbone stages (``stage1`` ... ``stage4``), the aggregated
  features and the tokens before the projector (the golden tests compare them);
- `embed.onnx`: token ids (B, T) -> input embeddings (B, T, hidden);
- `decoder.onnx`: one Qwen2 pass with an explicit KV cache: input embeddings (B, T, hidden),
  past keys / values (layers, B, kv_heads, P, head_dim) -> final-norm hidden states, the
  last position's logits and the present keys / values (P + T long). P may be 0 (the prompt);
- `condense.onnx`: pooled answer-token states (B, 4, hidden) -> SAM sparse prompts
  (B, 1, 4, E): the condensation MLP. The adaptive average pooling over the variable number of
  answer tokens runs in numpy (`spex_runner`), since ONNX has no adaptive pooling over a
  dynamic length;
- `mask.onnx`: sparse prompts + SAM embedding -> mask logits (B, 4h, 4w): the SAM prompt
  encoder and mask decoder (with the reference's double softmax, see `sam_parts`).

The decoder is written out here from the Qwen2 weights (RMSNorm, rotary embeddings, grouped
query attention, SwiGLU MLP), because the library's cache objects do not trace; the export
checks it against the library's forward before writing anything. Opset 17 / IR 8 are read by
every onnxruntime since 1.14. `config.json` and the tokenizer files are copied, and
`spex_onnx.json` describes the parts.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from pathlib import Path

import torch
from torch import nn

from ...errors import BackendError
from ...outputs import check_output_dir
from .metadata import MANIFEST_NAME
from .runtime import EXPORT_IR_VERSION, EXPORT_OPSET

FORMAT = "spex-onnx/2"  # 2: the condensation MLP is its own part; vision has stage outputs
#: The extra outputs of vision.onnx, after the two the runner uses.
VISION_PROBES = (
    "stage1",
    "stage2",
    "stage3",
    "stage4",
    "aggregated_features",
    "vision_tokens_pre_projector",
)
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "added_tokens.json",
    "generation_config.json",
)


class VisionPart(nn.Module):
    """Tile -> (visual tokens, SAM embedding)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, ...]:
        vision = self.model.model.vision_tower.vision_tower.vision_model
        stages = vision.stages(pixel_values)
        fused = vision.feat_aggregator(stages)
        n, c, h, w = fused.shape
        sam_embedding = vision.visionneck(fused.permute(0, 2, 3, 1))
        features = fused.reshape(n, c, h * w).permute(0, 2, 1)
        tokens = self.model.model.mm_projector(features)
        return (tokens, sam_embedding, *stages, fused, features)


class EmbedPart(nn.Module):
    """Token ids -> input embeddings."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.embed = model.model.embed_tokens

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed(input_ids)


class CondensePart(nn.Module):
    """Pooled answer states -> SAM sparse prompts."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.mlp = model.model.vision_tower.lan_neck.text_mlp

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.mlp(pooled).unsqueeze(1)


class MaskPart(nn.Module):
    """Sparse prompts + SAM embedding -> mask logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, sparse_prompts: torch.Tensor, sam_embedding: torch.Tensor) -> torch.Tensor:
        return self.model.decode_masks(sam_embedding, sparse_prompts)


def _rms(x: torch.Tensor, norm: nn.Module) -> torch.Tensor:
    eps = getattr(norm, "variance_epsilon", getattr(norm, "eps", 1e-6))
    x32 = x.float()
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return norm.weight * x32.to(x.dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class DecoderPart(nn.Module):
    """One Qwen2 decoder pass over new positions with an explicit, stacked KV cache."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        text = model.config.text
        self.lm = model.model
        self.lm_head = model.lm_head
        self.heads = text.num_attention_heads
        self.kv_heads = text.num_key_value_heads
        self.head_dim = text.hidden_size // text.num_attention_heads
        rotary = getattr(model.model, "rotary_emb", None)
        inv_freq = getattr(rotary, "inv_freq", None)
        if inv_freq is None:
            dims = torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim
            inv_freq = 1.0 / (text.rope_theta**dims)
        self.register_buffer("inv_freq", inv_freq.float().clone(), persistent=False)
        self.rope_scale = float(getattr(rotary, "attention_scaling", 1.0))

    def forward(
        self, inputs_embeds: torch.Tensor, past_keys: torch.Tensor, past_values: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        batch, new = inputs_embeds.shape[0], inputs_embeds.shape[1]
        past = past_keys.shape[3]
        positions = torch.arange(new, device=inputs_embeds.device).float() + past
        freqs = positions[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = (emb.cos() * self.rope_scale).to(inputs_embeds.dtype)[None, None]
        sin = (emb.sin() * self.rope_scale).to(inputs_embeds.dtype)[None, None]
        total = past + new
        # new position i sees cached positions and new positions <= i
        rows = torch.arange(new, device=inputs_embeds.device)[:, None] + past
        cols = torch.arange(total, device=inputs_embeds.device)[None, :]
        mask = torch.zeros(new, total, dtype=inputs_embeds.dtype, device=inputs_embeds.device)
        mask = mask.masked_fill(cols > rows, torch.finfo(inputs_embeds.dtype).min)
        hidden = inputs_embeds
        keys_out, values_out = [], []
        groups = self.heads // self.kv_heads
        for i, layer in enumerate(self.lm.layers):
            attn = layer.self_attn
            x = _rms(hidden, layer.input_layernorm)
            q = attn.q_proj(x).view(batch, new, self.heads, self.head_dim).transpose(1, 2)
            k = attn.k_proj(x).view(batch, new, self.kv_heads, self.head_dim).transpose(1, 2)
            v = attn.v_proj(x).view(batch, new, self.kv_heads, self.head_dim).transpose(1, 2)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            k = torch.cat([past_keys[i], k], dim=2)
            v = torch.cat([past_values[i], v], dim=2)
            keys_out.append(k)
            values_out.append(v)
            k_all = k.repeat_interleave(groups, dim=1)
            v_all = v.repeat_interleave(groups, dim=1)
            scores = torch.matmul(q, k_all.transpose(2, 3)) * (self.head_dim**-0.5) + mask
            probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
            out = torch.matmul(probs, v_all).transpose(1, 2).reshape(batch, new, -1)
            hidden = hidden + attn.o_proj(out)
            x = _rms(hidden, layer.post_attention_layernorm)
            mlp = layer.mlp
            hidden = hidden + mlp.down_proj(nn.functional.silu(mlp.gate_proj(x)) * mlp.up_proj(x))
        hidden = _rms(hidden, self.lm.norm)
        logits = self.lm_head(hidden[:, -1]).float()
        return hidden, logits, torch.stack(keys_out), torch.stack(values_out)


def _check_decoder(model: nn.Module, part: DecoderPart) -> float:
    """Largest difference between `DecoderPart` and the library's forward (prompt + 1 step)."""
    text = model.config.text
    torch.manual_seed(0)
    embeds = torch.randn(1, 7, text.hidden_size) * 0.5
    step = torch.randn(1, 1, text.hidden_size) * 0.5
    shape = (text.num_hidden_layers, 1, part.kv_heads, 0, part.head_dim)
    with torch.no_grad():
        ref_hidden, ref_logits, cache = model.language_forward(embeds)
        ref_hidden2, ref_logits2, _ = model.language_forward(step, cache)
        hidden, logits, keys, values = part(embeds, torch.zeros(shape), torch.zeros(shape))
        hidden2, logits2, _, _ = part(step, keys, values)
    return max(
        float((ref_hidden - hidden).abs().max()),
        float((ref_logits - logits).abs().max()),
        float((ref_hidden2 - hidden2).abs().max()),
        float((ref_logits2 - logits2).abs().max()),
    )


def _io(path: Path) -> dict[str, list[dict[str, object]]]:
    import onnx

    proto = onnx.load(str(path), load_external_data=False)

    def dims(value: object) -> list[object]:
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    init = {i.name for i in proto.graph.initializer}
    return {
        "inputs": [
            {"name": v.name, "shape": dims(v)} for v in proto.graph.input if v.name not in init
        ],
        "outputs": [{"name": v.name, "shape": dims(v)} for v in proto.graph.output],
    }


def _export(
    module: nn.Module,
    args: tuple[torch.Tensor, ...],
    path: Path,
    inputs: list[str],
    outputs: list[str],
    axes: dict[str, dict[int, str]],
    opset: int,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            module,
            args,
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            do_constant_folding=True,
        )
    _stamp(path, opset)


def _stamp(path: Path, opset: int) -> None:
    """Pin the IR version and record the export in the model's metadata."""
    import onnx

    proto = onnx.load(str(path))
    proto.ir_version = min(proto.ir_version, EXPORT_IR_VERSION)
    for key, value in (("spex_format", FORMAT), ("spex_opset", str(opset))):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    size = proto.ByteSize()
    if size > 1_900_000_000:  # protobuf's 2 GB limit: weights go to a side file
        onnx.save(proto, str(path), save_as_external_data=True, location=path.name + ".data")
    else:
        onnx.save(proto, str(path))


def export_spex(
    model_dir: str | Path,
    out_dir: str | Path,
    opset: int | None = None,
    tolerance: float = 1e-3,
) -> dict[str, object]:
    """Export the SPEX model of `model_dir` into `out_dir`; return the manifest written.

    Raises `BackendError` when the model cannot be loaded or the decoder does not match the
    library's forward, `OutputError` when `out_dir` is a file, not empty or not writable.
    """
    from ..spex.weights import load_model

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    opset = opset or EXPORT_OPSET
    check_output_dir(out_dir)  # one line for a file, a folder not empty or not writable
    if not (model_dir / "config.json").is_file():
        raise BackendError(f"{model_dir} has no config.json; give a SPEX model folder.")
    clock = time.perf_counter()
    model, info = load_model(model_dir, hash_files=False)
    model = model.float().eval()
    config = model.config
    decoder = DecoderPart(model).eval()
    error = _check_decoder(model, decoder)
    if error > tolerance:
        raise BackendError(
            f"The exportable decoder differs from the model by {error:.2e} (> {tolerance:g}); "
            "this transformers version changed Qwen2; report it."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    size = config.vision.image_size
    text = config.text
    parts: dict[str, dict[str, object]] = {}
    with torch.no_grad():
        pixels = torch.zeros(1, 3, size, size)
        tokens, sam = model.encode_images(pixels)
        _export(
            VisionPart(model),
            (pixels,),
            out_dir / "vision.onnx",
            ["pixel_values"],
            ["image_tokens", "sam_embedding", *VISION_PROBES],
            {
                name: {0: "batch"}
                for name in ("pixel_values", "image_tokens", "sam_embedding", *VISION_PROBES)
            },
            opset,
        )
        _export(
            EmbedPart(model),
            (torch.zeros(1, 5, dtype=torch.long),),
            out_dir / "embed.onnx",
            ["input_ids"],
            ["inputs_embeds"],
            {"input_ids": {0: "batch", 1: "tokens"}, "inputs_embeds": {0: "batch", 1: "tokens"}},
            opset,
        )
        past = torch.zeros(text.num_hidden_layers, 1, decoder.kv_heads, 3, decoder.head_dim)
        cache_axes = {1: "batch", 3: "past"}
        _export(
            decoder,
            (torch.zeros(1, 2, text.hidden_size), past, past.clone()),
            out_dir / "decoder.onnx",
            ["inputs_embeds", "past_keys", "past_values"],
            ["hidden_states", "logits", "present_keys", "present_values"],
            {
                "inputs_embeds": {0: "batch", 1: "tokens"},
                "past_keys": cache_axes,
                "past_values": cache_axes,
                "hidden_states": {0: "batch", 1: "tokens"},
                "logits": {0: "batch"},
                "present_keys": {1: "batch", 3: "total"},
                "present_values": {1: "batch", 3: "total"},
            },
            opset,
        )
        pooled = torch.zeros(1, config.condense_tokens, text.hidden_size)
        _export(
            CondensePart(model),
            (pooled,),
            out_dir / "condense.onnx",
            ["pooled_states"],
            ["sparse_prompts"],
            {"pooled_states": {0: "batch"}, "sparse_prompts": {0: "batch"}},
            opset,
        )
        sparse = torch.zeros(1, 1, config.condense_tokens, config.sam.hidden_size)
        _export(
            MaskPart(model),
            (sparse, sam),
            out_dir / "mask.onnx",
            ["sparse_prompts", "sam_embedding"],
            ["mask_logits"],
            {
                "sparse_prompts": {0: "batch"},
                "sam_embedding": {0: "batch"},
                "mask_logits": {0: "batch"},
            },
            opset,
        )
    for name in ("vision", "embed", "decoder", "condense", "mask"):
        parts[name] = {"file": f"{name}.onnx", **_io(out_dir / f"{name}.onnx")}
    copied = [f for f in TOKENIZER_FILES if (model_dir / f).is_file()]
    for name in [*copied, "config.json"]:
        shutil.copy2(model_dir / name, out_dir / name)
    image_newline = None
    if config.image_newline_at_inference and model.model.image_newline is not None:
        import numpy as np

        image_newline = "image_newline.npy"
        np.save(out_dir / image_newline, model.model.image_newline.detach().float().numpy())
    manifest: dict[str, object] = {
        "format": FORMAT,
        "source_model": str(model_dir.absolute()),
        "opset": opset,
        "ir_version": EXPORT_IR_VERSION,
        "exported_with": {"torch": torch.__version__, "export_s": 0.0},
        "decoder_max_abs_error": error,
        "image_size": size,
        "visual_tokens": int(tokens.shape[1]),
        "sam_embedding": list(sam.shape[1:]),
        "layers": text.num_hidden_layers,
        "kv_heads": decoder.kv_heads,
        "head_dim": decoder.head_dim,
        "hidden_size": text.hidden_size,
        "condense_tokens": config.condense_tokens,
        "image_newline": image_newline,
        "tokenizer_files": copied,
        "random_weights": bool(getattr(config, "random_weights", False)),
        "tied_lm_head": bool(info.tied),
        "parts": parts,
    }
    manifest["exported_with"]["export_s"] = round(time.perf_counter() - clock, 2)
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
