"""A Maxar product made from the real Sentinel-2 sample scene (a fake, named as such: no Maxar
imagery may be redistributed): its top-of-atmosphere reflectance divided by the factor the IMD
written beside it gives each band, stored as uint16 digital numbers. The IMD is written in
Maxar's layout (band groups, ``absCalFactor``, ``effectiveBandwidth``, ``IMAGE_1``), so what
reads it is GDAL's own DigitalGlobe reader. WorldView-2's yellow band, which Sentinel-2 lacks,
is the mean of its green and red. WorldView-3's SWIR product (`swir_product`) is the scene's
SWIR1 and SWIR2 reflectance, averaged over blocks of `SWIR_BLOCK` pixels, as its eight bands."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import Affine
from rasterio.windows import Window

from spex.engine.raster.maxar_products import ESUN
from spex.engine.raster.raster_source import open_source
from spex.engine.raster.reflectance import earth_sun_distance_on

WINDOW = Window(0, 0, 160, 120)
NAME = "17MAY05102030-M2AS-058000000010_01_P001"
EIGHT = ("C", "B", "G", "Y", "R", "RE", "N", "N2")
ROLES = ("coastal", "blue", "green", "yellow", "red", "rededge1", "nir", "nir08")
FOUR = ("B", "G", "R", "N")
SUN_ELEVATION = 55.0
ACQUIRED = date(2017, 5, 5)
#: absCalFactor per band (effectiveBandwidth 0.05 for all): a factor of its own for each band.
ABS_CAL = dict(zip(EIGHT, (0.004, 0.005, 0.0045, 0.0035, 0.006, 0.004, 0.007, 0.0038), strict=True))
SWIR = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8")
ABS_CAL |= dict(
    zip(SWIR, (0.0012, 0.0007, 0.0006, 0.0005, 0.0003, 0.00028, 0.00025, 0.0002), strict=True)
)
#: The reflectance each SWIR band is made from (SWIR-2 is read as swir1, SWIR-6 as swir2).
SWIR_SOURCE = ("swir1",) * 4 + ("swir2",) * 4
#: The SWIR product's pixel, in pixels of the multispectral one (7.5 m against 1.2 m: ~6).
SWIR_BLOCK = 4
#: One collect's catalogue ids, as WorldView-3's VNIR and SWIR instruments have them.
VNIR_CATALOG_ID, SWIR_CATALOG_ID = "104001000ABCDE00", "104A01000ABCDE00"
SWIR_NAME = "17MAY05102029-A2AS-058000000020_01_P001"


def reflectance(s2_scene: Path) -> dict[str, np.ndarray]:
    """The sample scene's top-of-atmosphere reflectance, as WorldView-2's roles."""
    with open_source(s2_scene) as src:
        s2 = src.read(WINDOW, roles=("coastal", "blue", "green", "red", "rededge1", "nir", "nir08"))
    return s2 | {"yellow": (s2["green"] + s2["red"]) / 2}


def factor(satellite: str, band: str) -> float:
    """Reflectance per digital number: pi d^2 absCalFactor / effectiveBandwidth / (ESUN sin)."""
    d = earth_sun_distance_on(ACQUIRED)
    sine = math.sin(math.radians(SUN_ELEVATION))
    return ABS_CAL[band] / 0.05 * math.pi * d * d / (ESUN[satellite][band] * sine)


def imd_text(
    satellite: str, bands: tuple[str, ...], enhancement: str = "Off", catalog_id: str = ""
) -> str:
    """An IMD in Maxar's layout for `satellite`'s `bands` (its ids, in file order)."""
    lines = [
        'version = "28.0";',
        'imageDescriptor = "Standard2A";',
        'bandId = "Multi";',
        'productLevel = "LV2A";',
        f"numRows = {WINDOW.height};",
        f"numColumns = {WINDOW.width};",
        "bitsPerPixel = 16;",
        f'radiometricEnhancement = "{enhancement}";',
        'panSharpenAlgorithm = "None";',
    ]
    for band in bands:
        lines += [f"BEGIN_GROUP = BAND_{band}", f"\tabsCalFactor = {ABS_CAL[band]:e};",
                  "\teffectiveBandwidth = 5.000000e-02;", f"END_GROUP = BAND_{band}"]  # fmt: skip
    lines += [
        "BEGIN_GROUP = IMAGE_1",
        f'\tsatId = "{satellite}";',
        *([f'\tCatId = "{catalog_id}";'] if catalog_id else []),
        f"\tfirstLineTime = {ACQUIRED.isoformat()}T10:20:30.000000Z;",
        f"\tmeanSunEl = {SUN_ELEVATION};",
        "END_GROUP = IMAGE_1",
        "END;",
    ]
    return "\n".join(lines) + "\n"


def maxar_product(
    folder: Path,
    s2_scene: Path,
    satellite: str = "WV02",
    bands: tuple[str, ...] = EIGHT,
    enhancement: str = "Off",
    name: str = NAME,
    catalog_id: str = "",
) -> Path:
    """The fake product: `bands` of the sample scene as `satellite`'s digital numbers, with
    its IMD beside it."""
    refl = reflectance(s2_scene)
    dn_of = satellite if satellite in ESUN else "WV02"  # a satellite without ESUN: any DNs
    dn = [np.round(refl[ROLES[EIGHT.index(b)]] / factor(dn_of, b)) for b in bands]
    with rasterio.open(s2_scene) as src:
        profile = src.profile | {"count": len(bands), "dtype": "uint16", "nodata": None}
        profile.update(width=WINDOW.width, height=WINDOW.height, driver="GTiff")
        profile["transform"] = src.window_transform(WINDOW)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.TIF"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.clip(np.stack(dn), 1, 2047).astype("uint16"))
    (folder / f"{name}.IMD").write_text(imd_text(satellite, bands, enhancement, catalog_id))
    return path


def swir_reflectance(s2_scene: Path) -> tuple[dict[str, np.ndarray], Affine]:
    """The scene's SWIR1 and SWIR2 reflectance over `WINDOW`, averaged over blocks of
    `SWIR_BLOCK` pixels, and the transform of that coarser grid."""
    with open_source(s2_scene) as src:
        fine = src.read(WINDOW, roles=("swir1", "swir2"))
        transform = src.dataset.window_transform(WINDOW) * Affine.scale(SWIR_BLOCK)
    rows, cols = WINDOW.height // SWIR_BLOCK, WINDOW.width // SWIR_BLOCK
    coarse = {
        role: v[: rows * SWIR_BLOCK, : cols * SWIR_BLOCK]
        .reshape(rows, SWIR_BLOCK, cols, SWIR_BLOCK)
        .mean(axis=(1, 3))
        for role, v in fine.items()
    }
    return coarse, transform


def swir_product(folder: Path, s2_scene: Path, catalog_id: str = SWIR_CATALOG_ID) -> Path:
    """WorldView-3's SWIR product of the fake collect: eight bands of digital numbers on a grid
    `SWIR_BLOCK` times coarser than the multispectral one, its IMD beside it."""
    coarse, transform = swir_reflectance(s2_scene)
    dn = [np.round(coarse[r] / factor("WV03", b)) for r, b in zip(SWIR_SOURCE, SWIR, strict=True)]
    with rasterio.open(s2_scene) as src:
        crs = src.crs
    rows, cols = dn[0].shape
    profile = {"driver": "GTiff", "count": 8, "dtype": "uint16", "width": cols, "height": rows,
               "crs": crs, "transform": transform}  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SWIR_NAME}.TIF"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.clip(np.stack(dn), 1, 16383).astype("uint16"))
    (folder / f"{SWIR_NAME}.IMD").write_text(imd_text("WV03", SWIR, catalog_id=catalog_id))
    return path


def worldview3_order(folder: Path, s2_scene: Path, swir_catalog_id: str = SWIR_CATALOG_ID) -> Path:
    """A WorldView-3 order in `folder` as Maxar lays one out: the multispectral product in
    ``..._P001_MUL``, its SWIR product (of the collect `swir_catalog_id`) in ``..._P001_SWR``
    beside it; the multispectral file's path."""
    mul = maxar_product(folder / "058000000010_01_P001_MUL", s2_scene, satellite="WV03",
                        catalog_id=VNIR_CATALOG_ID)  # fmt: skip
    swir_product(folder / "058000000020_01_P001_SWR", s2_scene, swir_catalog_id)
    return mul
