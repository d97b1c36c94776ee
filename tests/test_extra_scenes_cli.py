"""`python -m bench.extra_scenes`, as the benchmark's docs tell a developer to run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "sen1floods11_s2_spain"


def test_a_scene_without_its_source_is_skipped_in_one_line(tmp_path: Path) -> None:
    """Without the mirror: one "skipping" line and exit 0, no traceback (run as a script, the
    module once let the package's SourceUnavailableError past its own copy's `except`)."""
    absent = tmp_path / "absent"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.extra_scenes", str(tmp_path / "cache"), "--scene", NAME],
        cwd=ROOT,
        env=dict(os.environ, SPEX_SEN1FLOODS11_MIRROR=str(absent)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip() == f"skipping {NAME}: no mirror at {absent}"
    assert not (tmp_path / "cache" / NAME).exists()


def test_an_unknown_scene_is_refused_with_the_names_it_knows(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.extra_scenes", str(tmp_path), "--scene", "nowhere"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "invalid choice: 'nowhere'" in proc.stderr and NAME in proc.stderr


def test_a_cached_scene_of_an_older_build_is_built_again(tmp_path: Path) -> None:
    """The Landsat 5 scene's build 2 puts its MTL beside image.tif: a cache written before
    (scene.json without "build") is built again, here skipped in one line without its mirror,
    where before it was taken as it was."""
    name = "rstoolbox_l5_amazon"
    folder = tmp_path / "cache" / name
    folder.mkdir(parents=True)
    for output in ("image.tif", "labels.tif", "source.md"):
        (folder / output).write_bytes(b"")
    (folder / "scene.json").write_text('{"bands": "blue"}')
    proc = subprocess.run(
        [sys.executable, "-m", "bench.extra_scenes", str(tmp_path / "cache"), "--scene", name],
        cwd=ROOT,
        env=dict(os.environ, SPEX_RSTOOLBOX_MIRROR=str(tmp_path / "absent")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"skipping {name}:"), proc.stdout
