"""GeoTiffSink: a product file's bytes depend on its pixels alone, not on the order or the
timing in which GDAL's block cache wrote its blocks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import gdal
from rasterio.windows import Window

from spex.engine.raster.raster_sink import GeoTiffSink

#: The part of the real scene written (larger than the cache below, several blocks).
AREA = Window(0, 0, 700, 600)
#: Windows smaller than the sink's 256 px blocks: every block is written by several of them.
TILE = 96


def _write(path: Path, like: rasterio.DatasetReader, values: np.ndarray, reverse: bool) -> None:
    """Write `values` tile by tile, in row-major order or its reverse, through a block cache
    too small to hold the file (so blocks are flushed half-written along the way)."""
    height, width = values.shape
    windows = [
        Window(c, r, min(TILE, width - c), min(TILE, height - r))
        for r in range(0, height, TILE)
        for c in range(0, width, TILE)
    ]
    with (
        rasterio.Env(GDAL_CACHEMAX=1),
        GeoTiffSink(path, like, "uint8", nodata=255, area=AREA, ordered=True) as sink,
    ):
        sink.describe(["class"], {0: (0, 0, 0), 1: (30, 120, 220)}, {"CLASS_1": "water"})
        for window in reversed(windows) if reverse else windows:
            rows = slice(window.row_off, window.row_off + window.height)
            cols = slice(window.col_off, window.col_off + window.width)
            sink.write(values[rows, cols], window)


def _block_layout(path: Path) -> tuple[list[int], list[int]]:
    """Offsets and sizes of the file's blocks, as its directory lists them."""
    dataset = gdal.Open(str(path))
    band = dataset.GetRasterBand(1)
    x_blocks = -(-dataset.RasterXSize // band.GetBlockSize()[0])
    y_blocks = -(-dataset.RasterYSize // band.GetBlockSize()[1])
    offsets, sizes = [], []
    for y in range(y_blocks):
        for x in range(x_blocks):
            offsets.append(int(band.GetMetadataItem(f"BLOCK_OFFSET_{x}_{y}", "TIFF")))
            sizes.append(int(band.GetMetadataItem(f"BLOCK_SIZE_{x}_{y}", "TIFF")))
    return offsets, sizes


def test_a_product_file_is_the_same_bytes_whatever_order_its_tiles_came_in(
    s2_scene: Path, tmp_path: Path
) -> None:
    """A class raster from a real scene (its red band's quartiles), written in two orders."""
    with rasterio.open(s2_scene) as like:
        red = like.read(like.descriptions.index("B4") + 1, window=AREA)
        values = np.digitize(red, np.percentile(red, [25, 50, 75])).astype(np.uint8)
        _write(tmp_path / "forward.tif", like, values, reverse=False)
        _write(tmp_path / "backward.tif", like, values, reverse=True)
    forward, backward = tmp_path / "forward.tif", tmp_path / "backward.tif"
    assert forward.read_bytes() == backward.read_bytes()
    with rasterio.open(forward) as written:
        assert (written.read(1) == values).all()
        assert written.block_shapes[0] == (256, 256)
        assert written.colormap(1)[1] == (30, 120, 220, 255)
        assert written.tags()["CLASS_1"] == "water" and written.nodata == 255
    offsets, sizes = _block_layout(forward)
    # Every block written once, in order, each right after the one before: no dead space.
    assert all(
        b == a + size for a, b, size in zip(offsets[:-1], offsets[1:], sizes[:-1], strict=True)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backward.tif", "forward.tif"]


def test_an_interrupted_product_file_leaves_nothing(s2_scene: Path, tmp_path: Path) -> None:
    """A run cancelled while it writes its mask leaves neither the mask nor its scratch file."""
    with (
        rasterio.open(s2_scene) as like,
        pytest.raises(KeyboardInterrupt),
        GeoTiffSink(tmp_path / "mask.tif", like, "uint8", area=AREA, ordered=True) as sink,
    ):
        sink.write(np.ones((100, 100), np.uint8), Window(0, 0, 100, 100))
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
