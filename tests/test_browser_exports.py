"""Sentinel Hub's browser exports (EO Browser, Copernicus Browser), one GeoTIFF per band as an
analyst downloads them: the folder reads as the export's reflectance bands stacked, scaled by
the data type (16-bit x 65535, 8-bit x 255, floats as they are) and calibrated; Landsat's bands
by Landsat's numbers. Before, the folder was "a folder; give a raster file", a band file had no
roles, and a stack built by hand read Landsat's NIR (``B05``) as Sentinel-2's red edge and the
values as uncalibrated numbers. The bands are the real Sentinel-2 sample's reflectance, written
as Sentinel Hub writes them; the last test reads the real Kansas City export
(`bench/kansas_city_scene.py`)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import gdal
from rasterio.windows import Window

from spex.engine.errors import BandError, InputError
from spex.engine.raster.band_files import band_file_hint, band_file_product, whole_product
from spex.engine.raster.browser_exports import export_name
from spex.engine.raster.raster_source import open_source
from spex.engine.raster.temporary_files import file_stamp
from tests.rasters import sample_window, write_band
from tests.test_cli import run_spex

EXPORT = "2022-02-09-00:00_2022-02-09-23:59_Sentinel-2_L2A"
WINDOW = Window(1024, 256, 192, 160)
#: The sample's bands (Level-1C, reflectance x 10000) that stand for the exported ones.
S2_BANDS = ("B2", "B3", "B4", "B8", "B11", "B12")
ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")


def write_export(
    s2_scene: Path,
    folder: Path,
    export: str = EXPORT,
    names: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B11", "B12"),
    dtype: str = "uint16",
    shrink: str | None = None,
) -> Path:
    """`names` as Sentinel Hub's AUTO sample type stores the sample's reflectance in `dtype`
    (``{export}_{name}_(Raw).tiff``, written out of order), beside a cloud mask export and
    its .aux.xml; `shrink`: that band a pixel narrower (exported on another grid)."""
    folder.mkdir(parents=True, exist_ok=True)
    factor = {"uint16": 65535, "uint8": 255}.get(dtype, 1)
    sample, profile = sample_window(s2_scene, WINDOW, S2_BANDS)
    for name, s2 in sorted(zip(names, S2_BANDS, strict=True), reverse=True):
        reflectance = sample[s2] / 10000
        values = np.clip(np.round(reflectance * factor), 0, factor) if factor > 1 else reflectance
        width = WINDOW.width - (name == shrink)
        write_band(
            folder / f"{export}_{name}_(Raw).tiff",
            values[:, :width].astype(dtype),
            profile | {"width": width},
        )
    write_band(
        folder / f"{export}_Cloud_(Raw).tiff",
        np.zeros((WINDOW.height, WINDOW.width), dtype),
        profile,
    )
    (folder / f"{export}_Cloud_(Raw).tiff.aux.xml").write_text("<PAMDataset/>")
    return folder


def _truth(s2_scene: Path, band: str) -> np.ndarray:
    return sample_window(s2_scene, WINDOW, (band,))[0][band] / 10000


def test_an_exports_folder_reads_as_its_calibrated_reflectance_bands(
    s2_scene: Path, tmp_path: Path
) -> None:
    folder = write_export(s2_scene, tmp_path / "download")
    with open_source(folder) as src:
        assert src.mapping.sensor == "sentinel2_l2a" and src.mapping.roles == ROLES
        assert src.scaling.scale == pytest.approx(1 / 65535) and src.scaling.calibrated
        assert src.scaling.source == f"product {EXPORT}"
        assert "Sentinel Hub's AUTO sample type" in src.scaling.note
        nir = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=("nir",))["nir"]
    # Reflectance back to within one step of 16 bits (the Cloud layer is no band).
    np.testing.assert_allclose(nir, _truth(s2_scene, "B8"), atol=1 / 65535)
    done = run_spex("extract", folder, "--prompt", "water", "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "out" / "explanation.md").read_text(encoding="utf-8")
    assert "uncalibrated" not in text and f"(product {EXPORT})" in text


def test_an_export_of_several_days_is_said_to_be_a_mosaic(s2_scene: Path, tmp_path: Path) -> None:
    """EO Browser fills each pixel of a period's export from one of its acquisitions: the
    explanation says the days may differ from pixel to pixel; one day's export says nothing."""
    month = "2022-02-01-00_00_2022-02-28-23_59_Sentinel-2_L2A"  # as Windows names it
    texts = {}
    for export in (EXPORT, month):
        folder = write_export(s2_scene, tmp_path / export / "download", export=export)
        out = tmp_path / export / "out"
        done = run_spex("extract", folder, "--prompt", "water", "--out", out, "--quiet")
        assert done.returncode == 0, done.stderr
        texts[export] = (out / "explanation.md").read_text(encoding="utf-8")
    assert (
        "The export is a mosaic of the acquisitions from 2022-02-01 to 2022-02-28" in texts[month]
    )
    assert "neighbouring pixels may be of different days" in texts[month]
    assert "mosaic" not in texts[EXPORT]


