"""Two scenes added in stop 67, after every rule of the spectral backend was set, and scored
before anything else was done with them: no choice was tuned on them (registered by
``bench/extra_scenes.py``; same format and rules as its scenes).

- ``geobench_naip_chesapeake``: five 256 x 256 patches of NAIP aerial imagery (1 m, blue, green,
  red, NIR, 8-bit counts) of the Chesapeake Bay watershed with the Chesapeake Conservancy's
  land cover (water, tree canopy, low vegetation, barren, impervious, roads), as
  ServiceNow/geo-bench's test data shipped them (HDF5, read through GDAL's HDF5 driver; the
  files' pickled attribute is never read). A sensor, resolution and radiometry (uncalibrated
  aerial counts) the benchmark did not have.
- ``zia207_s2_buffalo``: a Sentinel-2 L2A subscene of Buffalo (New York) with polygons of
  pavement, buildings, trees, grass and water rasterised on a 2.5 m grid, from the CSV files of
  zia207/Satellite-Images-Classification-with-Keras-R. A built-up scene with SWIR in
  calibrated reflectance, labelled by roofs and pavement, not by land use.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import Affine, from_origin

from . import tree_labels

if TYPE_CHECKING:
    from .extra_scenes import Scene


def _base() -> ModuleType:
    """``bench.extra_scenes``, imported when first needed (it imports this module)."""
    from . import extra_scenes

    return extra_scenes


# --- geo-bench's Chesapeake land cover test patches (NAIP) -----------------------------------

GEOBENCH_REPO = "ServiceNow/geo-bench"
#: The files left HEAD later (tests reorganised, 2023-08-28); this commit has them.
GEOBENCH_COMMIT = "a4021921fca10dc94169851bf074732fdf173234"
GEOBENCH_DIR = "tests/data_old/ccb-test-segmentation/cvpr_chesapeake_landcover/"
GEOBENCH_PATCHES = {
    "id_000051.hdf5": "e5526ed77b49e45fb4eb8cb630a0b43d764af419c6ea5725b02652a4cfcff410",
    "id_000138.hdf5": "97ec5f2b6cbb8ce3dcd9fbee471470699514b698c19cecdfb804dcdf8a035302",
    "id_000181.hdf5": "4300d81075ec294b121264ed9fcb6473ccc4073d875f654dfc94113fd1f02aab",
    "id_000184.hdf5": "aa513d1b0925209dd222a81a008f5fcdf5e3e96e8d53813480042f2d66784c45",
    "id_000367.hdf5": "0b58b1870590fdad47d565d063da06f26568bd3ed516d138412714869a66285e",
}
NAIP_BANDS = ("Blue", "Green", "Red", "NearInfrared")
#: Chesapeake land-cover values (the "lc" layer: 1 water, 2 tree canopy, 3 low vegetation,
#: 4 barren, 5 impervious other, 6 impervious roads) -> benchmark codes, and tree cover.
CHESAPEAKE_CODES = {1: 1, 2: 2, 3: 2, 4: 4, 5: 3, 6: 3}
CHESAPEAKE_TREES = {1: 0, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0}
#: Patches are placed side by side; labels this close to a seam are left out, so that the
#: smoothing's window (a few pixels) never scores a pixel by another patch's neighbours.
SEAM = 8


def _naip_patch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(4, 256, 256) uint8 counts and (256, 256) land-cover values of one patch file."""
    import rasterio

    bands = []
    for name in (*NAIP_BANDS, "label"):
        with rasterio.open(f"HDF5:{path}://{name}") as src:
            bands.append(src.read(1))
    counts = np.stack(bands[:4]).astype(np.float64) * 255.0
    if np.abs(counts - np.round(counts)).max() > 1e-3:
        raise _base().SourceUnavailableError(f"{path.name}: values are not 8-bit counts / 255")
    return np.round(counts).astype(np.uint8), bands[4]


