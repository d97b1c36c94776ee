"""A minimal reader of R's serialisation format (.rds), enough for the benchmark's R packages.

It reads what ``saveRDS`` writes for the scenes of ``bench/more_scenes.py``: a terra
``PackedSpatRaster`` (``packed_spatraster``) and an sf data frame of polygons (``sf_polygons``),
gzip, bzip2 or xz compressed. The ``rdata`` package would need pandas and xarray, which are not
dependencies; this reader's output was checked equal to ``rdata``'s.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import struct
from dataclasses import dataclass, field

import numpy as np


class RdsError(ValueError):
    """The file holds what this reader does not read."""


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
            raise RdsError("not an XDR-serialised R object")
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
            raise RdsError(f"R object type {kind} is not read here")
        return RObj(value, self._attrs(self.item()) if has_attr else {})

    @staticmethod
    def _altrep(kind: str, state: RObj) -> RObj:
        if kind in ("compact_intseq", "compact_realseq"):
            n, start, step = (float(v) for v in state.value[:3])
            return RObj(start + step * np.arange(int(n)))
        if kind.startswith("wrap_"):
            return state.value[0]
        raise RdsError(f"ALTREP class {kind} is not read here")


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
