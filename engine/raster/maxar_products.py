"""Maxar (DigitalGlobe) products as delivered: WorldView-2/3, GeoEye-1, QuickBird and IKONOS
imagery, a GeoTIFF or NITF (or the ``.TIL`` that lists its tiles) with the product's ``.IMD``
file beside it (``14JUN20181517-M2AS-053792616010_01_P001.TIF`` and ``...P001.IMD``).

The bands carry no descriptions: without the IMD an 8-band WorldView raster needs ``--bands``,
and its values, radiometrically corrected digital numbers, are not reflectance. GDAL's
DigitalGlobe reader puts the IMD into the raster's ``IMD`` metadata domain, and this module
reads it from there (from the file, `parsed_imd`, for a NITF: GDAL 3.6's NITF driver does not
attach it): the satellite (``IMAGE_1.satId``), the bands (``BAND_C`` .. ``BAND_N2``, in
the order of their wavelengths: `imd_bands`) with each one's ``absCalFactor`` and
``effectiveBandwidth``, the sun's mean
elevation, and the acquisition time (GDAL's ``IMAGERY`` domain). Each band is then
top-of-atmosphere reflectance (Maxar's "Absolute radiometric calibration" note):

    L   = DN x absCalFactor / effectiveBandwidth        (W m-2 sr-1 um-1)
    rho = pi d^2 L / (ESUN x sin(sun elevation))

with ESUN the band-averaged solar irradiance of Thuillier (2003) that Maxar publishes per
satellite and band (fleet calibration release 2016v0, 2017) and d the Earth-Sun distance on the
acquisition day. The per-band gain and offset adjustments Maxar publishes with each calibration
release (a few per cent, up to 15 % on coastal) are not applied: they change from release to
release, and the explanation says so. A product whose radiometry was altered for display
(``radiometricEnhancement`` not "Off": dynamic range adjustment) or pan-sharpened holds no
radiance; its values stay uncalibrated digital numbers, and the note says why.

WorldView-3's SWIR product of the same collect, where it lies beside the multispectral one, is
read with it (`maxar_swir`): its product is `MaxarProduct.swir`, and the raster opened is the
multispectral bands with two SWIR bands on their grid (`with_swir`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import rasterio
from rasterio.errors import RasterioIOError

from .maxar_swir import (
    MIN_COVERAGE,
    SWIR_BANDS,
    SWIR_ROLES,
    candidate_files,
    coverage,
    same_collect,
    stacked_vrt,
)
from .reflectance import ProductReading, Scaling, earth_sun_distance_on, plausible_reflectance
from .temporary_files import file_stamp

#: What each IMD band group holds, as a role (the SWIR bands of WorldView-3 take none: a
#: SWIR product alone has no visible band, and its eight bands fit two roles).
ROLE_OF_BAND = {
    "C": "coastal", "B": "blue", "G": "green", "Y": "yellow", "R": "red",
    "RE": "rededge1", "N": "nir", "N2": "nir08", "P": "pan",
}  # fmt: skip
#: Band-averaged solar irradiance (W m-2 um-1, Thuillier 2003) per satellite and IMD band, as
#: Maxar's fleet calibration note (release 2016v0) gives it.
ESUN = {
    "WV03": {"P": 1574.41, "C": 1757.89, "B": 2004.61, "G": 1830.18, "Y": 1712.07,
             "R": 1535.33, "RE": 1348.08, "N": 1055.94, "N2": 858.77, "S1": 479.019,
             "S2": 263.797, "S3": 225.283, "S4": 197.552, "S5": 90.4178, "S6": 85.0642,
             "S7": 76.9507, "S8": 68.0988},
    "WV02": {"P": 1571.36, "C": 1773.81, "B": 2007.27, "G": 1829.62, "Y": 1701.85,
             "R": 1538.85, "RE": 1346.09, "N": 1053.21, "N2": 856.599},
    "GE01": {"P": 1610.73, "B": 1993.18, "G": 1828.83, "R": 1491.49, "N": 1022.58},
    "QB02": {"P": 1370.92, "B": 1949.59, "G": 1823.64, "R": 1553.78, "N": 1102.85},
    "IK01": {"P": 1353.25, "B": 1921.26, "G": 1803.28, "R": 1517.76, "N": 1145.8},
}  # fmt: skip
SATELLITES = {
    "WV01": "WorldView-1", "WV02": "WorldView-2", "WV03": "WorldView-3", "WV04": "WorldView-4",
    "GE01": "GeoEye-1", "QB02": "QuickBird", "IK01": "IKONOS",
}  # fmt: skip
#: The sensor preset of each band set an IMD lists (its roles are `ROLE_OF_BAND`'s).
EIGHT_BANDS = ("C", "B", "G", "Y", "R", "RE", "N", "N2")
FOUR_BANDS = ("B", "G", "R", "N")
_BAND_KEY = re.compile(r"BAND_([A-Z0-9]+)\.absCalFactor")
#: The tile part of a tile's name in a large order (``_R1C1`` before the order number).
_TILE = re.compile(r"_R\d+C\d+(?=-)", re.IGNORECASE)
#: Maxar's file names: acquisition time, product (M multispectral, P pan, S pan-sharpened,
#: A SWIR; level 1B, 2A, 3...), tile, order and part (``14JUN20181517-M2AS-053792616010_01_P001``).
MAXAR_NAME = re.compile(
    r"(?<![A-Z0-9])\d{2}[A-Z]{3}\d{8}-[MPSA][1-3][A-Z]{2}(?:_R\d+C\d+)?-\d{12}_\d{2}_P\d{3}"
)


@dataclass(frozen=True)
class MaxarBand:
    """One band group of the IMD: its id (``C``, ``B``, ... ``N2``) and radiometric factors."""

    band: str
    abs_cal_factor: float
    effective_bandwidth: float


@dataclass(frozen=True)
class MaxarProduct:
    """A Maxar product whose IMD GDAL read: satellite, bands in file order, and what the
    calibration needs. ``altered`` names what made its values other than radiance ("" if
    nothing did)."""

    identifier: str
    imd: str
    satellite: str
    descriptor: str
    bands: tuple[MaxarBand, ...]
    sun_elevation: float | None
    acquired: date | None
    altered: str = ""
    #: The collect's catalogue id (``IMAGE_1.CatId``; "" where the IMD gives none).
    catalog_id: str = ""
    #: WorldView-3's SWIR product of the same collect, read with this one, and its file.
    swir: MaxarProduct | None = None
    swir_file: str = ""
    #: Why the collect's SWIR product beside it is not read ("" where there is none, or it is).
    swir_left_out: str = ""

    @property
    def band_ids(self) -> tuple[str, ...]:
        """The IMD's band ids in file order."""
        return tuple(b.band for b in self.bands)

    @property
    def title(self) -> str:
        """``WorldView-2 Standard2A, 8 bands``."""
        count = len(self.bands)
        title = f"{self.satellite_name} {self.descriptor}, {count} band{'s' * (count != 1)}"
        return title + (
            " with its SWIR product's bands " + ", ".join(SWIR_ROLES) if self.swir else ""
        )

    @property
    def label(self) -> str:
        """What an analyst reads: ``WorldView-2 Standard2A, 8 bands (IMD)``."""
        return f"{self.title} ({self.imd})"

    @property
    def satellite_name(self) -> str:
        """``WorldView-2`` for ``WV02``; the IMD's id where it is another."""
        return SATELLITES.get(self.satellite, self.satellite or "Maxar")

    @property
    def preset(self) -> str | None:
        """The sensor preset of its bands: WorldView-2/3's eight, the four of the others (and
        of WorldView-2/3's MS1 bundle); None for any other set (a pan or SWIR product)."""
        if self.band_ids == EIGHT_BANDS and self.swir is not None:
            return "worldview3_vnir_swir"
        if self.band_ids == EIGHT_BANDS:
            return "worldview3_8band" if self.satellite == "WV03" else "worldview2_8band"
        return "maxar_4band" if self.band_ids == FOUR_BANDS else None

    @property
    def presets(self) -> tuple[str, ...]:
        """The presets its rasters are read with: with a SWIR product, the stack's and the
        multispectral file's own (a layer of the file alone: the dock's band table)."""
        if self.swir is None:
            return (self.preset,) if self.preset else ()
        return (self.preset, "worldview3_8band")


