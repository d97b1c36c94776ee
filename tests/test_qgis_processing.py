"""The SPEX Processing provider in real QGIS: processing.run of both algorithms, a model that
chains them, cancel through feedback, and qgis_process through `scripts/qgis_run.sh`."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import gdal
from qgis.core import (
    NULL,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterRasterLayer,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)

from bench.sentinel2_safe import layer as sentinel2_layer
from bench.sentinel2_safe import write_scene_window
from spex.engine.raster.sensors import get_preset
from tests.maxar_fake import maxar_product, worldview3_order
from tests.qgis_helpers import REPO_ROOT
from tests.rasters import (
    LANDSAT_PRODUCT,
    landsat_product_folder,
    numbered_bands_copy,
    spectrometer_copy,
    true_colour_copy,
    ungeoreferenced_copy,
    zipped_copy,
)

WATER = "extract the water bodies larger than 2 ha"
#: A 600 x 400 px part of the scene, in the raster's CRS (EPSG:32633): xmin,xmax,ymin,ymax.
EXTENT = "331000,337000,5816000,5820000 [EPSG:32633]"


def _run(alg_id: str, params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    import processing

    return processing.run(alg_id, params, feedback=feedback or QgsProcessingFeedback())


def test_extract_land_cover_outputs(provider, s2_scene: Path, tmp_path: Path) -> None:
    out = _run(
        "spex:extract_land_cover",
        {
            "INPUT": str(s2_scene),
            "PROMPT": WATER,
            "EXTENT": EXTENT,
            "OUTPUT_MASK": str(tmp_path / "water.tif"),
            "OUTPUT_FEATURES": str(tmp_path / "water.gpkg"),
        },
    )
    mask = gdal.Open(out["OUTPUT_MASK"])
    assert (mask.RasterXSize, mask.RasterYSize) == (600, 400)  # the extent, not the scene
    values = set(np.unique(mask.ReadAsArray()).tolist())
    assert values <= {0, 1, 255} and 1 in values
    regions = QgsVectorLayer(out["OUTPUT_FEATURES"], "regions", "ogr")
    assert regions.isValid() and regions.featureCount() > 0
    assert min(f["area_ha"] for f in regions.getFeatures()) >= 2.0
    assert {f["class"] for f in regions.getFeatures()} == {"water"}
    assert out["EXPLANATION"].startswith('# Extraction: "extract the water bodies')
    assert "## Summary" in out["EXPLANATION"] and "water:" in out["SUMMARY"]
    assert out["DEVICE"] == "spectral on cpu"
    manifest = json.loads(Path(out["MANIFEST"]).read_text(encoding="utf-8"))
    assert manifest["outputs"]["mask"] == str(tmp_path / "water.tif")
    assert (
        Path(out["RUN_FOLDER"], "explanation.md").read_text(encoding="utf-8") == out["EXPLANATION"]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "water.gpkg",
        "water.tif",
        "water.tif.aux.xml",
        "water_spex",
    ]


def test_each_target_keeps_its_own_limits_and_the_minimum_area_is_every_targets(
    provider, s2_scene: Path, tmp_path: Path
) -> None:
    prompt = "water bodies over 1 ha and the 2 largest vegetation patches"
    feedback = QgsProcessingFeedback()
    params = {"INPUT": str(s2_scene), "PROMPT": prompt, "EXTENT": EXTENT}
    out = _run(
        "spex:extract_land_cover",
        {
            **params,
            "OUTPUT_MASK": str(tmp_path / "own.tif"),
            "OUTPUT_FEATURES": str(tmp_path / "own.gpkg"),
        },
        feedback,
    )
    rows = list(QgsVectorLayer(out["OUTPUT_FEATURES"], "regions", "ogr").getFeatures())
    water = [f["area_ha"] for f in rows if f["class"] == "water"]
    assert sum(f["class"] == "vegetation" for f in rows) == 2
    assert len(water) > 2 and min(water) >= 1.0
    assert "vegetation regions of any size, the 2 largest" in feedback.textLog()
    wider = _run(
        "spex:extract_land_cover",
        {
            **params,
            "MIN_AREA": 50_000,
            "OUTPUT_MASK": str(tmp_path / "wider.tif"),
            "OUTPUT_FEATURES": str(tmp_path / "wider.gpkg"),
        },
    )
    kept = list(QgsVectorLayer(wider["OUTPUT_FEATURES"], "regions", "ogr").getFeatures())
    assert kept and min(f["area_ha"] for f in kept) >= 5.0
    assert sum(f["class"] == "vegetation" for f in kept) <= 2


def test_batch_rows_overwrite_and_convert_formats(provider, s2_scene, tmp_path) -> None:
    """Batch mode runs fresh instances row by row; a rerun overwrites its own outputs."""
    registry = QgsApplication.processingRegistry()
    rows = [
        ("extract the water bodies", "a.geojson", None),
        ("extract vegetation", "b.gpkg", 50_000.0),
        ("extract vegetation", "b.gpkg", 50_000.0),  # the same row again: overwritten
    ]
    for prompt, features, min_area in rows:
        alg = registry.createAlgorithmById("spex:extract_land_cover")
        params = {
            "INPUT": str(s2_scene),
            "PROMPT": prompt,
            "EXTENT": EXTENT,
            "MIN_AREA": min_area,
            "OUTPUT_MASK": str(tmp_path / Path(features).with_suffix(".tif")),
            "OUTPUT_FEATURES": str(tmp_path / features),
        }
        context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
        ok, message = alg.checkParameterValues(params, context)
        assert ok, message
        results, ok = alg.run(params, context, feedback)
        assert ok and Path(results["OUTPUT_FEATURES"]).is_file()
    geojson = QgsVectorLayer(str(tmp_path / "a.geojson"), "a", "ogr")
    assert geojson.featureCount() > 0 and geojson.fields().indexOf("area_ha") >= 0
    vegetation = QgsVectorLayer(str(tmp_path / "b.gpkg"), "b", "ogr")
    assert min(f["area_m2"] for f in vegetation.getFeatures()) >= 50_000.0


def test_engine_errors_are_one_line(provider, s2_scene, tmp_path) -> None:
    with pytest.raises(QgsProcessingException) as error:
        _run(
            "spex:extract_land_cover",
            {
                "INPUT": str(s2_scene),
                "PROMPT": "extract the unicorns",
                "OUTPUT_MASK": str(tmp_path / "m.tif"),
                "OUTPUT_FEATURES": str(tmp_path / "f.gpkg"),
            },
        )
    assert "\n" not in str(error.value) and "unicorn" in str(error.value).lower()
    assert list(tmp_path.iterdir()) == []


def test_errors_name_the_algorithms_parameters_not_the_command_lines_flags(
    provider, s2_scene, tmp_path
) -> None:
    # Seven bands named B1..B7: Landsat TM with its thermal band, or OLI. The refusal tells a
    # Processing user which parameters fix it: BANDS or SENSOR, not --bands or --sensor.
    path = numbered_bands_copy(s2_scene, tmp_path / "stack.tif")
    outputs = {"OUTPUT_MASK": str(tmp_path / "m.tif"), "OUTPUT_FEATURES": str(tmp_path / "f.gpkg")}
    with pytest.raises(QgsProcessingException) as error:
        _run("spex:extract_land_cover", {"INPUT": str(path), "PROMPT": WATER, **outputs})
    message = str(error.value)
    assert "fit several sensors" in message and "\n" not in message
    assert "BANDS" in message and "SENSOR" in message and "--" not in message
    results = _run(
        "spex:extract_land_cover",
        {"INPUT": str(path), "PROMPT": WATER, "SENSOR": "landsat_tm_etm", **outputs},
    )
    assert Path(results["OUTPUT_MASK"]).is_file()


def test_flags_become_parameters_whole_words_only() -> None:
    from spex.spex_qgis.processing.common import with_parameters
    from spex.spex_qgis.processing.extract_algorithm import ExtractLandCoverAlgorithm

    flags = ExtractLandCoverAlgorithm.FLAG_PARAMETERS
    text = "pass --scale/--offset, --scale 0.001 or --min-area 5; --bands-file is not ours"
    assert with_parameters(text, flags) == (
        "pass REFLECTANCE_SCALE/REFLECTANCE_OFFSET, REFLECTANCE_SCALE 0.001 or MIN_AREA 5; "
        "--bands-file is not ours"
    )


def test_cancel_through_feedback_writes_nothing(provider, s2_scene, tmp_path) -> None:
    feedback = QgsProcessingFeedback()
    feedback.progressChanged.connect(lambda value: value > 20 and feedback.cancel())
    with pytest.raises(QgsProcessingException, match="cancelled"):
        _run(
            "spex:extract_land_cover",
            {
                "INPUT": str(s2_scene),
                "PROMPT": WATER,
                "TILE_SIZE": 64,
                "OUTPUT_MASK": str(tmp_path / "m.tif"),
                "OUTPUT_FEATURES": str(tmp_path / "f.gpkg"),
            },
            feedback,
        )
    assert feedback.isCanceled()
    assert list(tmp_path.iterdir()) == []


def test_spectral_index(provider, s2_scene, tmp_path) -> None:
    out = _run(
        "spex:spectral_index",
        {"INPUT": str(s2_scene), "INDEX": "ndvi", "OUTPUT": str(tmp_path / "ndvi.tif")},
    )
    dataset = gdal.Open(out["OUTPUT"])  # keep it alive while its band is used
    data = dataset.GetRasterBand(1)
    values = data.ReadAsArray()
    assert data.GetNoDataValue() == -9999.0 and data.GetDescription() == "NDVI"
    valid = values[values != -9999.0]
    assert valid.size > 0.9 * values.size
    assert -1.0 <= valid.min() < 0.0 < valid.max() <= 1.0
    with pytest.raises(QgsProcessingException, match="unknown spectral index"):
        _run(
            "spex:spectral_index",
            {"INPUT": str(s2_scene), "INDEX": "XYZ", "OUTPUT": "TEMPORARY_OUTPUT"},
        )


def test_spectral_index_of_a_product_given_whole(provider, s2_scene, tmp_path) -> None:
    """INPUT naming a Landsat product's folder, as `spex indices` takes it: the index is the
    command line's, value for value, with the product's clouds hidden as asked."""
    from spex.engine.cli import main as spex

    folder = landsat_product_folder(s2_scene, tmp_path)
    out = _run(
        "spex:spectral_index",
        {"INPUT": str(folder), "INDEX": "MNDWI", "OUTPUT": str(tmp_path / "mndwi.tif")},
    )
    assert spex(["indices", str(folder), "--index", "MNDWI", "--out",
                 str(tmp_path / "cli.tif")]) == 0  # fmt: skip
    ours, theirs = gdal.Open(out["OUTPUT"]), gdal.Open(str(tmp_path / "cli.tif"))
    values = ours.GetRasterBand(1).ReadAsArray()
    assert (values != -9999.0).mean() > 0.9
    np.testing.assert_array_equal(values, theirs.GetRasterBand(1).ReadAsArray())


def test_extract_from_a_sentinel_hub_exports_folder(provider, s2_scene, tmp_path) -> None:
    """INPUT naming the folder an EO Browser download unpacks to: the export's bands stacked,
    calibrated by their data type, as the command line reads it."""
    from tests.test_browser_exports import EXPORT, write_export

    folder = write_export(s2_scene, tmp_path / "download")
    out = _run(
        "spex:extract_land_cover",
        {"INPUT": str(folder), "PROMPT": "extract the vegetation",
         "OUTPUT_MASK": str(tmp_path / "vegetation.tif"),
         "OUTPUT_FEATURES": str(tmp_path / "vegetation.gpkg")},
    )  # fmt: skip
    manifest = json.loads(Path(out["MANIFEST"]).read_text(encoding="utf-8"))
    assert manifest["bands"]["roles"] == ["blue", "green", "red", "nir", "swir1", "swir2"]
    assert manifest["scaling"]["source"] == f"product {EXPORT}"
    assert manifest["scaling"]["calibrated"] and manifest["counts"]["area_m2_per_target"]


def test_both_algorithms_in_a_model(provider, s2_scene, tmp_path) -> None:
    """The graphical modeler's data structure: one raster input feeding both algorithms."""
    model = QgsProcessingModelAlgorithm("spex chain", "tests")
    model.addModelParameter(
        QgsProcessingParameterRasterLayer("scene", "Scene"), QgsProcessingModelParameter("scene")
    )
    scene = QgsProcessingModelChildParameterSource.fromModelParameter("scene")
    static = QgsProcessingModelChildParameterSource.fromStaticValue
    for child_id, alg_id, params, outputs in (
        ("ndvi", "spex:spectral_index", {"INDEX": static("NDVI")}, {"OUTPUT": "ndvi"}),
        (
            "water",
            "spex:extract_land_cover",
            {"PROMPT": static(WATER), "EXTENT": static(EXTENT)},
            {"OUTPUT_MASK": "mask", "OUTPUT_FEATURES": "regions"},
        ),
    ):
        child = QgsProcessingModelChildAlgorithm(alg_id)
        child.setChildId(child_id)
        child.addParameterSources("INPUT", [scene])
        for name, source in params.items():
            child.addParameterSources(name, [source])
        model_outputs = {}
        for name, output_name in outputs.items():
            output = QgsProcessingModelOutput(output_name)
            output.setChildId(child_id)
            output.setChildOutputName(name)
            model_outputs[output_name] = output
        child.setModelOutputs(model_outputs)
        model.addChildAlgorithm(child)
    ok, errors = model.validate()
    assert ok, errors
    out = _run(
        model,
        {
            "scene": str(s2_scene),
            "ndvi:ndvi": str(tmp_path / "ndvi.tif"),
            "water:mask": str(tmp_path / "mask.tif"),
            "water:regions": str(tmp_path / "regions.gpkg"),
        },
    )
    assert Path(out["ndvi:ndvi"]).is_file() and Path(out["water:mask"]).is_file()
    assert QgsVectorLayer(out["water:regions"], "r", "ogr").featureCount() > 0


