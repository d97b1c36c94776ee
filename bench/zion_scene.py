"""A held-out arid scene for the quality benchmark: Landsat 8 of Zion National Park with NLCD 2011.

``spdatalarge_l8_zion``: the four Landsat 8 OLI band files (blue, green, red, NIR; Level-1
digital numbers) that the R package spDataLarge shipped until June 2018, with the package's
National Land Cover Database 2011 raster as labels. Canyon country (Utah): sandstone, pinyon-
juniper woodland, desert scrub, the Virgin River and the town of Springdale, a land cover no
other scene of the benchmark has. Added in stop 41 and measured before any choice was made on
it. Built by ``bench/extra_scenes.py`` like its other scenes (pinned by sha256, skipped with one
line when the mirror is absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.warp import Resampling, reproject

from .extra_scenes import NODATA_LABEL, Scene, _git_blob, mirror_path

SPDATALARGE_REPO = "Nowosad/spDataLarge"
#: The last commit with the per-band Landsat files (removed by the next one, 2018-06-12).
SPDATALARGE_COMMIT = "840fa251efab6405438c73b8c9722b469fa717af"
BAND_FILES = {
    "B2": ("inst/raster/landsat_b2.tif", "0f4ac0798411c99187b4595bd2068ed9d85f82f75d9ee3dc3c8a5191c7c8bea6"),
    "B3": ("inst/raster/landsat_b3.tif", "88751ab9faa4b025bc25fb953abea70bd5a13fa18d5f13e19a693f69bd8b80dd"),
    "B4": ("inst/raster/landsat_b4.tif", "7b7b1954d756a1af412bdaa4dad387c2088f83a5940faa6a80378cd9cf4f025a"),
    "B5": ("inst/raster/landsat_b5.tif", "ed18c36c1c24f7abb7220532d3678b53ef4c0a60b590eaccf0b2a7d8b60c14b8"),
}  # fmt: skip
NLCD_FILE = (
    "inst/raster/nlcd2011.tif",
    "cdeb1894b9b0938a9df040aa8b150ba8329a78e1fd43f596e2289d63aeb915da",
)
#: NLCD 2011 classes to the benchmark's codes, as Raleigh's land cover is mapped (forest, shrub
#: and herbaceous are vegetation). "Developed, open space" (21: less than 20 % impervious,
#: mostly lawn and roadside) is neither built-up nor vegetation: 7.
NLCD_CODES = {
    11: 1, 12: 5, 21: 7, 22: 3, 23: 3, 24: 3, 31: 4, 41: 2, 42: 2, 43: 2, 52: 2, 71: 2,
    81: 2, 82: 2, 90: 2, 95: 2,
}  # fmt: skip
IMAGE_NODATA = 65535


def spdatalarge_mirror() -> Path:
    """Where the spDataLarge repository's bare mirror is looked for."""
    return mirror_path(SPDATALARGE_REPO, "SPEX_SPDATALARGE_MIRROR")


#: A label is kept where at least this many of its eight neighbours share it (a 3 x 3 majority).
#: All eight would leave 80 built-up pixels of 3,724: the town's developed land is mostly
#: roads and lots one or two pixels wide.
MIN_SAME_NEIGHBOURS = 5


def _inside_patches(codes: np.ndarray) -> np.ndarray:
    """Whether at least `MIN_SAME_NEIGHBOURS` of each pixel's eight neighbours have its code
    (edges: False). A land-cover map drawn on another grid, four years before the image, is
    trusted inside its patches, not at their edges."""
    height, width = codes.shape
    core = codes[1:-1, 1:-1]
    same = np.zeros(core.shape, dtype=np.int8)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                same += codes[1 + dy : height - 1 + dy, 1 + dx : width - 1 + dx] == core
    out = np.zeros(codes.shape, dtype=bool)
    out[1:-1, 1:-1] = same >= MIN_SAME_NEIGHBOURS
    return out


