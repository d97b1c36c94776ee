"""The two scenes added in stop 67 and held out from every rule (`bench/held_out_scenes.py`):
geo-bench's NAIP Chesapeake patches and zia207's Sentinel-2 L2A of Buffalo, each built from its
pinned source, and the spectral backend on them above floors set about 0.05 below what
`bench/quality` measured (NAIP water 0.937, vegetation 0.835; Buffalo vegetation 0.943, water
0.827, built-up 0.911 since stop 75's roof-sized patches, 0.685 before; forest 0.759). Their
shortfalls are recorded, not tested away (docs/benchmarks.md, "Two held-out scenes
(stop 67)")."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import rasterio
from rasterio.enums import ColorInterp

from bench.extra_scenes import mirror_path
from bench.held_out_scenes import GEOBENCH_REPO, SEAM, ZIA_REPO
from bench.quality import run_engine
from spex.engine import ExtractionRequest, extract
from spex.engine.backends.spectral.examples import ExampleFeature, Examples
from spex.engine.backends.spectral.params import SpectralParams
from tests.scene_sources import built_scene, label_counts, needs_mirror, ours_by_target

NAIP, BUFFALO = "geobench_naip_chesapeake", "zia207_s2_buffalo"
needs_geobench = needs_mirror(
    GEOBENCH_REPO, mirror_path(GEOBENCH_REPO, "SPEX_GEOBENCH_MIRROR"), "SPEX_GEOBENCH_MIRROR"
)
needs_zia = needs_mirror(
    ZIA_REPO, mirror_path(ZIA_REPO, "SPEX_ZIA207_MIRROR"), "SPEX_ZIA207_MIRROR"
)


@needs_geobench
def test_the_naip_patches_are_8_bit_counts_side_by_side_with_unlabelled_seams() -> None:
    scene = built_scene(NAIP)
    image, labels_path = scene.rasters[0]
    with rasterio.open(image) as src, rasterio.open(labels_path) as lab:
        assert (src.count, src.height, src.width, src.dtypes[0]) == (4, 256, 1280, "uint8")
        assert src.crs is None and src.colorinterp[3] == ColorInterp.alpha  # GDAL's default
        nir, labels = src.read(4), lab.read(1)
    for seam in (256, 512, 768, 1024):
        assert (labels[:, seam - SEAM : seam + SEAM] == 0).all()
    assert label_counts(labels) == {0: 16384, 1: 74749, 2: 131215, 3: 21288, 4: 84044}
    assert (nir[labels == 1] == 0).mean() > 0.5  # the open-water patch's NIR counts are 0


@needs_geobench
def test_naip_water_and_vegetation_stay_above_their_floors(tmp_path) -> None:
    """The water whose NIR is 0 is read as data, not as the alpha band's transparency (before:
    water 0.333), and the run says why."""
    scene = built_scene(NAIP)
    rows = ours_by_target(scene)
    assert rows["water"] >= 0.88 and rows["vegetation"] >= 0.78, rows
    image, _ = scene.rasters[0]
    extract(ExtractionRequest(image, "extract the water", tmp_path / "run"))
    text = (tmp_path / "run" / "explanation.md").read_text(encoding="utf-8")
    assert "Band 4 is marked as transparency (alpha) in the file" in text


@needs_geobench
def test_naip_read_as_naip_takes_its_sand_for_bare_soil_not_cloud(tmp_path) -> None:
    """Read as NAIP (as its USDA file names make it, here `bench.scenes.SENSORS`), the image is
    an aircraft's under clear skies: no cloud class, and the beach sand the cloud tests take on
    the counts alone (69,876 of its 84,044 pixels) is bare soil (0.122 -> 0.772 IoU)."""
    scene = built_scene(NAIP)
    assert scene.sensor == "naip"
    image, labels_path = scene.rasters[0]
    with rasterio.open(labels_path) as lab:
        sand = lab.read(1) == 4
    as_naip, _, backend = run_engine(image, scene, SpectralParams())
    assert "cloud" not in backend.model.classes and not as_naip["cloud"].any()
    assert as_naip["bare"][sand].mean() > 0.8
    unnamed, _, _ = run_engine(image, replace(scene, sensor=None), SpectralParams())
    assert unnamed["cloud"][sand].mean() > 0.7
    extract(ExtractionRequest(image, "extract bare soil", tmp_path / "run", sensor="naip"))
    text = (tmp_path / "run" / "explanation.md").read_text(encoding="utf-8")
    assert "NAIP aerial imagery (USDA, 4 bands): taken by an aircraft flown under clear" in text


@needs_zia
def test_the_buffalo_grid_is_a_full_utm_raster_with_its_polygons_labels() -> None:
    scene = built_scene(BUFFALO)
    image, labels_path = scene.rasters[0]
    with rasterio.open(image) as src, rasterio.open(labels_path) as lab:
        assert (src.count, src.height, src.width) == (10, 170, 210)
        assert src.crs.to_epsg() == 32617 and src.res == (10.0, 10.0)
        b6, b7 = src.read(5), src.read(6)
        labels = lab.read(1)
    assert np.array_equal(b6, b7)  # the source's B7 is a copy of its B6, kept as given
    assert label_counts(labels) == {0: 34136, 1: 64, 2: 848, 3: 652}


@needs_zia
def test_buffalo_stays_above_its_floors() -> None:
    rows = ours_by_target(built_scene(BUFFALO))
    assert rows["vegetation"] >= 0.9 and rows["water"] >= 0.75, rows
    assert rows["builtup"] >= 0.86 and rows["forest"] >= 0.7, rows


@needs_zia
def test_buffalos_white_roofs_are_built_up_for_the_size_of_their_patches(tmp_path) -> None:
    """The scene's white roofs pass every spectral cloud test (bright, white enough, brighter
    than the land and than the canopy in NIR): until stop 75, 156 of its 652 labelled built-up
    pixels were cloud. Their bright patches are 1.6 ha at the median, a building's size, not a
    cloud's: built-up, and the explanation says why."""
    scene = built_scene(BUFFALO)
    image, labels_path = scene.rasters[0]
    with rasterio.open(labels_path) as lab:
        labels = lab.read(1)
    masks, _, backend = run_engine(image, scene, SpectralParams())
    assert "cloud" not in backend.model.classes and not masks["cloud"].any()
    assert backend.model.seed_counts["builtup (white roofs)"] > 0
    assert masks["builtup"][labels == 3].mean() > 0.95
    roofs_off, _, _ = run_engine(image, scene, SpectralParams(cloud_min_patch_ha=0.0))
    assert ((labels == 3) & roofs_off["cloud"]).sum() > 100  # what the size test took back
    extract(ExtractionRequest(image, "extract the buildings", tmp_path / "run"))
    text = (tmp_path / "run" / "explanation.md").read_text(encoding="utf-8")
    assert "cloud candidates lie in bright patches of 1.6 ha (median)" in text


