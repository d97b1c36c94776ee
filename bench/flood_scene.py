"""A hand-labelled flood chip for the quality benchmark: Sen1Floods11's sample, Spain 2019.

``sen1floods11_s2_spain``: the one Sentinel-2 chip with hand labels that the Sen1Floods11
repository ships (``sample/``): 512 x 512 pixels, all 13 L1C bands, EPSG:4326, flooded fields and
a river. Built by ``bench/extra_scenes.py`` like its other scenes (same format, same rules:
pinned by sha256, skipped with one line when the mirror is absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from .extra_scenes import NODATA_LABEL, Scene, _git_blob, mirror_path

SEN1FLOODS11_REPO = "cloudtostreet/Sen1Floods11"
SEN1FLOODS11_COMMIT = "b9e460dabe70230111a3c3d36cd0c5ce03606ee9"
SEN1FLOODS11_FILES = {
    "sample/S2/Spain_7370579_S2Hand.tif": (
        "16e997e6a7159fa11160faf00591da763eb37ac82faf806f7fe733991944a048"
    ),
    "sample/Labels/Spain_7370579_LabelHand.tif": (
        "b81224e01540b262faffd82cb42762c3c77df2ba084a5fb82d49bae421dd12d4"
    ),
}


def sen1floods11_mirror() -> Path:
    """Where the Sen1Floods11 repository's bare mirror is looked for."""
    return mirror_path(SEN1FLOODS11_REPO, "SPEX_SEN1FLOODS11_MIRROR")


def build_sen1floods11_s2_spain(work: Path, downloads: Path) -> Scene:
    """The Spain 2019 flood chip (Sentinel-2 L1C) with its hand-labelled water."""
    del downloads  # from a git mirror only
    mirror = sen1floods11_mirror()
    paths = {}
    for path, sha in SEN1FLOODS11_FILES.items():
        paths[path] = work / Path(path).name
        paths[path].write_bytes(_git_blob(mirror, SEN1FLOODS11_COMMIT, path, sha))
    image_path, label_path = paths.values()
    with rasterio.open(image_path) as src:
        image, transform, crs = src.read(), src.transform, src.crs
        descriptions = src.descriptions
    with rasterio.open(label_path) as src:
        hand = src.read(1)
    # Hand labels: 1 water, 0 not water (every other cover), -1 not valid.
    labels = np.where(hand == 1, 1, np.where(hand == 0, 7, NODATA_LABEL)).astype(np.uint8)
    labels[np.all(image == 0, axis=0)] = NODATA_LABEL
    notes = f"""Source: GitHub {SEN1FLOODS11_REPO}, commit {SEN1FLOODS11_COMMIT} (2021-04-09); the
repository has no LICENSE file, the dataset is published under CC BY 4.0 (Bonafilia et al. 2020,
"Sen1Floods11: a georeferenced dataset to train and test deep learning flood algorithms for
Sentinel-1", CVPR Workshops). Files: sample/S2/Spain_7370579_S2Hand.tif (512 x 512, 13 bands int16,
nodata 0, EPSG:4326, 1/11132 degree pixels, about 10 m) and sample/Labels/Spain_7370579_LabelHand.tif
(int16: -1 not valid, 0 not water, 1 water), added in commit 47301ae (2020-10-16).

Sensor: Sentinel-2 MSI Level-1C (top-of-atmosphere reflectance x 10000), 2019-09-18 (the repository's
event metadata: Spain, S1 2019-09-17, S2 2019-09-18), the September 2019 flood of the Vega Baja del
Segura (Alicante; the chip spans 38.08-38.13 N, 0.74-0.78 W).
All 13 bands in the L1C order B1, B2, B3, B4, B5, B6, B7, B8, B8A, B9, B10, B11, B12 (README).

Labels: the chip's hand labels (drawn on the Sentinel-2 image by the dataset's analysts). Mapping:
1 water -> 1; 0 not water -> 7 other labelled; -1 -> 255 nodata. Caveats: water includes flooded
fields (shallow, turbid, some with plants) and the Segura, two to four pixels wide; "not water" is
every other cover, so only water is scored. One chip of one event: a flood scene, not a sample of
floods."""
    # No band roles: the engine detects the L1C bands and scaling from the 13 band names, as it
    # does for an analyst who opens the chip.
    meta = {
        "sensor": "Sentinel-2 MSI Level-1C, 2019-09-18, flood of the Vega Baja (Sen1Floods11)",
        "scaling": "top-of-atmosphere reflectance x 10000 (int16, nodata 0)",
        "source": f"github.com/{SEN1FLOODS11_REPO}@{SEN1FLOODS11_COMMIT} sample/",
        "licence": "CC BY 4.0 (Sen1Floods11 dataset); Copernicus Sentinel data 2019",
    }
    return Scene(image, labels, transform, crs, 0, descriptions, meta, notes)
