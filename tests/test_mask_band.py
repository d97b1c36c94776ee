"""Pixels GDAL's mask band hides are nodata: a drone orthophoto's alpha band (RGBA, white where
nothing was flown), an internal mask. Before, they were read as colours: white land, part of
every statistic and mapped as built-up or cloud. Each file is the real Sentinel-2 sample scene;
its twin declares the same pixels nodata, and every result must be the twin's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp
from rasterio.windows import Window

from spex.engine.raster.raster_source import open_source
from tests.test_cli import run_spex

WINDOW = Window(1024, 256, 256, 256)


def _hidden(shape: tuple[int, int]) -> np.ndarray:
    """A flight's outline: the pixels outside a disc, as an orthophoto's alpha band leaves them."""
    rows, cols = np.indices(shape)
    return (rows - shape[0] / 2) ** 2 + (cols - shape[1] / 2) ** 2 > (0.45 * shape[0]) ** 2


def _true_colour(s2_scene: Path) -> tuple[np.ndarray, dict]:
    """The scene's red, green and blue as an 8-bit orthophoto holds them (1..254)."""
    with rasterio.open(s2_scene) as src:
        index = {d: i for i, d in enumerate(src.descriptions, start=1)}
        dn = src.read([index[b] for b in ("B4", "B3", "B2")], window=WINDOW).astype("float32")
        profile = src.profile | {
            "width": WINDOW.width,
            "height": WINDOW.height,
            "transform": src.window_transform(WINDOW),
            "dtype": "uint8",
            "compress": "deflate",
            "photometric": "RGB",
        }
    return np.clip(dn / 12.0, 1, 254).astype("uint8"), profile


