"""The scenes of a batch: inputs expanded, named, and their output folders checked for restart."""

from __future__ import annotations

import glob
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..raster.dataset_open import GDAL_DATASET_NAME
from ..raster.product_files import ARCHIVE_SUFFIXES

if TYPE_CHECKING:
    from ..backends.spectral.examples import Examples

#: Suffixes of a text file that lists one raster path per line.
LIST_SUFFIXES = (".txt", ".lst", ".list")
#: The four files of a finished `spex extract` folder.
OUTPUT_FILES = ("mask.tif", "features.gpkg", "explanation.md", "run.json")
_GLOB_CHARS = set("*?[")
#: A Sentinel-2 product's metadata file, which names no product.
_METADATA_FILE = re.compile(r"MTD_MSIL(1C|2A)\.xml", re.IGNORECASE)
#: A Landsat MTL file's ending after the product's identifier.
_MTL_SUFFIX = re.compile(r"_MTL$", re.IGNORECASE)


@dataclass(frozen=True)
class Scene:
    """One input raster of a batch and the name of its folder under the batch folder."""

    name: str
    path: Path


def expand_inputs(items: Sequence[str | Path]) -> list[Path]:
    """Files, glob patterns and text files of paths, as absolute paths in the order given.

    A list file holds one path per line (blank lines and `#` comments skipped); relative paths
    in it are taken from the list's folder. A path given twice is kept once.
    """
    paths: list[Path] = []
    for item in items:
        text = str(item)
        if _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise InputError(f"The pattern {text} matches no file; check it or quote it.")
            paths += [Path(m) for m in matches]
        elif Path(text).suffix.lower() in LIST_SUFFIXES and Path(text).is_file():
            paths += _read_list(Path(text))
        else:
            paths.append(Path(text))
    unique = dict.fromkeys(_absolute(p) for p in paths)
    if not unique:
        raise InputError("No input scenes were given; give raster files, globs or a list file.")
    return list(unique)


def _absolute(path: Path, folder: Path | None = None) -> Path:
    """`path` made absolute (from `folder`, else the working folder); a GDAL dataset name
    (``/vsizip/...``, ``GTIFF_DIR:1:...``) stays as it is."""
    if GDAL_DATASET_NAME.match(str(path)) or path.is_absolute():
        return path
    return (folder or Path.cwd()) / path


def _read_list(path: Path) -> list[Path]:
    lines = path.read_text(encoding="utf-8").splitlines()
    entries = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    return [_absolute(Path(entry), path.parent) for entry in entries]


def name_scenes(paths: Sequence[Path]) -> list[Scene]:
    """Each path named by its file stem, a product given whole by the product (`scene_stem`);
    a repeated name gets -2, -3, ... in input order."""
    taken: set[str] = set()
    scenes = []
    for path in paths:
        stem = scene_stem(path)
        name, n = stem, 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name.lower())
        scenes.append(Scene(name, path))
    return scenes


def scene_stem(path: Path) -> str:
    """A scene's name: its file's stem, or for a product given whole the product's (a
    Sentinel-2 ``MTD_MSIL2A.xml`` by its .SAFE folder, a Landsat ``..._MTL.txt`` by its
    identifier, a ``.tar.gz`` without both suffixes, a folder by its whole name), where every
    product's metadata file has the same name."""
    name = path.name.rstrip("/")
    if _METADATA_FILE.fullmatch(name) and path.parent.name.upper().endswith(".SAFE"):
        return path.parent.name[: -len(".SAFE")]
    for suffix in (*ARCHIVE_SUFFIXES, ".SAFE"):
        if name.upper().endswith(suffix.upper()):
            return name[: -len(suffix)]
    if path.is_dir():  # a product's folder: its whole name ("HLS.L30.T33UUU...v2.0")
        return name or "scene"
    return _MTL_SUFFIX.sub("", path.stem) or "scene"


def finished_manifest(folder: Path, scene: Scene, prompt: str) -> dict[str, object] | None:
    """The scene's run.json if its folder holds a complete run of `prompt` on it, else None."""
    if not all((folder / name).is_file() for name in OUTPUT_FILES):
        return None
    try:
        manifest = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    recorded = manifest.get("input", {}).get("path") if isinstance(manifest, dict) else None
    if manifest.get("prompt") != prompt or recorded != str(scene.path):
        return None
    return manifest


def clear_partial(folder: Path) -> None:
    """Remove what an interrupted run of this scene left: its staging folders, and the folder
    itself when it holds an incomplete run (a finished one is moved in whole)."""
    for leftover in folder.parent.glob(f".{glob.escape(folder.name)}.partial-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    if folder.is_dir() and not (folder / "run.json").is_file():
        shutil.rmtree(folder, ignore_errors=True)


def check_examples_over_scenes(scenes: Sequence[Scene], examples: Examples) -> None:
    """Raise `InputError` when no example lies over any scene (a wrong CRS or another place),
    before anything runs; judged from the scenes' extents, no pixel read, stopping at the first
    scene that holds one. A scene that does not open counts as none: its own task says why.
    """
    from ..backends.spectral.examples import examples_over
    from ..raster.dataset_open import open_dataset
    from ..raster.pixel_grid import close_dataset

    unplaced: InputError | None = None  # examples a scene's CRS cannot hold: said if none
    for scene in scenes:
        try:
            dataset = open_dataset(scene.path)
        except InputError:
            continue
        try:
            if examples_over(examples, dataset):
                return
        except InputError as error:
            unplaced = unplaced or error
        finally:
            close_dataset(dataset)
    if unplaced is not None:
        raise unplaced
    raise InputError(
        f"None of the {len(examples.features)} examples of '{examples.source}' lies over "
        f"any of the {len(scenes)} scenes; check that they cover the scenes and that their "
        "CRS is set."
    )
