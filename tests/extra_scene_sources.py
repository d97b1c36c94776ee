"""The extra benchmark scenes of `bench/extra_scenes.py` in tests: skipped where the public
repository a scene is built from is not mirrored here, built once into the quality cache where
it is (then reused)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.extra_scenes import prepare_extra_scenes
from bench.scenes import SCENES, Scene, extra_scenes


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
