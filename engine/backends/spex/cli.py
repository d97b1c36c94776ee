"""``spex models keys|init|download|list|add``: inspecting, making and installing SPEX weights.

Heavy libraries (torch, transformers) are imported inside the handlers only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(
    commands: argparse._SubParsersAction, model_commands: argparse._SubParsersAction
) -> None:
    """Add the SPEX model commands under ``spex models``."""
    keys = model_commands.add_parser("keys", help="print name<TAB>shape of every SPEX tensor")
    keys.add_argument("--size", default="full", choices=("full", "tiny"))
    keys.set_defaults(handler=_cmd_keys)

    init = model_commands.add_parser("init", help="write a randomly initialised SPEX model folder")
    init.add_argument("--size", default="tiny", choices=("full", "tiny"))
    init.add_argument("--out", required=True, type=Path, help="new or empty folder")
    init.add_argument("--seed", type=int, default=0)
    init.add_argument(
        "--dtype",
        default="auto",
        choices=("auto", "float32", "bfloat16", "float16"),
        help="stored dtype (auto: float32 for tiny, bfloat16 for full)",
    )
    init.set_defaults(handler=_cmd_init)

    dl = model_commands.add_parser("download", help="download weights into the model cache")
    dl.add_argument("url")
    dl.add_argument("--name", required=True, help="name to install the model under")
    dl.add_argument("--sha256", help="expected sha256 of the downloaded file")
    dl.set_defaults(handler=_cmd_download)

    ls = model_commands.add_parser("list", help="list installed and registered models")
    ls.set_defaults(handler=_cmd_list)

    add = model_commands.add_parser(
        "add",
        help="register a model folder downloaded by hand, or copy an .onnx model with metadata",
    )
    add.add_argument("folder", type=Path, help="SPEX model folder, or an .onnx file")
    add.add_argument("--name", help="name to register it under (default for .onnx: its stem)")
    add.add_argument(
        "--metadata", type=Path, help="JSON sidecar of metadata keys written into the .onnx copy"
    )
    add.set_defaults(handler=_cmd_add)


def _cmd_keys(args: argparse.Namespace) -> int:
    from .config import preset
    from .model import build_model, count_parameters, parameter_table

    model = build_model(preset(args.size), "meta")
    try:
        for name, shape in parameter_table(model):
            print(f"{name}\t{','.join(str(s) for s in shape)}")
    except BrokenPipeError:  # `| head`: the reader is gone, which is fine
        sys.stderr.close()
        return 0
    count = count_parameters(model)
    print(
        f"# {len(parameter_table(model))} tensors, {count:,} parameters (tied counted once)",
        file=sys.stderr,
    )
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from ...outputs import check_output_dir
    from .init import init_model_folder

    out = Path(args.out)
    check_output_dir(out)  # one line for a file, a folder not empty or not writable
    folder = init_model_folder(out, args.size, args.seed, args.dtype)
    print(f"Wrote a {args.size} SPEX model with RANDOM weights to {folder}")
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    from .download import download_model

    bar = _Bar()
    folder = download_model(args.url, args.name, args.sha256, progress=bar)
    bar.done()
    print(f"Installed '{args.name}' at {folder}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .download import load_registry, model_cache_dir

    models = load_registry()
    print(f"Model cache: {model_cache_dir()}")
    if not models:
        print(
            "No models yet: `spex models download URL --name NAME` or `spex models add DIR --name NAME`."
        )
    for name, entry in sorted(models.items()):
        state = "ok" if Path(entry["path"]).exists() else "MISSING"
        print(f"{name}\t{entry['path']}\t{entry.get('source', '')}\t{state}")
    return 0


def _cmd_add(args: argparse.Namespace) -> int:
    from ...errors import InputError
    from .download import add_model

    if Path(args.folder).suffix.lower() == ".onnx" or args.metadata:
        from ..onnx.sidecar import add_onnx_model

        path = add_onnx_model(args.folder, args.metadata, args.name)
        print(f"Registered '{args.name or path.stem}' -> {path}")
        print(f"Run it with: spex extract RASTER --backend onnx --model {path.stem} --prompt ...")
        return 0
    if not args.name:
        raise InputError("Give --name NAME to register a model folder.")

    folder = add_model(args.folder, args.name)
    print(f"Registered '{args.name}' -> {folder}")
    return 0


class _Bar:
    """Bytes progress on stderr (a terminal only)."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if total:
            filled = int(30 * done / total)
            sys.stderr.write(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {done / 1e6:,.1f}/{total / 1e6:,.1f} MB"
            )
        else:
            sys.stderr.write(f"\r{done / 1e6:,.1f} MB")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
