"""The input scene in true colour or false-colour near infrared, from its band roles.

QGIS shows a multiband raster as bands 1-2-3, which for a 13-band Sentinel-2 L1C is coastal,
blue and green: a dark false colour. The band roles the dock already knows pick the right ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from qgis.core import QgsContrastEnhancement, QgsMultiBandColorRenderer, QgsRasterLayer

#: Composite name -> the roles shown as red, green, blue.
COMPOSITES: dict[str, tuple[str, str, str]] = {
    "true colour": ("red", "green", "blue"),
    "false colour": ("nir", "red", "green"),  # near infrared as red: vegetation shows red
}
#: Share of the histogram clipped at each end (2 % - 98 % cumulative cut).
CUT = (0.02, 0.98)
#: Pixels sampled per band for the stretch.
SAMPLE_SIZE = 250_000


def composite_bands(roles: Sequence[str | None], name: str) -> tuple[int, int, int]:
    """The 1-based bands shown as red, green, blue; ValueError names a missing role."""
    wanted = COMPOSITES[name]
    missing = [role for role in wanted if role not in roles]
    if missing:
        raise ValueError(f"{name} needs a {' and a '.join(missing)} band; set the band roles first")
    red, green, blue = (roles.index(role) + 1 for role in wanted)
    return red, green, blue


def show_composite(layer: QgsRasterLayer, roles: Sequence[str | None], name: str) -> None:
    """Render `layer` as composite `name` with a 2-98 % stretch per band."""
    bands = composite_bands(roles, name)
    provider = layer.dataProvider()
    renderer = QgsMultiBandColorRenderer(provider, *bands)
    setters = (
        renderer.setRedContrastEnhancement,
        renderer.setGreenContrastEnhancement,
        renderer.setBlueContrastEnhancement,
    )
    for band, setter in zip(bands, setters, strict=True):
        low, high = provider.cumulativeCut(band, CUT[0], CUT[1], layer.extent(), SAMPLE_SIZE)
        stretch = QgsContrastEnhancement(provider.dataType(band))
        stretch.setContrastEnhancementAlgorithm(
            QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum, False
        )
        stretch.setMinimumValue(low)
        stretch.setMaximumValue(high)
        setter(stretch)
    layer.setRenderer(renderer)
    layer.triggerRepaint()
