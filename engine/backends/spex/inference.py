"""One SPEX request: image + SPIE prompt -> greedy answer -> condensed tokens -> mask logits.

Follows the published inference (``demo.py`` and ``LlavaQwenForCausalLM.generate``):

- ChatML: ``<|im_start|>system\\n{system}<|im_end|>\\n<|im_start|>user\\n{request}<|im_end|>\\n
  <|im_start|>assistant\\n``; the ``<image>`` placeholder of the request is replaced by the
  projected visual tokens (the text on each side is tokenised separately, like
  ``tokenizer_image_token``);
- greedy decoding with a KV cache, until ``<|im_end|>`` / ``<|endoftext|>`` or
  ``max_new_tokens``;
- the final-norm hidden states of the generated tokens that were fed back (every generated
  token but the last, as ``output.hidden_states[1:]`` in the published code) are pooled to 4
  and turned into SAM sparse prompts;
- an empty answer (the first generated token is an end token) has no such states: the
  published code fails there; here it gives no logits (None), and the backend no mask;
- SAM decoding gives 128 x 128 logits for a 512 tile; the backend post-processes them as the
  published code does (`postprocess.soft_mask`).

`answer(..., trace=dict)` fills the dict with every intermediate (ids, answer states, pooled
and condensed tokens, logits), for the golden tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .config import SpexConfig
from .model import SpexForCausalLM
from .prompting import IMAGE_TOKEN_INDEX, chatml_prompt, greedy_decode, split_on_image
from .tokenizer import SpexTokenizer


@dataclass(frozen=True)
class Answer:
    """The model's answer to one request."""

    text: str
    tokens: int
    logits: np.ndarray | None  # float32 (h, w) mask logits; None for an empty answer
    stopped: str  # "eos" or "max_new_tokens"
    token_ids: tuple[int, ...] = ()


def to_pixel_values(rgb: np.ndarray, config: SpexConfig) -> torch.Tensor:
    """uint8 (B, S, S, 3) -> normalised float32 (B, 3, S, S)."""
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(config.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(config.image_std).view(1, 3, 1, 1)
    return (x - mean) / std


class SpexRunner:
    """Runs the model on batches of tiles and answers requests (not thread-safe: lock it)."""

    def __init__(
        self,
        model: SpexForCausalLM,
        tokenizer: SpexTokenizer,
        max_new_tokens: int = 256,
        batch_size: int = 1,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config: SpexConfig = model.config
        self.max_new_tokens = max(1, int(max_new_tokens))
        self.batch_size = max(1, int(batch_size))
        self._text_cache: dict[str, torch.Tensor] = {}
        self.timings = {
            "vision_s": 0.0,
            "generation_s": 0.0,
            "mask_decoder_s": 0.0,
            "prefill_s": 0.0,
        }

    @torch.inference_mode()
    def encode(self, rgb: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (B, S, S, 3) tiles -> (visual tokens (B, T, hidden), SAM embeddings)."""
        import time

        clock = time.perf_counter()
        tokens, embeds = [], []
        for start in range(0, len(rgb), self.batch_size):
            pixels = to_pixel_values(rgb[start : start + self.batch_size], self.config)
            pixels = pixels.to(self.model.device, self.model.dtype)
            t, e = self.model.encode_images(pixels)
            tokens.append(t)
            embeds.append(e)
        _sync(self.model.device)
        self.timings["vision_s"] += time.perf_counter() - clock
        return torch.cat(tokens), torch.cat(embeds)

    def _embed_text(self, text: str) -> torch.Tensor:
        cached = self._text_cache.get(text)
        if cached is None:
            ids = self.tokenizer.encode(text)
            tensor = torch.tensor([ids], dtype=torch.long, device=self.model.device)
            cached = self.model.embed_tokens(tensor)[0]
            if len(self._text_cache) < 16:  # the system / assistant parts repeat
                self._text_cache[text] = cached
        return cached

    @torch.inference_mode()
    def answer(
        self,
        image_tokens: torch.Tensor,
        sam_embedding: torch.Tensor,
        request: str,
        trace: dict[str, object] | None = None,
    ) -> Answer:
        """Answer one request about one encoded tile: (T, hidden), (E, h, w), SPIE text.

        `trace`, when given, receives the intermediates as numpy arrays (see the module doc).
        """
        import time

        clock = time.perf_counter()
        before, after = split_on_image(chatml_prompt(self.config.system_prompt, request))
        visual = image_tokens
        newline = self.model.model.image_newline
        if self.config.image_newline_at_inference and newline is not None:
            visual = torch.cat([visual, newline[None].to(visual.dtype)])
        parts = [self._embed_text(before), visual, self._embed_text(after)]
        embeds = torch.cat([p for p in parts if p.shape[0]])[None]
        hidden, logits, cache = self.model.language_forward(embeds)
        _sync(self.model.device)
        self.timings["prefill_s"] += time.perf_counter() - clock  # part of generation_s
        if trace is not None:
            ids = [*self.tokenizer.encode(before), IMAGE_TOKEN_INDEX, *self.tokenizer.encode(after)]
            trace["input_ids"] = np.asarray([ids], np.int64)
        states: list[torch.Tensor] = []
        cache_box = [cache]

        def feed(token_id: int) -> int:
            token = torch.tensor([[token_id]], dtype=torch.long, device=self.model.device)
            hidden, logits, cache_box[0] = self.model.language_forward(
                self.model.embed_tokens(token), cache_box[0]
            )
            states.append(hidden[:, -1:])
            return int(logits[0].argmax())

        generated, stopped = greedy_decode(
            int(logits[0].argmax()), feed, self.tokenizer.eos_ids, self.max_new_tokens
        )
        _sync(self.model.device)
        mid = time.perf_counter()
        self.timings["generation_s"] += mid - clock
        text = self.tokenizer.decode(generated)
        if trace is not None:
            trace["generated_ids"] = np.asarray([generated], np.int64)
        if not states:  # an empty answer: nothing to condense, no mask
            return Answer(text, len(generated), None, stopped, tuple(generated))
        neck = self.model.model.vision_tower.lan_neck
        token_states = torch.cat(states, dim=1)
        pooled = neck.pool(token_states)
        sparse = neck.text_mlp(pooled).unsqueeze(1)
        mask = self.model.decode_masks(sam_embedding[None], sparse)[0]
        logits_np = mask.float().cpu().numpy()
        self.timings["mask_decoder_s"] += time.perf_counter() - mid
        if trace is not None:
            for name, value in (
                ("answer_hidden_states", token_states),
                ("condensed_pooled_before_mlp", pooled),
                ("condensed_sparse_prompts", sparse),
                ("mask_logits_128", mask[None]),
            ):
                trace[name] = value.float().cpu().numpy()
        return Answer(text, len(generated), logits_np, stopped, tuple(generated))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
