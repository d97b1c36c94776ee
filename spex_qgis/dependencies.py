"""The engine's Python packages: what is missing, and installing it into a plugin-private folder.

QGIS's Python already ships compiled packages (numpy, GDAL's bindings, PyQt, often SciPy) that
QGIS itself depends on. Replacing any of them breaks QGIS, so the installer:

- writes a constraints file that pins every distribution the running Python can already see
  (``name==version``), so pip can only add packages, never swap one QGIS uses;
- runs ``pip install --user`` with ``PYTHONUSERBASE`` set to a private folder: pip then counts
  the packages QGIS ships as installed (``--target`` would copy numpy again) and writes only
  the missing ones into that folder;
- appends the folder to ``sys.path`` (after QGIS's own paths), so nothing shipped is shadowed.

This module never imports the engine: the plugin must load, and say what is missing, without it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import site
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Requirement:
    """A Python package the engine needs: the module to import and the pip specifier."""

    module: str
    spec: str


@dataclass(frozen=True)
class MissingPackage:
    """A requirement that cannot be imported here, and why."""

    requirement: Requirement
    reason: str


@dataclass(frozen=True)
class InstallResult:
    """How an installation went: ``ok``, a one-line ``message`` and pip's full ``log``."""

    ok: bool
    message: str
    log: str
    site_dir: Path


#: What the engine imports (numpy and GDAL's bindings normally ship with QGIS).
REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("numpy", "numpy"),
    Requirement("osgeo.gdal", "GDAL"),
    Requirement("scipy", "scipy"),
    Requirement("rasterio", "rasterio>=1.3"),
)
#: Distributions never pinned: pip's own tooling may be older than what a wheel needs to build.
UNPINNED = frozenset({"pip", "setuptools", "wheel"})


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def default_base() -> Path:
    """The plugin-private user base: ``<QGIS profile>/python/spex-packages/py3X``."""
    from qgis.core import QgsApplication

    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    return Path(QgsApplication.qgisSettingsDirPath()) / "python" / "spex-packages" / tag


def site_dir(base: Path) -> Path:
    """Where ``pip install --user`` with ``PYTHONUSERBASE=base`` puts packages."""
    scheme = "nt_user" if os.name == "nt" else "posix_user"
    if sys.platform == "darwin" and "osx_framework_user" in sysconfig.get_scheme_names():
        scheme = "osx_framework_user"
    return Path(sysconfig.get_path("purelib", scheme, vars={"userbase": str(base)}))


def activate(base: Path | None = None) -> Path | None:
    """Append the private site folder to ``sys.path`` if it exists; return it (or None)."""
    folder = site_dir(base or default_base())
    if not folder.is_dir():
        return None
    if str(folder) not in sys.path:
        site.addsitedir(str(folder))  # appends, and honours .pth files
    importlib.invalidate_caches()
    return folder


def missing_packages(requirements: Iterable[Requirement] | None = None) -> list[MissingPackage]:
    """The requirements (default `REQUIREMENTS`) that cannot be imported; never raises."""
    missing = []
    for requirement in REQUIREMENTS if requirements is None else requirements:
        try:
            importlib.import_module(requirement.module)
        except Exception as error:  # noqa: BLE001 - any import failure means "cannot use it"
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            missing.append(MissingPackage(requirement, reason))
    return missing


def describe_missing(missing: Sequence[MissingPackage]) -> str:
    """One line naming what is missing, e.g. ``rasterio (No module named 'rasterio')``."""
    parts = [f"{m.requirement.spec} ({m.reason})" for m in missing]
    return "missing Python packages: " + "; ".join(parts)


def installed_versions(exclude: Iterable[Path] = ()) -> dict[str, str]:
    """Every distribution the running Python can see (normalised name -> version)."""
    skip = {str(Path(p).resolve()) for p in exclude}
    versions: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if not name:
            continue
        location = getattr(dist, "_path", None)
        if location is not None and str(Path(location).resolve().parent) in skip:
            continue
        versions.setdefault(_norm(name), dist.version)
    return versions


