"""An HLS granule given whole, as NASA's LP DAAC delivers it: one COG per band.

An HLS v2.0 granule (``HLS.L30.T33UUU.2017047T101059.v2.0``) comes as one file per band
(``...v2.0.B04.tif``) beside its Fmask and sun and view angle files, in one folder when
downloaded. Given that folder, the engine reads the granule's reflectance bands stacked in band
order (B8A after B08), as an analyst stacks them in QGIS: a VRT built by GDAL in the temporary
folder, whose band files name the bands and the product (`hls_products`). One band file given
alone is stacked with the others beside it (`granule_of_band_file`, the dock's "Add product").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from .band_stacks import one_product_in, stacked_files

#: A band file of a granule: (identifier, band) in ``HLS.S30.T33UUU.2017047T101059.v2.0.B8A.tif``.
HLS_BAND_FILE = re.compile(
    r"^(HLS\.(?:L30|S30)\.T\d{2}[A-Z]{3}\.\d{7}T\d{6}\.v\d+\.\d+)\.(B\d{2}|B8A)\.tiff?$",
    re.IGNORECASE,
)
#: HLS's thermal bands (L30's B10, B11: brightness temperature, not reflectance).
THERMAL = ("B10", "B11")


def hls_stack(name: str) -> Path | None:
    """A VRT of the reflectance bands of the one HLS granule whose band files the folder `name`
    holds, in band order; None for anything else, `InputError` for a folder of several."""
    folder = Path(name)
    if not folder.is_dir():
        return None
    fix = "give one granule's folder, or one of its band files"
    files = [f.name for f in folder.iterdir()]
    granule = one_product_in(files, folder.name, granules_in, "HLS granules", fix)
    return _stack(folder, granule) if granule else None


def granule_of_band_file(band_file: str) -> Path | None:
    """A VRT of the reflectance bands of the HLS granule that one of its band files belongs to,
    stacked from the band files beside it; None for any other file."""
    match = HLS_BAND_FILE.match(PurePosixPath(band_file).name)
    if match is None or not Path(band_file).is_file():
        return None
    return _stack(Path(band_file).absolute().parent, match.group(1))


def granules_in(names: Iterable[str]) -> list[str]:
    """The granules that the file names `names` hold band files of, sorted."""
    return sorted({m.group(1) for name in names if (m := HLS_BAND_FILE.match(name))})


def granule_name(name: str) -> str | None:
    """The granule that the file `name` is one band file of, or None."""
    match = HLS_BAND_FILE.match(PurePosixPath(name).name)
    return match.group(1) if match else None


def _stack(folder: Path, granule: str) -> Path | None:
    """The granule's reflectance band files in `folder`, stacked in band order."""
    files = {}
    for file in folder.iterdir():
        match = HLS_BAND_FILE.match(file.name)
        if match and match.group(1) == granule and match.group(2).upper() not in THERMAL:
            files[match.group(2).upper()] = str(file)
    ordered = sorted(files, key=lambda band: (int(band[1:].replace("8A", "8")), band == "B8A"))
    return stacked_files([files[band] for band in ordered]) if files else None
