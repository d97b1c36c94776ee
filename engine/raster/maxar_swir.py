"""WorldView-3's SWIR product read with the multispectral product of the same collect.

Maxar delivers WorldView-3's eight SWIR bands (1195-2365 nm, 7.5 m) as a product of their own,
``14OCT06175135-A2AS-055516443020_01_P001.TIF`` in the order's ``..._P001_SWR`` folder, beside the
multispectral product (``...-M2AS-...``, ``..._P001_MUL``) of the same collect, whose IMDs give
one catalogue id to both but for the SWIR instrument's letter (``10400100025BF500`` and
``104A0100025BF500``). Given the multispectral product, the SWIR product beside it (in its folder,
or in a ``*SWR*`` folder beside that folder: `candidate_files`) is found by that id
(`same_collect`; `maxar_products.find_product` reads each candidate), and two of its bands take the
SWIR roles: SWIR-2 (1550-1590 nm) as swir1, within Landsat OLI's and Sentinel-2's SWIR1 bands,
and SWIR-6 (2185-2225 nm) as swir2, within their SWIR2 bands. Both are resampled bilinearly
onto the multispectral grid in a VRT (`stacked_vrt`), which the run opens in place of the
multispectral file: MNDWI, NDBI and BSI then exist where NDWI alone took shadows and dark
asphalt for water, and the land could not be split into built-up and bare soil.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import rasterio
from rasterio.errors import RasterioIOError

from .data_types import GDAL_TYPE_NAMES
from .temporary_files import file_stamp, written_once

#: The SWIR product's band ids, in file order.
SWIR_BANDS = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8")
#: The SWIR bands read, and the role each takes (the others are not read).
SWIR_ROLES = {"S2": "swir1", "S6": "swir2"}
#: A SWIR product's file: Maxar's name with product letter A (``-A2AS-``), a raster or a .TIL.
SWIR_FILE = re.compile(
    r"\d{2}[A-Z]{3}\d{8}-A[1-3][A-Z]{2}(?:_R\d+C\d+)?-\d{12}_\d{2}_P\d{3}\.(TIF|TIFF|NTF|TIL)$",
    re.IGNORECASE,
)
#: Where the SWIR product of an order lies beside its multispectral product's folder.
SWIR_FOLDER = "*SWR*"
#: Where the VRTs are written (`temporary_files`).
VRT_FOLDER = "spex-maxar-swir"


def same_collect(vnir_catalog_id: str, swir_catalog_id: str) -> bool:
    """Whether two WorldView-3 catalogue ids are one collect's: equal but for the fourth
    character, the instrument (``0`` VNIR, ``A`` SWIR)."""
    a, b = vnir_catalog_id.upper(), swir_catalog_id.upper()
    return len(a) == len(b) >= 8 and a[4:] == b[4:] and a[:3] == b[:3] and b[3] == "A"


def candidate_files(path: Path) -> list[Path]:
    """The files named as SWIR products beside the multispectral product at `path`: in its
    folder and in the ``*SWR*`` folders beside that folder; a ``.TIL`` (a tiled product
    whole) before the rasters."""
    found: list[Path] = []
    folders = [path.parent, *sorted(p for p in path.parent.parent.glob(SWIR_FOLDER) if p.is_dir())]
    for folder in dict.fromkeys(folders):
        try:
            names = sorted(f for f in folder.iterdir() if SWIR_FILE.search(f.name))
        except OSError:
            continue
        found += sorted(names, key=lambda f: f.suffix.upper() != ".TIL")
    return found


def _grid(path: Path) -> tuple | None:
    """(crs, transform, width, height) of the raster at `path`, None if unreadable."""
    try:
        with rasterio.open(path) as dataset:
            return dataset.crs, dataset.transform, dataset.width, dataset.height
    except (RasterioIOError, OSError):
        return None


def _bounds(grid: tuple) -> tuple[float, float, float, float]:
    _, t, width, height = grid
    xs, ys = (t.c, t.c + width * t.a), (t.f, t.f + height * t.e)
    return min(xs), min(ys), max(xs), max(ys)


#: The share of the multispectral product's extent its SWIR product must cover to be read with
#: it: the stack has data only where both do (the real Longmont chip's: 99.3 %, its edges).
MIN_COVERAGE = 0.98


def coverage(vnir: Path, swir: Path) -> float:
    """The share of the multispectral raster's extent that the SWIR raster's covers, where
    both are north-up grids of one CRS (the SWIR raster can be resampled onto the other); 0
    otherwise."""
    a, b = _grid(vnir), _grid(swir)
    if a is None or b is None or a[0] is None or a[0] != b[0]:
        return 0.0
    if a[1].b or a[1].d or b[1].b or b[1].d:
        return 0.0  # a rotated grid: no plain resampling onto the other
    ax0, ay0, ax1, ay1 = _bounds(a)
    bx0, by0, bx1, by1 = _bounds(b)
    width, height = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / ((ax1 - ax0) * (ay1 - ay0))


def stacked_vrt(vnir: Path, swir: Path, swir_bands: Sequence[int]) -> Path:
    """A VRT on the multispectral grid of `vnir`: its bands, then the 1-based `swir_bands` of
    `swir` resampled bilinearly onto it. 0, Maxar's fill, is every band's nodata: a pixel
    outside either product's footprint has no data."""
    key = "\n".join(f"{p.absolute()}:{file_stamp(p)}" for p in (vnir, swir)) + repr(swir_bands)

    def write(partial: Path) -> None:
        partial.write_text(_vrt_text(vnir.absolute(), swir.absolute(), swir_bands))

    return written_once(VRT_FOLDER, key, "vnir_swir.vrt", write)


