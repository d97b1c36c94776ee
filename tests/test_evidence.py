"""Which index testifies for each target: one column per distinct formula."""

from __future__ import annotations

from spex.engine.backends.spectral.evidence import evidence_names
from spex.engine.indices import get_index

SENTINEL2 = ("blue", "green", "red", "nir", "swir1", "swir2")


def test_snow_and_water_share_one_column_since_ndsi_is_mndwi() -> None:
    assert get_index("NDSI").formula == get_index("MNDWI").formula
    assert evidence_names(("water", "snow"), SENTINEL2) == ("MNDWI",)
    assert evidence_names(("snow", "water"), SENTINEL2) == ("NDSI",)


def test_distinct_formulas_each_keep_their_column() -> None:
    names = evidence_names(("water", "vegetation", "builtup", "bare", "cloud"), SENTINEL2)
    assert names == ("MNDWI", "NDVI", "NDBI", "BSI", "HOT")
    assert evidence_names(("water",), ("green", "nir")) == ("NDWI",)  # no SWIR: NDWI stands in
