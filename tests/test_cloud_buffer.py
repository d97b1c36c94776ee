"""The cloud buffer (``--cloud-buffer``): with ``--mask-clouds``, the pixels within a distance of
the product's flagged clouds are hidden too. The product is the real Sentinel-2 sample (10 m)
written as a Landsat product with a stand-in QA_PIXEL (no CFMask run offline; a 40 x 40 cloud
shadow block over the lake, `test_product_quality`). The expected pixels are measured here
from each pixel's centre to the block's nearest pixel centre, apart from the engine's own
distance transform."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from spex.engine import ExtractionRequest, extract
from spex.engine.passes.pixel_areas import pixel_metres
from spex.engine.raster import cloud_masking
from spex.engine.raster.cloud_masking import widened
from tests.rasters import LANDSAT_PRODUCT, landsat_product_folder
from tests.test_cli import run_spex
from tests.test_product_quality import _stand_in_qa_pixel, stand_in_shadow


def within(flags: np.ndarray, metres: float, spacing: tuple[float, float]) -> np.ndarray:
    """Pixels whose centre lies within `metres` of a flagged pixel's centre (brute force over
    the flags' bounding box, which is a full rectangle here)."""
    rows, cols = np.nonzero(flags)
    r = np.arange(flags.shape[0])[:, None]
    c = np.arange(flags.shape[1])[None, :]
    dy = np.maximum(0, np.maximum(rows.min() - r, r - rows.max())) * spacing[0]
    dx = np.maximum(0, np.maximum(cols.min() - c, c - cols.max())) * spacing[1]
    return np.hypot(dy, dx) <= metres


def test_a_buffer_hides_the_pixels_near_the_clouds_too(s2_scene: Path, tmp_path: Path) -> None:
    folder = landsat_product_folder(s2_scene, tmp_path)
    shadow = stand_in_shadow(_stand_in_qa_pixel(folder))
    plain = extract(ExtractionRequest(folder, "water", tmp_path / "plain", mask_clouds=True))
    wide = extract(
        ExtractionRequest(folder, "water", tmp_path / "wide", mask_clouds=True, cloud_buffer_m=45)
    )
    expected = within(shadow, 45, (10.0, 10.0))
    assert expected.sum() > shadow.sum()  # the buffer reaches 4 pixels out
    with rasterio.open(wide.mask_path) as mask:
        assert np.array_equal(mask.read(1) == 255, expected)
    record = wide.manifest["input"]["cloud_mask"]
    assert (record["hidden_pixels"], record["buffer_m"]) == (int(expected.sum()), 45)
    assert plain.manifest["input"]["cloud_mask"]["hidden_pixels"] == 1600
    assert wide.manifest["counts"]["valid_pixels"] == (
        plain.manifest["counts"]["valid_pixels"] - int(expected.sum()) + 1600
    )
    text = wide.explanation_path.read_text(encoding="utf-8")
    assert "cirrus or cloud shadow, widened by 45 m;" in text, text


