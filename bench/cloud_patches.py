"""The size of the bright patches cloud candidates lie in, on every labelled scene
(`bright_patches`, stop 75).

Clouds are large and roofs are not: the spectral backend refuses cloud candidates whose median
bright patch (8-connected, on the whole sample's grid) is smaller than
``SpectralParams.cloud_min_patch_ha``. This runs each scene as `bench.quality` does and
records, per run, the candidates' median patch in hectares, whatever the earlier cloud tests
(tint, contrast, NIR) decided of them, the verdict the engine's notes give, and what the
scene's labels say the candidates are (where the sample's grid is the raster's own: every
benchmark scene but the largest). Runs with fewer than `MIN_CANDIDATES` candidates are left
out. The engine measures no patch on a raster without a CRS (it has no area); the labelled
cloud chips without one are measured here at their sensor's pixel size (`PIXEL_M_WITHOUT_CRS`,
from their source.md), so that their clouds are seen too (marked "nominal").

Run: ``PYTHONPATH=. .venv/bin/python -m bench.cloud_patches [--groups benchmark,extra,dev]``
(about a minute) -> Markdown on stdout.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial

import numpy as np
import rasterio

from spex.engine.backends.spectral import fitted_scene, seeds
from spex.engine.backends.spectral.histograms import saturated
from spex.engine.backends.spectral.params import SpectralParams

from .quality import run_engine
from .scenes import LABEL_CODES, Scene, all_scenes

#: Runs with fewer candidates are not listed (the seeds' own minimum for a class).
MIN_CANDIDATES = 25
#: The pixel size (m) of the labelled cloud chips that have no CRS, from their source.md.
PIXEL_M_WITHOUT_CRS = {"c38_l8_cloud": 30.0, "ukis_l5_csmask": 30.0, "ukis_l7_csmask": 30.0,
                       "ukis_s2_csmask": 10.0}  # fmt: skip
#: The engine's notes that say what became of the cloud candidates, by the words they start with.
VERDICTS = {
    "cloud candidates redden": "tint",
    "cloud candidates are only": "contrast",
    "cloud candidates are darker in NIR": "NIR",
    "cloud candidates lie in bright patches": "patches",
}


@contextmanager
def recorded_patches(scene_name: list[str]) -> Iterator[list[dict]]:
    """Within it, the seeds' bright-candidate test is wrapped so that each run appends its
    candidates' median patch (ha) and their whole-sample mask on the grid to the list given;
    a raster without a CRS of the scene named `scene_name[0]` is given its
    `PIXEL_M_WITHOUT_CRS`. The engine's own functions are put back on leaving."""
    seen: list[dict] = []
    own_cells = fitted_scene.grid_cells

    def nominal_cells(sample, spacing):
        pixel_m = PIXEL_M_WITHOUT_CRS.get(scene_name[0])
        if spacing is None and pixel_m:  # no CRS: the sensor's pixel size
            spacing = (pixel_m, pixel_m)
        return own_cells(sample, spacing)

    fitted_scene.grid_cells = nominal_cells
    context, candidates = seeds._context, seeds.bright_candidates
    grids: list = []

    def recorded_context(*args, **kwargs):
        ctx = context(*args, **kwargs)
        grids.append((ctx.sample_grid, ctx.bands))
        return ctx

    def recorded_candidates(bands, clip, **kwargs):
        found = candidates(bands, clip, **kwargs)
        grid, seed_bands = grids[-1] if grids else (None, None)
        if grid is not None and bands is seed_bands and found.sum() >= MIN_CANDIDATES:
            test = partial(candidates, **kwargs)
            patches = grid.patch_ha_of(test)
            whole = np.zeros(grid.grid.shape, dtype=bool)
            whole[grid.grid] = test(grid.bands, {r: saturated(v) for r, v in grid.bands.items()})
            seen.append({"candidates": int(found.sum()), "median_ha": float(np.median(patches[found])),
                         "cell_ha": grid.cell_ha, "on_grid": whole})  # fmt: skip
        return found

    seeds._context, seeds.bright_candidates = recorded_context, recorded_candidates
    try:
        yield seen
    finally:
        seeds._context, seeds.bright_candidates = context, candidates
        fitted_scene.grid_cells = own_cells


def _labelled(on_grid: np.ndarray, labels_path) -> dict[str, int]:
    """Per label, how many candidates it holds (none where the grid is not the raster's)."""
    with rasterio.open(labels_path) as src:
        labels = src.read(1)
    if labels.shape != on_grid.shape:
        return {}
    names = {code: name for name, code in LABEL_CODES.items()}
    codes, counts = np.unique(labels[on_grid], return_counts=True)
    return {names[c]: int(n) for c, n in zip(codes, counts, strict=True) if c in names}


def _span(values: list[float]) -> str:
    """One value, or the range "low-high", to three significant digits."""
    low, high = min(values), max(values)
    return f"{low:.3g}" if low == high else f"{low:.3g}-{high:.3g}"


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="benchmark,extra,dev")
    args = parser.parse_args(list(argv) if argv is not None else None)
    name = [""]
    print("| scene | runs | candidates | cell (ha) | median patch (ha) | refused by | labelled |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with recorded_patches(name) as seen:
        for scene in all_scenes(tuple(args.groups.split(","))):
            name[0] = scene.name
            _print_scene(scene, seen)


def _print_scene(scene: Scene, seen: list[dict]) -> None:
    """Run every raster of `scene` and print its row (none without candidates to judge)."""
    runs, verdicts, labelled = [], Counter(), Counter()
    for image, labels_path in scene.rasters:
        start = len(seen)
        _, _, backend = run_engine(image, scene, SpectralParams())
        if len(seen) == start:
            continue
        runs.append(seen[-1])
        notes = backend.report().details.get("notes", [])
        verdict = next((v for n in notes for k, v in VERDICTS.items() if n.startswith(k)), "")
        verdicts[verdict or "kept"] += 1
        labelled.update(_labelled(seen[-1].pop("on_grid"), labels_path))
    if not runs:
        return
    print(
        f"| {scene.name}{' (nominal)' if scene.name in PIXEL_M_WITHOUT_CRS else ''} | "
        f"{len(runs)} | {_span([r['candidates'] for r in runs])} | "
        f"{_span([r['cell_ha'] for r in runs])} | {_span([r['median_ha'] for r in runs])} | "
        f"{', '.join(f'{v} {n}' for v, n in verdicts.most_common())} | "
        f"{', '.join(f'{k} {n}' for k, n in labelled.most_common()) or '-'} |"
    )


if __name__ == "__main__":
    main()
