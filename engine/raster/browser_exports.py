"""Sentinel Hub's browser exports (EO Browser, Copernicus Browser): one GeoTIFF per band.

An analyst who downloads imagery from EO Browser or the Copernicus Browser ("Download",
"Analytical", the "Raw" bands) gets one file per band, named by the time range, the collection
and the band: ``2022-02-09-00:00_2022-02-09-23:59_Sentinel-2_L2A_B04_(Raw).tiff`` (Windows
writes ``00_00`` for the colons; older exports and files renamed by hand drop the dates or the
``_(Raw)``; some analysts put a place name in front). Each file holds the collection's
reflectance (0-1) as the chosen format stores it (Sentinel Hub's ``AUTO`` sample type):
16-bit integers x 65535, 8-bit x 255, 32-bit floats as they are; no band name, no nodata.

Given the folder, or the zip EO Browser downloads, the engine reads the export's reflectance
bands stacked in band order (a VRT built by GDAL in the temporary folder: `band_stacks`), as an
analyst stacks them in QGIS; one band file given alone is stacked with the others beside it
(`export_of_band_file`, the dock's "Add product"). The band files' names then name the bands
and the export (`vrt_sources`), so a stack an analyst built by hand is read the same way: the
scaling by the data type (`product_reading`), and Landsat's bands by Landsat's numbers, which
Sentinel Hub zero-pads as Sentinel-2's are (``B05`` is OLI's NIR, Sentinel-2's red edge): the
``named_only`` presets ``landsat8_9_sentinel_hub`` and ``landsat_tm_etm_sentinel_hub``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError

from ..errors import InputError
from .band_stacks import one_product_in, stacked_files
from .product_files import geotiff_stem, only_one, zip_archive, zip_members
from .reflectance import PRESET_MIN_P99, ProductReading, Scaling, plausible_reflectance
from .vrt_sources import vrt_source_files


@dataclass(frozen=True)
class Collection:
    """A Sentinel Hub collection as its exports name it: what it is, the preset that reads
    its band names, and its reflectance bands in band order (thermal and panchromatic bands,
    cloud masks and scene classifications left out)."""

    label: str
    preset: str
    bands: tuple[str, ...]


_OLI = ("B01", "B02", "B03", "B04", "B05", "B06", "B07")
_TM = ("B01", "B02", "B03", "B04", "B05", "B07")
_S2 = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12")
#: By the collection's name in the file name, upper case.
COLLECTIONS = {
    "SENTINEL-2_L2A": Collection("Sentinel-2 L2A (surface reflectance)", "sentinel2_l2a", _S2),
    "SENTINEL-2_L1C": Collection(
        "Sentinel-2 L1C (top-of-atmosphere reflectance)",
        "sentinel2_l1c",
        (*_S2[:10], "B10", *_S2[10:]),
    ),
    **{
        f"LANDSAT_{mission}_L{level}": Collection(
            f"Landsat {mission} OLI L{level} ({kind})", "landsat8_9_sentinel_hub", _OLI
        )
        for mission in ("8", "8-9")
        for level, kind in (("1", "top-of-atmosphere reflectance"), ("2", "surface reflectance"))
    },
    **{
        f"LANDSAT_{mission}_L{level}": Collection(
            f"Landsat {mission.replace('_', ' ')} L{level} ({kind})",
            "landsat_tm_etm_sentinel_hub",
            _TM,
        )
        for mission in ("4-5_TM", "7_ETM", "7_ETM+")
        for level, kind in (("1", "top-of-atmosphere reflectance"), ("2", "surface reflectance"))
    },
}
#: A band file's stem in an export: (export, collection, band). The export is everything before
#: the band: the time range and the collection, after whatever the analyst put in front.
BAND_STEM = re.compile(
    r"^(?P<export>.*?(?<![A-Za-z0-9])(?P<collection>Sentinel-2_L(?:1C|2A)|Landsat_(?:8|8-9)_L[12]"
    r"|Landsat_(?:4-5_TM|7_ETM\+?)_L[12]))_(?P<band>B\d{2}|B8A)(?:_\(Raw\))?$",
    re.IGNORECASE,
)
#: An export's time range as its name gives it (``2022-02-01-00:00_2022-02-28-23:59``; Windows
#: writes ``_`` for the colons): the first and the last day.
TIME_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})-\d{2}[:_]\d{2}_(\d{4}-\d{2}-\d{2})-\d{2}[:_]\d{2}")
#: What Sentinel Hub's ``AUTO`` sample type multiplies reflectance by, per data type.
AUTO_SCALE = {"uint8": 255.0, "uint16": 65535.0}


@dataclass(frozen=True)
class BrowserExport:
    """One export (its files' name before the band) of one collection."""

    identifier: str
    collection: Collection

    @property
    def label(self) -> str:
        """What an analyst reads: ``Sentinel Hub export of Sentinel-2 L2A (surface reflectance)``."""
        return f"Sentinel Hub export of {self.collection.label}"

    @property
    def preset(self) -> str:
        """The sensor preset that reads the export's band names."""
        return self.collection.preset


def mosaic_period(identifier: str) -> str:
    """What an analyst must know where the export `identifier` (or any name holding its time
    range) spans several days, else "": Sentinel Hub fills each pixel from one of the period's
    acquisitions (by default the most recent it has), so neighbouring pixels may be of
    different days."""
    days = TIME_RANGE.search(identifier)
    if days is None or days.group(1) == days.group(2):
        return ""
    return (
        f"The export is a mosaic of the acquisitions from {days.group(1)} to {days.group(2)}: "
        "Sentinel Hub fills each pixel from one of them (by its mosaicking order, the most "
        "recent first unless chosen otherwise), so neighbouring pixels may be of different "
        "days, and a boundary between two days can look like a change of cover; export one "
        "day to map one acquisition."
    )


def export_name(name: str) -> str | None:
    """The export that the file `name` is one reflectance band file of, or None."""
    found = _band_file(name)
    return found[0] if found else None


def find_product(path: str | Path, descriptions: Sequence[str | None] = ()) -> BrowserExport | None:
    """The one export the file name or the band descriptions (a VRT's band files' names: see
    `product_names`) name; None where none is named or where they name two (two dates)."""
    found = {}
    named = [_band_file(str(path)), *(_reflectance_band(d) for d in descriptions if d)]
    for export, collection, _ in filter(None, named):
        found[export] = BrowserExport(export, collection)
    return only_one(found)


def product_reading(
    product: BrowserExport,
    path: str | Path,
    percentiles: Mapping[str, float],
    roles: Sequence[str] = (),
) -> ProductReading:
    """Reflectance x 65535 for 16-bit values, x 255 for 8-bit, as is for floats (Sentinel Hub's
    ``AUTO`` sample type), if the values of the raster at `path` fit it."""
    from .dataset_open import open_dataset  # which opens an export's folder with this module
    from .pixel_grid import close_dataset

    dataset = open_dataset(path)
    dtype = dataset.dtypes[0]
    close_dataset(dataset)
    factor = AUTO_SCALE.get(dtype, 1.0 if np.dtype(dtype).kind == "f" else 0.0)
    p1, p99 = float(percentiles["p1"]), float(percentiles["p99"])
    name = f"{product.label}, {product.identifier} (named by the band files)"
    if any((_grid(str(f)) or (1,))[-1] != 1 for f in vrt_source_files(path)):
        # A stack of the rendered image download's files: grey levels stretched for the eye.
        return ProductReading(None, f"{name}: its files are pictures, not the bands' values; ")
    if not factor or not plausible_reflectance(p1 / factor, p99 / factor, PRESET_MIN_P99):
        stored = f"reflectance x {factor:g}" if factor else "reflectance"
        return ProductReading(
            None, f"{name}: its {dtype} values (p1 {p1:g}, p99 {p99:g}) are not its {stored}; "
        )
    how = f"reflectance = value / {factor:g} ({dtype}, Sentinel Hub's AUTO sample type)"
    scaling = Scaling(1.0 / factor, 0.0, True, f"product {product.identifier}", f"{name}: {how}")
    return ProductReading(scaling)


def browser_stack(name: str) -> Path | None:
    """A VRT of the reflectance bands of the one export whose band files the folder `name`, or
    the zip archive `name` as EO Browser downloads it, holds, in band order; None for anything
    else, `InputError` for a folder or archive of several."""
    names = _zipped_band_files(name)
    if names is None and not Path(name).is_dir():
        return None
    names = _files_in(Path(name)) if names is None else names
    fix = "move each export's band files into a folder of their own and give one"
    export = one_product_in(names, Path(name).name, exports_in, "Sentinel Hub exports", fix)
    return _stack(names, export, Path(name).name) if export else None


def export_of_band_file(band_file: str) -> Path | None:
    """A VRT of the reflectance bands of the export that one of its band files (a file, or a
    zip archive's member as GDAL names it) belongs to, stacked from the band files beside it;
    None for any other file."""
    export = export_name(band_file)
    archive = zip_archive(band_file)
    if export is None:
        return None
    if archive is not None:
        return _stack(_zipped_band_files(archive) or [], export, Path(archive).name)
    if not Path(band_file).is_file():
        return None
    folder = Path(band_file).absolute().parent
    return _stack(_files_in(folder), export, folder.name)


def exports_in(names: Iterable[str]) -> list[str]:
    """The exports that the file names `names` hold reflectance band files of, sorted."""
    return sorted({export for name in names if (export := export_name(name))})


def _band_file(name: str) -> tuple[str, Collection, str] | None:
    """`_reflectance_band` of the file `name` (a path or GDAL name), where it is a GeoTIFF."""
    stem = geotiff_stem(name)  # Sentinel Hub's JPEG and PNG have no georeference
    return _reflectance_band(stem) if stem else None


def _reflectance_band(stem: str) -> tuple[str, Collection, str] | None:
    """(export, collection, band) of a band file's stem, where the band is one of its
    collection's reflectance bands; else None."""
    match = BAND_STEM.match(stem)
    if match is None:
        return None
    collection = COLLECTIONS[match.group("collection").upper()]
    band = match.group("band").upper()
    return (match.group("export"), collection, band) if band in collection.bands else None


def _files_in(folder: Path) -> list[str]:
    return [str(f) for f in folder.iterdir()]


def _zipped_band_files(name: str) -> list[str] | None:
    """The members of the zip archive `name` as GDAL names them (``/vsizip/``); None where
    `name` is no zip file."""
    if not name.lower().endswith(".zip") or not Path(name).is_file():
        return None
    archive = Path(name).absolute()
    return [f"/vsizip/{archive}/{member}" for member in zip_members(archive)]


def _stack(names: Iterable[str], export: str, where: str) -> Path:
    """The export's reflectance band files among the GDAL `names` (of the folder or archive
    `where`), stacked in band order; `InputError` where they do not share one grid (exported at
    different resolutions or extents)."""
    files: dict[str, str] = {}
    order: tuple[str, ...] = ()
    for name in names:
        found = _band_file(name)
        if found and found[0] == export:
            files[found[2]], order = name, found[1].bands
    ordered = [files[band] for band in order if band in files]
    grids = {_grid(f) for f in ordered}
    if any(grid and grid[-1] != 1 for grid in grids):
        raise InputError(
            f"The band files of {export} in {where} are pictures (several bands each: EO "
            "Browser's rendered image download), not the bands' values; download its "
            '"Analytical" TIFFs (16-bit or 32-bit float) instead.'
        )
    if len(grids) > 1 or None in grids:
        raise InputError(
            f"The band files of {export} in {where} do not share one grid (or one does not "
            "open); export every band at one resolution and extent, or stack them yourself "
            "(Build Virtual Raster, a band each) and give the stack."
        )
    return stacked_files(ordered)


def _grid(name: str) -> tuple[object, ...] | None:
    """A band file's grid (size, transform, CRS) and its band count, or None where it cannot
    be opened."""
    try:
        with rasterio.open(name) as dataset:
            grid = dataset.width, dataset.height, tuple(dataset.transform), str(dataset.crs)
            return (*grid, dataset.count)
    except RasterioIOError:
        return None
