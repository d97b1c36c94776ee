"""A Sentinel-2 product's cloud polygons (``MSK_CLOUDS_B00.gml``) as a quality band.

Products of processing baseline before 04.00 (January 2022), the archive an analyst still
holds, carry their Level-1C cloud mask as GML polygons, opaque cloud and cirrus, traced from
the 60 m mask, where later products carry ``MSK_CLASSI_B00.jp2``. Here the polygons are
burned onto the granule's 60 m grid (its B01 band's), each pixel by its centre, as
``MSK_CLASSI``'s bits (opaque 1, cirrus 2), written once per file in the temporary folder; the
quality band's readers (`quality_bands`) then read it as any other.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

import numpy as np
import rasterio

from ..errors import InputError
from .product_files import file_bytes, granule_file, granule_folder
from .temporary_files import file_stamp, written_once

#: Where the burned polygons are written.
POLYGON_FOLDER = "spex-cloud-polygons"
#: The GML's namespaces.
NAMESPACES = {"eop": "http://www.opengis.net/eop/2.0", "gml": "http://www.opengis.net/gml/3.2"}
#: The bit each kind of polygon sets (MSK_CLASSI's bands as bits: `quality_bands._read`).
MASK_BITS = {"OPAQUE": 1, "CIRRUS": 2}


def burned_cloud_polygons(gml: str) -> Path:
    """The GeoTIFF of the cloud polygons in `gml` (a path, or GDAL's ``/vsizip/`` name of one
    in the product's zip) on its granule's 60 m grid. Raises `InputError` for a file that is
    not the product's cloud mask or a granule without its B01 band."""
    stamp = file_stamp(gml)  # a GML in the product's zip: the zip's
    return written_once(
        POLYGON_FOLDER, f"{gml}:{stamp}", "clouds.tif", lambda partial: _burn(gml, partial)
    )


def _burn(gml: str, partial: Path) -> None:
    """Burn `gml`'s polygons onto its granule's B01 grid into `partial`."""
    from rasterio.features import rasterize

    with rasterio.open(_granule_b01(gml)) as grid:
        profile = {"driver": "GTiff", "count": 1, "dtype": "uint8", "crs": grid.crs,
                   "transform": grid.transform, "width": grid.width, "height": grid.height,
                   "compress": "deflate"}  # fmt: skip
    bits = np.zeros((profile["height"], profile["width"]), dtype=np.uint8)
    for kind, polygons in _polygons(gml).items():
        if polygons:
            burned = rasterize(polygons, bits.shape, transform=profile["transform"], dtype="uint8")
            bits |= burned * np.uint8(MASK_BITS[kind])
    with rasterio.open(partial, "w", **profile) as out:
        out.write(bits, 1)


def _granule_b01(gml: str) -> str:
    """The B01 band (60 m) of the granule whose ``QI_DATA`` holds `gml`."""
    found = granule_file(gml, ("_B01.JP2", "_B01_60M.JP2"))
    if found is None:
        raise InputError(
            f"{PurePosixPath(gml).name} has no B01 band beside it in "
            f"{PurePosixPath(granule_folder(gml)).name}/IMG_DATA to place its cloud polygons "
            "on; give the product as delivered."
        )
    return found


def _polygons(gml: str) -> dict[str, list[dict[str, object]]]:
    """The GeoJSON-like polygons of each kind (`MASK_BITS`) in `gml`."""
    try:
        return _parsed_polygons(ET.fromstring(file_bytes(gml)))
    except (ET.ParseError, ValueError) as error:  # no XML; a coordinate that is no number
        raise InputError(
            f"{PurePosixPath(gml).name} is not a readable cloud mask ({error}); give the "
            "product as delivered."
        ) from None


def _parsed_polygons(root: ET.Element) -> dict[str, list[dict[str, object]]]:
    """The polygons of each kind under the GML's root element."""
    found: dict[str, list[dict[str, object]]] = {kind: [] for kind in MASK_BITS}
    for feature in root.iterfind(".//eop:MaskFeature", NAMESPACES):
        kind = (feature.findtext("eop:maskType", "", NAMESPACES) or "").strip().upper()
        if kind not in found:
            continue
        for polygon in feature.iterfind(".//gml:Polygon", NAMESPACES):
            rings = [
                _ring(ring)
                for part in ("exterior", "interior")
                for ring in polygon.iterfind(f"gml:{part}/gml:LinearRing/gml:posList", NAMESPACES)
            ]
            if rings:
                found[kind].append({"type": "Polygon", "coordinates": rings})
    return found


def _ring(pos_list: ET.Element) -> list[tuple[float, float]]:
    """A posList's vertices as (x, y) (a third coordinate, where given, dropped)."""
    values = [float(v) for v in (pos_list.text or "").split()]
    step = int(pos_list.get("srsDimension", "2"))
    return [(values[i], values[i + 1]) for i in range(0, len(values) - step + 1, step)]
