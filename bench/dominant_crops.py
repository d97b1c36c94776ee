"""Chips of one class: the labelled scenes cropped to where one target dominates.

An analyst clips a scene to a reservoir, a forest or a town before asking for it. The scene is
then mostly one class, which the backend's scene-adaptive seeds must still find: a histogram's
cut splits a single mode, and tests relative to the scene (darker than its 75th percentile)
split the class itself. For each scene of ``bench/quality`` and each target, the window of
each size whose labelled pixels (at least ``MIN_LABELLED`` of it) are most that target, where
at least ``MIN_DOMINANT`` of them are, is written as a GeoTIFF of its own (the file's bands,
tags, scales and nodata) and run through the engine as ``bench/quality`` runs a scene: IoU of
that target on the crop's labelled pixels, and where its pixels went.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.dominant_crops [--sizes 32,64] [--scene NAME]``
(about a minute), Markdown on stdout.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.backends.spectral.scene_model import MIN_FIT_PIXELS
from spex.engine.backends.spectral.seeds import dark_offsets
from spex.engine.backends.spectral.water_seeds import water_bulk
from spex.engine.indices import compute_index
from spex.engine.raster.raster_source import open_source

from .iou import OTHER_MAX, counts, iou
from .quality import run_engine
from .scenes import LABEL_CODES, TARGETS, Scene, all_scenes

#: A window counts where this share of it is labelled, and this share of its labels is the target.
MIN_LABELLED = 0.3
MIN_DOMINANT = 0.9


def dominant_window(labels: np.ndarray, code: int, size: int) -> tuple[Window, float] | None:
    """The `size` x `size` window whose labelled pixels are most `code` (searched in steps of a
    quarter window), with that share; None where none reaches ``MIN_DOMINANT``."""
    step = max(1, size // 4)
    best: tuple[float, int, int] | None = None
    labelled = (labels >= 1) & (labels <= OTHER_MAX)
    for row in range(0, labels.shape[0] - size + 1, step):
        for col in range(0, labels.shape[1] - size + 1, step):
            lab = labelled[row : row + size, col : col + size]
            n = int(lab.sum())
            if n < MIN_LABELLED * size * size:
                continue
            share = float((labels[row : row + size, col : col + size] == code).sum() / n)
            if best is None or share > best[0]:
                best = (share, row, col)
    if best is None or best[0] < MIN_DOMINANT:
        return None
    return Window(best[2], best[1], size, size), best[0]


def write_like(src: rasterio.DatasetReader, out: Path, data: np.ndarray, transform: object) -> None:
    """`data` as a GeoTIFF at `out` with `src`'s profile, band descriptions, tags, scales and
    offsets, on `transform`: read as `src` is read."""
    profile = src.profile | {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "transform": transform,
    }
    with warnings.catch_warnings():
        # a scene the source ships without georeferencing is written so, knowingly
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        dst = rasterio.open(out, "w", **profile)
    with dst:
        dst.write(data)
        dst.descriptions = src.descriptions
        for band in range(1, src.count + 1):
            dst.update_tags(band, **src.tags(band))
        dst.scales, dst.offsets = src.scales, src.offsets


def copy_sidecars(image: Path, folder: Path) -> None:
    """The files beside `image` that are not rasters (a Landsat product's MTL file) into
    `folder`: a copy of the raster there is read as the raster is."""
    for sidecar in Path(image).parent.iterdir():
        if sidecar.is_file() and sidecar.suffix.lower() not in {".tif", ".tiff"}:
            shutil.copy(sidecar, folder / sidecar.name)


def write_crop(image: Path, window: Window, out: Path) -> None:
    """`image` at `window` as a GeoTIFF of its own, with its band metadata."""
    with rasterio.open(image) as src:
        write_like(src, out, src.read(window=window), src.window_transform(window))


def score_crops(scene: Scene, sizes: tuple[int, ...], work: Path) -> list[dict]:
    """One row per target and size with a dominant window in `scene`'s first raster."""
    image, labels_path = scene.rasters[0]
    with rasterio.open(labels_path) as src:
        labels = src.read(1)
    rows = []
    for target in TARGETS:
        code = LABEL_CODES[target]
        for size in sizes:
            found = dominant_window(labels, code, size)
            if found is None:
                continue
            window, share = found
            # The crop keeps the file's name and the files beside it (a Landsat product's MTL
            # file): the engine reads it as it reads the scene.
            folder = work / f"{scene.name}_{target}_{size}"
            folder.mkdir()
            copy_sidecars(Path(image), folder)
            crop = folder / Path(image).name
            write_crop(image, window, crop)
            masks, _, _ = run_engine(crop, scene, SpectralParams())
            lab = labels[window.toslices()]
            pos = lab == code
            neg = (lab >= 1) & (lab <= OTHER_MAX) & ~pos
            went = {t: int((masks[t] & pos).sum()) for t in TARGETS if t != target}
            rows.append(
                {
                    "scene": scene.name,
                    "target": target,
                    "size": size,
                    "share": share,
                    "iou": iou(counts(masks[target], pos, neg)),
                    "found": float(masks[target][pos].mean()),
                    "went": {t: n for t, n in went.items() if n},
                }
            )
    return rows


def bulk_water_windows(scene: Scene, size: int) -> tuple[int, list[tuple[int, int, float]]]:
    """How many `size` windows (half a window apart) of `scene` the backend would take as water
    by their bulk (`water_seeds.water_bulk`), and those of them whose labelled pixels are mostly not
    water, as (row, col, water's share of the labels): where the rule would be wrong."""
    image, labels_path = scene.rasters[0]
    with open_source(image, bands=scene.bands, sensor=scene.sensor, scale=scene.scale) as src:
        calibrated = src.scaling.calibrated
        bands = src.read(Window(0, 0, src.width, src.height))
    with rasterio.open(labels_path) as src:
        labels = src.read(1)
    if not {"green", "nir"} <= set(bands):
        return 0, []
    name = "MNDWI" if "swir1" in bands else "NDWI"
    found, wrong = 0, []
    step = size // 2
    for row in range(0, labels.shape[0] - size + 1, step):
        for col in range(0, labels.shape[1] - size + 1, step):
            pixels = {r: v[row : row + size, col : col + size].ravel() for r, v in bands.items()}
            valid = np.all([np.isfinite(v) for v in pixels.values()], axis=0)
            if valid.sum() < MIN_FIT_PIXELS:
                continue
            pixels = {r: v[valid] for r, v in pixels.items()}
            offsets = dark_offsets(pixels, calibrated)  # as the scene model corrects them
            pixels = {r: v - offsets[r] for r, v in pixels.items()}
            index, ndvi = compute_index(name, pixels), compute_index("NDVI", pixels)
            if water_bulk(pixels, index, ndvi, calibrated) is None:
                continue
            found += 1
            lab = labels[row : row + size, col : col + size]
            labelled = int(((lab >= 1) & (lab <= OTHER_MAX)).sum())
            share = float((lab == LABEL_CODES["water"]).sum() / max(labelled, 1))
            if labelled and share < 0.5:
                wrong.append((row, col, round(share, 2)))
    return found, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="32,64", help="window sizes in pixels")
    parser.add_argument("--scene", action="append", help="only these scenes (repeatable)")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    scenes = [s for s in all_scenes() if not args.scene or s.name in args.scene]
    print("| scene | target | size | its share of the labels | IoU | found | went instead |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for scene in scenes:
            if scene.points:
                continue  # labels as points: no window is mostly labelled
            for row in score_crops(scene, sizes, Path(tmp)):
                results.append(row)
                went = ", ".join(f"{t} {n}" for t, n in row["went"].items()) or "-"
                print(
                    f"| {row['scene']} | {row['target']} | {row['size']} | {row['share']:.2f} "
                    f"| {row['iou']:.3f} | {row['found']:.2f} | {went} |"
                )
    print()
    print("Windows of 32 pixels taken as water by their bulk, and those labelled mostly not water:")
    print()
    print("| scene | windows | labelled mostly not water (row, col, water's share) |")
    print("| --- | --- | --- |")
    for scene in scenes:
        found, wrong = bulk_water_windows(scene, 32)
        if found:
            print(f"| {scene.name} | {found} | {', '.join(map(str, wrong[:4])) or '-'} |")
    print()
    print("| target | crops | mean IoU | worst |")
    print("| --- | --- | --- | --- |")
    for target in TARGETS:
        mine = [r for r in results if r["target"] == target]
        if mine:
            worst = min(mine, key=lambda r: r["iou"])
            print(
                f"| {target} | {len(mine)} | {np.mean([r['iou'] for r in mine]):.3f} | "
                f"{worst['iou']:.3f} ({worst['scene']}, {worst['size']}) |"
            )


if __name__ == "__main__":
    main()
