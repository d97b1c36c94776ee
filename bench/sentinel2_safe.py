"""A Sentinel-2 Level-2A product folder (.SAFE) as ESA delivers it, made of a real scene's
reflectance: band files in JPEG 2000 per resolution, the product and tile metadata files GDAL's
SENTINEL2 driver reads (the elements it needs, written here), and the auxiliary layers (AOT,
WVP, SCL and the cloud and snow probabilities: synthetic noise in their ranges, since the
scenes have none). The tests write the sample scene so; the ``safe`` group of ``bench/quality``
writes the benchmark's Sentinel-2 scenes so and reads each as QGIS opens it, its 10 m layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.windows import Window

ORDER = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")
#: The bands of each resolution: Level-1C keeps each band at its own, in one folder; Level-2A has a
#: folder per resolution, with every coarser copy of the finer bands.
L1C_BANDS = {
    10: ("B02", "B03", "B04", "B08"),
    20: ("B05", "B06", "B07", "B8A", "B11", "B12"),
    60: ("B01", "B09", "B10"),
}
L2A_BANDS = {
    10: ("B02", "B03", "B04", "B08"),
    20: ("B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"),
    60: ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B09", "B11", "B12"),
}
TILE, SENSED = "T33UUU", "20170216T102101"
#: The sun's (zenith, azimuth) over the sample scene (52.49 N, 12.61 E, 2017-02-16 10:21 UTC;
#: NOAA's solar position equations), as its tile metadata would give it.
SAMPLE_SUN = (66.51, 163.27)


def product_name(baseline: str, level: str = "L2A") -> str:
    """The .SAFE folder's name for a processing baseline such as ``05.09``."""
    return f"S2A_MSI{level}_{SENSED}_N{baseline.replace('.', '')}_R065_{TILE}_20170216T120000.SAFE"


def scene_values(s2_scene: Path, window: Window) -> dict[str, np.ndarray]:
    """The sample scene's digital numbers (reflectance x 10000) per band code, in `window`."""
    with rasterio.open(s2_scene) as src:
        data = src.read(window=window).astype(np.float64)
    return dict(zip(ORDER, data, strict=True))


def write_scene_window(
    folder: Path,
    s2_scene: Path,
    window: Window,
    values: dict[str, np.ndarray] | None = None,
    level: str = "L2A",
    sun: tuple[float, float] | None = None,
) -> Path:
    """`write_safe` of `window` of the sample scene (default: its own values)."""
    values = values if values is not None else scene_values(s2_scene, window)
    with rasterio.open(s2_scene) as src:
        crs, transform = src.crs, src.window_transform(window)
    return write_safe(folder, values, crs, transform, level=level, sun=sun)


