"""Model folders in the published layout: strict loading, saving, random initialisation.

A folder holds ``config.json``, ``model.safetensors`` (or ``model.safetensors.index.json`` and
its shards) and the tokenizer files. Loading is strict: every tensor of the architecture must
be in the file with its shape, and nothing else may be, with two documented exceptions that
depend on how the checkpoint was saved: ``lm_head.weight`` (tied to the input embeddings; a
plain ``save_pretrained`` drops it) and ``model.image_newline`` (unused by the published
inference).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ...errors import BackendError
from .config import SpexConfig
from .model import SpexForCausalLM, build_model

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
LM_HEAD = "lm_head.weight"
EMBED = "model.embed_tokens.weight"
IMAGE_NEWLINE = "model.image_newline"
#: Offending keys named in a mismatch error.
SHOW_KEYS = 5


@dataclass
class LoadInfo:
    """What was loaded and how, for the manifest."""

    folder: Path
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    checkpoint_sha256: str = ""
    lm_head_in_file: bool = False
    image_newline_in_file: bool = False
    tied: bool = True


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_files(folder: Path) -> dict[str, list[str]]:
    """Shard file -> tensor names it holds (one entry for an unsharded checkpoint)."""
    folder = Path(folder)
    index = folder / INDEX_FILE
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (OSError, ValueError, KeyError) as exc:
            raise BackendError(
                f"'{index}' is not a safetensors index ({exc}); re-download it."
            ) from exc
        shards: dict[str, list[str]] = {}
        for name, shard in weight_map.items():
            shards.setdefault(shard, []).append(name)
        for shard in shards:
            if not (folder / shard).is_file():
                raise BackendError(
                    f"Shard '{shard}' named by {INDEX_FILE} is missing in '{folder}'; "
                    "download every shard."
                )
        return shards
    if (folder / SINGLE_FILE).is_file():
        return {SINGLE_FILE: []}
    raise BackendError(
        f"No {SINGLE_FILE} or {INDEX_FILE} in '{folder}'; point --model at a SPEX model folder."
    )


def file_shapes(folder: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape, read from the safetensors headers only."""
    from safetensors import safe_open

    shapes: dict[str, tuple[int, ...]] = {}
    for shard in checkpoint_files(folder):
        with safe_open(str(Path(folder) / shard), framework="pt") as handle:
            for name in handle.keys():  # noqa: SIM118 (safe_open is not iterable)
                shapes[name] = tuple(handle.get_slice(name).get_shape())
    return shapes


def check_keys(
    expected: dict[str, tuple[int, ...]],
    found: dict[str, tuple[int, ...]],
    optional: set[str],
    where: str,
) -> None:
    """Raise one clear `BackendError` unless `found` matches `expected` (minus `optional`)."""
    missing = [k for k in expected if k not in found and k not in optional]
    unexpected = [k for k in found if k not in expected]
    shapes = [k for k in expected if k in found and tuple(found[k]) != tuple(expected[k])]
    if not (missing or unexpected or shapes):
        return
    parts = []
    if missing:
        parts.append(
            f"{len(missing)} missing (the file lacks tensors the model needs: "
            f"{', '.join(missing[:SHOW_KEYS])})"
        )
    if unexpected:
        parts.append(
            f"{len(unexpected)} unexpected (the file holds tensors this model has no place for: "
            f"{', '.join(unexpected[:SHOW_KEYS])})"
        )
    if shapes:
        shown = ", ".join(
            f"{k} file {list(found[k])} vs model {list(expected[k])}" for k in shapes[:SHOW_KEYS]
        )
        parts.append(f"{len(shapes)} with another shape (sizes differ: {shown})")
    raise BackendError(
        f"The weights in '{where}' do not match the SPEX architecture of its config.json: "
        + "; ".join(parts)
        + ". Check that config.json belongs to these weights, or re-download the model folder."
    )


