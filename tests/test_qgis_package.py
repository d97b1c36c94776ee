"""`make package`: the zip QGIS's "Install from ZIP" takes, extracted into a temporary plugin path,
loaded through qgis.utils and run through its own Processing provider."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

import pytest
import qgis.utils
from qgis.core import QgsApplication, QgsVectorLayer

from tests.qgis_helpers import PLUGIN, REPO_ROOT, flush_deferred_deletes, qgis_plugin_path


def _package_module():
    spec = importlib.util.spec_from_file_location(
        "spex_package", REPO_ROOT / "scripts" / "package.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def package_zip(tmp_path_factory) -> Path:
    return _package_module().build_zip(tmp_path_factory.mktemp("dist"))


def test_zip_layout(package_zip: Path) -> None:
    assert package_zip.name == "spex-0.1.0.zip"
    names = zipfile.ZipFile(package_zip).namelist()
    assert {name.split("/")[0] for name in names} == {"spex"}  # one top folder
    for required in ("__init__.py", "metadata.txt", "LICENSE", "resources/icons/spex.svg"):
        assert f"spex/{required}" in names
    assert "spex/spex_qgis/plugin.py" in names and "spex/engine/pipeline.py" in names
    assert "spex/resources/styles/spex_regions.qml" in names
    banned = ("tests/", ".venv/", ".cache/", "bench/", "__pycache__", ".pyc", ".git", "dist/")
    assert [n for n in names if any(b in n for b in banned)] == []
    assert _package_module().build_zip(package_zip.parent).read_bytes() == package_zip.read_bytes()


def test_extracted_zip_loads_and_runs(
    qgis_app, qgis_iface, qgis_processing, package_zip, s2_scene, tmp_path
) -> None:
    plugins = tmp_path / "plugins"
    zipfile.ZipFile(package_zip).extractall(plugins)
    with qgis_plugin_path(plugins, plugin_dir=plugins / PLUGIN):
        assert qgis.utils.loadPlugin(PLUGIN) and qgis.utils.startPlugin(PLUGIN)
        assert Path(sys.modules[PLUGIN].__file__) == plugins / PLUGIN / "__init__.py"
        provider = QgsApplication.processingRegistry().providerById("spex")
        assert provider is not None
        import processing

        out = processing.run(
            "spex:extract_land_cover",
            {
                "INPUT": str(s2_scene),
                "PROMPT": "extract the water bodies",
                "EXTENT": "331000,334000,5816000,5818000 [EPSG:32633]",
                "OUTPUT_MASK": str(tmp_path / "mask.tif"),
                "OUTPUT_FEATURES": str(tmp_path / "regions.gpkg"),
            },
        )
        engine = sys.modules["spex.engine.pipeline"]
        assert Path(engine.__file__).is_relative_to(plugins)  # the zip's engine ran
        assert "## Summary" in out["EXPLANATION"]
        assert QgsVectorLayer(out["OUTPUT_FEATURES"], "r", "ogr").featureCount() > 0
        qgis.utils.plugins[PLUGIN].run()  # the dock opens from the installed copy too
        assert qgis.utils.plugins[PLUGIN].dock is not None
        assert qgis.utils.unloadPlugin(PLUGIN)
        flush_deferred_deletes()
    assert QgsApplication.processingRegistry().providerById("spex") is None
