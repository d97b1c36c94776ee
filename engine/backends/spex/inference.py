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
  and turned into SAM sparse prompts; when the answer is empty, the last prompt position's
  state stands in (the published code would fail there);
- SAM decoding gives 128 x 128 logits for a 512 tile. The published code thresholds them at 0
  and upsamples the binary mask; we upsample the logits (bilinear) so overlapping windows can be
  blended before the same threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as nnf

from .config import SpexConfig
from .model import SpexForCausalLM
from .prompting import chatml_prompt, greedy_decode, split_on_image
from .tokenizer import SpexTokenizer


@dataclass(frozen=True)
class Answer:
    """The model's answer to one request."""

    text: str
    tokens: int
    logits: np.ndarray  # float32 (h, w) mask logits at the decoder's resolution
    stopped: str  # "eos" or "max_new_tokens"


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
        self, image_tokens: torch.Tensor, sam_embedding: torch.Tensor, request: str
    ) -> Answer:
        """Answer one request about one encoded tile: (T, hidden), (E, h, w), SPIE text."""
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
        last_prompt_state = hidden[:, -1:]
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
        token_states = torch.cat(states, dim=1) if states else last_prompt_state
        sparse = self.model.condense(token_states)
        mask = self.model.decode_masks(sam_embedding[None], sparse)[0]
        logits_np = mask.float().cpu().numpy()
        self.timings["mask_decoder_s"] += time.perf_counter() - mid
        return Answer(self.tokenizer.decode(generated), len(generated), logits_np, stopped)


def upsample_logits(logits: np.ndarray, size: int) -> np.ndarray:
    """(K, h, w) logits -> (K, size, size), bilinear (half-pixel centres, as F.interpolate)."""
    tensor = torch.from_numpy(np.ascontiguousarray(logits, dtype=np.float32))[None]
    out = nnf.interpolate(tensor, size=(size, size), mode="bilinear", align_corners=False)
    return out[0].numpy()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
