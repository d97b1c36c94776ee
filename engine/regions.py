"""Connected regions across tiles, with streaming statistics.

Each tile's classes are labelled locally (8-connectivity, one class at a time) with labels
that are unique across the raster ("provisional" labels). Labels that touch across a tile
border are recorded as pairs and merged at the end with a graph connected-components pass,
so a region is the same whatever the tile size. Statistics are accumulated per provisional
label with `bincount` and summed per final region, so memory grows with the number of
regions, never with the raster size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

_EIGHT = np.ones((3, 3), dtype=bool)

#: Provisional label written for nodata pixels.
NODATA_LABEL = np.uint32(0xFFFFFFFF)

# Columns of the per-label sums: count, confidence, row, column, then one per evidence index.
_FIXED = 4


@dataclass
class Regions:
    """Final regions: one entry per connected region, indexed 0..n-1."""

    target: np.ndarray  # 1..N: index of the plan target
    count: np.ndarray  # pixels
    confidence: np.ndarray  # mean confidence
    evidence: np.ndarray  # (regions, indices): mean of each evidence index
    centroid_row: np.ndarray
    centroid_col: np.ndarray
    row_min: np.ndarray
    row_max: np.ndarray
    col_min: np.ndarray
    col_max: np.ndarray
    provisional_to_region: np.ndarray  # provisional label -> region index (-1: none)

    def __len__(self) -> int:
        return len(self.count)


@dataclass
class RegionAccumulator:
    """Labels tiles in row-major order and accumulates per-region statistics."""

    raster_width: int
    n_evidence: int = 0
    _next_label: int = 1
    _sums: list[np.ndarray] = field(default_factory=list)
    _mins: list[np.ndarray] = field(default_factory=list)
    _maxs: list[np.ndarray] = field(default_factory=list)
    _targets: list[np.ndarray] = field(default_factory=list)
    _pairs: list[np.ndarray] = field(default_factory=list)
    _above: np.ndarray | None = None
    _below: np.ndarray | None = None
    _left: np.ndarray | None = None
    _tile_row: int = -1

    def __post_init__(self) -> None:
        self._sums = [np.zeros((1, _FIXED + self.n_evidence))]
        self._mins = [np.zeros((1, 2))]
        self._maxs = [np.zeros((1, 2))]
        self._targets = [np.zeros(1, dtype=np.uint8)]
        self._above = np.zeros(self.raster_width, dtype=np.uint32)
        self._below = np.zeros(self.raster_width, dtype=np.uint32)

    def add_tile(
        self,
        tile_row: int,
        row_off: int,
        col_off: int,
        classes: np.ndarray,
        confidence: np.ndarray,
        evidence: np.ndarray,
    ) -> np.ndarray:
        """Label one tile core and return its provisional labels (uint32, NODATA_LABEL for nodata).

        `classes` is uint8 (0 background, 1..N targets, 255 nodata); `confidence` is a float
        array of the same shape and `evidence` a (indices, H, W) stack of index values whose
        region means are kept. Tiles must come in row-major order.
        """
        if tile_row != self._tile_row:
            self._above, self._below = self._below, np.zeros(self.raster_width, dtype=np.uint32)
            self._tile_row = tile_row
            self._left = None
        labels = np.zeros(classes.shape, dtype=np.uint32)
        for target in np.unique(classes):
            if target in (0, 255):
                continue
            local, n = ndimage.label(classes == target, structure=_EIGHT)
            if n == 0:
                continue
            hit = local > 0
            labels[hit] = local[hit].astype(np.uint32) + np.uint32(self._next_label - 1)
            self._accumulate(local, n, target, row_off, col_off, confidence, evidence)
            self._next_label += n
        self._link_borders(labels, col_off)
        h, w = labels.shape
        self._below[col_off : col_off + w] = labels[-1]
        self._left = labels[:, -1].copy()
        labels[classes == 255] = NODATA_LABEL
        return labels

    def _accumulate(
        self,
        local: np.ndarray,
        n: int,
        target: int,
        row_off: int,
        col_off: int,
        confidence: np.ndarray,
        evidence: np.ndarray,
    ) -> None:
        rows, cols = np.nonzero(local)
        ids = local[rows, cols]
        weights = [
            None,
            np.nan_to_num(confidence[rows, cols].astype(np.float64)),
            rows + row_off + 0.5,
            cols + col_off + 0.5,
        ]
        weights += [np.nan_to_num(e[rows, cols].astype(np.float64)) for e in evidence]
        sums = np.stack([np.bincount(ids, w, minlength=n + 1) for w in weights], axis=1)[1:]
        slices = ndimage.find_objects(local)
        mins = np.array([[s[0].start + row_off, s[1].start + col_off] for s in slices], float)
        maxs = np.array([[s[0].stop + row_off, s[1].stop + col_off] for s in slices], float)
        self._sums.append(sums)
        self._mins.append(mins)
        self._maxs.append(maxs)
        self._targets.append(np.full(n, target, dtype=np.uint8))

    def _link_borders(self, labels: np.ndarray, col_off: int) -> None:
        """Record label pairs that touch the tile above (with diagonals) and to the left."""
        w = labels.shape[1]
        assert self._above is not None
        lo, hi = max(0, col_off - 1), min(self.raster_width, col_off + w + 1)
        above = np.zeros(w + 2, dtype=np.uint32)
        above[lo - (col_off - 1) : hi - (col_off - 1)] = self._above[lo:hi]
        top = labels[0]
        for shift in (0, 1, 2):
            self._pair(top, above[shift : shift + w])
        if self._left is not None:
            left = self._left
            first = labels[:, 0]
            self._pair(first, left)
            self._pair(first[1:], left[:-1])
            self._pair(first[:-1], left[1:])

    def _pair(self, a: np.ndarray, b: np.ndarray) -> None:
        keep = (a > 0) & (b > 0)
        if keep.any():
            self._pairs.append(np.stack([a[keep], b[keep]], axis=1))

    def finish(self) -> Regions:
        """Merge labels across tile borders and return the final regions."""
        sums = np.concatenate(self._sums)
        mins = np.concatenate(self._mins)
        maxs = np.concatenate(self._maxs)
        targets = np.concatenate(self._targets)
        n = len(sums)
        pairs = np.concatenate(self._pairs) if self._pairs else np.zeros((0, 2), np.uint32)
        # Only labels of the same target may merge: labels are per target, but check anyway.
        pairs = pairs[targets[pairs[:, 0]] == targets[pairs[:, 1]]]
        graph = coo_matrix(
            (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
        )
        _, component = connected_components(graph, directed=False)
        # Component ids are renumbered so that label 0 (background) maps to -1.
        used = np.unique(component[1:]) if n > 1 else np.zeros(0, dtype=int)
        remap = np.full(component.max() + 1 if n else 1, -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        to_region = remap[component]
        to_region[0] = -1
        m = len(used)
        idx = to_region[1:]
        total = np.zeros((m, sums.shape[1]))
        np.add.at(total, idx, sums[1:])
        rmin = np.full((m, 2), np.inf)
        np.minimum.at(rmin, idx, mins[1:])
        rmax = np.full((m, 2), -np.inf)
        np.maximum.at(rmax, idx, maxs[1:])
        target = np.zeros(m, dtype=np.uint8)
        target[idx] = targets[1:]
        count = total[:, 0]
        safe = np.maximum(count, 1)
        return Regions(
            target=target,
            count=count.astype(np.int64),
            confidence=total[:, 1] / safe,
            evidence=total[:, _FIXED:] / safe[:, None],
            centroid_row=total[:, 2] / safe,
            centroid_col=total[:, 3] / safe,
            row_min=rmin[:, 0],
            row_max=rmax[:, 0],
            col_min=rmin[:, 1],
            col_max=rmax[:, 1],
            provisional_to_region=to_region,
        )
