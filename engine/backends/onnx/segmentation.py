"""Plain segmentation models (N x C x H x W -> N x K x H x W) over a fixed global window grid.

Model windows of `tile` pixels sit on one grid anchored at raster pixel (0, 0) with stride
`tile - overlap` (in the model's pixels, which are the raster's unless the model asks for
another resolution), whatever the pipeline's tiles are, so a pixel's answer never depends on the
tile size or the processed extent. Windows reaching past the raster are zero-padded (in the
standardised space, i.e. at the mean). Overlapping window outputs are blended with integer
weights (a linear ramp across the overlap) summed in float64: when every window gives a pixel
the same value, as a per-pixel model does, the blend returns that value bit for bit.
Window results are cached (bounded in bytes), so a window shared by neighbouring pipeline tiles
runs once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
from rasterio.windows import Window

ACTIVATIONS_RESOLVED = ("softmax", "sigmoid", "none")

#: Bytes of window outputs kept for neighbouring tiles.
CACHE_BYTES = 256 * 2**20
#: Upper bound on the input bytes of one batch.
BATCH_BYTES = 64 * 2**20


@dataclass(frozen=True)
class WindowGrid:
    """The global grid of model windows over a `width` x `height` raster (in model pixels).

    A model whose output is smaller than its input (`margin` pixels lost on every side, as
    Deepness centre-crops them) answers for the `size` x `size` centre of each input window;
    the grid is laid out on those answered footprints, inputs reaching `margin` past them.
    """

    width: int
    height: int
    tile: int
    overlap: int
    margin: int = 0
    shift: int = 0  # the grid starts this many pixels before the raster's corner

    @property
    def size(self) -> int:
        """Side of the part of a window the model answers for."""
        return self.tile - 2 * self.margin

    @property
    def stride(self) -> int:
        """Distance between window origins (never more than the answered size: no gaps)."""
        return max(1, min(self.tile - self.overlap, self.size))

    def origin(self, index: int) -> int:
        """Raster pixel where input window `index` starts along an axis (may be negative)."""
        return index * self.stride - self.shift - self.margin

    def count(self, length: int) -> int:
        """Windows along an axis of `length` pixels (the last one may reach past it)."""
        return 1 + max(0, -(-(length + self.shift - self.size) // self.stride))

    def span(self, start: int, stop: int, length: int) -> range:
        """Indexes of the windows along one axis whose answers cover pixels [start, stop)."""
        first = max(0, -(-(start + self.shift - self.size + 1) // self.stride))
        last = min(self.count(length) - 1, (stop - 1 + self.shift) // self.stride)
        return range(first, last + 1)

    def weights(self) -> np.ndarray:
        """Integer blending weights of one answered footprint (size x size), as float64.

        Across the overlap the weight ramps up from the window's edge, after an outer margin
        of a quarter of the overlap at weight 1 (almost nothing): the pixels nearest a window's
        edge, which saw padding instead of their neighbours, hardly count where another
        window saw them whole. 1-D weights stay below 2**13, so a pixel's weighted sum of at
        most 8 float32 values is exact in float64.
        """
        size, overlap = self.size, self.size - self.stride
        x = np.arange(size)
        edge = np.minimum(x, size - 1 - x)
        margin = overlap // 4
        top = max(1, overlap - 2 * margin)
        ramp = np.clip(edge - margin + 1, 0, top)
        line = (1 + max(1, 4096 // top) * ramp).astype(np.float64)
        return line[:, None] * line[None, :]


def inner_region(window: Window, halo: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The part of a read window that holds a tile core: (row0, row1, col0, col1) in raster px.

    The read window is the core grown by `halo` and clipped to the raster, so the core lies at
    least `halo` inside every side that does not touch the raster's edge.
    """
    r0, c0 = int(window.row_off), int(window.col_off)
    r1, c1 = r0 + int(window.height), c0 + int(window.width)
    return (
        r0 + halo if r0 > 0 else 0,
        r1 - halo if r1 < height else r1,
        c0 + halo if c0 > 0 else 0,
        c1 - halo if c1 < width else c1,
    )


