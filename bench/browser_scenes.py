"""The benchmark's georeferenced reflectance scenes as Sentinel Hub exports them (``bench.quality
--groups browser``): one ``..._Sentinel-2_L2A_B04_(Raw).tiff`` per band in a folder, reflectance
x 65535 in 16 bits (its ``AUTO`` sample type), no nodata (0 where the scene has none), as an
analyst downloads a scene from EO Browser or the Copernicus Browser. Each is read from its folder
with nothing given (`engine.raster.browser_exports`): its rows should be the scene's own, but for
16-bit rounding and the bands Sentinel-2 has no name for (a spectrometer's other channels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .scenes import Scene

#: The Sentinel-2 band each role is exported as.
SENTINEL2_NAMES = {
    "coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05",
    "rededge2": "B06", "rededge3": "B07", "nir": "B08", "nir08": "B8A", "swir1": "B11",
    "swir2": "B12",
}  # fmt: skip
EXPORT = "2020-06-01-00:00_2020-06-01-23:59_Sentinel-2_L2A"
#: Reflectance 1.0 in a 16-bit export.
FULL_SCALE = 65535


def browser_scenes(scenes: list[Scene], folder: Path) -> list[Scene]:
    """`scenes` of one georeferenced raster read as calibrated reflectance with blue, green,
    red and NIR, each written (once) as an export in ``folder/<scene>`` and read from there."""
    from spex.engine.raster.raster_source import open_source

    out = []
    for scene in scenes:
        if len(scene.rasters) > 1:
            continue
        image, labels = scene.rasters[0]
        export = folder / scene.name
        with open_source(image, bands=scene.bands, sensor=scene.sensor, scale=scene.scale) as src:
            roles = [r for r in SENTINEL2_NAMES if r in src.roles]
            usable = src.scaling.calibrated and {"blue", "green", "red", "nir"} <= set(roles)
            if not usable or src.dataset.crs is None:
                continue
            if not export.is_dir():
                _write_export(src, roles, export)
        out.append(
            Scene(f"{scene.name}_browser", "browser", ((export, labels),),
                  simulated="written as a Sentinel Hub export", note=scene.note)
        )  # fmt: skip
    return out


def _write_export(src, roles: list[str], export: Path) -> None:
    """The source's `roles` as the export's band files, written in a partial folder moved into
    place whole."""
    import rasterio
    from rasterio.windows import Window

    bands = src.read(Window(0, 0, src.width, src.height), roles=tuple(roles))
    valid = np.all([np.isfinite(bands[r]) for r in roles], axis=0)
    profile = {
        "driver": "GTiff", "width": src.width, "height": src.height, "count": 1,
        "dtype": "uint16", "crs": src.dataset.crs, "transform": src.dataset.transform,
    }  # fmt: skip
    partial = export.with_name(f"{export.name}.partial")
    partial.mkdir(parents=True, exist_ok=True)
    for role in roles:
        values = np.clip(np.round(np.nan_to_num(bands[role]) * FULL_SCALE), 0, FULL_SCALE)
        values[~valid] = 0
        name = f"{EXPORT}_{SENTINEL2_NAMES[role]}_(Raw).tiff"
        with rasterio.open(partial / name, "w", **profile) as dst:
            dst.write(values.astype("uint16"), 1)
    partial.replace(export)
