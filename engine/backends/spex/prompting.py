"""The SPEX conversation text, without torch: shared by the torch and onnxruntime runners."""

from __future__ import annotations

IMAGE_PLACEHOLDER = "<image>"


def chatml_prompt(system: str, request: str) -> str:
    """The published ChatML conversation text, ending with the assistant's turn."""
    return (
        f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{request}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def split_on_image(prompt: str) -> tuple[str, str]:
    """Text before and after the single ``<image>`` placeholder (prepended when absent)."""
    if IMAGE_PLACEHOLDER not in prompt:
        return "", prompt
    before, after = prompt.split(IMAGE_PLACEHOLDER, 1)
    return before, after.replace(IMAGE_PLACEHOLDER, "")
