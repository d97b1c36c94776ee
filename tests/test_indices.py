"""Spectral indices: formulas, nodata, errors, and physical truths on real Landsat 8 pixels."""

from __future__ import annotations

import numpy as np
import pytest

from spex.engine.errors import BandError, PromptError, SpexError
from spex.engine.indices import (
    INDICES,
    available_indices,
    compute_index,
    get_index,
    index_table_markdown,
)
from spex.engine.raster.roles import BAND_ROLES

ROLES = set(BAND_ROLES)


def _median(name: str, bands: dict[str, np.ndarray]) -> float:
    return float(np.median(compute_index(name, bands)))


def test_spyndex_pixels_are_the_documented_sample(spyndex_pixels):
    counts = {name: len(bands["red"]) for name, bands in spyndex_pixels.items()}
    assert counts == {"Water": 37, "Vegetation": 46, "Urban": 37}
    for bands in spyndex_pixels.values():
        assert all(np.isfinite(band).all() for band in bands.values())


def test_vegetation_has_the_highest_ndvi_savi_evi(spyndex_pixels):
    for name in ("NDVI", "SAVI", "EVI"):
        veg = _median(name, spyndex_pixels["Vegetation"])
        assert veg > 0.3, name
        assert veg > _median(name, spyndex_pixels["Water"]), name
        assert veg > _median(name, spyndex_pixels["Urban"]), name


def test_water_indices_are_positive_on_water_and_highest_there(spyndex_pixels):
    for name in ("NDWI", "MNDWI", "AWEI_NSH", "AWEI_SH", "WI2015"):
        water = compute_index(name, spyndex_pixels["Water"])
        assert np.median(water) > 0, name
        for other in ("Vegetation", "Urban"):
            assert np.median(water) > _median(name, spyndex_pixels[other]), (name, other)
    # The water-index thresholds at 0 separate most pixels of this sample.
    mndwi = {k: compute_index("MNDWI", v) for k, v in spyndex_pixels.items()}
    assert (mndwi["Water"] > 0).mean() > 0.9
    assert (mndwi["Vegetation"] < 0).mean() > 0.9


def test_built_up_and_bare_indices_rank_urban_above_vegetation(spyndex_pixels):
    for name in ("NDBI", "BSI"):
        assert _median(name, spyndex_pixels["Urban"]) > _median(
            name, spyndex_pixels["Vegetation"]
        ), name
    assert _median("NDBI", spyndex_pixels["Urban"]) > 0


def test_rgb_vegetation_indices_favour_vegetation_over_urban(spyndex_pixels):
    for name in ("ExG", "VARI", "NGRDI"):
        assert _median(name, spyndex_pixels["Vegetation"]) > _median(
            name, spyndex_pixels["Urban"]
        ), name


