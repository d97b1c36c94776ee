"""Whether a raster's reflective bands share one unit, as one scaling reads them all.

A stack built by hand can join bands of different units: reflectance x 10,000 beside
reflectance, digital numbers beside a float product (`gdalbuildvrt -separate` of two sources),
or a band given the wrong role (a thermal band's kelvins as SWIR2). One scaling then reads one
of them thousands of times too bright or too dark, and every index mixes the two: a stack of
three uint16 visible bands and a float NIR band mapped 18 % of a green scene as water and none
as vegetation. Reflective bands differ a few times at most: over the benchmark's 27 rasters
their 99th percentiles lie within 7.4x of each other (the bright NIR of vegetation against the
visible), over its 105 Landsat surface-reflectance rasters of a snowy time series within 18x
(snow's visible against its dark SWIR1); deep water, dark in SWIR, stays within a few tens.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from .averaged_bands import read_indexes
from .bands import BandMapping
from .nodata import valid_pixel_mask
from .reflectance import Scaling
from .roles import BAND_ROLES

#: The bands that reflect sunlight from the surface, read with one scaling. Cirrus, water
#: vapour and thermal bands see the atmosphere or emitted heat, so are left out.
REFLECTIVE_ROLES = tuple(r for r in BAND_ROLES if r not in ("watervapour", "cirrus", "thermal"))
#: How far apart two reflective bands' 99th percentiles may lie before they cannot be in one
#: unit. Mixed units differ by 255x (8 bits against reflectance), 1,000x or 10,000x (scaled
#: reflectance); the benchmark's bands by 7.4x at most (a snowy scene's 18x), deep water's SWIR
#: by a few tens. Percent beside reflectance (100x) passes: too near a dark band's own spread.
MAX_UNIT_RATIO = 200.0
#: Pixels of the sample the percentiles are taken on (every k-th valid one): cheap and stable.
CHECKED_PIXELS = 100_000


def check_one_unit(
    raw: np.ndarray,
    sampled: Sequence[int],
    mapping: BandMapping,
    scaling: Scaling,
    nodata: Sequence[float | None],
) -> None:
    """Raise `InputError` in one line where two reflective bands of the global sample `raw`
    (the 1-based bands `sampled`, in that order) are too far apart to share a unit once
    scaled. `nodata`: the dataset's per-band nodata values. A spectrometer's averaged roles
    are one instrument's bands: not checked."""
    if mapping.averaged:
        return
    roles = [r for r in mapping.present_roles() if r in REFLECTIVE_ROLES]
    if len(roles) < 2:
        return
    band_of = {r: read_indexes(mapping, [r])[0] for r in roles}
    scaled = scaled_sample(raw, sampled, [band_of[r] for r in roles], roles, scaling, nodata)
    if len(scaled[0]) < 100:
        return
    p99 = {}
    for role, values in zip(roles, scaled, strict=True):
        level = float(np.percentile(values, 99))
        if level > 0:  # a band dark on nearly every pixel (deep water's SWIR) says nothing
            p99[role] = level
    if len(p99) < 2:
        return
    high, low = max(p99, key=p99.get), min(p99, key=p99.get)
    ratio = p99[high] / p99[low]
    if ratio > MAX_UNIT_RATIO:
        raise InputError(
            f"The bands are not in one unit: {low} (band {band_of[low]}) reaches "
            f"{p99[low]:.3g} where {high} (band {band_of[high]}) reaches {p99[high]:.3g} "
            f"(99th percentiles, {ratio:,.0f}x apart; reflective bands differ a few times at "
            "most); check --bands, or stack bands of one unit (gdal_translate -scale)"
        )


def scaled_sample(
    raw: np.ndarray,
    sampled: Sequence[int],
    bands: Sequence[int],
    roles: Sequence[str],
    scaling: Scaling,
    nodata: Sequence[float | None],
) -> list[np.ndarray]:
    """The 1-based `bands` of the global sample `raw` (of the bands `sampled`), each scaled as
    the role of `roles` beside it, at the pixels valid in all of them (every k-th of those, at
    most about `CHECKED_PIXELS`). `nodata`: the dataset's per-band nodata values."""
    rows = raw[[sampled.index(b) for b in bands]].reshape(len(bands), -1)
    pixels = np.flatnonzero(valid_pixel_mask(rows, [nodata[b - 1] for b in bands]))
    pixels = pixels[:: max(1, len(pixels) // CHECKED_PIXELS)]
    return [scaling.apply(rows[k][pixels], role) for k, role in enumerate(roles)]