def build_geobench_naip_chesapeake(work: Path, downloads: Path) -> Scene:
    """geo-bench's five Chesapeake test patches side by side, with their land cover."""
    del downloads  # from a git mirror only
    base = _base()
    mirror = base.mirror_path(GEOBENCH_REPO, "SPEX_GEOBENCH_MIRROR")
    images, covers = [], []
    for name, sha in GEOBENCH_PATCHES.items():
        (work / name).write_bytes(base._git_blob(mirror, GEOBENCH_COMMIT, GEOBENCH_DIR + name, sha))
        image, cover = _naip_patch(work / name)
        images.append(image)
        covers.append(cover)
    image, cover = np.concatenate(images, axis=2), np.concatenate(covers, axis=1)
    labels = np.zeros(cover.shape, dtype=np.uint8)
    for value, code in CHESAPEAKE_CODES.items():
        labels[cover == value] = code
    width = images[0].shape[2]
    for seam in range(width, cover.shape[1], width):
        labels[:, seam - SEAM : seam + SEAM] = 0
    trees = tree_labels.only_labelled(tree_labels.lookup(cover, CHESAPEAKE_TREES), labels)
    counts = {v: int(np.count_nonzero((cover == v) & (labels > 0))) for v in CHESAPEAKE_CODES}
    notes = f"""Source: GitHub {GEOBENCH_REPO} (GEO-Bench), commit {GEOBENCH_COMMIT} (2023-08-21), Apache-2.0
(LICENSE); files {GEOBENCH_DIR}{{{", ".join(GEOBENCH_PATCHES)}}} (HDF5, 1.58 MB each; moved and
later removed from the tests in 2023-08-28's reorganisation). Test patches of the package's
"cvpr_chesapeake_landcover" task, converted by make_benchmark/dataset_converters/chesapeake_land_cover.py
from TorchGeo's ChesapeakeCVPR (Robinson et al., CVPR 2019: NAIP 2013/2014 imagery and the
Chesapeake Conservancy's 1 m land cover). Each file holds the datasets Blue, Green, Red,
NearInfrared (float32, 256 x 256) and label (int64), and a pickled attribute, not read. The
converter writes no georeferencing ("transform = None"): the patches' places are not recorded.

Sensor: NAIP (USDA National Agriculture Imagery Program) aerial orthophotographs, 1 m, four
bands; the files store the 8-bit counts divided by 255 (every value x 255 is an integer).
image.tif stores them as those counts (uint8), as NAIP is distributed: uncalibrated digital
numbers, with bright surfaces saturated (the barren sand at 245-255 in every band). The five
patches are placed side by side ({", ".join(p[3:9] for p in GEOBENCH_PATCHES)}, left to right) on a
local pixel grid (no CRS); labels within {SEAM} pixels of a seam are left unlabelled.

Labels: the patches' land cover, whose values follow the Chesapeake "lc" legend (1 water,
2 tree canopy, 3 low vegetation, 4 barren, 5 impervious other, 6 impervious roads), which the
spectra confirm (water dark in NIR, tree canopy the darkest visible with high NIR, barren the
brightest); the converter's own list of names is shifted by one and is not used. Mapping:
water ({counts[1]}) -> 1; tree canopy ({counts[2]}), low vegetation ({counts[3]}) -> 2
vegetation; barren ({counts[4]}) -> 4 bare soil; impervious other ({counts[5]}), roads
({counts[6]}) -> 3 built-up. Caveats: five patches of unknown places and dates; one patch
(181) is open water whose NIR counts are all 0; the low vegetation of the two shore patches
(51, 367) has NDVI about 0.05 on the counts (sparse dune grass over sand)."""
    meta = {
        "sensor": "NAIP aerial 1 m, blue green red NIR, 8-bit counts (geo-bench Chesapeake test patches)",
        "scaling": "uncalibrated 8-bit digital numbers",
        "source": f"github.com/{GEOBENCH_REPO}@{GEOBENCH_COMMIT} {GEOBENCH_DIR}",
        "licence": "Apache-2.0 (geo-bench); NAIP public domain; Chesapeake Conservancy land cover",
    }
    return base.Scene(image, labels, Affine.identity(), None, None, NAIP_BANDS, meta, notes,
                      trees=trees)  # fmt: skip


# --- zia207's Sentinel-2 L2A of Buffalo with polygons of urban cover ------------------------

