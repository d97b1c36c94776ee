"""Connected regions across tiles must equal whole-image labelling, whatever the tile size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from spex.engine.passes.regions import NODATA_LABEL, RegionAccumulator
from spex.engine.raster.windows import make_grid


def _label_tiled(classes: np.ndarray, tile: int) -> tuple[np.ndarray, object]:
    h, w = classes.shape
    acc = RegionAccumulator(w, n_evidence=1)
    labels = np.zeros((h, w), dtype=np.uint32)
    conf = np.ones((h, w), np.float32)
    evid = (np.arange(h * w, dtype=np.float32).reshape(1, h, w)) / (h * w)
    for t in make_grid(w, h, tile, 0):
        r, c = t.core_slices
        rows = slice(int(t.core.row_off), int(t.core.row_off + t.core.height))
        cols = slice(int(t.core.col_off), int(t.core.col_off + t.core.width))
        labels[rows, cols] = acc.add_tile(
            t.row,
            rows.start,
            cols.start,
            classes[rows, cols],
            conf[rows, cols],
            evid[:, rows, cols],
        )
    return labels, acc.finish()


def _final_partition(labels: np.ndarray, regions: object) -> np.ndarray:
    out = np.full(labels.shape, -1, dtype=np.int64)
    valid = (labels != NODATA_LABEL) & (labels > 0)
    out[valid] = regions.provisional_to_region[labels[valid]]
    return out


def _reference(classes: np.ndarray) -> np.ndarray:
    ref = np.full(classes.shape, -1, dtype=np.int64)
    offset = 0
    for value in (1, 2):
        lab, n = ndimage.label(classes == value, structure=np.ones((3, 3)))
        ref[lab > 0] = lab[lab > 0] + offset
        offset += n
    return ref


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when a and b group the pixels identically (up to renumbering)."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))


@pytest.mark.parametrize("tile", [16, 23, 64, 200])
def test_tiled_regions_equal_whole_image_labelling(tile: int) -> None:
    rng = np.random.default_rng(7)
    classes = rng.choice([0, 1, 2], size=(97, 131), p=[0.5, 0.3, 0.2]).astype(np.uint8)
    classes = ndimage.median_filter(classes, size=3)  # blobs that cross tile borders
    classes[40:45, :] = 255  # a nodata stripe
    labels, regions = _label_tiled(classes, tile)
    partition = _final_partition(labels, regions)
    reference = _reference(np.where(classes == 255, 0, classes))
    assert _same_partition(partition, reference)
    assert len(regions) == reference.max()
    assert (labels[40:45] == NODATA_LABEL).all()


def test_region_statistics_are_tile_independent() -> None:
    rng = np.random.default_rng(3)
    classes = ndimage.median_filter(
        rng.choice([0, 1], size=(80, 90), p=[0.6, 0.4]).astype(np.uint8), size=5
    )
    _, whole = _label_tiled(classes, 512)
    _, tiled = _label_tiled(classes, 17)

    def key(r: object) -> np.ndarray:
        order = np.lexsort((r.centroid_col, r.centroid_row))
        return np.stack(
            [r.count[order], r.centroid_row[order], r.centroid_col[order], r.evidence[order, 0]]
        )

    assert len(whole) == len(tiled)
    np.testing.assert_allclose(key(whole), key(tiled), rtol=1e-9)


def test_diagonal_touch_across_tile_corner_is_one_region() -> None:
    classes = np.zeros((32, 32), dtype=np.uint8)
    classes[15, 15] = 1  # bottom-right pixel of tile (0, 0)
    classes[16, 16] = 1  # top-left pixel of tile (1, 1)
    classes[15, 16] = 0
    _, regions = _label_tiled(classes, 16)
    assert len(regions) == 1
    assert regions.count[0] == 2
