"""Tile reads assembled from cells decoded once, and the sample read in threads, give the bytes
of direct reads, on the real Sentinel-2 scene (tiled and striped, compressed), with halos,
extents and edge tiles."""

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
    from spex.engine.raster import raster_source

    with rasterio.open(layouts["tiled"]) as dataset:
        monkeypatch.setattr(raster_source, "SAMPLE_CHUNK", 128)  # many chunk rows to share out
        monkeypatch.setattr(raster_source, "default_read_threads", lambda: 3)
        parallel, step = raster_source._read_decimated(dataset, [2, 3, 8], 50_000)
        monkeypatch.setattr(raster_source, "default_read_threads", lambda: 1)
        sequential, _ = raster_source._read_decimated(dataset, [2, 3, 8], 50_000)
    assert step > 1 and parallel.shape == sequential.shape
    np.testing.assert_array_equal(parallel, sequential)


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
