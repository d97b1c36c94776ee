"""`make package`: dist/spex-<version>.zip, installable with QGIS's "Install from ZIP".

The zip holds one top folder `spex/` with the plugin files only: the entry point, metadata,
licence, README, the engine, the QGIS code and the resources. No tests, benchmarks, caches,
virtual environment or build files. Entries are sorted and dated 1980-01-01, so the same
sources give the same bytes.
"""

from __future__ import annotations

import argparse
import configparser
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIR = "spex"
#: What goes into the zip (files and folders at the repository root).
INCLUDE = (
    "__init__.py",
    "metadata.txt",
    "LICENSE",
    "README.md",
    "engine",
    "spex_qgis",
    "resources",
)
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo", ".orig", ".rej", ".swp"}
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def plugin_version(root: Path = ROOT) -> str:
    """The version in metadata.txt."""
    parser = configparser.ConfigParser()
    parser.read(root / "metadata.txt", encoding="utf-8")
    return parser["general"]["version"]


def plugin_files(root: Path = ROOT) -> list[Path]:
    """The files of the plugin, relative to `root`, sorted."""
    files: list[Path] = []
    for name in INCLUDE:
        path = root / name
        if path.is_file():
            files.append(Path(name))
        elif path.is_dir():
            for item in path.rglob("*"):
                rel = item.relative_to(root)
                if not item.is_file() or any(part in SKIP_DIRS for part in rel.parts):
                    continue
                if item.suffix in SKIP_SUFFIXES or item.name.startswith("."):
                    continue
                files.append(rel)
        else:
            raise FileNotFoundError(f"{path} is missing; the package needs it")
    return sorted(files, key=lambda p: p.as_posix())


def build_zip(out_dir: Path, root: Path = ROOT) -> Path:
    """Write `<out_dir>/spex-<version>.zip` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"spex-{plugin_version(root)}.zip"
    tmp = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in plugin_files(root):
            info = zipfile.ZipInfo(f"{PLUGIN_DIR}/{rel.as_posix()}", FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, (root / rel).read_bytes())
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    """Build the zip; print its path, size and file count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder")
    args = parser.parse_args(argv)
    target = build_zip(args.out)
    with zipfile.ZipFile(target) as archive:
        count = len(archive.namelist())
    print(f"package: {target} ({target.stat().st_size / 1024:.0f} KiB, {count} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