@pytest.mark.skipif(
    not (shutil.which("qgis_process.bin") or shutil.which("qgis_process")),
    reason="qgis_process is not installed",
)
def test_qgis_process_runs_the_algorithm(s2_scene: Path, tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", JSON="1")
    env.pop("ARGS", None)
    completed = subprocess.run(
        [
            "bash",
            str(REPO_ROOT / "scripts" / "qgis_run.sh"),
            f"INPUT={s2_scene}",
            f"PROMPT={WATER}",
            f"EXTENT={EXTENT}",
            f"OUTPUT_MASK={tmp_path / 'mask.tif'}",
            f"OUTPUT_FEATURES={tmp_path / 'regions.gpkg'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout[completed.stdout.index("{") :])
    assert report["algorithm_details"]["id"] == "spex:extract_land_cover"
    results = report["results"]
    assert results["OUTPUT_MASK"] == str(tmp_path / "mask.tif")
    assert "## Summary" in results["EXPLANATION"] and "water:" in results["SUMMARY"]
    assert Path(results["MANIFEST"]).is_file()
    assert QgsVectorLayer(str(tmp_path / "regions.gpkg"), "r", "ogr").featureCount() > 0


def _qgis_process_extract(raster: Path | str, prompt: str, tmp_path: Path) -> dict:
    """`spex:extract_land_cover` run by `qgis_process` (`scripts/qgis_run.sh`) on `raster`,
    its outputs in `tmp_path`: the algorithm's results, after asserting it succeeded."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", JSON="1")
    env.pop("ARGS", None)
    completed = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "qgis_run.sh"), f"INPUT={raster}", f"PROMPT={prompt}",
         f"OUTPUT_MASK={tmp_path / 'mask.tif'}", f"OUTPUT_FEATURES={tmp_path / 'regions.gpkg'}"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout[completed.stdout.index("{") :])["results"]


def _summary_lines(explanation: str) -> list[str]:
    """The lines of an explanation that say what was read and found: bands, scaling, and each
    class's regions and area."""
    keep = ("- Bands", "- Scaling", "- water:", "- vegetation:", "- built-up:")
    return [line for line in explanation.splitlines() if line.startswith(keep)]


@pytest.mark.skipif(
    not (shutil.which("qgis_process.bin") or shutil.which("qgis_process")),
    reason="qgis_process is not installed",
)
def test_qgis_process_reads_a_worldview3_order_with_its_swir_bands(
    s2_scene: Path, tmp_path: Path
) -> None:
    """In QGIS's own process the engine's rasterio runs on QGIS's GDAL (3.6 here, which gives
    the IMD's keys sorted by name: real WorldView products were refused there while the
    command line read them). A WorldView-3 order made from the real scene
    (`tests/maxar_fake.py`) runs with its eight bands in their order and its SWIR product's two,
    as top-of-atmosphere reflectance."""
    mul = worldview3_order(tmp_path / "order", s2_scene)
    results = _qgis_process_extract(mul, WATER, tmp_path)
    run = json.loads(Path(results["MANIFEST"]).read_text(encoding="utf-8"))
    assert run["bands"]["sensor"] == "worldview3_vnir_swir"
    assert run["bands"]["roles"][:2] == ["coastal", "blue"]
    assert run["bands"]["roles"][-2:] == ["swir1", "swir2"]
    assert run["scaling"]["calibrated"] is True
    assert "MNDWI" in results["EXPLANATION"]


@pytest.mark.skipif(
    not (shutil.which("qgis_process.bin") or shutil.which("qgis_process")),
    reason="qgis_process is not installed",
)
@pytest.mark.parametrize("given", ["SAFE", "Landsat folder", "raster in a zip"])
def test_qgis_process_reads_a_product_as_the_command_line_does(
    s2_scene: Path, tmp_path: Path, given: str
) -> None:
    """In QGIS's own process the engine reads rasters through QGIS's GDAL (3.6 here; the
    command line and these tests run the wheel's): a product given whole, made from the real
    scene, gives the same bands, scaling and classes both ways; and a raster inside a zip by
    its GDAL name (``/vsizip//...``), which qgis_process would not load from the string
    ("Could not load source layer"), is read by the engine as the command line reads it."""
    from rasterio.windows import Window

    from spex.engine.cli import main as spex

    if given == "SAFE":
        whole = write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240)).parent
    elif given == "Landsat folder":
        whole = landsat_product_folder(s2_scene, tmp_path)
    else:
        whole = zipped_copy(s2_scene, tmp_path)
    prompt = "water bodies, vegetation and buildings"
    assert spex(["extract", str(whole), "--prompt", prompt, "--out", str(tmp_path / "cli"),
                 "--quiet"]) == 0  # fmt: skip
    results = _qgis_process_extract(whole, prompt, tmp_path)
    ours = _summary_lines((tmp_path / "cli" / "explanation.md").read_text(encoding="utf-8"))
    assert len(ours) >= 5 and _summary_lines(results["EXPLANATION"]) == ours


QGIS_PROCESS_BIN = shutil.which("qgis_process.bin") or shutil.which("qgis_process")


def _fresh_profile_env(tmp_path: Path, with_packages: bool) -> dict[str, str]:
    """qgis_process as a new user runs it: a fresh profile with the plugin in a plugin path.

    `with_packages`: the venv's site-packages on PYTHONPATH, standing in for an installed
    rasterio (what `spex:install_dependencies` puts into the profile)."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "spex").symlink_to(REPO_ROOT, target_is_directory=True)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ARGS", "JSON")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "profile"),
        QGIS_PLUGINPATH=str(plugins),
        XDG_RUNTIME_DIR=str(runtime),
    )
    if with_packages:
        import sysconfig

        env["PYTHONPATH"] = sysconfig.get_paths()["purelib"]
    return env


def _run_qgis_process(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [QGIS_PROCESS_BIN, *args], capture_output=True, text=True, env=env, timeout=300
    )


def _system_python_has_rasterio() -> bool:
    probe = subprocess.run(["/usr/bin/python3", "-c", "import rasterio"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(QGIS_PROCESS_BIN is None, reason="qgis_process is not installed")
def test_qgis_process_without_packages_says_what_is_missing(s2_scene, tmp_path) -> None:
    """Item 3: in a profile without rasterio, not "Algorithm ... not found!" but what is
    missing and the headless command that installs it."""
    if _system_python_has_rasterio():
        pytest.skip("QGIS's own Python has rasterio here: nothing is missing to report")
    env = _fresh_profile_env(tmp_path, with_packages=False)
    assert _run_qgis_process(["plugins", "enable", "spex"], env).returncode == 0
    completed = _run_qgis_process(
        [
            "run",
            "spex:extract_land_cover",
            "--",
            f"INPUT={s2_scene}",
            f"PROMPT={WATER}",
            f"OUTPUT_MASK={tmp_path / 'mask.tif'}",
            f"OUTPUT_FEATURES={tmp_path / 'regions.gpkg'}",
        ],
        env,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "not found" not in output
    assert "missing Python packages: rasterio" in output
    assert "qgis_process.bin run spex:install_dependencies" in output
    assert not (tmp_path / "mask.tif").exists()


def _readme_commands(prefix: str) -> list[list[str]]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return [shlex.split(line) for line in readme.splitlines() if line.startswith(prefix)]


@pytest.mark.skipif(
    shutil.which("qgis_process.bin") is None, reason="not Debian's qgis_process packaging"
)
def test_readme_qgis_process_commands_work_on_debian(s2_scene, tmp_path) -> None:
    """Item 4: the wrapper fails as the README says; the README's commands work as written
    (input and outputs swapped for the test's). Item 7: progress ticks and messages stay on
    separate lines."""
    wrapper = subprocess.run(
        ["qgis_process", "--version"],
        capture_output=True,
        text=True,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        timeout=120,
    )
    if wrapper.returncode != 0:  # the README's explanation of why qgis_process.bin is needed
        assert "--noversioncheck not known" in wrapper.stdout + wrapper.stderr

    env = _fresh_profile_env(tmp_path, with_packages=True)
    (enable,) = _readme_commands("qgis_process.bin plugins enable")
    assert enable == ["qgis_process.bin", "plugins", "enable", "spex"]
    assert _run_qgis_process(enable[1:], env).returncode == 0
    (run,) = _readme_commands("qgis_process.bin run spex:extract_land_cover")
    values = {
        "INPUT": str(s2_scene),
        "OUTPUT_MASK": str(tmp_path / "mask.tif"),
        "OUTPUT_FEATURES": str(tmp_path / "water.gpkg"),
    }
    args = [
        f"{key}={values.get(key, value)}" if "=" in arg else arg
        for arg in run[1:]
        for key, _, value in [arg.partition("=")]
    ]
    completed = _run_qgis_process([*args, f"EXTENT={EXTENT}"], env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert QgsVectorLayer(str(tmp_path / "water.gpkg"), "r", "ogr").featureCount() > 0
    out = completed.stdout
    assert re.search(r"^reading the global sample$", out, re.MULTILINE), out[:2000]
    assert re.findall(r"^[0-9.]+[A-Za-z]", out, re.MULTILINE) == []  # "0reading ..." no more


def _extract_regions(
    raster: Path | str,
    prompt: str,
    folder: Path,
    extent: str | None = None,
    bands: str | None = None,
) -> tuple[dict, QgsVectorLayer]:
    """The algorithm's outputs for `raster` (into `folder`, within `extent` and with the band
    roles `bands` where given) and its non-empty regions layer."""
    params = {
        "INPUT": str(raster),
        "PROMPT": prompt,
        "OUTPUT_MASK": str(folder / "m.tif"),
        "OUTPUT_FEATURES": str(folder / "f.gpkg"),
    }
    params |= {"EXTENT": extent} if extent else {}
    out = _run("spex:extract_land_cover", params | ({"BANDS": bands} if bands else {}))
    regions = QgsVectorLayer(out["OUTPUT_FEATURES"], "regions", "ogr")
    assert regions.isValid() and regions.featureCount() > 0
    return out, regions


def test_raster_without_a_crs_runs_in_pixels(provider, s2_scene, tmp_path) -> None:
    """No CRS (identity grid): a run measures in pixels; a size in ha is one clear line."""
    chip = ungeoreferenced_copy(s2_scene, tmp_path / "no_crs.tif", (420, 120, 300, 250))
    out, regions = _extract_regions(chip, "water and vegetation", tmp_path)
    features = list(regions.getFeatures())
    assert all(f["pixels"] > 0 and f.attribute("area_ha") in (None, NULL) for f in features)
    assert "no coordinate reference system" in out["EXPLANATION"]
    assert " px (" in out["SUMMARY"]
    with pytest.raises(QgsProcessingException) as error:
        _run(
            "spex:extract_land_cover",
            {
                "INPUT": str(chip),
                "PROMPT": "lakes larger than 2 ha",
                "OUTPUT_MASK": str(tmp_path / "m2.tif"),
                "OUTPUT_FEATURES": str(tmp_path / "f2.gpkg"),
            },
        )
    message = str(error.value)
    assert "\n" not in message and "no coordinate reference system" in message
    assert not (tmp_path / "m2.tif").exists()


def test_what_the_raster_lacks_is_said_in_the_summary(
    provider, s2_scene, sample_data, tmp_path
) -> None:
    """A band missing over part of the raster, and roles typed one band off, reach Processing's
    SUMMARY output (and its log) as they reach the command line's summary."""
    from tests.test_band_gaps import _gapped
    from tests.test_role_shift import _landsat_stack

    gapped = _gapped(s2_scene, tmp_path / "gapped.tif", as_float=False)
    for run in ("gapped", "typed"):
        (tmp_path / run).mkdir()
    out, _ = _extract_regions(gapped, "vegetation", tmp_path / "gapped")
    assert "Band 13 (swir2) holds no data on 60" in out["SUMMARY"]
    stack = _landsat_stack(sample_data["lsts_dir"], tmp_path / "stack.tif")
    typed, _ = _extract_regions(
        stack, "vegetation and built-up", tmp_path / "typed", bands="green,red,nir"
    )
    assert "The band roles look one band off" in typed["SUMMARY"]
    assert "give the roles red,nir,- (--bands" in typed["EXPLANATION"]


def test_a_raster_inside_a_zip_archive_runs(provider, s2_scene, tmp_path) -> None:
    """A layer QGIS opened from an archive (source /vsizip//...) as INPUT: the run reads it."""
    layer = QgsRasterLayer(zipped_copy(s2_scene, tmp_path), "zipped", "gdal")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    out, regions = _extract_regions(layer.id(), "extract the water bodies", tmp_path)
    assert {f["class"] for f in regions.getFeatures()} == {"water"}
    assert s2_scene.name in out["EXPLANATION"]


def test_a_sentinel2_layer_of_a_safe_product_runs(provider, s2_scene, tmp_path) -> None:
    """A product's 10 m layer as QGIS opens a .SAFE (SENTINEL2_L2A:...:10m:EPSG_32633) as
    INPUT: the run reads it with the product's SWIR bands and without the 1000 it adds."""
    from rasterio.windows import Window

    mtd = write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240))
    layer = QgsRasterLayer(sentinel2_layer(mtd, 10), "T33UUU 10m", "gdal")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    out, regions = _extract_regions(layer.id(), "extract the water bodies", tmp_path)
    assert {f["class"] for f in regions.getFeatures()} == {"water"}
    assert "MTD_MSIL2A.xml:10m:EPSG_32633" in out["EXPLANATION"]
    assert "swir1" in out["EXPLANATION"] and "value x 0.0001 - 0.1" in out["EXPLANATION"]


