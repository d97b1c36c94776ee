"""Speed on rasters unlike the development scene (issue 11): 8-bit DN, hazy, four-band.

Three benchmark scenes (``../shared/benchmark``) mirrored to a square mosaic
(`bench.large_raster.build_tiled_raster`, deflate, 512 px blocks), each measured like the
`make bench` rasters (`bench.run_benchmarks.measure`: plain read, manual route and
`spex extract --profile`, each in its own process, best of the repeats) and printed as one
Markdown table. The mosaics stay in ``.cache/bench``.

    .venv/bin/python bench/unlike_scenes.py [--size 6144] [--repeats 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.large_raster import build_tiled_raster  # noqa: E402
from bench.run_benchmarks import CACHE, measure  # noqa: E402
from bench.scenes import benchmark_root  # noqa: E402

#: (scene folder, what it stands for, prompt)
SCENES = (
    ("ogt_s2_rcr_nc", "8-bit DN, 8 bands", "extract water bodies and vegetation"),
    ("ukis_l5_csmask", "hazy and cloudy, float32, 6 bands, no CRS", "extract water bodies"),
    ("c38_l8_cloud", "four bands (blue, green, red, NIR), uint16", "extract vegetation"),
)


def main(argv: list[str] | None = None) -> int:
    """Build the mosaics, measure them and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=6144, help="mosaic side in pixels")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    lines = [
        "| raster | prompt | plain read | manual route | spex extract | extract / read "
        "| extract / manual | peak memory | regions | prepare / classify / write / vectorize "
        "(wall s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, what, prompt in SCENES:
        source = benchmark_root() / name / "image.tif"
        if not source.exists():
            print(f"skipped {name}: {source} is missing", file=sys.stderr)
            continue
        mosaic = build_tiled_raster(source, CACHE / f"{name}_{args.size}.tif", args.size)
        m = measure(mosaic, args.repeats, prompt)
        passes = (m.get("profile") or {}).get("passes", {})
        stages = " / ".join(
            f"{passes[p]['wall_s']:.1f}" if p in passes else "-"
            for p in ("prepare", "classify", "write", "vectorize")
        )
        lines.append(
            f"| `{name}`: {what} | {prompt} | {m['read_s']:.2f} s | {m['manual_s']:.2f} s "
            f"| {m['extract_s']:.2f} s | {m['extract_s'] / m['read_s']:.1f}x "
            f"| {m['extract_s'] / m['manual_s']:.1f}x | {m['extract_mb']:.0f} MB "
            f"| {m['regions']:,} | {stages} |"
        )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
