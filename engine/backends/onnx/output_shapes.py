"""What a model's output shapes say: channels per output, and outputs that are not classes."""

from __future__ import annotations

from ...errors import BackendError


def output_channels(name: str, outputs: list) -> list[int | None]:
    """Channels of each output (N x K x H x W, or N x H x W for one), or a one-line error."""
    channels: list[int | None] = []
    for o, out in enumerate(outputs):
        shape = list(out.shape)
        if len(shape) == 3:
            channels.append(1)
        elif len(shape) == 4:
            channels.append(shape[1] if isinstance(shape[1], int) else None)
        else:
            raise BackendError(
                f"Model {name}: output {o} ({out.name}) has shape {shape}, which cannot be mapped "
                "to the input grid; a segmentation model outputs N x K x H x W scores."
            )
    return channels


def check_output_sizes(name: str, inputs: list, outputs: list) -> None:
    """Refuse fixed output sizes larger than a fixed input (super-resolution, not classes)."""
    size = inputs[0].shape[-1] if len(inputs[0].shape) == 4 else None
    for out in outputs:
        side = out.shape[-1] if len(out.shape) in (3, 4) else None
        if isinstance(size, int) and isinstance(side, int) and side > size:
            raise BackendError(
                f"Model {name} outputs {side} px for a {size} px input, which cannot be mapped to "
                "the input grid: it is not a segmentation model (super-resolution?)."
            )