@pytest.mark.parametrize("given", ["folder", "MTL", "SAFE", "MTD"])
def test_a_product_given_whole_runs(provider, s2_scene, tmp_path, given: str) -> None:
    """INPUT naming a product as it was delivered, which QGIS cannot load as a layer (it
    refused it: "Could not load source layer"): a Landsat folder or MTL file, a Sentinel-2
    .SAFE folder or its metadata file, as qgis_process scripts give them; with an EXTENT in
    the product's CRS."""
    from rasterio.windows import Window

    if given in ("folder", "MTL"):
        folder = landsat_product_folder(s2_scene, tmp_path)
        whole = folder if given == "folder" else folder / f"{LANDSAT_PRODUCT}_MTL.txt"
    else:
        mtd = write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240))
        whole = mtd.parent if given == "SAFE" else mtd
    assert not QgsRasterLayer(str(whole), "whole", "gdal").isValid()
    extent = "340240,341840,5817880,5819480 [EPSG:32633]"
    out, regions = _extract_regions(whole, "extract the water bodies", tmp_path, extent)
    mask = gdal.Open(out["OUTPUT_MASK"])
    assert (mask.RasterXSize, mask.RasterYSize) == (160, 160)  # the extent, at 10 m
    assert {f["class"] for f in regions.getFeatures()} == {"water"}
    assert "swir1" in out["EXPLANATION"]


