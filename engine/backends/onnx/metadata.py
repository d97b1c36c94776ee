"""What an ONNX model file says about itself: versions, producer and `custom_metadata_map`.

The header is read straight from the protobuf (no `onnx` package needed, the graph is skipped
by seeking), so a model that the installed onnxruntime cannot load can still be described.
Segmentation metadata follows the keys Deepness-style models carry (`model_type`,
`class_names` or `names`, `resolution` in cm/px, `tile_size`, `tiles_overlap` in percent of the
tile, `standardization_mean`, `standardization_std`, `seg_thresh`, `seg_small_segment`); ours adds `bands` (one band role
per input channel), `scale`/`offset` (model input = reflectance x scale + offset, before
standardisation), `output_activation` (`softmax`, `sigmoid` or `none` for probabilities), and
for models trained with another tiling convention `tiles_padding` (`zero` or `mirror` past the
raster's edges) and `tiles_origin` (pixels the window grid starts before the raster's corner).
Values may be JSON (as Deepness writes them), Python literals (which Deepness also reads,
with `ast.literal_eval`: literals only, nothing is executed) or plain text.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ...errors import BackendError, BandError
from ...raster.bands import parse_roles

SEGMENTATION_TYPES = frozenset({"segmentor", "segmentation", "semantic_segmentation", "segmenter"})
ACTIVATIONS = ("auto", "softmax", "sigmoid", "none")
#: Past the raster's edges, windows hold zeros (the mean after standardisation) or its mirror.
PADDINGS = ("zero", "mirror")
DEFAULT_TILE = 512
#: Roles assumed for a 3-channel model without `bands`: the RGB order Deepness models expect.
RGB_ROLES = ("red", "green", "blue")
_BACKGROUND = frozenset({"background", "_background", "bg", "none", "other", "unlabeled", "void"})


@dataclass(frozen=True)
class ModelHeader:
    """The top-level facts of an ONNX file (everything except the graph)."""

    ir_version: int
    opsets: dict[str, int]
    producer: str
    producer_version: str
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def opset(self) -> int:
        """The default-domain (ai.onnx) opset."""
        return self.opsets.get("", self.opsets.get("ai.onnx", 0))


@dataclass(frozen=True)
class SegmentationMetadata:
    """How to feed a segmentation model and read its outputs.

    `outputs[o][k]` names class k of model output o: a K-channel output has K classes (its
    argmax), a 1-channel output has (background, the class) (its threshold); several outputs
    are several groups of classes decided side by side. `overlap` is in pixels;
    `mean`/`std` apply after `value = reflectance * scale + offset`; `small_segment` is
    Deepness's `seg_small_segment` (median filter size of the class map, 0: none).
    """

    outputs: tuple[tuple[str, ...], ...]
    bands: tuple[str, ...]
    tile_size: int
    overlap: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    scale: float = 1.0
    offset: float = 0.0
    resolution_cm: float | None = None
    threshold: float | None = None
    activation: str = "auto"
    model_type: str = "Segmentor"
    small_segment: int = 0
    padding: str = "zero"
    origin: int = 0

    @property
    def class_names(self) -> tuple[str, ...]:
        """Every output's class names, output after output."""
        return tuple(n for names in self.outputs for n in names)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the manifest and `spex models inspect`."""
        return {
            "model_type": self.model_type,
            "class_names": [list(names) for names in self.outputs],
            "bands": list(self.bands),
            "tile_size": self.tile_size,
            "overlap_px": self.overlap,
            "standardization_mean": list(self.mean),
            "standardization_std": list(self.std),
            "scale": self.scale,
            "offset": self.offset,
            "resolution_cm": self.resolution_cm,
            "seg_thresh": self.threshold,
            "seg_small_segment": self.small_segment,
            "tiles_padding": self.padding,
            "tiles_origin_px": self.origin,
            "output_activation": self.activation,
        }


# --- the protobuf header -----------------------------------------------------------------


def _varint(stream: BinaryIO) -> int | None:
    shift = result = 0
    while True:
        byte = stream.read(1)
        if not byte:
            return None
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return result
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """Top-level (number, value) pairs of a small protobuf message."""
    import io

    stream, out = io.BytesIO(data), []
    while (key := _varint(stream)) is not None:
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.append((number, _varint(stream) or 0))
        elif wire == 2:
            out.append((number, stream.read(_varint(stream) or 0)))
        elif wire in (1, 5):
            stream.read(8 if wire == 1 else 4)
        else:
            break
    return out


def read_header(path: str | Path) -> ModelHeader:
    """Read IR version, opsets, producer and metadata of an ONNX file without loading it."""
    path = Path(path)
    ir, opsets, producer, version, metadata = 0, {}, "", "", {}
    try:
        with path.open("rb") as stream:
            while (key := _varint(stream)) is not None:
                number, wire = key >> 3, key & 7
                if wire == 0:
                    value = _varint(stream) or 0
                    if number == 1:
                        ir = value
                    continue
                if wire in (1, 5):
                    stream.seek(8 if wire == 1 else 4, 1)
                    continue
                if wire != 2:
                    raise ValueError(f"wire type {wire}")
                length = _varint(stream) or 0
                if number not in (2, 3, 8, 14):  # the graph (7) and the rest: skipped
                    stream.seek(length, 1)
                    continue
                payload = stream.read(length)
                if number == 2:
                    producer = payload.decode("utf-8", "replace")
                elif number == 3:
                    version = payload.decode("utf-8", "replace")
                elif number == 8:
                    parts = dict(_fields(payload))
                    opsets[bytes(parts.get(1, b"")).decode()] = int(parts.get(2, 0))
                else:
                    parts = dict(_fields(payload))
                    k = bytes(parts.get(1, b"")).decode("utf-8", "replace")
                    metadata[k] = bytes(parts.get(2, b"")).decode("utf-8", "replace")
    except OSError as exc:
        raise BackendError(
            f"Cannot read the model {path}: {exc.strerror}; check the path."
        ) from exc
    except ValueError as exc:
        raise BackendError(
            f"{path.name} is not an ONNX model ({exc}); give a .onnx file or an exported folder."
        ) from exc
    if ir == 0:
        raise BackendError(
            f"{path.name} is not an ONNX model (no IR version); give a .onnx file or an "
            "exported SPEX folder."
        )
    return ModelHeader(ir, opsets, producer, version, metadata)


# --- segmentation metadata ---------------------------------------------------------------


def _value(raw: str) -> object:
    """JSON when it parses (Deepness writes json.dumps values), else a Python literal (Deepness
    reads `{0: 'a'}` with `ast.literal_eval`, which evaluates literals only), else the text."""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        pass
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return raw


def _number(meta: Mapping[str, str], key: str, name: str) -> float | None:
    if key not in meta:
        return None
    value = _value(meta[key])
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise BackendError(f"Model {name}: metadata '{key}' is {meta[key]!r}, not a number.")
    return number


def _floats(meta: Mapping[str, str], key: str, name: str) -> tuple[float, ...] | None:
    if key not in meta:
        return None
    value = _value(meta[key])
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    if isinstance(value, (int, float)):
        value = [value]
    try:
        out = tuple(float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        out = ()
    if not out or not all(math.isfinite(v) for v in out):
        raise BackendError(f"Model {name}: metadata '{key}' is {meta[key]!r}, not a number list.")
    return out


def _group(value: object, key: str, raw: str, name: str) -> list[str]:
    """One output's class names from a dict of consecutive ids, or a list of names."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value) and value:
        return [str(v) for v in value]
    if not isinstance(value, dict) or not value:
        raise BackendError(
            f"Model {name}: '{key}' is {raw!r}; give a dict of class ids to names, e.g. "
            '{"0": "background", "1": "water"}, or one such dict per output.'
        )
    try:
        items = sorted((int(k), str(v)) for k, v in value.items())
    except (TypeError, ValueError):
        items = []
    first = items[0][0] if items else -1
    if first not in (0, 1) or [k for k, _ in items] != list(range(first, first + len(items))):
        raise BackendError(
            f"Model {name}: '{key}' keys must be consecutive class ids from 0, got {raw!r}."
        )
    names = [v for _, v in items]
    return ["background", *names] if first == 1 else names


