"""``spex models init``: a randomly initialised model folder in the published layout."""

from __future__ import annotations

from pathlib import Path

from .config import preset, with_random_weights


def init_model_folder(out: Path, size: str = "tiny", seed: int = 0, dtype: str = "auto") -> Path:
    """Write config.json (flagged ``random_weights``), model.safetensors and tokenizer files.

    The tiny size gets a tokenizer of exactly its vocabulary; the full size gets the same small
    stand-in tokenizer (the real Qwen2.5 one ships with the real weights), whose ids cover only
    the start of the 151,936-token vocabulary: ids past it decode to nothing.
    """
    import torch

    from .tokenizer import build_tiny_tokenizer, save_tokenizer
    from .weights import build_random_model, save_model

    config = with_random_weights(preset(size))
    if dtype == "auto":
        dtype = "float32" if size == "tiny" else "bfloat16"
    tokenizer = build_tiny_tokenizer(min(512, config.text.vocab_size))
    model = build_random_model(config, seed, getattr(torch, dtype))
    out = Path(out)
    save_model(model, out)
    save_tokenizer(tokenizer, out)
    return out
