"""The file behind each band of a virtual raster (GDAL VRT), as a name for bands without one.

An analyst stacks a product's band files with QGIS's Build Virtual Raster ("Place each input
file into a separate band"): the VRT's bands have no descriptions, but each has one source file,
named as its provider named it (``LC08_L2SP_..._SR_B4.TIF``, ``T32UPU_20230315T103629_B04_10m.jp2``).
That name says the band and the product, as a description would.

A VRT over multi-band files (a mosaic of a product's tiles, a clip of one scene: gdalbuildvrt,
QGIS's Build Virtual Raster without "separate") loses the bands' descriptions too; there each
band takes the description its source band has in its file, where every source agrees, and the
files' names still name the product (`vrt_source_names`).
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path, PurePath

import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from .product_files import safe_folder

#: The largest VRT read (a stack of a few bands is a few kB; a mosaic of thousands of tiles is
#: not a stack and is skipped).
VRT_MAX_BYTES = 2_000_000
SOURCE_TAGS = ("SimpleSource", "ComplexSource", "AveragedSource", "KernelFilteredSource")
#: The most source files whose band descriptions are read for one band (a mosaic's tiles share
#: them; opening every tile of a large mosaic would cost more than it tells).
MAX_FILES_DESCRIBED = 16

#: A band's source: its file (None where the VRT gives none) and the band of it read.
Source = tuple[PurePath | None, int]


def vrt_source_files(path: str | Path) -> list[PurePath]:
    """Every source file of every band of the VRT at `path`, once each (none where `path` is not
    a readable VRT file)."""
    files = (f for band in _sources_by_band(path).values() for f, _ in band if f is not None)
    return list(dict.fromkeys(files))


def vrt_source_names(path: str | Path) -> list[str]:
    """The names a product may be named by in the VRT at `path`: each source file's name and
    its folder's (none where `path` is not a readable VRT file)."""
    names = (n for f in vrt_source_files(path) for n in (_band_name(f), f.parent.name))
    return [n for n in dict.fromkeys(names) if n]


def _sources_by_band(path: str | Path) -> dict[int, set[Source]]:
    """The source files of each band (by its 1-based index) of the VRT file at `path`."""
    p = Path(path)
    if p.suffix.lower() != ".vrt" or not p.is_file() or p.stat().st_size > VRT_MAX_BYTES:
        return {}
    try:
        root = ET.fromstring(p.read_text(encoding="utf-8", errors="replace"))
    except ET.ParseError:
        return {}
    out: dict[int, set[Source]] = {}
    for band in root.iter("VRTRasterBand"):
        try:
            index = int(band.get("band", "0"))
            out[index] = {
                (_source_path(p, source.find("SourceFilename")), _source_band(source))
                for tag in SOURCE_TAGS
                for source in band.findall(tag)
            }
        except ValueError:
            continue
    return out


def _source_band(source: ET.Element) -> int:
    """The band of its file that a source reads (GDAL's default: the first)."""
    element = source.find("SourceBand")
    text = (element.text or "").strip() if element is not None else ""
    return int(text) if text else 1


def _source_path(vrt: Path, element: ET.Element | None) -> PurePath | None:
    """A source's file, joined to the VRT's folder where the VRT gives it relative."""
    text = (element.text or "").strip() if element is not None else ""
    if not text:
        return None
    source = PurePath(text.replace("\\", "/"))
    return vrt.resolve().parent / source if element.get("relativeToVRT") == "1" else source


def _band_name(source: PurePath) -> str:
    """The source file's stem, with the Sentinel-2 product folder it lies in (``.SAFE``): the
    band files inside a product are named by tile and date only, the product by its level and
    processing baseline (``sentinel2_products``). A GDAL subdataset (a MODIS HDF file's
    ``HDF4_EOS:EOS_GRID:"MOD09GA...hdf":MODIS_Grid_500m_2D:sur_refl_b01_1``) is named by its
    file's stem and the subdataset's own name, which says the band."""
    head, quoted, tail = str(source).partition('":')
    if quoted and '"' in head:
        file = PurePath(head.split('"', 1)[1])
        return f"{file.stem} {tail.rsplit(':', 1)[-1]}"
    safe = safe_folder(source)
    return f"{source.stem} ({safe})" if safe else source.stem


def vrt_band_names(path: str | Path, band_count: int) -> list[str | None]:
    """A name for each band of the VRT at `path` from its sources: the description its source
    band has in multi-band files, where all of them (up to `MAX_FILES_DESCRIBED`) describe it
    alike; else, for a band read from one single-band file, that file's name (`_band_name`);
    else None (and wherever `path` is not a readable VRT file)."""
    out: list[str | None] = [None] * band_count
    known: dict[PurePath, tuple[str | None, ...]] = {}
    for index, sources in _sources_by_band(path).items():
        if not 1 <= index <= band_count or not sources or any(f is None for f, _ in sources):
            continue
        files = list(dict.fromkeys(f for f, _ in sources))[:MAX_FILES_DESCRIBED]
        described = {f: _descriptions(f, known) for f in files}
        if all(len(d) > 1 for d in described.values()):
            found = {
                described[f][b - 1] if 1 <= b <= len(described[f]) else None
                for f, b in sources
                if f in described
            }
            out[index - 1] = found.pop() if len(found) == 1 else None
        elif len(files) == 1:
            out[index - 1] = _band_name(files[0])
    return out


def _descriptions(
    file: PurePath, known: dict[PurePath, tuple[str | None, ...]]
) -> tuple[str | None, ...]:
    """The band descriptions of `file`, one per band (none where it cannot be opened),
    remembered in `known`."""
    if file not in known:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)  # names only
                with rasterio.open(str(file)) as dataset:
                    known[file] = tuple(d or None for d in dataset.descriptions)
        except RasterioError:
            known[file] = ()
    return known[file]


def named_by_sources(descriptions: Sequence[str | None], path: str | Path) -> list[str | None]:
    """`descriptions`, each missing one filled from its band's sources (a VRT's: `vrt_band_names`)."""
    if Path(path).suffix.lower() != ".vrt" or all(descriptions):
        return list(descriptions)
    names = vrt_band_names(path, len(descriptions))
    return [d or n for d, n in zip(descriptions, names, strict=True)]
