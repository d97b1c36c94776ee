"""A scene added in stop 69, after every rule of the spectral backend was set, and scored before
anything was done with it (registered by ``bench/extra_scenes.py``; same format and rules as its
scenes).

``cmartin58_s2_kansascity``: a Sentinel-2 L2A subscene of downtown Kansas City (Missouri) as
Sentinel Hub's EO Browser exports it ("Raw", 16-bit: reflectance x 65535; blue, green, red,
NIR stacked without band names, EPSG:4326), with 70 points placed by hand on urban, vegetation
and water, from the course repository cmartin58/dats6450_spring2024. A product the benchmark
did not have: EO Browser's exports are how many analysts get Sentinel-2 without a download
client, and their scaling is neither x 10000 nor digital numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .extra_scenes import Scene

KANSAS_CITY_REPO = "cmartin58/dats6450_spring2024"
KANSAS_CITY_COMMIT = "377a617bdceb9c816a4b98a58d8b6c8418ae43df"
KANSAS_CITY_FILES = {
    "data/my_rgbn.tif": "0aa21170e2c90253b606b6b1eec2f954d8632c4f596218e8a670c6c573f07ecc",
    "data/training.shp": "14f5c431e24e2f173a349f7db4d5576c7092d751ce1972b3f0ac0be57b911dd5",
    "data/training.shx": "fb176325b7bb310b8e29033e479ca72ffc0ce2f2c354a35c0e405e5134a61421",
    "data/training.dbf": "771b46409019d35dac59d09eb33f154df1f203f13ae0bbac989ca82381300a42",
    "data/training.prj": "a02a27b1d1982c8516d83398e85a3c8b1aef1713c13ef4d84d7bde17430c07c4",
}
#: The same bands as EO Browser exports them, one file each (the analyst's download before
#: stacking; `export_band_files`).
KANSAS_CITY_BAND_FILES = {
    "data/Sentinel-2_L2A_B02.tiff": "f3e76d2d85305d02a3ec7b673a210324be71ca1c18f3a1847e348801d7deaeb2",
    "data/Sentinel-2_L2A_B03.tiff": "7fdb7cf6efca442675af89978dc76578deb7ff6bf267a16b2dabe3b6cce7560a",
    "data/Sentinel-2_L2A_B04.tiff": "279959fe60178091d81e61f682723e1573aedeb38e0b86825c212c570a2a0158",
    "data/Sentinel-2_L2A_B08.tiff": "276fc6c17cae4b9f4c7be9affef3bc5ea1f2c3789ddedae4a415413d59171935",
}
#: The stack's bands: Sentinel-2 B02, B03, B04, B08 (equal, pixel for pixel, to the
#: repository's single-band exports of each, data/Sentinel-2_L2A_B0*.tiff).
KANSAS_CITY_ROLES = ("blue", "green", "red", "nir")
#: The points' name -> benchmark code.
KANSAS_CITY_CODES = {"urban": 3, "vegetation": 2, "water": 1}


def build_cmartin58_s2_kansascity(work: Path, downloads: Path) -> Scene:
    """The EO Browser stack of Kansas City with its 70 labelled points."""
    del downloads  # from a git mirror only
    from . import extra_scenes as base

    mirror = base.mirror_path(KANSAS_CITY_REPO, "SPEX_KANSAS_CITY_MIRROR")
    base.write_pinned(work, mirror, KANSAS_CITY_COMMIT, KANSAS_CITY_FILES)
    image, transform, crs = base.read_stack(work / "my_rgbn.tif", len(KANSAS_CITY_ROLES), "uint16")
    labels = np.zeros(image.shape[1:], dtype=np.uint8)
    found = base._ogr_features(work / "training.shp")
    codes = [(*geom["coordinates"][:2], KANSAS_CITY_CODES[a["name"]]) for a, geom in found]
    burnt = base._burn_points(labels, transform, codes)
    counts = {name: sum(a["name"] == name for a, _ in found) for name in KANSAS_CITY_CODES}
    clipped = int(np.count_nonzero(np.any(image == 65535, axis=0)))
    notes = f"""Source: GitHub {KANSAS_CITY_REPO}, commit {KANSAS_CITY_COMMIT} (2024-04-21), course
material (DATS 6450, spring 2024); files data/my_rgbn.tif and data/training.shp (with .shx, .dbf, .prj),
added 2024-04-15. The repository carries no licence: the scene is read at set-up from the mirror, never
committed or redistributed; Copernicus Sentinel data (free and open).

Sensor: Sentinel-2 MSI Level-2A, as Sentinel Hub's EO Browser exports it ("Raw" bands as 16-bit TIFF:
surface reflectance x 65535, clipped at 1.0; {clipped} pixels hold 65535 in some band), date not stated
(leafless trees, evergreen grass: winter). Four bands stacked without names, B02, B03, B04, B08 (each equal,
pixel for pixel, to the repository's single-band exports data/Sentinel-2_L2A_B02/B03/B04/B08.tiff), EPSG:4326,
{image.shape[2]} x {image.shape[1]} pixels of about 15.5 x 15.5 m (0.00017958 x 0.00013957 deg, EO Browser's
resampling), downtown Kansas City (Missouri, USA), 39.08-39.11 N, 94.55-94.60 W: high-rises, flat roofs,
parking lots, highways, parks and the Missouri river. Medians at the points, as reflectance (value / 65535):
water blue 0.036, NIR 0.013; vegetation red 0.081, NIR 0.310; urban blue 0.151, NIR 0.231.

Labels: {len(found)} points placed by hand (field "name": urban {counts["urban"]}, vegetation
{counts["vegetation"]}, water {counts["water"]}), one pixel each ({len(burnt)} on the grid). Mapping: urban -> 3
built-up; vegetation -> 2; water -> 1. Caveats: few labels, so each point weighs much in the IoU; no bare soil
or other class, so built-up is scored against vegetation and water only; the points' method is not written."""
    meta = {
        "bands": ",".join(KANSAS_CITY_ROLES),
        "sensor": "Sentinel-2 MSI L2A via EO Browser (Raw, 16-bit), Kansas City MO",
        "scaling": "surface reflectance x 65535, uint16 (EO Browser 'Raw' 16-bit TIFF)",
        "source": f"github.com/{KANSAS_CITY_REPO}@{KANSAS_CITY_COMMIT} data/",
        "licence": "none stated (read from the mirror, not redistributed); Copernicus Sentinel data",
    }
    return base.Scene(image, labels, transform, crs, None, ("",) * 4, meta, notes)


def export_band_files(folder: Path) -> Path:
    """The scene's four EO Browser band files, as downloaded, in `folder` (from the mirror)."""
    from . import extra_scenes as base

    mirror = base.mirror_path(KANSAS_CITY_REPO, "SPEX_KANSAS_CITY_MIRROR")
    folder.mkdir(parents=True, exist_ok=True)
    base.write_pinned(folder, mirror, KANSAS_CITY_COMMIT, KANSAS_CITY_BAND_FILES)
    return folder


KANSAS_CITY_BUILDERS = {"cmartin58_s2_kansascity": build_cmartin58_s2_kansascity}
