"""Before and after a speed-up, in one script: the same rasters, prompts and baselines.

Runs, in turns and each in its own process: a plain windowed read, the manual route (NDWI > 0
+ GDAL Polygonize), `spex extract` with a baseline engine (the source tree of an earlier commit,
imported as `spex` ahead of this checkout) and with this checkout's engine. Prints best-of wall
times, CPU times, peak memory and ratios as Markdown, and counts the mask pixels that differ
between the two engines (a speed-up must change none).

    git archive BASE_COMMIT | tar -x -C /tmp/base
    .venv/bin/python bench/before_after.py --baseline-tree /tmp/base \\
        RASTER PROMPT [RASTER PROMPT ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import rasterio

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".cache" / "bench" / "before_after"


def job(engine: Path | None, *args: str) -> dict:
    """One bench.job run in a fresh process, with the engine of source tree `engine` (None:
    this checkout's): a folder holding a `spex` link to it goes first on the path."""
    path = [str(ROOT)]
    if engine is not None:
        link = OUT / "baseline-path"
        link.mkdir(parents=True, exist_ok=True)
        spex = link / "spex"
        if spex.is_symlink() or spex.exists():
            spex.unlink()
        spex.symlink_to(engine.resolve(), target_is_directory=True)
        path.insert(0, str(link))
    done = subprocess.run(
        [sys.executable, "-m", "bench.job", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": os.pathsep.join(path)},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"bench.job {args[0]} ({engine or 'this checkout'}) failed:\n{done.stderr[-2000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def differing_pixels(a: Path, b: Path) -> int:
    """Mask pixels that differ between two runs' mask.tif, block by block."""
    with rasterio.open(a) as x, rasterio.open(b) as y:
        return sum(
            int(np.count_nonzero(x.read(1, window=w) != y.read(1, window=w)))
            for _, w in x.block_windows(1)
        )


def compare(raster: Path, prompt: str, baseline: Path, repeats: int) -> dict:
    """Best-of runs of the four jobs on one raster, and the mask comparison."""
    runs: dict[str, list[dict]] = {"read": [], "manual": [], "before": [], "after": []}
    for i in range(repeats):
        runs["read"].append(job(None, "read", str(raster)))
        manual = OUT / f"manual-{i}"
        shutil.rmtree(manual, ignore_errors=True)
        runs["manual"].append(job(None, "manual", str(raster), str(manual)))
        shutil.rmtree(manual, ignore_errors=True)
        for name, engine in (("before", baseline), ("after", None)):
            out = OUT / f"{name}-{raster.stem}"
            shutil.rmtree(out, ignore_errors=True)
            runs[name].append(job(engine, "extract", str(raster), str(out), prompt))
    best = {name: min(r, key=lambda j: j["wall_s"]) for name, r in runs.items()}
    peak = {name: max(j["peak_rss_mb"] for j in r) for name, r in runs.items()}
    diff = differing_pixels(
        OUT / f"before-{raster.stem}" / "mask.tif", OUT / f"after-{raster.stem}" / "mask.tif"
    )
    return {"best": best, "peak": peak, "diff": diff, "load": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    """Measure every RASTER PROMPT pair and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--baseline-tree", required=True, type=Path, help="source tree of the baseline engine"
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("pairs", nargs="+", help="RASTER PROMPT [RASTER PROMPT ...]")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        "| raster | prompt | read | manual | before | after | after / before | after / read "
        "| after / manual | CPU before / after | peak MB before / after | regions | mask px differing | load |"
    )
    print("| --- " * 14 + "|")
    for raster, prompt in zip(args.pairs[::2], args.pairs[1::2], strict=True):
        m = compare(Path(raster), prompt, args.baseline_tree, args.repeats)
        b = m["best"]
        read, manual = b["read"]["wall_s"], b["manual"]["wall_s"]
        before, after = b["before"]["wall_s"], b["after"]["wall_s"]
        print(
            f"| {Path(raster).name} | {prompt} | {read:.2f} s | {manual:.2f} s | {before:.2f} s "
            f"| {after:.2f} s | {after / before:.2f}x | {after / read:.1f}x | {after / manual:.1f}x "
            f"| {b['before']['cpu_s']:.1f} / {b['after']['cpu_s']:.1f} s "
            f"| {m['peak']['before']:.0f} / {m['peak']['after']:.0f} "
            f"| {b['after']['result']['regions']:,} | {m['diff']} | {m['load']:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
