"""Rasters that are not imagery (radar's complex samples, a thematic map's colour table) are
refused with one line, before the band roles are asked for, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from spex.engine.errors import InputError
from spex.engine.raster.raster_source import open_source
from tests.test_cli import run_spex


@pytest.fixture(scope="module")
def classified_map(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The engine's own classified raster of the real Sentinel-2 scene: one band of class
    codes with a colour table, what an analyst may pick by mistake on the next run."""
    out = tmp_path_factory.mktemp("first") / "out"
    done = run_spex("extract", s2_scene, "--prompt", "map the land cover", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    (classes,) = [p for p in out.glob("*.tif") if _paletted(p)]
    return classes


def _paletted(path: Path) -> bool:
    with rasterio.open(path) as dataset:
        return dataset.count == 1 and dataset.colorinterp[0].name == "palette"


@pytest.fixture(scope="module")
def complex_raster(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real scene's first four bands stored as complex64, as a radar product stores its
    samples (synthetic: the imaginary part is the band's own values reversed)."""
    with rasterio.open(s2_scene) as src:
        data = src.read(indexes=[2, 3, 4, 8]).astype(np.float32)
        profile = src.profile | {"count": 4, "dtype": "complex64", "nodata": None}
    path = tmp_path_factory.mktemp("radar") / "slc.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data + 1j * data[:, ::-1, :])
    return path


def test_a_classified_map_is_refused_as_not_imagery(classified_map: Path) -> None:
    with pytest.raises(InputError, match="paletted raster .* not imagery; give the multispectral"):
        open_source(classified_map, bands="red")


def test_complex_samples_are_refused_before_any_band_role(complex_raster: Path) -> None:
    # Band roles given or not, the refusal is the same: numpy would have dropped the
    # imaginary part and read the rest as reflectance.
    for bands in (None, "blue,green,red,nir"):
        with pytest.raises(InputError, match=r"complex values \(complex64"):
            open_source(complex_raster, bands=bands)


@pytest.mark.parametrize("which", ["classified_map", "complex_raster"])
def test_the_command_line_says_one_line_and_writes_nothing(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    raster = request.getfixturevalue(which)
    out = tmp_path / "out"
    done = run_spex("extract", raster, "--prompt", "extract the water", "--out", out, "--quiet")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not" in lines[0] and "imagery" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() or not any(out.iterdir())
