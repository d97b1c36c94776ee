"""Where a projection's plane misstates ground areas over a raster, areas are measured on the
ground: the plane's scale measured over the raster's own pixels on the ellipsoid, not guessed
from the projection's name.

Synthetic grids in each CRS stand for the geometry (these measure positions only); the
end-to-end run is the real Sentinel-2 sample warped to NSIDC's polar stereographic grid."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject
from rasterio.warp import transform as warp_points

from spex.engine.passes.pixel_areas import PixelAreas, pixel_metres
from spex.engine.passes.plane_scale import measure_plane_scale, plane_scale
from tests.test_cli import run_spex


def _grid(path: Path, crs: str, lon: float, lat: float, pixel: float, n: int = 300) -> Path:
    """An n x n grid of `pixel` CRS units centred on (lon, lat)."""
    (x,), (y,) = warp_points("EPSG:4326", crs, [lon], [lat])
    transform = from_origin(x - n * pixel / 2, y + n * pixel / 2, pixel, pixel)
    profile = {"driver": "GTiff", "width": n, "height": n, "count": 1, "dtype": "uint8"}
    with rasterio.open(path, "w", crs=crs, transform=transform, **profile) as dst:
        dst.write(np.zeros((1, n, n), np.uint8))
    return path


def _sphere_stereographic_k(lat: float, true_scale: float = 70.0) -> float:
    """Polar stereographic's scale on the sphere, true at `true_scale` degrees (EPSG:3413: 70,
    EPSG:3031: 71; the ellipsoid's differs by under 0.2 %)."""
    return (1 + math.sin(math.radians(true_scale))) / (1 + math.sin(math.radians(lat)))


@pytest.mark.parametrize(
    ("where", "crs", "lon", "lat", "pixel", "expected"),
    [
        ("NSIDC north at 60 N", "EPSG:3413", -45.0, 60.0, 100.0, _sphere_stereographic_k(60) ** 2),
        (
            "NSIDC north at the pole",
            "EPSG:3413",
            0.0,
            90.0,
            1000.0,
            _sphere_stereographic_k(90) ** 2,
        ),
        ("Antarctic at 65 S", "EPSG:3031", 0.0, -65.0, 100.0, _sphere_stereographic_k(65, 71) ** 2),
    ],
)
def test_a_polar_stereographic_grid_is_said_to_misstate_areas(
    tmp_path: Path, where: str, crs: str, lon: float, lat: float, pixel: float, expected: float
) -> None:
    with rasterio.open(_grid(tmp_path / "grid.tif", crs, lon, lat, pixel)) as dataset:
        scale = plane_scale(dataset)
        assert scale is not None
        low, high = scale.low, scale.high
        # A pixel's ground area, anywhere on it: its plane area over the ratio there.
        areas = PixelAreas(dataset)
        centre = areas.at(np.array([150.0]), np.array([150.0]))[0]
    assert low <= high and abs(low - expected) < 0.005 and abs(high - expected) < 0.005, where
    assert abs(centre * expected / pixel**2 - 1) < 0.005
    word = "overstates" if expected > 1 else "understates"
    said = re.search(rf"{word} ground areas by up to ([0-9.]+)%", scale.note())
    assert said is not None and abs(float(said[1]) / 100 - abs(expected - 1)) < 0.006
    assert crs in scale.note()


@pytest.mark.parametrize(
    ("where", "crs", "lon", "lat", "pixel"),
    [
        ("UTM at its zone's edge", "EPSG:32633", 17.9, 1.0, 100.0),
        ("Lambert-93 at France's south", "EPSG:2154", 3.0, 42.5, 100.0),
        # Equal-area whatever the distance from its centre: no caveat, though far from it.
        ("LAEA Europe at 70 N, 20 W", "EPSG:3035", -20.0, 70.0, 1000.0),
    ],
)
def test_a_plane_true_to_the_ground_goes_unsaid(
    tmp_path: Path, where: str, crs: str, lon: float, lat: float, pixel: float
) -> None:
    with rasterio.open(_grid(tmp_path / "grid.tif", crs, lon, lat, pixel)) as dataset:
        measured = measure_plane_scale(dataset)
        assert measured is not None and 0.99 < measured.low <= measured.high < 1.005, where
        assert plane_scale(dataset) is None  # measured in the plane, as before
        assert PixelAreas(dataset).at(np.array([0.5, 299.5]), np.array([0.5, 0.5])) == (
            pytest.approx([pixel**2, pixel**2])
        )


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_rasters_measured_off_the_plane_are_not_measured_here(tmp_path: Path) -> None:
    """Web Mercator and geographic rasters are measured on the ellipsoid already (`geodesy`);
    a raster without a CRS has no ground at all."""
    for crs, pixel in (("EPSG:3857", 100.0), ("EPSG:4326", 0.001)):
        with rasterio.open(_grid(tmp_path / "g.tif", crs, 10.0, 50.0, pixel)) as dataset:
            assert measure_plane_scale(dataset) is None
    with rasterio.open(
        tmp_path / "none.tif", "w", driver="GTiff", width=8, height=8, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.zeros((1, 8, 8), np.uint8))
    with rasterio.open(tmp_path / "none.tif") as dataset:
        assert measure_plane_scale(dataset) is None and not PixelAreas(dataset).metric


