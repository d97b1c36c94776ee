"""A stack whose reflective bands are not in one unit is refused in one line, before a pixel is
classified: one scaling would read one of them thousands of times off. The stacks are the real
Sentinel-2 sample's bands, written as a product stores them and as reflectance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import gdal
from rasterio.windows import Window

from spex.engine.errors import InputError
from spex.engine.raster.raster_source import open_source
from tests.test_cli import run_spex

WINDOW = Window(0, 0, 400, 300)


def _band_file(s2_scene: Path, folder: Path, name: str, factor: float | None) -> Path:
    """One band of the sample's window: as stored (uint16, reflectance x 10,000), or times
    `factor` as float32."""
    with rasterio.open(s2_scene) as src:
        index = src.descriptions.index(name) + 1
        data = src.read(index, window=WINDOW)
        profile = src.profile | {"count": 1, "width": 400, "height": 300}
        profile["transform"] = src.window_transform(WINDOW)
    if factor is not None:
        data = (data * factor).astype("float32")
        profile |= {"dtype": "float32", "nodata": None}
    path = folder / f"{name}.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def _stack(s2_scene: Path, folder: Path, nir_factor: float | None) -> Path:
    """Blue, green, red as stored and NIR as `_band_file` gives it, stacked in a VRT."""
    files = [_band_file(s2_scene, folder, n, None) for n in ("B2", "B3", "B4")]
    files.append(_band_file(s2_scene, folder, "B8", nir_factor))
    path = folder / "stack.vrt"
    gdal.BuildVRT(str(path), [str(f) for f in files], separate=True).FlushCache()
    return path


def test_a_reflectance_band_beside_scaled_ones_is_refused(s2_scene: Path, tmp_path: Path) -> None:
    stack = _stack(s2_scene, tmp_path, 1e-4)
    with pytest.raises(InputError) as refused:
        open_source(stack, bands="blue,green,red,nir")
    said = str(refused.value)
    assert said.startswith("The bands are not in one unit: nir (band 4) reaches 0.")
    assert "check --bands, or stack bands of one unit (gdal_translate -scale)" in said
    assert "\n" not in said
    done = run_spex("extract", stack, "--bands", "blue,green,red,nir", "--prompt", "water",
                    "--out", tmp_path / "out", "--quiet")  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("spex: error: The bands are not")
    assert done.stderr.count("\n") == 1 and not (tmp_path / "out").exists()


def test_bands_of_one_unit_are_read(s2_scene: Path, tmp_path: Path) -> None:
    """The same stack with its NIR as stored; and a band given another band's role that is
    bright or dark within reflectance's own spread (NIR as red) passes too."""
    stack = _stack(s2_scene, tmp_path, None)
    with open_source(stack, bands="blue,green,red,nir") as src:
        assert src.roles == ("blue", "green", "red", "nir")
    with open_source(stack, bands="blue,green,nir,red") as src:
        sample = src.read_sample()
    levels = [np.percentile(v, 99) for v in sample.bands.values()]
    assert 1.5 < max(levels) / min(levels) < 200