def test_a_folder_that_is_no_product_is_still_refused(provider, tmp_path) -> None:
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException):
        _run(
            "spex:extract_land_cover",
            {"INPUT": str(tmp_path), "PROMPT": "water", "OUTPUT_MASK": str(tmp_path / "m.tif")},
        )


def test_a_spectrometer_raster_runs_with_its_bands_picked_by_wavelength(
    provider, s2_scene, tmp_path
) -> None:
    """203 bands known by their metadata only (tests/rasters.py): no band roles to give."""
    centres = [band.center_nm for band in get_preset("sentinel2_l1c").bands]
    raster = spectrometer_copy(
        s2_scene, tmp_path / "enmap_like.tif", (1024, 256, 384, 256), centres
    )
    out, regions = _extract_regions(raster, "extract the water bodies", tmp_path)
    assert {f["class"] for f in regions.getFeatures()} == {"water"}
    assert "other bands unused" in out["EXPLANATION"]


def test_a_maxar_product_runs_on_its_imds_reflectance(provider, s2_scene, tmp_path) -> None:
    """A WorldView-2 product (the real scene made into one, `tests/maxar_fake.py`) as a layer:
    its bands and top-of-atmosphere reflectance come from the IMD beside it, with no flag."""
    raster = maxar_product(tmp_path / "product", s2_scene)
    out, regions = _extract_regions(raster, "vegetation", tmp_path)
    assert {f["class"] for f in regions.getFeatures()} == {"vegetation"}
    assert "WorldView-2 Standard2A" in out["EXPLANATION"]
    assert "top-of-atmosphere reflectance = pi d^2 DN absCalFactor" in out["EXPLANATION"]


