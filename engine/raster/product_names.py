"""What a product's name says: the sensor that settles band names fitting several, and the
reflectance scaling of its processing level (``landsat_products``, ``sentinel2_products``).

The name is looked for in the file's name, its folder's name and the band descriptions (in a
VRT, its band files' names: ``vrt_sources``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import BandError
from . import landsat_products, sentinel2_products
from .bands import BandMapping, resolve_band_mapping
from .reflectance import ProductReading
from .sensors import get_preset

#: The modules that read a product's level and scaling from its name, Landsat's first.
PRODUCT_NAMES = (landsat_products, sentinel2_products)


def named_product(
    path: str | Path, descriptions: Sequence[str | None]
) -> tuple[ModuleType | None, Any]:
    """The first module that finds a product named, and the product (its ``label`` says what it
    is); (None, None) if none."""
    for module in PRODUCT_NAMES:
        product = module.find_product(path, descriptions)
        if product is not None:
            return module, product
    return None, None


def named_reading(
    path: str | Path,
    descriptions: Sequence[str | None],
    percentiles: Mapping[str, float],
    roles: Sequence[str],
) -> ProductReading | None:
    """What the product named in the file, folder or band names says of its scaling."""
    module, product = named_product(path, descriptions)
    return module.product_reading(product, path, percentiles, roles) if module else None


def file_band_mapping(
    path: str | Path,
    descriptions: Sequence[str | None],
    sensor: str | None = None,
    bands: str | Sequence[str] | None = None,
) -> BandMapping:
    """The band roles of the raster at `path` (`resolve_band_mapping`), where band names that fit
    several sensors (``B1``..``B7``) are settled by the sensor a product name in the file, folder
    or band names gives, and bands without names take the product's band order when they are
    as many as its bands; else the refusal stands."""
    try:
        return resolve_band_mapping(len(descriptions), descriptions, sensor=sensor, bands=bands)
    except BandError as refused:
        _, product = named_product(path, descriptions)
        preset = product.preset if product else None
        for sensors, roles in refused.readings.items():
            if preset in sensors.split("/"):
                return BandMapping(roles, preset, "band descriptions")
        if preset and not any(descriptions) and len(get_preset(preset).bands) == len(descriptions):
            # A product's own bands stacked whole and in order (SR_B1..SR_B7), unnamed.
            return BandMapping(get_preset(preset).roles, preset, "band count")
        raise
