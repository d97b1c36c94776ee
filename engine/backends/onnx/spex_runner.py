"""An exported SPEX folder on onnxruntime, behind the SPEX backend's tiling, prompts and outputs.

`SpexOnnxBackend` is the torch `SpexBackend` with its model runner swapped: `OrtSpexRunner`
has the same `encode` / `answer` interface and runs the exported parts (`export.py`), so the
global window grid, the SPIE requests from the spectral priors, the blending and the answers
in the explanation are the very same code. Nothing here imports torch.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import BackendError
from ..base import BackendReport
from ..spex.backend import SpexBackend
from ..spex.config import SpexConfig
from ..spex.postprocess import resize_bilinear
from ..spex.prompting import IMAGE_TOKEN_INDEX, chatml_prompt, greedy_decode, split_on_image
from .metadata import MANIFEST_NAME
from .runtime import RuntimeSession, open_session

PARTS = ("vision", "embed", "decoder", "condense", "mask")


@dataclass(frozen=True)
class OrtAnswer:
    """The model's answer to one request (the fields of the torch runner's `Answer`)."""

    text: str
    tokens: int
    logits: np.ndarray | None  # float32 (h, w) mask logits; None for an empty answer
    stopped: str  # "eos" or "max_new_tokens"
    token_ids: tuple[int, ...] = ()


def adaptive_mean(states: np.ndarray, tokens: int) -> np.ndarray:
    """(B, T, D) -> (B, tokens, D): adaptive average pooling over T (as PyTorch bins it)."""
    length = states.shape[1]
    bins = []
    for i in range(tokens):
        start = (i * length) // tokens
        stop = -((-(i + 1) * length) // tokens)
        bins.append(states[:, start:stop].mean(axis=1))
    return np.stack(bins, axis=1).astype(np.float32)


def upsample_bilinear(maps: np.ndarray, size: int) -> np.ndarray:
    """(K, h, w) -> (K, size, size), bilinear with half-pixel centres (F.interpolate's rule)."""
    return resize_bilinear(maps, size, size)


class OrtSpexRunner:
    """Encodes tiles and answers requests with the exported parts (call under one lock)."""

    def __init__(
        self,
        folder: Path,
        config: SpexConfig,
        manifest: dict,
        tokenizer: object,
        provider: str | None = None,
        max_new_tokens: int = 256,
        threads: int | None = None,
    ) -> None:
        self.config = config
        self.tokenizer = tokenizer
        self.max_new_tokens = max(1, int(max_new_tokens))
        self.sessions: dict[str, RuntimeSession] = {
            name: open_session(folder / manifest["parts"][name]["file"], provider, threads)
            for name in PARTS
        }
        self.layers, self.kv_heads = int(manifest["layers"]), int(manifest["kv_heads"])
        self.head_dim, self.tokens = int(manifest["head_dim"]), int(manifest["condense_tokens"])
        newline = manifest.get("image_newline")
        self.newline = np.load(folder / newline)[None] if newline else None
        self.batch_size = 4 if self.provider != "CPUExecutionProvider" else 1
        self._mean = np.asarray(config.image_mean, np.float32).reshape(1, 3, 1, 1)
        self._std = np.asarray(config.image_std, np.float32).reshape(1, 3, 1, 1)
        self._text: dict[str, np.ndarray] = {}
        self.timings = {"vision_s": 0.0, "generation_s": 0.0, "mask_decoder_s": 0.0}

    @property
    def provider(self) -> str:
        """The provider the vision part (the heaviest) runs on."""
        return self.sessions["vision"].provider

    def _run(
        self, part: str, feeds: dict[str, np.ndarray], outputs: list[str] | None = None
    ) -> list[np.ndarray]:
        return self.sessions[part].session.run(outputs, feeds)

    def encode(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (B, S, S, 3) tiles -> (visual tokens (B, T, hidden), SAM embeddings)."""
        clock = time.perf_counter()
        tokens, embeds = [], []
        for start in range(0, len(rgb), self.batch_size):
            feeds = {"pixel_values": self.pixel_values(rgb[start : start + self.batch_size])}
            t, e = self._run("vision", feeds, ["image_tokens", "sam_embedding"])
            tokens.append(t)
            embeds.append(e)
        self.timings["vision_s"] += time.perf_counter() - clock
        return np.concatenate(tokens), np.concatenate(embeds)

    def pixel_values(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 (B, S, S, 3) -> normalised float32 (B, 3, S, S), as `inference.to_pixel_values`."""
        x = np.ascontiguousarray(rgb.transpose(0, 3, 1, 2))
        pixels = (x.astype(np.float32) / np.float32(255.0) - self._mean) / self._std
        return pixels.astype(np.float32)

    def _embed_text(self, text: str) -> np.ndarray:
        cached = self._text.get(text)
        if cached is None:
            ids = np.asarray([self.tokenizer.encode(text)], np.int64)
            if ids.shape[1] == 0:
                return np.zeros((0, self.config.text.hidden_size), np.float32)
            cached = self._run("embed", {"input_ids": ids})[0][0]
            if len(self._text) < 16:  # the system / assistant parts repeat
                self._text[text] = cached
        return cached

    def _decode(self, embeds: np.ndarray, keys: np.ndarray, values: np.ndarray) -> list[np.ndarray]:
        feeds = {"inputs_embeds": embeds, "past_keys": keys, "past_values": values}
        return self._run("decoder", feeds)

    def answer(
        self,
        image_tokens: np.ndarray,
        sam_embedding: np.ndarray,
        request: str,
        trace: dict[str, object] | None = None,
    ) -> OrtAnswer:
        """Answer one request about one encoded tile: (T, hidden), (E, h, w), SPIE text.

        `trace` receives the intermediates, as the torch runner's (`inference.SpexRunner`).
        """
        clock = time.perf_counter()
        before, after = split_on_image(chatml_prompt(self.config.system_prompt, request))
        visual = np.asarray(image_tokens, np.float32)
        if self.config.image_newline_at_inference and self.newline is not None:
            visual = np.concatenate([visual, self.newline.astype(np.float32)])
        parts = [self._embed_text(before), visual, self._embed_text(after)]
        embeds = np.concatenate([p for p in parts if p.shape[0]])[None].astype(np.float32)
        empty = np.zeros((self.layers, 1, self.kv_heads, 0, self.head_dim), np.float32)
        hidden, logits, keys, values = self._decode(embeds, empty, empty)
        if trace is not None:
            ids = [*self.tokenizer.encode(before), IMAGE_TOKEN_INDEX, *self.tokenizer.encode(after)]
            trace["input_ids"] = np.asarray([ids], np.int64)
        states: list[np.ndarray] = []
        cache = [keys, values]

        def feed(token_id: int) -> int:
            step = self._run("embed", {"input_ids": np.asarray([[token_id]], np.int64)})[0]
            hidden, logits, cache[0], cache[1] = self._decode(step, cache[0], cache[1])
            states.append(hidden[:, -1:])
            return int(logits[0].argmax())

        generated, stopped = greedy_decode(
            int(logits[0].argmax()), feed, self.tokenizer.eos_ids, self.max_new_tokens
        )
        mid = time.perf_counter()
        self.timings["generation_s"] += mid - clock
        text = self.tokenizer.decode(generated)
        if trace is not None:
            trace["generated_ids"] = np.asarray([generated], np.int64)
        if not states:  # an empty answer: nothing to condense, no mask (as the torch runner)
            return OrtAnswer(text, len(generated), None, stopped, tuple(generated))
        token_states = np.concatenate(states, axis=1)
        pooled = adaptive_mean(token_states, self.tokens)
        sparse = self._run("condense", {"pooled_states": pooled})[0]
        feeds = {"sparse_prompts": sparse, "sam_embedding": sam_embedding[None].astype(np.float32)}
        mask = self._run("mask", feeds)[0]
        self.timings["mask_decoder_s"] += time.perf_counter() - mid
        if trace is not None:
            trace.update(
                answer_hidden_states=token_states,
                condensed_pooled_before_mlp=pooled,
                condensed_sparse_prompts=sparse,
                mask_logits_128=mask,
            )
        return OrtAnswer(
            text, len(generated), mask[0].astype(np.float32), stopped, tuple(generated)
        )


def read_manifest(folder: Path) -> dict:
    """The export manifest of `folder`, checked for the parts this runner needs."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise BackendError(
            f"{folder} has no {MANIFEST_NAME}; export the model with `spex export-onnx --model "
            f"{folder} --out DIR` and give --model DIR."
        )
    manifest = json.loads(path.read_text(encoding="utf-8"))
    missing = [p for p in PARTS if p not in manifest.get("parts", {})]
    missing += [
        manifest["parts"][p]["file"]
        for p in PARTS
        if p in manifest.get("parts", {}) and not (folder / manifest["parts"][p]["file"]).is_file()
    ]
    if missing:
        raise BackendError(
            f"The exported model in {folder} is incomplete or from an older export (missing "
            f"{', '.join(missing)}); export it again with `spex export-onnx`."
        )
    return manifest


class SpexOnnxBackend(SpexBackend):
    """The SPEX backend running an exported folder with onnxruntime instead of PyTorch."""

    name = "onnx"

    def __init__(
        self,
        folder: str | Path,
        provider: str | None = None,
        max_new_tokens: int | None = None,
        threads: int | None = None,
        skip_empty_windows: bool = False,
    ) -> None:
        folder = Path(folder)
        self.manifest = read_manifest(folder)
        super().__init__(
            model=folder, max_new_tokens=max_new_tokens, skip_empty_windows=skip_empty_windows
        )
        self.provider_option, self.threads = provider, threads
        # sessions open here, so a wrong provider or version fails before any reading
        self._load()

    def _load(self) -> None:
        if getattr(self, "runner", None) is not None:
            return
        from ..spex.tokenizer import load_tokenizer

        tokenizer = load_tokenizer(self.folder)
        self.runner = OrtSpexRunner(
            self.folder,
            self.config,
            self.manifest,
            tokenizer,
            self.provider_option,
            self.max_new_tokens,
            self.threads,
        )
        vision = self.runner.sessions["vision"]
        self.device = f"{vision.device} (onnxruntime {vision.provider})"
        self.dtype, self.attention = "float32", "onnxruntime"

    def report(self) -> BackendReport:
        """The SPEX report, with the runtime and the provider that ran."""
        report = super().report()
        sessions = self.runner.sessions
        report.details.update(
            runtime=f"onnxruntime {sessions['vision'].runtime_version}",
            provider=self.runner.provider,
            providers={name: s.provider for name, s in sessions.items()},
            providers_requested=sessions["vision"].requested,
            threads=sessions["vision"].threads,
            export={k: self.manifest.get(k) for k in ("format", "opset", "ir_version")},
        )
        report.method = report.method.replace(
            "SPEX vision-language model", "SPEX vision-language model on onnxruntime"
        )
        report.notes.append(f"Ran on {sessions['vision'].describe()}.")
        return report
