"""Bands with a role that lack data where the other bands have it.

A pixel is valid only where every band with a role is (`nodata.valid_pixel_mask`): a spectrum
with a band missing is not one the scene model knows. So a band that holds its nodata over
part of the raster where the others hold data (a stack of sources with different footprints,
a band of one granule beside bands of a mosaic, a swath edge, real 0s read as a declared
nodata of 0) takes those pixels out of every class, silently: a Sentinel-2 scene whose SWIR1
was missing over 70 % of it mapped 1.28 ha of water instead of 766. A band missing on every
pixel is read as absent instead (`dead_bands`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: Pixels of the sample's nodata examined (every k-th): the shares are stable well below this.
CHECKED_PIXELS = 100_000
#: Share of the raster above which a gap is said. No band of the benchmark's 235 multispectral
#: rasters (its 33 scenes) makes 0.05 % of its raster nodata alone.
GAP_CAVEAT_SHARE = 0.001


@dataclass(frozen=True)
class BandGap:
    """A band with a role that alone makes part of the raster nodata."""

    band: int  # 1-based
    role: str
    share: float  # of the sample: nodata only for want of this band
    value: float  # the band's commonest raw value there (NaN for a float NaN)

    def short(self) -> str:
        """The gap in one clause, for the run's summary and `spex inspect`."""
        return (
            f"Band {self.band} ({self.role}) holds no data on {self.share:.1%} of the raster "
            "where the other bands do: those pixels are in no class"
        )

    def note(self) -> str:
        """The caveat the explanation gives, with the two fixes."""
        declared = not np.isnan(self.value)
        held = f"its nodata value, {self.value:g}," if declared else "no finite value (NaN)"
        text = (
            f"Band {self.band} ({self.role}) holds {held} on about {self.share:.1%} of the "
            "raster where the other bands hold data: those pixels are in no class. To classify "
            f"them without it, mark band {self.band} unused ('-' in --bands or Band roles)"
        )
        if declared:
            text += (
                f"; where its {self.value:g}s there are real values (water is dark in the "
                "infrared), declare another nodata value (gdal_edit.py -a_nodata VALUE)"
            )
        return text + "."

    def as_dict(self) -> dict[str, object]:
        """The gap as run.json records it."""
        value = None if np.isnan(self.value) else self.value
        return {"band": self.band, "role": self.role, "share": self.share, "value": value}


def band_gaps(
    raw: np.ndarray,
    valid: np.ndarray,
    roles: Sequence[str],
    bands: Sequence[int],
    valid_of: Callable[[np.ndarray, Sequence[str]], np.ndarray],
) -> tuple[BandGap, ...]:
    """The role bands of the sample `raw` (one row per role of `roles`, read from the 1-based
    `bands`) without which the sample's nodata pixels (`~valid`) would be valid, each with its
    share of the sample. `valid_of(rows, roles)`: the validity rule the run reads pixels by."""
    if len(roles) < 2:
        return ()
    invalid = np.flatnonzero(~valid.reshape(-1))
    if len(invalid) == 0:
        return ()
    step = max(1, len(invalid) // CHECKED_PIXELS)
    rows = raw.reshape(len(roles), -1)[:, invalid[::step]]
    gaps = []
    for k, role in enumerate(roles):
        others = [i for i in range(len(roles)) if i != k]
        recovered = valid_of(rows[others], [roles[i] for i in others])
        if not recovered.any():
            continue
        values, counts = np.unique(rows[k][recovered], return_counts=True)
        share = float(recovered.sum()) * step / valid.size
        gaps.append(BandGap(bands[k], role, share, float(values[np.argmax(counts)])))
    return tuple(gaps)


def gaps_to_say(gaps: Sequence[BandGap]) -> list[BandGap]:
    """The `gaps` large enough to say (`GAP_CAVEAT_SHARE`): the summary, the explanation and
    `spex inspect` say the same ones."""
    return [gap for gap in gaps if gap.share >= GAP_CAVEAT_SHARE]