def find_product(path: str | Path, descriptions: Sequence[str | None] = ()) -> MaxarProduct | None:
    """The Maxar product at `path`: a raster whose ``.IMD`` (or ``.XML``) lies beside it
    under the same name and that GDAL reads into its ``IMD`` metadata domain with one band
    group per raster band; None otherwise."""
    p = Path(path)
    product = _own_product(p) if p.is_file() else None
    if product is None or product.preset != "worldview3_8band" or product.altered:
        return product
    left_out = ""  # why the first SWIR product of the collect found is not read
    for file in candidate_files(p):
        swir = _own_product(file)
        if swir is None or swir.band_ids != SWIR_BANDS:
            continue
        if not same_collect(product.catalog_id, swir.catalog_id):
            continue
        why = _not_calibrated(swir, ESUN.get(swir.satellite, {}))
        if not why and (covered := coverage(p, file)) < MIN_COVERAGE:
            why = f"it covers {covered:.0%} of this product's extent, and the stack has data only there"
        if not why:
            return replace(product, swir=swir, swir_file=str(file.absolute()))
        left_out = left_out or f"the collect's SWIR product {file.name}, since {why}"
    return replace(product, swir_left_out=left_out)


def with_swir(path: str | Path) -> str | None:
    """The raster to open for the Maxar product at `path`: a VRT of its bands and its SWIR
    product's (`maxar_swir.stacked_vrt`) where WorldView-3's SWIR product of the same collect
    lies beside it; None otherwise (the file itself is opened)."""
    p = Path(path)
    if p.suffix.upper() == ".VRT" or not p.is_file():
        return None
    product = find_product(p)
    if product is None or product.swir is None:
        return None
    read = [SWIR_BANDS.index(band) + 1 for band in SWIR_ROLES]
    return str(stacked_vrt(p, Path(product.swir_file), read))


