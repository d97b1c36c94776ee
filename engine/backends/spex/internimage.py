"""InternImage (DCNv3 backbone) with the published module names, channels-last inside.

Names follow InternImage's classification code as vendored by SPEX: ``patch_embed`` (the stem),
``levels.i.blocks.j`` (``norm1``, ``dcn``, ``norm2``, ``mlp``, layer scales ``weight1/weight2``),
``levels.i.downsample``; SPEX adds ``visionneck`` and ``feat_aggregator`` to the same module.
"""

from __future__ import annotations

import torch
from torch import nn

from .aggregator import FeatureAggregator
from .config import VisionConfig
from .dcnv3 import DCNv3, layer_norm
from .sam_parts import VisionTowerNeck


class StemLayer(nn.Module):
    """Two stride-2 3x3 convolutions: (N, 3, H, W) -> (N, H/4, W/4, C) channels-last."""

    def __init__(self, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, out_channels // 2, 3, 2, 1)
        self.norm1 = layer_norm(out_channels // 2, first_in=True, first_out=True)
        self.act = nn.GELU()
        self.conv2 = nn.Conv2d(out_channels // 2, out_channels, 3, 2, 1)
        self.norm2 = layer_norm(out_channels, first_in=True, first_out=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Stem forward."""
        return self.norm2(self.conv2(self.act(self.norm1(self.conv1(x)))))


class DownsampleLayer(nn.Module):
    """Stride-2 3x3 convolution doubling the channels (no bias), then LayerNorm."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 2 * channels, 3, 2, 1, bias=False)
        self.norm = layer_norm(2 * channels, first_in=True, first_out=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, H, W, C) -> (N, H/2, W/2, 2C)."""
        return self.norm(self.conv(x.permute(0, 3, 1, 2)))


class MLPLayer(nn.Module):
    """fc1 -> GELU -> fc2."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """MLP forward."""
        return self.fc2(self.act(self.fc1(x)))


class InternImageLayer(nn.Module):
    """One block: DCNv3 and MLP, each with a residual, a LayerNorm and a layer scale."""

    def __init__(self, channels: int, group: int, config: VisionConfig) -> None:
        super().__init__()
        self.post_norm = config.post_norm
        self.norm1 = layer_norm(channels, first_in=False, first_out=False)
        self.dcn = DCNv3(channels, group, offset_scale=config.offset_scale)
        self.norm2 = layer_norm(channels, first_in=False, first_out=False)
        self.mlp = MLPLayer(channels, int(channels * config.mlp_ratio))
        self.weight1 = nn.Parameter(config.layer_scale * torch.ones(channels))
        self.weight2 = nn.Parameter(config.layer_scale * torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, H, W, C) -> (N, H, W, C)."""
        if self.post_norm:  # InternImage-L, as published
            x = x + self.weight1 * self.norm1(self.dcn(x))
            return x + self.weight2 * self.norm2(self.mlp(x))
        x = x + self.weight1 * self.dcn(self.norm1(x))
        return x + self.weight2 * self.mlp(self.norm2(x))


class InternImageBlock(nn.Module):
    """One stage: ``depth`` layers, then (except the last stage) a downsampling layer."""

    def __init__(
        self, channels: int, depth: int, group: int, downsample: bool, config: VisionConfig
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(InternImageLayer(channels, group, config) for _ in range(depth))
        self.post_norm = config.post_norm
        if not config.post_norm:
            self.norm = layer_norm(channels, first_in=False, first_out=False)
        self.downsample = DownsampleLayer(channels) if downsample else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (input of the next stage, this stage's output before downsampling)."""
        for block in self.blocks:
            x = block(x)
        if not self.post_norm:
            x = self.norm(x)
        stage_out = x
        if self.downsample is not None:
            x = self.downsample(x)
        return x, stage_out


class InternImage(nn.Module):
    """Backbone + multiscale aggregator + SAM neck: image -> (LLM features, SAM embedding)."""

    def __init__(self, config: VisionConfig) -> None:
        super().__init__()
        self.config = config
        self.patch_embed = StemLayer(config.channels)
        n = len(config.depths)
        self.levels = nn.ModuleList(
            InternImageBlock(
                config.stage_channels[i], config.depths[i], config.groups[i], i < n - 1, config
            )
            for i in range(n)
        )
        self.visionneck = VisionTowerNeck(config.mm_hidden_size, config.sam_embed_dim)
        self.feat_aggregator = FeatureAggregator(
            sum(config.stage_channels), config.mm_hidden_size, config.aggregator_groups
        )

    def stages(self, pixel_values: torch.Tensor) -> list[torch.Tensor]:
        """The four stage outputs, channels-first (strides 4, 8, 16, 32)."""
        x = self.patch_embed(pixel_values)
        outs = []
        for level in self.levels:
            x, stage_out = level(x)
            outs.append(stage_out.permute(0, 3, 1, 2).contiguous())
        return outs

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 3, S, S) -> (tokens (N, (S/16)^2, mm_hidden), SAM embedding (N, E, S/16, S/16))."""
        fused = self.feat_aggregator(self.stages(pixel_values))
        n, c, h, w = fused.shape
        sam_embedding = self.visionneck(fused.permute(0, 2, 3, 1))
        return fused.reshape(n, c, h * w).permute(0, 2, 1), sam_embedding


class InternImageVisionModel(nn.Module):
    """The published ``CLIPVisionModel`` shell: only a ``vision_model`` attribute."""

    def __init__(self, config: VisionConfig) -> None:
        super().__init__()
        self.vision_model = InternImage(config)

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """See `InternImage.forward`."""
        return self.vision_model(pixel_values)
