"""Landsat product identifiers, and the reflectance scaling the processing level they name implies.

USGS names every Landsat product (``LC08_L1TP_224078_20200518_20200518_01_RT``: sensor and
satellite, processing level, path/row, dates, collection, tier) and that name stays on the files
an analyst downloads and stacks. It says what the values cannot: Level-1 digital numbers of OLI
(top-of-atmosphere reflectance, zero at DN 5000) and Collection 2 Level-2 surface reflectance
(zero at DN 7273) start in the same range (the real Level-1 patch of the benchmark's ``c38``
scene: 1st percentile 7124), and an OLI Level-1 stack read with the Level-2 preset has every dark
band pushed below zero.

Level-1 OLI values become top-of-atmosphere reflectance with the product's MTL file
(``REFLECTANCE_MULT_BAND_n``, ``REFLECTANCE_ADD_BAND_n``, divided by the sine of
``SUN_ELEVATION``); without it, ``DN x 0.00002 - 0.1`` (USGS's factors for every OLI band of
both collections) is that reflectance times the sine, and the sine comes from the sun elevation
the identifier's date and WRS-2 row give (``landsat_sun``, within 0.3 deg of USGS's); only
where that sun is below ``MIN_COMPUTED_ELEVATION`` (or the name's date is none) do the values
stay reflectance times the sine: band ratios, hence every normalised index, exact, absolute
values not (uncalibrated). TM/ETM+ Level-1 gains differ per
band and scene: with the product's MTL file each band takes its own (its reflectance factors, or
an older file's radiance with the sun's irradiance), without it they stay digital numbers, as
MSS does. Collection 1 products that ESPA derived from a
Level-1 one keep its name with ``sr_``/``toa_`` suffixes (reflectance x 10000): not Level-1.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .landsat_sun import sun_elevation
from .product_files import folders_beside, member_of_archive, name_texts, only_one
from .reflectance import (
    REFLECTANCE_HIGH,
    REFLECTANCE_MIN_P99,
    ProductReading,
    Scaling,
    earth_sun_distance_on,
    linear,
    plausible_reflectance,
)
from .sensors import get_preset
from .vrt_sources import vrt_source_files

PRODUCT_ID = re.compile(
    r"(?<![A-Z0-9])L([COTEM])(0[1-9])_(L1TP|L1GT|L1GS|L2SP|L2SR)_(\d{6})_(\d{8})_(\d{8})_(0[12])_(T1|T2|RT)"
    r"(?![A-Z0-9])"
)
#: The scene identifiers of the products before Collection 1 (``LC80020532016141LGN00``:
#: sensor, satellite, path, row, year, day, station, version), all Level-1.
SCENE_ID = re.compile(
    r"(?<![A-Z0-9])L([COTEM])([1-9])(\d{6})(\d{4})(\d{3})[A-Z]{3}\d{2}(?![A-Z0-9])"
)
#: What ESPA's Collection 1 surface and top-of-atmosphere reflectance files add to the name.
DERIVED_SUFFIX = re.compile(r"_(SR|TOA|BT)(_|BAND)")

#: USGS's Level-1 reflectance factors for every OLI band (MTL REFLECTANCE_MULT/ADD_BAND_n).
OLI_L1_MULT = 2.0e-5
OLI_L1_ADD = -0.1
#: Collection 2 Level-2 surface reflectance, every sensor.
C2_L2_MULT = 2.75e-5
C2_L2_ADD = -0.2
#: Level-1 OLI values lie above DN 5000 (zero reflectance) but for fill, which a scene's
#: staggered band edges leave in some bands of a pixel (not nodata in every band): their median
#: must be above it. Reflectance x 10000 under a Level-1 name (ESPA) has its median far below.
L1_MIN_MEDIAN = 0.0
#: OLI's reflective bands, whose MTL factors the scaling uses.
OLI_BANDS = range(1, 10)
#: The lowest computed sun elevation (deg) a scaling divides by: the computation's 0.3 deg
#: error is 3 % of the sine at 5 deg and grows fast below it.
MIN_COMPUTED_ELEVATION = 5.0
#: The largest MTL file read (a real one is about 15 kB).
MTL_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class LandsatProduct:
    """A Landsat product identifier and what it says: sensor, satellite, level, collection."""

    identifier: str
    sensor: str  # C: OLI/TIRS, O: OLI only, T: TM (4, 5) or TIRS only (8, 9), E: ETM+, M: MSS
    satellite: int
    level: str  # L1TP, L1GT, L1GS, L2SP, L2SR; L1 before Collection 1
    collection: int  # 0 before Collection 1
    row: int  # WRS row (WRS-2 for Landsat 4-9)
    acquired: date | None  # None where the name's date is no calendar date

    @property
    def is_oli(self) -> bool:
        return self.sensor in "CO" and self.satellite in (8, 9)

    @property
    def is_level1(self) -> bool:
        return self.level.startswith("L1")

    @property
    def label(self) -> str:
        """What an analyst reads: ``Landsat 8 OLI Level-1 (LC08_L1TP_...)``."""
        if self.is_oli:
            instrument = "OLI"
        elif self.sensor == "T":
            instrument = "TM" if self.satellite <= 7 else "TIRS"
        else:
            instrument = {"E": "ETM+", "M": "MSS"}.get(self.sensor, self.sensor)
        level = "Level-1" if self.is_level1 else f"Collection {self.collection} Level-2"
        return f"Landsat {self.satellite} {instrument} {level} ({self.identifier})"

    @property
    def preset(self) -> str | None:
        """The sensor preset whose band names the product's files use (None for MSS)."""
        if self.is_oli:
            return "landsat8_9_oli"
        # T is TM on Landsat 4/5 and TIRS alone (thermal) on 8/9.
        return "landsat_tm_etm" if self.sensor in "TE" and self.satellite <= 7 else None