def class_groups(meta: Mapping[str, str], name: str) -> tuple[tuple[str, ...], ...] | None:
    """Class names per model output, read as Deepness reads them; None when there are none.

    `class_names` (or its alias `names`) is a dict of class ids to names, a list of such dicts
    (one per output), a list of names, or comma-separated names; JSON or a Python literal.
    Ids starting at 1 mean that channel 0 is the background.
    """
    key = next((k for k in ("class_names", "names") if k in meta), None)
    if key is None:
        return None
    value = _value(meta[key])
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value):
        return tuple(tuple(_group(v, key, meta[key], name)) for v in value)
    return (tuple(_group(value, key, meta[key], name)),)


def default_class_names(channels: Sequence[int | None], name: str) -> tuple[tuple[str, ...], ...]:
    """Deepness's names for a model without `class_names`: `channel 0`, `channel 1`, ... per
    output (`output 1 channel 0` ... when there are several); a 1-channel output's class 0 is
    what stays below the threshold, the background."""
    if any(c is None for c in channels):
        raise BackendError(
            f"Model {name} has no 'class_names' metadata and a dynamic channel count; add "
            'class_names, e.g. {"0": "background", "1": "water"}, with `spex models add MODEL '
            "--metadata sidecar.json` (see `spex models inspect`)."
        )
    groups = []
    for o, count in enumerate(channels):
        prefix = f"output {o} " if len(channels) > 1 else ""
        if count == 1:
            groups.append(("background", f"{prefix}channel 1"))
        else:
            groups.append(tuple(f"{prefix}channel {k}" for k in range(int(count or 0))))
    return tuple(groups)


