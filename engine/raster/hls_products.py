"""HLS product names: which sensor's bands a Harmonized Landsat Sentinel-2 file carries.

NASA's HLS v2.0 products are named ``HLS.L30.T10SEG.2021162T184919.v2.0`` (Landsat 8/9 OLI)
and ``HLS.S30.T10SEG.2021163T185919.v2.0`` (Sentinel-2 MSI), with one file per band
(``...v2.0.B05.tif``). Both number their bands as Sentinel-2 does, but L30's ``B05`` is OLI's
NIR and its ``B06``/``B07`` the SWIR bands, where Sentinel-2 has red edges: without the name,
an L30 stack reads as Sentinel-2, NIR and SWIR lost. Every band is surface reflectance
x 10000, with none of the 1000 that recent Sentinel-2 products add.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .product_files import name_texts, only_one
from .reflectance import (
    PRESET_MIN_P99,
    ProductReading,
    Scaling,
    plausible_reflectance,
)

HLS_NAME = re.compile(
    r"(?<![A-Z0-9])HLS\.(L30|S30)\.T\d{2}[A-Z]{3}\.\d{7}T\d{6}\.V(\d+\.\d+)(?![0-9])"
)
SCALE = 1e-4
_SENSORS = {"L30": "Landsat 8/9 OLI", "S30": "Sentinel-2 MSI"}


@dataclass(frozen=True)
class HlsProduct:
    """An HLS product name and what it says: the product (L30, S30) and its version."""

    identifier: str
    product: str
    version: str

    @property
    def label(self) -> str:
        """What an analyst reads: ``HLS L30 v2.0 (Landsat 8/9 OLI)``."""
        return f"HLS {self.product} v{self.version} ({_SENSORS[self.product]})"

    @property
    def preset(self) -> str:
        """The sensor preset of the product's band names (``hls_l30``, ``hls_s30``)."""
        return f"hls_{self.product.lower()}"


def find_product(path: str | Path, descriptions: Sequence[str | None] = ()) -> HlsProduct | None:
    """The one HLS product the file name, its folder's name or the band descriptions name;
    None where none is named or where they name two (a stack of two dates or both sensors)."""
    found = {}
    for text in name_texts(path, descriptions):
        for m in HLS_NAME.finditer(text.upper()):
            identifier = text[m.start() : m.end()]  # as written: ``v2.0``
            found[identifier.upper()] = HlsProduct(identifier, m.group(1), m.group(2))
    return only_one(found)


def product_reading(
    product: HlsProduct,
    path: str | Path,
    percentiles: Mapping[str, float],
    roles: Sequence[str] = (),
) -> ProductReading:
    """Reflectance x 10000 for every band, if the values of the raster at `path` fit it."""
    p1, p99 = float(percentiles["p1"]), float(percentiles["p99"])
    name = f"{product.label} product {product.identifier} (named by the file)"
    if not plausible_reflectance(p1 * SCALE, p99 * SCALE, PRESET_MIN_P99):
        return ProductReading(
            None, f"{name}: its values (p1 {p1:g}, p99 {p99:g}) are not its reflectance x 10000; "
        )
    how = f"surface reflectance = DN x {SCALE:g}, nothing added"
    return ProductReading(
        Scaling(SCALE, 0.0, True, f"product {product.identifier}", f"{name}: {how}")
    )
