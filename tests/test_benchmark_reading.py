"""The benchmark measures what an analyst gets: each extra scene the engine can open without
flags is read the way its source documents it (`scene.json`), or the engine refuses it with a
one-line error naming --bands and --sensor. A silent misreading scored well in the benchmark
(which passes the roles) and failed in `spex extract` (Aberystwyth's reflectance x 1000 read
with Sentinel-2's x 0.0001: no built-up at all; RStoolbox's Landsat 5 bands B1-B7 read as OLI)."""

from __future__ import annotations

import pytest

from bench.scenes import extra_scenes
from spex.engine.errors import BandError
from spex.engine.raster.raster_source import open_source

SCENES = extra_scenes()


@pytest.mark.skipif(not SCENES, reason="no extra scene could be built here (bench/extra_scenes.py "
                    "needs its pinned sources: wheels in the cache, mirrors of the repositories)")  # fmt: skip
@pytest.mark.parametrize("scene", SCENES, ids=[s.name for s in SCENES])
def test_an_analyst_reads_the_scene_as_its_source_documents_it(scene) -> None:
    image = scene.rasters[0][0]
    with open_source(image, bands=scene.bands) as documented:
        roles, scaling = documented.mapping.roles, documented.scaling
    try:
        with open_source(image) as analyst:
            assert analyst.mapping.roles == roles
            assert (analyst.scaling.scale, analyst.scaling.offset) == (
                scaling.scale,
                scaling.offset,
            )
            assert analyst.scaling.calibrated == scaling.calibrated
    except BandError as refused:
        message = str(refused)
        assert "--bands" in message and "--sensor" in message and "\n" not in message