def test_a_tile_measured_at_its_centroid_is_the_sum_of_its_pixels(tmp_path: Path) -> None:
    """A tile's valid area is its count times the area at its valid pixels' centroid: the sum
    of its pixels' own areas within 2e-5, on a polar grid of 1 km pixels whose scale changes by
    2 % across the tile's 128 km (the error shrinks with the square of the tile's extent)."""
    with rasterio.open(_grid(tmp_path / "g.tif", "EPSG:3413", -45.0, 60.0, 1000.0)) as dataset:
        areas = PixelAreas(dataset)
        valid = np.zeros((128, 96), bool)
        valid[10:120, 5:40] = True
        valid[60:70, 40:90] = True  # an L: its centroid is not the window's
        rows, cols = np.nonzero(valid)
        each = areas.at(100 + rows + 0.5, 30 + cols + 0.5).sum()
        part = areas.of_part(100, 30, valid.sum(axis=1), valid.sum(axis=0))
        spread = areas.at(np.array([100.5, 227.5]), np.array([30.5, 30.5]))
    assert abs(spread[0] / spread[1] - 1) > 0.005  # the area does change across the tile
    assert part == pytest.approx(each, rel=2e-5)


def test_a_raster_one_pixel_high_is_measured(tmp_path: Path) -> None:
    """Nodes run from edge to edge, so a single row (or column) still has an area."""
    (x,), (y,) = warp_points("EPSG:4326", "EPSG:3413", [-45.0], [60.0])
    profile = {"driver": "GTiff", "width": 5, "height": 1, "count": 1, "dtype": "uint8"}
    transform = from_origin(x, y, 100.0, 100.0)
    with rasterio.open(
        tmp_path / "row.tif", "w", crs="EPSG:3413", transform=transform, **profile
    ) as dst:
        dst.write(np.ones((1, 1, 5), np.uint8))
    with rasterio.open(tmp_path / "row.tif") as dataset:
        areas = PixelAreas(dataset)
        whole = areas.of_part(0, 0, np.array([5]), np.ones(5, int))
    expected = 5 * 100.0**2 / _sphere_stereographic_k(60) ** 2
    assert areas.scale is not None and whole == pytest.approx(expected, rel=0.005)


def _warped_to_polar(s2_scene: Path, polar: Path) -> Path:
    with rasterio.open(s2_scene) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:3413", src.width, src.height, *src.bounds
        )
        profile = src.profile | {
            "crs": "EPSG:3413", "transform": transform, "width": width, "height": height,
        }  # fmt: skip
        with rasterio.open(polar, "w", **profile) as dst:
            for band in range(1, src.count + 1):
                reproject(
                    rasterio.band(src, band),
                    rasterio.band(dst, band),
                    resampling=Resampling.nearest,
                )
            dst.descriptions = src.descriptions
    return polar


