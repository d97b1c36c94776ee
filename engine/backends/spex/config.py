"""SPEX model sizes as data: the full published configuration, a tiny one for tests, JSON I/O.

The published ``config.json`` is a ``LlavaQwenConfig`` (Qwen2 keys at the top level, plus
``mm_*`` keys). The vision tower, the SAM parts and the condensation neck are hard-coded in the
published code (InternImage-L, SAM ViT-L decoder sizes); we keep their sizes in an optional
``"spex"`` section of the same file, absent in the published folders (then the published sizes
apply) and written by ``spex models init`` so that a tiny model describes itself.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from ...errors import BackendError

#: Qwen2.5-1.5B's special token ids (ChatML) in the published vocabulary.
QWEN_EOS_TOKENS = ("<|im_end|>", "<|endoftext|>")


@dataclass(frozen=True)
class TextConfig:
    """The Qwen2 language model (Qwen2.5-1.5B by default)."""

    vocab_size: int = 151936
    hidden_size: int = 1536
    intermediate_size: int = 8960
    num_hidden_layers: int = 28
    num_attention_heads: int = 12
    num_key_value_heads: int = 2
    max_position_embeddings: int = 32768
    rope_theta: float = 1_000_000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = True


@dataclass(frozen=True)
class VisionConfig:
    """InternImage with DCNv3, the multiscale aggregator and the SAM image-embedding neck."""

    image_size: int = 512
    channels: int = 160
    depths: tuple[int, ...] = (5, 5, 22, 5)
    groups: tuple[int, ...] = (10, 20, 40, 80)
    mlp_ratio: float = 4.0
    offset_scale: float = 2.0
    layer_scale: float = 1.0
    post_norm: bool = True
    #: Width of the aggregated features (1x1 conv output), the projector's input.
    mm_hidden_size: int = 1024
    #: GroupNorm groups of the aggregator.
    aggregator_groups: int = 16
    #: Channels of the SAM image embedding made by the neck (= SAM decoder width).
    sam_embed_dim: int = 256

    @property
    def stage_channels(self) -> tuple[int, ...]:
        """Channels of the four stages (strides 4, 8, 16, 32)."""
        return tuple(self.channels * 2**i for i in range(len(self.depths)))


@dataclass(frozen=True)
class SamConfigSizes:
    """The SAM prompt encoder and mask decoder (the same for every SAM variant)."""

    hidden_size: int = 256
    num_hidden_layers: int = 2
    num_attention_heads: int = 8
    mlp_dim: int = 2048
    num_multimask_outputs: int = 3
    iou_head_depth: int = 3
    iou_head_hidden_dim: int = 256
    num_pos_feats: int = 128
    mask_input_channels: int = 16
    num_point_embeddings: int = 4


@dataclass(frozen=True)
class SpexConfig:
    """Everything that decides the architecture, plus the few inference switches."""

    text: TextConfig = field(default_factory=TextConfig)
    vision: VisionConfig = field(default_factory=VisionConfig)
    sam: SamConfigSizes = field(default_factory=SamConfigSizes)
    #: Generated-token states are average-pooled to this many sparse prompt tokens.
    condense_tokens: int = 4
    #: ``spatial_unpad`` creates ``model.image_newline`` (as in the published training).
    mm_patch_merge_type: str = "spatial_unpad"
    #: The published demo passes a 4-D image tensor, which skips the newline token; True
    #: appends it after the image tokens, as training did.
    image_newline_at_inference: bool = False
    #: ImageNet statistics on 0..1 RGB (the published preprocessing).
    image_mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    image_std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    system_prompt: str = "You are a helpful assistant."
    #: Set by ``spex models init``: the weights are random, not trained.
    random_weights: bool = False

    @property
    def has_image_newline(self) -> bool:
        """Whether the architecture owns ``model.image_newline``."""
        return "unpad" in self.mm_patch_merge_type

    def to_json_dict(self) -> dict[str, object]:
        """``config.json`` content: the published top-level keys plus our ``spex`` section."""
        text = asdict(self.text)
        out: dict[str, object] = {
            "architectures": ["LlavaQwenForCausalLM"],
            "model_type": "llava_qwen",
            **text,
            "hidden_act": "silu",
            "use_sliding_window": False,
            "mm_hidden_size": self.vision.mm_hidden_size,
            "mm_projector_type": "mlp2x_gelu",
            "mm_patch_merge_type": self.mm_patch_merge_type,
            "mm_vision_tower": "InternImage",
            "image_aspect_ratio": "pad",
            "spex": {
                "vision": {
                    k: list(v) if isinstance(v, tuple) else v
                    for k, v in asdict(self.vision).items()
                },
                "sam": asdict(self.sam),
                "condense_tokens": self.condense_tokens,
                "image_newline_at_inference": self.image_newline_at_inference,
                "image_mean": list(self.image_mean),
                "image_std": list(self.image_std),
                "system_prompt": self.system_prompt,
                "random_weights": self.random_weights,
            },
        }
        return out

    @classmethod
    def from_json_dict(cls, raw: dict[str, object]) -> SpexConfig:
        """Read a published or a ``spex models init`` config dict."""
        text = TextConfig(**_pick(TextConfig, raw))
        extra = raw.get("spex") or {}
        if not isinstance(extra, dict):
            raise BackendError("config.json: 'spex' must be an object; fix or remove it.")
        vision_raw = dict(extra.get("vision") or {})
        for key in ("depths", "groups"):
            if key in vision_raw:
                vision_raw[key] = tuple(int(v) for v in vision_raw[key])
        if "mm_hidden_size" in raw:
            vision_raw.setdefault("mm_hidden_size", int(raw["mm_hidden_size"]))
        vision = VisionConfig(**_pick(VisionConfig, vision_raw))
        sam = SamConfigSizes(**_pick(SamConfigSizes, dict(extra.get("sam") or {})))
        options = _pick(cls, extra, skip=("text", "vision", "sam"))
        for key in ("image_mean", "image_std"):
            if key in options:
                options[key] = tuple(float(v) for v in options[key])
        merge = str(raw.get("mm_patch_merge_type", "spatial_unpad"))
        return cls(text=text, vision=vision, sam=sam, mm_patch_merge_type=merge, **options)

    def save(self, path: Path) -> None:
        """Write ``config.json``."""
        Path(path).write_text(json.dumps(self.to_json_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> SpexConfig:
        """Read ``config.json`` (a file, or a model folder holding one)."""
        path = Path(path)
        if path.is_dir():
            path = path / "config.json"
        if not path.is_file():
            raise BackendError(
                f"No config.json in '{path.parent}'; point --model at a SPEX model folder "
                "(config.json, model.safetensors, tokenizer files)."
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BackendError(f"'{path}' is not readable JSON ({exc}); re-download it.") from exc
        try:
            return cls.from_json_dict(raw)
        except TypeError as exc:
            raise BackendError(f"'{path}' has unexpected values ({exc}); re-download it.") from exc


def _pick(kind: type, raw: dict, skip: tuple[str, ...] = ()) -> dict[str, object]:
    names = {f.name for f in fields(kind)} - set(skip)
    return {k: v for k, v in raw.items() if k in names}


def full_config() -> SpexConfig:
    """The published SPEX architecture (about 1.78 B parameters)."""
    return SpexConfig()


def tiny_config(vocab_size: int = 512) -> SpexConfig:
    """The same architecture, shrunk so it builds and runs in seconds (tests, smoke checks).

    Every module and parameter name of the full model exists; only widths and depths shrink.
    The image size stays 512, so tiling and mask resolution behave as with the real model.
    """
    return SpexConfig(
        text=TextConfig(
            vocab_size=vocab_size,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            tie_word_embeddings=False,  # an own head: varied random answers, lm_head in the file
        ),
        vision=VisionConfig(
            channels=16,
            depths=(1, 1, 2, 1),
            groups=(1, 2, 4, 8),
            mm_hidden_size=32,
            sam_embed_dim=32,
        ),
        sam=SamConfigSizes(
            hidden_size=32,
            num_attention_heads=2,
            mlp_dim=64,
            iou_head_hidden_dim=32,
            num_pos_feats=16,
        ),
    )


PRESETS = {"full": full_config, "tiny": tiny_config}


def preset(name: str) -> SpexConfig:
    """A named preset: ``full`` or ``tiny``."""
    if name not in PRESETS:
        raise BackendError(f"Unknown model size '{name}'; use one of: {', '.join(PRESETS)}.")
    return PRESETS[name]()


def with_random_weights(config: SpexConfig, random_weights: bool = True) -> SpexConfig:
    """A copy of `config` flagged as carrying random (untrained) weights."""
    return replace(config, random_weights=random_weights)
