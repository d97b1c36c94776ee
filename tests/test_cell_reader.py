"""Tile reads assembled from cells decoded once, and the sample read in threads or by direct
I/O, give the bytes of direct reads, on the real Sentinel-2 scene (tiled and striped,
compressed and not), with halos, extents and edge tiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine.raster.cell_reader import CellReader
from spex.engine.raster.raster_source import open_source
from spex.engine.raster.windows import make_grid


def _copy(src_path: Path, dst_path: Path, **layout: object) -> Path:
    with rasterio.open(src_path) as src:
        profile = src.profile | {"compress": "deflate", "interleave": "pixel"} | layout
        with rasterio.open(dst_path, "w", **profile) as dst:
            dst.write(src.read())
            for i, name in enumerate(src.descriptions, start=1):
                dst.set_band_description(i, name)
    return dst_path


@pytest.fixture(scope="module")
def layouts(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("layouts")
    return {
        "tiled": _copy(s2_scene, folder / "tiled.tif", tiled=True, blockxsize=128, blockysize=128),
        "striped": _copy(s2_scene, folder / "striped.tif", tiled=False, blockysize=8),
    }


@pytest.mark.parametrize("layout", ["tiled", "striped"])
@pytest.mark.parametrize(
    ("tile_size", "halo", "area"),
    [(256, 5, None), (200, 9, Window(37, 55, 700, 500)), (128, 0, None)],
    ids=["aligned", "extent", "no-halo"],
)
def test_cells_give_the_bytes_of_direct_reads(
    layouts: dict[str, Path], layout: str, tile_size: int, halo: int, area: Window | None
) -> None:
    with open_source(layouts[layout]) as source:
        grid = make_grid(source.width, source.height, tile_size, halo, area)
        roles = ("blue", "green", "nir", "swir1")
        reader = CellReader(source, grid, roles)
        decoded: list[Window] = []
        read_raw = source.read_raw
        source.read_raw = lambda window, r: decoded.append(window) or read_raw(window, r)  # type: ignore[method-assign]
        for tile in grid:
            got = reader.read(tile)
            want = source.scale_raw(read_raw(tile.read, roles), roles)  # a direct read
            assert list(got) == list(want)
            for role in roles:
                np.testing.assert_array_equal(got[role], want[role])
        assert reader.cells_held == 0  # every cell dropped once its last tile was read
        cells = [(int(w.row_off), int(w.col_off)) for w in decoded]
        assert len(cells) == len(set(cells))  # each cell decoded once


def test_parallel_sample_read_gives_the_sequential_bytes(
    layouts: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The global sample is read by several threads, each with its own handle: same bytes."""
    from spex.engine.raster import decimated_read

    with rasterio.open(layouts["tiled"]) as dataset:
        monkeypatch.setattr(decimated_read, "SAMPLE_CHUNK", 128)  # many chunk rows to share out
        monkeypatch.setattr(decimated_read, "default_read_threads", lambda: 3)
        parallel, step = decimated_read.read_decimated(dataset, [2, 3, 8], 50_000)
        monkeypatch.setattr(decimated_read, "default_read_threads", lambda: 1)
        sequential, _ = decimated_read.read_decimated(dataset, [2, 3, 8], 50_000)
    assert step > 1 and parallel.shape == sequential.shape
    np.testing.assert_array_equal(parallel, sequential)


@pytest.mark.parametrize(
    "layout",
    [
        {"compress": None, "tiled": True, "blockxsize": 128, "blockysize": 128},
        {"compress": None, "tiled": False, "blockysize": 8, "interleave": "band"},
    ],
    ids=["uncompressed-tiled-pixel", "uncompressed-striped-band"],
)
@pytest.mark.parametrize("max_pixels", [50_000, 31_000, 9_750])
def test_uncompressed_sample_by_direct_io_takes_the_grid_pixels(
    s2_scene: Path, tmp_path: Path, layout: dict, max_pixels: int
) -> None:
    """GDAL's decimated read with direct I/O (uncompressed GeoTIFFs) gives exactly every
    step-th pixel from step // 2, the last row and column included where their windows would
    pass the edge (steps 5, 7 and 11 on 768 x 1536: the last row, or the last row, column
    and corner, read on their own)."""
    from spex.engine.raster import decimated_read

    path = _copy(s2_scene, tmp_path / "plain.tif", **layout)
    with rasterio.open(path) as dataset:
        assert decimated_read._direct_io_applies(dataset)
        got, step = decimated_read.read_decimated(dataset, [2, 8, 12], max_pixels)
        whole = dataset.read([2, 8, 12])
        chunked = decimated_read._read_decimated_chunks(dataset, [2, 8, 12], int(step))
    phase = int(step) // 2
    np.testing.assert_array_equal(got, whole[:, phase :: int(step), phase :: int(step)])
    np.testing.assert_array_equal(got, chunked)


def test_a_raster_too_wide_for_the_budget_is_read_window_by_window(
    layouts: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from spex.engine.raster import cell_reader

    monkeypatch.setattr(cell_reader, "CELL_BUDGET_MB", 1)
    with open_source(layouts["tiled"]) as source:
        grid = make_grid(source.width, source.height, 256, 4)
        reader = CellReader(source, grid, ("green", "nir"))
        assert not reader.enabled
        for tile in list(grid)[:4]:
            got, want = reader.read(tile), source.read(tile.read, ("green", "nir"))
            np.testing.assert_array_equal(got["nir"], want["nir"])
        assert reader.cells_held == 0


def test_a_raster_with_overviews_is_sampled_from_its_full_resolution(
    s2_scene: Path, tmp_path: Path
) -> None:
    """A decimated read would take an overview's pixels: an uncompressed GeoTIFF with
    overviews is sampled by the chunked read, the same grid pixels as without them."""
    from rasterio.enums import Resampling

    from spex.engine.raster import decimated_read

    path = _copy(s2_scene, tmp_path / "ovr.tif", compress=None, tiled=True)
    with rasterio.open(path, "r+") as dataset:
        dataset.build_overviews([2, 4, 8], Resampling.average)
    with rasterio.open(path) as dataset:
        assert dataset.overviews(1) and not decimated_read._direct_io_applies(dataset)
        got, step = decimated_read.read_decimated(dataset, [3, 8], 31_000)
        whole = dataset.read([3, 8])
    phase = int(step) // 2
    np.testing.assert_array_equal(got, whole[:, phase :: int(step), phase :: int(step)])
