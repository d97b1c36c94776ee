"""File names that say which sensor, hence which band order, a raster without band names has:
PlanetScope and NAIP.

Planet delivers PlanetScope scenes as ``20221011_102457_38_2461_3B_AnalyticMS_SR_8b_harmonized_clip.tif``
(acquisition date and time, satellite, level 3B, then the product: ``AnalyticMS`` radiance x 100,
``_SR`` surface reflectance x 10000, ``_8b`` eight bands instead of four), and USDA its NAIP
quarter quadrangles as ``m_3807537_ne_18_060_20180827.tif`` (red, green, blue, NIR; 8-bit).
Neither carries band descriptions, so without the name such a raster needs ``--sensor``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .reflectance import ProductReading, Scaling

PLANETSCOPE_NAME = re.compile(
    r"(?<![A-Za-z0-9])\d{8}_\d{6}(?:_\d{2})?_[0-9a-f]{4}_3B_AnalyticMS(_SR)?(_8b)?"
    r"(?:_harmonized)?(?:_clip)?(?![A-Za-z0-9])"
)
NAIP_NAME = re.compile(r"(?<![A-Za-z0-9])m_\d{7}_(?:ne|nw|se|sw)_\d{2}_\d{3}_\d{8}(?![0-9])")
#: PlanetScope's radiance product stores radiance x 100 (W m-2 sr-1 um-1).
RADIANCE_SCALE = 1e-4


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
    p = Path(path)
    found = {named.identifier: named for text in (p.name, p.parent.name) if (named := _named(text))}
    return next(iter(found.values())) if len(found) == 1 else None


def product_reading(
    product: PresetProduct,
    path: str | Path,
    percentiles: Mapping[str, float],
    roles: Sequence[str] = (),
) -> ProductReading | None:
    """None where the preset's scaling holds (reflectance); for Planet's radiance product, its
    values x 0.0001, uncalibrated: radiance keeps band ratios but is no reflectance."""
    if not product.radiance:
        return None
    note = (
        f"PlanetScope radiance product {product.identifier} (named by the file): radiance x 100, "
        f"not reflectance; read as value x {RADIANCE_SCALE:g}: band ratios and indices hold, "
        "thresholds adapt to the scene (its _SR product is surface reflectance)"
    )
    return ProductReading(
        Scaling(RADIANCE_SCALE, 0.0, False, f"product {product.identifier}", note)
    )
