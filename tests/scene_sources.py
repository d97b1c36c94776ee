"""Labelled scenes in tests: the shared benchmark (skipped where it is not beside the repository)
and the extra scenes of `bench/extra_scenes.py` (skipped where the public repository a scene is
built from is not mirrored here, built once into the quality cache where it is, then reused)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.extra_scenes import prepare_extra_scenes
from bench.scenes import SCENES, Scene, benchmark_root, extra_scenes

#: Skip where the shared labelled benchmark is not here.
needs_benchmark = pytest.mark.skipif(
    not benchmark_root().is_dir(),
    reason=f"the labelled benchmark is not here ({benchmark_root()}); it sits beside the "
    "repository in shared/benchmark (or set SPEX_BENCHMARK)",
)


def needs_mirror(repo: str, path: Path, env_name: str) -> pytest.MarkDecorator:
    """Skip where the public repository an extra scene is built from is not mirrored here."""
    return pytest.mark.skipif(
        not path.exists(),
        reason=f"no mirror of {repo} at {path} (set {env_name} to a bare clone of it)",
    )


def built_scene(name: str) -> Scene:
    """The extra scene `name` as `bench.quality` scores it, built first if it is not cached."""
    folders = prepare_extra_scenes(SCENES, [name])
    assert folders, f"the mirror is here but {name} was not built (sha256 mismatch?)"
    return next(s for s in extra_scenes() if s.name == name)
