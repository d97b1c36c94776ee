"""The file behind each band of a virtual raster (GDAL VRT), as a name for bands without one.

An analyst stacks a product's band files with QGIS's Build Virtual Raster ("Place each input
file into a separate band"): the VRT's bands have no descriptions, but each has one source file,
named as its provider named it (``LC08_L2SP_..._SR_B4.TIF``, ``T32UPU_20230315T103629_B04_10m.jp2``).
That name says the band and the product, as a description would.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path, PurePath

from .product_files import safe_folder

#: The largest VRT read (a stack of a few bands is a few kB; a mosaic of thousands of tiles is
#: not a stack and is skipped).
VRT_MAX_BYTES = 2_000_000
SOURCE_TAGS = ("SimpleSource", "ComplexSource", "AveragedSource", "KernelFilteredSource")


def vrt_band_sources(path: str | Path, band_count: int) -> list[PurePath | None]:
    """Each band's one source file (``None`` where a band has none or several, or where `path`
    is not a readable VRT file)."""
    out: list[PurePath | None] = [None] * band_count
    for index, files in _sources_by_band(path).items():
        if 1 <= index <= band_count and len(files) == 1 and None not in files:
            out[index - 1] = files.pop()
    return out


def vrt_source_files(path: str | Path) -> list[PurePath]:
    """Every source file of every band of the VRT at `path`, once each (none where `path` is not
    a readable VRT file)."""
    files = (f for band in _sources_by_band(path).values() for f in band if f is not None)
    return list(dict.fromkeys(files))


def _sources_by_band(path: str | Path) -> dict[int, set[PurePath | None]]:
    """The source files of each band (by its 1-based index) of the VRT file at `path`."""
    p = Path(path)
    if p.suffix.lower() != ".vrt" or not p.is_file() or p.stat().st_size > VRT_MAX_BYTES:
        return {}
    try:
        root = ET.fromstring(p.read_text(encoding="utf-8", errors="replace"))
    except ET.ParseError:
        return {}
    out: dict[int, set[PurePath | None]] = {}
    for band in root.iter("VRTRasterBand"):
        try:
            index = int(band.get("band", "0"))
        except ValueError:
            continue
        out[index] = {
            _source_path(p, source.find("SourceFilename"))
            for tag in SOURCE_TAGS
            for source in band.findall(tag)
        }
    return out


def vrt_band_files(path: str | Path, band_count: int) -> list[str | None]:
    """The name of each band's one source file (`vrt_band_sources`): its stem, and the ``.SAFE``
    product it lies in."""
    return [_band_name(f) if f else None for f in vrt_band_sources(path, band_count)]


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


def named_by_sources(descriptions: Sequence[str | None], path: str | Path) -> list[str | None]:
    """`descriptions`, each missing one filled with its band's source file (a VRT's)."""
    files = vrt_band_files(path, len(descriptions))
    return [d if d else f for d, f in zip(descriptions, files, strict=True)]
