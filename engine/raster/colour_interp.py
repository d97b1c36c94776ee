"""Band roles from a raster's colour interpretation, where nothing else names its bands.

Orthophotos, drone mosaics, web-map exports and screenshots of a map carry no band
descriptions, but GDAL records what each band is shown as: TIFF's ``PHOTOMETRIC=RGB``, a
JPEG-compressed TIFF's YCbCr decoded to RGB, PNG and JPEG files. When those say red, green and
blue, each once (and at most a transparency band beside them), the image is true colour.

A colour-infrared (CIR) aerial image is stored the same way, its near-infrared band shown as
red: the colour interpretation cannot tell, so the run says so (`CIR_HINT`).
"""

from __future__ import annotations

from collections.abc import Sequence

#: Colour interpretations (GDAL's names, any case; rasterio's ``ColorInterp`` names) -> roles.
COLOUR_ROLES = {"red": "red", "green": "green", "blue": "blue"}
#: A transparency mask, not an image band: it takes no role.
MASK_COLOURS = frozenset({"alpha"})

#: What an analyst is told wherever roles came from the colour interpretation.
CIR_HINT = (
    "the band roles come from the file's colour interpretation (red, green, blue); a "
    "colour-infrared (CIR) image is stored the same way: if its first band is near-infrared, "
    "give --bands nir,red,green"
)


def roles_from_colour(colours: Sequence[str | None]) -> tuple[str | None, ...] | None:
    """One role per band from the bands' colour interpretations, or ``None`` unless they are
    exactly red, green and blue (in any order), each once, beside at most transparency bands.

    A fourth band of another kind (NAIP's near-infrared is "undefined") gives ``None``: the
    image is not true colour alone, and guessing that band would be worse than asking.
    """
    names = [(c or "").strip().lower() for c in colours]
    roles = tuple(COLOUR_ROLES.get(name) for name in names)
    if sorted(role for role in roles if role) != ["blue", "green", "red"]:
        return None
    if any(
        role is None and name not in MASK_COLOURS for role, name in zip(roles, names, strict=True)
    ):
        return None
    return roles