def _own_product(path: Path) -> MaxarProduct | None:
    """The Maxar product at `path` by its own IMD alone: no SWIR product looked for (the
    SWIR product itself, or the multispectral one before `find_product` looks)."""
    imd = _imd_beside(path)
    return None if imd is None else _read_product(str(path.absolute()), imd.name, file_stamp(path))


def _imd_beside(path: Path) -> Path | None:
    """The file named as `path` with the suffix ``.IMD`` or ``.XML`` (upper or lower case)
    beside it, where GDAL's DigitalGlobe reader looks for the IMD; for one tile of a large
    order (``...-M2AS_R1C1-...P001.TIF``), the order's ``...-M2AS-...P001.IMD``, which holds
    every tile's factors; None if there is none."""
    for suffix in (".IMD", ".imd", ".XML", ".xml"):
        if (found := path.with_suffix(suffix)).is_file():
            return found
    order = _TILE.sub("", path.stem)
    if order != path.stem:
        for suffix in (".IMD", ".imd"):
            if (found := path.with_name(order + suffix)).is_file():
                return found
    return None


@lru_cache(maxsize=16)
def _read_product(path: str, imd_name: str, _stamp: str) -> MaxarProduct | None:
    """The product GDAL finds in the raster at the absolute `path` (its IMD `imd_name`) as
    `_stamp` finds it."""
    try:
        with rasterio.open(path) as dataset:
            imd, imagery, count = dataset.tags(ns="IMD"), dataset.tags(ns="IMAGERY"), dataset.count
    except (RasterioIOError, OSError):
        return None
    beside = Path(path).with_name(imd_name)
    if not imd and beside.suffix.upper() == ".IMD":
        imd = parsed_imd(beside)  # GDAL's NITF driver (3.6) does not attach it
    bands = imd_bands(imd)
    if not bands or len(bands) != count:
        return None
    satellite = _unquoted(imd.get("IMAGE_1.satId", imagery.get("SATELLITEID", "")))
    enhanced = _unquoted(imd.get("radiometricEnhancement", "Off"))
    sharpened = _unquoted(imd.get("panSharpenAlgorithm", "None"))
    altered = (
        f"its radiometry was enhanced for display (radiometricEnhancement {enhanced})"
        if enhanced.upper() != "OFF"
        else f"it is pan-sharpened ({sharpened})"
        if sharpened.upper() != "NONE"
        else ""
    )
    return MaxarProduct(
        identifier=Path(path).stem,
        imd=imd_name,
        satellite=satellite,
        descriptor=_unquoted(imd.get("imageDescriptor", imd.get("productLevel", "product"))),
        bands=bands,
        sun_elevation=_number(imd.get("IMAGE_1.meanSunEl")),
        acquired=_acquired(imagery, imd),
        altered=altered,
        catalog_id=_unquoted(imd.get("IMAGE_1.CatId", "")),
    )


#: The largest IMD file read (a real one is a few kB).
IMD_MAX_BYTES = 1 << 20


