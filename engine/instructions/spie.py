"""SPIE region attributes and the SPEX request prompt built from them.

SPEX asks about one category per request and lists the candidate regions found by a spectral
prior, each as ``{'Size of area', 'Centroid', 'Location', 'Bounding box'}`` in tile-normalised
coordinates, largest region first. The generator of the published training prompts is not
released; the format here follows the request files shipped with SPEX's demo
(github.com/MiliLab/SPEX, ``demo/*.txt``), which also fix two details:

- coordinates carry 3 decimals (``[0.48, 0.422]``), so ``DECIMALS = 3``;
- box corners start at the top-most corner and run clockwise on screen (y down), so an upright
  box reads top-left, top-right, bottom-right, bottom-left.

The size words' thresholds (``SIZE_WORDS``) are ours, fitted by eye to the region sizes of those
demo prompts; they are shares of the tile area.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

DECIMALS = 3

# (smallest share of the tile area, word), largest first; below the last is "very tiny".
SIZE_WORDS: tuple[tuple[float, str], ...] = (
    (0.20, "huge"),
    (0.04, "large"),
    (0.008, "somewhat large"),
    (0.004, "medium"),
    (0.0015, "small"),
)
SMALLEST_WORD = "very tiny"

PROMPT_TEMPLATE = Path(__file__).resolve().parents[2] / "resources" / "prompts" / "spie_prompt.txt"

_ROWS = ("top", "middle", "bottom")
_COLS = ("left", "center", "right")


@dataclass(frozen=True)
class RegionAttributes:
    """One candidate region as SPEX reads it; coordinates are tile-normalised, x right, y down."""

    size: str
    centroid: tuple[float, float]
    location: str
    bounding_box: tuple[tuple[float, float], ...]

    def to_spie_dict(self) -> dict[str, object]:
        """The region as the prompt lists it: exactly the four SPIE keys, lists not tuples."""
        return {
            "Size of area": self.size,
            "Centroid": [self.centroid[0], self.centroid[1]],
            "Location": self.location,
            "Bounding box": [[x, y] for x, y in self.bounding_box],
        }


def size_word(area_fraction: float) -> str:
    """The size word for a region covering ``area_fraction`` of the tile (see ``SIZE_WORDS``)."""
    for threshold, word in SIZE_WORDS:
        if area_fraction >= threshold:
            return word
    return SMALLEST_WORD


def location_word(x: float, y: float) -> str:
    """The 3 x 3 grid cell of a normalised point; a point on a cell border goes right / down."""
    col = _COLS[min(2, max(0, int(x * 3)))]
    row = _ROWS[min(2, max(0, int(y * 3)))]
    return "center" if (row, col) == ("middle", "center") else f"{row}-{col}"


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise hull vertices (math orientation), collinear points dropped."""
    pts = np.unique(points, axis=0)  # sorted by x, then y
    if len(pts) <= 2:
        return pts

    def half(seq: np.ndarray) -> list[np.ndarray]:
        chain: list[np.ndarray] = []
        for p in seq:
            while len(chain) >= 2:
                (ox, oy), (ax, ay) = chain[-2], chain[-1]
                if (ax - ox) * (p[1] - oy) - (ay - oy) * (p[0] - ox) > 0:
                    break
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def _order_corners(corners: np.ndarray) -> np.ndarray:
    """Start at the top-most corner (then left-most), run clockwise on screen (y down)."""
    return _order_corner_sets(corners[None])[0]


#: Hulls up to this many vertices are measured together (`convex_rectangles`); larger ones
#: one by one, whose (vertices x edges) products would outgrow a padded batch.
SMALL_HULL = 24


def convex_rectangles(vertices: np.ndarray, counts: Sequence[int]) -> np.ndarray:
    """`min_area_rectangle(hull, convex=True)` of many small convex polygons, as (P, 4, 2).

    The hulls come as one ragged array: `vertices` (N, 2) holds each hull's vertices in order
    (a repeated closing vertex is allowed), hull after hull, `counts` how many each has.
    Rotating calipers run for all hulls of one vertex count at once; each hull takes the first
    edge of least area, as a loop over its edges would.
    """
    counts = np.asarray(counts, dtype=np.int64)
    out = np.empty((len(counts), 4, 2))
    if len(counts) == 0:
        return out
    if (counts <= 0).any():
        raise ValueError("convex_rectangles needs at least one point per hull")
    flat = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
    owner = np.repeat(np.arange(len(counts)), counts)
    # Drop repeats of the previous vertex, then a closing repeat of the hull's first.
    keep = np.ones(len(flat), dtype=bool)
    keep[1:] = (flat[1:] != flat[:-1]).any(axis=1) | (owner[1:] != owner[:-1])
    flat, owner = flat[keep], owner[keep]
    sizes = np.bincount(owner, minlength=len(counts))
    starts = np.cumsum(sizes) - sizes
    closing = (sizes > 1) & (flat[starts] == flat[starts + sizes - 1]).all(axis=1)
    sizes = sizes - closing  # a closing vertex is last: the first `sizes` rows are the hull
    for size in np.unique(sizes):
        members = np.flatnonzero(sizes == size)
        pts = flat[starts[members][:, None] + np.arange(size)]
        out[members] = pts[:, :1] if size == 1 else _calipers(pts)
    return _order_corner_sets(out)