def expected_shapes(config: SpexConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor of the architecture (built on the meta device)."""
    model = build_model(config, "meta")
    return {name: tuple(t.shape) for name, t in model.state_dict(keep_vars=True).items()}


def _read_tensors(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    tensors: dict[str, torch.Tensor] = {}
    for shard in checkpoint_files(folder):
        tensors.update(load_file(str(Path(folder) / shard), device="cpu"))
    return tensors


def load_model(
    folder: Path,
    config: SpexConfig | None = None,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    attn_implementation: str = "sdpa",
    hash_files: bool = True,
) -> tuple[SpexForCausalLM, LoadInfo]:
    """Build the model of ``folder/config.json`` and load its weights strictly."""
    folder = Path(folder)
    config = config or SpexConfig.load(folder)
    model = build_model(config, "meta", attn_implementation)
    expected = {n: tuple(t.shape) for n, t in model.state_dict(keep_vars=True).items()}
    optional = {IMAGE_NEWLINE}
    if config.text.tie_word_embeddings:
        optional.add(LM_HEAD)
    check_keys(expected, file_shapes(folder), optional, str(folder))
    tensors = _read_tensors(folder)
    info = LoadInfo(folder=folder.absolute())
    info.lm_head_in_file = LM_HEAD in tensors
    info.image_newline_in_file = IMAGE_NEWLINE in tensors
    if not info.image_newline_in_file:
        if config.image_newline_at_inference:
            raise BackendError(
                f"'{folder}' has no {IMAGE_NEWLINE} but its config asks for it at inference; "
                "set spex.image_newline_at_inference to false in config.json."
            )
        model.model.image_newline = None
    lm_head = tensors.pop(LM_HEAD, None)
    model.load_state_dict(tensors, strict=False, assign=True)
    if lm_head is not None and not torch.equal(lm_head, model.model.embed_tokens.weight):
        model.lm_head.weight = nn.Parameter(lm_head)  # trained apart: keep both
    else:
        model.tie_weights()
    info.tied = model.tied
    _materialize_buffers(model)
    model = model.to(device=device, dtype=dtype).eval()
    if hash_files:
        info.files = {name: sha256_file(folder / name) for name in sorted(checkpoint_files(folder))}
        info.checkpoint_sha256 = combined_sha256(info.files)
    return model, info


def combined_sha256(files: dict[str, str]) -> str:
    """The file's own sha256 for one file; for shards, the sha256 of "name hash" lines."""
    if len(files) == 1:
        return next(iter(files.values()))
    lines = "".join(f"{name} {digest}\n" for name, digest in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def _materialize_buffers(model: SpexForCausalLM) -> None:
    """Rebuild the non-persistent buffers left on the meta device (the rotary frequencies)."""
    rotary = model.model.rotary_emb
    with torch.device("cpu"):  # its constructor computes the frequencies
        model.model.rotary_emb = type(rotary)(config=model.qwen_config)
    left = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    if left:
        raise BackendError(f"Internal error: tensors left unloaded: {', '.join(left[:SHOW_KEYS])}.")


def random_init_(model: SpexForCausalLM, seed: int = 0, std: float = 0.02) -> SpexForCausalLM:
    """Deterministic random weights: norms 1/0, layer scales 1, biases 0, the rest N(0, std)."""
    generator = torch.Generator().manual_seed(seed)
    seen: set[int] = set()
    for name, tensor in model.state_dict(keep_vars=True).items():
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        leaf = name.rsplit(".", 1)[-1]
        norm = "norm" in name and leaf in ("weight", "bias")
        with torch.no_grad():
            if leaf == "bias":
                tensor.zero_()
            elif norm or leaf in ("weight1", "weight2") or "fuse_all.1" in name:
                tensor.fill_(1.0)
            else:
                values = torch.randn(tensor.shape, generator=generator, dtype=torch.float32)
                tensor.copy_(values * std)
    return model


def build_random_model(
    config: SpexConfig, seed: int = 0, dtype: torch.dtype = torch.float32
) -> SpexForCausalLM:
    """A full model in memory with `random_init_` weights."""
    model = build_model(config, "cpu")
    random_init_(model, seed)
    return model.to(dtype)


def save_model(
    model: SpexForCausalLM,
    folder: Path,
    include_lm_head: bool | None = None,
    max_shard_bytes: int | None = None,
) -> list[str]:
    """Write config.json and the safetensors weights (sharded above `max_shard_bytes`).

    A tied ``lm_head.weight`` is left out, as ``save_pretrained`` does, unless
    `include_lm_head` asks for a copy. Files appear atomically (written aside, then renamed).
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    include = (not model.tied) if include_lm_head is None else include_lm_head
    tensors = {}
    for name, tensor in model.state_dict().items():
        if name == LM_HEAD and not include:
            continue
        if name == IMAGE_NEWLINE and model.model.image_newline is None:
            continue
        tensors[name] = tensor.detach().to("cpu").contiguous().clone()
    shards = _split(tensors, max_shard_bytes)
    names = []
    for i, shard in enumerate(shards, start=1):
        name = (
            SINGLE_FILE if len(shards) == 1 else f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        )
        _atomic(folder / name, lambda p, s=shard: save_file(s, str(p), metadata={"format": "pt"}))
        names.append(name)
    if len(shards) > 1:
        weight_map = {key: names[i] for i, shard in enumerate(shards) for key in shard}
        total = sum(t.numel() * t.element_size() for t in tensors.values())
        index = {"metadata": {"total_size": total}, "weight_map": weight_map}
        _atomic(folder / INDEX_FILE, lambda p: p.write_text(json.dumps(index, indent=2)))
    _atomic(folder / "config.json", lambda p: model.config.save(p))
    return names


def _split(tensors: dict[str, torch.Tensor], limit: int | None) -> list[dict[str, torch.Tensor]]:
    if not limit:
        return [tensors]
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for name, tensor in tensors.items():
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > limit:
            shards.append({})
            size = 0
        shards[-1][name] = tensor
        size += nbytes
    return shards


def _atomic(path: Path, write: object) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
