"""Token-context condensation: generated tokens' hidden states -> SAM sparse prompt embeddings."""

from __future__ import annotations

import torch
import torch.nn.functional as nnf
from torch import nn


class LanguageNeck(nn.Module):
    """Average-pool a variable number of token states to ``tokens``, then an MLP to SAM width.

    Published sizes: 1536 -> 2048 -> 512 -> 256 (8x, 2x, 1x the SAM width), 4 tokens.
    """

    def __init__(self, in_features: int, out_features: int, tokens: int = 4) -> None:
        super().__init__()
        self.tokens = tokens
        self.text_mlp = nn.Sequential(
            nn.Linear(in_features, out_features * 8),
            nn.ReLU(),
            nn.Linear(out_features * 8, out_features * 2),
            nn.ReLU(),
            nn.Linear(out_features * 2, out_features),
        )

    def pool(self, states: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, tokens, D) by adaptive average pooling over T (T may be < tokens)."""
        return nnf.adaptive_avg_pool1d(states.transpose(1, 2), self.tokens).transpose(1, 2)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """(B, T, D) hidden states -> (B, 1, tokens, out) sparse prompts (one point batch)."""
        return self.text_mlp(self.pool(states)).unsqueeze(1)
