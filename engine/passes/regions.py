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


@dataclass(frozen=True)
class TileRegions:
    """One tile core labelled on its own: labels 1..n and their statistics in tile coordinates.

    Made by `label_tile`, which needs nothing outside the tile, so it runs in the worker
    threads; `RegionAccumulator.add` then makes the labels unique and links the borders.
    """

    labels: np.ndarray  # uint32, 0 = no region (background or nodata)
    nodata: np.ndarray  # bool
    target: np.ndarray  # (n,) uint8
    sums: np.ndarray  # (n, 4 + evidence): count, confidence, row sum, column sum, evidence sums
    mins: np.ndarray  # (n, 2) first row, first column
    maxs: np.ndarray  # (n, 2) row, column past the end


def label_tile(classes: np.ndarray, confidence: np.ndarray, evidence: np.ndarray) -> TileRegions:
    """Label a tile core's classes (8-connectivity, per class) and sum their statistics.

    `classes` is uint8 (0 background, 1..N targets, 255 nodata); `confidence` is a float
    array of the same shape and `evidence` a (indices, H, W) stack of index values whose
    region means are kept.
    """
    labels = np.zeros(classes.shape, dtype=np.uint32)
    present = np.nonzero(np.bincount(classes.ravel(), minlength=256))[0]
    targets: list[np.ndarray] = []
    n = 0
    for target in present:
        if target in (0, 255):
            continue
        local, count = ndimage.label(classes == target, structure=_EIGHT)
        if count:
            np.add(local, n, out=labels, where=local > 0, casting="unsafe")
            targets.append(np.full(count, target, dtype=np.uint8))
            n += count
    w = classes.shape[1]
    # Sums over the labelled pixels only (in raster order, as over all of them): background
    # is most of a tile in most scenes.
    where = np.flatnonzero(labels)
    flat = labels.ravel()[where]
    rows, cols = np.divmod(where, w)
    weights = [
        None,
        np.nan_to_num(confidence.ravel()[where]),
        rows + 0.5,
        cols + 0.5,
    ]
    weights += [np.nan_to_num(e.ravel()[where]) for e in evidence]
    sums = np.stack([np.bincount(flat, wt, minlength=n + 1) for wt in weights], axis=1)[1:]
    slices = ndimage.find_objects(labels, max_label=n) if n else []
    mins = np.array([[sl[0].start, sl[1].start] for sl in slices], float).reshape(-1, 2)
    maxs = np.array([[sl[0].stop, sl[1].stop] for sl in slices], float).reshape(-1, 2)
    target = np.concatenate(targets) if targets else np.zeros(0, dtype=np.uint8)
    return TileRegions(labels, classes == 255, target, sums, mins, maxs)


@dataclass(frozen=True)
class RegionBlock:
    """The regions of a band of whole tile rows, labelled by an accumulator of its own.

    Made on a worker by `RegionAccumulator.block`, with labels numbered from 1; the driver
    adds the blocks in row order with `RegionAccumulator.add_block`, which numbers and links
    them exactly as one accumulator fed every tile in grid order would.
    """

    sums: np.ndarray  # (n, 4 + evidence), as `TileRegions.sums` but in raster coordinates
    mins: np.ndarray  # (n, 2)
    maxs: np.ndarray  # (n, 2)
    target: np.ndarray  # (n,) uint8
    pairs: np.ndarray  # (m, 2) uint32: labels linked across the block's inner tile borders
    top_row: np.ndarray  # raster-width uint32: labels of the block's first pixel row (0: none)
    bottom_row: np.ndarray  # raster-width uint32: labels of its last pixel row (0: none)


@dataclass
class RegionAccumulator:
    """Makes tile labels unique, links them across tile borders and keeps their statistics."""

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
        """Label one tile core and add it (see `label_tile` and `add`)."""
        return self.add(tile_row, row_off, col_off, label_tile(classes, confidence, evidence))

    def add(self, tile_row: int, row_off: int, col_off: int, tile: TileRegions) -> np.ndarray:
        """Add a labelled tile core; return its provisional labels (NODATA_LABEL for nodata).

        Tiles must come in row-major order.
        """
        if tile_row != self._tile_row:
            self._above, self._below = self._below, np.zeros(self.raster_width, dtype=np.uint32)
            self._tile_row = tile_row
            self._left = None
        labels = tile.labels
        n = len(tile.target)
        if n:
            np.add(labels, np.uint32(self._next_label - 1), out=labels, where=labels > 0)
            sums = tile.sums.copy()
            sums[:, 2] += sums[:, 0] * row_off
            sums[:, 3] += sums[:, 0] * col_off
            offset = np.array([row_off, col_off], float)
            self._sums.append(sums)
            self._mins.append(tile.mins + offset)
            self._maxs.append(tile.maxs + offset)
            self._targets.append(tile.target)
            self._next_label += n
        self._link_borders(labels, col_off)
        w = labels.shape[1]
        self._below[col_off : col_off + w] = labels[-1]
        self._left = labels[:, -1].copy()
        labels[tile.nodata] = NODATA_LABEL
        return labels

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

    def block(self, top_row: np.ndarray) -> RegionBlock:
        """Everything added so far as a `RegionBlock`; `top_row` holds the labels `add` gave
        the first pixel row (0 for no region), over the raster's width."""
        empty = np.zeros((0, 2), dtype=np.uint32)
        return RegionBlock(
            sums=np.concatenate(self._sums[1:] or [np.zeros((0, self._sums[0].shape[1]))]),
            mins=np.concatenate(self._mins[1:] or [np.zeros((0, 2))]),
            maxs=np.concatenate(self._maxs[1:] or [np.zeros((0, 2))]),
            target=np.concatenate(self._targets[1:] or [np.zeros(0, dtype=np.uint8)]),
            pairs=np.concatenate(self._pairs) if self._pairs else empty,
            top_row=top_row,
            bottom_row=self._below.copy(),
        )

    def add_block(self, block: RegionBlock) -> int:
        """Add the next band of tile rows, made by another accumulator; return the offset
        added to its labels. Its first pixel row is linked to the previous block's last."""
        offset = self._next_label - 1
        if len(block.target):
            self._sums.append(block.sums)
            self._mins.append(block.mins)
            self._maxs.append(block.maxs)
            self._targets.append(block.target)
            self._next_label += len(block.target)
            self._pairs.append(block.pairs + np.uint32(offset))
        top = np.where(block.top_row > 0, block.top_row + np.uint32(offset), 0).astype(np.uint32)
        above = self._below
        self._pair(top, above)
        self._pair(top[1:], above[:-1])
        self._pair(top[:-1], above[1:])
        self._below = np.where(
            block.bottom_row > 0, block.bottom_row + np.uint32(offset), 0
        ).astype(np.uint32)
        return offset

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
