"""Labelled scenes in tests: the shared benchmark (skipped where it is not beside the repository)
and the extra scenes of `bench/extra_scenes.py` (skipped where the public repository a scene is
built from is not mirrored here, built once into the quality cache where it is, then reused)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from bench.extra_scenes import prepare_extra_scenes
from bench.quality import score_scene
from bench.scenes import SCENES, Scene, benchmark_root, extra_scenes
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.raster.raster_source import open_source

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


def read_scene(scene: Scene, role: str) -> tuple[set[str], np.ndarray, np.ndarray]:
    """What the engine reads of `scene`'s first raster: its band roles and its `role` band (as
    reflectance, whole); and the raster's labels."""
    image, labels_path = scene.rasters[0]
    with open_source(image) as src:
        roles = set(src.roles)
        band = src.read(Window(0, 0, src.width, src.height))[role]
    with rasterio.open(labels_path) as lab:
        return roles, band, lab.read(1)


def label_counts(labels: np.ndarray) -> dict[int, int]:
    """The pixel count of each code of `labels`."""
    codes, counts = np.unique(labels, return_counts=True)
    return dict(zip(codes.tolist(), counts.tolist(), strict=True))


def ours_by_target(scene: Scene, params: SpectralParams | None = None) -> dict[str, float]:
    """`bench.quality`'s IoU of the engine per target of `scene` (`params`: the defaults)."""
    rows = score_scene(scene, params or SpectralParams(), with_baselines=False)
    return {r["target"]: r["ours"] for r in rows}
