"""Where the spectral backend says its vegetation lacks a green peak, and whether its advice helps.

``engine/backends/spectral/reddish_vegetation.py`` measures, on calibrated reflectance, the
part of the scene's vegetation that is redder than green (soil and dry grass are, green leaves
are not) and says it, with the vegetation cut above it where one clears the green vegetation.
This prints, per raster of the asked scene groups where the note is given: the share it
measured, what the labels call the pixels it describes over the whole raster (the engine's
vegetation with red that far above green), and the scene's rows before and after following
its advice (the suggested cut as the analyst's ``--threshold NDVI=``).

Run: ``PYTHONPATH=. .venv/bin/python -m bench.reddish_vegetation [--groups G]`` (about a minute
for the default groups), Markdown on stdout.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import rasterio

from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.backends.spectral.reddish_vegetation import GREEN_PEAK_MARGIN
from spex.engine.indices import compute_index

from .quality import DEFAULT_GROUPS, run_engine, score_scene
from .scenes import LABEL_CODES, Scene, all_scenes

#: The label codes named in the table, the rest counted as other.
NAMED = {code: name for name, code in LABEL_CODES.items()}


def described_labels(scene: Scene) -> tuple[list[dict], dict[str, int]]:
    """Per raster of `scene`, the note's record (None where it is not given); and what the
    labels call the pixels it describes, summed over the rasters that gave it."""
    records, labels = [], {}
    for image, labels_path in scene.rasters:
        pred, bands, backend = run_engine(image, scene, SpectralParams())
        found = backend.report().details.get("reddish_vegetation")
        records.append(found)
        if found is None:
            continue
        described = pred["vegetation"] & (compute_index("NGRDI", bands) < -GREEN_PEAK_MARGIN)
        with rasterio.open(labels_path) as src:
            lab = src.read(1)
        for code in np.unique(lab[described]):
            name = NAMED.get(int(code), "unlabelled" if code in (0, 255) else "other")
            labels[name] = labels.get(name, 0) + int((described & (lab == code)).sum())
    return records, labels


def advice_rows(scene: Scene, cut: float) -> list[tuple[str, float, float]]:
    """Per target of `scene`: ours by default, and with the vegetation cut set to `cut`."""
    before = score_scene(scene, SpectralParams(), with_baselines=False)
    params = replace(SpectralParams(), set_thresholds=(("NDVI", cut),))
    after = score_scene(scene, params, with_baselines=False)
    return [(a["target"], a["ours"], b["ours"]) for a, b in zip(before, after, strict=True)]


def main(argv: Iterable[str] | None = None) -> None:
    """Print the table for the asked scene groups."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default=DEFAULT_GROUPS)
    args = parser.parse_args(list(argv) if argv is not None else None)
    print("| scene | share of vegetation | NDVI 5-95 % | suggested cut | its pixels' labels |")
    print("| --- | --- | --- | --- | --- |")
    advised = []
    silent = []
    for scene in all_scenes(tuple(args.groups.split(","))):
        records, labels = described_labels(scene)
        given = [r for r in records if r is not None]
        if not given:
            silent.append(scene.name)
            continue
        first = given[0]
        cut = first["suggested_ndvi_cut"]
        lo, hi = first["ndvi_5_95"]
        said = ", ".join(f"{k} {v}" for k, v in sorted(labels.items(), key=lambda kv: -kv[1]))
        shown = "-" if cut is None else f"{cut:.2f}"
        print(
            f"| {scene.name} | {first['share_of_vegetation']:.3f} | {lo:.2f}-{hi:.2f} | "
            f"{shown} | {said or '-'} |"
        )
        if cut is not None:
            advised.append((scene, cut))
    print(f"\nNot given on {len(silent)} scenes: {', '.join(silent)}.\n")
    if not advised:
        return
    print("| scene | target | ours | following the advice |")
    print("| --- | --- | --- | --- |")
    for scene, cut in advised:
        for target, before, after in advice_rows(scene, cut):
            print(f"| {scene.name} (NDVI={cut:.2f}) | {target} | {before:.3f} | {after:.3f} |")


if __name__ == "__main__":
    main()
