"""The cirrus band (1375 nm) flags high cloud only where it is top-of-atmosphere reflectance.

Water vapour absorbs 1375 nm on the way down and up, so at the top of the atmosphere clear land
is near 0 there and cloud is darker than in red. An imaging spectrometer's surface-reflectance
product keeps a band at 1375 nm that sees the ground: read as cirrus, every field was cloud.
Synthetic arrays for the rule; AVIRIS's Jasper Ridge (held out, added in stop 62; built from
mabdolali/MaxVol_Dual where it is mirrored) for the scene that found it.
"""

from __future__ import annotations

import numpy as np
import rasterio
from rasterio.windows import Window

from bench.extra_scenes import mirror_path
from bench.jasper_scene import JASPER_REPO
from spex.engine.backends.spectral.haze import CIRRUS_REFLECTANCE, find_haze
from spex.engine.backends.spectral.scene_model import fit_scene_model
from spex.engine.backends.spectral.scene_proba import class_map, predict_proba
from spex.engine.raster.raster_source import open_source
from tests.rasters import uniform_pixels
from tests.scene_sources import built_scene, needs_mirror

N = 10_000


#: Clear vegetated land as reflectance, per band role.
LAND = {
    "blue": (0.02, 0.05),
    "green": (0.04, 0.08),
    "red": (0.03, 0.08),
    "nir": (0.25, 0.4),
    "swir1": (0.12, 0.2),
}


def test_top_of_atmosphere_cirrus_is_found() -> None:
    rng = np.random.default_rng(5)
    bands = uniform_pixels(rng, N, LAND)
    bands["cirrus"] = rng.uniform(0.0005, 0.003, N)  # clear sky: the ground unseen
    bands["cirrus"][:500] = 0.03  # a cirrus veil over 5 % of the scene, darker than red
    haze = find_haze(bands, True, N)
    assert haze is not None and haze.cirrus is not None
    assert haze.thresholds["cirrus"] == CIRRUS_REFLECTANCE
    assert haze.cirrus[:500].all() and not haze.cirrus[500:].any()
    assert not any("sees the ground" in note for note in haze.notes)


def test_a_cirrus_band_that_sees_the_ground_is_not_used() -> None:
    rng = np.random.default_rng(5)
    bands = uniform_pixels(rng, N, LAND)
    bands["cirrus"] = 0.8 * bands["nir"]  # surface reflectance: near the NIR's on land
    haze = find_haze(bands, True, N)
    assert haze is not None
    assert "cirrus" not in haze.thresholds
    assert haze.cirrus is not None and not haze.cirrus.any() and not haze.cloud.any()
    assert any(
        note.startswith("the cirrus band (1375 nm) is brighter than red on 100% of the scene")
        for note in haze.notes
    ), haze.notes


def test_digital_numbers_keep_their_relative_cirrus_test() -> None:
    """Uncalibrated bands have gains of their own: cirrus and red are not compared."""
    rng = np.random.default_rng(5)
    bands = {role: 1000 * v for role, v in uniform_pixels(rng, N, LAND).items()}
    bands["cirrus"] = rng.uniform(5, 15, N)
    bands["cirrus"][:500] = 200.0
    haze = find_haze(bands, False, N)
    assert haze is not None and "cirrus" in haze.thresholds
    assert haze.cirrus is not None and haze.cirrus[:500].all()


@needs_mirror(JASPER_REPO, mirror_path(JASPER_REPO, "SPEX_JASPER_MIRROR"), "SPEX_JASPER_MIRROR")
def test_jasper_ridge_as_reflectance_maps_its_road_not_cloud() -> None:
    """AVIRIS surface reflectance x 10000 with its band at 1375 nm, read with --scale 0.0001
    as its explanation advises: the road and the lake, no cloud. Measured before the rule:
    cloud 6,700 of 10,000 pixels (every field and the road), vegetation and built-up none."""
    scene = built_scene("maxvoldual_aviris_jasper")
    image, labels_path = scene.rasters[0]
    with open_source(image, scale=1e-4) as src:
        assert "cirrus" in src.roles  # AVIRIS channels 105-107 lie within 15 nm of 1375
        sample = src.read_sample().bands
        pixels = src.read(Window(0, 0, src.width, src.height))
    with rasterio.open(labels_path) as src:
        labels = src.read(1)
    model = fit_scene_model(sample, True)
    assert any("sees the ground" in note for note in model.notes), model.notes
    named = np.array([*model.classes, "nodata"])[
        np.minimum(class_map(model, predict_proba(model, pixels)), len(model.classes))
    ]
    assert not (named == "cloud").any()
    for name, code in (("water", 1), ("builtup", 3)):
        found = named == name
        iou = (found & (labels == code)).sum() / (found & (labels > 0) | (labels == code)).sum()
        assert iou > 0.9, (name, iou)