_hypot = np.frompyfunc(math.hypot, 2, 1)  # Python's hypot: the same bits as a per-edge loop


def _calipers(pts: np.ndarray) -> np.ndarray:
    """Least-area rectangle corners (P, 4, 2) of P convex polygons of n >= 2 vertices (P, n, 2)."""
    step = np.roll(pts, -1, axis=1) - pts
    length = _hypot(step[..., 0], step[..., 1]).astype(np.float64)
    valid = length > 0
    safe = np.where(valid, length, 1.0)
    ux, uy = step[..., 0] / safe, step[..., 1] / safe  # (P, edges)
    x, y = pts[:, None, :, 0], pts[:, None, :, 1]  # (P, 1, vertices)
    pu = x * ux[..., None] + y * uy[..., None]
    pv = -x * uy[..., None] + y * ux[..., None]
    a0, a1, b0, b1 = pu.min(axis=2), pu.max(axis=2), pv.min(axis=2), pv.max(axis=2)
    area = np.where(valid, (a1 - a0) * (b1 - b0), np.inf)
    best = np.argmin(area, axis=1)[:, None]

    def pick(values: np.ndarray) -> np.ndarray:
        return np.take_along_axis(values, best, axis=1)[:, 0]

    a0, a1, b0, b1, ux, uy = (pick(v) for v in (a0, a1, b0, b1, ux, uy))
    return np.stack(
        [
            np.stack([a * ux - b * uy, a * uy + b * ux], axis=1)
            for a, b in ((a0, b0), (a1, b0), (a1, b1), (a0, b1))
        ],
        axis=1,
    )


def _order_corner_sets(corners: np.ndarray) -> np.ndarray:
    """`_order_corners` of each (4, 2) set of (P, 4, 2) corners."""
    centre = (corners[:, 0] + corners[:, 1] + corners[:, 2] + corners[:, 3]) / 4
    angles = np.arctan2(corners[..., 1] - centre[:, None, 1], corners[..., 0] - centre[:, None, 0])
    order = np.argsort(angles, axis=1, kind="stable")
    corners = np.take_along_axis(corners, order[:, :, None], axis=1)
    scale = np.maximum(1.0, np.abs(corners).max(axis=(1, 2)))
    ys = corners[..., 1]
    top = ys <= ys.min(axis=1, keepdims=True) + 1e-9 * scale[:, None]
    start = np.argmin(np.where(top, corners[..., 0], np.inf), axis=1)
    roll = (np.arange(4)[None, :] + start[:, None]) % 4
    return np.take_along_axis(corners, roll[:, :, None], axis=1)