def write_safe(
    folder: Path, values: dict[str, np.ndarray], crs: CRS, transform: Affine,
    baseline: str = "05.09", level: str = "L2A", sun: tuple[float, float] | None = None,
) -> Path:  # fmt: skip
    """A Level-2A (or -1C) product in `folder` of reflectance x 10000 `values` (band code ->
    array on the 10 m grid at `transform`, its sides divisible by 6; bands not given are left
    out), with 1000 added from baseline 04.00, averaged to 20 and 60 m; returns its metadata
    file (``MTD_MSIL2A.xml``, ``MTD_MSIL1C.xml``). `sun`: the tile's mean sun (zenith,
    azimuth) in degrees, written in its MTD_TL.xml as ESA does (`SAMPLE_SUN` for the sample
    scene's date and place); None leaves the angles out."""
    added = 1000.0 if baseline >= "04.00" else 0.0
    height, width = next(iter(values.values())).shape
    safe = folder / product_name(baseline, level)
    granule = f"{level}_{TILE}_A008642_{SENSED}"
    images: list[str] = []
    rng = np.random.default_rng(0)

    def jp2(relative: str, array: np.ndarray, resolution: int, dtype: str = "uint16") -> None:
        path = safe / "GRANULE" / granule / f"{relative}.jp2"
        path.parent.mkdir(parents=True, exist_ok=True)
        profile = {
            "driver": "JP2OpenJPEG", "width": array.shape[1], "height": array.shape[0],
            "count": 1, "dtype": dtype, "crs": crs, "QUALITY": 100, "REVERSIBLE": "YES",
            "transform": Affine(resolution, 0, transform.c, 0, -resolution, transform.f),
        }  # fmt: skip
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(array.astype(dtype), 1)
        if relative.startswith("IMG_DATA"):
            images.append(f"GRANULE/{granule}/{relative}")

    for resolution, codes in (L2A_BANDS if level == "L2A" else L1C_BANDS).items():
        f = resolution // 10
        h, w = height // f, width // f
        for code in (c for c in codes if c in values):
            dn = values[code].reshape(h, f, w, f).mean(axis=(1, 3))
            stored = np.clip(np.round(dn + added), 1, 65535)
            name = f"R{resolution}m/{TILE}_{SENSED}_{code}_{resolution}m"
            jp2(f"IMG_DATA/{name if level == 'L2A' else f'{TILE}_{SENSED}_{code}'}", stored,
                resolution)  # fmt: skip
        if level != "L2A":
            continue  # Level-1C has no auxiliary layers
        jp2(f"IMG_DATA/R{resolution}m/{TILE}_{SENSED}_AOT_{resolution}m",
            rng.integers(80, 200, (h, w)), resolution)  # fmt: skip
        jp2(f"IMG_DATA/R{resolution}m/{TILE}_{SENSED}_WVP_{resolution}m",
            rng.integers(900, 1600, (h, w)), resolution)  # fmt: skip
        if resolution > 10:
            jp2(f"IMG_DATA/R{resolution}m/{TILE}_{SENSED}_SCL_{resolution}m",
                rng.integers(4, 7, (h, w)), resolution, "uint8")  # fmt: skip
            for mask in ("CLDPRB", "SNWPRB"):
                jp2(f"QI_DATA/MSK_{mask}_{resolution}m", rng.integers(0, 20, (h, w)), resolution,
                    "uint8")  # fmt: skip
    _write_metadata(safe, granule, images, baseline, crs.to_epsg(), transform, (height, width), sun)
    return safe / f"MTD_MSI{level}.xml"


def _write_metadata(safe, granule, images, baseline, epsg, transform, shape, sun=None) -> None:
    level = "L2A" if "_MSIL2A_" in safe.name else "L1C"
    l2a = level == "L2A"
    offsets, tag = "", "BOA_ADD_OFFSET" if l2a else "RADIO_ADD_OFFSET"
    if baseline >= "04.00":
        offsets = "".join(f'<{tag} band_id="{i}">-1000</{tag}>' for i in range(13))
        offsets = (
            f"<BOA_ADD_OFFSET_VALUES_LIST>{offsets}</BOA_ADD_OFFSET_VALUES_LIST>"
            if l2a
            else f"<Radiometric_Offset_List>{offsets}</Radiometric_Offset_List>"
        )
    quantification = (
        '<QUANTIFICATION_VALUES_LIST><BOA_QUANTIFICATION_VALUE unit="none">10000'
        "</BOA_QUANTIFICATION_VALUE></QUANTIFICATION_VALUES_LIST>"
        if l2a
        else '<QUANTIFICATION_VALUE unit="none">10000</QUANTIFICATION_VALUE>'
    )
    files = "".join(f"<IMAGE_FILE>{image}</IMAGE_FILE>" for image in images)
    (safe / f"MTD_MSI{level}.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<n1:Level-{level[1:]}_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/'
        f'User_Product_Level-{level[1:]}.xsd"><n1:General_Info><Product_Info>'
        f"<PRODUCT_START_TIME>2017-02-16T10:21:01.026Z</PRODUCT_START_TIME>"
        f"<PRODUCT_URI>{safe.name}</PRODUCT_URI>"
        f"<PROCESSING_LEVEL>Level-{level[1:]}</PROCESSING_LEVEL>"
        f"<PRODUCT_TYPE>S2MSI{level[1:]}</PRODUCT_TYPE>"
        f"<PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE>"
        '<Query_Options completeSingleTile="true"><PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT>'
        "</Query_Options><Product_Organisation><Granule_List>"
        f'<Granule granuleIdentifier="S2A_OPER_MSI_{level}_TL_{TILE}" imageFormat="JPEG2000">'
        f"{files}</Granule></Granule_List></Product_Organisation></Product_Info>"
        "<Product_Image_Characteristics><Special_Values><SPECIAL_VALUE_TEXT>NODATA"
        "</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX></Special_Values>"
        f"{quantification}{offsets}</Product_Image_Characteristics></n1:General_Info>"
        f"</n1:Level-{level[1:]}_User_Product>\n",
        encoding="utf-8",
    )
    geocoding = "".join(
        f'<Size resolution="{r}"><NROWS>{shape[0] * 10 // r}</NROWS>'
        f"<NCOLS>{shape[1] * 10 // r}</NCOLS></Size>"
        for r in (10, 20, 60)
    ) + "".join(
        f'<Geoposition resolution="{r}"><ULX>{transform.c:.0f}</ULX><ULY>{transform.f:.0f}</ULY>'
        f"<XDIM>{r}</XDIM><YDIM>-{r}</YDIM></Geoposition>"
        for r in (10, 20, 60)
    )
    angles = (
        ""
        if sun is None
        else (
            f'<Tile_Angles><Mean_Sun_Angle><ZENITH_ANGLE unit="deg">{sun[0]}</ZENITH_ANGLE>'
            f'<AZIMUTH_ANGLE unit="deg">{sun[1]}</AZIMUTH_ANGLE></Mean_Sun_Angle></Tile_Angles>'
        )
    )
    (safe / "GRANULE" / granule / "MTD_TL.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<n1:Level-{level[1:]}_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/'
        f'S2_PDI_Level-{level[1:]}_Tile_Metadata.xsd"><n1:General_Info><SENSING_TIME>'
        "2017-02-16T10:21:01.026Z</SENSING_TIME></n1:General_Info><n1:Geometric_Info>"
        f"<Tile_Geocoding><HORIZONTAL_CS_CODE>EPSG:{epsg}</HORIZONTAL_CS_CODE>{geocoding}"
        f"</Tile_Geocoding>{angles}</n1:Geometric_Info></n1:Level-{level[1:]}_Tile_ID>\n",
        encoding="utf-8",
    )