def find_product(
    path: str | Path, descriptions: Sequence[str | None] = ()
) -> LandsatProduct | None:
    """The one Landsat product the file name, its folder's name or the band descriptions name
    (a product identifier, or a scene identifier of the products before Collection 1).

    None where none is named, where they name two different products (a stack of two dates),
    or where the name carries ESPA's reflectance suffixes (``..._T1_sr_band4``).
    """
    found: dict[str, LandsatProduct] = {}
    for text in name_texts(path, descriptions):
        upper = text.upper()
        named = [
            *(
                (m, m.group(1), m.group(2), m.group(3), int(m.group(7)), m.group(4)[3:],
                 _date(m.group(5), "%Y%m%d"))
                for m in PRODUCT_ID.finditer(upper)
            ),
            *(
                (m, m.group(1), m.group(2), "L1", 0, m.group(3)[3:],
                 _date(m.group(4) + m.group(5), "%Y%j"))
                for m in SCENE_ID.finditer(upper)
            ),
        ]  # fmt: skip
        for match, sensor, satellite, level, collection, row, acquired in named:
            if level.startswith("L1") and DERIVED_SUFFIX.search(upper, match.end()):
                return None
            found[match.group(0)] = LandsatProduct(
                match.group(0), sensor, int(satellite), level, collection, int(row), acquired
            )
    return only_one(found)


def _date(text: str, form: str) -> date | None:
    """The date `text` gives in `form`, or None where it is none (a name only shaped like one)."""
    try:
        return datetime.strptime(text, form).date()
    except ValueError:
        return None


def read_mtl(path: Path) -> dict[str, str]:
    """The ``KEY = value`` pairs of an MTL file (text, or Collection 2's JSON), flattened.

    Only read as data: keys and string values, nothing evaluated.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() == ".json":
        pairs: dict[str, str] = {}

        def walk(node: object) -> None:
            if isinstance(node, Mapping):
                for key, value in node.items():
                    if isinstance(value, Mapping):
                        walk(value)
                    else:
                        pairs[str(key).upper()] = str(value)

        walk(json.loads(text))
        return pairs
    out = {}
    for line in text.splitlines():
        m = re.match(r"\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$", line)
        if m:
            out[m.group(1)] = m.group(2).strip('"')
    return out


def find_mtl(path: str | Path, product: LandsatProduct) -> Path | None:
    """The product's MTL file (``<identifier>_MTL.txt`` or ``.json``) beside the raster or, for a
    VRT stacked elsewhere, beside its source files (USGS delivers them together); for a link,
    beside the link or the file it points to; for the product's .tar, inside it."""
    folders = folders_beside(path)
    folders += [folder for f in vrt_source_files(path) for folder in folders_beside(f)]
    names = [f"{product.identifier}_MTL.{suffix}" for suffix in ("txt", "json")]
    for folder in dict.fromkeys(folders):
        for name in names:
            for case in (name, name.lower()):
                mtl = folder / case
                if mtl.is_file() and mtl.stat().st_size <= MTL_MAX_BYTES:
                    return mtl
    return member_of_archive(path, names, MTL_MAX_BYTES)  # a .tar as USGS delivers it


def _oli_level1_from_mtl(mtl: Path) -> tuple[float, float, float] | None:
    """(mult, add, sun elevation) from an OLI MTL whose reflective bands share one factor pair."""
    try:
        meta = read_mtl(mtl)
        mults, adds = (
            {float(meta[k]) for b in OLI_BANDS if (k := f"REFLECTANCE_{kind}_BAND_{b}") in meta}
            for kind in ("MULT", "ADD")
        )
        elevation = float(meta["SUN_ELEVATION"])
    except (KeyError, ValueError, OSError):
        return None
    if len(mults) != 1 or len(adds) != 1 or not 0 < elevation <= 90:
        return None
    mult, add = mults.pop(), adds.pop()
    if not (math.isfinite(mult) and mult > 0 and math.isfinite(add)):
        return None
    return mult, add, elevation


