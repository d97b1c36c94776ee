"""The `spex` command line: results on real data, and one clear line for every user mistake."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.features import rasterize

from tests.rasters import (
    crop_raster,
    gcp_placed_copy,
    rpc_placed_copy,
    ungeoreferenced_copy,
    write_raster,
)


def run_spex(*args: object) -> subprocess.CompletedProcess[str]:
    """Run the `spex` command as a user would, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "spex.engine.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def rgbn_raster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    data = rng.integers(100, 3000, size=(4, 64, 64)).astype(np.uint16)
    return write_raster(
        tmp_path_factory.mktemp("r") / "rgbn.tif",
        data,
        descriptions=["blue", "green", "red", "nir"],
    )


def test_extract_prints_summary_and_writes_outputs(s2_scene: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_spex(
        "extract", s2_scene, "--prompt", "Please extract the LAKES!", "--out", out, "--quiet"
    )
    assert result.returncode == 0, result.stderr
    assert "water:" in result.stdout.lower()
    assert (out / "mask.tif").exists() and (out / "run.json").exists()
    assert result.stderr == ""


def test_land_cover_maps_every_target_in_one_raster(s2_scene: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_spex("extract", s2_scene, "--prompt", "classify the land cover", "--out", out)
    assert result.returncode == 0, result.stderr
    plan = json.loads((out / "run.json").read_text())["plan"]
    assert plan["targets"] == ["water", "vegetation", "forest", "builtup", "bare", "snow", "cloud"]
    for title in ("water:", "vegetation:", "forest:", "built-up:", "bare soil:", "cloud:"):
        assert title in result.stdout
    with rasterio.open(out / "mask.tif") as mask:
        codes = set(np.unique(mask.read(1)).tolist())
    assert len(codes - {0, 255}) >= 3  # the scene's water, vegetation, forest and land at least


def test_sensors_lists_the_presets() -> None:
    result = run_spex("sensors")
    assert result.returncode == 0
    for name in ("sentinel2_l1c", "sentinel2_l2a", "landsat8_9_oli", "naip", "worldview3_8band"):
        assert name in result.stdout


def test_indices_writes_ndvi(s2_scene: Path, tmp_path: Path) -> None:
    out = tmp_path / "ndvi.tif"
    result = run_spex(
        "indices", s2_scene, "--index", "ndvi", "--out", out, "--quiet", "--tile", 300
    )
    assert result.returncode == 0, result.stderr
    with rasterio.open(out) as ndvi, rasterio.open(s2_scene) as src:
        values = ndvi.read(1, masked=True)
        red = src.read(4).astype(float)
        nir = src.read(8).astype(float)
        assert (ndvi.width, ndvi.height, ndvi.crs) == (src.width, src.height, src.crs)
    expected = (nir - red) / (nir + red)
    ok = ~values.mask
    np.testing.assert_allclose(values[ok], expected[ok], atol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == ["ndvi.tif"]


def _bad_inputs(tmp: Path, rgbn: Path) -> dict[str, tuple[list[object], str]]:
    corrupt = tmp / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00" + b"\x00garbage" * 50)
    empty = write_raster(
        tmp / "nodata.tif",
        np.zeros((4, 32, 32), np.uint16),
        nodata=0,
        descriptions=["blue", "green", "red", "nir"],
    )
    blank = write_raster(  # a blank export: white in every band, no nodata declared
        tmp / "blank.tif",
        np.full((4, 32, 32), 255, np.uint8),
        descriptions=["blue", "green", "red", "nir"],
    )
    full = tmp / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    return {
        "missing file": (["extract", tmp / "nope.tif", "--prompt", "water"], "does not exist"),
        "corrupt file": (["extract", corrupt, "--prompt", "water"], "Cannot read"),
        "empty prompt": (["extract", rgbn, "--prompt", "  "], "empty"),
        "unknown target": (["extract", rgbn, "--prompt", "extract the airplanes"], "airplanes"),
        "wrong role count": (
            ["extract", rgbn, "--prompt", "water", "--bands", "red,green,blue"],
            "4 bands",
        ),
        "unknown role": (
            ["extract", rgbn, "--prompt", "water", "--bands", "red,green,blue,infra"],
            "infra",
        ),
        "all nodata": (["extract", empty, "--prompt", "water"], "nodata"),
        "one value": (["extract", blank, "--prompt", "water"], "holds one value, 255, in every"),
        "unwritable out": (
            ["extract", rgbn, "--prompt", "water", "--out", "/proc/spex-out"],
            "/proc",
        ),
        "out not empty": (["extract", rgbn, "--prompt", "water", "--out", full], "not empty"),
        "unknown sensor": (["extract", rgbn, "--prompt", "water", "--sensor", "hubble"], "hubble"),
        "bad scale": (["extract", rgbn, "--prompt", "water", "--scale", "0"], "scale"),
        "negative area": (
            ["extract", rgbn, "--prompt", "water", "--min-area", "-5"],
            "not an area",
        ),
        "negative overlap": (["extract", rgbn, "--prompt", "water", "--overlap", "-3"], "negative"),
        "batch of an unknown target": (  # refused before a cluster starts or a scene runs
            ["batch", rgbn, rgbn, "--prompt", "extract the airplanes", "--out", tmp / "b"],
            "airplanes",
        ),
        "unknown index": (["indices", rgbn, "--index", "XYZ", "--out", tmp / "x.tif"], "XYZ"),
        "index needs bands": (
            ["indices", rgbn, "--index", "MNDWI", "--out", tmp / "x.tif"],
            "swir1",
        ),
    }


CASES = [
    "missing file",
    "corrupt file",
    "empty prompt",
    "unknown target",
    "wrong role count",
    "unknown role",
    "all nodata",
    "one value",
    "unwritable out",
    "out not empty",
    "unknown sensor",
    "bad scale",
    "negative area",
    "negative overlap",
    "batch of an unknown target",
    "unknown index",
    "index needs bands",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_clear_line(case: str, tmp_path: Path, rgbn_raster: Path) -> None:
    args, expected = _bad_inputs(tmp_path, rgbn_raster)[case]
    if args[0] == "extract" and "--out" not in args:
        args = [*args, "--out", tmp_path / "out"]
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_spex(*args, "--quiet")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("spex: error: ")
    assert expected.lower() in lines[0].lower()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing left behind
    if (tmp_path / "full").exists():
        assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


#: The window of the scene that `no_crs_scene` and the GCP-placed chips copy.
CHIP = (420, 120, 300, 250)


@pytest.fixture(scope="module")
def no_crs_scene(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300 x 250 px part of the real Sentinel-2 scene (lakes, fields) without a CRS."""
    path = tmp_path_factory.mktemp("nocrs") / "no_crs.tif"
    return ungeoreferenced_copy(s2_scene, path, CHIP)


def test_extract_without_a_crs_measures_in_pixels(no_crs_scene: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with rasterio.open(no_crs_scene) as src:
        assert src.crs is None and src.transform.is_identity
    result = run_spex(
        "extract", no_crs_scene, "--prompt", "water and vegetation", "--out", out, "--quiet"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no traceback, no warning
    assert " px (" in result.stdout and " ha " not in result.stdout
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    assert counts["area_unit"] == "pixel" and counts["valid_area_m2"] is None
    assert sum(counts["pixels_per_target"].values()) > 100
    explanation = (out / "explanation.md").read_text(encoding="utf-8")
    assert "no coordinate reference system" in explanation
    from osgeo import ogr

    vector = ogr.Open(str(out / "features.gpkg"))  # kept: its layer dies with it
    # Pixel coordinates under the undefined Cartesian reference, not the geographic one.
    srs = vector.GetLayer("regions").GetSpatialRef()
    assert srs is not None and srs.IsLocal() and not srs.IsGeographic()
    features = list(vector.GetLayer("regions"))
    assert features and all(f.IsFieldNull("area_m2") and f.GetField("pixels") > 0 for f in features)
    assert sum(f.GetField("pixels") for f in features) == sum(counts["pixels_per_target"].values())
    # On the raster as QGIS shows one without georeferencing (y = -row), not mirrored above it.
    with rasterio.open(out / "mask.tif") as mask:
        assert tuple(mask.transform)[:6] == (1, 0, 0, 0, -1, 0) and mask.crs is None
        classes = mask.read(1)
        shapes = [
            (json.loads(f.GetGeometryRef().ExportToJson()), f.GetField("class_id"))
            for f in features
        ]
        burned = rasterize(shapes, out_shape=classes.shape, transform=mask.transform)
    assert (burned > 0).sum() == sum(f.GetField("pixels") for f in features)
    assert (burned == classes)[burned > 0].all()  # each region over its own pixels


def test_a_raster_placed_by_gcps_runs_where_qgis_draws_it(s2_scene: Path, tmp_path: Path) -> None:
    """GCPs and their CRS, no geotransform: QGIS draws the raster through GDAL's warped VRT,
    and the run reads it through the same one: areas in metres, and on these GCPs (the chip's
    true corners) the very mask of the georeferenced crop."""
    chip = gcp_placed_copy(s2_scene, tmp_path / "gcp.tif", CHIP, "EPSG:32633")
    crop = crop_raster(s2_scene, tmp_path / "crop.tif", CHIP)
    prompt = ("--prompt", "lakes larger than 0.5 ha", "--quiet")
    result = run_spex("extract", chip, "--out", tmp_path / "gcp", *prompt)
    assert result.returncode == 0, result.stderr
    assert run_spex("extract", crop, "--out", tmp_path / "crop", *prompt).returncode == 0
    with (
        rasterio.open(tmp_path / "gcp" / "mask.tif") as a,
        rasterio.open(tmp_path / "crop" / "mask.tif") as b,
    ):
        assert a.crs == b.crs and a.transform == b.transform
        assert np.array_equal(a.read(1), b.read(1)) and (a.read(1) == 1).any()
    explanation = (tmp_path / "gcp" / "explanation.md").read_text(encoding="utf-8")
    assert "placed by 4 ground control points: it was read warped to EPSG:32633" in explanation


def test_a_raster_placed_by_rpcs_runs_where_qgis_draws_it(s2_scene: Path, tmp_path: Path) -> None:
    """RPCs only (a Level-1B product): the run reads the raster warped to longitude and
    latitude as QGIS draws it, measures in metres (the scene's area as on the georeferenced
    crop, its lakes' within what resampling to another grid moves: a lake near the size limit
    may pass it) and says that it is not orthorectified."""
    chip = rpc_placed_copy(s2_scene, tmp_path / "rpc.tif", CHIP)
    crop = crop_raster(s2_scene, tmp_path / "crop.tif", CHIP)
    prompt = ("--prompt", "lakes larger than 0.5 ha", "--quiet")
    result = run_spex("extract", chip, "--out", tmp_path / "rpc", *prompt)
    assert result.returncode == 0, result.stderr
    assert run_spex("extract", crop, "--out", tmp_path / "crop", *prompt).returncode == 0
    with rasterio.open(tmp_path / "rpc" / "mask.tif") as mask:
        assert mask.crs.to_epsg() == 4326 and (mask.read(1) == 1).any()
    rpc, flat = (
        json.loads((tmp_path / name / "run.json").read_text(encoding="utf-8"))["counts"]
        for name in ("rpc", "crop")
    )
    assert rpc["area_unit"] == "m2"
    assert rpc["valid_area_m2"] == pytest.approx(flat["valid_area_m2"], rel=0.005)
    water = rpc["area_m2_per_target"]["water"]
    assert water == pytest.approx(flat["area_m2_per_target"]["water"], rel=0.1)
    explanation = (tmp_path / "rpc" / "explanation.md").read_text(encoding="utf-8")
    assert "placed by RPCs: it was read warped to EPSG:4326" in explanation
    assert "0 m above the ellipsoid" in explanation and "RPC_DEM=dem.tif" in explanation
    inspected = run_spex("inspect", chip)
    assert inspected.returncode == 0 and "EPSG:4326 (placed by RPCs" in inspected.stdout


def test_gcps_without_a_crs_are_told_in_one_line(s2_scene: Path, tmp_path: Path) -> None:
    chip = gcp_placed_copy(s2_scene, tmp_path / "gcp.tif", CHIP, None)
    refused = run_spex(
        "extract", chip, "--prompt", "lakes larger than 2 ha", "--out", tmp_path / "x"
    )
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "4 ground control points but no CRS for them" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "args",
    [("--prompt", "lakes larger than 2 ha"), ("--prompt", "lakes", "--min-area", "500")],
    ids=["hectares", "min-area"],
)
def test_metric_size_limit_without_a_crs_is_one_line(
    no_crs_scene: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    out = tmp_path / "out"
    result = run_spex("extract", no_crs_scene, *args, "--out", out, "--quiet")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no coordinate reference system" in lines[0]
    assert "pixels" in lines[0] and "Traceback" not in result.stderr
    assert not out.exists()


def test_pixel_size_limit_without_a_crs_works(no_crs_scene: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_spex(
        "extract", no_crs_scene, "--prompt", "lakes larger than 20 pixels", "--out", out, "--quiet"
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["regions_kept"] >= 1


def test_profile_writes_a_stage_breakdown(s2_scene: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_spex(
        "extract", s2_scene, "--prompt", "water", "--out", out, "--quiet", "--profile"
    )
    assert result.returncode == 0, result.stderr
    profile = json.loads((out / "run.json").read_text(encoding="utf-8"))["profile"]
    assert set(profile["passes"]) >= {"prepare", "classify", "write", "vectorize"}
    stages = profile["stages"]
    assert {"classify.read", "classify.predict", "vectorize.polygonize"} <= set(stages)
    tiles = json.loads((out / "run.json").read_text(encoding="utf-8"))["tiling"]["tiles"]
    assert stages["classify.read"]["calls"] == tiles
    assert "## Appendix: profile" in (out / "explanation.md").read_text(encoding="utf-8")


def test_output_into_a_closed_pipe_ends_without_a_traceback(s2_scene: Path) -> None:
    """`spex inspect x.tif | head -1`: the reader is gone before spex writes its lines."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe now fails, as after `head` has exited
    try:
        done = subprocess.run(
            [sys.executable, "-m", "spex.engine.cli", "inspect", str(s2_scene)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == ""


def test_inspect_says_how_a_raster_is_read(s2_scene: Path, tmp_path: Path) -> None:
    """Before a long run: each band's role, the product a name gives, the scaling and why."""
    from tests.rasters import numbered_bands_copy

    done = run_spex("inspect", s2_scene)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"Input: {s2_scene.name}, ") and "13 bands of uint16" in lines[0]
    assert any(line.split()[-1] == "nir" for line in lines if line.startswith("  "))
    assert any(line.startswith("Scaling: reflectance = value x 0.0001") for line in lines)
    assert (
        "Spectral backend finds: water, vegetation, forest, built-up, bare soil, snow/ice, cloud"
        in lines
    )
    # What three visible bands cannot show is said before a run, with what it would need.
    rgb = run_spex("inspect", s2_scene, "--bands", "-,blue,green,red" + ",-" * 9)  # unused first
    assert "Spectral backend finds: vegetation, forest, built-up, bare soil, cloud" in rgb.stdout
    assert "  water: cannot be found without a green band with a NIR or SWIR1" in rgb.stdout
    # Band names of several sensors: refused in one line; a product's name settles them.
    stack = numbered_bands_copy(s2_scene, tmp_path / "stack.tif")
    refused = run_spex("inspect", stack)
    assert refused.returncode == 2 and "--sensor" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    named = numbered_bands_copy(s2_scene, tmp_path / "LT52240631988227CUB02_stack.tif")
    done = run_spex("inspect", named)
    assert done.returncode == 0, done.stderr
    assert "Product: Landsat 5 TM Level-1 (LT52240631988227CUB02)" in done.stdout
    assert "sensor landsat_tm_etm" in done.stdout


def test_a_raster_too_small_to_fit_is_one_line_that_says_so(s2_scene: Path, tmp_path: Path) -> None:
    """A 3 x 3 chip of the real scene: 9 valid pixels. It said "the input is mostly nodata"."""
    chip = crop_raster(s2_scene, tmp_path / "chip.tif", (1240, 280, 3, 3))
    out = tmp_path / "out"
    result = run_spex("extract", chip, "--prompt", "water", "--out", out, "--quiet")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "only 9 valid pixels" in lines[0] and "too small" in lines[0]
    assert "Traceback" not in result.stderr and not out.exists()


def test_the_help_names_only_options_that_exist() -> None:
    """Every --option a help text names is one some command takes: `spex indices --help` sent
    the analyst to a `--list` that no command had."""
    import argparse

    from spex.engine.cli import build_parser

    def parsers(parser: argparse.ArgumentParser):
        yield parser
        for action in parser._actions:  # argparse keeps its subcommands nowhere public
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from parsers(sub)

    every = list(parsers(build_parser()))
    options = {o for p in every for a in p._actions for o in a.option_strings}
    named = {
        m for p in every for a in p._actions for m in re.findall(r"--[a-z][a-z-]*", a.help or "")
    }
    assert len(options) > 30 and named
    assert named <= options, named - options