def parsed_imd(path: Path) -> dict[str, str]:
    """The ``key = value;`` items of an IMD file, those inside a group as ``GROUP.key``, as
    GDAL's DigitalGlobe reader gives them (values as written, quotes kept; multi-line lists
    left out). Read as text, nothing evaluated; {} for a file that cannot be read."""
    try:
        if path.stat().st_size > IMD_MAX_BYTES:
            return {}
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError:
        return {}
    items: dict[str, str] = {}
    groups: list[str] = []
    in_list = False
    for line in lines:
        text = line.strip()
        if in_list:
            in_list = not text.endswith(";")
            continue
        key, sep, value = text.partition("=")
        key, value = key.strip(), value.strip().rstrip(";").strip()
        if not sep or not key:
            continue
        if key == "BEGIN_GROUP":
            groups.append(value)
        elif key == "END_GROUP":
            groups = groups[:-1]
        elif value.startswith("(") and not text.endswith(";"):
            in_list = True
        else:
            items[".".join([*groups, key])] = value
    return items


#: Maxar's band ids in the order of their wavelengths, which is the order of a product's bands.
WAVELENGTH_ORDER = ("P", "C", "B", "G", "Y", "R", "RE", "N", "N2", *SWIR_BANDS)


def imd_bands(imd: Mapping[str, str]) -> tuple[MaxarBand, ...]:
    """The band groups of `imd` in the product's band order, each with finite, positive
    factors; none if one lacks them. A product's bands lie in the order of their wavelengths,
    as its IMD lists them; GDAL 3.6 (QGIS 3.22's) gives the IMD domain's keys sorted by name
    (``BAND_B`` before ``BAND_C``), so the order is taken from the ids, not from the keys.
    Ids that are not Maxar's keep their own order, after those that are."""
    bands = []
    for key in imd:
        if m := _BAND_KEY.fullmatch(key):
            band = m.group(1)
            cal = _number(imd[key])
            width = _number(imd.get(f"BAND_{band}.effectiveBandwidth"))
            if cal is None or width is None or cal <= 0 or width <= 0:
                return ()
            bands.append(MaxarBand(band, cal, width))
    known = len(WAVELENGTH_ORDER)
    return tuple(
        sorted(
            bands,
            key=lambda b: WAVELENGTH_ORDER.index(b.band) if b.band in WAVELENGTH_ORDER else known,
        )
    )


def _unquoted(text: str) -> str:
    return text.strip().strip('"')


def _number(text: str | None) -> float | None:
    try:
        value = float(_unquoted(text)) if text is not None else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _acquired(imagery: Mapping[str, str], imd: Mapping[str, str]) -> date | None:
    """The acquisition day: GDAL's ``ACQUISITIONDATETIME``, else the IMD's first line time."""
    for text in (imagery.get("ACQUISITIONDATETIME"), imd.get("IMAGE_1.firstLineTime")):
        if text:
            try:
                return datetime.fromisoformat(_unquoted(text)[:19].replace("T", " ")).date()
            except ValueError:
                continue
    return None


def _not_calibrated(product: MaxarProduct, esun: Mapping[str, float]) -> str:
    """Why the product's values cannot be made reflectance ("" where they can)."""
    if product.altered:
        return product.altered
    if not esun:
        return f"no solar irradiance is known here for satellite {product.satellite!r}"
    if product.sun_elevation is None:
        return "its IMD gives no sun elevation (meanSunEl)"
    if product.acquired is None:
        return "its IMD gives no acquisition time"
    if not 0.0 < product.sun_elevation <= 90.0:
        return f"its sun elevation {product.sun_elevation:g} deg is not above the horizon"
    return ""


def _reflectance_factors(product: MaxarProduct, role_of: Mapping[str, str]) -> dict[str, float]:
    """Reflectance per digital number of each band of `product` that `role_of` gives a role,
    by that role: pi d^2 absCalFactor / effectiveBandwidth / (ESUN sin(sun elevation)), with
    the product's own sun and day (`_not_calibrated` of it is "")."""
    esun = ESUN.get(product.satellite, {})
    d = earth_sun_distance_on(product.acquired)
    sine = math.sin(math.radians(product.sun_elevation))
    return {
        role_of[b.band]: b.abs_cal_factor / b.effective_bandwidth * math.pi * d * d
        / (esun[b.band] * sine)
        for b in product.bands
        if b.band in esun and b.band in role_of
    }  # fmt: skip


