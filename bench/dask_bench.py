"""`make bench`, Dask part: `spex batch` on N local workers against N sequential `spex extract`
runs, the mosaic across 2 workers against the single-process run, and an estimate of large runs
from the measured per-tile and per-scene costs. Writes the "dask" section of docs/benchmarks.md.

Run alone: `.venv/bin/python bench/dask_bench.py [--scenes 24] [--size 6144]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.large_raster import build_tiled_raster  # noqa: E402
from bench.report import replace_section  # noqa: E402

CACHE = ROOT / ".cache" / "bench" / "dask"
SCENE = ROOT / ".cache" / "data" / "s2l1c_T33UUU_20170216.tif"
PROMPT = "extract the water bodies and vegetation"
SPEX = [sys.executable, "-m", "spex.engine.cli"]
#: The runs the estimate is made for.
BIG_BATCH_SCENES = 10_000
BIG_MOSAIC_SIDE = 100_000
BIG_WORKERS = 100
#: A Sentinel-2 tile at 10 m, in megapixels (10980 x 10980).
S2_TILE_MPX = 10980 * 10980 / 1e6


def timed(args: list[str]) -> float:
    """Wall time of one command; its failure stops the benchmark with its error."""
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[2:5])} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def batch_throughput(n_scenes: int, workers: int) -> dict[str, float]:
    """N sequential `spex extract` processes against one `spex batch --workers W`."""
    scenes_dir = CACHE / "scenes"
    scenes_dir.mkdir(parents=True, exist_ok=True)
    scenes = []
    for i in range(n_scenes):
        copy = scenes_dir / f"scene{i:02d}.tif"
        if not copy.exists():
            shutil.copy(SCENE, copy)
        scenes.append(copy)
    out = CACHE / "out"
    shutil.rmtree(out, ignore_errors=True)
    sequential = sum(
        timed([*SPEX, "extract", str(s), "--prompt", PROMPT, "--out", str(out / s.stem), "--quiet"])
        for s in scenes
    )
    shutil.rmtree(out, ignore_errors=True)
    one_worker = timed(
        [*SPEX, "batch", *map(str, scenes), "--prompt", PROMPT, "--out", str(out / "batch1")]
        + ["--workers", "1", "--quiet"]
    )
    one_worker_task_s = _median_task_s(out / "batch1")
    batch = timed(
        [*SPEX, "batch", *map(str, scenes), "--prompt", PROMPT, "--out", str(out / "batch")]
        + ["--workers", str(workers), "--quiet"]
    )
    task_s = _median_task_s(out / "batch")
    start = time.perf_counter()
    from spex.engine.distributed.batch_summary import write_summary

    folders = [(f.name, f) for f in sorted((out / "batch").iterdir()) if f.is_dir()]
    write_summary(folders, out / "summary-again.gpkg")
    summary_s = time.perf_counter() - start
    features = _feature_count(out / "summary-again.gpkg")
    shutil.rmtree(out, ignore_errors=True)
    with_pixels = _pixels(SCENE)
    return {
        "scenes": n_scenes,
        "workers": workers,
        "sequential_s": sequential,
        "batch_s": batch,
        "one_worker_s": one_worker,
        "scene_task_s": task_s,
        "one_worker_task_s": one_worker_task_s,
        "load": os.getloadavg()[0],
        "scene_mpx": with_pixels / 1e6,
        "summary_s": summary_s,
        "summary_features": features,
    }


def _median_task_s(folder: Path) -> float:
    record = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    seconds = sorted(s["seconds"] for s in record["scenes"])
    return seconds[len(seconds) // 2]


def mosaic(path: Path, workers: int) -> dict[str, object]:
    """`spex extract` in one process against the classify pass on `workers` local workers."""
    out = CACHE / "mosaic"
    shutil.rmtree(out, ignore_errors=True)
    single = _job(path, out / "single", 0)
    spread = _job(path, out / "spread", workers)
    same = (out / "single" / "mask.tif").read_bytes() == (out / "spread" / "mask.tif").read_bytes()
    shutil.rmtree(out, ignore_errors=True)
    return {"single": single, "spread": spread, "identical": same, "workers": workers}


def _job(path: Path, out: Path, workers: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.dask_bench", "--job", str(path), str(out), str(workers)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"mosaic job failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_job(path: Path, out: Path, workers: int) -> dict[str, object]:
    """One extraction in this process (workers 0: single process), with its stage timings."""
    from spex.engine import ExtractionRequest, extract

    start = time.perf_counter()
    request = ExtractionRequest(path, PROMPT, out)
    if workers:
        from spex.engine.distributed.dask_cluster import ClusterSpec
        from spex.engine.distributed.mosaic import DaskClassifyPass

        classify = DaskClassifyPass(ClusterSpec(workers=workers))
        result = extract(request, classify=classify)
        driver = classify.timings | {"bands": classify.bands_run}
    else:
        result = extract(request)
        driver = {}
    manifest = result.manifest
    return {
        "wall_s": time.perf_counter() - start,
        "timings_s": manifest["timings_s"],
        "tiles": manifest["tiling"]["tiles"],
        "regions_found": manifest["counts"]["regions_found"],
        "driver": driver,
    }


def _pixels(path: Path) -> int:
    import rasterio

    with rasterio.open(path) as ds:
        return ds.width * ds.height


def _feature_count(path: Path) -> int:
    from osgeo import ogr

    source = ogr.Open(str(path))
    count = source.GetLayer(0).GetFeatureCount()
    source = None
    return count


def markdown(batch: dict, mosaic_run: dict, path: Path) -> str:
    """The measured figures and the estimate derived from them."""
    from spex.engine.distributed.dask_cluster import ClusterSpec, tile_threads_per_worker

    speedup = batch["sequential_s"] / batch["batch_s"]
    threads = lambda n: tile_threads_per_worker(ClusterSpec(workers=n))  # noqa: E731
    w = batch["workers"]
    single, spread = mosaic_run["single"], mosaic_run["spread"]
    st, dt = single["timings_s"], spread["timings_s"]
    mpx = _pixels(path) / 1e6
    tiles = single["tiles"]
    tile_s = spread["driver"]["bands_s"] / tiles  # one worker thread per band: one core's cost
    lines = [
        f"Machine: {os.cpu_count()} cores, load average {batch['load']:.1f} after the batch runs "
        "(above the core count the box was shared and the ratios are the figures to read); "
        "single runs, which move by 10-30 % between runs.",
        "",
        f"**Batch throughput.** {batch['scenes']} copies of the Sentinel-2 sample scene "
        f'({batch["scene_mpx"]:.1f} Mpx, 13 bands), prompt "{PROMPT}".',
        "",
        "| run | wall time | scenes / minute |",
        "| --- | --- | --- |",
        f"| {batch['scenes']} sequential `spex extract` processes | {batch['sequential_s']:.1f} s "
        f"| {60 * batch['scenes'] / batch['sequential_s']:.1f} |",
        f"| `spex batch --workers 1` (cluster start included) | {batch['one_worker_s']:.1f} s "
        f"| {60 * batch['scenes'] / batch['one_worker_s']:.1f} |",
        f"| `spex batch --workers {w}` (cluster start included) | {batch['batch_s']:.1f} s "
        f"| {60 * batch['scenes'] / batch['batch_s']:.1f} |",
        "",
        f"Against {w} sequential `spex extract` runs per {w} scenes, the batch on {w} workers is "
        f"{speedup:.2f}x: {speedup / w:.2f} of linear (target 0.9). Against itself on one "
        f"worker it scales {batch['one_worker_s'] / batch['batch_s']:.2f}x "
        f"({batch['one_worker_s'] / batch['batch_s'] / w:.2f} of linear). A scene task took "
        f"{batch['one_worker_task_s']:.1f} s (median) on one worker ({threads(1)} tile threads) "
        f"and {batch['scene_task_s']:.1f} s on each of {w} ({threads(w)} each): in steady "
        f"state {w} workers finish {w * batch['one_worker_task_s'] / batch['scene_task_s']:.2f}x "
        "the scenes of one; the rest is the cluster's start, paid once per batch. What the "
        "batch saves against separate runs is the per-scene process start and imports, and "
        "the overlap of one scene's single-threaded stages (sample, prepare, vectorizing) with "
        "another's compute.",
        "",
        f"**Mosaic across workers.** {path.name} ({mpx:.1f} Mpx, {tiles} tiles of 512 px).",
        "",
        "| run | wall time | prepare | classify | write | vectorize | mask.tif |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| one process | {single['wall_s']:.1f} s | {st['prepare_s']:.1f} s | "
        f"{st['classify_s']:.1f} s | {st['write_s']:.1f} s | {st['vectorize_s']:.1f} s | reference |",
        f"| {mosaic_run['workers']} local workers, {spread['driver']['bands']} bands | "
        f"{spread['wall_s']:.1f} s | {dt['prepare_s']:.1f} s | {dt['classify_s']:.1f} s | "
        f"{dt['write_s']:.1f} s | {dt['vectorize_s']:.1f} s | "
        f"{'byte-identical' if mosaic_run['identical'] else 'DIFFERENT'} |",
        "",
        f"Speed-up {single['wall_s'] / spread['wall_s']:.2f}x overall. On two cores there is "
        "little to gain: the single process already classifies on both cores' threads, and "
        "the distributed classify adds starting the local cluster and moving the labels to "
        "the driver; the path is for many machines. The driver spent "
        f"{spread['driver']['link_write_s']:.2f} s adding bands (offsets, border links, writing "
        f"the provisional labels), {spread['driver']['finish_s']:.2f} s merging "
        f"{single['regions_found']:,} regions, and {spread['driver']['wait_s']:.1f} s waiting.",
        "",
    ]
    lines.append(
        f"Per-tile cost measured on the workers: {tile_s:.2f} s per 512 x 512 tile on one core "
        "(prediction, labelling and linking within the band)."
    )
    lines.append("")
    lines += estimate(batch, single, spread, mpx, tile_s)
    return "\n".join(lines)


def estimate(batch: dict, single: dict, spread: dict, mpx: float, tile_s: float) -> list[str]:
    """Large runs extrapolated from the per-tile and per-scene costs measured above."""
    st = single["timings_s"]
    scene_s = batch["scene_task_s"] / batch["scene_mpx"] * S2_TILE_MPX
    batch_hours = BIG_BATCH_SCENES * scene_s / BIG_WORKERS / 3600
    per_feature = batch["summary_s"] / max(1, batch["summary_features"])
    features_per_scene = batch["summary_features"] / batch["scenes"] / batch["scene_mpx"]
    summary_hours = per_feature * features_per_scene * S2_TILE_MPX * BIG_BATCH_SCENES / 3600
    big_mpx = BIG_MOSAIC_SIDE**2 / 1e6
    big_tiles = (BIG_MOSAIC_SIDE // 512 + 1) ** 2
    worker_min = big_tiles * tile_s / BIG_WORKERS / 60
    link_min = spread["driver"]["link_write_s"] / mpx * big_mpx / 60
    write_min = st["write_s"] / mpx * big_mpx / 60
    vector_min = st["vectorize_s"] / mpx * big_mpx / 60
    driver_min = link_min + write_min + vector_min
    regions = single["regions_found"] / mpx * big_mpx
    table_gb = regions * 3 * (4 + 2) * 8 / 1e9  # ~3 provisional labels a region, 6 float64 sums
    return [
        f"**Estimate for {BIG_BATCH_SCENES:,} scenes and a {BIG_MOSAIC_SIDE:,} px square mosaic "
        f"on {BIG_WORKERS} workers** (from the per-tile and per-scene costs above, one core "
        "per worker, linear in pixels as the performance section measures):",
        "",
        f"- Batch: a full Sentinel-2 tile ({S2_TILE_MPX:.0f} Mpx) costs about {scene_s / 60:.0f} "
        f"min of one worker, so {BIG_BATCH_SCENES:,} scenes take about {batch_hours:.0f} h on "
        f"{BIG_WORKERS} workers. The driver's share per scene is a task submission and a "
        "throttled rewrite of batch.json (milliseconds), so it is not the bottleneck while "
        "scenes run. It becomes one at the end: summary.gpkg is gathered by the driver at "
        f"{1 / per_feature:,.0f} features/s, about {summary_hours:.1f} h for the "
        f"~{features_per_scene * S2_TILE_MPX * BIG_BATCH_SCENES / 1e6:,.0f} M regions of "
        f"{BIG_BATCH_SCENES:,} full tiles. What to do: have each scene task also write its rows in summary "
        "form (one GeoPackage per scene, already there) and make summary.gpkg a light index "
        "(scene footprints and totals) or a GeoParquet dataset of the per-scene files, "
        "appended in parallel; batch.json becomes one record per scene (JSON lines).",
        f"- Mosaic: {big_mpx / 1e3:,.0f} Gpx is {big_tiles:,} tiles; the workers' classify is "
        f"about {worker_min:.0f} min. The driver then does, alone: adding bands and writing "
        f"the provisional labels ~{link_min:.0f} min (and receiving "
        f"{4 * big_mpx / 1e3:,.0f} GB of labels over the network), the write pass "
        f"~{write_min:.0f} min, polygonizing ~{vector_min:.0f} min, and a region table of "
        f"~{regions / 1e6:,.0f} M regions (~{table_gb:,.0f} GB in memory for the merge, "
        "taking ~3 provisional labels a region). The driver's "
        f"~{driver_min:.0f} min are {driver_min / max(worker_min, 1e-9):.0f}x the workers': it is "
        "the bottleneck. What to do: keep the band labels on the workers (shared "
        "storage) and send the driver only the band-border rows and the per-label sums; ship "
        "the final label lookup back so that workers write mask and region-id bands as "
        "separate GeoTIFFs joined by a VRT (or COG parts); polygonize per band on the workers "
        "and re-polygonize on the driver only the regions that touch a band border; merge "
        "the region table per band and keep only border labels in the driver's graph.",
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure, print and record the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, default=24, help="scenes in the batch")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=6144, help="side of the mosaic raster")
    parser.add_argument("--job", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        path, out, workers = args.job
        print(json.dumps(run_job(Path(path), Path(out), int(workers))))
        return 0
    CACHE.mkdir(parents=True, exist_ok=True)
    big = build_tiled_raster(
        SCENE, ROOT / ".cache" / "bench" / f"s2_{args.size}_deflate.tif", args.size, "deflate"
    )
    batch = batch_throughput(args.scenes, args.workers)
    mosaic_run = mosaic(big, args.workers)
    text = markdown(batch, mosaic_run, big)
    print(text)
    replace_section(ROOT / "docs" / "benchmarks.md", "dask", "## Dask distributed\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