#: Mean exo-atmospheric solar irradiance (W m-2 um-1) of the reflective TM and ETM+ bands by
#: satellite, Chander, Markham & Helder (2009), Remote Sensing of Environment 113, table 11: what
#: turns an older MTL file's radiance into top-of-atmosphere reflectance.
ESUN_TM_ETM = {
    4: {1: 1983.0, 2: 1795.0, 3: 1539.0, 4: 1028.0, 5: 219.8, 7: 83.49},
    5: {1: 1983.0, 2: 1796.0, 3: 1536.0, 4: 1031.0, 5: 220.0, 7: 83.44},
    7: {1: 1997.0, 2: 1812.0, 3: 1533.0, 4: 1039.0, 5: 230.8, 7: 84.90},
}


def earth_sun_distance(meta: Mapping[str, str]) -> float:
    """The Earth-Sun distance (astronomical units) an MTL file gives, or the one of its
    acquisition day (`earth_sun_distance_on`)."""
    if "EARTH_SUN_DISTANCE" in meta:
        return float(meta["EARTH_SUN_DISTANCE"])
    return earth_sun_distance_on(date.fromisoformat(meta["DATE_ACQUIRED"]))


def _tm_etm_level1_from_mtl(
    mtl: Path, roles: Sequence[str], satellite: int
) -> tuple[tuple[tuple[str, float, float], ...], float, bool] | None:
    """((role, mult, add) per reflective role, sun elevation, from radiance) from a TM/ETM+ MTL,
    or None where it lacks a role's factors. The factors give reflectance times the sine of the
    sun's elevation: the MTL's own (``REFLECTANCE_MULT_BAND_n``), or, where an older file gives
    radiance only, ``pi d^2 RADIANCE_MULT_BAND_n / ESUN_n`` (Chander et al. 2009)."""
    numbers = {
        band.role: int(m.group(1))
        for band in get_preset("landsat_tm_etm").bands
        for alias in band.aliases
        if band.role and (m := re.fullmatch(r"B(\d+)", alias))
    }
    wanted = [(role, n) for role in roles if (n := numbers.get(role)) is not None]
    try:
        meta = read_mtl(mtl)
        elevation = float(meta["SUN_ELEVATION"])
        from_radiance = not all(f"REFLECTANCE_MULT_BAND_{n}" in meta for _, n in wanted)
        kind, gain = "REFLECTANCE", {n: 1.0 for _, n in wanted}
        if from_radiance:
            d2 = earth_sun_distance(meta) ** 2
            kind, gain = (
                "RADIANCE",
                {n: math.pi * d2 / ESUN_TM_ETM[satellite][n] for _, n in wanted},
            )
        factors = tuple(
            (
                role,
                gain[n] * float(meta[f"{kind}_MULT_BAND_{n}"]),
                gain[n] * float(meta[f"{kind}_ADD_BAND_{n}"]),
            )
            for role, n in wanted
        )
    except (KeyError, ValueError, OSError):
        return None
    usable = all(math.isfinite(m) and m > 0 and math.isfinite(a) for _, m, a in factors)
    if not factors or not usable or not 0 < elevation <= 90:
        return None
    return factors, elevation, from_radiance


def _tm_etm_level1(
    product: LandsatProduct,
    path: str | Path,
    percentiles: Mapping[str, float],
    roles: Sequence[str],
) -> ProductReading | None:
    """TM/ETM+ Level-1 digital numbers with the product's MTL file: top-of-atmosphere
    reflectance, one factor pair per band; None without it (gains differ per band and scene)."""
    mtl = find_mtl(path, product)
    found = _tm_etm_level1_from_mtl(mtl, roles, product.satellite) if mtl else None
    if found is None:
        return None
    factors, elevation, from_radiance = found
    sine = math.sin(math.radians(elevation))
    by_role = tuple((role, m / sine, a / sine) for role, m, a in factors)
    mult = sum(m for _, m, _ in by_role) / len(by_role)
    add = sum(a for _, _, a in by_role) / len(by_role)
    if not _fits_level1(percentiles, mult, add):
        return ProductReading(
            None, _misfit(product.identifier, "Level-1 digital numbers", percentiles)
        )
    formula = (
        "pi d^2 (DN x RADIANCE_MULT_BAND_n + RADIANCE_ADD_BAND_n) / ESUN_n (the file gives "
        "radiance only; ESUN of Chander et al. 2009)"
        if from_radiance
        else "(DN x REFLECTANCE_MULT_BAND_n + REFLECTANCE_ADD_BAND_n)"
    )
    note = (
        f"Landsat {product.satellite} Level-1 product {product.identifier} (named by the file): "
        f"{mtl.name}: top-of-atmosphere reflectance = {formula} / sin(sun elevation "
        f"{elevation:g} deg), per band"
    )
    source = f"product {product.identifier}, MTL"
    return ProductReading(Scaling(mult, add, True, source, note, by_role))


