"""GDAL dataset names that are not plain files: a raster inside a zip archive (``/vsizip/``) and a
driver's subdataset (``GTIFF_DIR:1:file.tif``; ``SENTINEL2_L2A:...:10m:EPSG_32632`` is the same
form). QGIS gives a layer opened from a zipped or multi-resolution product such a source; the
engine opened files only ("does not exist")."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from osgeo import gdal

from spex.engine.errors import InputError
from spex.engine.raster.dataset_open import GDAL_DATASET_NAME
from spex.engine.raster.raster_source import open_source
from tests.rasters import zipped_copy
from tests.test_cli import run_spex

gdal.UseExceptions()


@pytest.fixture()
def zipped(s2_scene: Path, tmp_path: Path) -> str:
    """The real Sentinel-2 stack inside a zip archive, as GDAL names it (/vsizip//tmp/...)."""
    return zipped_copy(s2_scene, tmp_path)


def test_a_raster_in_a_zip_archive_is_read_as_the_file_is(zipped: str, s2_scene: Path) -> None:
    with open_source(s2_scene) as plain:
        roles, scaling = plain.mapping.roles, plain.scaling
    # As given, and as Path() leaves it (the archive's leading slash collapsed away).
    for name in (zipped, Path(zipped)):
        with open_source(name) as src:
            assert src.mapping.roles == roles and src.scaling == scaling
    assert "//" in zipped and "//" not in str(Path(zipped))


def test_a_subdataset_name_is_opened(s2_scene: Path) -> None:
    with open_source(f"GTIFF_DIR:1:{s2_scene}") as src, open_source(s2_scene) as plain:
        assert src.mapping.roles == plain.mapping.roles
        assert (src.width, src.height) == (plain.width, plain.height)


def test_a_wrong_dataset_name_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="check the dataset name") as err:
        open_source(f"GTIFF_DIR:1:{tmp_path / 'missing.tif'}")
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="does not exist; check the path"):
        open_source(tmp_path / "missing.tif")
    # A Windows drive letter is a path, not a driver's prefix.
    assert GDAL_DATASET_NAME.match("C:/data/scene.tif") is None
    assert GDAL_DATASET_NAME.match("SENTINEL2_L2A:/data/MTD_MSIL2A.xml:10m:EPSG_32632")


def test_extract_reads_a_raster_inside_a_zip_archive(zipped: str, tmp_path: Path) -> None:
    out = tmp_path / "water"
    done = run_spex("extract", zipped, "--prompt", "extract the water bodies", "--out", out)
    assert done.returncode == 0, done.stderr
    assert (out / "mask.tif").exists() and (out / "features.gpkg").exists()
    assert Path(zipped).name in (out / "explanation.md").read_text(encoding="utf-8")


def test_a_container_of_subdatasets_or_a_zip_names_what_to_give(
    s2_scene: Path, tmp_path: Path
) -> None:
    """A NetCDF file of several variables opens with no band of its own (the engine said "the
    raster has 0 bands"), a zip of a GeoTIFF does not open at all: each refusal names what to
    give instead, in one line, exit 2."""
    container = tmp_path / "bands.nc"
    gdal.Translate(str(container), str(s2_scene), format="netCDF", srcWin=[0, 0, 32, 32])
    with pytest.raises(InputError, match=r"holds 13 subdatasets and no band of its own") as err:
        open_source(container)
    assert "Band1" in str(err.value) and "gdalbuildvrt -separate" in str(err.value)
    archive = tmp_path / "scene.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(s2_scene, "data/scene.tif")
    done = run_spex("extract", archive, "--prompt", "water", "--out", tmp_path / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "is a zip archive" in done.stderr
    assert f"/vsizip/{archive}/data/scene.tif" in done.stderr
    with open_source(f"/vsizip/{archive}/data/scene.tif") as src:  # as the message says
        assert src.mapping.roles
