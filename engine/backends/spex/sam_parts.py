"""The SAM side of SPEX: the image-embedding neck, the prompt encoder and the mask decoder.

The prompt encoder and the mask decoder are `transformers`' SAM modules (their parameter names
are the published checkpoint's); only their sizes come from our config. SPEX feeds the decoder
the neck's 32 x 32 embedding, the prompt encoder's image-wide positional encoding, the
condensed language tokens as sparse prompts and the "no mask" embedding as dense prompt, and
keeps the single-mask output: logits at 4x the embedding grid (128 px for a 512 px tile).
"""

from __future__ import annotations

import torch
from torch import nn

from .config import SamConfigSizes


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


def build_mask_decoder(sizes: SamConfigSizes) -> nn.Module:
    """`transformers`' SamMaskDecoder."""
    from transformers.models.sam.modeling_sam import SamMaskDecoder

    config = sam_config(sizes).mask_decoder_config
    config._attn_implementation = "eager"  # exportable, and tiny sequences anyway
    return SamMaskDecoder(config)


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
