"""The assembled SPEX model, with the published checkpoint's parameter names.

Module tree (the names are the checkpoint's keys)::

    SpexForCausalLM
      model                        SpexModel = transformers Qwen2Model + the multimodal parts
        embed_tokens, layers.N, norm          the Qwen2 decoder
        vision_tower                          SpexVisionTower
          vision_tower.vision_model           InternImage (+ visionneck, feat_aggregator)
          lan_neck                            token-condensation neck
          sampromptencoder, mask_decoder      transformers' SAM prompt encoder / mask decoder
        mm_projector                          mlp2x_gelu
        image_newline                         (only when mm_patch_merge_type has "unpad")
      lm_head                                 tied to embed_tokens unless the file differs

The stages are separate methods, so an exporter can trace each on its own:
`encode_images`, `embed_tokens`, `language_forward` (with a KV cache), `condense`,
`decode_masks`.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect

import torch
from torch import nn

from .condenser import LanguageNeck
from .config import SpexConfig
from .internimage import InternImageVisionModel
from .projector import build_projector
from .sam_parts import build_mask_decoder, build_prompt_encoder, decode_masks


def qwen2_config(config: SpexConfig, attn_implementation: str = "sdpa") -> object:
    """The `transformers.Qwen2Config` of the language model."""
    from transformers import Qwen2Config

    text = config.text
    return Qwen2Config(
        vocab_size=text.vocab_size,
        hidden_size=text.hidden_size,
        intermediate_size=text.intermediate_size,
        num_hidden_layers=text.num_hidden_layers,
        num_attention_heads=text.num_attention_heads,
        num_key_value_heads=text.num_key_value_heads,
        max_position_embeddings=text.max_position_embeddings,
        rope_theta=text.rope_theta,
        rms_norm_eps=text.rms_norm_eps,
        tie_word_embeddings=text.tie_word_embeddings,
        use_sliding_window=False,
        attn_implementation=attn_implementation,
    )


def pick_attention(device: str) -> str:
    """flash_attention_2 on CUDA when installed, else PyTorch's sdpa."""
    if device.startswith("cuda") and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def exact_float32() -> None:
    """Make float32 on CUDA mean float32: no TF32 in cuDNN's convolutions or in matmuls.

    PyTorch lets cuDNN use TF32 (10-bit mantissa) by default. On an H200 that moved the golden
    crop's mask logits 8e-5 relative from the reference and 0.05-0.07 % of its mask pixels;
    without it they agree as on the CPU (1e-6, none). Process-wide flags: set for a float32 run
    on CUDA only.
    """
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


class SpexVisionTower(nn.Module):
    """InternImage, the condensation neck and the SAM parts (the published ``vision_tower``)."""

    def __init__(self, config: SpexConfig) -> None:
        super().__init__()
        self.vision_tower = InternImageVisionModel(config.vision)
        self.lan_neck = LanguageNeck(
            config.text.hidden_size, config.sam.hidden_size, config.condense_tokens
        )
        self.sampromptencoder = build_prompt_encoder(config.sam)
        self.mask_decoder = build_mask_decoder(config.sam)


def _language_model_class() -> type:
    from transformers import Qwen2Model

    class SpexModel(Qwen2Model):
        """Qwen2Model plus the vision tower, the projector and the image newline."""

        def __init__(self, qwen_config: object, config: SpexConfig) -> None:
            super().__init__(qwen_config)
            self.vision_tower = SpexVisionTower(config)
            self.mm_projector = build_projector(
                config.vision.mm_hidden_size, config.text.hidden_size
            )
            if config.has_image_newline:
                self.image_newline = nn.Parameter(torch.zeros(config.text.hidden_size))
            else:
                self.image_newline = None

    return SpexModel


class SpexForCausalLM(nn.Module):
    """SPEX inference model: image + prompt -> answer tokens -> mask logits."""

    def __init__(self, config: SpexConfig, attn_implementation: str = "sdpa") -> None:
        super().__init__()
        self.config = config
        self.qwen_config = qwen2_config(config, attn_implementation)
        self.model = _language_model_class()(self.qwen_config, config)
        self.lm_head = nn.Linear(config.text.hidden_size, config.text.vocab_size, bias=False)
        if config.text.tie_word_embeddings:
            self.tie_weights()

    def tie_weights(self) -> None:
        """Share one tensor between the input embeddings and the output head."""
        self.lm_head.weight = self.model.embed_tokens.weight

    @property
    def tied(self) -> bool:
        """Whether lm_head and embed_tokens are one tensor."""
        return self.lm_head.weight is self.model.embed_tokens.weight

    @property
    def device(self) -> torch.device:
        """Where the weights are."""
        return self.lm_head.weight.device

    @property
    def dtype(self) -> torch.dtype:
        """The weights' dtype."""
        return self.lm_head.weight.dtype

    # -- stages -------------------------------------------------------------------------
    def encode_images(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, S, S) normalised RGB -> (image tokens (B, T, hidden), SAM embedding)."""
        features, sam_embedding = self.model.vision_tower.vision_tower(pixel_values)
        return self.model.mm_projector(features), sam_embedding

    def embed_tokens(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Token ids (B, T) -> input embeddings (B, T, hidden)."""
        return self.model.embed_tokens(input_ids)

    def language_forward(
        self, inputs_embeds: torch.Tensor, cache: object | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, object]:
        """One decoder pass with a KV cache (None starts a new one).

        Returns the final-norm hidden states (B, T, hidden), the next-token logits of the last
        position (B, vocab, float32) and the updated cache (a `transformers` Cache).
        """
        name = _cache_argument()
        out = self.model(inputs_embeds=inputs_embeds, use_cache=True, **{name: cache})
        hidden = out.last_hidden_state
        logits = self.lm_head(hidden[:, -1]).float()
        return hidden, logits, getattr(out, name)

    def condense(self, token_states: torch.Tensor) -> torch.Tensor:
        """Generated tokens' last hidden states (B, T, hidden) -> sparse prompts (B, 1, 4, E)."""
        return self.model.vision_tower.lan_neck(token_states)

    def decode_masks(
        self, sam_embedding: torch.Tensor, sparse_prompts: torch.Tensor
    ) -> torch.Tensor:
        """SAM embedding (B, E, h, w) + sparse prompts -> mask logits (B, 4h, 4w)."""
        tower = self.model.vision_tower
        return decode_masks(
            tower.sampromptencoder, tower.mask_decoder, sam_embedding, sparse_prompts
        )


@functools.cache
def _cache_argument() -> str:
    """The KV-cache argument of Qwen2Model.forward: ``cache`` (transformers 5.x) or the older
    ``past_key_values``."""
    from transformers import Qwen2Model

    return (
        "cache"
        if "cache" in inspect.signature(Qwen2Model.forward).parameters
        else "past_key_values"
    )


def build_model(
    config: SpexConfig, device: str | torch.device = "cpu", attn_implementation: str = "sdpa"
) -> SpexForCausalLM:
    """Build the model on `device` (``"meta"`` builds it without allocating weights)."""
    with torch.device(device):
        model = SpexForCausalLM(config, attn_implementation)
    return model.eval()


def parameter_table(model: nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every saved tensor, in state-dict order (ties listed under both names)."""
    return [(name, tuple(t.shape)) for name, t in model.state_dict(keep_vars=True).items()]


def count_parameters(model: nn.Module) -> int:
    """Elements of the saved tensors, a tied tensor counted once."""
    seen: set[int] = set()
    total = 0
    for tensor in model.state_dict(keep_vars=True).values():
        if id(tensor) not in seen:
            seen.add(id(tensor))
            total += tensor.numel()
    return total