def min_area_rectangle(points: np.ndarray, convex: bool = False) -> np.ndarray:
    """The minimum-area enclosing rectangle of N x 2 points as 4 x 2 corners.

    Rotating calipers over the convex hull: the optimal rectangle has a side on a hull edge.
    One distinct point gives four equal corners; collinear points give a zero-width rectangle.
    Corners start at the top-most one and run clockwise on screen (y down). `convex=True`
    says the points already are a convex polygon's vertices (in order), so no hull is built.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        raise ValueError("min_area_rectangle needs at least one point")
    if convex and len(pts) <= SMALL_HULL:
        return convex_rectangles(pts, [len(pts)])[0]
    if convex:
        keep = np.ones(len(pts), dtype=bool)
        keep[1:] = np.any(pts[1:] != pts[:-1], axis=1)  # drop repeated (closing) vertices
        hull = pts[keep]
        if len(hull) > 1 and np.array_equal(hull[0], hull[-1]):
            hull = hull[:-1]
    else:
        hull = _convex_hull(pts)
    if len(hull) == 1:
        return np.repeat(hull, 4, axis=0)
    edges = np.roll(hull, -1, axis=0) - hull
    if len(hull) == 2:
        edges = edges[:1]
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    u = edges[lengths > 0] / lengths[lengths > 0, None]
    v = np.stack([-u[:, 1], u[:, 0]], axis=1)
    best: tuple[float, np.ndarray] | None = None
    for start in range(0, len(u), 512):  # chunks keep the (hull x edges) products small
        pu, pv = hull @ u[start : start + 512].T, hull @ v[start : start + 512].T
        areas = np.ptp(pu, axis=0) * np.ptp(pv, axis=0)
        i = int(np.argmin(areas))
        if best is None or areas[i] < best[0]:
            a0, a1 = pu[:, i].min(), pu[:, i].max()
            b0, b1 = pv[:, i].min(), pv[:, i].max()
            uu, vv = u[start + i], v[start + i]
            box = np.array([a * uu + b * vv for a, b in ((a0, b0), (a1, b0), (a1, b1), (a0, b1))])
            best = (float(areas[i]), box)
    return _order_corners(best[1])


def _norm(value: float) -> float:
    """Clip to [0, 1] and round for the prompt; + 0.0 turns -0.0 into 0.0."""
    return round(min(1.0, max(0.0, float(value))), DECIMALS) + 0.0


def region_attributes(
    points_xy: np.ndarray,
    area_px: float,
    width: int,
    height: int,
    centroid_xy: tuple[float, float] | None = None,
) -> RegionAttributes:
    """SPIE attributes of one region of a ``width`` x ``height`` tile.

    ``points_xy`` are pixel-space (x, y) points whose hull is the region's: outline vertices, pixel
    corners or pixel centres, with pixel (col, row) covering [col, col+1) x [row, row+1).
    ``area_px`` is the region's area in pixels. ``centroid_xy`` is the area centroid in pixel
    space; by default the mean of the points, which is right for pixel centres only.
    """
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    centre = pts.mean(axis=0) if centroid_xy is None else centroid_xy
    return _attributes(min_area_rectangle(pts), area_px, width, height, centre)


def _attributes(
    box_px: np.ndarray, area_px: float, width: int, height: int, centroid_xy: Sequence[float]
) -> RegionAttributes:
    """Normalise, word and round a region given its pixel-space box and centroid."""
    nx, ny = float(centroid_xy[0]) / width, float(centroid_xy[1]) / height
    box = box_px / np.array([width, height], dtype=np.float64)
    return RegionAttributes(
        size=size_word(float(area_px) / (width * height)),
        centroid=(_norm(nx), _norm(ny)),
        location=location_word(nx, ny),
        bounding_box=tuple((_norm(x), _norm(y)) for x, y in box),
    )


def _hull_candidates(component: np.ndarray, row0: int, col0: int) -> np.ndarray:
    """Pixel corners of each row's left-most and right-most pixel: they span the same hull."""
    rows = np.flatnonzero(component.any(axis=1))
    sub = component[rows]
    first = sub.argmax(axis=1) + col0
    last = sub.shape[1] - sub[:, ::-1].argmax(axis=1) + col0  # right edge of last pixel
    top, bottom = rows + row0, rows + row0 + 1
    xs = np.concatenate([first, first, last, last])
    ys = np.concatenate([top, bottom, top, bottom])
    return np.stack([xs, ys], axis=1).astype(np.float64)


def regions_from_mask(
    mask: np.ndarray, min_pixels: int = 1, max_regions: int | None = None
) -> list[RegionAttributes]:
    """SPIE attributes of the 8-connected regions of a 2-D mask (non-zero = in), largest first.

    Boxes are built on pixel corners, so a one-pixel region has a one-pixel box. Regions smaller
    than ``min_pixels`` are left out; equal sizes keep raster order (top row first).
    ``max_regions`` keeps only the largest ones (attributes are computed for those only).
    """
    binary = np.asarray(mask).astype(bool)
    if binary.ndim != 2:
        raise ValueError(f"regions_from_mask needs a 2-D mask, got shape {binary.shape}")
    height, width = binary.shape
    labels, count = ndimage.label(binary, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return []
    rows, cols = np.nonzero(labels)
    ids = labels[rows, cols]
    sizes = np.bincount(ids, minlength=count + 1)
    # Area centroid from pixel centres.
    sum_x = np.bincount(ids, weights=cols + 0.5, minlength=count + 1)
    sum_y = np.bincount(ids, weights=rows + 0.5, minlength=count + 1)
    slices = ndimage.find_objects(labels)
    order = sorted(
        (k for k in range(1, count + 1) if sizes[k] >= min_pixels), key=lambda k: -sizes[k]
    )
    regions = []
    for k in order[:max_regions]:
        rs, cs = slices[k - 1]
        centroid = (sum_x[k] / sizes[k], sum_y[k] / sizes[k])
        if sizes[k] == (rs.stop - rs.start) * (cs.stop - cs.start):
            # A filled upright rectangle (every single pixel): its box is its extent.
            box = np.array(
                [
                    [cs.start, rs.start],
                    [cs.stop, rs.start],
                    [cs.stop, rs.stop],
                    [cs.start, rs.stop],
                ],
                dtype=np.float64,
            )
        else:
            box = min_area_rectangle(_hull_candidates(labels[rs, cs] == k, rs.start, cs.start))
        regions.append(_attributes(box, sizes[k], width, height, centroid))
    return regions


@lru_cache(maxsize=1)
def _template() -> str:
    text = PROMPT_TEMPLATE.read_text(encoding="utf-8")
    return text[:-1] if text.endswith("\n") else text


def render_spie_prompt(
    category_phrase: str,
    regions: Sequence[RegionAttributes],
    max_regions: int | None = None,
) -> str:
    """The SPEX request for one category: ``<image>``, a newline, the question, the region list.

    The list is Python's repr of the SPIE dicts, as in SPEX's prompts; ``max_regions`` keeps the
    first (largest) ones. No regions gives ``[]``.
    """
    kept = list(regions if max_regions is None else regions[:max_regions])
    listed = repr([region.to_spie_dict() for region in kept])
    return _template().format(category=category_phrase, regions=listed)
