"""The torch-free conversation helpers shared by the torch and onnxruntime runners."""

from __future__ import annotations

from spex.engine.backends.spex.prompting import chatml_prompt, greedy_decode, split_on_image


def test_chatml_prompt_and_image_split() -> None:
    text = chatml_prompt("You are a helpful assistant.", "<image>\nDescribe the water bodies")
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n")
    assert text.endswith("<|im_start|>assistant\n")
    before, after = split_on_image(text)
    assert before.endswith("<|im_start|>user\n") and after.startswith("\nDescribe")
    assert split_on_image("no image here") == ("", "no image here")


def test_greedy_decode_stops_at_eos_and_at_the_cap() -> None:
    fed: list[int] = []

    def counting(token: int) -> int:
        fed.append(token)
        return token + 1

    assert greedy_decode(5, counting, {8}, 10) == ([5, 6, 7], "eos")
    assert fed == [5, 6, 7]  # every kept token is fed back until the end token appears
    fed.clear()
    assert greedy_decode(1, counting, {99}, 3) == ([1, 2, 3], "max_new_tokens")
    assert fed == [1, 2]  # the last kept token is not fed back
    assert greedy_decode(8, counting, {8}, 3) == ([], "eos")
