"""Where a product's name and the files delivered with it are looked for, for every product
module (``landsat_products``, ``sentinel2_products``, ``hls_products``, ``preset_names``).

A name is looked for in the file's name, its folder's name and the band descriptions (in a
VRT, its band files' names: ``vrt_sources``); a raster that names two products (a stack of two
dates) names none. A companion file (Landsat's MTL, Planet's metadata XML) lies beside the
raster or, for a link, beside the file it points to. A file inside an archive or a Sentinel-2
granule is read as GDAL names it (``/vsizip/``; `file_bytes`, `granule_file`).
"""

from __future__ import annotations

import re
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path, PurePath, PurePosixPath
from typing import TypeVar

from .temporary_files import file_stamp, written_once

Product = TypeVar("Product")


def name_texts(path: str | Path, descriptions: Sequence[str | None] = ()) -> list[str]:
    """The texts a product name is looked for in: file name, folder name, band descriptions."""
    p = Path(path)
    return [p.name, p.parent.name, *(d for d in descriptions if d)]


def only_one(found: Mapping[str, Product]) -> Product | None:
    """The one product of `found` (by identifier); None where there are none or several."""
    return next(iter(found.values())) if len(found) == 1 else None


def folders_beside(path: str | Path) -> list[Path]:
    """The folders a file delivered with the raster at `path` may lie in: its own and, for a
    link, its target's (once each); a product given as its folder, that folder."""
    if Path(path).is_dir():
        return [Path(path).absolute()]
    return list(dict.fromkeys((Path(path).absolute().parent, Path(path).resolve().parent)))


def safe_folder(path: PurePath) -> str | None:
    """The Sentinel-2 product folder (``S2B_MSIL2A_...SAFE``) that `path` lies in, or None."""
    found = safe_path(path)
    return found.name if found is not None else None


def safe_path(path: PurePath) -> PurePath | None:
    """The path of the Sentinel-2 product folder (``.../S2B_MSIL2A_...SAFE``) that `path` is or
    lies in (the innermost), or None."""
    return next((p for p in (path, *path.parents) if p.name.upper().endswith(".SAFE")), None)


#: Archives a product is delivered in whose companion files are read from inside them.
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")
#: Where companion files taken out of an archive are kept.
ARCHIVE_FOLDER = "spex-archive-members"


def archive_members(archive: Path) -> list[str]:
    """The files in the tar archive `archive`, as GDAL names them (``/vsitar/...``); none where
    it cannot be read. Listed once while the archive stays as it is: a .tar.gz is decompressed
    whole to list it, and a run asks for it to open the product and to find its quality band."""
    name = str(Path(archive).absolute())
    return list(_listed_members(name, file_stamp(name)))


@lru_cache(maxsize=8)
def _listed_members(archive: str, _stamp: str) -> tuple[str, ...]:
    """`archive_members` of the archive at the absolute path `archive` as `_stamp` finds it."""
    try:
        with tarfile.open(archive) as tar:
            members = [m.name for m in tar.getmembers() if m.isfile()]
    except (OSError, tarfile.TarError):
        return ()
    return tuple(f"/vsitar/{archive}/{m}" for m in members)


def zip_members(archive: str | Path) -> list[str]:
    """The names of the members of the zip archive `archive`; none where it is no readable
    zip archive."""
    try:
        with zipfile.ZipFile(archive) as opened:
            return opened.namelist()
    except (OSError, zipfile.BadZipFile):
        return []


#: A file inside a zip archive as GDAL names it (``/vsizip//data/S2B_MSIL2A_....zip/...``).
_ZIP_MEMBER = re.compile(r"^/vsizip/(/?.+?\.zip)(?:/|$)", re.IGNORECASE)


def zip_archive(name: str) -> str | None:
    """The zip archive that the GDAL name `name` of a file inside it lies in, or None."""
    zipped = _ZIP_MEMBER.match(name)
    return zipped.group(1) if zipped else None


def member_of_archive(path: str | Path, names: Sequence[str], max_bytes: int) -> Path | None:
    """The first of `names` found at any depth in the tar archive at `path` (a Landsat .tar's
    MTL file), copied out to the temporary folder so it reads as a file; None where `path` is
    no such archive, holds none of them, or the member is larger than `max_bytes`."""
    archive = Path(path)
    if not archive.name.lower().endswith(ARCHIVE_SUFFIXES) or not archive.is_file():
        return None
    wanted = {name.lower() for name in names}
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                name = PurePosixPath(member.name).name
                if member.isfile() and name.lower() in wanted and member.size <= max_bytes:
                    data = tar.extractfile(member).read()
                    break
            else:
                return None
    except (OSError, tarfile.TarError):
        return None
    key = f"{archive.absolute()}:{file_stamp(archive)}"
    return written_once(ARCHIVE_FOLDER, key, name, lambda partial: partial.write_bytes(data))


def file_bytes(name: str) -> bytes:
    """The bytes of the file GDAL names `name` (a path or a ``/vsizip/`` name). Raises
    `InputError` where it cannot be read."""
    from osgeo import gdal

    from ..errors import InputError

    handle = gdal.VSIFOpenL(name, "rb")
    if handle is None:
        raise InputError(
            f"{PurePosixPath(name).name} cannot be read; give the product as delivered."
        )
    try:
        size = gdal.VSIStatL(name).size
        return bytes(gdal.VSIFReadL(1, size, handle))
    finally:
        gdal.VSIFCloseL(handle)


#: The suffixes of the GeoTIFFs a product's band files come as.
GEOTIFF_SUFFIXES = (".tif", ".tiff")


def geotiff_stem(name: str) -> str | None:
    """The stem of the file `name` (a path or GDAL name, Windows separators too) where it is a
    GeoTIFF, else None: what a band file's name is matched on (`browser_exports`,
    `reflectance_maps`)."""
    file = PurePosixPath(name.replace("\\", "/"))
    return file.stem if file.suffix.lower() in GEOTIFF_SUFFIXES else None


def granule_folder(qi_file: str) -> str:
    """The granule folder of a file in its ``QI_DATA``, as GDAL names it (a string: a path's
    "/vsizip//tmp/..." keeps its double slash)."""
    return qi_file.replace("\\", "/").rsplit("/", 2)[0]


def granule_file(qi_file: str, endings: tuple[str, ...]) -> str | None:
    """The one image of the granule holding `qi_file` (in ``IMG_DATA`` or ``IMG_DATA/R60m``)
    whose name ends with one of `endings` (upper case), or None."""
    from osgeo import gdal

    granule = granule_folder(qi_file)
    for folder in (f"{granule}/IMG_DATA", f"{granule}/IMG_DATA/R60m"):
        names = gdal.ReadDir(folder) or []
        found = [n for n in names if n.upper().endswith(endings)]
        if len(found) == 1:
            return f"{folder}/{found[0]}"
    return None