def output_classes(
    groups: Sequence[Sequence[str]], channels: Sequence[int | None], name: str
) -> tuple[tuple[str, ...], ...]:
    """Each output's classes, indexed like its decision: a 1-channel output's classes are
    (background, the class), as Deepness names a sigmoid output; K channels name K classes."""
    if len(groups) < len(channels):
        raise BackendError(
            f"Model {name} has {len(channels)} outputs but 'class_names' names the classes of "
            f"{len(groups)}; give one dict of class names per output."
        )
    out = []
    for o, (names, count) in enumerate(zip(groups, channels, strict=False)):
        where = f"output {o}" if len(channels) > 1 else "its output"
        names = tuple(names)
        if count == 1 and len(names) == 1:
            names = ("background", names[0])
        elif (
            count is not None and count > 1 and names[0] == "background" and len(names) == count + 1
        ):
            raise BackendError(
                f"Model {name}: {where} has {count} channels but 'class_names' names "
                f"{len(names) - 1} classes from id 1; number them from 0."
            )
        elif count is not None and count != len(names) and not (count == 1 and len(names) == 2):
            raise BackendError(
                f"Model {name}: {where} outputs {count} channels but 'class_names' names "
                f"{len(names)} classes; fix the metadata."
            )
        out.append(names)
    return tuple(out)


def _bands(meta: Mapping[str, str], name: str, channels: int) -> tuple[str, ...]:
    if "bands" not in meta:
        if channels == 3:
            return RGB_ROLES
        raise BandError(
            f"Model {name} takes {channels} input channels but has no 'bands' metadata, so no "
            'band explains them; add bands (one band role per channel, e.g. ["blue", "green", '
            '"red", "nir"]) with `spex models add MODEL --metadata sidecar.json`.'
        )
    value = _value(meta["bands"])
    try:
        roles = parse_roles(value if isinstance(value, (str, list)) else str(value))
    except BandError as exc:
        raise BandError(f"Model {name}: metadata 'bands': {exc}") from exc
    if None in roles or len(roles) != channels:
        raise BandError(
            f"Model {name}: 'bands' lists {len(roles)} roles for {channels} input channels; "
            "give one role per channel."
        )
    return tuple(r for r in roles if r is not None)


def check_model_type(meta: Mapping[str, str], name: str) -> str:
    """The model type (Deepness capitalises it); other types than segmentation are refused."""
    model_type = str(_value(meta.get("model_type", '"Segmentor"'))).strip()
    if model_type.lower() not in SEGMENTATION_TYPES:
        raise BackendError(
            f"Model {name} is a '{model_type}' model; the onnx backend runs segmentation models "
            "(model_type 'Segmentor') and exported SPEX folders."
        )
    return model_type.capitalize()


