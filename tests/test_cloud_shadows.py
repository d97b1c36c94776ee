"""The shadows of a Level-1C product's clouds, cast from the sun's angles (`cloud_shadows`).

The product is a window of the real Sentinel-2 sample (winter farmland, 2017-02-16) written as
a Level-1C product with the sun's angles of its date and place (`SAMPLE_SUN`). ESA's MSK_CLASSI
cannot be had offline, so its opaque-cloud block is a stand-in written here; the cloud's shadow
is a stand-in too: the real pixels where a cloud 600 m high would cast it, darkened to the
diffuse light (0.4 of their values in every band)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.raster.cloud_shadows import (
    MAX_CLOUD_HEIGHT_M,
    SunAngles,
    casting_clouds,
    shadow_offsets,
    sun_angles,
    swept,
)
from tests.test_cli import run_spex

#: The window of the sample scene: farmland, 64 x 64 pixels of 60 m.
WINDOW = Window(1008, 384, 384, 384)
#: The stand-in cloud on the 60 m grid (rows, columns).
CLOUD = (slice(44, 50), slice(40, 46))


def _shadow_block(height_m: float, sun: SunAngles) -> tuple[slice, slice]:
    """Where, on the 60 m grid, the stand-in cloud's shadow falls at `height_m`."""
    from bench.sentinel2_safe import SAMPLE_SUN

    assert (sun.zenith, sun.azimuth) == SAMPLE_SUN
    reach = height_m * math.tan(math.radians(sun.zenith)) / 60
    dr = round(reach * math.cos(math.radians(sun.azimuth)))
    dc = round(-reach * math.sin(math.radians(sun.azimuth)))
    rows, cols = CLOUD
    return slice(rows.start + dr, rows.stop + dr), slice(cols.start + dc, cols.stop + dc)


def _level1c_with_cloud(folder: Path, s2_scene: Path, shadow: tuple[slice, slice] | None) -> str:
    """The stand-in product, its MSK_CLASSI flagging `CLOUD` as opaque, the 10 m pixels under
    `shadow` (60 m rows, columns) darkened; its 10 m layer."""
    from bench.sentinel2_safe import SAMPLE_SUN, layer, scene_values, write_scene_window

    values = scene_values(s2_scene, WINDOW)
    if shadow is not None:
        rows, cols = (slice(s.start * 6, s.stop * 6) for s in shadow)
        for band in values.values():
            band[rows, cols] *= 0.4
    mtd = write_scene_window(folder, s2_scene, WINDOW, values, level="L1C", sun=SAMPLE_SUN)
    granule = next(mtd.parent.glob("GRANULE/*"))
    with rasterio.open(next(granule.glob("IMG_DATA/*_B01.jp2"))) as b01:
        profile = {k: v for k, v in b01.profile.items() if k != "tiled"}
    flags = np.zeros((3, profile["height"], profile["width"]), dtype="uint8")
    flags[0][CLOUD] = 1
    classi = granule / "QI_DATA" / "MSK_CLASSI_B00.jp2"
    classi.parent.mkdir(exist_ok=True)
    with rasterio.open(classi, "w", **profile | {"count": 3, "dtype": "uint8"},
                       QUALITY=100, REVERSIBLE="YES") as dst:  # fmt: skip
        dst.write(flags)
    return layer(mtd, 10)


def _grid_10m(block: tuple[slice, slice], shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, dtype=bool)
    out[block[0].start * 6 : block[0].stop * 6, block[1].start * 6 : block[1].stop * 6] = True
    return out


def test_a_level1c_clouds_shadow_is_hidden_with_it(s2_scene: Path, tmp_path: Path) -> None:
    """The cloud and its shadow are hidden; nothing on the sun's side of the cloud is; the
    explanation and run.json say how much was cast, from which sun."""
    from bench.sentinel2_safe import SAMPLE_SUN

    sun = SunAngles(*SAMPLE_SUN)
    shadow = _shadow_block(600, sun)
    given = _level1c_with_cloud(tmp_path / "shadowed", s2_scene, shadow)
    result = extract(ExtractionRequest(given, "water", tmp_path / "out", mask_clouds=True))
    with rasterio.open(result.mask_path) as mask:
        hidden = mask.read(1) == 255
    cloud = _grid_10m(CLOUD, hidden.shape)
    cast = _grid_10m(shadow, hidden.shape)
    assert hidden[cloud].all()
    # the darkened pixels that are not water-like (NIR not below green) are all hidden
    with rasterio.open(s2_scene) as src:
        green, nir = (src.read(b, window=WINDOW) for b in (3, 8))
    assert hidden[cast & (nir >= green)].all()
    # what else is hidden lies away from the sun: north of the cloud's southern edge
    rows = np.nonzero(hidden & ~cloud)[0]
    assert rows.max() < CLOUD[0].stop * 6
    record = result.manifest["input"]["cloud_mask"]
    assert record["sun"] == {"zenith": sun.zenith, "azimuth": sun.azimuth}
    assert record["cast_shadow_pixels"] == int((hidden & ~cloud).sum())
    assert record["hidden_pixels"] == int(hidden.sum())
    text = result.explanation_path.read_text(encoding="utf-8")
    cast = f"and the shadows those clouds cast ({record['cast_shadow_pixels']:,} pixels: "
    assert cast in text
    assert "azimuth 163 deg, zenith 67 deg" in text
    # `spex inspect` counts them before a run
    inspected = run_spex("inspect", given)
    share = record["hidden_pixels"] / record["flagged_pixels"]
    said = f", and {record['cast_shadow_pixels']:,} pixels of their shadows: {share:.1%} of"
    assert said in inspected.stdout, inspected.stdout + inspected.stderr


