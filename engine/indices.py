"""Spectral indices: formula, reference, required band roles and computation.

Inputs are float32 reflectance arrays keyed by band role (``blue``, ``nir``, ``swir1`` ...).
NaN marks nodata and propagates; a zero denominator gives NaN, never inf and never a warning.
Formulas follow the cited papers and were checked against the Awesome Spectral Indices catalogue
(spyndex 0.12.0); where the two disagree (AWEI_NSH) the paper wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .errors import BandError, PromptError

Bands = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class SpectralIndex:
    """One spectral index: its formula as text, its source and how to compute it."""

    name: str
    title: str
    formula: str
    reference: str
    roles: tuple[str, ...]
    compute: Callable[[Bands], np.ndarray]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0 (instead of inf), NaN in either propagating."""
    num, den = np.broadcast_arrays(num, den)
    out = np.full(num.shape, np.nan, dtype=np.float32)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _nd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Normalised difference (a - b) / (a + b)."""
    return _ratio(a - b, a + b)


def _index(
    name: str,
    title: str,
    formula: str,
    reference: str,
    roles: tuple[str, ...],
    fn: Callable[[dict[str, np.ndarray]], np.ndarray],
) -> SpectralIndex:
    """Wrap a formula so that it takes any numeric arrays and returns float32 silently."""

    def compute(bands: Bands) -> np.ndarray:
        arrays = {role: np.asarray(bands[role], dtype=np.float32) for role in roles}
        # Overflow / invalid only arise from nodata or absurd values; NaN already says so.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.asarray(fn(arrays), dtype=np.float32)

    return SpectralIndex(name, title, formula, reference, roles, compute)


def _exg(b: dict[str, np.ndarray]) -> np.ndarray:
    # Chromatic coordinates r, g, b = R, G, B / (R + G + B), so 2g - r - b is one ratio.
    return _ratio(2 * b["green"] - b["red"] - b["blue"], b["red"] + b["green"] + b["blue"])


_RSE = "Remote Sensing of Environment"
_IJRS = "International Journal of Remote Sensing"

_ALL = (
    _index(
        "NDVI",
        "Normalized Difference Vegetation Index",
        "(nir - red) / (nir + red)",
        "Rouse, J.W., Haas, R.H., Schell, J.A., Deering, D.W. (1974). Monitoring vegetation "
        "systems in the Great Plains with ERTS. Third ERTS Symposium, NASA SP-351, 1, 309-317.",
        ("nir", "red"),
        lambda b: _nd(b["nir"], b["red"]),
    ),
    _index(
        "NDWI",
        "Normalized Difference Water Index",
        "(green - nir) / (green + nir)",
        "McFeeters, S.K. (1996). The use of the Normalized Difference Water Index (NDWI) in the "
        f"delineation of open water features. {_IJRS}, 17(7), 1425-1432.",
        ("green", "nir"),
        lambda b: _nd(b["green"], b["nir"]),
    ),
    _index(
        "MNDWI",
        "Modified Normalized Difference Water Index",
        "(green - swir1) / (green + swir1)",
        "Xu, H. (2006). Modification of normalised difference water index (NDWI) to enhance open "
        f"water features in remotely sensed imagery. {_IJRS}, 27(14), 3025-3033.",
        ("green", "swir1"),
        lambda b: _nd(b["green"], b["swir1"]),
    ),
    _index(
        "AWEI_NSH",
        "Automated Water Extraction Index (no shadow)",
        "4 * (green - swir1) - (0.25 * nir + 2.75 * swir2)",
        "Feyisa, G.L., Meilby, H., Fensholt, R., Proud, S.R. (2014). Automated Water Extraction "
        f"Index: a new technique for surface water mapping using Landsat imagery. {_RSE}, 140, "
        "23-35.",
        ("green", "swir1", "nir", "swir2"),
        lambda b: 4 * (b["green"] - b["swir1"]) - (0.25 * b["nir"] + 2.75 * b["swir2"]),
    ),
    _index(
        "AWEI_SH",
        "Automated Water Extraction Index (shadow)",
        "blue + 2.5 * green - 1.5 * (nir + swir1) - 0.25 * swir2",
        "Feyisa, G.L., Meilby, H., Fensholt, R., Proud, S.R. (2014). Automated Water Extraction "
        f"Index: a new technique for surface water mapping using Landsat imagery. {_RSE}, 140, "
        "23-35.",
        ("blue", "green", "nir", "swir1", "swir2"),
        lambda b: b["blue"] + 2.5 * b["green"] - 1.5 * (b["nir"] + b["swir1"]) - 0.25 * b["swir2"],
    ),
    _index(
        "WI2015",
        "Water Index 2015",
        "1.7204 + 171 * green + 3 * red - 70 * nir - 45 * swir1 - 71 * swir2",
        "Fisher, A., Flood, N., Danaher, T. (2016). Comparing Landsat water index methods for "
        f"automated water classification in eastern Australia. {_RSE}, 175, 167-182.",
        ("green", "red", "nir", "swir1", "swir2"),
        lambda b: (
            1.7204
            + 171 * b["green"]
            + 3 * b["red"]
            - 70 * b["nir"]
            - 45 * b["swir1"]
            - 71 * b["swir2"]
        ),
    ),
    _index(
        "NDBI",
        "Normalized Difference Built-up Index",
        "(swir1 - nir) / (swir1 + nir)",
        "Zha, Y., Gao, J., Ni, S. (2003). Use of normalized difference built-up index in "
        f"automatically mapping urban areas from TM imagery. {_IJRS}, 24(3), 583-594.",
        ("swir1", "nir"),
        lambda b: _nd(b["swir1"], b["nir"]),
    ),
    _index(
        "BSI",
        "Bare Soil Index",
        "((swir1 + red) - (nir + blue)) / ((swir1 + red) + (nir + blue))",
        "Rikimaru, A., Roy, P.S., Miyatake, S. (2002). Tropical forest cover density mapping. "
        "Tropical Ecology, 43(1), 39-47.",
        ("swir1", "red", "nir", "blue"),
        lambda b: _nd(b["swir1"] + b["red"], b["nir"] + b["blue"]),
    ),
    _index(
        "NDSI",
        "Normalized Difference Snow Index",
        "(green - swir1) / (green + swir1)",
        "Hall, D.K., Riggs, G.A., Salomonson, V.V. (1995). Development of methods for mapping "
        "global snow cover using moderate resolution imaging spectroradiometer data. "
        f"{_RSE}, 54(2), 127-140.",
        ("green", "swir1"),
        lambda b: _nd(b["green"], b["swir1"]),
    ),
    _index(
        "SAVI",
        "Soil-Adjusted Vegetation Index (L = 0.5)",
        "1.5 * (nir - red) / (nir + red + 0.5)",
        f"Huete, A.R. (1988). A soil-adjusted vegetation index (SAVI). {_RSE}, 25(3), 295-309.",
        ("nir", "red"),
        lambda b: _ratio(1.5 * (b["nir"] - b["red"]), b["nir"] + b["red"] + 0.5),
    ),
    _index(
        "EVI",
        "Enhanced Vegetation Index",
        "2.5 * (nir - red) / (nir + 6 * red - 7.5 * blue + 1)",
        "Huete, A., Didan, K., Miura, T., Rodriguez, E.P., Gao, X., Ferreira, L.G. (2002). "
        "Overview of the radiometric and biophysical performance of the MODIS vegetation "
        f"indices. {_RSE}, 83(1-2), 195-213.",
        ("nir", "red", "blue"),
        lambda b: _ratio(
            2.5 * (b["nir"] - b["red"]), b["nir"] + 6 * b["red"] - 7.5 * b["blue"] + 1
        ),
    ),
    _index(
        "NDMI",
        "Normalized Difference Moisture Index",
        "(nir - swir1) / (nir + swir1)",
        "Wilson, E.H., Sader, S.A. (2002). Detection of forest harvest type using multiple dates "
        f"of Landsat TM imagery. {_RSE}, 80(3), 385-396.",
        ("nir", "swir1"),
        lambda b: _nd(b["nir"], b["swir1"]),
    ),
    _index(
        "BRIGHTNESS",
        "Mean visible reflectance",
        "(blue + green + red) / 3",
        "Zhu, Z., Woodcock, C.E. (2012). Object-based cloud and cloud shadow detection in Landsat "
        f"imagery. {_RSE}, 118, 83-94 (MeanVis of the whiteness test).",
        ("blue", "green", "red"),
        lambda b: (b["blue"] + b["green"] + b["red"]) / 3,
    ),
    _index(
        "HOT",
        "Haze Optimized Transform",
        "blue - 0.5 * red - 0.08",
        "Zhang, Y., Guindon, B., Cihlar, J. (2002). An image transform to characterize and "
        "compensate for spatial variations in thin cloud contamination of Landsat images. "
        f"{_RSE}, 82(2-3), 173-187 (fixed clear-sky line as in Zhu & Woodcock 2012).",
        ("blue", "red"),
        lambda b: b["blue"] - 0.5 * b["red"] - 0.08,
    ),
    _index(
        "ExG",
        "Excess Green (chromatic coordinates)",
        "(2 * green - red - blue) / (red + green + blue)",
        "Woebbecke, D.M., Meyer, G.E., Von Bargen, K., Mortensen, D.A. (1995). Color indices for "
        "weed identification under various soil, residue, and lighting conditions. "
        "Transactions of the ASAE, 38(1), 259-269.",
        ("green", "red", "blue"),
        _exg,
    ),
    _index(
        "VARI",
        "Visible Atmospherically Resistant Index",
        "(green - red) / (green + red - blue)",
        "Gitelson, A.A., Kaufman, Y.J., Stark, R., Rundquist, D. (2002). Novel algorithms for "
        f"remote estimation of vegetation fraction. {_RSE}, 80(1), 76-87.",
        ("green", "red", "blue"),
        lambda b: _ratio(b["green"] - b["red"], b["green"] + b["red"] - b["blue"]),
    ),
    _index(
        "NGRDI",
        "Normalized Green Red Difference Index",
        "(green - red) / (green + red)",
        "Tucker, C.J. (1979). Red and photographic infrared linear combinations for monitoring "
        f"vegetation. {_RSE}, 8(2), 127-150.",
        ("green", "red"),
        lambda b: _nd(b["green"], b["red"]),
    ),
)

INDICES: dict[str, SpectralIndex] = {index.name: index for index in _ALL}
_BY_KEY = {name.upper(): index for name, index in INDICES.items()}


def available_indices(roles: Iterable[str]) -> list[str]:
    """Names of the indices computable from the given band roles, in catalogue order."""
    have = set(roles)
    return [name for name, index in INDICES.items() if set(index.roles) <= have]


def get_index(name: str) -> SpectralIndex:
    """The index called ``name`` (case-insensitive); PromptError listing the known ones if none."""
    index = _BY_KEY.get(name.strip().upper())
    if index is None:
        raise PromptError(f"unknown spectral index '{name}'; choose one of {', '.join(INDICES)}")
    return index


def compute_index(name: str, bands: Bands) -> np.ndarray:
    """Compute index ``name`` from role-keyed reflectance arrays; float32, NaN for nodata.

    Raises PromptError for an unknown name and BandError when a required role is missing.
    """
    index = get_index(name)
    missing = [role for role in index.roles if role not in bands]
    if missing:
        have = ", ".join(bands) if bands else "no bands"
        raise BandError(
            f"{index.name} needs bands {', '.join(index.roles)}; this raster has {have}; "
            "set --bands"
        )
    return index.compute(bands)


def index_table_markdown() -> str:
    """A Markdown table of every index: name, title, formula, bands and reference."""
    lines = [
        "| Index | Name | Formula | Bands | Reference |",
        "| --- | --- | --- | --- | --- |",
    ]
    for index in INDICES.values():
        lines.append(
            f"| {index.name} | {index.title} | `{index.formula}` | {', '.join(index.roles)} "
            f"| {index.reference} |"
        )
    return "\n".join(lines) + "\n"
