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
    centre = corners.mean(axis=0)
    angles = np.arctan2(corners[:, 1] - centre[1], corners[:, 0] - centre[0])
    corners = corners[np.argsort(angles, kind="stable")]  # clockwise on screen when y is down
    scale = max(1.0, float(np.abs(corners).max()))
    top = corners[:, 1] <= corners[:, 1].min() + 1e-9 * scale
    start = int(np.argmin(np.where(top, corners[:, 0], np.inf)))
    return np.roll(corners, -start, axis=0)


#: Hulls up to this many vertices take the pure-Python calipers (numpy's overhead dominates).
SMALL_HULL = 24


def _small_hull_rectangle(points: list[list[float]]) -> list[tuple[float, float]]:
    """Rotating calipers over a small convex polygon's vertices, in plain Python."""
    pts = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    if len(pts) == 1:
        return [tuple(pts[0])] * 4
    best = None
    for i in range(len(pts)):
        (x0, y0), (x1, y1) = pts[i], pts[(i + 1) % len(pts)]
        length = math.hypot(x1 - x0, y1 - y0)
        if length == 0:
            continue
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        pu = [x * ux + y * uy for x, y in pts]
        pv = [-x * uy + y * ux for x, y in pts]
        a0, a1, b0, b1 = min(pu), max(pu), min(pv), max(pv)
        area = (a1 - a0) * (b1 - b0)
        if best is None or area < best[0]:
            best = (area, a0, a1, b0, b1, ux, uy)
    _, a0, a1, b0, b1, ux, uy = best
    return [(a * ux - b * uy, a * uy + b * ux) for a, b in ((a0, b0), (a1, b0), (a1, b1), (a0, b1))]


def small_convex_rectangle(points: list[list[float]]) -> list[tuple[float, float]]:
    """`min_area_rectangle(points, convex=True)` for a small hull, in plain Python.

    Same corner order as `_order_corners`: from the top-most (then left-most) corner, clockwise
    on screen. Used per polygon when vectorizing, where numpy's per-call overhead dominates.
    """
    corners = _small_hull_rectangle(points)
    cx = sum(x for x, _ in corners) / 4
    cy = sum(y for _, y in corners) / 4
    corners = sorted(corners, key=lambda c: math.atan2(c[1] - cy, c[0] - cx))
    scale = max(1.0, max(abs(v) for c in corners for v in c))
    top = min(y for _, y in corners) + 1e-9 * scale
    start = min((i for i, c in enumerate(corners) if c[1] <= top), key=lambda i: corners[i][0])
    return corners[start:] + corners[:start]


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
        return np.array(small_convex_rectangle(pts.tolist()))
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
