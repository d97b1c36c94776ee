"""The 3-channel input of the SPEX vision tower: true colour, one global stretch per raster.

The released weights were trained on 8-bit RGB tiles (NAIP, Gaofen-2, WorldView-3 and
Sentinel-2 true colour). We make the same kind of image from the ``red``, ``green`` and
``blue`` band roles with ONE linear stretch per raster, fitted on the global sample (the
strided read of the whole raster), never per tile, so a pixel's colour does not depend on the
tile that holds it:

- per band, the 2 % and 98 % percentiles of the sample's valid reflectance map to 0 and 255
  (QGIS's default "cumulative count cut" for multiband colour), clipped, rounded to 8 bits;
- nodata pixels are black (0, 0, 0) and are flagged separately; they never reach the outputs.

The model then sees ``value / 255`` normalised with ImageNet statistics, like the published
preprocessing of its PNG tiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import BandError

RGB_ROLES = ("red", "green", "blue")
#: Cumulative cut of the stretch, in percent (low, high).
CUT_PERCENT = (2.0, 98.0)


@dataclass(frozen=True)
class TrueColourStretch:
    """Per-band linear stretch of reflectance to 0..255, fitted once per raster."""

    low: tuple[float, float, float]
    high: tuple[float, float, float]
    cut_percent: tuple[float, float] = CUT_PERCENT

    def apply(self, bands: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Bands (NaN = nodata) -> (uint8 RGB (H, W, 3), valid mask (H, W))."""
        stack = np.stack([bands[role] for role in RGB_ROLES], axis=-1).astype(np.float32)
        valid = np.isfinite(stack).all(axis=-1)
        low = np.asarray(self.low, dtype=np.float32)
        span = np.maximum(np.asarray(self.high, dtype=np.float32) - low, 1e-12)
        scaled = np.clip((np.nan_to_num(stack, nan=0.0) - low) / span, 0.0, 1.0) * 255.0
        rgb = np.rint(scaled).astype(np.uint8)
        rgb[~valid] = 0
        return rgb, valid

    def to_dict(self) -> dict[str, object]:
        """For the manifest."""
        return {
            "roles": list(RGB_ROLES),
            "cut_percent": list(self.cut_percent),
            "low": [round(v, 6) for v in self.low],
            "high": [round(v, 6) for v in self.high],
        }


def check_rgb_roles(roles: tuple[str, ...] | list[str]) -> None:
    """Raise a `BandError` unless red, green and blue are all mapped."""
    missing = [r for r in RGB_ROLES if r not in roles]
    if missing:
        raise BandError(
            f"The SPEX model needs true colour, but band role(s) {', '.join(missing)} are not "
            "mapped; name them with --bands (e.g. --bands blue,green,red,nir) or --sensor."
        )


def fit_stretch(sample: dict[str, np.ndarray]) -> TrueColourStretch:
    """The global stretch from the sample's valid pixels (1-D reflectance per role)."""
    check_rgb_roles(tuple(sample))
    low, high = [], []
    for role in RGB_ROLES:
        values = np.asarray(sample[role], dtype=np.float64)
        values = values[np.isfinite(values)]
        if values.size == 0:
            low.append(0.0)
            high.append(1.0)
            continue
        lo, hi = np.percentile(values, CUT_PERCENT)
        if hi <= lo:  # a constant band: keep it mid-grey rather than dividing by zero
            lo, hi = float(lo) - 0.5, float(lo) + 0.5
        low.append(float(lo))
        high.append(float(hi))
    return TrueColourStretch(tuple(low), tuple(high))  # type: ignore[arg-type]
