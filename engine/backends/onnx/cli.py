"""Commands of the onnx backend: `spex export-onnx` and `spex models inspect`."""

from __future__ import annotations

import argparse
from pathlib import Path


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .inspect import inspect_model

    print(inspect_model(args.file, args.provider))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export_spex

    manifest = export_spex(args.model, args.out, opset=args.opset)
    print(f"Exported {len(manifest['parts'])} parts to {args.out}:")
    for name, part in manifest["parts"].items():
        print(f"  {name}: {part['file']}")
    print(f"Run it with: spex extract RASTER --backend onnx --model {args.out} --prompt ...")
    return 0


def register(
    commands: argparse._SubParsersAction, model_commands: argparse._SubParsersAction
) -> None:
    """Add `export-onnx` to the top-level commands and `inspect` to `spex models`."""
    export = commands.add_parser(
        "export-onnx", help="export a SPEX model folder to ONNX parts for onnxruntime"
    )
    export.add_argument("--model", required=True, type=Path, help="SPEX model folder")
    export.add_argument("--out", required=True, type=Path, help="output folder (new or empty)")
    export.add_argument(
        "--opset", type=int, default=None, help="ONNX opset (default 17: onnxruntime >= 1.14)"
    )
    export.set_defaults(handler=_cmd_export)

    inspect = model_commands.add_parser(
        "inspect", help="show an ONNX model's metadata, inputs and outputs"
    )
    inspect.add_argument("file", type=Path, help=".onnx file or exported SPEX folder")
    inspect.add_argument("--provider", help="onnxruntime execution provider to load it with")
    inspect.set_defaults(handler=_cmd_inspect)
