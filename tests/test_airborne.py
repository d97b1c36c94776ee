"""Images an aircraft takes under clear skies (``SensorPreset.airborne``: NAIP) seed no cloud
class: on their counts the cloud tests cannot tell sand, concrete or white roofs from cloud, and
the flight's clear sky can. Measured on geo-bench's NAIP patches (`tests/test_held_out_scenes.py`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spex.engine.backends.spectral.seeds import select_seeds
from spex.engine.raster.raster_source import open_source
from spex.engine.raster.sensors import load_presets


def test_naip_is_the_one_airborne_preset() -> None:
    """Kept as data (`resources/sensors`): the satellites' presets (PlanetScope, Maxar's 1-2 m
    WorldView, which do see cloud) are not airborne."""
    assert [name for name, p in load_presets().items() if p.airborne] == ["naip"]


@pytest.fixture(scope="module")
def hazy_sample(s2_scene: Path) -> dict[str, np.ndarray]:
    """The real Sentinel-2 scene's global sample, whose hazy corner seeds cloud."""
    with open_source(s2_scene) as src:
        return dict(src.read_sample().bands)


def test_an_airborne_image_seeds_no_cloud_and_says_why(hazy_sample) -> None:
    satellite = select_seeds(hazy_sample, calibrated=True)
    assert satellite.masks["cloud"].sum() > 100
    aerial = select_seeds(hazy_sample, calibrated=True, airborne="An aerial camera")
    assert "cloud" not in aerial.masks
    assert any(n.startswith("An aerial camera is flown under clear skies") for n in aerial.notes)
    # The other classes' seeds are the satellite's; the cloud's candidates are left to the land.
    for cls in ("water", "vegetation", "snow"):
        assert np.array_equal(aerial.masks[cls], satellite.masks[cls]), cls
    land = aerial.masks["builtup"] | aerial.masks["bare"]
    assert land.sum() > (satellite.masks["builtup"] | satellite.masks["bare"]).sum()