def test_reflectance_scale_and_offset_reach_the_engine(provider, s2_scene, tmp_path) -> None:
    # The real scene as processing baseline 04.00 stores it: every value + 1000.
    recent = tmp_path / "s2_baseline04.tif"
    gdal.Translate(str(recent), str(s2_scene), scaleParams=[[0, 60000, 1000, 61000]])
    runs = {}
    for name, extra in (("found", {}), ("given", {"REFLECTANCE_SCALE": 0.0001,
                                                  "REFLECTANCE_OFFSET": 0.0})):  # fmt: skip
        out = _run(
            "spex:extract_land_cover",
            {"INPUT": str(recent), "PROMPT": WATER, "EXTENT": EXTENT, **extra,
             "OUTPUT_MASK": str(tmp_path / f"{name}.tif"),
             "OUTPUT_FEATURES": str(tmp_path / f"{name}.gpkg")},
        )  # fmt: skip
        runs[name] = json.loads(Path(out["MANIFEST"]).read_text(encoding="utf-8"))["scaling"]
    assert runs["found"]["offset"] == -0.1 and runs["found"]["source"].endswith("added")
    assert runs["given"]["offset"] == 0.0 and runs["given"]["source"] == "--scale/--offset"


def test_optional_numbers_read_empty_as_none_and_name_the_bad_one() -> None:
    from qgis.core import QgsProcessingException

    from spex_qgis.processing.common import optional_number, reflectance_scaling

    assert reflectance_scaling({"REFLECTANCE_SCALE": "", "REFLECTANCE_OFFSET": None}) == (
        None,
        None,
    )
    assert reflectance_scaling({"REFLECTANCE_SCALE": 0.0001, "REFLECTANCE_OFFSET": "-0.1"}) == (
        0.0001,
        -0.1,
    )
    with pytest.raises(QgsProcessingException, match=r"^MIN_AREA: 'big' is not a number of m²\.$"):
        optional_number({"MIN_AREA": "big"}, "MIN_AREA", "m²")
    with pytest.raises(QgsProcessingException, match=r"^REFLECTANCE_SCALE: 'x' is not a number\.$"):
        reflectance_scaling({"REFLECTANCE_SCALE": "x"})


