"""Roles read as the mean of several bands (`BandMapping.averaged`).

An imaging spectrometer (EnMAP, PRISMA, DESIS, AVIRIS) has several narrow bands within
`band_names.SPECTROMETER_TOLERANCE_NM` of a role's centre; the role is read as their mean, as
a multispectral band integrates its width: less noise than one narrow band, and one striped or
noisy band does not decide a class. Where one of them is nodata (a dead detector element, the
edge of the other detector's swath), the mean of the others stands. Every read of a raster's
roles (windows, the global sample, a model's resampled windows) goes through here, so a pixel
reads the same whichever of them reads it. Without averaged roles, nothing changes: the role
bands are read as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .band_names import SPECTROMETER_TOLERANCE_NM
from .bands import BandMapping

#: What an explanation says of averaged roles.
AVERAGED_NOTE = (
    f"a role of several bands within {SPECTROMETER_TOLERANCE_NM:g} nm of its centre is read as "
    "their mean (as a multispectral band integrates its width: less noise than one narrow band)"
)


def read_indexes(mapping: BandMapping, roles: Sequence[str]) -> list[int]:
    """The 1-based bands to read for `roles`: one per role in the order of `roles`, or, where
    a role is averaged, every band of every role in raster order, each once."""
    if not any(mapping.carrier(role) in dict(mapping.averaged) for role in roles):
        return [mapping.bands_of(role)[0] + 1 for role in roles]
    return sorted({i + 1 for role in roles for i in mapping.bands_of(role)})


def role_rows(
    raw: np.ndarray,
    indexes: Sequence[int],
    mapping: BandMapping,
    roles: Sequence[str],
    valid_of: Callable[[list[int]], np.ndarray],
) -> np.ndarray:
    """One row per role of `roles` from `raw` (bands, ...), the bands `indexes` as
    `read_indexes` gave them: `raw` itself where no role is averaged; otherwise float32 rows,
    an averaged role the mean of its bands valid at the pixel (`valid_of(rows)`: where each of
    those rows of `raw` is valid), NaN where none is, a role of one band NaN where it is not
    valid. One role's bands at a time: a spectrometer's sample is large."""
    if len(indexes) == len(roles) and all(len(mapping.bands_of(role)) == 1 for role in roles):
        return raw
    position = {band: k for k, band in enumerate(indexes)}
    out = np.empty((len(roles), *raw.shape[1:]), dtype=np.float32)
    for k, role in enumerate(roles):
        rows = [position[i + 1] for i in mapping.bands_of(role)]
        good = valid_of(rows)
        every = good.all(axis=0)
        if np.array_equal(every, good.any(axis=0)):  # no pixel valid in some bands only
            out[k] = raw[rows].mean(axis=0, dtype=np.float64)
            out[k][~every] = np.nan
            continue
        count = good.sum(axis=0)
        total = np.where(good, raw[rows], 0).sum(axis=0, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[k] = np.where(count > 0, total / count, np.nan)
    return out


def band_numbers(bands: Sequence[int]) -> str:
    """0-based `bands` as a reader counts them: ``band 72``, ``mean of bands 71-73``,
    ``mean of bands 84-86, 95-97``."""
    numbers = sorted(i + 1 for i in bands)
    if len(numbers) == 1:
        return f"band {numbers[0]}"
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    spans = (f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
    return f"mean of bands {', '.join(spans)}"
