"""The SAM side of SPEX: the image-embedding neck, the prompt encoder and the mask decoder.

The prompt encoder and the mask decoder are `transformers`' SAM modules (their parameter names
are the published checkpoint's); only their sizes come from our config. SPEX feeds the decoder
the neck's 32 x 32 embedding, the prompt encoder's image-wide positional encoding, the
condensed language tokens as sparse prompts and the "no mask" embedding as dense prompt, and
keeps the single-mask output: logits at 4x the embedding grid (128 px for a 512 px tile).

The published model calls the decoder with ``attention_similarity=False`` under transformers
4.46, where a ``False`` that is not ``None`` switches on "add the similarity, softmax again":
the token-to-image cross-attention of each two-way layer applies softmax twice (the weights
were trained and are run that way). `build_mask_decoder` reproduces exactly that, in those two
modules only; every other attention (token self-attention, image-to-token, the final
token-to-image) keeps the single softmax.

One corner of transformers 4.46 is not copied: it drops the sparse prompts when they sum to
exactly 0 (``sum().item() != 0``), a data-dependent branch that cannot be exported; condensed
tokens from a final Linear layer with a bias do not sum to exactly 0 in practice.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import SamConfigSizes

#: Modules of each two-way layer whose attention applies softmax twice in the reference.
DOUBLE_SOFTMAX_MODULE = "cross_attn_token_to_image"


class ChannelsFirstLayerNorm(nn.Module):
    """LayerNorm over the channels of an (N, C, H, W) map, computed in float32."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each pixel's channel vector."""
        dtype = x.dtype
        x = x.float()
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = ((x - mean) / torch.sqrt(var + self.eps)).to(dtype)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class VisionTowerNeck(nn.Module):
    """Aggregated features (N, H, W, C) -> SAM image embedding (N, E, H, W)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.layer_norm1 = ChannelsFirstLayerNorm(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.layer_norm2 = ChannelsFirstLayerNorm(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Neck forward (channels-last in, channels-first out)."""
        x = self.layer_norm1(self.conv1(x.permute(0, 3, 1, 2)))
        return self.layer_norm2(self.conv2(x))


def sam_config(sizes: SamConfigSizes) -> object:
    """A `transformers.SamConfig` holding our sizes (only the decoder-side parts are used)."""
    from transformers import SamConfig

    return SamConfig(
        vision_config={"num_pos_feats": sizes.num_pos_feats, "output_channels": sizes.hidden_size},
        prompt_encoder_config={
            "hidden_size": sizes.hidden_size,
            "mask_input_channels": sizes.mask_input_channels,
            "num_point_embeddings": sizes.num_point_embeddings,
        },
        mask_decoder_config={
            "hidden_size": sizes.hidden_size,
            "num_hidden_layers": sizes.num_hidden_layers,
            "num_attention_heads": sizes.num_attention_heads,
            "mlp_dim": sizes.mlp_dim,
            "num_multimask_outputs": sizes.num_multimask_outputs,
            "iou_head_depth": sizes.iou_head_depth,
            "iou_head_hidden_dim": sizes.iou_head_hidden_dim,
        },
    )


def build_prompt_encoder(sizes: SamConfigSizes) -> nn.Module:
    """`transformers`' SamPromptEncoder (with its shared positional embedding)."""
    from transformers.models.sam.modeling_sam import SamPromptEncoder

    return SamPromptEncoder(sam_config(sizes))


def _returns_pair() -> bool:
    """Whether this transformers' two-way block unpacks ``(output, weights)`` from SamAttention
    (5.x) rather than taking a tensor (4.x)."""
    import inspect

    import transformers
    from transformers.models.sam.modeling_sam import SamTwoWayAttentionBlock

    try:
        source = inspect.getsource(SamTwoWayAttentionBlock.forward)
    except (OSError, TypeError):  # no source shipped: go by the major version
        return int(transformers.__version__.split(".")[0]) >= 5
    return "attn_out, _ = self.cross_attn_token_to_image" in source.replace("\n", " ")


