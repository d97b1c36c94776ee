"""The near-infrared cloud test on every labelled scene: cloud seeds' NIR median against the
vegetation seeds' (`haze.dimmer_than_canopy`, stop 58).

The scene classifier refuses cloud candidates dimmer in NIR than the scene's vegetation seeds
(white roofs and pavement pass every visible test). This runs each scene as `bench.quality`
does and records what the test saw, by wrapping the engine's own function: per run, the
candidates' count and NIR median, the vegetation seeds' NIR median, their ratio, the share of
candidates clipped in the visible, and the verdict. Scenes of many rasters (the Landsat chip
series) print their runs with 100 candidates or more, as a range; "judged ratio" leaves out
the runs whose candidates are mostly clipped (kept untested).

Run: ``PYTHONPATH=. .venv/bin/python -m bench.cloud_canopy [--groups benchmark,extra,dev]``
(about a minute) -> Markdown on stdout.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from spex.engine.backends.spectral import seeds
from spex.engine.backends.spectral.haze import nir_medians
from spex.engine.backends.spectral.params import SpectralParams

from .quality import run_engine
from .scenes import all_scenes

#: Runs with fewer candidates are listed in the counts only (most are below the seeds' minimum).
MIN_CANDIDATES = 100


def record_test() -> list[dict]:
    """Wrap `seeds.dimmer_than_canopy` so that each call appends what it saw to the returned
    list (the scene's name is filled in by the caller)."""
    seen: list[dict] = []
    test = seeds.dimmer_than_canopy

    def recorded(cloud, nir, vegetation, clipped):
        kept, note = test(cloud, nir, vegetation, clipped)
        if cloud.any() and vegetation.any():
            cloud_nir, canopy_nir = nir_medians(cloud, nir, vegetation)
            seen.append(
                {
                    "candidates": int(cloud.sum()),
                    "cloud_nir": cloud_nir,
                    "canopy_nir": canopy_nir,
                    "ratio": cloud_nir / canopy_nir if canopy_nir > 0 else float("inf"),
                    "clipped": float(clipped[cloud].mean()),
                    "refused": bool(note),
                }
            )
        return kept, note

    seeds.dimmer_than_canopy = recorded
    return seen


def _span(runs: list[dict], key: str, digits: int = 3) -> str:
    """`key` over `runs`: one value, or the range "low-high"."""
    low, high = min(r[key] for r in runs), max(r[key] for r in runs)
    return f"{low:.{digits}f}" if low == high else f"{low:.{digits}f}-{high:.{digits}f}"


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="benchmark,extra,dev")
    args = parser.parse_args(list(argv) if argv is not None else None)
    seen = record_test()
    print(
        "| scene | runs | candidates | cloud NIR | vegetation NIR | ratio | judged ratio | refused |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for scene in all_scenes(tuple(args.groups.split(","))):
        start = len(seen)
        for image, _ in scene.rasters:
            run_engine(image, scene, SpectralParams())
        runs = [r for r in seen[start:] if r["candidates"] >= MIN_CANDIDATES]
        if not runs:
            continue

        refused = sum(r["refused"] for r in runs)
        judged = [r for r in runs if r["clipped"] <= 0.5]
        clipped = sum(r["clipped"] > 0.5 for r in runs)
        print(
            f"| {scene.name} | {len(runs)} | {_span(runs, 'candidates', 0)} | "
            f"{_span(runs, 'cloud_nir')} | {_span(runs, 'canopy_nir')} | "
            f"{_span(runs, 'ratio', 2)} | {_span(judged, 'ratio', 2) if judged else '-'} | "
            f"{refused}" + (f" ({clipped} mostly clipped: kept)" if clipped else "") + " |"
        )


if __name__ == "__main__":
    main()
