"""Regions linked band by band (`RegionAccumulator.block` / `add_block`) are the regions of one
accumulator fed every tile in grid order: same provisional labels, same final regions."""

from __future__ import annotations

import numpy as np
import pytest

from spex.engine.passes.regions import NODATA_LABEL, RegionAccumulator, label_tile

TILE = 16


def _classes(seed: int, shape: tuple[int, int]) -> np.ndarray:
    """Blobs of two classes (runs across tile borders) and a patch of nodata."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 3, size=(shape[0] // 4 + 1, shape[1] // 4 + 1))
    classes = np.kron(coarse, np.ones((4, 4), dtype=np.int64))[: shape[0], : shape[1]]
    classes = classes.astype(np.uint8)
    classes[5:9, 20:40] = 255
    return classes


def _tiles(height: int, width: int, rows: range):
    for r in rows:
        for c in range(-(-width // TILE)):
            r0, c0 = r * TILE, c * TILE
            yield r, r0, c0, (slice(r0, min(r0 + TILE, height)), slice(c0, min(c0 + TILE, width)))


def _label(classes: np.ndarray, rows: tuple[slice, slice]):
    part = classes[rows]
    conf = np.full(part.shape, 0.5, np.float32)
    return label_tile(part, conf, np.zeros((1, *part.shape), np.float32))


@pytest.mark.parametrize(("seed", "rows_per_band"), [(1, 1), (2, 2), (3, 3)])
def test_bands_give_the_single_pass_labels_and_regions(seed: int, rows_per_band: int) -> None:
    height, width = 90, 70
    classes = _classes(seed, (height, width))
    n_rows = -(-height // TILE)
    single = RegionAccumulator(width, 1)
    expected = np.zeros((height, width), np.uint32)
    for r, r0, c0, window in _tiles(height, width, range(n_rows)):
        expected[window] = single.add(r, r0, c0, _label(classes, window))
    driver = RegionAccumulator(width, 1)
    got = np.zeros((height, width), np.uint32)
    for first in range(0, n_rows, rows_per_band):
        worker = RegionAccumulator(width, 1)
        top = np.zeros(width, np.uint32)
        band = range(first, min(first + rows_per_band, n_rows))
        for r, r0, c0, window in _tiles(height, width, band):
            labels = worker.add(r - first, r0, c0, _label(classes, window))
            if r == first:
                top[window[1]] = np.where(labels[0] == NODATA_LABEL, 0, labels[0])
            got[window] = labels
        offset = driver.add_block(worker.block(top))
        rows = slice(first * TILE, min((band.stop) * TILE, height))
        part = got[rows]
        np.add(part, np.uint32(offset), out=part, where=(part > 0) & (part != NODATA_LABEL))
    np.testing.assert_array_equal(got, expected)
    a, b = single.finish(), driver.finish()
    assert len(a) == len(b) and len(a) > 10
    np.testing.assert_array_equal(a.provisional_to_region, b.provisional_to_region)
    np.testing.assert_array_equal(a.count, b.count)
    np.testing.assert_array_equal(a.target, b.target)
    np.testing.assert_allclose(a.centroid_row, b.centroid_row)
    np.testing.assert_array_equal(a.row_min, b.row_min)
    np.testing.assert_array_equal(a.col_max, b.col_max)
    # Merging across band borders happened: fewer regions than labels.
    assert len(b) < len(b.provisional_to_region) - 1 - rows_per_band