@needs_zia
def test_buffalos_white_roofs_taken_for_cloud_give_way_to_built_up_examples(tmp_path) -> None:
    """With the size test off (``cloud_min_patch_ha`` 0) the seeds take 156 of the labelled
    built-up pixels, white roofs, for cloud. Five of them labelled built-up (with five other
    built-up, vegetation and water pixels): the cloud gives way, the rest of the white roofs
    are built-up, and the explanation says why."""
    scene = built_scene(BUFFALO)
    image, labels_path = scene.rasters[0]
    with rasterio.open(labels_path) as lab:
        labels, transform = lab.read(1), lab.transform
    size_test_off = SpectralParams(cloud_min_patch_ha=0.0)
    own, _, _ = run_engine(image, scene, size_test_off)
    roofs = (labels == 3) & own["cloud"]
    assert roofs.sum() > 100
    rng = np.random.default_rng(0)
    picks = {
        "builtup": [*_pick(roofs, 5, rng), *_pick((labels == 3) & ~own["cloud"], 5, rng)],
        "vegetation": _pick(labels == 2, 5, rng),
        "water": _pick(labels == 1, 5, rng),
    }
    features = tuple(
        ExampleFeature(cls, {"type": "Point", "coordinates": transform * (c + 0.5, r + 0.5)})
        for cls, cells in picks.items()
        for r, c in cells
    )
    examples = Examples(features, None, "test")
    given, _, backend = run_engine(image, scene, size_test_off, examples)
    assert "cloud" not in backend.model.classes
    assert given["builtup"][roofs].mean() > 0.9 and not given["cloud"].any()
    options = {"params": size_test_off}
    extract(
        ExtractionRequest(image, "extract the buildings", tmp_path / "own", backend_options=options)
    )
    text = (tmp_path / "own" / "explanation.md").read_text(encoding="utf-8")
    assert "If the image is clear, it is its brightest, whitest surface" in text  # what to do
    extract(
        ExtractionRequest(
            image,
            "extract the buildings",
            tmp_path / "run",
            examples=examples,
            backend_options=options,
        )
    )
    text = (tmp_path / "run" / "explanation.md").read_text(encoding="utf-8")
    assert "cloud gave way to the examples: 5 of the 10 builtup examples" in text
    assert "cloud covers" not in text


def _pick(where: np.ndarray, n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """`n` (row, column) cells of `where`, drawn with `rng`."""
    cells = np.argwhere(where)
    return [tuple(map(int, cells[i])) for i in rng.choice(len(cells), n, replace=False)]