def build_spdatalarge_l8_zion(work: Path, downloads: Path) -> Scene:
    """Zion's Landsat 8 bands (digital numbers) with NLCD 2011 on their grid."""
    del downloads  # from a git mirror only
    mirror = spdatalarge_mirror()
    bands = []
    for name, (path, sha) in BAND_FILES.items():
        local = work / f"{name}.tif"
        local.write_bytes(_git_blob(mirror, SPDATALARGE_COMMIT, path, sha))
        with rasterio.open(local) as src:
            bands.append(src.read(1))
            transform, crs, shape = src.transform, src.crs, src.shape
    image = np.stack(bands)
    nlcd_path = work / "nlcd2011.tif"
    nlcd_path.write_bytes(_git_blob(mirror, SPDATALARGE_COMMIT, *NLCD_FILE))
    nlcd = np.zeros(shape, dtype=np.uint8)
    with rasterio.open(nlcd_path) as src:
        reproject(
            rasterio.band(src, 1), nlcd, dst_transform=transform, dst_crs=crs,
            dst_nodata=0, resampling=Resampling.nearest,
        )  # fmt: skip
    codes = np.zeros(shape, dtype=np.uint8)
    for nlcd_class, code in NLCD_CODES.items():
        codes[nlcd == nlcd_class] = code
    labels = np.where(_inside_patches(codes), codes, 0).astype(np.uint8)
    labels[np.any(image == IMAGE_NODATA, axis=0)] = NODATA_LABEL
    notes = f"""Source: GitHub {SPDATALARGE_REPO} (the R package spDataLarge), commit {SPDATALARGE_COMMIT}
(2018-06-12, the last with the per-band files), licence CC0 (DESCRIPTION). Files: inst/raster/landsat_b2.tif ...
landsat_b5.tif (1128 x 1428, uint16, nodata 65535, EPSG:32612, 30 m) and inst/raster/nlcd2011.tif (NLCD 2011
land cover, uint8 NLCD codes, warped by the package to UTM 12 at 31.5 m).

Sensor: Landsat 8 OLI Level-1 (LC80380342015230LGN00: path 38, row 34, 2015-08-18), bands 2-5 (blue, green, red,
NIR) as the package cropped them from the AWS Landsat archive: digital numbers (about 7,500-25,000), no MTL file,
so not reflectance. Zion National Park, Utah: sandstone cliffs and canyons, pinyon-juniper woodland, desert scrub,
the Virgin River, and the town of Springdale. No SWIR band.

Labels: NLCD 2011 (USGS; a 30 m land-cover map from 2011 imagery, not drawn on this image), nearest-neighbour on
the Landsat grid, kept only where at least five of a pixel's eight neighbours have its code (inside patches: the map's other grid,
its own errors and four years of change sit at the edges). Mapping: 11 open water -> 1; 22-24 developed, low to
high intensity (20-100 % impervious) -> 3 built-up; 21 developed, open space (under 20 % impervious) -> 7 other;
31 barren (rock, sand, clay) -> 4 bare soil; 41-43 forest, 52 shrub/scrub, 71 grassland/herbaceous, 81-82
pasture and crops, 90 and 95 wetlands -> 2 vegetation (as Raleigh's land cover is mapped). Caveats: in this arid
land, forest (pinyon-juniper) and shrub/scrub are sparse canopies over rock and soil, so "vegetation" here is
partly what the spectra call bare; built-up is a few hundred pixels of a small town and park facilities."""
    meta = {
        "bands": "blue,green,red,nir",
        "sensor": "Landsat 8 OLI level-1 DN, 2015-08-18, path 38 row 34 (Zion National Park, Utah)",
        "scaling": "16-bit digital numbers (uint16, nodata 65535), not reflectance; no MTL file",
        "source": f"github.com/{SPDATALARGE_REPO}@{SPDATALARGE_COMMIT} inst/raster/",
        "licence": "CC0 (spDataLarge); Landsat and NLCD public domain (USGS)",
    }
    return Scene(image, labels, transform, crs, IMAGE_NODATA, tuple(BAND_FILES), meta, notes)
