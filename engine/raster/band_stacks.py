"""A product's band files stacked into one raster, as an analyst stacks them in QGIS (Build
Virtual Raster, "Place each input file into a separate band"): a VRT built by GDAL in the
temporary folder, named by the files it stacks as they are now (`temporary_files`), used for a
Landsat product (`landsat_folders`), an HLS granule (`hls_granules`) and a Sentinel Hub export
(`browser_exports`) given whole."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ..errors import InputError
from .temporary_files import file_stamp, written_once

#: Where the VRTs are written.
VRT_FOLDER = "spex-band-stacks"


def stacked_files(files: Sequence[str]) -> Path:
    """A VRT stacking `files` one band each, in the order given (GDAL's BuildVRT, "separate")."""
    files = list(files)
    key = "\n".join(f"{f}:{file_stamp(f)}" for f in files)
    return written_once(VRT_FOLDER, key, "stack.vrt", lambda partial: _build_vrt(files, partial))


def one_product_in(
    names: Iterable[str],
    where: str,
    products_in: Callable[[Iterable[str]], list[str]],
    kind: str,
    fix: str,
) -> str | None:
    """The one product (by `products_in`) whose band files the file names `names` of the folder
    or archive `where` hold; None where they hold none, `InputError` where they hold several
    (`kind`: what they are, plural; `fix`: what to give instead)."""
    products = products_in(names)
    if len(products) > 1:
        raise InputError(
            f"{where} holds the band files of {len(products)} {kind} "
            f"({', '.join(products[:2])}{', ...' if len(products) > 2 else ''}); {fix}."
        )
    return products[0] if products else None


def _build_vrt(files: list[str], partial: Path) -> None:
    from osgeo import gdal

    try:
        vrt = gdal.BuildVRT(str(partial), files, separate=True)
    except RuntimeError:  # where GDAL raises (gdal.UseExceptions)
        vrt = None
    if vrt is None:
        raise InputError(
            f"GDAL cannot stack the product's band files ({gdal.GetLastErrorMsg()}); stack "
            "them yourself (Build Virtual Raster) and give the stack."
        )
    vrt = None  # closing it writes it
