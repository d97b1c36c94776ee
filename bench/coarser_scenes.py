"""The labelled scenes at coarser pixels: each averaged over 2 x 2 and 4 x 4 pixel blocks.

An analyst runs an overview, a coarser sensor's product or a resampled export of the same
ground; the backend's rules must not hinge on one pixel size. Each scene's raster is read
averaged over f x f blocks (GDAL's average, as an overview is built) into a GeoTIFF of its own
with the file's name, bands, tags and scales and the files beside it (read as its scene is),
and each target is scored where a block is labelled one class throughout (mixed blocks are
unlabelled). Rows with fewer than ``MIN_POSITIVES`` labelled pixels at a size are left out;
a scene of several rasters (the pooled Landsat scenes) is scored on its first.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.coarser_scenes [--scene NAME]`` (about a minute),
Markdown on stdout.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling

from spex.engine.backends.spectral.params import SpectralParams

from .dominant_crops import copy_sidecars, write_like
from .iou import OTHER_MAX, counts, iou
from .quality import run_engine
from .scenes import LABEL_CODES, TARGETS, Scene, all_scenes

FACTORS = (1, 2, 4)
#: A target is scored at a size where it keeps at least this many labelled pixels.
MIN_POSITIVES = 10


def pure_blocks(labels: np.ndarray, factor: int) -> np.ndarray:
    """`labels` at 1/`factor` of their size: a block's label where all of it has that label,
    else 0 (unlabelled)."""
    rows, cols = labels.shape[0] // factor, labels.shape[1] // factor
    blocks = labels[: rows * factor, : cols * factor].reshape(rows, factor, cols, factor)
    first = blocks[:, 0, :, 0]
    same = (blocks == first[:, None, :, None]).all(axis=(1, 3))
    return np.where(same, first, 0).astype(labels.dtype)


def write_coarser(image: Path, factor: int, folder: Path) -> Path:
    """`image` averaged over `factor` x `factor` blocks, in `folder` under its own name with the
    non-raster files beside it (a product's MTL file)."""
    copy_sidecars(Path(image), folder)
    out = folder / Path(image).name
    with rasterio.open(image) as src:
        rows, cols = src.height // factor, src.width // factor
        resampling = Resampling.average if factor > 1 else Resampling.nearest
        data = src.read(out_shape=(src.count, rows, cols), resampling=resampling)
        transform = src.transform * src.transform.scale(src.width / cols, src.height / rows)
        write_like(src, out, data, transform)
    return out


def score_scene(scene: Scene, work: Path) -> dict[str, dict[int, float]]:
    """IoU per target and factor of `scene`'s first raster at each of ``FACTORS``."""
    image, labels_path = scene.rasters[0]
    with rasterio.open(labels_path) as src:
        labels = src.read(1)
    scores: dict[str, dict[int, float]] = {}
    for factor in FACTORS:
        folder = work / f"{scene.name}_{factor}"
        folder.mkdir()
        path = Path(image) if factor == 1 else write_coarser(image, factor, folder)
        masks, _, _ = run_engine(path, scene, SpectralParams())
        lab = pure_blocks(labels, factor)
        for target in TARGETS:
            pos = lab == LABEL_CODES[target]
            if pos.sum() < MIN_POSITIVES:
                continue
            neg = (lab >= 1) & (lab <= OTHER_MAX) & ~pos
            scores.setdefault(target, {})[factor] = iou(counts(masks[target], pos, neg))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", action="append", help="only these scenes (repeatable)")
    args = parser.parse_args()
    scenes = [s for s in all_scenes() if not s.points and (not args.scene or s.name in args.scene)]
    heads = " | ".join(f"{f} x {f}" for f in FACTORS)
    print(f"| scene | target | {heads} |")
    print("| --- | --- |" + " --- |" * len(FACTORS))
    drops: dict[str, list[tuple[float, str]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scene in scenes:
            for target, by_factor in score_scene(scene, Path(tmp)).items():
                cells = " | ".join(
                    f"{by_factor[f]:.3f}" if f in by_factor else "-" for f in FACTORS
                )
                print(f"| {scene.name} | {target} | {cells} |")
                if 1 in by_factor and len(by_factor) > 1:
                    worst = min(v for f, v in by_factor.items() if f > 1) - by_factor[1]
                    drops.setdefault(target, []).append((worst, scene.name))
    print()
    print("| target | rows | mean change, coarser against 1 x 1 (worst size) | worst |")
    print("| --- | --- | --- | --- |")
    for target, found in drops.items():
        worst = min(found)
        print(
            f"| {target} | {len(found)} | {np.mean([d for d, _ in found]):+.3f} | "
            f"{worst[0]:+.3f} ({worst[1]}) |"
        )


if __name__ == "__main__":
    main()
