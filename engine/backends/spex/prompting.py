"""The SPEX conversation text, without torch: shared by the torch and onnxruntime runners."""

from __future__ import annotations

from collections.abc import Callable, Collection

IMAGE_PLACEHOLDER = "<image>"
#: The id that marks the image's place in the reference's input ids.
IMAGE_TOKEN_INDEX = -200


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


def greedy_decode(
    first_id: int, feed: Callable[[int], int], eos_ids: Collection[int], max_new_tokens: int
) -> tuple[list[int], str]:
    """Greedy generation: the token ids and why it stopped ("eos" or "max_new_tokens").

    `first_id` is the argmax after the prompt; `feed(token_id)` runs the model on one fed-back
    token (keeping its own cache and hidden states) and returns the next argmax. The published
    loop: a token is kept unless it is an end token, and the last kept token is not fed back.
    """
    generated: list[int] = []
    next_id = first_id
    while True:
        if next_id in eos_ids:
            return generated, "eos"
        generated.append(next_id)
        if len(generated) >= max_new_tokens:
            return generated, "max_new_tokens"
        next_id = feed(next_id)
