"""`spex models inspect FILE`: what a model file or exported SPEX folder holds and needs."""

from __future__ import annotations

import json
from pathlib import Path

from ...errors import BackendError, SpexError
from .metadata import MANIFEST_NAME, parse_segmentation_metadata, read_header


def _shape(shape: list[object]) -> str:
    return " x ".join(str(d) if d not in (None, "") else "?" for d in shape)


def inspect_model(path: str | Path, provider: str | None = None) -> str:
    """A readable report: versions, metadata, inputs and outputs, what the backend reads.

    A file that onnxruntime cannot load is still described from its header, with the reason.
    """
    path = Path(path)
    if not path.exists() and "/" not in str(path):
        from ..spex.download import load_registry

        entry = load_registry().get(str(path))  # a name from `spex models add`
        path = Path(entry["path"]) if entry else path
    if path.is_dir():
        return _inspect_folder(path)
    header = read_header(path)
    lines = [
        f"model: {path}",
        f"size: {path.stat().st_size / 2**20:.1f} MiB",
        f"ONNX IR version: {header.ir_version}",
        "opsets: " + ", ".join(f"{d or 'ai.onnx'} {v}" for d, v in sorted(header.opsets.items())),
        f"producer: {header.producer} {header.producer_version}".rstrip(),
        "metadata:",
    ]
    lines += [f"  {k}: {v}" for k, v in sorted(header.metadata.items())] or ["  (none)"]
    from .runtime import open_session

    try:
        runtime = open_session(path, provider)
    except BackendError as exc:
        return "\n".join([*lines, f"cannot run here: {exc}"])
    session = runtime.session
    lines.append(f"runtime: {runtime.describe()}")
    lines.append("inputs:")
    lines += [f"  {i.name}: {i.type} {_shape(i.shape)}" for i in session.get_inputs()]
    lines.append("outputs:")
    lines += [f"  {o.name}: {o.type} {_shape(o.shape)}" for o in session.get_outputs()]
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) == 1:
        from .output_shapes import output_channels

        try:
            meta = parse_segmentation_metadata(
                header.metadata, path.name, inputs[0].shape, output_channels(path.name, outputs)
            )
        except SpexError as exc:
            lines.append(f"as a segmentation model: {exc}")
        else:
            from .classes import model_classes

            lines.append("as a segmentation model:")
            for key, value in meta.to_dict().items():
                lines.append(f"  {key}: {value}")
            targets = [
                f"{c.name} -> {c.target or '(background)'}" for c in model_classes(meta.outputs)
            ]
            lines.append("  classes -> targets: " + ", ".join(targets))
    return "\n".join(lines)


def _inspect_folder(path: Path) -> str:
    manifest_path = path / MANIFEST_NAME
    if not manifest_path.is_file():
        raise BackendError(
            f"{path} has no {MANIFEST_NAME}; give a .onnx file or a folder from spex export-onnx."
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    lines = [f"exported SPEX model: {path}"]
    for key in ("format", "source_model", "opset", "ir_version", "exported_with"):
        if key in manifest:
            lines.append(f"{key}: {manifest[key]}")
    for name, part in manifest.get("parts", {}).items():
        lines.append(f"part {name}: {part.get('file')}")
        for io in ("inputs", "outputs"):
            for entry in part.get(io, []):
                lines.append(f"  {io[:-1]} {entry['name']}: {_shape(entry['shape'])}")
    return "\n".join(lines)