def test_a_class_the_bands_cannot_show_is_one_line(provider, s2_scene, tmp_path) -> None:
    """True colour only: water alone is one clear line; beside vegetation the summary says it."""
    rgb = true_colour_copy(s2_scene, tmp_path / "rgb.tif")
    outputs = {"OUTPUT_MASK": str(tmp_path / "m.tif"), "OUTPUT_FEATURES": str(tmp_path / "f.gpkg")}
    with pytest.raises(QgsProcessingException) as error:
        _run("spex:extract_land_cover", {"INPUT": str(rgb), "PROMPT": "water"} | outputs)
    message = str(error.value)
    assert "\n" not in message and "water needs" in message and "Band roles" in message
    assert not (tmp_path / "m.tif").exists()
    out = _run(
        "spex:extract_land_cover", {"INPUT": str(rgb), "PROMPT": "water and vegetation"} | outputs
    )
    assert "water: cannot be found with these bands" in out["SUMMARY"]


def test_index_thresholds_reach_the_engine_and_a_bad_one_names_the_parameter(
    provider, s2_scene, tmp_path
) -> None:
    """INDEX_THRESHOLDS is the command line's --threshold, in both algorithms."""
    params = {"INPUT": str(s2_scene), "PROMPT": "map the vegetation", "EXTENT": EXTENT,
              "OUTPUT_MASK": str(tmp_path / "veg.tif"),
              "OUTPUT_FEATURES": str(tmp_path / "veg.gpkg")}  # fmt: skip
    out = _run("spex:extract_land_cover", {**params, "INDEX_THRESHOLDS": "NDVI=0.4"})
    assert "| NDVI | 0.400 | set by the analyst; the scene's own choice: " in out["EXPLANATION"]
    with pytest.raises(QgsProcessingException, match="give NDVI a number from -1 to 1"):
        _run("spex:extract_land_cover", {**params, "INDEX_THRESHOLDS": "NDVI=dense"})
    with pytest.raises(QgsProcessingException, match=r"Index thresholds \(INDEX_THRESHOLDS\)"):
        _run("spex:extract_land_cover",
             {**params, "INDEX_THRESHOLDS": "NDVI=0.4", "BACKEND": "onnx"})  # fmt: skip
    batch = QgsApplication.processingRegistry().algorithmById("spex:batch_extract_land_cover")
    assert batch.parameterDefinition("INDEX_THRESHOLDS") is not None


