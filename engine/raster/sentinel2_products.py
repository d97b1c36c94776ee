"""Sentinel-2 product names, and whether the processing baseline they name added 1000 to every value.

A Sentinel-2 product is named ``S2B_MSIL2A_20230315T103629_N0509_R008_T32UPU_20230315T134106``
(.SAFE): mission, level, sensing time, processing baseline ``Nxxyy``, orbit, tile, discriminator.
From baseline 04.00 (25 January 2022) every digital number carries +1000 (``BOA_ADD_OFFSET`` /
``RADIO_ADD_OFFSET`` -1000): reflectance = (DN - 1000) / 10000; before, DN / 10000.
``reflectance.resolve_scaling`` recognises the offset from the values (every band starting
at 1000), which a scene that cloud or snow covers almost whole also does without it; the
baseline in the name settles it. A product whose provider removed the offset (its values start
below 1000) is read without it, whatever the name says, unless the values are the product's own
files as ESA delivers them (`as_delivered`: GDAL's Sentinel-2 subdatasets, the band files inside
the .SAFE folder): no provider came between, and a scene whose dark water lies below zero
reflectance after the atmospheric correction starts below 1000 with the offset in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from .product_files import name_texts, only_one, safe_folder
from .reflectance import (
    PRESET_MIN_P99,
    SENTINEL2_ADDED_DN,
    ProductReading,
    Scaling,
    plausible_reflectance,
)
from .vrt_sources import vrt_source_files

SAFE_NAME = re.compile(
    r"(?<![A-Z0-9])S2[A-D]_MSIL(1C|2A)_\d{8}T\d{6}_N(\d{2})(\d{2})_R\d{3}_T\d{2}[A-Z]{3}_\d{8}T\d{6}"
    r"(?![A-Z0-9])"
)
#: A subdataset of GDAL's Sentinel-2 driver (``SENTINEL2_L2A:/data/S2B_...SAFE/MTD_MSIL2A.xml:10m:
#: EPSG_32632``), as QGIS names the layers of a product it opens.
DRIVER_SUBDATASET = re.compile(r"^SENTINEL2_L(1B|1C|2A):", re.IGNORECASE)
#: The first processing baseline that adds ``SENTINEL2_ADDED_DN`` to every value.
FIRST_ADDING_BASELINE = 4.0
SCALE = 1e-4


@dataclass(frozen=True)
class Sentinel2Product:
    """A Sentinel-2 product name and what it says: level (L1C, L2A) and processing baseline."""

    identifier: str
    level: str
    baseline: float

    @property
    def label(self) -> str:
        """What an analyst reads: ``Sentinel-2 L2A, processing baseline 05.09``."""
        return f"Sentinel-2 {self.level}, processing baseline {self.baseline:05.2f}"

    @property
    def preset(self) -> str:
        """The sensor preset of the product's level."""
        return "sentinel2_l1c" if self.level == "L1C" else "sentinel2_l2a"

    @property
    def adds_dn(self) -> bool:
        return self.baseline >= FIRST_ADDING_BASELINE


def find_product(
    path: str | Path, descriptions: Sequence[str | None] = ()
) -> Sentinel2Product | None:
    """The one Sentinel-2 product the file name, its folder's name or the band descriptions
    name; None where none is named or where they name two (a stack of two dates)."""
    found = {}
    for text in name_texts(path, descriptions):
        for m in SAFE_NAME.finditer(text.upper()):
            baseline = int(m.group(2)) + int(m.group(3)) / 100
            found[m.group(0)] = Sentinel2Product(m.group(0), f"L{m.group(1)}", baseline)
    return only_one(found)


def as_delivered(path: str | Path) -> bool:
    """Whether the raster at `path` is the product's own files as ESA delivers them: a subdataset
    of GDAL's Sentinel-2 driver, a band file (.jp2) inside a .SAFE folder, or a VRT of such band
    files only."""
    name = str(path)
    if DRIVER_SUBDATASET.match(name):
        return True
    sources = vrt_source_files(path) if name.lower().endswith(".vrt") else [PurePath(name)]
    return bool(sources) and all(_band_file_in_safe(source) for source in sources)


def _band_file_in_safe(path: PurePath) -> bool:
    return path.suffix.lower() == ".jp2" and safe_folder(path) is not None


def product_reading(
    product: Sentinel2Product,
    path: str | Path,
    percentiles: Mapping[str, float],
    roles: Sequence[str] = (),
) -> ProductReading:
    """The scaling `product`'s baseline gives the values of the raster at `path`, if they fit
    (one factor pair for every band, whatever their `roles`)."""
    p1, p99 = float(percentiles["p1"]), float(percentiles["p99"])
    name = f"Sentinel-2 {product.level} product {product.identifier} (named by the file)"
    baseline = f"processing baseline {product.baseline:05.2f}"
    delivered = as_delivered(path)
    if delivered:
        name = f"Sentinel-2 {product.level} product {product.identifier} (its own files)"
    adds = product.adds_dn and (delivered or p1 >= SENTINEL2_ADDED_DN)
    added = SENTINEL2_ADDED_DN if adds else 0.0
    offset = -added * SCALE
    low, high = p1 * SCALE + offset, p99 * SCALE + offset
    if not plausible_reflectance(low, high, PRESET_MIN_P99):
        return ProductReading(
            None, f"{name}: its values (p1 {p1:g}, p99 {p99:g}) are not its reflectance x 10000; "
        )
    if added:
        how = (
            f"{baseline} adds {added:g} to every value: reflectance = (DN - {added:g}) x {SCALE:g}"
        )
    elif product.adds_dn:
        how = (
            f"{baseline} adds {SENTINEL2_ADDED_DN:g} to every value, but these values start below "
            f"it (1st percentile {p1:g}): the provider removed it; reflectance = DN x {SCALE:g}"
        )
    else:
        how = f"{baseline}, before 04.00, adds nothing: reflectance = DN x {SCALE:g}"
    return ProductReading(
        Scaling(SCALE, offset, True, f"product {product.identifier}", f"{name}: {how}")
    )
