"""Where a projection's plane misstates ground areas over a raster, the explanation says so:
measured over the raster's own pixels on the ellipsoid, not guessed from the projection's name.

Synthetic grids in each CRS stand for the geometry (this module measures positions only); the
end-to-end run is the real Sentinel-2 sample warped to NSIDC's polar stereographic grid."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject
from rasterio.warp import transform as warp_points

from spex.engine.passes.plane_scale import plane_area_caveat, plane_area_ratios
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
        low, high = plane_area_ratios(dataset)
        caveat = plane_area_caveat(dataset)
    assert low <= high and abs(low - expected) < 0.005 and abs(high - expected) < 0.005, where
    word = "overstates" if expected > 1 else "understates"
    said = re.search(rf"{word} ground areas by up to ([0-9.]+)%", caveat or "")
    assert said is not None and abs(float(said[1]) / 100 - abs(expected - 1)) < 0.006, caveat
    assert crs in caveat and "equal-area CRS" in caveat


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
        low, high = plane_area_ratios(dataset)
        assert 0.99 < low <= high < 1.005, where
        assert plane_area_caveat(dataset) is None


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_rasters_measured_off_the_plane_are_not_measured_here(tmp_path: Path) -> None:
    """Web Mercator and geographic rasters are measured on the ellipsoid already (`geodesy`);
    a raster without a CRS has no ground at all."""
    for crs, pixel in (("EPSG:3857", 100.0), ("EPSG:4326", 0.001)):
        with rasterio.open(_grid(tmp_path / "g.tif", crs, 10.0, 50.0, pixel)) as dataset:
            assert plane_area_ratios(dataset) is None
    with rasterio.open(
        tmp_path / "none.tif", "w", driver="GTiff", width=8, height=8, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.zeros((1, 8, 8), np.uint8))
    with rasterio.open(tmp_path / "none.tif") as dataset:
        assert plane_area_ratios(dataset) is None


def test_the_explanation_says_it_for_a_real_scene_on_a_polar_grid(
    s2_scene: Path, tmp_path: Path
) -> None:
    """The real sample (52 N, in UTM) warped to EPSG:3413: its plane there overstates ground
    areas by about 17 %, and the run says so; the same scene in UTM says nothing of it."""
    polar = tmp_path / "polar.tif"
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
    prompt = "extract the water bodies"
    said = "are measured in the plane of EPSG:3413"
    done = run_spex("extract", polar, "--prompt", prompt, "--out", tmp_path / "p", "--quiet")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "p" / "explanation.md").read_text(encoding="utf-8")
    assert said in text and "overstates ground areas by up to 17." in text
    utm = run_spex("extract", s2_scene, "--prompt", prompt, "--out", tmp_path / "u", "--quiet")
    assert utm.returncode == 0, utm.stderr
    assert "are measured in the plane of" not in (tmp_path / "u" / "explanation.md").read_text(
        encoding="utf-8"
    )
