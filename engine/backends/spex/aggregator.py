"""The multiscale feature aggregator: four InternImage stages fused on the stride-16 grid."""

from __future__ import annotations

import torch
import torch.nn.functional as nnf
from torch import nn


class FeatureAggregator(nn.Module):
    """Stages resized (bilinear, corners aligned) to stage 3's grid, concatenated, fused.

    Concatenation order is the published one: stage 3 (stride 16), then stages 1, 2 and 4.
    ``fuse_all`` = 1x1 conv -> GroupNorm -> GELU -> Dropout (inactive at inference).
    """

    def __init__(self, in_channels: int, out_channels: int, groups: int = 16) -> None:
        super().__init__()
        self.fuse_all = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1),
            nn.GroupNorm(groups, out_channels),
            nn.GELU(),
            nn.Dropout(0.5),
        )

    def forward(self, stages: list[torch.Tensor]) -> torch.Tensor:
        """Four (N, C_i, H_i, W_i) maps -> (N, out, H_3, W_3)."""
        anchor = stages[2]
        size = anchor.shape[-2:]
        resized = [
            nnf.interpolate(stages[i], size=size, mode="bilinear", align_corners=True)
            for i in (0, 1, 3)
        ]
        return self.fuse_all(torch.cat([anchor, *resized], dim=1))
