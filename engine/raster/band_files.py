"""One band file of a delivered product, given alone: a Landsat ``..._SR_B4.TIF``, a Sentinel-2
.SAFE's ``..._B04_10m.jp2``, an HLS granule's ``...v2.0.B04.tif``, a Sentinel Hub export's
``..._Sentinel-2_L2A_B04_(Raw).tiff``, a drone flight's reflectance map (Pix4D's
``..._transparent_reflectance_red.tif``), as an analyst drags them into QGIS one by one.

Alone, such a file has no band roles to read. `band_file_hint` says which product it belongs
to and what to give instead; `band_file_product` names that product (from the file's name
only, so the dock can ask it of every layer), and `whole_product` opens the product as one
raster, as the dock's "Add product" button adds it: the Landsat, HLS, Sentinel Hub or Pix4D band
files beside it stacked (`landsat_folders`, `hls_granules`, `browser_exports`,
`reflectance_maps`), the Sentinel-2 product's finest layer (`sentinel2_layers`).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from ..errors import InputError
from .browser_exports import export_name, export_of_band_file
from .hls_granules import granule_name, granule_of_band_file
from .landsat_folders import BAND_FILE, identifier, product_of_band_file
from .product_files import safe_folder, safe_path, zip_archive
from .reflectance_maps import maps_name, maps_of_band_file
from .sentinel2_layers import finest_layer

#: A Sentinel-2 band file inside its product (``T32UPU_20230315T103629_B04_10m.jp2``).
SENTINEL2_BAND_FILE = re.compile(r"_B(0[1-9]|1[0-2]|8A)(_\d{2}m)?\.jp2$", re.IGNORECASE)


def band_file_product(name: str) -> str | None:
    """The product that the file `name` is one band file of (a Landsat identifier, a
    Sentinel-2 ``.SAFE`` folder's name, an HLS granule, a Sentinel Hub export), or None for any
    other file."""
    file = PurePosixPath(name).name
    if BAND_FILE.search(file) and (product := identifier(name)):
        return product
    if SENTINEL2_BAND_FILE.search(file):
        return safe_folder(PurePosixPath(name))
    return granule_name(name) or export_name(name) or maps_name(name)


def band_file_hint(name: str) -> str | None:
    """What to give instead of one band file of a delivered product, which alone has no band
    roles to read; None for any other file."""
    file = PurePosixPath(name).name
    product = band_file_product(name)
    if product is None:
        return None
    if product.upper().endswith(".SAFE"):
        return (
            f"{file} is one band of Sentinel-2 product {product}; give the product (its .SAFE "
            "folder or zip, or a layer QGIS lists for it)"
        )
    if export_name(name):
        archive = zip_archive(name)
        whole = (
            f"its zip archive {Path(archive).name}" if archive else "the folder of its band files"
        )
        return (
            f"{file} is one band of Sentinel Hub export {product}; give {whole}, or stack its "
            "bands (Build Virtual Raster, a band each)"
        )
    if granule_name(name):
        return (
            f"{file} is one band of HLS granule {product}; give the folder of its band files, "
            "or stack its bands (Build Virtual Raster, a band each)"
        )
    if maps_name(name):
        return (
            f"{file} is one band of a drone flight's reflectance maps {product}; give the folder "
            "of its band files (Pix4D's 4_index/reflectance, DJI Terra's map folder)"
        )
    return (
        f"{file} is one band of Landsat product {product}; give the product's folder or "
        "its MTL file, or stack its bands (Build Virtual Raster, a band each)"
    )


def whole_product(name: str) -> str:
    """The GDAL name that opens, as one raster, the product the band file `name` belongs to:
    the VRT of its Landsat band files stacked, or its Sentinel-2 product's finest layer.
    `InputError` where it is no band file of a product, or the product cannot be opened."""
    product = band_file_product(name)
    if product is None:
        raise InputError(
            f"{Path(name).name} is not a band file of a Landsat, Sentinel-2, HLS or Sentinel "
            "Hub product, or of a drone flight's reflectance maps."
        )
    if product.upper().endswith(".SAFE"):
        zipped = zip_archive(name)  # QGIS names a file in the downloaded zip so
        whole = zipped or str(safe_path(PurePosixPath(name)))
        layer = finest_layer(whole)
        if layer is None:
            raise InputError(
                f"GDAL cannot open Sentinel-2 product {product} as a whole (is its "
                "MTD_MSIL*.xml in the .SAFE folder?); add its layer from the .SAFE folder."
            )
        return layer
    if granule_name(name):
        stack = granule_of_band_file(name)
    elif export_name(name):
        stack = export_of_band_file(name)
    elif maps_name(name):
        stack = maps_of_band_file(name)
    else:
        stack = product_of_band_file(name)
    if stack is None:
        raise InputError(f"None of the band files of {product} beside {Path(name).name} opens.")
    return str(stack)
