"""`spex models add MODEL.onnx --metadata sidecar.json`: a model that carries its metadata.

The sidecar is a JSON object with the metadata keys (`class_names`, `bands`, `tile_size`,
`tiles_overlap`, `standardization_mean/std`, `resolution`, `seg_thresh`, ...). The copy is
written by rewriting the file's top-level protobuf fields as a stream (the graph is copied in
chunks, never parsed, so no `onnx` package is needed): metadata entries the sidecar names are
replaced, the others kept. The copy is checked by opening it as the onnx backend would, then
moved into the model cache and registered under its name; `--model NAME` finds it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from ...errors import BackendError, InputError

METADATA_FIELD = 14  # ModelProto.metadata_props
CHUNK = 1 << 20


def read_sidecar(path: str | Path) -> dict[str, str]:
    """The sidecar's keys and values as metadata strings (non-strings written as JSON)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"Cannot read the metadata file {path}: {exc.strerror}.") from exc
    except ValueError as exc:
        raise InputError(f"The metadata file {path} is not JSON ({exc}); fix it.") from exc
    if not isinstance(data, dict) or not data:
        raise InputError(
            f"The metadata file {path} must be a JSON object of metadata keys, e.g. "
            '{"class_names": {"0": "background", "1": "water"}}.'
        )
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(stream: BinaryIO) -> int | None:
    shift = result = 0
    while True:
        byte = stream.read(1)
        if not byte:
            return None if shift == 0 else result
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return result
        shift += 7


def _entry(key: str, value: str) -> bytes:
    """One `metadata_props` field: StringStringEntryProto {1: key, 2: value}."""
    k, v = key.encode("utf-8"), value.encode("utf-8")
    body = b"\x0a" + _varint_bytes(len(k)) + k + b"\x12" + _varint_bytes(len(v)) + v
    return _varint_bytes(METADATA_FIELD << 3 | 2) + _varint_bytes(len(body)) + body


def _entry_key(payload: bytes) -> str:
    import io

    stream = io.BytesIO(payload)
    while (key := _read_varint(stream)) is not None:
        length = _read_varint(stream) if key & 7 == 2 else 0
        data = stream.read(length or 0)
        if key >> 3 == 1:
            return data.decode("utf-8", "replace")
    return ""


def write_with_metadata(src: Path, dst: Path, metadata: Mapping[str, str]) -> None:
    """Copy ONNX file `src` to `dst` with `metadata` entries set (others kept)."""
    with src.open("rb") as inp, dst.open("wb") as out:
        while (key := _read_varint(inp)) is not None:
            number, wire = key >> 3, key & 7
            if wire == 0:
                out.write(_varint_bytes(key) + _varint_bytes(_read_varint(inp) or 0))
            elif wire in (1, 5):
                out.write(_varint_bytes(key) + inp.read(8 if wire == 1 else 4))
            elif wire == 2:
                length = _read_varint(inp) or 0
                if number == METADATA_FIELD:
                    payload = inp.read(length)
                    if _entry_key(payload) not in metadata:
                        out.write(_varint_bytes(key) + _varint_bytes(length) + payload)
                    continue
                out.write(_varint_bytes(key) + _varint_bytes(length))
                left = length
                while left:
                    block = inp.read(min(CHUNK, left))
                    if not block:
                        raise BackendError(f"{src.name} is truncated; re-download or re-export it.")
                    out.write(block)
                    left -= len(block)
            else:
                raise BackendError(f"{src.name} is not an ONNX model; give a .onnx file.")
        for k, v in metadata.items():
            out.write(_entry(k, v))


def add_onnx_model(
    model: str | Path, metadata: str | Path | None, name: str | None, cache: Path | None = None
) -> Path:
    """Write `model` with the sidecar's metadata into the model cache as NAME/NAME.onnx,
    check that the onnx backend can run it, register it, and return its path."""
    from ..spex.download import _check_name, model_cache_dir, register_model
    from .backend import OnnxBackend
    from .metadata import read_header

    src = Path(model).expanduser()
    read_header(src)  # one line for a missing or non-ONNX file
    name = name or src.stem
    _check_name(name)
    entries = read_sidecar(metadata) if metadata else {}
    cache = cache or model_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=cache))
    try:
        target = staging / f"{name}.onnx"
        write_with_metadata(src, target, entries)
        OnnxBackend(model=target, provider="cpu", threads=1)  # the same checks as a run
        dest = cache / name
        if dest.exists():
            shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
        os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    path = dest / f"{name}.onnx"
    register_model(name, path, f"added from {src.absolute()}", cache=cache)
    return path
