"""`make bench`, spectrometer part: what reading a role as the mean of its bands costs.

An imaging spectrometer's role is read as the mean of its bands within 15 nm of the role's
centre (`engine/raster/averaged_bands.py`), 3-4 bands of 10 nm instead of one. On an
EnMAP-sized raster made from the real Sentinel-2 scene (`bench/spectrometer_raster.py`, 203
bands, 1536 x 768 px, stored two ways: band-interleaved and uncompressed as an ENVI export
reads, pixel-interleaved with deflate as a GeoTIFF export is), each in its own process: a plain
windowed read of every band (the baseline), `spex extract` as it reads the raster, and `spex
extract` with `--bands` naming one band per role (the reading before stop 59). Writes the
"spectrometer" section of docs/benchmarks.md.

Run alone: `.venv/bin/python bench/spectrometer_bench.py [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality_data import prepare_s2  # noqa: E402
from bench.report import replace_section  # noqa: E402
from bench.run_benchmarks import SCENE, run_job  # noqa: E402
from bench.spectrometer_raster import SPECTROMETER_NM, spectrometer_copy  # noqa: E402

CACHE = ROOT / ".cache" / "bench" / "spectrometer"
PROMPT = "extract the water bodies and vegetation"
STORAGE = {
    "band-interleaved, uncompressed": {"tiled": True, "interleave": "band"},
    "pixel-interleaved, deflate": {"tiled": True, "interleave": "pixel", "compress": "deflate"},
}


def build(name: str, creation: dict[str, object]) -> Path:
    """The spectrometer raster stored as `creation` says, made once."""
    from spex.engine.raster.sensors import get_preset

    path = CACHE / f"spectrometer_{name.split(',')[0]}.tif"
    if not path.exists():
        prepare_s2()
        centres = [band.center_nm for band in get_preset("sentinel2_l1c").bands]
        spectrometer_copy(SCENE, path, (0, 0, 1536, 768), centres, **creation)
    return path


def one_band_each(path: Path) -> str:
    """``--bands`` naming the band that names each role, as the engine reads the raster."""
    from spex.engine.raster.raster_source import open_source

    with open_source(path) as src:
        return ",".join(f"{i + 1}={r}" for i, r in enumerate(src.mapping.roles) if r)


def best(args: list[str], repeats: int) -> dict[str, float]:
    """The fastest of `repeats` runs of one `bench.job`, its peak memory beside it."""
    runs = []
    for _ in range(repeats):
        if args[0] == "extract":
            shutil.rmtree(args[2], ignore_errors=True)
        runs.append(run_job(*args))
    fastest = min(runs, key=lambda r: r["wall_s"])
    return {"wall_s": fastest["wall_s"], "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}


def main(argv: list[str] | None = None) -> int:
    """Measure, print and record the section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{len(SPECTROMETER_NM)} bands, 1536 x 768 px, uint16; best of {args.repeats} runs, "
        "each in its own process; command: `.venv/bin/python bench/spectrometer_bench.py`.",
        "",
        "| storage | plain read of every band | extract, roles averaged | / read | extract, one "
        "band per role | / read | averaged / one band | peak memory, averaged / one band |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, creation in STORAGE.items():
        path = build(name, creation)
        out = str(CACHE / "out")
        read = best(["read", str(path)], args.repeats)
        averaged = best(["extract", str(path), out, PROMPT], args.repeats)
        one = best(
            ["extract", str(path), out, PROMPT, f"bands={one_band_each(path)}"], args.repeats
        )
        lines.append(
            f"| {name} | {read['wall_s']:.2f} s | {averaged['wall_s']:.2f} s | "
            f"{averaged['wall_s'] / read['wall_s']:.2f} | {one['wall_s']:.2f} s | "
            f"{one['wall_s'] / read['wall_s']:.2f} | {averaged['wall_s'] / one['wall_s']:.2f} | "
            f"{averaged['peak_rss_mb']:.0f} / {one['peak_rss_mb']:.0f} MB |"
        )
    table = "\n".join(lines)
    print(table)
    replace_section(ROOT / "docs" / "benchmarks.md", "spectrometer", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