class DoubleSoftmaxAttention(nn.Module):
    """SamAttention with the reference's ``softmax(softmax(q k^T / sqrt(d)))``.

    It keeps the wrapped module's projections (so the parameter names are the checkpoint's) and
    answers in the calling convention of the installed transformers.
    """

    def __init__(self, attention: nn.Module, returns_pair: bool) -> None:
        super().__init__()
        self.q_proj, self.k_proj = attention.q_proj, attention.k_proj
        self.v_proj, self.out_proj = attention.v_proj, attention.out_proj
        self.num_attention_heads = attention.num_attention_heads
        self.returns_pair = returns_pair

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, points, tokens, channels = x.shape
        per_head = channels // self.num_attention_heads
        x = x.reshape(batch * points, tokens, self.num_attention_heads, per_head)
        return x.transpose(1, 2)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attention_similarity: torch.Tensor | None = None,
        **_: object,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """(B, P, Nq, C) queries over (B, P, Nk, C) keys; the similarity term is the
        reference's ``False``, i.e. 0, so it is not added."""
        batch, points = query.shape[:2]
        q = self._heads(self.q_proj(query))
        k = self._heads(self.k_proj(key))
        v = self._heads(self.v_proj(value))
        scores = torch.matmul(q, k.transpose(2, 3)) / (q.shape[-1] ** 0.5)
        probs = torch.softmax(torch.softmax(scores.float(), dim=-1), dim=-1).to(q.dtype)
        out = torch.matmul(probs, v).transpose(1, 2)  # (B*P, Nq, heads, per_head)
        out = out.reshape(batch, points, out.shape[1], -1)
        out = self.out_proj(out)
        return (out, probs) if self.returns_pair else out


def build_mask_decoder(sizes: SamConfigSizes) -> nn.Module:
    """`transformers`' SamMaskDecoder, with the reference's double softmax in the
    token-to-image cross-attention of each two-way layer (and nowhere else)."""
    from transformers.models.sam.modeling_sam import SamMaskDecoder

    config = sam_config(sizes).mask_decoder_config
    config._attn_implementation = "eager"  # exportable, and tiny sequences anyway
    decoder = SamMaskDecoder(config)
    pair = _returns_pair()
    for layer in decoder.transformer.layers:
        original = getattr(layer, DOUBLE_SOFTMAX_MODULE)
        setattr(layer, DOUBLE_SOFTMAX_MODULE, DoubleSoftmaxAttention(original, pair))
    return decoder


def image_positional_embeddings(prompt_encoder: nn.Module, size: int) -> torch.Tensor:
    """The dense positional encoding of a ``size`` x ``size`` grid: (1, E, size, size)."""
    gaussian = prompt_encoder.shared_embedding.positional_embedding
    steps = (torch.arange(size, device=gaussian.device, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(steps, steps, indexing="ij")
    coords = torch.stack([x, y], dim=-1).to(gaussian.dtype)
    encoded = prompt_encoder.shared_embedding(coords)  # (size, size, E)
    return encoded.permute(2, 0, 1).unsqueeze(0)


def decode_masks(
    prompt_encoder: nn.Module,
    mask_decoder: nn.Module,
    image_embeddings: torch.Tensor,
    sparse_prompts: torch.Tensor,
) -> torch.Tensor:
    """Single-mask SAM decoding: (B, E, h, w) + (B, 1, T, E) -> logits (B, 4h, 4w)."""
    batch, _, h, w = image_embeddings.shape
    positional = image_positional_embeddings(prompt_encoder, w).to(image_embeddings.dtype)
    positional = positional.expand(batch, -1, -1, -1)
    dense = prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(batch, -1, h, w)
    masks, _ = mask_decoder(
        image_embeddings=image_embeddings,
        image_positional_embeddings=positional,
        sparse_prompt_embeddings=sparse_prompts.to(image_embeddings.dtype),
        dense_prompt_embeddings=dense.to(image_embeddings.dtype),
        multimask_output=False,
    )
    return masks[:, 0, 0]