def parse_segmentation_metadata(
    meta: Mapping[str, str],
    name: str,
    input_shape: Sequence[int | str | None],
    output_channels: int | Sequence[int | None] | None,
) -> SegmentationMetadata:
    """Validate a segmentation model's metadata against its input and output shapes.

    `input_shape` is N x C x H x W as onnxruntime reports it (symbols for dynamic axes);
    `output_channels` the channel count of each output (None where dynamic).
    Raises `BackendError`/`BandError` with one line naming the key and the fix.
    """
    model_type = check_model_type(meta, name)
    if len(input_shape) != 4 or not isinstance(input_shape[1], int):
        raise BackendError(
            f"Model {name} takes input {list(input_shape)}; a segmentation model takes one "
            "N x C x H x W image with a fixed channel count C."
        )
    channels = int(input_shape[1])
    if not isinstance(output_channels, Sequence):
        output_channels = [output_channels]
    static = [d for d in input_shape[2:] if isinstance(d, int) and d > 0]
    tile = _number(meta, "tile_size", name) or _number(meta, "tiles_size", name)
    if static and tile is not None and int(tile) != static[0]:
        raise BackendError(
            f"Model {name}: 'tile_size' {int(tile)} differs from its fixed input size {static[0]}."
        )
    tile_size = int(static[0] if static else (tile or DEFAULT_TILE))
    overlap_pct = _number(meta, "tiles_overlap", name) or 0.0
    if not 0 <= overlap_pct < 100:
        raise BackendError(
            f"Model {name}: 'tiles_overlap' is {overlap_pct:g}%; give a percentage in 0..99."
        )
    mean = _floats(meta, "standardization_mean", name) or (0.0,) * channels
    std = _floats(meta, "standardization_std", name) or (1.0,) * channels
    mean = mean * channels if len(mean) == 1 else mean
    std = std * channels if len(std) == 1 else std
    if len(mean) != channels or len(std) != channels or any(s == 0 for s in std):
        raise BackendError(
            f"Model {name}: standardization_mean/std need {channels} values (std not 0)."
        )
    activation = str(_value(meta.get("output_activation", '"auto"'))).strip().lower()
    if activation not in ACTIVATIONS:
        raise BackendError(
            f"Model {name}: 'output_activation' {activation!r}; use one of {', '.join(ACTIVATIONS)}."
        )
    groups = class_groups(meta, name) or default_class_names(output_channels, name)
    small = _number(meta, "seg_small_segment", name)
    padding = str(_value(meta.get("tiles_padding", '"zero"'))).strip().lower()
    if padding not in PADDINGS:
        raise BackendError(
            f"Model {name}: 'tiles_padding' {padding!r}; use one of {', '.join(PADDINGS)}."
        )
    origin = int(_number(meta, "tiles_origin", name) or 0)
    if not 0 <= origin < tile_size:
        raise BackendError(
            f"Model {name}: 'tiles_origin' is {origin} px; give 0..{tile_size - 1} (pixels the "
            "window grid starts before the raster's corner)."
        )
    resolution = _number(meta, "resolution", name)
    if resolution is not None and resolution <= 0:
        raise BackendError(f"Model {name}: 'resolution' is {resolution:g} cm/px; give a size > 0.")
    return SegmentationMetadata(
        outputs=output_classes(groups, output_channels, name),
        bands=_bands(meta, name, channels),
        tile_size=tile_size,
        overlap=int(round(tile_size * overlap_pct / 100.0)),
        mean=mean,
        std=std,
        scale=_number(meta, "scale", name) or 1.0,
        offset=_number(meta, "offset", name) or 0.0,
        resolution_cm=resolution,
        threshold=_number(meta, "seg_thresh", name),
        activation=activation,
        model_type=model_type,
        small_segment=max(0, int(small or 0)),
        padding=padding,
        origin=origin,
    )


def is_background(class_name: str) -> bool:
    """Whether a class name means 'nothing in particular' (never a plan target)."""
    return class_name.strip().lower() in _BACKGROUND


#: The manifest of an exported SPEX folder (written by `export`, read by `spex_runner`).
MANIFEST_NAME = "spex_onnx.json"
