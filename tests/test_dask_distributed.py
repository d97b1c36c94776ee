"""`spex batch` and the mosaic across workers on a real Dask cluster on 127.0.0.1.

The scheduler and workers are `dask scheduler` / `dask worker` processes (ports chosen at run
time, stopped at the end). Scenes are parts of the real Sentinel-2 sample scene, small so that
the module stays fast on two shared cores.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rasterio
from osgeo import ogr

from spex.engine import ExtractionRequest, extract
from tests.dask_cli_cluster import DaskCliCluster
from tests.rasters import (
    crop_raster,
    gcp_placed_copy,
    landsat_product_folder,
    rpc_placed_copy,
    ungeoreferenced_copy,
    zipped_copy,
)

PROMPT = "extract the water bodies and vegetation"
#: (col, row, width, height) parts of the sample scene, one scene each.
PARTS = {"north": (0, 0, 320, 256), "centre": (600, 200, 320, 256), "east": (1100, 400, 320, 256)}


def run_spex(*args: object, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """The `spex` command in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "spex.engine.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def scenes(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scenes")
    return {name: crop_raster(s2_scene, folder / f"{name}.tif", w) for name, w in PARTS.items()}


@pytest.fixture(scope="module")
def single_runs(scenes: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Each scene extracted in this process, as `spex extract` does: the reference outputs."""
    folder = tmp_path_factory.mktemp("single")
    return {
        name: extract(ExtractionRequest(path, PROMPT, folder / name)).out_dir
        for name, path in scenes.items()
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    with DaskCliCluster(tmp_path_factory.mktemp("dask"), workers=2) as running:
        yield running


def _features(path: Path) -> list[tuple]:
    """Every feature's attributes and geometry, in order."""
    try:
        source = ogr.Open(str(path))
    except RuntimeError as exc:
        # Seen in stops 38 and 63 ("attempt to write a readonly database", SQLite's answer to
        # a journal it would have to roll back: the GeoPackage closed late, now closed before
        # the move, `tests/test_gpkg_closed.py`): say what lay beside it.
        beside = sorted(f"{p.name} ({p.stat().st_size} B)" for p in path.parent.iterdir())
        raise AssertionError(f"{path} does not open: {exc}; its folder holds {beside}") from exc
    layer = source.GetLayer(0)
    return [(f.items(), f.GetGeometryRef().ExportToWkt()) for f in layer]


def test_batch_matches_single_runs_and_isolates_a_corrupt_scene(
    cluster: DaskCliCluster, scenes: dict[str, Path], single_runs: dict, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.tif"
    corrupt.write_bytes(scenes["north"].read_bytes()[:5000])  # a truncated download
    listing = tmp_path / "scenes.txt"
    listing.write_text(f"# two scenes\n{scenes['north']}\n{scenes['centre']}\n", encoding="utf-8")
    out = tmp_path / "batch"
    done = run_spex(
        "batch", listing, corrupt, str(scenes["east"].parent / "ea*.tif"),
        "--prompt", PROMPT, "--out", out, "--scheduler", cluster.address, "--quiet",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "3 done" in done.stdout and "1 failed" in done.stdout, done.stderr
    error_lines = [line for line in done.stderr.splitlines() if "corrupt" in line]
    assert len(error_lines) == 1 and "Traceback" not in done.stderr
    for name, reference in single_runs.items():
        assert (out / name / "mask.tif").read_bytes() == (reference / "mask.tif").read_bytes()
        assert _features(out / name / "features.gpkg") == _features(reference / "features.gpkg")
        assert sorted(p.name for p in (out / name).iterdir()) == sorted(
            p.name for p in reference.iterdir()
        )
    record = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    status = {s["name"]: s["status"] for s in record["scenes"]}
    assert status == {"north": "done", "centre": "done", "corrupt": "failed", "east": "done"}
    failed = next(s for s in record["scenes"] if s["status"] == "failed")
    assert "corrupt.tif" in failed["error"] and "\n" not in failed["error"]
    assert not (out / "corrupt").exists()
    summary = _features(out / "summary.gpkg")
    per_scene = {name: len(_features(out / name / "features.gpkg")) for name in single_runs}
    assert len(summary) == sum(per_scene.values())
    for name, count in per_scene.items():
        assert sum(attrs["scene"] == name for attrs, _ in summary) == count
    north = next(s for s in record["scenes"] if s["name"] == "north")
    reference = json.loads((single_runs["north"] / "run.json").read_text(encoding="utf-8"))
    assert north["regions_per_target"] == reference["counts"]["regions_per_target"]

    # A rerun skips the finished scenes (their files untouched) and tries the failed one again.
    stamp = (out / "north" / "mask.tif").stat().st_mtime_ns
    again = run_spex(
        "batch", listing, corrupt, scenes["east"], "--prompt", PROMPT, "--out", out,
        "--scheduler", cluster.address, "--quiet",
    )  # fmt: skip
    assert again.returncode == 1
    assert "3 already finished, 1 failed" in again.stdout
    assert (out / "north" / "mask.tif").stat().st_mtime_ns == stamp
    other = run_spex("batch", listing, "--prompt", "extract the lakes", "--out", out, "--quiet")
    assert other.returncode == 2 and "other options" in other.stderr


def test_batch_redoes_a_partial_scene(
    cluster: DaskCliCluster, scenes: dict[str, Path], single_runs: dict, tmp_path: Path
) -> None:
    out = tmp_path / "batch"
    first = run_spex(
        "batch", scenes["north"], "--prompt", PROMPT, "--out", out,
        "--scheduler", cluster.address, "--quiet",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    # What a run killed mid-scene leaves: a staging folder, and a folder without run.json.
    (out / ".centre.partial-x1y2").mkdir()
    (out / ".centre.partial-x1y2" / "mask.tif").write_bytes(b"half")
    (out / "centre").mkdir()
    (out / "centre" / "mask.tif").write_bytes(b"half")
    again = run_spex(
        "batch", scenes["north"], scenes["centre"], "--prompt", PROMPT, "--out", out,
        "--scheduler", cluster.address, "--quiet",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "1 done, 1 already finished" in again.stdout
    assert (out / "centre" / "mask.tif").read_bytes() == (
        single_runs["centre"] / "mask.tif"
    ).read_bytes()
    assert not list(out.glob(".centre.partial-*"))


def test_batch_finishes_after_a_worker_is_killed_mid_batch(
    scenes: dict[str, Path], single_runs: dict, tmp_path: Path
) -> None:
    inputs = []
    for copy in range(3):  # six scenes, so that both workers are busy when one dies
        for name, path in scenes.items():
            if copy == 0 or name != "east":
                inputs.append(shutil.copy(path, tmp_path / f"{name}{copy}.tif"))
    out = tmp_path / "batch"
    with DaskCliCluster(tmp_path / "dask", workers=2, nanny=False) as cluster:
        batch = subprocess.Popen(
            [sys.executable, "-m", "spex.engine.cli", "batch", *map(str, inputs),
             "--prompt", PROMPT, "--out", str(out), "--scheduler", cluster.address, "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while not _done_scenes(out) and time.monotonic() < deadline:
                time.sleep(0.2)  # wait until the workers have warmed up and finished one scene
            assert _done_scenes(out), cluster.log("w0") + cluster.log("w1")
            cluster.kill(cluster.workers[0])
            stdout, stderr = batch.communicate(timeout=240)
        finally:
            if batch.poll() is None:
                os.killpg(batch.pid, signal.SIGKILL)
                batch.wait()
    assert batch.returncode == 0, stderr
    assert f"{len(inputs)} done" in stdout
    for path in inputs:
        reference = single_runs[Path(path).stem.rstrip("012")]
        assert (out / Path(path).stem / "mask.tif").read_bytes() == (
            reference / "mask.tif"
        ).read_bytes()
    assert not list(out.glob(".*.partial-*"))


def _done_scenes(out: Path) -> int:
    return sum(1 for run in out.glob("*/run.json"))


def test_mosaic_across_workers_is_byte_identical(
    cluster: DaskCliCluster, scenes: dict[str, Path], tmp_path: Path
) -> None:
    """A raster of 3 x 2 tiles in bands of one tile row: regions cross the band border."""
    from distributed import Client

    from spex.engine.distributed.mosaic import DaskClassifyPass

    raster = scenes["north"]
    single = extract(ExtractionRequest(raster, PROMPT, tmp_path / "single", tile_size=128))
    with Client(cluster.address) as client:
        classify = DaskClassifyPass(client, rows_per_band=1)
        spread = extract(
            ExtractionRequest(raster, PROMPT, tmp_path / "spread", tile_size=128),
            classify=classify,
        )
    assert classify.bands_run == 2
    assert spread.mask_path.read_bytes() == single.mask_path.read_bytes()
    assert _features(spread.features_path) == _features(single.features_path)
    assert spread.explanation_path.read_text() == single.explanation_path.read_text()
    assert spread.manifest["counts"] == single.manifest["counts"]
    # Some kept region crosses the band border (row 128), so the linking was exercised.
    transform = single.manifest["input"]["transform"]
    border_y = transform[5] + 128 * transform[4]
    envelopes = [
        ogr.CreateGeometryFromWkt(wkt).GetEnvelope() for _, wkt in _features(spread.features_path)
    ]
    assert any(ymin < border_y < ymax for _, _, ymin, ymax in envelopes)


def test_mosaic_hides_the_products_clouds_as_the_run_in_process_does(
    cluster: DaskCliCluster, s2_scene: Path, tmp_path: Path
) -> None:
    """--mask-clouds across workers: each worker reopens the raster through the VRT that hides
    the clouds, so the mosaic is byte-identical to the run in this process."""
    from distributed import Client

    from spex.engine.distributed.mosaic import DaskClassifyPass
    from tests.test_product_quality import _stand_in_qa_pixel

    folder = landsat_product_folder(s2_scene, tmp_path)
    _stand_in_qa_pixel(folder)  # a cloud shadow block over the lake (a stand-in for CFMask's)

    def request(name: str) -> ExtractionRequest:
        return ExtractionRequest(folder, PROMPT, tmp_path / name, tile_size=64, mask_clouds=True)

    single = extract(request("single"))
    with Client(cluster.address) as client:
        classify = DaskClassifyPass(client, rows_per_band=1)
        spread = extract(request("spread"), classify=classify)
    assert classify.bands_run > 1
    assert single.manifest["input"]["cloud_mask"]["hidden_pixels"] == 1600
    assert spread.mask_path.read_bytes() == single.mask_path.read_bytes()
    assert spread.manifest["counts"] == single.manifest["counts"]


def test_extract_cli_on_the_cluster_matches_and_reports_mistakes(
    cluster: DaskCliCluster, scenes: dict[str, Path], tmp_path: Path
) -> None:
    raster = scenes["centre"]
    _same_mask_alone_and_spread(raster, cluster, tmp_path)
    both = run_spex("extract", raster, "--prompt", PROMPT, "--out", tmp_path / "c",
                    "--scheduler", cluster.address, "--workers", "2")  # fmt: skip
    assert both.returncode == 2
    assert both.stderr.strip() == "spex: error: Give --scheduler or --workers, not both."
    assert not (tmp_path / "c").exists()


def test_extract_on_the_cluster_reads_a_sentinel2_layer_as_named(
    cluster: DaskCliCluster, s2_scene: Path, tmp_path: Path
) -> None:
    """A product's 10 m layer (SENTINEL2_L2A:...:10m:EPSG_32633): each worker opens it by that
    name, with the product's other bands, and the mask is the single process's."""
    from rasterio.windows import Window

    from bench.sentinel2_safe import layer, write_scene_window

    name = layer(write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240)), 10)
    _same_mask_alone_and_spread(name, cluster, tmp_path)


@pytest.mark.parametrize("placed_by", ["gcps", "rpcs"])
def test_extract_on_the_cluster_reads_a_raster_placed_by_points(
    cluster: DaskCliCluster, s2_scene: Path, tmp_path: Path, placed_by: str
) -> None:
    """A raster placed only by GCPs or only by RPCs: each worker reads it through the same warp
    as this process (`open_dataset`), so the spread mask is the single process's, placed in the
    GCPs' CRS or the RPCs' longitude and latitude."""
    window = (420, 120, 300, 250)
    if placed_by == "gcps":
        chip = gcp_placed_copy(s2_scene, tmp_path / "gcp.tif", window, "EPSG:32633")
    else:
        chip = rpc_placed_copy(s2_scene, tmp_path / "rpc.tif", window)
    _same_mask_alone_and_spread(chip, cluster, tmp_path)
    with rasterio.open(tmp_path / "b" / "mask.tif") as mask:
        assert mask.crs.to_epsg() == (32633 if placed_by == "gcps" else 4326)
        assert mask.transform.a > 0


def test_extract_on_the_cluster_measures_a_polar_grid_as_alone(
    cluster: DaskCliCluster, s2_scene: Path, tmp_path: Path
) -> None:
    """A raster whose plane departs from the ground (the real sample in EPSG:3413): the
    workers' tiles add their valid areas on the ground as the single process does, so the
    mask, the size limit's choice and the areas are the same."""
    from tests.test_plane_scale import _warped_to_polar

    polar = _warped_to_polar(s2_scene, tmp_path / "polar.tif")
    _same_mask_alone_and_spread(polar, cluster, tmp_path, "extract the water bodies over 2 ha")
    alone, spread = (
        json.loads((tmp_path / name / "run.json").read_text(encoding="utf-8"))["counts"]
        for name in ("a", "b")
    )
    assert spread["valid_area_m2"] == alone["valid_area_m2"]
    assert spread["area_m2_per_target"] == alone["area_m2_per_target"]
    assert "overstates ground areas" in (tmp_path / "b" / "explanation.md").read_text()


def _same_mask_alone_and_spread(
    raster: Path | str, cluster: DaskCliCluster, folder: Path, prompt: str = PROMPT
) -> None:
    """`spex extract` of `raster` in one process (into folder/a) and in tiles across the
    cluster's workers (folder/b) writes the same mask, byte for byte."""
    plain = run_spex("extract", raster, "--prompt", prompt, "--out", folder / "a", "--quiet",
                     "--tile", "128")  # fmt: skip
    spread = run_spex("extract", raster, "--prompt", prompt, "--out", folder / "b", "--quiet",
                      "--tile", "128", "--scheduler", cluster.address)  # fmt: skip
    assert plain.returncode == 0 and spread.returncode == 0, spread.stderr
    assert (folder / "a" / "mask.tif").read_bytes() == (folder / "b" / "mask.tif").read_bytes()


def test_batch_with_a_raster_without_a_crs(
    cluster: DaskCliCluster, scenes: dict[str, Path], s2_scene: Path, tmp_path: Path
) -> None:
    """A scene without a CRS is done (its areas in pixels), not failed; summary.gpkg keeps the
    placed scenes only, in their CRS, and the batch says which it left out."""
    chip = ungeoreferenced_copy(s2_scene, tmp_path / "no_crs.tif", (420, 120, 300, 250))
    out = tmp_path / "batch"
    done = run_spex(
        "batch", chip, scenes["north"], "--prompt", PROMPT, "--out", out,
        "--scheduler", cluster.address,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 done" in done.stdout
    assert (
        "not in summary.gpkg (no CRS, or a local one, that places them on a map): no_crs"
        in done.stdout
    )
    record = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    no_crs = next(s for s in record["scenes"] if s["name"] == "no_crs")
    manifest = json.loads((out / "no_crs" / "run.json").read_text(encoding="utf-8"))
    assert no_crs["status"] == "done" and no_crs["area_m2_per_target"] == {}
    assert no_crs["regions_per_target"] == manifest["counts"]["regions_per_target"]
    summary = ogr.Open(str(out / "summary.gpkg"))
    layer = summary.GetLayer(0)
    assert {f["scene"] for f in layer} == {"north"}
    assert layer.GetFeatureCount() == len(_features(out / "north" / "features.gpkg"))
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "32633"


def test_batch_with_an_extent_in_longitude_and_latitude(
    cluster: DaskCliCluster, scenes: dict[str, Path], tmp_path: Path
) -> None:
    """An area of interest in longitude and latitude over a batch: each scene takes its part
    in its own CRS; a scene it misses is outside the extent, neither done nor failed, and the
    batch exits 0."""
    from rasterio.warp import transform_bounds

    box = transform_bounds("EPSG:32633", "EPSG:4326", 331000, 5820000, 332500, 5821500)
    extent = f"{','.join(f'{v:.6f}' for v in box)} [EPSG:4326]"
    out = tmp_path / "batch"
    done = run_spex(
        "batch", scenes["north"], scenes["east"], "--prompt", PROMPT, "--out", out,
        "--extent", extent, "--scheduler", cluster.address,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 done, 0 already finished, 0 failed, 1 outside the extent." in done.stdout
    assert "outside the extent (nothing to extract): east" in done.stdout
    record = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert record["counts"] == {"done": 1, "skipped": 0, "outside": 1, "failed": 0, "pending": 0}
    with rasterio.open(out / "north" / "mask.tif") as mask:
        assert 140 <= mask.width <= 160 and 140 <= mask.height <= 160  # 1.5 km at 10 m
    assert not (out / "east").exists()


def test_batch_reads_a_scene_inside_a_zip_archive(
    cluster: DaskCliCluster, scenes: dict[str, Path], single_runs: dict, tmp_path: Path
) -> None:
    """A scene given as GDAL names a file in an archive (/vsizip//...) is done like the file."""
    zipped = zipped_copy(scenes["north"], tmp_path)
    out = tmp_path / "batch"
    done = run_spex(
        "batch", zipped, "--prompt", PROMPT, "--out", out, "--scheduler", cluster.address
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 done" in done.stdout
    name = Path(zipped).stem
    assert _features(out / name / "features.gpkg") == _features(
        single_runs["north"] / "features.gpkg"
    )


def test_batch_of_rasters_without_a_crs_writes_an_undefined_cartesian_summary(
    cluster: DaskCliCluster, s2_scene: Path, tmp_path: Path
) -> None:
    """When no scene has a CRS, summary.gpkg gathers them all, in pixel coordinates, under the
    GeoPackage's undefined Cartesian reference (srs_id -1), not the geographic one (srs_id 0)
    that GDAL gives a layer written without a reference."""
    chips = {
        name: ungeoreferenced_copy(s2_scene, tmp_path / f"{name}.tif", window)
        for name, window in {"lakes": (420, 120, 300, 250), "fields": (600, 200, 320, 256)}.items()
    }
    out = tmp_path / "batch"
    done = run_spex(
        "batch", *chips.values(), "--prompt", PROMPT, "--out", out,
        "--scheduler", cluster.address,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 done" in done.stdout and "not in summary.gpkg" not in done.stdout
    per_scene = {name: len(_features(out / name / "features.gpkg")) for name in chips}
    assert all(count > 0 for count in per_scene.values()), per_scene
    summary = ogr.Open(str(out / "summary.gpkg"))
    layer = summary.GetLayer(0)
    srs = layer.GetSpatialRef()
    assert srs is not None and srs.IsLocal() and not srs.IsGeographic()
    result = summary.ExecuteSQL(
        f"SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = '{layer.GetName()}'"
    )
    srs_id = result.GetNextFeature().GetField(0)
    summary.ReleaseResultSet(result)
    assert srs_id == -1
    assert layer.GetFeatureCount() == sum(per_scene.values())
    scenes = [f["scene"] for f in layer]
    assert {name: scenes.count(name) for name in chips} == per_scene
    assert len(scenes) == sum(per_scene.values())
