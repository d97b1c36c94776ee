"""`bench/quality --set NAME=VALUE`: values typed as their `SpectralParams` field."""

from __future__ import annotations

import pytest

from bench.quality import _parse_setting


def test_a_setting_takes_its_fields_type() -> None:
    name, value = _parse_setting("smoothing_radius=2")
    assert (name, value, type(value)) == ("smoothing_radius", 2, int)
    name, value = _parse_setting("land_shape_pooling=0.5")
    assert (name, value, type(value)) == ("land_shape_pooling", 0.5, float)


@pytest.mark.parametrize("text", ["smoothing_radius=1.5", "no_such_value=1", "water_ndvi_margin="])
def test_a_bad_setting_stops_with_one_line(text: str) -> None:
    with pytest.raises(SystemExit, match="--set"):
        _parse_setting(text)
