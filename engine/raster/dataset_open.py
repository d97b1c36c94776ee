"""Opening a raster by the name an analyst or QGIS gives: a file, a GDAL dataset name (a
subdataset, a ``/vsizip/`` path), a Sentinel-2 or Landsat product given whole as it was
delivered; whatever cannot be read is refused in one line that names the fix."""

from __future__ import annotations

import re
import warnings
from pathlib import Path, PurePosixPath

import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

from ..errors import InputError
from .browser_exports import browser_stack
from .data_types import one_data_type
from .hls_granules import hls_stack
from .landsat_folders import landsat_stack
from .pixel_grid import close_dataset, warped_as_drawn
from .product_files import zip_members
from .reflectance_maps import maps_stack
from .sentinel2_layers import finest_layer, with_product_bands

#: A GDAL dataset name that is not a plain file: a virtual file system path (``/vsizip/``) or a
#: driver's subdataset (``SENTINEL2_L2A:...:10m:EPSG_32632``, ``NETCDF:"file.nc":var``); QGIS
#: gives a layer opened from a zipped or multi-resolution product such a source.
GDAL_DATASET_NAME = re.compile(r"^(/vsi[a-z0-9_]+/|[A-Z][A-Z0-9_]+:)")
#: ``Path`` collapses the ``//`` of ``/vsizip//abs/archive.zip``: the archive then reads as a
#: relative path, which this puts back.
_COLLAPSED_ARCHIVE = re.compile(r"(/vsi(?:zip|tar|gzip|7z|rar))/(?!/)")


def absolute_name(name: str) -> str:
    """`name` as another process in another folder opens it: a file by its absolute path, a
    GDAL dataset name (``SENTINEL2_L2A:...``, ``/vsizip//...``) as it is."""
    return name if GDAL_DATASET_NAME.match(name) else str(Path(name).absolute())


def product_given_whole(name: str) -> bool:
    """Whether `name` gives a Sentinel-2 or Landsat product, an HLS granule or a Sentinel Hub
    export whole (its zip, .SAFE folder or metadata file; its folder, .tar or MTL file; its
    folder of band files),
    which `open_dataset` opens as one raster though QGIS cannot load it as a layer."""
    try:
        return _whole_product(name) is not None
    except InputError:
        return True  # a product, with something wrong that the run's own opening says


def _whole_product(name: str) -> str | None:
    """The GDAL name of the raster a product given whole opens as (a Sentinel-2 product's
    finest layer, the band files of a Landsat product, an HLS granule, a Sentinel Hub export or
    a drone flight's reflectance maps stacked), or None."""
    layer = finest_layer(name)
    if layer is not None:
        return layer
    stack = landsat_stack(name) or hls_stack(name) or browser_stack(name) or maps_stack(name)
    return str(stack) if stack is not None else None


def open_dataset(path: str | Path) -> rasterio.DatasetReader:
    """Open a raster file or GDAL dataset name, turning a missing or unreadable one into one
    clear line. A raster placed only by GCPs or RPCs opens warped, as QGIS draws it
    (`warped_as_drawn`); a Sentinel-2 product given whole opens as its finest layer
    (`finest_layer`), a Landsat product given whole (its folder, .tar or MTL file) or an HLS
    granule's, a Sentinel Hub export's or a drone flight's reflectance maps' folder as its band
    files stacked (`landsat_stack`, `hls_stack`, `browser_stack`, `maps_stack`). Close it with
    `close_dataset`."""
    name = _whole_product(str(path)) or str(path)
    gdal_name = GDAL_DATASET_NAME.match(name) is not None and not Path(name).exists()
    if not gdal_name:
        if not Path(name).exists():
            raise InputError(f"Input raster {name} does not exist; check the path.")
        if Path(name).is_dir():
            raise InputError(f"Input {name} is a folder; give a raster file such as scene.tif.")
    tries = [name]
    if gdal_name and _COLLAPSED_ARCHIVE.search(name):
        tries.append(_COLLAPSED_ARCHIVE.sub(r"\1//", name))
    first = "unknown format"
    for candidate in tries:
        # A Sentinel-2 layer is read with the product's other bands (`sentinel2_layers`).
        layers = with_product_bands(candidate) if gdal_name else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)  # measured in pixels
                opened = one_data_type(rasterio.open(str(layers or candidate)))
                return _with_bands(warped_as_drawn(opened), name)
        except RasterioIOError as exc:
            first = str(exc).splitlines()[0] if str(exc) else first
    if gdal_name:
        raise InputError(
            f"GDAL cannot open {name} ({first}); check the dataset name (a subdataset as "
            "gdalinfo lists it, or a /vsizip/ path to a file inside an archive)."
        )
    inside = _rasters_in_archive(name)
    if inside:
        shown = ", ".join(f"/vsizip/{Path(name).absolute()}/{m}" for m in inside[:2])
        raise InputError(
            f"{Path(name).name} is a zip archive; give the raster inside it as GDAL names it "
            f"({shown}{', ...' if len(inside) > 2 else ''}), or unzip it."
        )
    raise InputError(
        f"Cannot read {name} as a raster ({first}); give a GeoTIFF or another GDAL raster."
    )


#: What a raster inside an archive is called (a zip of a scene's files, as portals deliver).
RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".img", ".vrt", ".nc", ".hdf", ".h5", ".dat")


def _rasters_in_archive(name: str) -> list[str]:
    """The members of the zip archive `name` that are rasters by their suffix; none where
    `name` is no zip archive."""
    return [m for m in zip_members(name) if PurePosixPath(m).suffix.lower() in RASTER_SUFFIXES]


def _with_bands(dataset: rasterio.DatasetReader, name: str) -> rasterio.DatasetReader:
    """`dataset`, refused where it has no band of its own: a container of subdatasets (NetCDF,
    HDF, a product's metadata file) is read through one of them."""
    if dataset.count:
        return dataset
    subdatasets = dataset.subdatasets
    close_dataset(dataset)
    shown = Path(name).name or name
    if not subdatasets:
        raise InputError(f"{shown} has no raster bands; give a raster with image bands.")
    raise InputError(
        f"{shown} holds {len(subdatasets)} subdatasets and no band of its own; give one as the "
        f"input (gdalinfo lists them, e.g. '{subdatasets[0]}'), or stack the bands you need "
        "into one raster (gdalbuildvrt -separate stack.vrt SUBDATASET ...)."
    )
