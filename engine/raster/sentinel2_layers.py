"""A Sentinel-2 product opened as QGIS opens it, read with every reflectance band it has.

QGIS opens a Sentinel-2 product (its .SAFE folder, its zip, its ``MTD_MSIL2A.xml``) through
GDAL's SENTINEL2 driver, one layer per resolution: ``SENTINEL2_L2A:<MTD>:10m:EPSG_32632`` holds
B2, B3, B4 and B8, the 20 m layer B5, B6, B7, B8A, B11 and B12, the 60 m layer B1 and B9 (and
B10 in Level-1C). Neither of the first two has what the spectral backend needs: the 10 m layer
has no SWIR band (no MNDWI, no snow index, built-up without SWIR), the 20 m layer no visible one.

The engine reads the layer the analyst picked, on its own grid, with the product's other
reflectance bands after its own: a VRT whose further bands are the other layers', each 20 m
pixel repeated over its 2 x 2 pixels of a 10 m grid (``nearest``), averaged where the grid is
coarser. Auxiliary layers (AOT, SCL, ...) are left out. The VRT (a few
kB that names the product's files) lies in the temporary folder, named by its contents.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from xml.sax.saxutils import escape

import rasterio
import rasterio.errors

from .band_names import is_auxiliary
from .temporary_files import written_once

#: A subdataset of one resolution of a georeferenced product: (driver, metadata file,
#: resolution, projection).
LAYER = re.compile(r"^(SENTINEL2_L1C|SENTINEL2_L2A):(.+):(10|20|60)m:(EPSG_\d+)$", re.IGNORECASE)
RESOLUTIONS = (10, 20, 60)
#: Where the VRTs are written.
VRT_FOLDER = "spex-sentinel2-layers"
#: A product given whole: its .SAFE folder, its zip as downloaded, its metadata file.
WHOLE_PRODUCT = re.compile(r"(\.SAFE|\.zip|MTD_MSIL(?:1C|2A)\.xml)$", re.IGNORECASE)


@dataclass(frozen=True)
class LayerBand:
    """One band of a driver's layer, as the VRT takes it."""

    layer: str  # the layer's GDAL name
    index: int  # 1-based, in the layer
    name: str  # BANDNAME (``B3``, ``B8A``)
    description: str
    tags: dict[str, str]
    dtype: str
    size: tuple[int, int]  # the layer's (width, height)
    file: str | None = None  # its own JPEG 2000 file, where ESA's name finds it
    resampling: str | None = None  # onto the VRT's grid, when that is another resolution


def finest_layer(name: str) -> str | None:
    """The finest layer (10 m) of the Sentinel-2 product `name` gives whole (its .SAFE folder,
    its zip as downloaded, its ``MTD_MSIL1C.xml`` or ``MTD_MSIL2A.xml``), as GDAL names it and
    QGIS lists it first; `with_product_bands` adds the product's other bands to it. None for
    anything else: GDAL opens such a product as a list of layers, with no band of its own."""
    name = name.rstrip("/")
    if not WHOLE_PRODUCT.search(name):
        return None
    if Path(name).is_dir():
        found = sorted(Path(name).glob("MTD_MSIL*.xml"))
        if not found:
            return None
        name = str(found[0])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)  # the list
            with rasterio.open(name) as top:
                layers = [m for s in top.subdatasets if (m := LAYER.match(s))]
    except rasterio.errors.RasterioIOError:
        return None  # the caller's own open says why
    finest = min(layers, key=lambda m: int(m.group(3)), default=None)
    return finest.group(0) if finest else None


def with_product_bands(name: str) -> Path | None:
    """A VRT of the Sentinel-2 layer `name` with the product's other reflectance bands, or None
    where `name` is no such layer or the product has no other band to add."""
    match = LAYER.match(name)
    if match is None:
        return None
    driver, metadata, resolution, projection = match.groups()
    layers = {r: f"{driver}:{metadata}:{r}m:{projection}" for r in RESOLUTIONS}
    try:
        own = rasterio.open(name)
    except rasterio.errors.RasterioIOError:
        return None  # the caller's own open says why
    with own:
        bands = _reflectance_bands(name, own, int(resolution))
        width, height = own.width, own.height
        crs, transform = own.crs.to_wkt(), own.transform
    present = {b.name for b in bands}
    for other in RESOLUTIONS:
        if other == int(resolution):
            continue
        try:
            dataset = rasterio.open(layers[other])
        except rasterio.errors.RasterioIOError:
            continue  # a product without that resolution
        with dataset:
            for band in _reflectance_bands(layers[other], dataset, other):
                if band.name not in present:
                    present.add(band.name)
                    bands.append(replace(
                        band,
                        resampling="nearest" if other > int(resolution) else "average",
                        description=f"{band.description} (from the {other} m layer)",
                    ))  # fmt: skip
    if not any(band.resampling for band in bands):
        return None
    return _written(_vrt_xml(width, height, crs, transform, bands))


