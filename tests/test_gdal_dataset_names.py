"""GDAL dataset names that are not plain files: a raster inside a zip archive (``/vsizip/``) and a
driver's subdataset (``GTIFF_DIR:1:file.tif``; ``SENTINEL2_L2A:...:10m:EPSG_32632`` is the same
form). QGIS gives a layer opened from a zipped or multi-resolution product such a source; the
engine opened files only ("does not exist")."""

from __future__ import annotations

from pathlib import Path

import pytest

from spex.engine.errors import InputError
from spex.engine.raster.raster_source import GDAL_DATASET_NAME, open_source
from tests.rasters import zipped_copy
from tests.test_cli import run_spex


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
