"""Band roles from the colour interpretation: an orthophoto or map export names no band, but
GDAL knows which bands it shows as red, green and blue. Real Sentinel-2 values, stored as such
an export stores them; the real CLI in a fresh process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine.errors import BandError
from spex.engine.raster.colour_interp import CIR_HINT, roles_from_colour
from spex.engine.raster.product_names import file_band_mapping
from spex.engine.raster.raster_source import open_source
from tests.rasters import orthophoto_copy
from tests.test_cli import run_spex


@pytest.mark.parametrize(
    ("colours", "roles"),
    [
        (["Red", "Green", "Blue"], ("red", "green", "blue")),
        (["blue", "green", "red"], ("blue", "green", "red")),  # rasterio's names, BGR order
        (["Red", "Green", "Blue", "Alpha"], ("red", "green", "blue", None)),
        (["Red", "Green", "Blue", "Undefined"], None),  # NAIP: the fourth band is its NIR
        (["Gray"], None),
        (["Palette"], None),
        (["Red", "Red", "Blue"], None),
        (["Red", "Green"], None),
    ],
)
def test_only_exactly_red_green_and_blue_name_the_bands(colours, roles) -> None:
    assert roles_from_colour(colours) == roles


def test_descriptions_come_first_and_a_fourth_band_is_not_guessed() -> None:
    described = file_band_mapping(
        "cir.tif", ["nir", "red", "green"], colours=["Red", "Green", "Blue"]
    )
    assert described.roles == ("nir", "red", "green")
    assert described.source == "band descriptions"
    coloured = file_band_mapping("ortho.tif", [None] * 3, colours=["Red", "Green", "Blue"])
    assert coloured.roles == ("red", "green", "blue")
    assert coloured.source == "colour interpretation"
    with pytest.raises(BandError, match="cannot tell the band roles"):
        file_band_mapping("ortho.tif", [None] * 4, colours=["Red", "Green", "Blue", "Undefined"])


def test_an_orthophoto_with_transparency_is_read_as_true_colour(
    s2_scene: Path, tmp_path: Path
) -> None:
    path = orthophoto_copy(s2_scene, tmp_path / "ortho.tif", alpha=True)
    with open_source(path) as src:
        assert src.mapping.roles == ("red", "green", "blue", None)
        assert src.mapping.source == "colour interpretation"
        bands = src.read(Window(0, 0, 512, 256))
    transparent = np.isnan(bands["red"])
    assert transparent[:, :64].all() and not transparent[:, 64:].any()


def test_extract_on_an_orthophoto_equals_naming_its_bands(s2_scene: Path, tmp_path: Path) -> None:
    """Roles from the colour interpretation give the bytes `--bands red,green,blue` gives, and
    the explanation says where the roles came from and what a colour-infrared image needs."""
    path = orthophoto_copy(s2_scene, tmp_path / "ortho.tif")
    masks = []
    for name, flags in (("found", ()), ("named", ("--bands", "red,green,blue"))):
        out = tmp_path / name
        result = run_spex("extract", path, "--prompt", "map the vegetation", "--out", out, *flags)
        assert result.returncode == 0, result.stderr
        with rasterio.open(out / "mask.tif") as mask:
            masks.append(mask.read(1))
    assert (masks[0] == masks[1]).all()
    assert (masks[0] == 1).sum() > 1000  # the scene's fields and forest are found in true colour
    explanation = (tmp_path / "found" / "explanation.md").read_text(encoding="utf-8")
    assert "- Bands (colour interpretation): red, green, blue." in explanation
    assert CIR_HINT in explanation
    named = (tmp_path / "named" / "explanation.md").read_text(encoding="utf-8")
    assert CIR_HINT not in named


def test_a_jpeg_compressed_orthophoto_is_read_as_true_colour(
    s2_scene: Path, tmp_path: Path
) -> None:
    """YCbCr JPEG in a TIFF, as orthophoto services deliver it: GDAL decodes it to RGB."""
    source = orthophoto_copy(s2_scene, tmp_path / "ortho.tif")
    with rasterio.open(source) as src:
        profile = dict(src.profile, photometric="YCBCR", compress="JPEG", blockxsize=256,
                       blockysize=256, tiled=True)  # fmt: skip
        data = src.read()
    with rasterio.open(tmp_path / "ortho_jpeg.tif", "w", **profile) as dst:
        dst.write(data)
    with open_source(tmp_path / "ortho_jpeg.tif") as src:
        assert src.mapping.roles == ("red", "green", "blue")
        assert src.mapping.source == "colour interpretation"


def test_black_read_as_missing_is_said_unless_a_mask_band_hid_it(
    s2_scene: Path, tmp_path: Path
) -> None:
    """The orthophoto's left 64 columns black (0 in every band): hidden by an alpha band, they
    are not the file's values, so no caveat; without one they are read as a fill, which the
    explanation and run.json say (an eighth of the image)."""
    hidden = orthophoto_copy(s2_scene, tmp_path / "alpha.tif", alpha=True)
    with rasterio.open(hidden) as src:
        profile = dict(src.profile, count=3, alpha="NO")
        data = src.read([1, 2, 3])
    black = tmp_path / "black.tif"
    with rasterio.open(black, "w", **profile) as dst:
        dst.write(data)
    said = {}
    for name, path in (("alpha", hidden), ("black", black)):
        result = run_spex("extract", path, "--prompt", "vegetation", "--out", tmp_path / name)
        assert result.returncode == 0, result.stderr
        text = (tmp_path / name / "explanation.md").read_text(encoding="utf-8")
        said[name] = "holds 0 in every band and the file declares no nodata value" in text
        manifest = json.loads((tmp_path / name / "run.json").read_text(encoding="utf-8"))
        said[name + " manifest"] = manifest["tiling"]["undeclared_fill"]
    assert not said["alpha"] and said["alpha manifest"] is None
    assert said["black"] and said["black manifest"][1] == 0
    assert abs(said["black manifest"][0] - 0.125) < 0.01
