"""Cloud candidates the size of roofs (`bright_patches`): their patches on the sample's grid,
the test that refuses them, and the scene model that takes them for built-up. The rasters here
are synthetic, for geometry and scale (one spectrum, white roofs or a cloud: only the size
differs); the real scene whose roofs this is for is Buffalo's (`test_held_out_scenes.py`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from bench import cloud_patches
from spex.engine.backends.spectral import seeds
from spex.engine.backends.spectral.backend import SpectralBackend
from spex.engine.backends.spectral.bright_patches import RESOLVED_CELLS, SampleGrid, roof_sized
from spex.engine.backends.spectral.examples import ExampleFeature, Examples
from spex.engine.backends.spectral.fitted_scene import grid_cells, raster_pixel_spacing
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.backends.spectral.scene_model import SceneModel
from spex.engine.backends.spectral.seed_context import min_seeds
from spex.engine.instructions.plan import Plan
from spex.engine.progress import RunMonitor
from spex.engine.raster.raster_source import open_source
from tests.rasters import write_raster
from tests.scene_sources import needs_benchmark

ROLES = "blue,green,red,nir,swir1"
#: Reflectance per band: a white membrane roof (or a cloud: the test sees no difference).
WHITE = (0.45, 0.47, 0.48, 0.50, 0.40)
CANOPY = (0.03, 0.06, 0.04, 0.35, 0.15)
SOIL = (0.08, 0.10, 0.13, 0.20, 0.25)
WATER = (0.04, 0.05, 0.03, 0.01, 0.005)


def _grid(shape: tuple[int, int], valid: np.ndarray | None = None) -> SampleGrid:
    grid = np.ones(shape, dtype=bool) if valid is None else valid
    n = int(grid.sum())
    return SampleGrid(grid, {}, np.arange(n), cell_ha=0.01)


def test_a_patch_is_its_8_connected_cells_area_in_hectares() -> None:
    bright = np.zeros((12, 12), dtype=bool)
    bright[2:5, 2:5] = True  # 9 cells
    bright[5, 5] = True  # touches the block at a corner: one patch of 10
    bright[8:10, 8:11] = True  # 6 cells, apart
    areas = _grid(bright.shape).patch_ha(bright.ravel()).reshape(bright.shape)
    assert areas[3, 3] == areas[5, 5] == pytest.approx(0.10)
    assert areas[9, 9] == pytest.approx(0.06)
    assert areas[0, 0] == 0.0 and areas[7, 7] == 0.0


def test_a_patch_at_the_edge_or_beside_nodata_may_go_on_beyond_and_is_not_small() -> None:
    valid = np.ones((12, 12), dtype=bool)
    valid[6:, 0:2] = False  # a nodata corner
    bright = np.zeros_like(valid)
    bright[0:2, 5:7] = True  # on the first row
    bright[7:9, 2:4] = True  # beside the nodata
    bright[4:6, 8:10] = True  # inside
    areas = np.zeros(valid.shape)
    areas[valid] = _grid(valid.shape, valid).patch_ha(bright[valid])
    assert np.isinf(areas[0, 5]) and np.isinf(areas[7, 2])
    assert areas[4, 8] == pytest.approx(0.04)


def test_only_resolved_patches_smaller_than_the_bar_are_roofs() -> None:
    candidates = np.ones(100, dtype=bool)
    resolved = RESOLVED_CELLS * 0.01
    kept, note = roof_sized(candidates, np.full(100, 1.6), min_ha=3.0, cell_ha=0.01)
    assert not kept.any()
    assert "bright patches of 1.6 ha (median), smaller than a cloud (3 ha or more)" in note
    for areas in (np.full(100, 4.9), np.full(100, resolved / 2), np.full(100, np.inf)):
        kept, note = roof_sized(candidates, areas, min_ha=3.0, cell_ha=0.01)
        assert kept.all() and note == ""
    # The median decides: a few large patches among many roof-sized ones do not save them.
    mixed = np.r_[np.full(70, 1.6), np.full(30, 50.0)]
    assert not roof_sized(candidates, mixed, min_ha=3.0, cell_ha=0.01)[0].any()


def _scene(path: Path, white: list[tuple[int, int, int]], crs: str | None = "EPSG:32617") -> Path:
    """A 300 x 300 raster of 10 m: canopy, a soil band, a lake, and `white` squares (row, col,
    side) of one white spectrum; a little noise, fixed."""
    rng = np.random.default_rng(7)
    cube = np.empty((5, 300, 300), dtype=np.float32)
    cube[:] = np.array(CANOPY, dtype=np.float32)[:, None, None]
    cube[:, 200:260, :] = np.array(SOIL, dtype=np.float32)[:, None, None]
    cube[:, 20:60, 20:80] = np.array(WATER, dtype=np.float32)[:, None, None]
    for row, col, side in white:
        cube[:, row : row + side, col : col + side] = np.array(WHITE, np.float32)[:, None, None]
    cube *= rng.normal(1.0, 0.03, cube.shape).astype(np.float32)
    return write_raster(path, cube, crs=crs, descriptions=ROLES.split(","))


def _fitted(path: Path) -> tuple[SceneModel, SpectralBackend]:
    backend = SpectralBackend()
    with open_source(path) as source:
        backend.prepare(
            source,
            Plan(prompt="test", targets=("builtup", "cloud")),
            source.read_sample(),
            RunMonitor(),
        )
    return backend.model, backend


#: Twenty roofs of 12 x 12 pixels (1.44 ha each) in a town's blocks.
ROOFS = [(80 + 30 * (i // 5), 100 + 30 * (i % 5), 12) for i in range(20)]


def test_white_roofs_are_built_up_where_a_cloud_of_their_spectrum_is_cloud(tmp_path) -> None:
    roofs, _ = _fitted(_scene(tmp_path / "roofs.tif", ROOFS))
    assert "cloud" not in roofs.classes
    assert roofs.seed_counts["builtup (white roofs)"] >= min_seeds(90_000)
    assert any("bright patches of 1.4 ha (median)" in n for n in roofs.notes), roofs.notes
    cloud, _ = _fitted(_scene(tmp_path / "cloud.tif", [(90, 110, 80)]))  # 64 ha
    assert "cloud" in cloud.classes
    assert not any("bright patches" in n for n in cloud.notes)


def test_a_raster_without_a_crs_has_no_area_and_its_patches_are_not_judged(tmp_path) -> None:
    roofs, _ = _fitted(_scene(tmp_path / "roofs.tif", ROOFS, crs=None))
    assert "cloud" in roofs.classes
    assert not any("bright patches" in n for n in roofs.notes)


def test_a_decimated_sample_measures_its_cells_at_their_ground_size(tmp_path) -> None:
    # 1.2 megapixels: the sample takes every 2nd pixel of every 2nd row.
    cube = np.broadcast_to(np.arange(1000, dtype=np.uint16) % 200 + 100, (5, 1200, 1000))
    path = write_raster(tmp_path / "large.tif", cube, descriptions=ROLES.split(","))
    with open_source(path) as source:
        sample = source.read_sample()
        grid, cell_ha = grid_cells(sample, raster_pixel_spacing(source))
    assert sample.decimation == 2 and grid.shape == (600, 500)
    assert cell_ha == pytest.approx(0.04)  # (2 x 10 m)^2


@needs_benchmark
def test_the_benchmarks_labelled_clouds_lie_in_patches_of_a_clouds_size(capsys) -> None:
    """The shared benchmark's cloudy chips (no CRS: measured at their sensor's pixel size by
    `bench/cloud_patches.py`, marked nominal): every candidate patch median is well above the
    bar, the test keeps them, and the labels say they are cloud. The engine's own functions
    are back in place after the measurement."""
    context, candidates = seeds._context, seeds.bright_candidates
    cloud_patches.main(["--groups", "benchmark"])
    assert (seeds._context, seeds.bright_candidates) == (context, candidates)
    rows = {}
    for line in capsys.readouterr().out.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells
    for chip in ("c38_l8_cloud", "ukis_l5_csmask", "ukis_s2_csmask"):
        _, _, _, _, median, verdict, labelled = rows[f"{chip} (nominal)"]
        assert float(median) >= 3 * SpectralParams().cloud_min_patch_ha, rows
        assert verdict == "kept 1" and labelled.startswith("cloud"), rows


def test_the_white_roofs_give_way_to_cloud_examples(tmp_path) -> None:
    """Where the analyst says the small bright patches are clouds (two examples or more, as
    cloud gives way to built-up ones), the white roofs' component gives way: they are cloud,
    and the explanation's notes say why. One example is not enough."""
    path = _scene(tmp_path / "small_clouds.tif", ROOFS)
    with rasterio.open(path) as src:
        transform = src.transform
    patches = np.zeros((300, 300), dtype=bool)
    for row, col, side in ROOFS:
        patches[row : row + side, col : col + side] = True
    for given, share in ((5, 0.95), (1, 0.0)):  # share: of the patches mapped as cloud
        points = tuple(
            ExampleFeature(
                "cloud", {"type": "Point", "coordinates": transform * (c + 6.5, r + 6.5)}
            )
            for r, c, _ in ROOFS[:given]
        )
        backend = SpectralBackend(examples=Examples(points, None, "test"))
        with open_source(path) as source:
            plan = Plan(prompt="test", targets=("builtup", "cloud"))
            backend.prepare(source, plan, source.read_sample(), RunMonitor())
            window = Window(0, 0, source.width, source.height)
            backend.set_targets(("cloud",))
            cloud = backend.predict(source.read(window), window).classes == 1
        gave_way = [n for n in backend.model.notes if "white roofs gave way" in n]
        if share:
            assert cloud[patches].mean() > share and not cloud[~patches].any()
            assert gave_way == [
                f"the white roofs gave way to the examples: {given} of the {given} cloud "
                "examples lie among their 2,880 seed pixels, so those pixels are cloud (clouds "
                "as small as roofs), not built-up"
            ]
        else:
            assert cloud[patches].mean() < 0.01 and not gave_way  # the example's own pixel
