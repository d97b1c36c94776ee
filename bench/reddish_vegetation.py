"""Where the spectral backend finds vegetation without a green peak: what it maps, and says.

On calibrated reflectance, ``engine/backends/spectral/soil_in_vegetation.py`` maps as bare
soil the vegetation below the vegetation seeds' NDVI edge that is redder than green, and
``reddish_vegetation.py`` says what is left of such vegetation, with the vegetation cut above it
where one clears the green vegetation and the soil rule is off. This prints, per scene of the
asked groups: where the rule moved sampled vegetation, its share and what the labels call the
pixels it moved over the whole raster (the vegetation without the rule, less the vegetation
with it); where the note is given, the share it measured, what the labels call the pixels it
describes (the engine's vegetation with red that far above green), and the scene's rows
before and after following its advice (the suggested cut as the analyst's
``--threshold NDVI=``).

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


def _count_labels(mask: np.ndarray, labels_path, into: dict[str, int]) -> None:
    """Add to `into` what the labels call the pixels of `mask`, by name."""
    with rasterio.open(labels_path) as src:
        lab = src.read(1)
    for code in np.unique(lab[mask]):
        name = NAMED.get(int(code), "unlabelled" if code in (0, 255) else "other")
        into[name] = into.get(name, 0) + int((mask & (lab == code)).sum())


def _labels_text(labels: dict[str, int]) -> str:
    """The label counts, most first: "bare 2000, unlabelled 9"."""
    return ", ".join(f"{k} {v}" for k, v in sorted(labels.items(), key=lambda kv: -kv[1]))


def described_labels(scene: Scene) -> tuple[list[dict], dict[str, int], list[dict], dict]:
    """Per raster of `scene`, the note's record (None where it is not given), and what the
    labels call the pixels it describes, summed over the rasters that gave it; the same for
    the soil rule (its record, and the labels of the pixels it moved out of the vegetation)."""
    records, labels, rules, moved_labels = [], {}, [], {}
    without_rule = replace(SpectralParams(), soil_in_vegetation=False)
    for image, labels_path in scene.rasters:
        pred, bands, backend = run_engine(image, scene, SpectralParams())
        details = backend.report().details
        found, rule = details.get("reddish_vegetation"), details.get("soil_in_vegetation")
        records.append(found)
        rules.append(rule)
        if rule is not None:
            before, _, _ = run_engine(image, scene, without_rule)
            _count_labels(before["vegetation"] & ~pred["vegetation"], labels_path, moved_labels)
        if found is not None:
            reddish = compute_index("NGRDI", bands) < -GREEN_PEAK_MARGIN
            _count_labels(pred["vegetation"] & reddish, labels_path, labels)
    return records, labels, rules, moved_labels


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
    advised, silent, moved = [], [], []
    print("| scene | share of vegetation | NDVI 5-95 % | suggested cut | its pixels' labels |")
    print("| --- | --- | --- | --- | --- |")
    for scene in all_scenes(tuple(args.groups.split(","))):
        records, labels, rules, moved_labels = described_labels(scene)
        applied = [r for r in rules if r is not None]
        if moved_labels:
            moved.append((scene.name, applied[0], moved_labels))
        given = [r for r in records if r is not None]
        if not given:
            silent.append(scene.name)
            continue
        first = given[0]
        cut = first["suggested_ndvi_cut"]
        lo, hi = first["ndvi_5_95"]
        shown = "-" if cut is None else f"{cut:.2f}"
        print(
            f"| {scene.name} | {first['share_of_vegetation']:.3f} | {lo:.2f}-{hi:.2f} | "
            f"{shown} | {_labels_text(labels) or '-'} |"
        )
        if cut is not None:
            advised.append((scene, cut))
    print(f"\nNot given on {len(silent)} scenes: {', '.join(silent)}.\n")
    print("| scene | soil rule: share of vegetation | NDVI edge | the moved pixels' labels |")
    print("| --- | --- | --- | --- |")
    for name, rule, labels in moved:
        share, edge = rule["share_of_vegetation"], rule["ndvi_below"]
        print(f"| {name} | {share:.3f} | {edge:.2f} | {_labels_text(labels)} |")
    print()
    if not advised:
        return
    print("| scene | target | ours | following the advice |")
    print("| --- | --- | --- | --- |")
    for scene, cut in advised:
        for target, before, after in advice_rows(scene, cut):
            print(f"| {scene.name} (NDVI={cut:.2f}) | {target} | {before:.3f} | {after:.3f} |")


if __name__ == "__main__":
    main()
