"""The result against the product's own per-pixel quality flags, where the product has them.

A Landsat Collection 2 product carries ``QA_PIXEL`` (CFMask's cloud, cloud shadow, snow and
water bits) beside its band files; an HLS granule its ``Fmask``; a Sentinel-2 Level-2A product
its scene classification ``SCL`` (20 m). They are an independent reading of the same pixels:
after the run, the class raster is compared with them, window by window, each of its pixels
with the flag's pixel under its centre, and the explanation says how much of each target the product
flags as cloud, cloud shadow, snow or water, and how much of what the product flags as water,
snow or cloud the result has. Cloud shadows mapped as water, the classic error of a water map,
show here. Nothing of the result is changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import rasterio
from rasterio.windows import Window

from ..raster.hls_granules import granule_name, granules_in
from ..raster.landsat_folders import identifier
from ..raster.product_files import ARCHIVE_SUFFIXES, archive_members, safe_path
from ..raster.sentinel2_layers import LAYER

#: Each quality band's flags compared, as their product guides define them: bit masks of
#: Landsat Collection 2's QA_PIXEL and HLS v2.0's Fmask.
FLAGS = {
    "QA_PIXEL": {"cloud": 1 << 3, "cloud shadow": 1 << 4, "snow": 1 << 5, "water": 1 << 7},
    "Fmask": {"cloud": 1 << 1, "cloud shadow": 1 << 3, "snow": 1 << 4, "water": 1 << 5},
}
#: Sentinel-2 L2A's scene classification values per flag (cloud: medium and high probability
#: and thin cirrus).
SCL_CLASSES = {"cloud": (8, 9, 10), "cloud shadow": (3,), "snow": (11,), "water": (6,)}
#: Which product's algorithm each kind of band holds.
MADE_BY = {"QA_PIXEL": "CFMask's", "Fmask": "Fmask's", "SCL": "Sen2Cor's scene classification"}


def flag_names(kind: str) -> list[str]:
    """The flags a kind of quality band is compared on, in order."""
    return list(SCL_CLASSES if kind == "SCL" else FLAGS[kind])


def _flagged(kind: str, values: np.ndarray, flag: str) -> np.ndarray:
    """Where the quality band's `values` say `flag`."""
    if kind == "SCL":
        return np.isin(values, SCL_CLASSES[flag])
    return (values & FLAGS[kind][flag]) != 0


def _has_data(kind: str, values: np.ndarray) -> np.ndarray:
    """Where the quality band has data: QA_PIXEL's fill bit (0) unset; Fmask not 255; SCL not
    0 (no data) or 1 (saturated or defective)."""
    if kind == "QA_PIXEL":
        return (values & 1) == 0
    return values != 255 if kind == "Fmask" else values > 1


#: The flags that stand for a target of the same name.
TARGET_FLAGS = ("water", "snow", "cloud")
#: Rows read at a time.
ROWS = 512


