"""The plugin's remembered choices: model folder, backend, recent prompts (QgsSettings)."""

from __future__ import annotations

from qgis.core import QgsSettings

PREFIX = "spex/"
#: Recent prompts kept in the history, newest first.
HISTORY_SIZE = 15
#: Instructions offered in the prompt's example list.
EXAMPLE_PROMPTS = (
    "extract the water bodies larger than 2 ha",
    "extract the water bodies and vegetation larger than 1 ha",
    "find the 5 largest lakes",
    "map built-up areas and bare soil",
    "extract forests larger than 10 ha",
    "grassland and crops other than forest, over 1 ha",
    "lakes over 1 ha and buildings over 200 m2",
    "show snow and cloud cover",
    "classify the land cover",
)


def _settings() -> QgsSettings:
    return QgsSettings()


def model_folder() -> str:
    """The default model folder for the model backends ('' when none is configured)."""
    return str(_settings().value(PREFIX + "model_folder", "", type=str) or "")


def set_model_folder(path: str) -> None:
    """Remember the default model folder."""
    _settings().setValue(PREFIX + "model_folder", path or "")


def backend() -> str:
    """The backend chosen last ('spectral' by default)."""
    return str(_settings().value(PREFIX + "backend", "spectral", type=str) or "spectral")


def set_backend(name: str) -> None:
    """Remember the backend chosen."""
    _settings().setValue(PREFIX + "backend", name)


def recent_prompts() -> list[str]:
    """Recent prompts, newest first."""
    value = _settings().value(PREFIX + "recent_prompts", [], type=list) or []
    return [str(p) for p in value if str(p).strip()][:HISTORY_SIZE]


def remember_prompt(prompt: str) -> list[str]:
    """Put `prompt` first in the history (no duplicates) and return the new history."""
    text = " ".join(prompt.split())
    if not text:
        return recent_prompts()
    history = [text] + [p for p in recent_prompts() if p != text]
    history = history[:HISTORY_SIZE]
    _settings().setValue(PREFIX + "recent_prompts", history)
    return history


def clear_history() -> None:
    """Forget every recent prompt."""
    _settings().remove(PREFIX + "recent_prompts")


def last_input() -> str:
    """The file of the raster the last run (or pick) used ('' when none)."""
    return str(_settings().value(PREFIX + "last_input", "", type=str) or "")


def set_last_input(source: str) -> None:
    """Remember the input raster's file, to pick it again after a reload."""
    _settings().setValue(PREFIX + "last_input", source or "")
