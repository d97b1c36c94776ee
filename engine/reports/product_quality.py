"""The result against the product's own per-pixel quality flags, where the product has them.

A Landsat Collection 2 product carries ``QA_PIXEL`` (CFMask's cloud, cloud shadow, snow and
water bits) beside its band files; an HLS granule its ``Fmask``. They are an independent
reading of the same pixels: after the run, the class raster is compared with them, window by
window on the product's own grid, and the explanation says how much of each target the product
flags as cloud, cloud shadow, snow or water, and how much of what the product flags as water,
snow or cloud the result has. Cloud shadows mapped as water, the classic error of a water map,
show here. Nothing of the result is changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from ..raster.hls_granules import HLS_BAND_FILE, granule_name
from ..raster.landsat_folders import identifier

#: Each quality band's flags compared (bit masks): Landsat Collection 2's QA_PIXEL and HLS v2.0's
#: Fmask, as their product guides define them.
FLAGS = {
    "QA_PIXEL": {"cloud": 1 << 3, "cloud shadow": 1 << 4, "snow": 1 << 5, "water": 1 << 7},
    "Fmask": {"cloud": 1 << 1, "cloud shadow": 1 << 3, "snow": 1 << 4, "water": 1 << 5},
}


def _unflagged_fill(kind: str, bits: np.ndarray) -> np.ndarray:
    """Where the quality band has data: QA_PIXEL's fill bit (0) unset; Fmask not 255."""
    return (bits & 1) == 0 if kind == "QA_PIXEL" else bits != 255


#: The target each flag stands for, where one does.
FLAG_TARGETS = {"water": "water", "snow": "snow", "cloud": "cloud"}
#: Rows read at a time.
ROWS = 512


@dataclass
class QualityComparison:
    """How the product's flags fall on the result (pixel counts over the result's valid pixels).

    Attributes:
        band: The quality band's file name.
        kind: ``"QA_PIXEL"`` or ``"Fmask"``.
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
        return {
            "band": self.band,
            "kind": self.kind,
            "target_pixels": self.target_pixels,
            "flagged": self.flagged,
            "flag_pixels": self.flag_pixels,
        }


def quality_band_of(input_name: str) -> tuple[Path, str] | None:
    """The quality band of the product the input names (its folder, MTL or a file named by
    it: ``<identifier>_QA_PIXEL.TIF``, ``<granule>.Fmask.tif`` in the same folder), and its
    kind; None where there is none."""
    path = Path(input_name)
    folder = path if path.is_dir() else path.parent
    if not folder.is_dir():
        return None
    names = {f.name.upper(): f for f in folder.iterdir() if f.is_file()}
    landsat = identifier(path.name)
    if landsat and (found := names.get(f"{landsat}_QA_PIXEL.TIF")):
        return found, "QA_PIXEL"
    granules = [granule_name(path.name)] if granule_name(path.name) else []
    if path.is_dir():
        granules = sorted({m.group(1) for n in names if (m := HLS_BAND_FILE.match(n))})
    if len(granules) == 1 and (found := names.get(f"{granules[0]}.FMASK.TIF".upper())):
        return found, "Fmask"
    return None


def compare_with_quality_band(
    input_name: str,
    dataset: rasterio.DatasetReader,
    area: Window,
    mask_path: Path,
    targets: tuple[str, ...],
) -> QualityComparison | None:
    """The result in `mask_path` (classes 1..N of `targets` over `area` of `dataset`) against
    the product's quality band, read on the same grid; None where the product has none, or it
    lies on another grid."""
    found = quality_band_of(input_name)
    if found is None:
        return None
    band_path, kind = found
    flags = FLAGS[kind]
    with rasterio.open(band_path) as quality, rasterio.open(mask_path) as mask:
        same_grid = (
            quality.crs == dataset.crs
            and quality.transform == dataset.transform
            and (quality.width, quality.height) == (dataset.width, dataset.height)
        )
        if not same_grid:
            return None
        n = len(targets)
        counts = np.zeros((n + 1, len(flags) + 1), dtype=np.int64)  # class x (all, each flag)
        for row in range(0, mask.height, ROWS):
            rows = min(ROWS, mask.height - row)
            classes = mask.read(1, window=Window(0, row, mask.width, rows))
            bits = quality.read(
                1, window=Window(area.col_off, area.row_off + row, mask.width, rows)
            ).astype(np.int64)
            valid = (classes <= n) & _unflagged_fill(kind, bits)
            labels = classes[valid].astype(np.int64)
            counts[:, 0] += np.bincount(labels, minlength=n + 1)
            for j, bit in enumerate(flags.values(), start=1):
                marked = valid & ((bits & bit) != 0)
                counts[:, j] += np.bincount(classes[marked].astype(np.int64), minlength=n + 1)
    names = list(flags)
    return QualityComparison(
        band=band_path.name,
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
    names = list(FLAGS[check.kind])
    source = "CFMask's" if check.kind == "QA_PIXEL" else "Fmask's"
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
    for flag, target in FLAG_TARGETS.items():
        if target in check.target_pixels and check.flag_pixels[flag]:
            found = check.flagged[target][flag]
            lines.append(
                f"- Of the {check.flag_pixels[flag]:,} pixels the product flags {flag}, "
                f"{_share(found, check.flag_pixels[flag])} are in the {titles[target]} result."
            )
    return [*lines, ""] if lines[-1] else lines


def quality_caveats(check: QualityComparison, titles: dict[str, str]) -> list[str]:
    """Caveats where the product flags a notable share of a target as cloud or cloud shadow."""
    caveats = []
    for target, pixels in check.target_pixels.items():
        if target == "cloud" or not pixels:
            continue
        for flag in ("cloud shadow", "cloud"):
            share = check.flagged[target][flag] / pixels
            if share >= 0.05:
                caveats.append(
                    f"{titles[target]}: the product's own quality band flags {share:.0%} of it as "
                    f"{flag} ({check.band}); check those pixels against the image."
                )
    return caveats


def _share(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "-"
