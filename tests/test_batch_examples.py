"""`spex batch --examples`: each scene takes the examples that lie on it, on a real Dask cluster.

An analyst labels a few points on one scene of a batch. That scene is trained with them, exactly
as `spex extract --examples` trains it alone; the scenes none of them falls on run on their own
seeds and say so, instead of failing. Examples that lie on no scene at all stop the batch
before anything runs. Scenes are parts of the real Sentinel-2 sample scene.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from spex.engine import ExtractionRequest, extract
from spex.engine.backends.spectral.examples import load_examples
from tests.dask_cli_cluster import DaskCliCluster
from tests.rasters import crop_raster
from tests.test_dask_distributed import run_spex
from tests.test_examples import pixel_points, write_examples

PROMPT = "map the vegetation"
#: (col, row, width, height) parts of the sample scene; the examples lie on "fields" only.
PARTS = {"fields": (600, 200, 320, 256), "north": (0, 0, 320, 256)}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    with DaskCliCluster(tmp_path_factory.mktemp("dask"), workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def scenes(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scenes")
    return {name: crop_raster(s2_scene, folder / f"{name}.tif", w) for name, w in PARTS.items()}


def _sparse_vegetation_as_other(raster: Path, path: Path) -> Path:
    """Examples on `raster`: its 20 sparsest vegetated pixels labelled 'other', 20 of its
    densest 'vegetation' (what an analyst does to keep thin grass out of the vegetation)."""
    with rasterio.open(raster) as src:
        red, nir = src.read([4, 8]).astype(float)
    ndvi = (nir - red) / (nir + red + 1e-9)
    sparse = np.argwhere((ndvi > 0.3) & (ndvi < np.quantile(ndvi[ndvi > 0.3], 0.1)))
    dense = np.argwhere(ndvi > np.quantile(ndvi, 0.95))
    rng = np.random.default_rng(3)
    points = [
        *pixel_points(raster, sparse[rng.choice(len(sparse), 20, replace=False)], "other"),
        *pixel_points(raster, dense[rng.choice(len(dense), 20, replace=False)], "vegetation"),
    ]
    return write_examples(path, points, 4326)


def test_each_scene_takes_the_examples_on_it(
    cluster: DaskCliCluster, scenes: dict[str, Path], tmp_path: Path
) -> None:
    examples = _sparse_vegetation_as_other(scenes["fields"], tmp_path / "ex.gpkg")
    out = tmp_path / "batch"
    done = run_spex(
        "batch", *scenes.values(), "--prompt", PROMPT, "--out", out, "--examples", examples,
        "--scheduler", cluster.address, "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 done" in done.stdout
    assert "no example falls on (trained on their own seeds): north" in done.stdout

    # The scene the examples lie on is the lone run with them; the other is the lone run without.
    alone = {
        "fields": extract(
            ExtractionRequest(
                scenes["fields"], PROMPT, tmp_path / "fields", examples=load_examples(examples)
            )
        ),
        "north": extract(ExtractionRequest(scenes["north"], PROMPT, tmp_path / "north")),
    }
    for name, single in alone.items():
        assert (out / name / "mask.tif").read_bytes() == single.mask_path.read_bytes(), name
    without = extract(ExtractionRequest(scenes["fields"], PROMPT, tmp_path / "fields_own"))
    assert (out / "fields" / "mask.tif").read_bytes() != without.mask_path.read_bytes()

    record = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    pixels = {s["name"]: s["example_pixels"] for s in record["scenes"]}
    assert pixels == {"fields": {"other": 20, "vegetation": 20}, "north": {}}
    explanation = (out / "north" / "explanation.md").read_text(encoding="utf-8")
    assert "none of the 40 examples of" in explanation
    assert "trained on the scene's own seeds alone" in explanation
    assert "trained with the analyst's examples from" in (
        out / "fields" / "explanation.md"
    ).read_text(encoding="utf-8")


def test_examples_on_no_scene_stop_the_batch_before_it_runs(
    scenes: dict[str, Path], s2_scene: Path, tmp_path: Path
) -> None:
    """Points elsewhere on the sample scene, outside both parts: one line, nothing written."""
    with rasterio.open(s2_scene) as src:
        far = np.array([[src.height - 5, src.width - 5 - k] for k in range(3)])
    examples = write_examples(tmp_path / "far.gpkg", pixel_points(s2_scene, far, "water"), 4326)
    out = tmp_path / "batch"
    refused = run_spex(
        "batch", *scenes.values(), "--prompt", PROMPT, "--out", out, "--examples", examples,
        "--workers", "1",
    )  # fmt: skip
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.strip() == (
        f"spex: error: None of the 3 examples of '{examples}' lies over any of the 2 scenes; "
        "check that they cover the scenes and that their CRS is set."
    )
    assert not out.exists()


def test_examples_on_one_tile_of_a_mosaic_teach_every_tile(s2_scene: Path, tmp_path: Path) -> None:
    """What the README advises for tiles of one acquisition: a VRT mosaic of them is one scene
    with one model, so examples drawn on one tile move the other tile's pixels too."""
    from osgeo import gdal

    tiles = [
        crop_raster(s2_scene, tmp_path / f"{name}.tif", window)
        for name, window in (("west", (600, 200, 320, 256)), ("east", (920, 200, 320, 256)))
    ]
    mosaic = tmp_path / "tiles.vrt"
    gdal.BuildVRT(str(mosaic), [str(t) for t in tiles]).FlushCache()
    examples = _sparse_vegetation_as_other(tiles[0], tmp_path / "ex.gpkg")
    own = extract(ExtractionRequest(mosaic, PROMPT, tmp_path / "own"))
    taught = extract(
        ExtractionRequest(mosaic, PROMPT, tmp_path / "taught", examples=load_examples(examples))
    )
    with rasterio.open(own.mask_path) as a, rasterio.open(taught.mask_path) as b:
        before, after = a.read(1)[:, 320:] == 1, b.read(1)[:, 320:] == 1  # the east tile
    left = before & ~after
    # East has no example, yet what they label 'other' on west leaves east's vegetation too.
    assert after.sum() < 0.9 * before.sum()
    assert (after & ~before).sum() < 0.1 * left.sum(), ((after & ~before).sum(), left.sum())
    assert taught.manifest["backend"]["details"]["example_pixels"] == {
        "other": 20,
        "vegetation": 20,
    }