def product_reading(
    product: MaxarProduct,
    path: str | Path,
    percentiles: Mapping[str, float],
    roles: Sequence[str] = (),
) -> ProductReading:
    """Top-of-atmosphere reflectance per band from the IMD, where the product holds radiance,
    its satellite's solar irradiance is known, the IMD gives the sun and the day, and the
    values then fit reflectance; else why not (the values stay uncalibrated)."""
    name = f"{product.title} product {product.identifier} ({product.imd})"
    esun = ESUN.get(product.satellite, {})
    why = _not_calibrated(product, esun)
    if why:
        return ProductReading(None, f"{name}: {why}, so its values are not radiance; ")
    d = earth_sun_distance_on(product.acquired)
    factors = _reflectance_factors(product, ROLE_OF_BAND)
    if product.swir is not None:
        factors |= _reflectance_factors(product.swir, SWIR_ROLES)
    by_role = tuple((role, factors[role], 0.0) for role in roles if role in factors)
    mult = sum(m for _, m, _ in by_role) / max(len(by_role), 1)
    low, high = float(percentiles["p1"]) * mult, float(percentiles["p99"]) * mult
    if len(by_role) != len(roles) or not by_role or not plausible_reflectance(low, high):
        return ProductReading(
            None,
            f"{name}: its values read as top-of-atmosphere reflectance would lie at "
            f"{low:.3g}-{high:.3g} (1st-99th percentiles), not reflectance; ",
        )
    note = (
        f"{name}: top-of-atmosphere reflectance = pi d^2 DN absCalFactor / "
        f"effectiveBandwidth / (ESUN sin(sun elevation {product.sun_elevation:g} deg)), per "
        f"band, d = {d:.4f} AU on {product.acquired.isoformat()}, ESUN of Thuillier 2003 "
        "(Maxar's fleet calibration, 2016v0); Maxar's per-release gain and offset "
        "adjustments (a few per cent) are not applied"
    )
    if product.swir is not None:
        note += (
            f"; SWIR bands {', '.join(SWIR_ROLES)} from the collect's SWIR product "
            f"{product.swir.identifier} ({product.swir.imd}), resampled bilinearly onto the "
            "multispectral grid (`maxar_swir`)"
        )
    elif product.swir_left_out:
        note += f"; not read with {product.swir_left_out}"
    return ProductReading(
        Scaling(mult, 0.0, True, f"product {product.identifier}, IMD", note, by_role)
    )


def refusal_hint(path: str | Path) -> str | None:
    """Why the roles of a Maxar raster could not be read, and what to give: the product's IMD
    for a raster named as Maxar names its files but without one beside it; `--bands` for a
    product whose bands have no preset (SWIR, panchromatic). None for any other raster."""
    file = Path(path).name
    product = find_product(path)
    if product is None:
        imd = _imd_beside(Path(path)) if Path(path).is_file() else None
        if imd is not None and imd.suffix.upper() == ".IMD":
            return (
                f"{file}: its IMD, {imd.name}, gives no band group with an absCalFactor and an "
                "effectiveBandwidth for each of its bands (a copy with some bands taken out, or "
                "a damaged IMD); give the roles with --bands, or --sensor worldview3_8band, "
                "worldview2_8band or maxar_4band (uncalibrated)"
            )
        if not MAXAR_NAME.search(file.upper()):
            return None
        return (
            f"{file} is named as a Maxar product, but its .IMD is not beside it: put the .IMD "
            "delivered with it there (its band roles and top-of-atmosphere reflectance), or give "
            "--sensor worldview3_8band, worldview2_8band or maxar_4band (uncalibrated)"
        )
    if product.preset is not None:
        return None
    if product.band_ids == SWIR_BANDS:
        return (
            f"{file} is a {product.satellite_name} SWIR product ({product.imd}): it has no "
            "visible or NIR band; give the multispectral product of the same collect (its "
            "...-M2AS-... file), which is read with this product's SWIR bands where it lies "
            "beside it (in its folder or a *SWR* folder beside that), or give its roles with --bands"
        )
    return (
        f"{file} is a {product.satellite_name} {product.descriptor} product of bands "
        f"{', '.join(product.band_ids)} ({product.imd}): the roles are read for Maxar's eight "
        "multispectral bands (coastal to NIR2) or its four (blue, green, red, NIR); give them "
        "with --bands, or stack it with the multispectral product"
    )