@pytest.mark.parametrize(("dtype", "scale"), [("uint8", 1 / 255), ("float32", 1.0)])
def test_8_bit_and_float_exports_are_scaled_by_their_data_type(
    s2_scene: Path, tmp_path: Path, dtype: str, scale: float
) -> None:
    folder = write_export(s2_scene, tmp_path / dtype, dtype=dtype)
    with open_source(folder) as src:
        assert src.scaling.scale == pytest.approx(scale) and src.scaling.calibrated
        red = src.read(Window(0, 0, WINDOW.width, WINDOW.height), roles=("red",))["red"]
    np.testing.assert_allclose(red, _truth(s2_scene, "B4"), atol=0.5 / 255 + 1e-6)


def test_landsat_exports_read_landsats_band_numbers(s2_scene: Path, tmp_path: Path) -> None:
    """Sentinel Hub names OLI's NIR ``B05``, Sentinel-2's first red edge; its name says which,
    in the folder and in a stack built by hand (Build Virtual Raster) alike."""
    export = "2021-07-16-00_00_2021-07-16-23_59_Landsat_8-9_L2"  # as Windows writes it
    oli = ("B02", "B03", "B04", "B05", "B06", "B07")
    folder = write_export(s2_scene, tmp_path / "landsat", export, oli)
    files = [str(folder / f"{export}_{band}_(Raw).tiff") for band in oli]
    gdal.BuildVRT(str(tmp_path / "by_hand.vrt"), files, separate=True)
    for given in (folder, tmp_path / "by_hand.vrt"):
        with open_source(given) as src:
            assert src.mapping.sensor == "landsat8_9_sentinel_hub", given
            assert src.mapping.roles == ROLES and src.scaling.calibrated
    # The same names without the export's: Sentinel-2's red edges, as before.
    plain = tmp_path / "plain"
    plain.mkdir()
    for band, file in zip(oli, files, strict=True):
        (plain / f"scene_{band}.tif").symlink_to(file)
    gdal.BuildVRT(str(plain / "stack.vrt"), sorted(map(str, plain.glob("*.tif"))), separate=True)
    with open_source(plain / "stack.vrt") as src:
        assert src.mapping.roles[3:6] == ("rededge1", "rededge2", "rededge3")


def test_one_band_file_names_its_export_and_opens_it_whole(s2_scene: Path, tmp_path: Path) -> None:
    folder = write_export(s2_scene, tmp_path / "download")
    band = folder / f"{EXPORT}_B04_(Raw).tiff"
    with pytest.raises(BandError, match=rf"is one band of Sentinel Hub export {EXPORT}; give"):
        open_source(band)
    assert band_file_product(str(band)) == EXPORT
    assert "give the folder of its band files" in band_file_hint(str(band))
    assert band_file_product(str(folder / f"{EXPORT}_Cloud_(Raw).tiff")) is None
    with open_source(whole_product(str(band))) as src:
        assert src.dataset.count == 6 and src.mapping.roles == ROLES
    # Renamed by hand, or exported before the dates were added; a place name in front.
    assert export_name("Sentinel-2_L2A_B02.tiff") == "Sentinel-2_L2A"
    assert export_name("59_Sentinel-2_L1C_B8A_(Raw).tif") == "59_Sentinel-2_L1C"
    for other in ("scene_B02.tif", f"{EXPORT}_B02_(Raw).jpg", "Sentinel-2_L2A_B10.tiff"):
        assert export_name(other) is None, other  # L2A has no B10; JPEGs have no georeference