def _examples_layer(raster: Path, cells: dict[str, list[tuple[int, int]]]) -> QgsVectorLayer:
    """A memory layer of labelled points at the centres of `raster`'s pixels, in EPSG:4326."""
    from tests.test_examples import pixel_points

    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=class:string", "examples", "memory")
    features = []
    for cls, rows_cols in cells.items():
        for x, y, _ in pixel_points(raster, np.array(rows_cols), cls):
            feature = QgsFeature(layer.fields())
            feature.setAttribute("class", cls)
            feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
            features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


def test_examples_reach_the_engine_and_a_bad_field_names_the_parameter(
    provider, s2_scene, tmp_path
) -> None:
    """EXAMPLES and EXAMPLES_FIELD are the command line's --examples and --examples-field."""
    layer = _examples_layer(s2_scene, {"vegetation": [(100, 300), (120, 310)],
                                       "other": [(20, 40), (30, 45)]})  # fmt: skip
    params = {"INPUT": str(s2_scene), "PROMPT": "map the vegetation", "EXTENT": EXTENT,
              "OUTPUT_MASK": str(tmp_path / "veg.tif"), "EXAMPLES": layer,
              "OUTPUT_FEATURES": str(tmp_path / "veg.gpkg")}  # fmt: skip
    out = _run("spex:extract_land_cover", params)
    assert "trained with the analyst's examples from" in out["EXPLANATION"]
    assert "(pixels: other 2, vegetation 2)" in out["EXPLANATION"]
    with pytest.raises(QgsProcessingException, match="EXAMPLES_FIELD"):
        _run("spex:extract_land_cover", {**params, "EXAMPLES_FIELD": "kind"})
    with pytest.raises(QgsProcessingException, match=r"Examples \(EXAMPLES\) set the spectral"):
        _run("spex:extract_land_cover", {**params, "BACKEND": "onnx"})
    batch = QgsApplication.processingRegistry().algorithmById("spex:batch_extract_land_cover")
    assert batch.parameterDefinition("EXAMPLES") is not None
    assert batch.parameterDefinition("EXAMPLES_FIELD") is not None


