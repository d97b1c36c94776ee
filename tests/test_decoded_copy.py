"""The decoded copy the sample read keeps of a compressed input: the raster's own bytes for any
window, only the bands asked for, only where it pays, a fallback to the raster when the disk is
full, and outputs byte-identical to runs without it (the real Sentinel-2 scene, deflate)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.raster import decoded_copy
from spex.engine.raster.raster_source import open_source

WINDOWS = [
    Window(0, 0, 512, 512),  # one chunk exactly (two by two 256 px blocks)
    Window(450, 400, 300, 300),  # across four chunks
    Window(1536 - 37, 768 - 5, 37, 5),  # the bottom-right edge chunk
    Window(700, 3, 1, 1),  # one pixel
    Window(0, 0, 1536, 768),  # the whole raster
]


def _direct(path: Path, bands: list[int], window: Window) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read(bands, window=window)


@pytest.mark.parametrize("window", WINDOWS, ids=["chunk", "across", "edge", "pixel", "whole"])
def test_copy_gives_the_bytes_of_the_raster(s2_scene: Path, tmp_path: Path, window: Window) -> None:
    with open_source(s2_scene, decoded_dir=tmp_path / "decoded") as source:
        assert source.decoded is not None  # deflate: worth a copy
        assert source.decoded.bands == tuple(range(1, 14))  # every band has a role
        roles = ("blue", "nir", "swir2")
        indexes = [source.mapping.roles.index(r) + 1 for r in roles]
        source.dataset.close()  # any read that still went to GDAL would now fail
        got = source.read_raw(window, roles)
    np.testing.assert_array_equal(got, _direct(s2_scene, indexes, window))
    assert got.dtype == np.uint16


def test_the_sample_is_the_same_with_the_copy(s2_scene: Path, tmp_path: Path) -> None:
    with open_source(s2_scene) as plain, open_source(s2_scene, decoded_dir=tmp_path) as kept:
        a, b = plain.read_sample(), kept.read_sample()
        assert plain.decoded is None and kept.decoded is not None
    assert list(a.bands) == list(b.bands)
    for role in a.bands:
        np.testing.assert_array_equal(a.bands[role], b.bands[role])


def test_only_the_planned_bands_are_kept(s2_scene: Path, tmp_path: Path) -> None:
    asked: list[tuple[str, ...]] = []

    def planned(roles: tuple[str, ...]) -> tuple[str, ...]:
        asked.append(roles)
        return ("red", "nir")

    window = Window(100, 200, 300, 300)
    with open_source(s2_scene, decoded_dir=tmp_path, decoded_roles=planned) as source:
        assert asked == [source.roles]
        assert source.decoded is not None and source.decoded.bands == (4, 8)
        assert len(list(tmp_path.glob("*.npy"))) == 2 * 3  # 768 x 1536 in 512 px chunks
        np.testing.assert_array_equal(
            source.read_raw(window, ("red", "nir")), _direct(s2_scene, [4, 8], window)
        )
        # A band outside the copy is read from the raster.
        np.testing.assert_array_equal(
            source.read_raw(window, ("blue", "red")), _direct(s2_scene, [2, 4], window)
        )


def test_no_copy_of_an_uncompressed_raster(s2_scene: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.tif"
    with rasterio.open(s2_scene) as src:
        profile = src.profile | {"compress": None}
        with rasterio.open(plain, "w", **profile) as dst:
            dst.write(src.read())
    with open_source(
        plain,
        bands="coastal,blue,green,red,rededge1,rededge2,rededge3,nir,nir08,"
        "watervapour,cirrus,swir1,swir2",
        decoded_dir=tmp_path / "d",
    ) as source:
        assert source.decoded is None  # its reads are already a memory copy
    assert not (tmp_path / "d").exists()


def test_no_copy_larger_than_the_page_cache_holds(
    s2_scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = 768 * 1536 * 13 * 2  # the scene's 13 uint16 bands
    monkeypatch.setattr(decoded_copy, "physical_memory_bytes", lambda: int(size / 0.05) - 1)
    with open_source(s2_scene, decoded_dir=tmp_path / "d") as source:
        assert source.decoded is None
    monkeypatch.setattr(decoded_copy, "physical_memory_bytes", lambda: int(size / 0.05) + 20)
    with open_source(s2_scene, decoded_dir=tmp_path / "e") as source:
        assert source.decoded is not None


def test_a_full_disk_costs_the_copy_not_the_run(
    s2_scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(decoded_copy.np, "save", disk_full)
    window = Window(10, 20, 400, 300)
    with open_source(s2_scene, decoded_dir=tmp_path) as source:
        assert source.decoded is not None and source.decoded.failed
        np.testing.assert_array_equal(
            source.read_raw(window, ("green",)), _direct(s2_scene, [3], window)
        )


def test_extract_outputs_do_not_change_with_the_copy(
    s2_scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt = "extract the water bodies and vegetation"
    with_copy = extract(ExtractionRequest(s2_scene, prompt, tmp_path / "copy", tile_size=300))
    monkeypatch.setattr(decoded_copy, "MAX_DISK_SHARE", 0.0)  # no room: tiles decode again
    without = extract(ExtractionRequest(s2_scene, prompt, tmp_path / "none", tile_size=300))
    manifests = [json.loads(r.manifest_path.read_text()) for r in (with_copy, without)]
    assert [m["tiling"]["decoded_copy"] for m in manifests] == [True, False]
    assert with_copy.mask_path.read_bytes() == without.mask_path.read_bytes()
    assert manifests[0]["counts"] == manifests[1]["counts"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy", "none"]  # no work folder left
    assert not list((tmp_path / "copy").rglob("*.npy"))
