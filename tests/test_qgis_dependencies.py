"""The dependency installer for real: pip installs wheels from a local folder into a private
user base, never copies or replaces what QGIS's Python already has, and reports failures in
one line. The wheels are built here (a wheel is a zip with a dist-info folder)."""

from __future__ import annotations

import base64
import gc
import hashlib
import importlib
import sys
import warnings
import zipfile
from pathlib import Path

import numpy
import pytest
import qgis.utils
from qgis.core import QgsApplication

from spex.spex_qgis import dependencies
from spex.spex_qgis.install_task import InstallTask
from tests.qgis_helpers import PLUGIN, flush_deferred_deletes, qgis_plugin_path, wait_for


def _wheel(folder: Path, name: str, requires: list[str], source: str) -> Path:
    """Write a pure-Python wheel `name` 1.0 with one module and return its path."""
    module = name.replace("-", "_")
    info = f"{module}-1.0.dist-info"
    files = {
        f"{module}/__init__.py": source,
        f"{info}/METADATA": "Metadata-Version: 2.1\n"
        f"Name: {name}\nVersion: 1.0\n" + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: spex-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{path},sha256={b64},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
    target = folder / f"{module}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return target


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    _wheel(folder, "spex-probe-core", [], "VALUE = 42\n")
    _wheel(
        folder,
        "spex-probe-app",
        ["spex-probe-core", "numpy"],
        "import numpy\nfrom spex_probe_core import VALUE\nANSWER = int(numpy.int64(VALUE))\n",
    )
    _wheel(folder, "spex-probe-greedy", ["numpy>=99"], "")
    return folder


@pytest.fixture
def clean_imports():
    """Undo the sys.path entries and modules an installation adds."""
    saved_path = list(sys.path)
    yield
    sys.path[:] = saved_path
    for name in [n for n in sys.modules if n.startswith("spex_probe")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def test_constraints_pin_what_qgis_ships() -> None:
    lines = dependencies.constraint_lines()
    assert f"numpy=={numpy.__version__}" in lines
    assert not any(line.startswith(("pip==", "setuptools==")) for line in lines)
    assert dependencies.compat_constraints({"attrs": "22.2.0"}) == ["affine<3"]
    assert dependencies.compat_constraints({"attrs": "23.2.0"}) == []


def test_missing_packages_are_reported_not_raised() -> None:
    absent = dependencies.Requirement("spex_probe_absent", "spex-probe-absent")
    present = dependencies.Requirement("numpy", "numpy")
    missing = dependencies.missing_packages([present, absent])
    assert [m.requirement for m in missing] == [absent]
    assert "No module named" in missing[0].reason
    assert dependencies.missing_packages() == []  # this environment has everything


def test_install_from_a_local_wheel_folder(wheels, tmp_path, clean_imports) -> None:
    base = tmp_path / "private"
    lines: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        result = dependencies.install(
            ["spex-probe-app"],
            base,
            find_links=wheels,
            no_index=True,
            isolated=True,
            on_line=lines.append,
        )
        gc.collect()  # an unclosed pipe warns when its file object is collected
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    assert result.ok, result.log
    assert "spex-probe-app-1.0" in result.message and "spex-probe-core-1.0" in result.message
    site = dependencies.site_dir(base)
    assert result.site_dir == site and (site / "spex_probe_core" / "__init__.py").is_file()
    assert not list(site.glob("numpy*")), "numpy is already there: it must not be copied"
    assert any(line.startswith("Successfully installed") for line in lines)
    # appended after QGIS's own paths, so nothing shipped can be shadowed
    assert str(site) in sys.path
    assert sys.path.index(str(site)) > sys.path.index(str(Path(numpy.__file__).parent.parent))
    import spex_probe_app

    assert spex_probe_app.ANSWER == 42
    assert Path(spex_probe_app.__file__).is_relative_to(site)


def test_a_package_that_would_replace_numpy_is_refused(wheels, tmp_path, clean_imports) -> None:
    base = tmp_path / "private"
    result = dependencies.install(
        ["spex-probe-greedy"], base, find_links=wheels, no_index=True, isolated=True
    )
    assert not result.ok
    assert result.message.startswith("installing the Python packages failed:")
    assert "\n" not in result.message
    assert "numpy" in result.log
    assert not dependencies.site_dir(base).exists() or not list(
        dependencies.site_dir(base).glob("numpy*")
    )
    assert importlib.import_module("numpy").__version__ == numpy.__version__


def test_install_task_reports_progress(qgis_app, wheels, tmp_path, clean_imports) -> None:
    done: list[InstallTask] = []
    task = InstallTask(
        ["spex-probe-core"],
        done.append,
        base=tmp_path / "private",
        find_links=wheels,
        no_index=True,
    )
    seen: list[str] = []
    task.lineReceived.connect(seen.append)
    QgsApplication.taskManager().addTask(task)
    wait_for(lambda: bool(done), timeout=120)
    assert done[0] is task and task.result is not None and task.result.ok, task.result.log
    assert any(line.startswith("Successfully installed") for line in seen)
    assert (dependencies.site_dir(tmp_path / "private") / "spex_probe_core").is_dir()


def test_install_button_bar_goes_once_installed(
    qgis_app, qgis_iface, wheels, tmp_path, clean_imports
) -> None:
    """The plugin as QGIS loads it, one package missing: the Install bar, a real pip install
    from local wheels, then the bar is gone, the algorithms are the real ones and SPEX is ready."""
    bar = qgis_iface.messageBar()
    with qgis_plugin_path(tmp_path / "plugins"):
        assert qgis.utils.loadPlugin(PLUGIN)
        deps = importlib.import_module("spex.spex_qgis.dependencies")  # the plugin's copy
        probe = deps.Requirement("spex_probe_core", "spex-probe-core")
        deps.REQUIREMENTS = (*deps.REQUIREMENTS, probe)
        assert qgis.utils.startPlugin(PLUGIN)
        plugin = qgis.utils.plugins[PLUGIN]
        offer = plugin.install_offer
        assert offer is not None and offer in bar.items()
        registry = QgsApplication.processingRegistry()
        assert not registry.algorithmById("spex:extract_land_cover").canExecute()[0]

        bar.clear_messages()
        plugin.install_dependencies(base=tmp_path / "private", find_links=wheels, no_index=True)
        wait_for(lambda: plugin.install_task is None, timeout=120)
        assert offer not in bar.items(), "the Install bar must go once the install succeeded"
        assert plugin.install_offer is None and plugin.missing == []
        assert any("SPEX is ready" in m for m in bar.get_messages(3)), bar.get_messages(2)
        algorithm = registry.algorithmById("spex:extract_land_cover")
        assert algorithm.canExecute()[0] and type(algorithm).__name__ == "ExtractLandCoverAlgorithm"
        assert qgis.utils.unloadPlugin(PLUGIN)
        flush_deferred_deletes()