def test_a_real_scene_on_a_polar_grid_measures_its_ground(s2_scene: Path, tmp_path: Path) -> None:
    """The real sample (52 N, in UTM) warped to EPSG:3413, whose plane there overstates ground
    areas by 17 %: its water and valid areas are the UTM run's within 0.5 %, the size limit
    keeps the same lakes, and the explanation says how areas were measured; the UTM run says
    nothing of it."""
    polar = _warped_to_polar(s2_scene, tmp_path / "polar.tif")
    prompt = "extract the water bodies over 2 ha"
    runs = {}
    for name, raster in (("polar", polar), ("utm", s2_scene)):
        done = run_spex("extract", raster, "--prompt", prompt, "--out", tmp_path / name, "--quiet")
        assert done.returncode == 0, done.stderr
        manifest = json.loads((tmp_path / name / "run.json").read_text(encoding="utf-8"))
        runs[name] = (manifest["counts"], (tmp_path / name / "explanation.md").read_text())
    (polar_counts, polar_text), (utm_counts, utm_text) = runs["polar"], runs["utm"]
    water = polar_counts["area_m2_per_target"]["water"] / utm_counts["area_m2_per_target"]["water"]
    assert abs(water - 1) < 0.005
    assert abs(polar_counts["valid_area_m2"] / utm_counts["valid_area_m2"] - 1) < 0.005
    lakes = polar_counts["regions_per_target"]["water"], utm_counts["regions_per_target"]["water"]
    assert abs(lakes[0] - lakes[1]) <= 1, lakes  # the warp may split or join one at the limit
    assert "The plane of EPSG:3413 overstates ground areas by up to 17." in polar_text
    assert "The plane of" not in utm_text
    with rasterio.open(tmp_path / "polar" / "mask.tif") as mask:
        assert mask.crs.to_epsg() == 3413


def test_pixel_spacing_is_the_grounds_on_a_polar_grid(tmp_path: Path) -> None:
    """A distance in metres (a cloud buffer, a model's resolution) counts ground metres: a
    100 m pixel of NSIDC's grid at 60 N spans 96 m of ground, measured here between the
    neighbouring pixel centres' longitudes and latitudes on the ellipsoid. The plane's 100 m put
    a 1 km buffer 4 % too far."""
    path = _grid(tmp_path / "polar.tif", "EPSG:3413", -45.0, 60.0, 100.0)
    with rasterio.open(path) as grid:
        row, col = 150.5, 150.5
        centres = [grid.transform * (col, row), grid.transform * (col + 1, row)]
        centres.append(grid.transform * (col, row + 1))
        xs, ys = zip(*centres, strict=True)
        lons, lats = warp_points("EPSG:3413", "EPSG:4326", xs, ys)
        spacing = pixel_metres(grid, row, col)
    lon0, lat0 = (math.radians(v) for v in (lons[0], lats[0]))
    # WGS84's radii of curvature there (meridian, prime vertical): a sphere's metres are 0.3 %
    # short at 60 N, more than the test allows.
    e2 = (2 - 1 / 298.257223563) / 298.257223563
    w = math.sqrt(1 - e2 * math.sin(lat0) ** 2)
    meridian, prime = 6_378_137.0 * (1 - e2) / w**3, 6_378_137.0 / w

    def metres_to(i: int) -> float:
        dlon, dlat = math.radians(lons[i]) - lon0, math.radians(lats[i]) - lat0
        return math.hypot(prime * math.cos(lat0) * dlon, meridian * dlat)

    assert spacing[1] == pytest.approx(metres_to(1), rel=0.001)
    assert spacing[0] == pytest.approx(metres_to(2), rel=0.001)
    assert spacing[0] < 97.0


def test_a_local_engineering_crs_is_measured_in_its_unit(s2_scene: Path, tmp_path: Path) -> None:
    """A raster in a local (engineering) CRS, a site grid or a drone survey's: it runs, its
    pixels measured in the CRS's metres. Before, the pixel spacing asked rasterio for a linear
    unit it gives projected CRSs only, and the run stopped on a traceback."""
    with rasterio.open(s2_scene) as src:
        data = src.read()
        profile = src.profile | {
            "crs": rasterio.crs.CRS.from_wkt(
                'LOCAL_CS["site grid",UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'
            ),
            "transform": from_origin(0.0, 5000.0, 10.0, 10.0),
        }
        descriptions = src.descriptions
    path = tmp_path / "site.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.descriptions = descriptions
    result = run_spex("extract", path, "--prompt", "water", "--out", tmp_path / "o", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    with rasterio.open(path) as grid:
        assert pixel_metres(grid, 10) == (10.0, 10.0)
    manifest = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    assert counts["area_unit"] == "m2"
    assert counts["valid_area_m2"] == pytest.approx(counts["valid_pixels"] * 100.0)