def layer(mtd: Path, resolution: int, epsg: int = 32633) -> str:
    """The GDAL subdataset (QGIS layer source) of one resolution of the product."""
    level = "L1C" if mtd.name == "MTD_MSIL1C.xml" else "L2A"
    return f"SENTINEL2_{level}:{mtd}:{resolution}m:EPSG_{epsg}"


#: Band code of each role a benchmark scene may hold.
CODES = {
    "coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05",
    "rededge2": "B06", "rededge3": "B07", "nir": "B08", "nir08": "B8A", "watervapour": "B09",
    "swir1": "B11", "swir2": "B12",
}  # fmt: skip


def safe_scenes(scenes: list, folder: Path) -> list:
    """The georeferenced Sentinel-2 reflectance `scenes` as Level-2A products of baseline 05.09
    (written once under `folder`, the scene's grid standing for the 10 m grid, cut to a multiple
    of 6 pixels), each read as QGIS opens the product: its 10 m layer, nothing else given."""
    from .scenes import Scene, _s2_reflectance_scenes

    out = []
    for scene, src, _, labels in _s2_reflectance_scenes(scenes, "safe"):
        crs = src.dataset.crs
        height, width = src.height // 6 * 6, src.width // 6 * 6
        if crs is None or crs.to_epsg() is None or not height:
            continue  # a product's tile geocoding needs an EPSG code
        here = folder / scene.name
        mtd = here / product_name("05.09") / "MTD_MSIL2A.xml"
        cut = here / "labels.tif"
        if not mtd.exists() or not cut.exists():
            window = Window(0, 0, width, height)
            bands = src.read(window)
            values = {
                CODES[role]: np.nan_to_num(v.astype(np.float64) * 1e4, nan=-1000.0)
                for role, v in bands.items()
                if role in CODES
            }  # nodata: 0 once stored, as in ESA's products
            write_safe(here, values, crs, src.dataset.transform)
            _cut_labels(labels, cut, window)
        image = Path(layer(mtd, 10, crs.to_epsg()))
        out.append(Scene(f"{scene.name}_safe", "safe", ((image, cut),),
                         simulated="an L2A product (.SAFE), its 10 m layer", note=scene.note))  # fmt: skip
    return out


def _cut_labels(labels: Path, path: Path, window: Window) -> None:
    with rasterio.open(labels) as src:
        data = src.read(1, window=window)
        profile = src.profile | {"width": window.width, "height": window.height}
        profile["transform"] = src.window_transform(window)
    partial = path.with_suffix(".partial.tif")
    with rasterio.open(partial, "w", **profile) as dst:
        dst.write(data, 1)
    partial.replace(path)