class WindowCache:
    """Thread-safe LRU of window outputs; a window being computed is waited for, not rerun."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[int, int], Future[np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def claim(self, keys: list[tuple[int, int]]) -> tuple[dict, list[tuple[int, int]]]:
        """Futures for all `keys`; the keys this caller must compute (and then `fill`)."""
        futures, mine = {}, []
        with self._lock:
            for key in keys:
                future = self._items.get(key)
                if future is None:
                    future = Future()
                    self._items[key] = future
                    mine.append(key)
                    self.misses += 1
                else:
                    self._items.move_to_end(key)
                    self.hits += 1
                futures[key] = future
        return futures, mine

    def fill(self, key: tuple[int, int], value: np.ndarray) -> None:
        """Publish a computed window and evict the oldest finished ones over budget."""
        with self._lock:
            self._items[key].set_result(value)
            self._bytes += value.nbytes
            while self._bytes > self.max_bytes and len(self._items) > 1:
                old_key = next(iter(self._items))
                old = self._items[old_key]
                if not old.done() or old_key == key:
                    break
                del self._items[old_key]
                self._bytes -= old.result().nbytes

    def fail(self, keys: list[tuple[int, int]], error: BaseException) -> None:
        """Drop unfinished `keys` and wake their waiters with `error`."""
        with self._lock:
            for key in keys:
                future = self._items.pop(key, None)
                if future is not None and not future.done():
                    future.set_exception(error)


class TiledSegmenter:
    """Blended class scores of a segmentation model for any window of a raster.

    `run_batch(x)` maps a float32 (B, C, tile, tile) batch to (B, K, tile, tile) scores and is
    called by one thread at a time (onnxruntime already uses every core for one run; the
    other threads meanwhile read and prepare the next tiles).
    """

    def __init__(
        self,
        grid: WindowGrid,
        run_batch: Callable[[np.ndarray], np.ndarray],
        max_batch: int = 8,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        self.grid = grid
        self.run_batch = run_batch
        self.max_batch = max(1, max_batch)
        self.cache = WindowCache(cache_bytes)
        self._weights = grid.weights()
        self._run_lock = threading.Lock()
        self.windows_run = 0

    def scores(
        self, window_input: Callable[[int, int], np.ndarray], region: tuple[int, int, int, int]
    ) -> np.ndarray:
        """Blended scores (K, h, w) for raster pixels `region` = (row0, row1, col0, col1).

        `window_input(i, j)` returns the standardised float32 (C, tile, tile) input of model
        window (i, j), whose top-left pixel is (grid.origin(i), grid.origin(j)) (NaN allowed:
        it is read as 0); it is called only for windows not cached.
        """
        g, t = self.grid, self.grid.size
        r0, r1, c0, c1 = region
        keys = [(i, j) for i in g.span(r0, r1, g.height) for j in g.span(c0, c1, g.width)]
        futures, mine = self.cache.claim(keys)
        try:
            self._compute(mine, window_input)
        except BaseException as exc:
            self.cache.fail(mine, exc)
            raise
        acc: np.ndarray | None = None
        wsum = np.zeros((r1 - r0, c1 - c0), np.float64)
        for i, j in keys:
            out = futures[i, j].result()
            y0, x0 = i * g.stride - g.shift, j * g.stride - g.shift
            ya, yb, xa, xb = max(y0, r0), min(y0 + t, r1), max(x0, c0), min(x0 + t, c1)
            if acc is None:
                acc = np.zeros((out.shape[0], r1 - r0, c1 - c0), np.float64)
            w = self._weights[ya - y0 : yb - y0, xa - x0 : xb - x0]
            part = out[:, ya - y0 : yb - y0, xa - x0 : xb - x0]
            acc[:, ya - r0 : yb - r0, xa - c0 : xb - c0] += w * part
            wsum[ya - r0 : yb - r0, xa - c0 : xb - c0] += w
        assert acc is not None, "no model window covers the region"
        return (acc / wsum).astype(np.float32)

    def _compute(
        self, keys: list[tuple[int, int]], window_input: Callable[[int, int], np.ndarray]
    ) -> None:
        for start in range(0, len(keys), self.max_batch):
            chunk = keys[start : start + self.max_batch]
            batch = np.stack([window_input(i, j) for i, j in chunk])
            np.nan_to_num(batch, copy=False, nan=0.0)
            with self._run_lock:
                out = np.asarray(self.run_batch(batch), dtype=np.float32)
            if out.ndim == 3:  # N x H x W: one channel
                out = out[:, None]
            size = self.grid.size
            if out.shape[0] != len(chunk) or out.shape[2:] != (size, size):
                raise RuntimeError(
                    f"the model returned {out.shape} for input {batch.shape}; expected "
                    f"N x K x {size} x {size}"
                )
            self.windows_run += len(chunk)
            for k, key in enumerate(chunk):
                self.cache.fill(key, np.ascontiguousarray(out[k]))


def batch_size_for(channels: int, tile: int, fixed: int | None = None) -> int:
    """Windows per batch: the model's fixed batch, else what fits `BATCH_BYTES` (1..16)."""
    if fixed:
        return fixed
    return int(max(1, min(16, BATCH_BYTES // max(1, channels * tile * tile * 4))))


def looks_like_probabilities(scores: np.ndarray) -> bool:
    """Whether (B, K, H, W) model outputs are already probabilities (all in 0..1)."""
    if scores.size == 0 or not np.isfinite(scores).all():
        return False
    return bool(scores.min() >= -1e-4 and scores.max() <= 1 + 1e-4)


def probabilities(scores: np.ndarray, activation: str) -> np.ndarray:
    """(K, h, w) scores as probabilities: `softmax`, `sigmoid` or `none` (already are)."""
    if activation == "sigmoid":
        probs = 1.0 / (1.0 + np.exp(-scores))
    elif activation == "softmax":
        shifted = np.exp(scores - scores.max(axis=0, keepdims=True))
        probs = shifted / shifted.sum(axis=0, keepdims=True)
    else:
        probs = scores
    return probs.astype(np.float32, copy=False)


def decide(
    scores: np.ndarray,
    activation: str,
    threshold: float | None,
    threshold_on_raw: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Class index of every pixel and its probability, from one output's (K, h, w) scores.

    Deepness's rule: values below `threshold` are set to 0, then a K-channel output takes its
    argmax over all K classes (a pixel below the threshold everywhere goes to class 0), and a
    1-channel output gives class 1 where its value passes the threshold (default 0.5 on the
    probability), else class 0 (the background). `threshold_on_raw` compares the threshold
    with the raw outputs, as Deepness does; otherwise with the probabilities.
    """
    probs = probabilities(scores, activation)
    tested = scores if threshold_on_raw else probs
    if probs.shape[0] == 1:
        if threshold is None:
            best = (probs[0] >= 0.5).astype(np.intp)
        else:
            best = ((tested[0] >= threshold) & (tested[0] != 0)).astype(np.intp)
        return best, np.where(best == 1, probs[0], 1.0 - probs[0]).astype(np.float32)
    if threshold is None:
        best = probs.argmax(axis=0)
    else:
        best = np.where(tested >= threshold, tested, 0).argmax(axis=0)
    confidence = np.take_along_axis(probs, best[None], axis=0)[0]
    return best, confidence