def _vrt_text(vnir: Path, swir: Path, swir_bands: Sequence[int]) -> str:
    """The VRT's XML (`stacked_vrt`): the SWIR raster placed on the multispectral grid by its
    own transform, in fractional pixels of that grid."""
    with rasterio.open(vnir) as v, rasterio.open(swir) as s:
        grid, count, crs = v.transform, v.count, v.crs.to_wkt()
        width, height, dtype = v.width, v.height, v.dtypes[0]
        st, sw, sh = s.transform, s.width, s.height
    # The SWIR raster's place on the multispectral grid, in (fractional) pixels of that grid.
    x_off, y_off = (st.c - grid.c) / grid.a, (st.f - grid.f) / grid.e
    x_size, y_size = sw * st.a / grid.a, sh * st.e / grid.e
    gdal_type = GDAL_TYPE_NAMES[dtype]
    lines = [
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">',
        f"  <SRS>{escape(crs)}</SRS>",
        f"  <GeoTransform>{grid.c!r}, {grid.a!r}, {grid.b!r}, {grid.f!r}, {grid.d!r}, "
        f"{grid.e!r}</GeoTransform>",
    ]
    sources = [(vnir, b, None) for b in range(1, count + 1)]
    sources += [(swir, b, (x_off, y_off, x_size, y_size, sw, sh)) for b in swir_bands]
    for number, (file, band, placed) in enumerate(sources, start=1):
        lines += [
            f'  <VRTRasterBand dataType="{gdal_type}" band="{number}">',
            "    <NoDataValue>0</NoDataValue>",
            '    <ComplexSource resampling="bilinear">' if placed else "    <SimpleSource>",
            f'      <SourceFilename relativeToVRT="0">{escape(str(file))}</SourceFilename>',
            f"      <SourceBand>{band}</SourceBand>",
        ]
        if placed:
            x, y, w, h, src_w, src_h = placed
            lines += [
                f'      <SrcRect xOff="0" yOff="0" xSize="{src_w}" ySize="{src_h}" />',
                f'      <DstRect xOff="{x!r}" yOff="{y!r}" xSize="{w!r}" ySize="{h!r}" />',
                "      <NODATA>0</NODATA>",
                "    </ComplexSource>",
            ]
        else:
            lines += [
                f'      <SrcRect xOff="0" yOff="0" xSize="{width}" ySize="{height}" />',
                f'      <DstRect xOff="0" yOff="0" xSize="{width}" ySize="{height}" />',
                "    </SimpleSource>",
            ]
        lines.append("  </VRTRasterBand>")
    lines.append("</VRTDataset>")
    return "\n".join(lines) + "\n"
