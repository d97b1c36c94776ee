"""`summary.gpkg` gathers the scenes a map can place: a scene in a local (engineering) CRS, a
site grid's, is left out as one without a CRS is, unless no scene is placed. The scenes are
real extractions of windows of the real Sentinel-2 sample."""

from __future__ import annotations

from pathlib import Path

import rasterio
from osgeo import ogr
from rasterio.transform import from_origin
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.distributed.batch_summary import write_summary

SITE_GRID = 'LOCAL_CS["site grid",UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'


def _window(s2_scene: Path, path: Path, col: int, site_grid: bool = False) -> Path:
    """A 200 x 160 window of the sample, in its CRS or on a local site grid."""
    with rasterio.open(s2_scene) as src:
        window = Window(col, 100, 200, 160)
        data = src.read(window=window)
        profile = src.profile | {
            "width": 200,
            "height": 160,
            "transform": src.window_transform(window),
        }
        descriptions = src.descriptions
    if site_grid:
        profile |= {
            "crs": rasterio.crs.CRS.from_wkt(SITE_GRID),
            "transform": from_origin(0.0, 1600.0, 10.0, 10.0),
        }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.descriptions = descriptions
    return path


def _scene(s2_scene: Path, tmp_path: Path, name: str, col: int, site_grid: bool) -> Path:
    raster = _window(s2_scene, tmp_path / f"{name}.tif", col, site_grid)
    extract(ExtractionRequest(raster, "vegetation", tmp_path / name))
    return tmp_path / name


def _regions(path: Path) -> tuple[set[str], str]:
    """The scene names in a summary, and its CRS's name."""
    data = ogr.Open(str(path))
    layer = data.GetLayerByName("regions")
    scenes = {feature.GetField("scene") for feature in layer}
    return scenes, layer.GetSpatialRef().GetName()


def test_a_scene_on_a_site_grid_is_left_out_beside_placed_ones(
    s2_scene: Path, tmp_path: Path
) -> None:
    """Before, its regions were transformed to WGS 84, which no operation reaches from a site
    grid: the batch stopped on a GDAL traceback after every scene had run."""
    placed = _scene(s2_scene, tmp_path, "placed", 300, site_grid=False)
    site = _scene(s2_scene, tmp_path, "site", 600, site_grid=True)
    left_out = write_summary([("placed", placed), ("site", site)], tmp_path / "summary.gpkg")
    assert left_out == ("site",)
    scenes, crs = _regions(tmp_path / "summary.gpkg")
    with rasterio.open(tmp_path / "placed.tif") as src:
        assert scenes == {"placed"} and crs == src.crs.to_wkt().split('"')[1]


def test_scenes_on_one_site_grid_keep_it(s2_scene: Path, tmp_path: Path) -> None:
    first = _scene(s2_scene, tmp_path, "first", 300, site_grid=True)
    second = _scene(s2_scene, tmp_path, "second", 600, site_grid=True)
    left_out = write_summary([("first", first), ("second", second)], tmp_path / "summary.gpkg")
    assert left_out == ()
    assert _regions(tmp_path / "summary.gpkg") == ({"first", "second"}, "site grid")
