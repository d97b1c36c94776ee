"""A Landsat product given whole, as USGS delivers it: its folder of band files, its .tar, its
MTL file.

EarthExplorer delivers a product as one GeoTIFF per band (``LC09_L2SP_..._SR_B4.TIF``) beside
its MTL file, in a .tar. Given the folder, the .tar or the MTL, the engine reads the product's
reflectance bands stacked in band order, as an analyst stacks them in QGIS (Build Virtual
Raster, "Place each input file into a separate band"): a VRT built by GDAL in the temporary
folder, named by the files it stacks (`band_stacks`). Its band files then name the bands and the product, and
the MTL beside them gives the scaling (`vrt_sources`, `landsat_products`).

One band file given alone is stacked with the other band files of its product by
`product_of_band_file` (`band_files`, the dock's "Add product" button).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path, PurePosixPath

import rasterio
from rasterio.errors import RasterioIOError

from ..errors import InputError
from .band_stacks import stacked_files
from .landsat_products import PRODUCT_ID, SCENE_ID
from .product_files import ARCHIVE_SUFFIXES, archive_members

#: A product given whole: its metadata file, or its archive (a folder is looked into as well).
GIVEN_WHOLE = re.compile(r"(_MTL\.(txt|json|xml)|\.tar|\.tar\.gz|\.tgz)$", re.IGNORECASE)
#: A band file: the identifier, then ``_B4``, ``_SR_B4`` (Level-2 reflectance), ``_B6_VCID_1``.
BAND_FILE = re.compile(r"_(SR_)?B(\d{1,2})(?:_VCID_([12]))?\.TIF$", re.IGNORECASE)


def landsat_stack(name: str) -> Path | None:
    """A VRT of the reflectance bands of the one Landsat product that `name` gives whole (its
    folder, its .tar, its MTL file), in band order; None for anything else, `InputError` for a
    folder of several products (an MTL file names one). Level-2 products
    give their ``SR_B*`` files, Level-1 products their ``B*`` files on the grid most of them
    share (the 15 m panchromatic band left out). One band file is not the product given whole
    (`product_of_band_file`)."""
    files = [] if BAND_FILE.search(name) else _band_files(name)
    if not files:
        return None
    products = sorted({identifier(f) or "" for f in files})
    if len(products) > 1:
        raise InputError(
            f"{Path(name).name} holds the band files of {len(products)} Landsat products "
            f"({', '.join(products[:2])}{', ...' if len(products) > 2 else ''}); give one "
            "product's MTL file."
        )
    return _stacked(files)


def product_of_band_file(band_file: str) -> Path | None:
    """A VRT of the reflectance bands of the Landsat product that one of its band files
    (``..._SR_B4.TIF``) belongs to, stacked from the band files beside it as `landsat_stack`
    stacks the product's folder; None for any other file."""
    product = identifier(band_file) if BAND_FILE.search(band_file) else None
    if product is None or not Path(band_file).is_file():
        return None
    return _stacked(_band_files(band_file))


def _stacked(files: list[str]) -> Path | None:
    """The stack of one product's band files: its reflectance bands on the grid most of them
    share, in band order; None where none of them can be opened."""
    reflectance = [f for f in files if BAND_FILE.search(f).group(1)] or files
    shapes = {f: _shape(f) for f in reflectance}
    sizes = Counter(shape for shape in shapes.values() if shape)
    if not sizes:
        return None
    common = sizes.most_common(1)[0][0]
    return stacked_files(sorted((f for f in reflectance if shapes[f] == common), key=_band_order))


def _band_files(name: str) -> list[str]:
    """The GDAL names of the band files of the product `name` gives whole (none where it gives
    none): each file of a folder, or of the MTL's or the band file's folder that has the same
    product's name, or of a .tar (``/vsitar/``)."""
    path = Path(name)
    if path.is_dir():
        names = [str(f) for f in path.iterdir() if f.is_file()]
    elif not (GIVEN_WHOLE.search(name) or BAND_FILE.search(name)) or not path.is_file():
        return []
    elif name.lower().endswith(ARCHIVE_SUFFIXES):
        names = archive_members(path)
    else:  # the MTL file or a band file: its own product's files
        product = identifier(name)
        names = [
            str(f) for f in path.parent.iterdir() if f.is_file() and identifier(f.name) == product
        ]
    return [n for n in names if BAND_FILE.search(n) and identifier(n)]


def identifier(name: str) -> str | None:
    """The product identifier (or pre-Collection-1 scene identifier) in a file's name."""
    stem = PurePosixPath(name).name.upper()
    match = PRODUCT_ID.search(stem) or SCENE_ID.search(stem)
    return match.group(0) if match else None


def _band_order(name: str) -> tuple[int, int]:
    """A band file's place in the stack: its band number, then its VCID (``B6_VCID_1`` first)."""
    match = BAND_FILE.search(name)
    return int(match.group(2)), int(match.group(3) or 0)


def _shape(name: str) -> tuple[int, int] | None:
    """A band file's (width, height), or None where it cannot be opened."""
    try:
        with rasterio.open(name) as dataset:
            return dataset.width, dataset.height
    except RasterioIOError:
        return None
