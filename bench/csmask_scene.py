"""A held-out Landsat 7 chip for the quality benchmark: ukis-csmask's manually labelled test scene.

``ukis_l7_csmask``: the Landsat 7 ETM+ chip that dlr-eoc/ukis-csmask ships beside the Landsat 5
and Sentinel-2 chips of the shared benchmark (``tests/testfiles/landsat7.npz``): 512 x 512
pixels, six bands of top-of-atmosphere reflectance, labelled cloud, cloud shadow, water and
land. Added in stop 56, after every rule of the spectral backend was set: no choice was tuned
on it. Built by ``bench/extra_scenes.py`` like its other scenes (pinned by sha256, skipped with
one line when the mirror is absent).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from rasterio.transform import Affine

from .extra_scenes import Scene, _git_blob, mirror_path

UKIS_REPO = "dlr-eoc/ukis-csmask"
UKIS_COMMIT = "e21f8b1ca4478ff114986ce15d0935520da4906a"
UKIS_L7 = "tests/testfiles/landsat7.npz"
UKIS_L7_SHA256 = "81cccaf46333d512a26580a1b5e12f2a7823634abe0c83d6973fda3ca2079299"
#: The reference mask's classes (0 cloud shadow, 1 water, 2 snow/ice, 3 land, 4 cloud) as
#: benchmark codes: shadow and land are "other labelled" (the land is not split).
UKIS_CODES = {0: 7, 1: 1, 2: 5, 3: 7, 4: 6}
DESCRIPTIONS = ("blue", "green", "red", "nir", "swir1", "swir2")


def build_ukis_l7_csmask(work: Path, downloads: Path) -> Scene:
    """ukis-csmask's Landsat 7 test chip with its reference cloud, shadow and water mask."""
    del work, downloads  # from a git mirror only, read in memory
    mirror = mirror_path(UKIS_REPO, "SPEX_UKIS_MIRROR")
    arrays = np.load(io.BytesIO(_git_blob(mirror, UKIS_COMMIT, UKIS_L7, UKIS_L7_SHA256)))
    image = np.ascontiguousarray(arrays["img"].transpose(2, 0, 1), dtype=np.float32)
    mask = arrays["msk"][..., 0]
    labels = np.zeros(mask.shape, dtype=np.uint8)
    for source, code in UKIS_CODES.items():
        labels[mask == source] = code
    counts = {int(c): int(n) for c, n in zip(*np.unique(mask, return_counts=True), strict=True)}
    notes = f"""Source: GitHub {UKIS_REPO}, commit {UKIS_COMMIT} (2021-01-15, "added testfiles and
tests for csmask"), Apache-2.0 licence. File: {UKIS_L7} (arrays img, 512 x 512 x 6 float32, and
msk, 512 x 512 x 1 uint8), the package's test chip for Landsat 7, beside the Landsat 5 and
Sentinel-2 chips of the shared benchmark (ukis_l5_csmask, ukis_s2_csmask).

Sensor: Landsat 7 ETM+, top-of-atmosphere reflectance in [0, 1] (float32, as the package
expects: min 0.002, max 0.916), bands Blue, Green, Red, NIR, SWIR16, SWIR22 in the package
tests' order. Scene, date and place are not given; no georeferencing, so image.tif and
labels.tif use a CRS-less identity transform (areas in pixels).

Labels: msk is the reference mask of the ukis-csmask reference data (Wieland, Li & Martinis
2019, RSE 230:111203; classes shadow, cloud, water, land, snow/ice, labelled by hand). The
order of classes 1-3 is not written in the repository: read as 1 water, 2 snow/ice, 3 land, as
for the other two chips, and the spectra agree (class 1: MNDWI median 0.40, SWIR1 0.05; class 3:
NDVI 0.21, SWIR1 0.32, arid land; class 0: dark in every band; class 4: bright). Source counts:
{counts}. Mapping: 4 cloud -> 6; 1 water -> 1; 2 snow/ice -> 5 (absent); 0 cloud shadow -> 7
other; 3 land -> 7 other (land is not split into vegetation, built-up or bare soil). Added after
the spectral backend's rules were set (stop 56): a held-out scene."""
    meta = {
        "sensor": "Landsat 7 ETM+ top-of-atmosphere reflectance (ukis-csmask test chip)",
        "scaling": "reflectance 0..1 (float32)",
        "source": f"github.com/{UKIS_REPO}@{UKIS_COMMIT} {UKIS_L7}",
        "licence": "Apache-2.0 (ukis-csmask); Landsat public domain (USGS)",
    }
    return Scene(image, labels, Affine.identity(), None, None, DESCRIPTIONS, meta, notes)