def test_a_cloud_over_lit_land_casts_no_shadow(s2_scene: Path, tmp_path: Path) -> None:
    """Without a shadow on the ground (haze, thin cloud), no height puts the cloud on dark
    pixels: only the cloud is hidden, and the explanation says so by counting none."""
    given = _level1c_with_cloud(tmp_path / "lit", s2_scene, None)
    result = extract(ExtractionRequest(given, "water", tmp_path / "out", mask_clouds=True))
    with rasterio.open(result.mask_path) as mask:
        hidden = mask.read(1) == 255
    assert np.array_equal(hidden, _grid_10m(CLOUD, hidden.shape))
    assert result.manifest["input"]["cloud_mask"]["cast_shadow_pixels"] == 0


def test_the_sun_angles_are_read_from_the_tile_metadata(s2_scene: Path, tmp_path: Path) -> None:
    from bench.sentinel2_safe import SAMPLE_SUN, write_scene_window

    with_sun = write_scene_window(tmp_path / "a", s2_scene, WINDOW, level="L1C", sun=SAMPLE_SUN)
    without = write_scene_window(tmp_path / "b", s2_scene, WINDOW, level="L1C")
    low_sun = write_scene_window(tmp_path / "c", s2_scene, WINDOW, level="L1C", sun=(85.0, 160.0))
    qi = "GRANULE/{}/QI_DATA/MSK_CLASSI_B00.jp2"
    found = [
        sun_angles(str(mtd.parent / qi.format(next(mtd.parent.glob("GRANULE/*")).name)))
        for mtd in (with_sun, without, low_sun)
    ]
    assert found == [SunAngles(*SAMPLE_SUN), None, None]


def test_a_shadow_falls_away_from_the_sun() -> None:
    """A sun in the south casts shadows north (up), one in the east casts them west; they
    reach as far as the highest cloud at that zenith."""
    south = shadow_offsets(SunAngles(45.0, 180.0), 10.0)
    assert south[0] == (0, 0) and all(dc == 0 and dr <= 0 for dr, dc in south)
    assert south[-1] == (-round(MAX_CLOUD_HEIGHT_M / 10), 0)
    east = shadow_offsets(SunAngles(60.0, 90.0), 30.0)
    assert all(dr == 0 and dc <= 0 for dr, dc in east)
    assert east[-1][1] == -int(MAX_CLOUD_HEIGHT_M * math.tan(math.radians(60)) / 30)
    # one pixel apart: a diagonal sweep leaves no gap
    diagonal = shadow_offsets(SunAngles(45.0, 135.0), 60.0)
    steps = np.diff(np.array(diagonal), axis=0)
    assert np.abs(steps).max() == 1


def test_only_a_cloud_whose_shape_lands_on_dark_ground_casts() -> None:
    """Two clouds; dark ground in the shape of the first, 5 pixels north of it: the first
    casts, the second (as dark ground around it as anywhere) does not."""
    clouds = np.zeros((60, 60), dtype=bool)
    clouds[30:36, 10:16] = True
    clouds[30:36, 40:46] = True
    possible = np.zeros_like(clouds)
    possible[25:31, 10:16] = True
    possible[::7, ::7] = True  # scattered dark pixels: chance
    offsets = shadow_offsets(SunAngles(45.0, 180.0), 60.0)
    casting = casting_clouds(clouds, possible & ~clouds, offsets)
    assert casting[30:36, 10:16].all() and not casting[:, 30:].any()
    reach = swept(casting, offsets) & ~clouds
    assert reach[:30, 10:16].all() and not reach[36:].any() and not reach[:, 16:].any()


def test_a_damaged_band_is_refused_in_one_line(s2_scene: Path, tmp_path: Path) -> None:
    """A B08 that is no image: the command line says which band cannot be read and what to
    do, with no traceback."""
    from bench.sentinel2_safe import SAMPLE_SUN
    from tests.test_cli import run_spex

    given = _level1c_with_cloud(
        tmp_path / "p", s2_scene, _shadow_block(600, SunAngles(*SAMPLE_SUN))
    )
    b08 = next((tmp_path / "p").glob("*.SAFE/GRANULE/*/IMG_DATA/*_B08.jp2"))
    b08.write_bytes(b"not a JPEG 2000 file")
    done = run_spex("extract", given, "--prompt", "water", "--mask-clouds", "--out", tmp_path / "o")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "B03 or B08 band cannot be read to cast its clouds' shadows" in done.stderr, done.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # the zip's top
def test_a_zipped_level1c_product_casts_the_same_shadows(s2_scene: Path, tmp_path: Path) -> None:
    """The product zipped as downloaded: the tile metadata, B03 and B08 are read inside the
    zip, and the same pixels are hidden as from its folder."""
    from bench.sentinel2_safe import SAMPLE_SUN
    from tests.test_sentinel2_safe import _zipped

    shadow = _shadow_block(600, SunAngles(*SAMPLE_SUN))
    given = _level1c_with_cloud(tmp_path / "p", s2_scene, shadow)
    archive = _zipped(next((tmp_path / "p").glob("*.SAFE")), tmp_path)
    hidden = []
    for source, out in ((given, "folder"), (str(archive), "zip")):
        result = extract(ExtractionRequest(source, "water", tmp_path / out, mask_clouds=True))
        with rasterio.open(result.mask_path) as mask:
            hidden.append(mask.read(1) == 255)
        assert result.manifest["input"]["cloud_mask"]["sun"] is not None, out
    assert np.array_equal(*hidden)
    assert hidden[1][_grid_10m(shadow, hidden[1].shape)].any()