ZIA_REPO = "zia207/Satellite-Images-Classification-with-Keras-R"
ZIA_COMMIT = "3afdfedab8e92e183d3f0b7750102364138fa3b4"
ZIA_FILES = {
    "grid_data.csv": "40abb855e7733c6da461202205d22cea673bf8fee37cc061f53d03b2a5a1345d",
    "point_data.csv": "381be8f38d141efe7d676c156699227a3c4fb2faaac4b0deb3b44229ff851139",
}
S2_BANDS = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12")
#: The points' Description -> benchmark code, and tree cover.
ZIA_CODES = {"Parking/road/pavement": 3, "Building": 3, "Tree/bushes": 2, "Grass": 2, "Water": 1}
ZIA_TREES = {"Parking/road/pavement": 0, "Building": 0, "Tree/bushes": 1, "Grass": 0, "Water": 0}
#: A 10 m pixel is labelled where at least this many of the 16 points of the 2.5 m grid inside
#: it carry one class (and no point another): its centre lies in that class's polygon.
ZIA_MIN_POINTS = 8
ZIA_PIXEL = 10.0


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def build_zia207_s2_buffalo(work: Path, downloads: Path) -> Scene:
    """zia207's Sentinel-2 grid of Buffalo with its polygons' points, as a raster and labels."""
    del work, downloads  # from a git mirror only, read in memory
    base = _base()
    mirror = base.mirror_path(ZIA_REPO, "SPEX_ZIA207_MIRROR")
    grid = _csv_rows(
        base._git_blob(mirror, ZIA_COMMIT, "grid_data.csv", ZIA_FILES["grid_data.csv"])
    )
    points = _csv_rows(
        base._git_blob(mirror, ZIA_COMMIT, "point_data.csv", ZIA_FILES["point_data.csv"])
    )
    xs = np.array([float(r["x"]) for r in grid])
    ys = np.array([float(r["y"]) for r in grid])
    cols = np.round((xs - xs.min()) / ZIA_PIXEL).astype(int)
    rows = np.round((ys.max() - ys) / ZIA_PIXEL).astype(int)
    shape = (int(rows.max()) + 1, int(cols.max()) + 1)
    if len(grid) != shape[0] * shape[1]:
        raise base.SourceUnavailableError(f"grid_data.csv is not a full grid ({len(grid)} rows)")
    image = np.zeros((len(S2_BANDS), *shape), dtype=np.uint16)
    for b, band in enumerate(S2_BANDS):
        image[b, rows, cols] = [int(r[band]) for r in grid]
    transform = from_origin(
        xs.min() - ZIA_PIXEL / 2, ys.max() + ZIA_PIXEL / 2, ZIA_PIXEL, ZIA_PIXEL
    )
    classes = list(ZIA_CODES)
    votes = np.zeros((len(classes), *shape), dtype=np.int32)
    matched = 0
    for p in points:
        col = int(np.floor((float(p["x"]) - transform.c) / ZIA_PIXEL))
        row = int(np.floor((transform.f - float(p["y"])) / ZIA_PIXEL))
        if not (0 <= row < shape[0] and 0 <= col < shape[1]):
            continue
        votes[classes.index(p["Description"]), row, col] += 1
        matched += all(int(p[b]) == image[i, row, col] for i, b in enumerate(S2_BANDS))
    labels = np.zeros(shape, dtype=np.uint8)
    trees = np.full(shape, tree_labels.UNKNOWN, dtype=np.uint8)
    single = np.count_nonzero(votes, axis=0) == 1
    for k, cls in enumerate(classes):
        chosen = single & (votes[k] >= ZIA_MIN_POINTS)
        labels[chosen] = ZIA_CODES[cls]
        trees[chosen] = ZIA_TREES[cls]
    mixed = int(np.count_nonzero(np.count_nonzero(votes, axis=0) > 1))
    counts = {c: int(np.count_nonzero(single & (votes[k] >= ZIA_MIN_POINTS)))
              for k, c in enumerate(classes)}  # fmt: skip
    copies = bool(np.array_equal(image[S2_BANDS.index("B6")], image[S2_BANDS.index("B7")]))
    notes = f"""Source: GitHub {ZIA_REPO}, commit {ZIA_COMMIT} (2018-05-10), files grid_data.csv
(x, y, ID and the bands {", ".join(S2_BANDS)} of {len(grid)} pixels) and point_data.csv ({len(points)}
points: x, y, the same bands, Class_ID, Class, Description), the data of the author's tutorial
"Deep Neural Network with keras-R: Satellite-Image Classification" (Zia Ahmed, University at
Buffalo, 2018). The repository carries no licence: the scene is read at set-up from the mirror,
never committed or redistributed; Copernicus Sentinel data (free and open).

Sensor: Sentinel-2 MSI Level-2A (Sen2Cor surface reflectance x 10000, no offset: processing
before baseline 04.00), 2017, Buffalo (New York, USA): city blocks, parking lots, parks, trees
and the Niagara river's edge. The grid is a full {shape[1]} x {shape[0]} raster of 10 m pixels
(x, y their centres); the CRS, not in the files, is WGS 84 / UTM 17N (the author's processing
script, zia207/Sentinel--2-Data-Processing; the coordinates fall on Buffalo there). The 20 m
bands are resampled to 10 m by the author. B7 {"is an exact copy of B6 in every pixel (an upstream processing slip), kept as given" if copies else "differs from B6"}.

Labels: the points are the author's land-use polygons rasterised on a 2.5 m grid (16 points per
10 m pixel; a point's band values are those of its 10 m pixel for {matched} of {len(points)}).
A pixel is labelled where at least {ZIA_MIN_POINTS} of its points carry one class and none
another ({mixed} pixels have points of two classes and are left unlabelled). Mapping:
Parking/road/pavement ({counts["Parking/road/pavement"]}), Building ({counts["Building"]}) -> 3
built-up; Tree/bushes ({counts["Tree/bushes"]}), Grass ({counts["Grass"]}) -> 2 vegetation;
Water ({counts["Water"]}) -> 1. Caveats: no bare soil class; the polygons' origin (drawn on
aerial photographs or on the Sentinel-2 image) is not stated."""
    meta = {
        "sensor": "Sentinel-2 MSI L2A, 2017, Buffalo NY (zia207 keras-R tutorial data)",
        "scaling": "surface reflectance x 10000, uint16, no offset",
        "source": f"github.com/{ZIA_REPO}@{ZIA_COMMIT}",
        "licence": "none stated (read from the mirror, not redistributed); Copernicus Sentinel data",
    }
    trees = tree_labels.only_labelled(trees, labels)
    return base.Scene(image, labels, transform, CRS.from_epsg(32617), None, S2_BANDS, meta,
                      notes, trees=trees)  # fmt: skip


HELD_OUT_BUILDERS = {
    "geobench_naip_chesapeake": build_geobench_naip_chesapeake,
    "zia207_s2_buffalo": build_zia207_s2_buffalo,
}
