"""Images taken below the clouds seed no cloud class: an airborne sensor's (``SensorPreset.airborne``:
NAIP) and any of pixels finer than a satellite product's (a drone's). On their counts the cloud
tests cannot tell sand, concrete or white roofs from cloud, and the flight's clear sky can.
Measured on geo-bench's NAIP patches (`tests/test_held_out_scenes.py`)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from spex.engine import ExtractionRequest, extract
from spex.engine.backends.spectral.detectable import AIRBORNE_PIXEL_M, taken_below_clouds
from spex.engine.backends.spectral.seeds import select_seeds
from spex.engine.raster.raster_source import open_source
from spex.engine.raster.sensors import load_presets


def test_naip_and_drone_maps_are_the_airborne_presets() -> None:
    """Kept as data (`resources/sensors`): what takes the images; the satellites' presets
    (PlanetScope, Maxar's 1-2 m WorldView, which do see cloud) are not airborne."""
    airborne = {name: p.airborne for name, p in load_presets().items() if p.airborne}
    assert sorted(airborne) == ["drone_reflectance_maps", "naip"]
    assert airborne["naip"].startswith("an aircraft flown under clear skies")


def test_below_the_clouds_by_the_sensor_or_the_pixel_size() -> None:
    assert taken_below_clouds("NAIP", "an aircraft", 1.0) == "NAIP: taken by an aircraft"
    assert taken_below_clouds("WorldView-3", "", 1.2) == ""
    assert taken_below_clouds(None, "", 0.3) == ""  # pan-sharpened satellite products
    assert taken_below_clouds(None, "", None) == ""  # no CRS: the size is unknown
    assert "taken by a drone" in taken_below_clouds(None, "", AIRBORNE_PIXEL_M / 2)


@pytest.fixture(scope="module")
def hazy_sample(s2_scene: Path) -> dict[str, np.ndarray]:
    """The real Sentinel-2 scene's global sample, whose hazy corner seeds cloud."""
    with open_source(s2_scene) as src:
        return dict(src.read_sample().bands)


def test_an_image_below_the_clouds_seeds_no_cloud_and_says_why(hazy_sample) -> None:
    satellite = select_seeds(hazy_sample, calibrated=True)
    assert satellite.masks["cloud"].sum() > 100
    aerial = select_seeds(hazy_sample, calibrated=True, below_clouds="A camera: taken by a kite")
    assert "cloud" not in aerial.masks
    assert any(
        n.startswith("A camera: taken by a kite; the image's brightest") for n in aerial.notes
    )
    # The other classes' seeds are the satellite's; the cloud's candidates are left to the land.
    for cls in ("water", "vegetation", "snow"):
        assert np.array_equal(aerial.masks[cls], satellite.masks[cls]), cls
    land = aerial.masks["builtup"] | aerial.masks["bare"]
    assert land.sum() > (satellite.masks["builtup"] | satellite.masks["bare"]).sum()


def test_a_drone_sized_pixel_maps_no_cloud_end_to_end(s2_scene: Path, tmp_path: Path) -> None:
    """The real scene with its 10 m pixels relabelled 5 cm (a geometry-only fake: the values are
    a satellite's) maps no cloud, says why, and still maps the cloud at 10 m."""
    fine = tmp_path / "drone.tif"
    shutil.copy(s2_scene, fine)
    with rasterio.open(fine, "r+") as dst:
        t = dst.transform
        dst.transform = Affine(0.05, 0, t.c, 0, -0.05, t.f)
    for path, name in ((s2_scene, "satellite"), (fine, "drone")):
        extract(ExtractionRequest(path, "extract the clouds and the water", tmp_path / name))
    satellite = (tmp_path / "satellite" / "explanation.md").read_text(encoding="utf-8")
    drone = (tmp_path / "drone" / "explanation.md").read_text(encoding="utf-8")
    assert "taken below the clouds" not in satellite and _cloud_regions(satellite) > 10
    assert "pixels of 0.05 m, finer than any satellite product's" in drone
    assert _cloud_regions(drone) == 0


def _cloud_regions(explanation: str) -> int:
    """The cloud regions an explanation counts (``- cloud: 94 regions, ...``)."""
    found = re.search(r"^- cloud: ([\d,]+) regions", explanation, re.MULTILINE)
    assert found, "no cloud line in the explanation"
    return int(found.group(1).replace(",", ""))