@dataclass
class QualityComparison:
    """How the product's flags fall on the result (pixel counts over the result's valid pixels).

    Attributes:
        band: The quality band's file name.
        kind: ``"QA_PIXEL"``, ``"Fmask"`` or ``"SCL"``.
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


def quality_band_of(input_name: str) -> tuple[str, str] | None:
    """The quality band of the product the input names, and its kind: a Landsat product's
    ``<identifier>_QA_PIXEL.TIF`` or an HLS granule's ``<granule>.Fmask.tif`` in its folder
    (given, or of the file given, or in its .tar), a Sentinel-2 L2A product's SCL, as GDAL
    names the file; None where there is none."""
    scl = _scene_classification(input_name)
    if scl is not None:
        return str(scl), "SCL"
    path = Path(input_name)
    folder = path if path.is_dir() else path.parent
    landsat, granule = identifier(path.name), granule_name(path.name)
    if not folder.is_dir() or not (landsat or granule or path.is_dir()):
        return None  # a file named by no product: its folder is not listed
    if path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES):  # a Landsat .tar
        files = archive_members(path)
    else:
        files = [str(f) for f in folder.iterdir() if f.is_file()]
    names = {PurePosixPath(f).name.upper(): f for f in files}
    if landsat and (found := names.get(f"{landsat}_QA_PIXEL.TIF")):
        return found, "QA_PIXEL"
    granules = granules_in(names) if path.is_dir() else [granule] if granule else []
    if len(granules) == 1 and (found := names.get(f"{granules[0]}.FMASK.TIF".upper())):
        return found, "Fmask"
    return None


def _scene_classification(input_name: str) -> Path | None:
    """A Sentinel-2 L2A product's SCL file (its .SAFE folder, its MTD_MSIL2A.xml, or a layer
    QGIS lists for it: ``SENTINEL2_L2A:<MTD>:10m:EPSG_32633``), or None."""
    layer = LAYER.match(input_name)
    name = layer.group(2) if layer else input_name
    safe = safe_path(Path(name))
    if safe is None or not safe.is_dir():
        return None
    found = sorted(safe.glob("GRANULE/*/IMG_DATA/R20m/*_SCL_20m.jp2"))
    return found[0] if len(found) == 1 else None


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
    with rasterio.open(band_path) as quality, rasterio.open(mask_path) as mask:
        if quality.crs != mask.crs or not _same_ground(quality, mask):
            return None
        n = len(targets)
        counts = np.zeros((n + 1, len(names) + 1), dtype=np.int64)  # class x (all, each flag)
        for row in range(0, mask.height, ROWS):
            window = Window(0, row, mask.width, min(ROWS, mask.height - row))
            classes = mask.read(1, window=window)
            values = _under(quality, mask, window).astype(np.int64)
            valid = (classes <= n) & _has_data(kind, values)
            counts[:, 0] += np.bincount(classes[valid].astype(np.int64), minlength=n + 1)
            for j, flag in enumerate(names, start=1):
                marked = valid & _flagged(kind, values, flag)
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


def _same_ground(quality: rasterio.DatasetReader, mask: rasterio.DatasetReader) -> bool:
    """Whether the quality band's pixels tile the mask's ground: north-up, the same origin
    lattice, each quality pixel a whole number of mask pixels (SCL's 20 m over 10 m)."""
    q, m = quality.transform, mask.transform
    if q.b or q.d or m.b or m.d:
        return False
    ratio_x, ratio_y = q.a / m.a, q.e / m.e
    offset_x, offset_y = (m.c - q.c) / m.a, (m.f - q.f) / m.e
    return all(abs(v - round(v)) < 1e-6 and round(v) >= 1 for v in (ratio_x, ratio_y)) and all(
        abs(v - round(v)) < 1e-6 for v in (offset_x, offset_y)
    )


def _under(
    quality: rasterio.DatasetReader, mask: rasterio.DatasetReader, window: Window
) -> np.ndarray:
    """The quality band's value under each mask pixel of `window` (its pixel's centre)."""
    q, m = quality.transform, mask.transform
    if (q.a, q.e) == (m.a, m.e):  # the same pixels: read them (0 outside, no data)
        col, row = round((m.c - q.c) / m.a), round((m.f - q.f) / m.e)
        shifted = Window(window.col_off + col, window.row_off + row, window.width, window.height)
        return quality.read(1, window=shifted, boundless=True, fill_value=0)
    rows = np.arange(window.row_off, window.row_off + window.height) + 0.5
    cols = np.arange(window.col_off, window.col_off + window.width) + 0.5
    xs = m.c + cols * m.a
    ys = m.f + rows * m.e
    qcols = np.floor((xs - q.c) / q.a).astype(np.int64)
    qrows = np.floor((ys - q.f) / q.e).astype(np.int64)
    inside_c = (qcols >= 0) & (qcols < quality.width)
    inside_r = (qrows >= 0) & (qrows < quality.height)
    out = np.zeros((window.height, window.width), dtype=quality.dtypes[0])
    if not inside_c.any() or not inside_r.any():
        return out
    c0, c1 = qcols[inside_c].min(), qcols[inside_c].max() + 1
    r0, r1 = qrows[inside_r].min(), qrows[inside_r].max() + 1
    block = quality.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
    picked = block[np.ix_(qrows[inside_r] - r0, qcols[inside_c] - c0)]
    out[np.ix_(inside_r, inside_c)] = picked
    return out


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
        if flag in check.target_pixels and check.flag_pixels[flag]:
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
            share = check.flagged[target][flag] / pixels
            if share >= 0.05:
                caveats.append(
                    f"{titles[target]}: the product's own quality band flags {share:.0%} of it as "
                    f"{flag} ({check.band}); check those pixels against the image."
                )
    return caveats


def _share(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "-"