def test_a_folder_of_two_exports_or_of_two_grids_is_refused(s2_scene: Path, tmp_path: Path) -> None:
    folder = write_export(s2_scene, tmp_path / "season")
    write_export(s2_scene, folder, EXPORT.replace("02-09", "03-11"))
    with pytest.raises(InputError, match="holds the band files of 2 Sentinel Hub exports"):
        open_source(folder)
    uneven = write_export(s2_scene, tmp_path / "uneven", shrink="B11")
    done = run_spex("extract", uneven, "--prompt", "water", "--out", tmp_path / "out", "--quiet")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "do not share one grid" in done.stderr and not (tmp_path / "out").exists()


def test_the_zip_eo_browser_downloads_reads_as_its_export(s2_scene: Path, tmp_path: Path) -> None:
    """EO Browser's download is a zip of the band files (``EO_Browser_images.zip``): the zip
    reads as the folder does, and a member given alone (as QGIS loads a dragged zip's files)
    names the zip and opens the export whole."""
    folder = write_export(s2_scene, tmp_path / "EO_Browser_images")
    archive = tmp_path / "EO_Browser_images.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted(folder.iterdir()):
            zipped.write(file, f"EO_Browser_images/{file.name}")
    with open_source(archive) as src, open_source(folder) as unzipped:
        assert src.mapping.roles == ROLES and src.scaling.source == f"product {EXPORT}"
        assert (src.dataset.read() == unzipped.dataset.read()).all()
    member = f"/vsizip/{archive}/EO_Browser_images/{EXPORT}_B08_(Raw).tiff"
    assert f"give its zip archive {archive.name}" in band_file_hint(member)
    with open_source(whole_product(member)) as src:
        assert src.dataset.count == 6 and src.mapping.roles == ROLES
    done = run_spex("extract", archive, "--prompt", "water", "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 0, done.stderr
    # The stack is named by the archive as it is: a zip replaced under the same name (another
    # date downloaded over it) is stacked anew, never read through the old stack.
    before = whole_product(member)
    with zipfile.ZipFile(archive, "a") as zipped:
        zipped.writestr("EO_Browser_images/readme.txt", "another download")
    assert file_stamp(member) == file_stamp(archive) != ""
    assert whole_product(member) != before


def test_the_rendered_image_download_is_not_read_as_values(s2_scene: Path, tmp_path: Path) -> None:
    """EO Browser's image download renders a "Raw" band as a grey picture (three 8-bit
    channels, stretched for the eye) under the same name: refused whole, and a stack of them
    built by hand is not called calibrated."""
    folder = write_export(s2_scene, tmp_path / "pictures", dtype="uint8")
    files = sorted(folder.glob("*_B0*_(Raw).tiff")) + sorted(folder.glob("*_B1*_(Raw).tiff"))
    for file in files:
        with rasterio.open(file) as src:
            grey, profile = src.read(1), src.profile | {"count": 3}
        with rasterio.open(file, "w", **profile) as dst:
            dst.write(np.stack([grey] * 3))
    done = run_spex("extract", folder, "--prompt", "water", "--out", tmp_path / "out", "--quiet")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "are pictures" in done.stderr and '"Analytical" TIFFs' in done.stderr
    # Stacked by hand, the pictures' first channels carry no band names; given the roles, the
    # stack is still the export's by its files' names, but not its values.
    gdal.BuildVRT(str(tmp_path / "by_hand.vrt"), [str(f) for f in files], separate=True)
    with open_source(tmp_path / "by_hand.vrt", bands=",".join(ROLES)) as src:
        assert not src.scaling.calibrated and "are pictures" in src.scaling.note
