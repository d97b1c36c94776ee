"""DCNv3, the deformable convolution of InternImage: a pure-PyTorch path and the optional CUDA op.

Per output pixel and channel group, DCNv3 samples ``kernel x kernel`` points around the pixel,
each moved by a learned offset, bilinearly (zeros outside the image), and sums them with
softmax-normalised modulation weights. With ``offset_scale`` s, the sampling point of kernel
cell (i, j) of output (y, x) is ``(x + (j' + dx) * s, y + (i' + dy) * s)`` in input pixels, where
``j', i'`` run over ``-(k-1)/2 .. (k-1)/2`` (the kernel grid itself is stretched by s too).

Channel layouts (as in InternImage): offsets are ``(N, H, W, group, points, 2)`` with (x, y)
last, masks ``(N, H, W, group, points)``, points ordered x-major (``p = ix * k + iy``).

The compiled op (InternImage's ``DCNv3`` extension) is used for CUDA tensors when it can be
imported; it has no parameters, so the module and its weights are the same either way.
"""

from __future__ import annotations

import importlib

import torch
import torch.nn.functional as nnf
from torch import nn

try:  # InternImage's compiled extension (CUDA only); optional.
    _dcnv3_ext = importlib.import_module("DCNv3")
except ImportError:  # the pure-PyTorch path below always works
    _dcnv3_ext = None

#: im2col step of the CUDA op (InternImage's value).
IM2COL_STEP = 256


def cuda_op_available() -> bool:
    """Whether InternImage's compiled DCNv3 op can be used (only for CUDA tensors)."""
    return _dcnv3_ext is not None


def dcnv3_core_torch(
    x: torch.Tensor,
    offset: torch.Tensor,
    mask: torch.Tensor,
    kernel_size: int,
    stride: int,
    pad: int,
    dilation: int,
    group: int,
    offset_scale: float,
) -> torch.Tensor:
    """Deformable sampling in pure PyTorch: (N, H, W, C) -> (N, Ho, Wo, C).

    Coordinates are built and sampled in float32 whatever the input dtype: half precision
    cannot hold sub-pixel positions in a 128 px feature map.
    """
    n, h, w, c = x.shape
    _, ho, wo, _ = offset.shape
    cg = c // group
    k = kernel_size
    points = k * k
    half = (dilation * (k - 1)) // 2
    device = x.device
    # Output pixel centres in input pixel coordinates (pixel i covers [i, i + 1)).
    ys = torch.arange(ho, device=device, dtype=torch.float32) * stride + half + 0.5 - pad
    xs = torch.arange(wo, device=device, dtype=torch.float32) * stride + half + 0.5 - pad
    cells = torch.arange(k, device=device, dtype=torch.float32) * dilation - half
    dx = cells.repeat_interleave(k)  # p = ix * k + iy: x is the slow index
    dy = cells.repeat(k)
    off = offset.float().view(n, ho, wo, group, points, 2)
    loc_x = xs.view(1, 1, wo, 1, 1) + (dx.view(1, 1, 1, 1, points) + off[..., 0]) * offset_scale
    loc_y = ys.view(1, ho, 1, 1, 1) + (dy.view(1, 1, 1, 1, points) + off[..., 1]) * offset_scale
    grid = torch.stack((2.0 * loc_x / w - 1.0, 2.0 * loc_y / h - 1.0), dim=-1)
    grid = grid.permute(0, 3, 1, 2, 4, 5).reshape(n * group, ho * wo, points, 2)
    values = x.float().reshape(n, h * w, group, cg).permute(0, 2, 3, 1)
    values = values.reshape(n * group, cg, h, w)
    sampled = nnf.grid_sample(
        values, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )  # (N*G, Cg, Ho*Wo, P)
    weights = mask.float().view(n, ho * wo, group, points).permute(0, 2, 1, 3)
    weights = weights.reshape(n * group, 1, ho * wo, points)
    out = (sampled * weights).sum(-1).view(n, group, cg, ho, wo)
    return out.permute(0, 3, 4, 1, 2).reshape(n, ho, wo, c).to(x.dtype)


def dcnv3_core(
    x: torch.Tensor,
    offset: torch.Tensor,
    mask: torch.Tensor,
    kernel_size: int,
    stride: int,
    pad: int,
    dilation: int,
    group: int,
    offset_scale: float,
) -> torch.Tensor:
    """DCNv3 sampling: the CUDA op for CUDA tensors when installed, else pure PyTorch."""
    if _dcnv3_ext is not None and x.is_cuda:
        return _dcnv3_ext.dcnv3_forward(
            x.contiguous(),
            offset.contiguous(),
            mask.to(x.dtype).contiguous(),
            kernel_size,
            kernel_size,
            stride,
            stride,
            pad,
            pad,
            dilation,
            dilation,
            group,
            x.shape[-1] // group,
            offset_scale,
            IM2COL_STEP,
        )
    return dcnv3_core_torch(
        x, offset, mask, kernel_size, stride, pad, dilation, group, offset_scale
    )


class ToChannelsLast(nn.Module):
    """(N, C, H, W) -> (N, H, W, C); parameter-free, kept as a module for InternImage's indices."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Permute to channels-last."""
        return x.permute(0, 2, 3, 1)


class ToChannelsFirst(nn.Module):
    """(N, H, W, C) -> (N, C, H, W)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Permute to channels-first."""
        return x.permute(0, 3, 1, 2)


def layer_norm(channels: int, first_in: bool, first_out: bool, eps: float = 1e-6) -> nn.Sequential:
    """InternImage's ``build_norm_layer(.., 'LN', ..)``: a LayerNorm wrapped in permutes.

    The Sequential indices are part of the checkpoint names (``norm1.1.weight``, ``norm1.0``).
    """
    layers: list[nn.Module] = []
    if first_in:
        layers.append(ToChannelsLast())
    layers.append(nn.LayerNorm(channels, eps=eps))
    if first_out:
        layers.append(ToChannelsFirst())
    return nn.Sequential(*layers)


class DCNv3(nn.Module):
    """The DCNv3 block operator (channels-last in and out), InternImage's parameter names."""

    def __init__(
        self,
        channels: int,
        group: int,
        kernel_size: int = 3,
        stride: int = 1,
        pad: int = 1,
        dilation: int = 1,
        offset_scale: float = 1.0,
    ) -> None:
        super().__init__()
        if channels % group:
            raise ValueError(f"channels {channels} must be divisible by group {group}")
        self.channels, self.group = channels, group
        self.kernel_size, self.stride, self.pad, self.dilation = kernel_size, stride, pad, dilation
        self.offset_scale = offset_scale
        self.dw_conv = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size, 1, (kernel_size - 1) // 2, groups=channels),
            layer_norm(channels, first_in=True, first_out=False),
            nn.GELU(),
        )
        points = group * kernel_size * kernel_size
        self.offset = nn.Linear(channels, points * 2)
        self.mask = nn.Linear(channels, points)
        self.input_proj = nn.Linear(channels, channels)
        self.output_proj = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, H, W, C) -> (N, H, W, C)."""
        n, h, w, _ = x.shape
        projected = self.input_proj(x)
        context = self.dw_conv(x.permute(0, 3, 1, 2))
        offset = self.offset(context)
        mask = self.mask(context).view(n, h, w, self.group, -1).softmax(-1).view(n, h, w, -1)
        out = dcnv3_core(
            projected,
            offset,
            mask,
            self.kernel_size,
            self.stride,
            self.pad,
            self.dilation,
            self.group,
            self.offset_scale,
        )
        return self.output_proj(out)