# Hand-written from the papers and the Awesome Spectral Indices catalogue (spyndex 0.12.0,
# spectral-indices-dict.json; its symbols B G R N S1 S2 in lower case), never eval'd from it.
REFERENCE = {
    "NDVI": lambda b, g, r, n, s1, s2: (n - r) / (n + r),
    "NDWI": lambda b, g, r, n, s1, s2: (g - n) / (g + n),
    "MNDWI": lambda b, g, r, n, s1, s2: (g - s1) / (g + s1),
    "NDSI": lambda b, g, r, n, s1, s2: (g - s1) / (g + s1),
    "NDBI": lambda b, g, r, n, s1, s2: (s1 - n) / (s1 + n),
    "NDMI": lambda b, g, r, n, s1, s2: (n - s1) / (n + s1),
    # The catalogue's AWEInsh reads "- 0.25 * N + 2.75 * S2"; Feyisa et al. (2014, eq. 1)
    # subtract both terms, which is what the engine does.
    "AWEI_NSH": lambda b, g, r, n, s1, s2: 4.0 * (g - s1) - (0.25 * n + 2.75 * s2),
    "AWEI_SH": lambda b, g, r, n, s1, s2: b + 2.5 * g - 1.5 * (n + s1) - 0.25 * s2,
    "BSI": lambda b, g, r, n, s1, s2: ((s1 + r) - (n + b)) / ((s1 + r) + (n + b)),
    "SAVI": lambda b, g, r, n, s1, s2: (1.0 + 0.5) * (n - r) / (n + r + 0.5),
    "EVI": lambda b, g, r, n, s1, s2: 2.5 * (n - r) / (n + 6.0 * r - 7.5 * b + 1.0),
    "WI2015": lambda b, g, r, n, s1, s2: 1.7204 + 171 * g + 3 * r - 70 * n - 45 * s1 - 71 * s2,
    "VARI": lambda b, g, r, n, s1, s2: (g - r) / (g + r - b),
    "NGRDI": lambda b, g, r, n, s1, s2: (g - r) / (g + r),
    "ExG": lambda b, g, r, n, s1, s2: 2 * g / (r + g + b) - r / (r + g + b) - b / (r + g + b),
    "HOT": lambda b, g, r, n, s1, s2: b - 0.5 * r - 0.08,
    "BRIGHTNESS": lambda b, g, r, n, s1, s2: (b + g + r) / 3,
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_formula_matches_reference_on_random_reflectance(name):
    rng = np.random.default_rng(7)
    values = rng.uniform(0.01, 0.6, size=(6, 500))
    roles = ("blue", "green", "red", "nir", "swir1", "swir2")
    bands = {role: values[i].astype(np.float32) for i, role in enumerate(roles)}
    got = compute_index(name, bands)
    want = REFERENCE[name](*values)  # float64
    assert got.dtype == np.float32 and got.shape == (500,)
    # VARI's denominator can come close to zero, so compare relative to magnitude.
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


def test_nan_propagates_and_shape_is_kept():
    bands = {role: np.full((3, 4), 0.2, dtype=np.float32) for role in ROLES}
    bands["green"][1, 2] = np.nan
    for name, index in INDICES.items():
        if "green" not in index.roles:
            continue
        out = compute_index(name, bands)
        assert out.shape == (3, 4) and out.dtype == np.float32, name
        assert np.isnan(out[1, 2]), name
        assert np.isfinite(np.delete(out.ravel(), 6)).all(), name


def test_zero_denominators_give_nan_without_warnings():
    zeros = {role: np.zeros(4, dtype=np.float32) for role in ROLES}
    with np.errstate(all="raise"):  # any unsilenced division warning would raise here
        for name in ("NDVI", "NDWI", "MNDWI", "NDBI", "BSI", "NDSI", "NDMI", "ExG", "NGRDI"):
            assert np.isnan(compute_index(name, zeros)).all(), name
        vari = compute_index(
            "VARI",
            {
                "green": np.array([0.1, 0.2]),
                "red": np.array([0.1, 0.1]),
                "blue": np.array([0.2, 0.1]),
            },
        )
    assert np.isnan(vari[0]) and vari[1] == pytest.approx(0.5)
    assert not np.isinf(vari).any()


def test_integer_inputs_are_computed_as_float32():
    out = compute_index("NDVI", {"nir": np.array([300, 0], np.uint16), "red": np.array([100, 0])})
    assert out.dtype == np.float32
    assert out[0] == pytest.approx(0.5) and np.isnan(out[1])


def test_missing_roles_raise_band_error_naming_needs_and_haves():
    rgb = {role: np.ones(2, np.float32) for role in ("red", "green", "blue")}
    with pytest.raises(BandError) as err:
        compute_index("ndwi", rgb)
    assert str(err.value) == (
        "NDWI needs bands green, nir; this raster has red, green, blue; set --bands"
    )


def test_unknown_index_is_a_spex_error_listing_known_names():
    with pytest.raises(PromptError) as err:
        compute_index("NDXX", {})
    assert isinstance(err.value, SpexError)
    message = str(err.value)
    assert "NDXX" in message and "NDVI" in message and "MNDWI" in message
    assert "\n" not in message


def test_names_are_case_insensitive():
    assert get_index("ndvi") is INDICES["NDVI"]
    assert get_index(" exg ") is INDICES["ExG"]
    assert get_index("awei_nsh").name == "AWEI_NSH"


def test_available_indices_depend_on_roles():
    rgb = available_indices(["red", "green", "blue"])
    assert {"ExG", "VARI", "BRIGHTNESS"} <= set(rgb)
    assert not {"NDVI", "NDWI", "MNDWI"} & set(rgb)
    landsat = available_indices(("coastal", "blue", "green", "red", "nir", "swir1", "swir2"))
    assert set(landsat) == set(INDICES)  # every index runs on Landsat 8 OLI
    assert available_indices([]) == []
    assert available_indices(["nir", "red"]) == ["NDVI", "SAVI"]


def test_catalogue_entries_are_complete():
    required = {"NDVI", "NDWI", "MNDWI", "NDBI", "AWEI_SH", "AWEI_NSH", "BSI", "NDSI", "SAVI"}
    required |= {"NDMI", "WI2015", "BRIGHTNESS", "HOT", "ExG", "VARI"}
    assert required <= set(INDICES)
    for name, index in INDICES.items():
        assert index.name == name
        assert set(index.roles) <= ROLES, name
        assert index.formula and index.title
        # author, year and venue in every reference
        assert "(19" in index.reference or "(20" in index.reference, name
        assert len(index.reference) > 60, name


def test_markdown_table_lists_every_index():
    table = index_table_markdown()
    lines = table.strip().splitlines()
    assert lines[0].startswith("| Index |") and set(lines[1]) <= {"|", "-", " "}
    assert len(lines) == 2 + len(INDICES)
    for line, index in zip(lines[2:], INDICES.values(), strict=True):
        assert line.startswith(f"| {index.name} |")
        assert index.formula in line and line.count("|") == 6
