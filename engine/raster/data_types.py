"""Bands of different data types read as one type.

A VRT can stack bands of different types: integer reflectance with a float band (an index, a
DEM) that an analyst added in QGIS's Build Virtual Raster. The engine reads the bands it uses
together, and rasterio reads bands of one type only ("more than one 'dtype' found", a
traceback). Such a raster is read through a VRT of the same bands as the one type that holds
every value of them all (numpy's ``result_type``: uint16 with float32 is float32), written by
GDAL in the temporary folder and named by the raster (as it is now) and the type. The bands keep the names
the engine reads them by (`band_names.completed_descriptions`: a VRT's band files' names).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from .band_names import completed_descriptions
from .temporary_files import file_stamp, written_once

#: GDAL's names of the types bands of different types are read as.
GDAL_TYPE_NAMES = {
    "uint8": "Byte", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
    "int32": "Int32", "float32": "Float32", "float64": "Float64",
}  # fmt: skip
#: Where the VRTs are written.
VRT_FOLDER = "spex-one-data-type"


def one_data_type(dataset: rasterio.DatasetReader) -> rasterio.DatasetReader:
    """`dataset` itself where its bands share one data type; else (closing it) its bands as the
    one type that holds them all. A mix no GDAL type holds (int8, int64) is left as it is."""
    if len(set(dataset.dtypes)) < 2:
        return dataset
    common = np.result_type(*dataset.dtypes).name
    if common not in GDAL_TYPE_NAMES:
        return dataset
    tags = [dataset.tags(i) for i in range(1, dataset.count + 1)]
    names = completed_descriptions(list(dataset.descriptions), tags, dataset.name)
    source = dataset.name
    dataset.close()
    key = f"{Path(source).absolute()}:{file_stamp(source)}:{common}"
    return rasterio.open(
        written_once(VRT_FOLDER, key, "bands.vrt", lambda p: _write_vrt(source, p, common, names))
    )


def _write_vrt(source: str, partial: Path, common: str, names: list[str | None]) -> None:
    """A VRT at `partial` of every band of `source` as `common`, each described by `names`."""
    from osgeo import gdal

    out_type = gdal.GetDataTypeByName(GDAL_TYPE_NAMES[common])
    vrt = gdal.Translate(str(partial), source, format="VRT", outputType=out_type)
    for i, name in enumerate(names, start=1):
        if name:
            vrt.GetRasterBand(i).SetDescription(name)
    vrt = None  # closing it writes it
