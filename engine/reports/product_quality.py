"""The result against the product's own per-pixel quality flags, where the product has them
(Landsat's QA_PIXEL, HLS's Fmask, Sentinel-2 L2A's SCL, L1C's MSK_CLASSI or MSK_CLOUDS,
PlanetScope's UDM2: `raster.quality_bands`).

They are an independent reading of the same pixels: after the run, the class raster is
compared with them, window by window, each of its pixels with the flag's pixel under its
centre, and the explanation says how much of each target the product flags as cloud, cloud
shadow, snow or water, and how much of what the product flags as water, snow or cloud the
result has. Cloud shadows mapped as water, the classic error of a water map, show here.
Nothing of the result is changed (``--mask-clouds`` hides the flagged clouds before the run:
`raster.cloud_masking`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import rasterio
from rasterio.windows import Window

from ..raster.quality_bands import (
    MADE_BY,
    ROWS,
    flag_names,
    flagged,
    has_data,
    open_quality_band,
    quality_band_of,
    same_ground,
    values_under,
)

#: The flags that stand for a target of the same name.
TARGET_FLAGS = ("water", "snow", "cloud")


@dataclass
class QualityComparison:
    """How the product's flags fall on the result (pixel counts over the result's valid pixels).

    Attributes:
        band: The quality band's file name.
        kind: ``"QA_PIXEL"``, ``"Fmask"``, ``"SCL"``, ``"CLASSI"``, ``"MSK_CLOUDS"`` or ``"UDM2"``.
        target_pixels: Per target, its pixels in the result.
        flagged: Per target, per flag, its pixels the product flags so.
        flag_pixels: Per flag, the valid pixels the product flags so.
    """

    band: str
    kind: str
    target_pixels: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, dict[str, int]] = field(default_factory=dict)
    flag_pixels: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for run.json."""
        return asdict(self)


def compare_with_quality_band(
    input_name: str, mask_path: Path, targets: tuple[str, ...]
) -> QualityComparison | None:
    """The result in `mask_path` (classes 1..N of `targets`) against the quality band of the
    product `input_name` names, each result pixel against the flag under its centre; None
    where the product has none, or it lies in another CRS or on another lattice."""
    found = quality_band_of(input_name)
    if found is None:
        return None
    band_path, kind = found
    names = flag_names(kind)
    with open_quality_band(band_path, kind) as quality, rasterio.open(mask_path) as mask:
        if quality.crs != mask.crs or not same_ground(quality, mask):
            return None
        n = len(targets)
        counts = np.zeros((n + 1, len(names) + 1), dtype=np.int64)  # class x (all, each flag)
        for row in range(0, mask.height, ROWS):
            window = Window(0, row, mask.width, min(ROWS, mask.height - row))
            classes = mask.read(1, window=window)
            values = values_under(quality, mask, window).astype(np.int64)
            valid = (classes <= n) & has_data(kind, values)
            counts[:, 0] += np.bincount(classes[valid].astype(np.int64), minlength=n + 1)
            for j, flag in enumerate(names, start=1):
                marked = valid & flagged(kind, values, flag)
                counts[:, j] += np.bincount(classes[marked].astype(np.int64), minlength=n + 1)
    return QualityComparison(
        band=PurePosixPath(band_path).name,
        kind=kind,
        target_pixels={t: int(counts[i, 0]) for i, t in enumerate(targets, start=1)},
        flagged={
            t: {f: int(counts[i, j]) for j, f in enumerate(names, start=1)}
            for i, t in enumerate(targets, start=1)
        },
        flag_pixels={f: int(counts[:, j].sum()) for j, f in enumerate(names, start=1)},
    )


def quality_lines(check: QualityComparison, titles: dict[str, str]) -> list[str]:
    """The explanation's section on the comparison (`titles`: each target as the plan names
    it)."""
    names = flag_names(check.kind)
    source = MADE_BY[check.kind]
    lines = [
        "## Against the product's own quality band",
        "",
        f"`{check.band}`, the product's per-pixel flags ({source}), over the result's pixels: "
        "how much of each target the product flags so.",
        "",
        "| target | pixels | " + " | ".join(f"flagged {f}" for f in names) + " |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for target, pixels in check.target_pixels.items():
        shares = [_share(check.flagged[target][f], pixels) for f in names]
        lines.append(f"| {titles[target]} | {pixels:,} | " + " | ".join(shares) + " |")
    lines.append("")
    for flag in TARGET_FLAGS:
        if flag in check.target_pixels and check.flag_pixels.get(flag):
            found = check.flagged[flag][flag]
            lines.append(
                f"- Of the {check.flag_pixels[flag]:,} pixels the product flags {flag}, "
                f"{_share(found, check.flag_pixels[flag])} are in the {titles[flag]} result."
            )
    return [*lines, ""] if lines[-1] else lines


def quality_caveats(check: QualityComparison, titles: dict[str, str]) -> list[str]:
    """Caveats where the product flags a notable share of a target as cloud or cloud shadow."""
    caveats = []
    for target, pixels in check.target_pixels.items():
        if target == "cloud" or not pixels:
            continue
        for flag in ("cloud shadow", "cloud"):
            if flag not in check.flagged[target]:
                continue  # a band that does not flag it (Level-1C: no shadows)
            share = check.flagged[target][flag] / pixels
            if share >= 0.05:
                caveats.append(
                    f"{titles[target]}: the product's own quality band flags {share:.0%} of it as "
                    f"{flag} ({check.band}); check those pixels against the image."
                )
    return caveats


def _share(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "-"
