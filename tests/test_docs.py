"""The documentation states what the code does."""

from __future__ import annotations

from pathlib import Path

from spex.engine.indices import index_table_markdown
from spex.engine.instructions.targets import TARGETS
from spex.engine.raster.sensors import load_presets

ROOT = Path(__file__).resolve().parent.parent


def test_index_page_matches_the_code() -> None:
    page = (ROOT / "docs" / "indices.md").read_text(encoding="utf-8")
    assert index_table_markdown().strip() in page


def test_readme_names_every_sensor_target_and_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in load_presets():
        assert f"`{name}`" in readme, name
    for target in TARGETS.values():
        assert target.title in readme, target.title
    for command in (
        "make demo",
        "make test",
        "make bench",
        "spex extract",
        "spex indices",
        "spex sensors",
    ):
        assert command in readme, command


def test_architecture_lists_every_engine_module() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for module in sorted((ROOT / "engine").rglob("*.py")):
        if module.name == "__init__.py":
            continue
        assert module.name in text, f"{module.relative_to(ROOT)} is missing from ARCHITECTURE.md"