def product_reading(
    product: LandsatProduct,
    path: str | Path,
    percentiles: Mapping[str, float],
    roles: Sequence[str] = (),
) -> ProductReading | None:
    """The scaling `product`'s level gives the raster at `path` (whose bands carry `roles`),
    if its values fit it.

    None for a product whose level fixes no scaling (TM/ETM+ Level-1 digital numbers without
    the product's MTL file beside them; MSS).
    """
    name = product.identifier
    if product.is_level1 and product.preset == "landsat_tm_etm":
        return _tm_etm_level1(product, path, percentiles, roles)
    if product.is_level1 and product.is_oli:
        return _oli_level1(product, path, percentiles)
    if product.level.startswith("L2") and product.collection == 2:
        low = float(percentiles["p1"]) * C2_L2_MULT + C2_L2_ADD
        high = float(percentiles["p99"]) * C2_L2_MULT + C2_L2_ADD
        if not plausible_reflectance(low, high):
            return ProductReading(None, _misfit(name, "Collection 2 Level-2 values", percentiles))
        note = (
            f"Landsat Collection 2 Level-2 product {name} (named by the file): surface "
            f"reflectance = {linear(C2_L2_MULT, C2_L2_ADD, 'DN')}"
        )
        return ProductReading(Scaling(C2_L2_MULT, C2_L2_ADD, True, f"product {name}", note))
    return None


def _oli_level1(
    product: LandsatProduct, path: str | Path, percentiles: Mapping[str, float]
) -> ProductReading:
    """OLI Level-1 digital numbers: top-of-atmosphere reflectance, divided by the sine of the
    sun's elevation that the product's MTL file gives, else the one its identifier gives."""
    name = product.identifier
    mtl = find_mtl(path, product)
    from_mtl = _oli_level1_from_mtl(mtl) if mtl else None
    if from_mtl:
        (mult, add, elevation), origin = from_mtl, f"from {mtl.name}"
    else:
        mult, add, elevation = OLI_L1_MULT, OLI_L1_ADD, _computed_elevation(product)
        origin = (
            "computed from the identifier's date and WRS-2 row; the product's MTL file "
            f"({name}_MTL.txt) beside the raster gives USGS's own"
        )
    if not _fits_level1(percentiles, mult, add):
        return ProductReading(None, _misfit(name, "Level-1 digital numbers", percentiles))
    note = f"Landsat {product.satellite} OLI Level-1 product {name} (named by the file): "
    if elevation is None:
        note += (
            f"reflectance = {linear(mult, add, 'DN')}, top-of-atmosphere reflectance times the "
            "sine of the sun's elevation: band ratios and indices are exact, absolute values "
            "are not (thresholds adapt to the scene); put the product's MTL file "
            f"({name}_MTL.txt) beside the raster to calibrate"
        )
        return ProductReading(Scaling(mult, add, False, f"product {name}", note))
    sine = math.sin(math.radians(elevation))
    note += (
        f"top-of-atmosphere reflectance = ({linear(mult, add, 'DN')}) / "
        f"sin(sun elevation {elevation:.4g} deg, {origin})"
    )
    source = f"product {name}, " + ("MTL" if from_mtl else "sun elevation computed")
    return ProductReading(Scaling(mult / sine, add / sine, True, source, note))


def _computed_elevation(product: LandsatProduct) -> float | None:
    """The sun's elevation over the product's scene centre computed from its identifier
    (`landsat_sun`), or None without a date or with the sun below ``MIN_COMPUTED_ELEVATION``."""
    if product.acquired is None:
        return None
    elevation = sun_elevation(product.row, product.acquired)
    return elevation if elevation >= MIN_COMPUTED_ELEVATION else None


def _fits_level1(percentiles: Mapping[str, float], mult: float, add: float) -> bool:
    """Whether values read as Level-1 with `mult`/`add` look like it: the median above zero
    reflectance (``L1_MIN_MEDIAN``), the 99th percentile a plausible reflectance."""
    median = float(percentiles["p50"]) * mult + add
    high = float(percentiles["p99"]) * mult + add
    return median >= L1_MIN_MEDIAN and REFLECTANCE_MIN_P99 <= high <= REFLECTANCE_HIGH


def _misfit(name: str, what: str, percentiles: Mapping[str, float]) -> str:
    shown = ", ".join(f"{k} {percentiles[k]:g}" for k in ("p1", "p50", "p99") if k in percentiles)
    return f"the file names Landsat product {name}, but its values ({shown}) are not its {what}; "