@pytest.fixture(scope="module")
def orthophotos(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(RGBA, white where alpha is 0; RGB with nodata 0 there)."""
    folder = tmp_path_factory.mktemp("ortho")
    rgb, profile = _true_colour(s2_scene)
    hidden = _hidden(rgb.shape[1:])
    rgba = folder / "odm_orthophoto.tif"
    # As OpenDroneMap and gdalwarp -dstalpha write it: the TIFF's extra sample is alpha.
    with rasterio.open(
        rgba, "w", **(profile | {"count": 4, "nodata": None, "alpha": "YES"})
    ) as dst:
        dst.write(np.where(hidden, 255, rgb), [1, 2, 3])
        dst.write(np.where(hidden, 0, 255).astype("uint8"), 4)
    with rasterio.open(rgba) as written:
        assert written.colorinterp[3] == ColorInterp.alpha
    twin = folder / "declared.tif"
    with rasterio.open(twin, "w", **(profile | {"count": 3, "nodata": 0})) as dst:
        dst.write(np.where(hidden, 0, rgb))
    return rgba, twin


def test_an_alpha_band_hides_its_pixels(orthophotos: tuple[Path, Path]) -> None:
    rgba, twin = orthophotos
    whole = Window(0, 0, WINDOW.width, WINDOW.height)
    with open_source(rgba) as src, open_source(twin) as declared:
        assert src.mapping.roles == ("red", "green", "blue", None)
        assert src.scaling == declared.scaling
        got, expected = src.read(whole), declared.read(whole)
        sample, twin_sample = src.read_sample(), declared.read_sample()
    hidden = _hidden((WINDOW.height, WINDOW.width))
    for role in ("red", "green", "blue"):
        assert np.isnan(got[role][hidden]).all() and not np.isnan(got[role][~hidden]).any()
        np.testing.assert_array_equal(got[role], expected[role])
        np.testing.assert_array_equal(sample.bands[role], twin_sample.bands[role])


def test_an_orthophoto_maps_as_its_twin_with_nodata(
    orthophotos: tuple[Path, Path], tmp_path: Path
) -> None:
    masks = []
    for raster in orthophotos:
        out = tmp_path / raster.stem
        done = run_spex("extract", raster, "--prompt", "land cover", "--out", out, "--quiet")
        assert done.returncode == 0, done.stderr
        with rasterio.open(out / "mask.tif") as mask:
            masks.append((mask.read(1), mask.nodata))
    (got, nodata), (expected, _) = masks
    np.testing.assert_array_equal(got, expected)
    assert (got[_hidden(got.shape)] == nodata).all()  # white outside the flight: no class
    shown = run_spex("inspect", orthophotos[0])
    assert "unused (transparency: its transparent pixels are nodata)" in shown.stdout


def test_an_internal_mask_hides_its_pixels(s2_scene: Path, tmp_path: Path) -> None:
    """Every band of the 13-band scene, with GDAL's internal mask (as COG and JPEG writers keep
    one) instead of a nodata value."""
    with rasterio.open(s2_scene) as src:
        data = src.read(window=WINDOW)
        profile = src.profile | {
            "width": WINDOW.width,
            "height": WINDOW.height,
            "transform": src.window_transform(WINDOW),
            "nodata": None,
        }
        descriptions = src.descriptions
    hidden = _hidden(data.shape[1:])
    masked = tmp_path / "masked.tif"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(masked, "w", **profile) as dst:
        dst.write(data)
        dst.descriptions = descriptions
        dst.write_mask(np.where(hidden, 0, 255).astype("uint8"))
    whole = Window(0, 0, WINDOW.width, WINDOW.height)
    with open_source(masked) as src:
        nir = src.read(whole, roles=("nir",))["nir"]
    assert np.isnan(nir[hidden]).all() and not np.isnan(nir[~hidden]).any()


def test_a_near_infrared_band_saved_as_alpha_is_read_as_data(
    s2_scene: Path, tmp_path: Path
) -> None:
    """GDAL saves four 8-bit bands as red, green, blue and alpha by default, so an RGB + NIR
    image (NAIP-like) exported with the defaults tags its NIR as transparency. Given a role, it
    is data: its zeros (dark water) are not hidden, and the run reads as its untagged twin."""
    with rasterio.open(s2_scene) as src:
        index = {d: i for i, d in enumerate(src.descriptions, start=1)}
        dn = src.read([index[b] for b in ("B4", "B3", "B2", "B8")], window=WINDOW)
        profile = src.profile | {
            "width": WINDOW.width,
            "height": WINDOW.height,
            "transform": src.window_transform(WINDOW),
            "dtype": "uint8",
            "count": 4,
            "nodata": None,
        }
    counts = np.clip(dn.astype("float32") / 12.0, 1, 254)
    counts[3] = np.clip(counts[3] - np.percentile(counts[3], 5), 0, 254)  # the darkest NIR is 0
    counts = counts.astype("uint8")
    zero_nir = counts[3] == 0
    assert zero_nir.mean() >= 0.04
    tagged, twin = tmp_path / "rgbn_defaults.tif", tmp_path / "rgbn_untagged.tif"
    with rasterio.open(tagged, "w", **profile) as dst:  # no photometric given: the default
        dst.write(counts)
    with rasterio.open(twin, "w", **(profile | {"photometric": "MINISBLACK"})) as dst:
        dst.write(counts)
    with rasterio.open(tagged) as written:
        assert written.colorinterp[3] == ColorInterp.alpha  # as GDAL writes it by default
    whole = Window(0, 0, WINDOW.width, WINDOW.height)
    roles = "red,green,blue,nir"
    with open_source(tagged, bands=roles) as src, open_source(twin, bands=roles) as plain:
        got, expected = src.read(whole), plain.read(whole)
        sample, twin_sample = src.read_sample(), plain.read_sample()
    assert not np.isnan(got["nir"][zero_nir]).any()
    for role in ("red", "green", "blue", "nir"):
        np.testing.assert_array_equal(got[role], expected[role])
        np.testing.assert_array_equal(sample.bands[role], twin_sample.bands[role])
    out = tmp_path / "run"
    done = run_spex(
        "extract", tagged, "--prompt", "water", "--bands", roles, "--out", out, "--quiet"
    )
    assert done.returncode == 0, done.stderr
    explanation = (out / "explanation.md").read_text(encoding="utf-8")
    assert "Band 4 is marked as transparency (alpha) in the file" in explanation
    with rasterio.open(out / "mask.tif") as mask:
        assert (mask.read(1)[zero_nir] != mask.nodata).all()  # no dark-NIR pixel left out