def test_the_buffered_mask_is_the_same_whatever_its_row_blocks(
    s2_scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mask is written in row blocks, each read with the rows the buffer reaches across:
    blocks of 7 rows (the block's edges cut through the cloud and its buffer) give the mask
    of one block."""
    folder = landsat_product_folder(s2_scene, tmp_path)
    qa = _stand_in_qa_pixel(folder)
    masks = []
    with rasterio.open(folder / f"{LANDSAT_PRODUCT}_SR_B3.TIF") as band:
        for rows in (7, band.height):
            monkeypatch.setattr(cloud_masking, "ROWS", rows)
            path = tmp_path / f"mask{rows}.tif"
            cloud_masking._write_mask(str(qa), "QA_PIXEL", band, path, 45.0)
            with rasterio.open(path) as written:
                masks.append((written.read(1), written.tags()["HIDDEN_PIXELS"]))
    assert np.array_equal(masks[0][0], masks[1][0]) and masks[0][1] == masks[1][1]
    assert np.array_equal(masks[0][0] == 0, within(stand_in_shadow(qa), 45, (10.0, 10.0)))


def test_a_buffer_on_a_geographic_grid_is_measured_in_metres() -> None:
    """At 60 degrees north a degree of longitude is half a degree of latitude: a buffer reaches
    twice as many columns as rows."""
    transform = from_origin(10.0, 60.0 + 50 * 1e-4, 1e-4, 1e-4)  # row 50 lies on 60 N
    profile = {"driver": "GTiff", "width": 100, "height": 100, "count": 1, "dtype": "uint8",
               "crs": "EPSG:4326", "transform": transform}  # fmt: skip
    with MemoryFile() as memory, memory.open(**profile) as grid:
        spacing = pixel_metres(grid, 50)
    assert spacing[0] == pytest.approx(11.12, abs=0.01)
    assert spacing[1] == pytest.approx(spacing[0] / 2, rel=1e-6)
    cloud = np.zeros((21, 21), dtype=bool)
    cloud[10, 10] = True
    hidden = widened(cloud, 23.0, spacing)
    assert np.array_equal(hidden, within(cloud, 23.0, spacing))
    rows, cols = np.nonzero(hidden)
    assert (rows.max() - 10, cols.max() - 10) == (2, 4)


def test_the_command_line_refuses_a_buffer_it_cannot_apply(s2_scene: Path, tmp_path: Path) -> None:
    """A buffer without --mask-clouds, or no distance: one line each, no traceback, no output;
    in `spex indices` too."""
    folder = landsat_product_folder(s2_scene, tmp_path)
    _stand_in_qa_pixel(folder)
    for extra, said in (
        (("--cloud-buffer", "60"), "widens the clouds that --mask-clouds hides; add --mask-clouds"),
        (("--cloud-buffer", "-5", "--mask-clouds"), "Cloud buffer -5 m is not a distance"),
        (("--cloud-buffer", "9000", "--mask-clouds"), "from 0 to 2,000 m"),
    ):
        for command in (
            ("extract", folder, "--prompt", "water", "--out", tmp_path / "out"),
            ("indices", folder, "--index", "NDVI", "--out", tmp_path / "ndvi.tif"),
        ):
            done = run_spex(*command, *extra)
            assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
            assert len(done.stderr.strip().splitlines()) == 1 and said in done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "ndvi.tif").exists()
    done = run_spex("indices", folder, "--index", "NDVI", "--out", tmp_path / "ndvi.tif",
                    "--mask-clouds", "--cloud-buffer", "20")  # fmt: skip
    assert done.returncode == 0, done.stderr
    with rasterio.open(tmp_path / "ndvi.tif") as ndvi:
        hidden = ndvi.read(1, masked=True).mask
    assert np.array_equal(hidden, within(stand_in_shadow(folder / f"{LANDSAT_PRODUCT}_QA_PIXEL.TIF"),
                                         20, (10.0, 10.0)))  # fmt: skip


@pytest.mark.parametrize(
    ("buffer_m", "spacing"),
    [(30.0, (10.0, 10.0)), (45.0, (10.0, 10.0)), (300.0, (30.0, 30.0)), (50.0, (11.1, 5.6))],
)
def test_the_buffer_is_the_disk_a_distance_transform_gives(
    buffer_m: float, spacing: tuple[float, float]
) -> None:
    """The union of rectangles is exactly the Euclidean disk: scattered clouds against SciPy's
    distance transform (ties at exactly the buffer's distance are within it)."""
    from scipy.ndimage import distance_transform_edt

    clouds = np.random.default_rng(7).random((120, 150)) > 0.995
    expected = distance_transform_edt(~clouds, sampling=spacing) <= buffer_m + 1e-9
    assert np.array_equal(widened(clouds, buffer_m, spacing), expected)
