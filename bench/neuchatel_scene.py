"""A scene added in stop 70, after every rule of the spectral backend was set, and scored before
anything was done with it (registered by ``bench/extra_scenes.py``; same format and rules as its
scenes).

``chikaj_s2_neuchatel``: a Sentinel-2 L2A subscene of the western shore of Lake Neuchatel
(Concise and Vaumarcus, Switzerland) as a WEkEO notebook ships it (four bands, blue, green, red,
NIR, without names; 16-bit digital numbers that start above 1000: processing baseline 04.00's
offset, not removed), with 55 points a person placed on forest, two kinds of grassland, deep
lake and sediment-laden lake, from chikaj/wekeo_competition_2022 (MIT). No built-up label: it
tests water (clear and turbid) and vegetation, and forest against grassland.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .extra_scenes import Scene

NEUCHATEL_REPO = "chikaj/wekeo_competition_2022"
NEUCHATEL_COMMIT = "64fb473c3fb2672f1767e8841e2f4c2db0899c0d"
NEUCHATEL_FILES = {
    "data/concise.tif": "0e0fd3f01499704df3639c82ea36269ecf3f8b6f0a088acfb31b1542c2585e91",
    "data/training.shp": "f972aadccd3e151ceae0cd38db79de60ba29d90c1dc133f8ae8956e82cc7d9dd",
    "data/training.shx": "6144c3949bfb6c5867565fef9372e42a7338c0e4c3e0a9412768570add58cf9c",
    "data/training.dbf": "74a41f58c58319a841a14eea8c3735aa8afc3c9bfabd8c8b0101bd2e5c755c91",
    "data/training.prj": "10a2674d7bc43a70df19daf98d0b1deb3f5222f03659e1b4d82b395c20177cb9",
}
#: The raster's bands, as the notebook names them.
NEUCHATEL_ROLES = ("blue", "green", "red", "nir")
#: The points' "land_cover" -> (benchmark code, tree cover: 1 tree, 0 other labelled).
NEUCHATEL_CODES = {
    "lake-deep": (1, 0),
    "lake-sediment": (1, 0),
    "forest": (2, 1),
    "grassland-green": (2, 0),
    "grassland-light": (2, 0),
}


def build_chikaj_s2_neuchatel(work: Path, downloads: Path) -> Scene:
    """The WEkEO notebook's Sentinel-2 subscene of Lake Neuchatel with its 55 labelled points."""
    del downloads  # from a git mirror only
    from . import extra_scenes as base
    from . import tree_labels

    mirror = base.mirror_path(NEUCHATEL_REPO, "SPEX_NEUCHATEL_MIRROR")
    base.write_pinned(work, mirror, NEUCHATEL_COMMIT, NEUCHATEL_FILES)
    image, transform, crs = base.read_stack(work / "concise.tif", len(NEUCHATEL_ROLES), "uint16")
    labels = np.zeros(image.shape[1:], dtype=np.uint8)
    trees = np.full(labels.shape, tree_labels.UNKNOWN, dtype=np.uint8)
    found = base._ogr_features(work / "training.shp")
    points = [(*_first_point(geom), NEUCHATEL_CODES[a["land_cover"]][0]) for a, geom in found]
    burnt = base._burn_points(labels, transform, points)
    for p in burnt:  # in order: the last point on a pixel labels it
        trees[p.row, p.col] = NEUCHATEL_CODES[found[p.index][0]["land_cover"]][1]
    counts = {name: sum(a["land_cover"] == name for a, _ in found) for name in NEUCHATEL_CODES}
    lows = ", ".join(f"{int(band.min())}" for band in image)
    notes = f"""Source: GitHub {NEUCHATEL_REPO}, commit {NEUCHATEL_COMMIT} (2023-07-13), MIT licence
(LICENSE); files data/concise.tif and data/training.shp (with .shx, .dbf, .prj), a WEkEO Jupyter notebook
competition entry (GEOBIA of the Concise / Vaumarcus shore). Copernicus Sentinel data (free and open).

Sensor: Sentinel-2 MSI Level-2A (so the notebook says; its WEkEO viewer link is dated 2022-09-04), four bands,
blue, green, red, NIR (B02, B03, B04, B08 by the notebook's names and order), 16-bit digital numbers without
band names, {image.shape[2]} x {image.shape[1]} pixels of 10 m, EPSG:32632, the western shore of Lake
Neuchatel (46.84-46.88 N, 6.70-6.77 E): the lake (deep and sediment-laden), forest, fields and small
villages. The notebook divides by 10000; every band's minimum is above 1000 ({lows}): processing baseline
04.00's +1000, kept in the values.

Labels: {len(found)} points placed by hand (field "land_cover": lake-deep {counts["lake-deep"]}, lake-sediment
{counts["lake-sediment"]}, forest {counts["forest"]}, grassland-green {counts["grassland-green"]},
grassland-light {counts["grassland-light"]}), one pixel each ({len(burnt)} on the grid). Mapping: both lake
classes -> 1 water; forest and both grasslands -> 2 vegetation; trees.tif: forest 1, the others 0. Caveats:
few labels; no built-up, bare soil or other class, so vegetation is scored against water alone and water
against vegetation; "grassland-light" may be cut or dry fields."""
    meta = {
        "bands": ",".join(NEUCHATEL_ROLES),
        "sensor": "Sentinel-2 MSI L2A, 4 bands (DN with baseline 04.00's +1000), Lake Neuchatel",
        "scaling": "(DN - 1000) / 10000, uint16 (as the product stores it; not stated by the source)",
        "source": f"github.com/{NEUCHATEL_REPO}@{NEUCHATEL_COMMIT} data/",
        "licence": "MIT (the repository); Copernicus Sentinel data",
    }
    trees = tree_labels.only_labelled(trees, labels)
    return base.Scene(image, labels, transform, crs, None, ("",) * 4, meta, notes, trees=trees)


def _first_point(geometry: dict) -> tuple[float, float]:
    """A point's (x, y), or a one-point multipoint's (QGIS writes points so)."""
    coordinates = geometry["coordinates"]
    return tuple((coordinates[0] if geometry["type"] == "MultiPoint" else coordinates)[:2])


NEUCHATEL_BUILDERS = {"chikaj_s2_neuchatel": build_chikaj_s2_neuchatel}