def compat_constraints(versions: dict[str, str]) -> list[str]:
    """Extra pins that keep new packages working with old shipped ones.

    affine 3 needs attrs >= 23.2 but does not say so; with an older shipped attrs (Debian 12
    has 22.2) rasterio then fails at import, so affine stays below 3.
    """
    extra = []
    attrs = versions.get("attrs")
    if attrs is not None and _version_tuple(attrs) < (23, 2):
        extra.append("affine<3")
    return extra


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def constraint_lines(exclude: Iterable[Path] = ()) -> list[str]:
    """``name==version`` for every distribution already visible, plus the compatibility pins."""
    versions = installed_versions(exclude)
    pins = [f"{name}=={version}" for name, version in sorted(versions.items())]
    pins = [p for p in pins if p.split("==")[0] not in UNPINNED]
    return pins + compat_constraints(versions)


def python_executable() -> str:
    """The Python interpreter behind this process (inside QGIS, ``sys.executable`` is QGIS)."""
    exe = Path(sys.executable)
    prefixes = {Path(p) for p in (sys.prefix, sys.exec_prefix, sys.base_exec_prefix)}
    # embedded in QGIS, sys.executable may be whatever "python3" comes first on PATH (a pyenv
    # shim, another Python): pip must be the one of the Python QGIS runs
    if exe.name.lower().startswith("python") and any(exe.is_relative_to(p) for p in prefixes):
        return str(exe)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    prefix = Path(sys.exec_prefix)
    candidates = [
        prefix / "python.exe",
        prefix / "python3.exe",
        prefix / "bin" / f"python{version}",
        prefix / "bin" / "python3",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    return "python3"


def pip_command(
    specs: Sequence[str],
    constraints_file: Path,
    find_links: Path | None = None,
    no_index: bool = False,
    isolated: bool = False,
) -> list[str]:
    """The pip command line that installs ``specs`` into the user base given by the environment."""
    cmd = [python_executable(), "-m", "pip", "install", "--user", "--disable-pip-version-check"]
    cmd += ["--no-warn-script-location", "--progress-bar", "off", "-c", str(constraints_file)]
    if _pip_knows_break_system_packages():
        # PEP 668 guards the system site-packages; this writes only to the private user base
        cmd.append("--break-system-packages")
    if isolated:
        cmd.append("--isolated")
    if no_index:
        cmd.append("--no-index")
    if find_links is not None:
        cmd += ["--find-links", str(find_links)]
    return cmd + list(specs)


def _pip_knows_break_system_packages() -> bool:
    try:
        return _version_tuple(importlib.metadata.version("pip")) >= (23, 0, 1)
    except importlib.metadata.PackageNotFoundError:
        return False


def install(
    specs: Sequence[str],
    base: Path | None = None,
    find_links: Path | None = None,
    no_index: bool = False,
    isolated: bool = False,
    on_line: Callable[[str], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> InstallResult:
    """Install ``specs`` with pip into the private folder ``base``; never raises for pip errors.

    ``on_line`` receives pip's output line by line (for progress); ``is_cancelled`` stops pip.
    """
    base = Path(base or default_base())
    target = site_dir(base)
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="spex-pip-") as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("\n".join(constraint_lines([target])) + "\n", encoding="utf-8")
        env = dict(os.environ, PYTHONUSERBASE=str(base), PYTHONNOUSERSITE="")
        env.pop("PYTHONNOUSERSITE")
        env.pop("PIP_TARGET", None)
        env.pop("PIP_PREFIX", None)
        cmd = pip_command(specs, constraints, find_links, no_index, isolated)
        try:
            # the context manager closes pip's pipe (no ResourceWarning) and reaps the process
            process = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
                bufsize=1,
            )
        except OSError as error:
            return InstallResult(False, f"cannot start pip ({error})", "", target)
        with process:
            assert process.stdout is not None
            for line in process.stdout:
                line = line.rstrip()
                lines.append(line)
                if on_line is not None:
                    on_line(line)
                if is_cancelled is not None and is_cancelled():
                    process.terminate()
                    process.wait()
                    return InstallResult(False, "installation cancelled", "\n".join(lines), target)
            code = process.wait()
    log = "\n".join(lines)
    if code != 0:
        return InstallResult(False, _failure_line(lines, code), log, target)
    activate(base)
    installed = [line for line in lines if line.startswith("Successfully installed")]
    message = installed[-1] if installed else "nothing to install: every package was present"
    return InstallResult(True, f"{message} (into {target})", log, target)


def _failure_line(lines: Sequence[str], code: int) -> str:
    errors = [line.strip() for line in lines if line.strip().startswith("ERROR:")]
    detail = errors[0].removeprefix("ERROR:").strip() if errors else f"pip exited with {code}"
    return f"installing the Python packages failed: {detail}"
