"""The LLaVA ``mlp2x_gelu`` projector: visual features into the language model's width."""

from __future__ import annotations

from torch import nn


def build_projector(in_features: int, hidden: int) -> nn.Sequential:
    """Linear -> GELU -> Linear (checkpoint names ``mm_projector.0`` and ``mm_projector.2``)."""
    return nn.Sequential(nn.Linear(in_features, hidden), nn.GELU(), nn.Linear(hidden, hidden))