def _reflectance_bands(
    layer: str, dataset: rasterio.DatasetReader, resolution: int
) -> list[LayerBand]:
    """The reflectance bands of a layer, each read from its own band file where ESA's name finds
    it: the VRT is then read alike by every GDAL version (which give a layer different auxiliary
    layers: AOT and WVP at 10 m since 3.x), and averages to a coarser grid are of the
    full-resolution values, not of JPEG 2000's wavelet levels, which GDAL reads for a coarser
    grid and which the driver's layer does not let go of."""
    files = list(dataset.files)
    out = []
    for i in range(1, dataset.count + 1):
        tags = dataset.tags(i)
        description = dataset.descriptions[i - 1] or ""
        if is_auxiliary(description):
            continue
        name = tags.get("BANDNAME", description)
        out.append(LayerBand(layer, i, name, description, tags, dataset.dtypes[i - 1],
                             (dataset.width, dataset.height), _band_file(files, name, resolution)))  # fmt: skip
    return out


def _band_file(files: list[str], band: str, resolution: int) -> str | None:
    """The JPEG 2000 file of `band` (``B3``, ``B8A``) at `resolution` among a layer's files, by
    ESA's names (``T32UPU_20230315T103629_B03_20m.jp2``; Level-1C ``..._B03.jp2``)."""
    code = re.sub(r"^B(\d)$", r"B0\1", band.upper())
    pattern = re.compile(rf"_{code}(_{resolution}m)?\.jp2$", re.IGNORECASE)
    found = [f for f in files if pattern.search(f)]
    return found[0] if len(found) == 1 else None


_GDAL_TYPES = {"uint8": "Byte", "uint16": "UInt16", "int16": "Int16", "float32": "Float32"}


def _vrt_xml(width: int, height: int, crs: str, transform, bands: list[LayerBand]) -> str:
    t = transform
    out = [
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">',
        f"  <SRS>{escape(crs)}</SRS>",
        f"  <GeoTransform>{t.c!r}, {t.a!r}, {t.b!r}, {t.f!r}, {t.d!r}, {t.e!r}</GeoTransform>",
    ]
    for k, band in enumerate(bands, start=1):
        w, h = band.size
        source = "ComplexSource" if band.resampling else "SimpleSource"
        attribute = f' resampling="{band.resampling}"' if band.resampling else ""
        items = "".join(
            f'<MDI key="{escape(key)}">{escape(value)}</MDI>' for key, value in band.tags.items()
        )
        out += [
            f'  <VRTRasterBand dataType="{_GDAL_TYPES.get(band.dtype, "Float32")}" band="{k}">',
            f"    <Description>{escape(band.description)}</Description>",
            f"    <Metadata>{items}</Metadata>",
            f"    <{source}{attribute}>",
            *_source_lines(band),
            f'      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>',
            f'      <DstRect xOff="0" yOff="0" xSize="{width}" ySize="{height}"/>',
            f"    </{source}>",
            "  </VRTRasterBand>",
        ]
    out.append("</VRTDataset>")
    return "\n".join(out) + "\n"


def _source_lines(band: LayerBand) -> list[str]:
    """Where a VRT band's values come from: its band file, read without its wavelet levels, or
    else the driver's layer."""
    if band.file:
        return [
            f'      <SourceFilename relativeToVRT="0">{escape(band.file)}</SourceFilename>',
            '      <OpenOptions><OOI key="OVERVIEW_LEVEL">NONE</OOI></OpenOptions>',
            "      <SourceBand>1</SourceBand>",
        ]
    return [
        f'      <SourceFilename relativeToVRT="0">{escape(band.layer)}</SourceFilename>',
        f"      <SourceBand>{band.index}</SourceBand>",
    ]


def _written(xml: str) -> Path:
    """`xml` in the temporary folder, named by its contents (the same layer gets the same file;
    it names the product's files, not their values)."""
    return written_once(VRT_FOLDER, xml, "layer.vrt", lambda p: p.write_text(xml, "utf-8"))
