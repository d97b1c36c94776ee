"""The tokenizer of a model folder (``tokenizer.json``), and a tiny stand-in for tests.

The published folders carry Qwen2.5's tokenizer files; ``tokenizer.json`` is read with the
`tokenizers` library. ``spex models init`` writes a small byte-level BPE with the same ChatML
special tokens, trained locally on SPEX-style text (no download), padded to the model's vocab.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ...errors import BackendError
from .config import QWEN_EOS_TOKENS

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

_CORPUS = (
    "<image>\nBased on the provided image and the attributes of the {0} regions, please provide "
    "a detailed description of them:[{{'Size of area': 'large', 'Centroid': [0.48, 0.422], "
    "'Location': 'center', 'Bounding box': [[0.09, 0.0], [0.998, 0.0], [0.998, 0.963], "
    "[0.09, 0.963]]}}, {{'Size of area': 'small', 'Location': 'top-left'}}]",
    "The {0} regions are located in the bottom-right, middle-left and top-center of the image; "
    "a huge, somewhat large, medium, small or very tiny area covers the scene.",
    "You are a helpful assistant. Water bodies, vegetation, built-up areas, bare soil, cropland, "
    "forest, roads, buildings, clouds and snow are visible.",
)
_PHRASES = ("water bodies", "vegetation", "buildings", "bare soil", "cropland", "forest")


@dataclass
class SpexTokenizer:
    """Text <-> token ids, the ChatML end tokens, and a safe decode."""

    backend: object  # tokenizers.Tokenizer

    @property
    def vocab_size(self) -> int:
        """Tokens the tokenizer knows (added tokens included)."""
        return self.backend.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`; special tokens written in the text are recognised."""
        return self.backend.encode(text, add_special_tokens=False).ids

    def token_id(self, token: str) -> int | None:
        """Id of one token string, or None."""
        return self.backend.token_to_id(token)

    @property
    def eos_ids(self) -> frozenset[int]:
        """Ids that end an answer (``<|im_end|>``, ``<|endoftext|>``)."""
        ids = (self.token_id(t) for t in QWEN_EOS_TOKENS)
        return frozenset(i for i in ids if i is not None)

    def decode(self, ids: list[int]) -> str:
        """Text of `ids`, special tokens and ids outside the vocabulary dropped."""
        size = self.vocab_size
        return self.backend.decode([i for i in ids if 0 <= i < size], skip_special_tokens=True)


def load_tokenizer(folder: Path) -> SpexTokenizer:
    """The tokenizer of a model folder."""
    from tokenizers import Tokenizer

    path = Path(folder) / "tokenizer.json"
    if not path.is_file():
        raise BackendError(
            f"No tokenizer.json in '{folder}'; copy the tokenizer files of the model into it."
        )
    try:
        return SpexTokenizer(Tokenizer.from_file(str(path)))
    except Exception as exc:  # the tokenizers library raises its own exception types
        raise BackendError(
            f"'{path}' is not a readable tokenizer ({exc}); re-download it."
        ) from exc


def build_tiny_tokenizer(vocab_size: int = 512) -> SpexTokenizer:
    """A byte-level BPE with the ChatML special tokens and exactly `vocab_size` tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=max(len(alphabet), vocab_size - len(SPECIAL_TOKENS)),
        initial_alphabet=alphabet,
        show_progress=False,
    )
    corpus = [line.format(phrase) for line in _CORPUS for phrase in _PHRASES]
    tokenizer.train_from_iterator(corpus, trainer)
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
    filler = vocab_size - tokenizer.get_vocab_size(with_added_tokens=True)
    if filler > 0:
        tokenizer.add_tokens([f"<|extra_{i}|>" for i in range(filler)])
    return SpexTokenizer(tokenizer)


def save_tokenizer(tokenizer: SpexTokenizer, folder: Path) -> None:
    """Write ``tokenizer.json``, ``tokenizer_config.json`` and ``special_tokens_map.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.backend.save(str(folder / "tokenizer.json"))
    config = {
        "tokenizer_class": "Qwen2Tokenizer",
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "model_max_length": 32768,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    special = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")
