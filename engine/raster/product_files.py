"""Where a product's name and the files delivered with it are looked for, for every product
module (``landsat_products``, ``sentinel2_products``, ``hls_products``, ``preset_names``).

A name is looked for in the file's name, its folder's name and the band descriptions (in a
VRT, its band files' names: ``vrt_sources``); a raster that names two products (a stack of two
dates) names none. A companion file (Landsat's MTL, Planet's metadata XML) lies beside the
raster or, for a link, beside the file it points to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import TypeVar

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
    return next((part for part in reversed(path.parts) if part.upper().endswith(".SAFE")), None)
