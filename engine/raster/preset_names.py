"""File names that say which sensor, hence which band order, a raster without band names has:
PlanetScope and NAIP.

Planet delivers PlanetScope scenes as ``20221011_102457_38_2461_3B_AnalyticMS_SR_8b_harmonized_clip.tif``
(acquisition date and time, satellite, level 3B, then the product: ``AnalyticMS`` radiance x 100,
``_SR`` surface reflectance x 10000, ``_8b`` eight bands instead of four), and USDA its NAIP
quarter quadrangles as ``m_3807537_ne_18_060_20180827.tif`` (red, green, blue, NIR; 8-bit).
Neither carries band descriptions, so without the name such a raster needs ``--sensor``.
Planet's radiance product comes with its metadata file (``..._3B_AnalyticMS_metadata_clip.xml``),
whose ``ps:reflectanceCoefficient`` per band turns it into top-of-atmosphere reflectance.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .product_files import folders_beside, name_texts, only_one
from .reflectance import (
    ProductReading,
    Scaling,
    plausible_reflectance,
)
from .sensors import get_preset

PLANETSCOPE_NAME = re.compile(
    r"(?<![A-Za-z0-9])\d{8}_\d{6}(?:_\d{2})?_[0-9a-f]{4}_3B_AnalyticMS(_SR)?(_8b)?"
    r"(?:_harmonized)?(?:_clip)?(?![A-Za-z0-9])"
)
#: USDA's quarter quadrangle names: the quad, its quarter, the UTM zone, the resolution (``060``
#: and ``030`` cm since 2017, ``1`` m and ``h`` for half a metre before), the date (and, on
#: USGS's JPEG 2000 copies, a second date): ``m_3807708_ne_18_1_20130924``.
NAIP_NAME = re.compile(
    r"(?<![A-Za-z0-9])m_\d{7}_(?:ne|nw|se|sw)_\d{2}_(?:\d{3}|1|h)_\d{8}(?![0-9])"
)
#: PlanetScope's radiance product stores radiance x 100 (W m-2 sr-1 um-1).
RADIANCE_SCALE = 1e-4
#: A metadata file larger than this is not Planet's (a few kB).
METADATA_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class PresetProduct:
    """A product name that gives a sensor preset (``preset``), and whether its values are
    reflectance (Planet's ``AnalyticMS`` without ``_SR`` is radiance)."""

    identifier: str
    label: str
    preset: str
    radiance: bool = False


def _named(text: str) -> PresetProduct | None:
    if m := PLANETSCOPE_NAME.search(text):
        bands = 8 if m.group(2) else 4
        kind = "surface reflectance" if m.group(1) else "radiance"
        label = f"PlanetScope {bands}-band {kind}"
        return PresetProduct(m.group(0), label, f"planetscope_{bands}band", not m.group(1))
    if m := NAIP_NAME.search(text):
        return PresetProduct(m.group(0), "NAIP quarter quadrangle", "naip")
    return None


def find_product(path: str | Path, descriptions: Sequence[str | None] = ()) -> PresetProduct | None:
    """The one PlanetScope or NAIP product the file name or its folder's name gives; None
    where none is named or where they name two."""
    found = {named.identifier: named for text in name_texts(path) if (named := _named(text))}
    return only_one(found)


def product_reading(
    product: PresetProduct,
    path: str | Path,
    percentiles: Mapping[str, float],
    roles: Sequence[str] = (),
) -> ProductReading | None:
    """None where the preset's scaling holds (reflectance). Planet's radiance product is
    top-of-atmosphere reflectance with its metadata file beside it (each band's
    ``ps:reflectanceCoefficient``), else its values x 0.0001, uncalibrated."""
    if not product.radiance:
        return None
    name = f"PlanetScope radiance product {product.identifier} (named by the file)"
    found = _planet_coefficients(Path(path), product)
    if found is not None:
        metadata, coefficients = found
        bands = get_preset(product.preset).bands
        by_role = tuple(
            (band.role, coefficients[n], 0.0)
            for n, band in enumerate(bands, start=1)
            if band.role in roles and n in coefficients
        )
        mult = sum(m for _, m, _ in by_role) / max(len(by_role), 1)
        low, high = percentiles["p1"] * mult, percentiles["p99"] * mult
        if len(by_role) == len(roles) and plausible_reflectance(low, high):
            note = (
                f"{name}: {metadata.name}: top-of-atmosphere reflectance = DN x "
                "ps:reflectanceCoefficient, per band"
            )
            source = f"product {product.identifier}, metadata"
            return ProductReading(Scaling(mult, 0.0, True, source, note, by_role))
    note = (
        f"{name}: radiance x 100, not reflectance; read as value x {RADIANCE_SCALE:g}: band "
        "ratios and indices hold, thresholds adapt to the scene (put its metadata file, "
        "..._metadata.xml, beside it for top-of-atmosphere reflectance)"
    )
    return ProductReading(
        Scaling(RADIANCE_SCALE, 0.0, False, f"product {product.identifier}", note)
    )


def _planet_coefficients(
    path: Path, product: PresetProduct
) -> tuple[Path, dict[int, float]] | None:
    """The product's metadata file beside the raster and its reflectance coefficient per band
    number, or None. Read as data (XML elements and numbers), nothing evaluated."""
    scene = product.identifier.split("_3B_")[0]
    eight = "_8b" in product.identifier
    for folder in folders_beside(path):
        for metadata in sorted(folder.glob(f"{scene}_3B_AnalyticMS*metadata*.xml")):
            if ("_8b" in metadata.name) != eight or metadata.stat().st_size > METADATA_MAX_BYTES:
                continue
            try:
                root = ElementTree.parse(metadata).getroot()
            except (ElementTree.ParseError, OSError):
                continue
            coefficients = {}
            for element in root.iter():
                if element.tag.endswith("}bandSpecificMetadata"):
                    values = {child.tag.split("}")[-1]: (child.text or "") for child in element}
                    try:
                        number = int(values["bandNumber"])
                        coefficient = float(values["reflectanceCoefficient"])
                    except (KeyError, ValueError):
                        continue
                    if math.isfinite(coefficient) and coefficient > 0:
                        coefficients[number] = coefficient
            if coefficients:
                return metadata, coefficients
    return None
