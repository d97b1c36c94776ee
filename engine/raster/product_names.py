"""What a product's name says: the sensor that settles band names fitting several, and the
reflectance scaling of its processing level (``landsat_products``, ``sentinel2_products``,
``hls_products``; ``preset_names``: PlanetScope and NAIP, whose files have no band names;
``maxar_products``: WorldView and the other Maxar satellites, by the IMD file beside them;
``browser_exports``: Sentinel Hub's one file per band, scaled by their data type;
``reflectance_maps``: a drone flight's one reflectance map per band, from Pix4D or DJI Terra).

The name is looked for in the file's name, its folder's name and the band descriptions (in a
VRT, its band files' names and folders too: ``vrt_sources``), as ``product_files`` says for
every module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import BandError
from . import (
    browser_exports,
    hls_products,
    landsat_products,
    maxar_products,
    preset_names,
    reflectance_maps,
    sentinel2_products,
)
from .bands import BandMapping, narrow_nir_as_nir, resolve_band_mapping
from .colour_interp import roles_from_colour
from .reflectance import ProductReading
from .sensors import SensorPreset, get_preset
from .vrt_sources import vrt_source_names

#: The modules that read a product's level and scaling from its name (Maxar's: from its IMD),
#: Landsat's first.
PRODUCT_NAMES = (
    landsat_products,
    sentinel2_products,
    hls_products,
    preset_names,
    maxar_products,
    browser_exports,
    reflectance_maps,
)


def named_product(
    path: str | Path, descriptions: Sequence[str | None]
) -> tuple[ModuleType | None, Any]:
    """The first module that finds a product named, and the product (its ``label`` says what it
    is); (None, None) if none. A VRT's source files are named beside its bands: a clip or
    mosaic of a product's files is that product."""
    texts = [*descriptions, *vrt_source_names(path)]
    for module in PRODUCT_NAMES:
        product = module.find_product(path, texts)
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


def _fitting_preset(product: Any, band_count: int) -> SensorPreset | None:
    """The preset of a named `product`'s bands (None for one without: Landsat MSS): of its
    ``presets`` where it has several (a WorldView-3 product read alone or with its SWIR
    product's bands), the one with `band_count` bands, else its first."""
    names = getattr(product, "presets", None) or ((product.preset,) if product else ())
    presets = [get_preset(name) for name in names if name]
    fitting = [p for p in presets if len(p.bands) == band_count]
    return (fitting or presets or [None])[0]


def file_band_mapping(
    path: str | Path,
    descriptions: Sequence[str | None],
    sensor: str | None = None,
    bands: str | Sequence[str] | None = None,
    colours: Sequence[str | None] | None = None,
) -> BandMapping:
    """The band roles of the raster at `path` (`resolve_band_mapping`), where band names that fit
    several sensors (``B1``..``B7``) are settled by the sensor a product name in the file, folder
    or band names gives, and bands without names take the product's band order when they are
    as many as its bands; where neither a band nor the product is named, bands whose colour
    interpretations (`colours`, GDAL's names) are exactly red, green and blue
    (`colour_interp.roles_from_colour`: an orthophoto, an RGB export) are true colour; else the
    refusal stands. A named product is never read by its colours: a NAIP file's fourth band
    may be flagged as transparency, yet its name says it is the NIR band. A product whose band
    names are another sensor's (HLS L30's ``B05`` is NIR, Sentinel-2's red edge: a
    ``named_only`` preset) is read by its own names whenever it is named and neither `sensor`
    nor `bands` is given."""
    _, product = named_product(path, descriptions)
    preset = _fitting_preset(product, len(descriptions))
    if preset and preset.named_only and sensor is None and bands is None:
        own = resolve_band_mapping(len(descriptions), descriptions, sensor=preset.name)
        return replace(
            own, source="band descriptions" if any(descriptions) else "product band order"
        )
    try:
        return resolve_band_mapping(len(descriptions), descriptions, sensor=sensor, bands=bands)
    except BandError as refused:
        for sensors, roles in refused.readings.items():
            if preset and preset.name in sensors.split("/"):
                return narrow_nir_as_nir(BandMapping(roles, preset.name, "band descriptions"))
        if preset and not any(descriptions) and len(preset.bands) == len(descriptions):
            # A product's own bands stacked whole and in order (SR_B1..SR_B7), unnamed: the
            # product (its name, Maxar's IMD) gives their order.
            return BandMapping(preset.roles, preset.name, "product band order")
        named = product is not None or any(descriptions)  # names, not colours, decide
        by_colour = None if named else roles_from_colour(colours or ())
        if by_colour is not None and len(by_colour) == len(descriptions):
            return BandMapping(by_colour, None, "colour interpretation")
        raise