def test_an_examples_layer_without_a_crs_lies_on_the_raster(provider, s2_scene, tmp_path) -> None:
    """A GeoPackage layer created without a CRS, which QGIS shows as "Undefined geographic SRS",
    with points in the raster's metres: its examples reach the raster's pixels, as on the
    command line. Read as degrees, they could not be placed."""
    from tests.test_examples import pixel_points, write_examples

    with rasterio.open(s2_scene) as src:
        epsg = src.crs.to_epsg()
    cells = np.array([(100, 300), (120, 310)])
    path = write_examples(
        tmp_path / "ex.gpkg", pixel_points(s2_scene, cells, "vegetation", epsg), 0
    )
    layer = QgsVectorLayer(str(path), "examples", "ogr")
    assert layer.crs().description() == "Undefined geographic SRS"
    params = {"INPUT": str(s2_scene), "PROMPT": "map the vegetation", "EXTENT": EXTENT,
              "OUTPUT_MASK": str(tmp_path / "veg.tif"), "EXAMPLES": layer,
              "OUTPUT_FEATURES": str(tmp_path / "veg.gpkg")}  # fmt: skip
    out = _run("spex:extract_land_cover", params)
    assert "(pixels: vegetation 2)" in out["EXPLANATION"]
    # A layer given as an object is named by its name in what is said of it.
    layer.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    with pytest.raises(QgsProcessingException, match="The examples of 'examples' cannot be placed"):
        _run("spex:extract_land_cover", params)
