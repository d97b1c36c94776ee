"""The `spex` command line: extract, sensors, indices."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from . import __version__
from .errors import SpexError
from .indices import INDICES
from .progress import RunMonitor

if TYPE_CHECKING:
    from .backends.spectral.examples import Examples
    from .pipeline import ExtractionRequest

EXAMPLES = """examples:
  spex extract scene.tif --prompt "extract the water bodies" --out water/
  spex extract s2.tif --sensor sentinel2_l1c --prompt "vegetation patches over 2 ha" --out veg/
  spex extract l7.tif --bands blue,green,red,nir,swir1,swir2 --prompt "built-up areas" --out urban/
  spex sensors
  spex inspect LC08_L1TP_224078_20200518_20200518_01_RT.TIF
  spex indices scene.tif --index NDVI --out ndvi.tif
  spex batch 'season/*.tif' --prompt "extract the water bodies" --out water-season/
"""


def _add_raster_options(
    parser: argparse.ArgumentParser, many: bool = False, reading_only: bool = False
) -> None:
    if many:
        parser.add_argument(
            "input", nargs="+", help="input rasters: files, glob patterns or text files of paths"
        )
    else:
        parser.add_argument("input", type=Path, help="input raster (GeoTIFF or any GDAL raster)")
    parser.add_argument("--sensor", help="sensor preset (see `spex sensors`)")
    parser.add_argument(
        "--bands",
        help="one role per raster band, in order, e.g. blue,green,red,nir ('-' = unused); or "
        "roles by band number, the other bands unused, e.g. 48=red,72=nir",
    )
    parser.add_argument("--scale", type=float, help="reflectance = value * scale + offset")
    parser.add_argument("--offset", type=float, help="reflectance = value * scale + offset")
    if reading_only:
        return
    parser.add_argument("--tile", type=int, default=512, help="tile size in pixels (default 512)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `spex` command."""
    parser = argparse.ArgumentParser(
        prog="spex",
        description="Instruction-driven land-cover extraction from multispectral rasters.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"spex {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    ex = sub.add_parser("extract", help="extract what an instruction asks for")
    _add_raster_options(ex)
    add_extract_options(ex)
    add_cluster_options(ex, "spread the classify pass of one large raster over Dask workers")

    sub.add_parser("sensors", help="list the sensor presets")

    inspect = sub.add_parser(
        "inspect", help="say how a raster is read: its band roles, product and scaling"
    )
    _add_raster_options(inspect, reading_only=True)

    ix = sub.add_parser("indices", help="write one spectral index as a GeoTIFF")
    _add_raster_options(ix)
    ix.add_argument("--index", required=True, help=f"index name: {', '.join(INDICES)}")
    ix.add_argument("--out", required=True, type=Path, help="output GeoTIFF")
    _add_cloud_options(ix)

    models = sub.add_parser("models", help="manage and inspect model weights")
    model_commands = models.add_subparsers(dest="models_command", required=True)
    for module_name in EXTENSION_MODULES:
        module = _optional_module(module_name)
        if module is not None:
            module.register(sub, model_commands)
    return parser


def add_extract_options(parser: argparse.ArgumentParser) -> None:
    """The options of `spex extract` after the raster options (shared with `spex batch`)."""
    from .backends.spectral.set_thresholds import SETTABLE_HELP

    parser.add_argument("--prompt", required=True, help='the instruction, e.g. "extract the lakes"')
    parser.add_argument("--out", required=True, type=Path, help="output folder (new or empty)")
    parser.add_argument("--backend", default="spectral", help="spectral (default), spex or onnx")
    parser.add_argument("--model", type=Path, help="model folder or file (spex and onnx backends)")
    parser.add_argument("--device", help="auto, cpu or cuda (spex backend)")
    parser.add_argument("--dtype", help="auto, float32, bfloat16 or float16 (spex backend)")
    parser.add_argument("--max-new-tokens", type=int, help="cap on generated tokens (spex backend)")
    parser.add_argument("--provider", help="onnxruntime execution provider (onnx backend)")
    parser.add_argument(
        "--skip-empty-windows",
        action="store_true",
        default=None,
        help="skip model windows where the priors find no candidate (spex/onnx; faster, "
        "unlike the reference)",
    )
    parser.add_argument("--overlap", type=int, default=0, help="extra context pixels around tiles")
    parser.add_argument(
        "--min-area",
        type=float,
        help="minimum region area in m2 for every target (overrides the prompt's)",
    )
    parser.add_argument(
        "--threshold",
        action="append",
        metavar="INDEX=VALUE",
        help="set an index threshold instead of the scene's own choice (spectral backend; "
        f"repeatable): {SETTABLE_HELP}, e.g. NDVI=0.65 for dense canopy only",
    )
    parser.add_argument(
        "--examples",
        metavar="FILE",
        help="points or polygons you labelled (GeoPackage, shapefile, GeoJSON; spectral "
        "backend): each names its class (a target, or 'other') and corrects the scene's seeds",
    )
    parser.add_argument(
        "--examples-field",
        metavar="NAME",
        help="the field of --examples that holds each example's class (default: class)",
    )
    _add_cloud_options(parser)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="add a per-stage time and memory breakdown to run.json and the explanation",
    )
    parser.add_argument(
        "--extent",
        help="xmin,ymin,xmax,ymax in the raster's CRS, or in another named after it in "
        "brackets: '12.55,52.49,12.60,52.51 [EPSG:4326]' (default: the whole raster)",
    )


def _add_cloud_options(parser: argparse.ArgumentParser) -> None:
    """``--mask-clouds`` and the ``--cloud-buffer`` that widens it (extract, batch, indices)."""
    parser.add_argument(
        "--mask-clouds",
        action="store_true",
        help="hide what the product's own quality band (Landsat QA_PIXEL, HLS Fmask, "
        "Sentinel-2 L2A SCL, L1C MSK_CLASSI or MSK_CLOUDS, PlanetScope udm2) flags as cloud or "
        "cloud shadow "
        "(Level-1C's shadows cast from the sun's angles): those pixels are nodata",
    )
    parser.add_argument(
        "--cloud-buffer",
        type=float,
        default=0.0,
        metavar="METRES",
        help="with --mask-clouds, hide the pixels within this distance of the flagged ones "
        "too (e.g. 60; default 0)",
    )


def add_cluster_options(parser: argparse.ArgumentParser, what: str) -> None:
    """--scheduler / --workers: where Dask tasks run."""
    group = parser.add_argument_group("Dask distributed", what)
    group.add_argument("--scheduler", help="address of a running Dask scheduler, tcp://HOST:PORT")
    group.add_argument(
        "--workers", type=int, help="start N local worker processes (default: one per core)"
    )


#: Modules that add commands: each has `register(commands, model_commands)`, whose parsers
#: set `handler` (a function of the parsed arguments returning the exit status). They must
#: import heavy libraries only inside their handlers.
EXTENSION_MODULES = (
    "spex.engine.backends.spex.cli",
    "spex.engine.backends.onnx.cli",
    "spex.engine.distributed.batch_cli",
)


def _optional_module(name: str) -> object | None:
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None  # that backend is not part of this installation
        raise


class ProgressBar:
    """A one-line progress bar on stderr, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._last = -1.0

    def __call__(self, fraction: float, message: str) -> None:
        if not self.enabled or (fraction - self._last < 0.01 and fraction < 1.0):
            return
        self._last = fraction
        filled = int(fraction * 30)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {message[:40]:<40}"
        )
        if fraction >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _parse_extent(text: str | None) -> tuple[tuple[float, float, float, float] | None, str | None]:
    """``--extent``'s four numbers, and the CRS written after them in brackets, as QGIS marks
    an extent's CRS (``xmin,ymin,xmax,ymax [EPSG:4326]``), or None."""
    if not text:
        return None, None
    said = re.fullmatch(r"\s*(.*?)\s*\[\s*([^\]]+?)\s*\]\s*", text)
    numbers, crs = (said.group(1), said.group(2)) if said else (text, None)
    try:
        values = tuple(float(v) for v in numbers.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise SpexError(
            f"--extent '{text}' is not xmin,ymin,xmax,ymax; give four numbers (in the raster's "
            "CRS, or another after them: '12.55,52.49,12.60,52.51 [EPSG:4326]')."
        )
    return values, crs  # type: ignore[return-value]


def extraction_request(
    args: argparse.Namespace, input_path: Path, out_dir: Path
) -> ExtractionRequest:
    """The `ExtractionRequest` the extract options in `args` describe."""
    from .backends.spectral.set_thresholds import parse_thresholds
    from .pipeline import ExtractionRequest

    options = {
        key: value
        for key, value in (
            ("model", args.model),
            ("device", args.device),
            ("dtype", args.dtype),
            ("max_new_tokens", args.max_new_tokens),
            ("provider", args.provider),
            ("skip_empty_windows", args.skip_empty_windows),
        )
        if value is not None
    }
    extent, extent_crs = _parse_extent(args.extent)
    return ExtractionRequest(
        input_path=input_path,
        prompt=args.prompt,
        out_dir=out_dir,
        bands=args.bands,
        sensor=args.sensor,
        scale=args.scale,
        offset=args.offset,
        backend=args.backend,
        tile_size=args.tile,
        overlap=args.overlap,
        extent=extent,
        extent_crs=extent_crs,
        min_area_m2=args.min_area,
        backend_options=options,
        index_thresholds=parse_thresholds(args.threshold),
        examples=_examples(args),
        mask_clouds=args.mask_clouds,
        cloud_buffer_m=args.cloud_buffer,
        profile=args.profile,
    )


def _examples(args: argparse.Namespace) -> Examples | None:
    """The examples file of ``--examples``, read (None without one)."""
    if not args.examples:
        return None
    from .backends.spectral.examples import DEFAULT_FIELD, load_examples

    return load_examples(Path(args.examples), args.examples_field or DEFAULT_FIELD)


def _cmd_extract(args: argparse.Namespace) -> int:
    from .pipeline import extract

    request = extraction_request(args, args.input, args.out)
    start = time.perf_counter()
    monitor = RunMonitor(ProgressBar(not args.quiet))
    if args.scheduler is not None or args.workers is not None:
        from .distributed.dask_cluster import ClusterSpec
        from .distributed.mosaic import DaskClassifyPass

        classify = DaskClassifyPass(ClusterSpec(args.scheduler, args.workers))
        result = extract(request, monitor, classify)
    else:
        result = extract(request, monitor)
    print(result.summary)
    print(f"Outputs in {result.out_dir} ({time.perf_counter() - start:.1f} s):")
    for path in (
        result.mask_path,
        result.features_path,
        result.explanation_path,
        result.manifest_path,
    ):
        print(f"  {path.name}")
    return 0


def _cmd_sensors(_: argparse.Namespace) -> int:
    from .raster.sensors import load_presets

    presets = load_presets()
    width = max(map(len, presets)) + 1
    for name, preset in presets.items():
        roles = ", ".join(b.role or "-" for b in preset.bands)
        print(f"{name:<{width}} {preset.title} ({len(preset.bands)} bands: {roles})")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .raster.averaged_bands import AVERAGED_NOTE, band_numbers
    from .raster.band_gaps import gaps_to_say
    from .raster.pixel_grid import warped_by
    from .raster.product_names import named_product
    from .raster.quality_bands import MADE_BY, quality_band_of
    from .raster.raster_source import band_descriptions, open_source

    with open_source(args.input, args.bands, args.sensor, args.scale, args.offset) as src:
        ds = src.dataset
        crs = ds.crs.to_string() if ds.crs else "no CRS"
        if placed_by := warped_by(ds):
            crs += f" (placed by {placed_by}: read warped, as QGIS draws it)"
        print(f"Input: {src.path.name}, {src.width} x {src.height} pixels, {ds.count} bands "
              f"of {ds.dtypes[0]}, {crs}")  # fmt: skip
        descriptions = band_descriptions(ds)
        sensor = f", sensor {src.mapping.sensor}" if src.mapping.sensor else ""
        print(f"Bands ({src.mapping.source}{sensor}):")
        answers = {}  # the roles a band answers for besides its own (B8A as nir: nir08 too)
        for asked, carried in src.mapping.stand_ins:
            answers.setdefault(carried, []).append(asked)
        alpha = [colour.name == "alpha" for colour in ds.colorinterp]
        # the bands an averaged role is the mean of, beside its own (an imaging spectrometer)
        within = {i + 1: r for r, group in src.mapping.averaged for i in group}
        for i, (desc, role) in enumerate(zip(descriptions, src.mapping.roles, strict=True), 1):
            also = f" (also {', '.join(answers[role])})" if role in answers else ""
            if role in dict(src.mapping.averaged):
                also += f" ({band_numbers(src.mapping.bands_of(role))})"
            shown = role or "unused"
            if i - 1 in src.mapping.dead:
                shown = "unused: 0 or nodata on every pixel (a dead or missing band)"
            elif role is None and i in within:
                shown = f"in the mean of {within[i]}"
            elif role is None and alpha[i - 1]:
                shown = "unused (transparency: its transparent pixels are nodata)"
            print(f"  {i:>3} {desc or '-':<40} {shown}{also}")
        if src.mapping.averaged:
            print(f"  {AVERAGED_NOTE[0].upper()}{AVERAGED_NOTE[1:]}.")
        if src.role_shift is not None:
            print(f"  {src.role_shift.short()}: check --bands")
        sample = src.read_sample()
        print(f"Nodata: about {1 - sample.valid_pixels / sample.total_pixels:.1%} of the raster")
        for gap in gaps_to_say(sample.band_gaps):
            print(f"  {gap.short()}; mark band {gap.band} unused ('-' in --bands) to classify them")
        _, product = named_product(args.input, descriptions)
        if product is not None:
            print(f"Product: {product.label}")
        scaling = src.scaling
        calibrated = "calibrated" if scaling.calibrated else "not calibrated: thresholds adapt"
        print(f"Scaling: reflectance = {scaling.describe()} ({scaling.source}; {calibrated})")
        if scaling.note:
            print(f"  {scaling.note}")
        found = quality_band_of(str(args.input))
        if found is not None:
            band, kind = found
            print(
                f"Quality band: {PurePosixPath(band).name} ({MADE_BY[kind]} flags): each run "
                f"compares its result with it; --mask-clouds hides its clouds{_clouds(args, ds)}"
            )
        _print_detectable(src.roles)
    return 0


def _clouds(args: argparse.Namespace, dataset: object) -> str:
    """How much of the raster its quality band flags as cloud (" (...: 12.0% of the raster)"),
    or "" where its flags do not lie on the raster's grid."""
    from .raster.cloud_masking import cloud_mask_for

    try:
        mask = cloud_mask_for(str(args.input), dataset)
    except SpexError:
        return ""
    cast = f", and {mask.shadow_pixels:,} pixels of their shadows" if mask.shadow_pixels else ""
    return f" ({mask.flags}{cast}: {mask.share:.1%} of the raster)"


def _print_detectable(roles: tuple[str, ...]) -> None:
    """What the spectral backend can find with `roles`, and what each other class would need."""
    from .backends.spectral.detectable import NEEDS, undetectable
    from .instructions.targets import TARGETS

    missing = undetectable(NEEDS, roles)
    found = [TARGETS[t].title for t in NEEDS if t not in missing]
    print(f"Spectral backend finds: {', '.join(found) or 'nothing with these bands'}")
    for target, needs in missing.items():
        print(f"  {TARGETS[target].title}: cannot be found without {needs}")


def _cmd_indices(args: argparse.Namespace) -> int:
    from .index_writer import write_index

    out = write_index(
        args.input,
        args.index,
        args.out,
        bands=args.bands,
        sensor=args.sensor,
        scale=args.scale,
        offset=args.offset,
        tile_size=args.tile,
        monitor=RunMonitor(ProgressBar(not args.quiet)),
        mask_clouds=args.mask_clouds,
        cloud_buffer_m=args.cloud_buffer,
    )
    print(f"Wrote {out}")
    return 0


COMMANDS = {
    "extract": _cmd_extract,
    "sensors": _cmd_sensors,
    "inspect": _cmd_inspect,
    "indices": _cmd_indices,
}


#: Options whose comma-separated value may start with a minus: roles that start with an unused
#: band (``--bands -,blue,...``), an extent west of Greenwich (``--extent -4.1,52.4,-4.0,52.5``).
LISTS_STARTING_WITH_MINUS = ("--bands", "--extent")


def _joined_lists(argv: Sequence[str]) -> list[str]:
    """`argv` with ``--bands -,blue,...`` written ``--bands=-,blue,...`` (and so for every
    `LISTS_STARTING_WITH_MINUS` option): argparse reads such a value as an option ("expected
    one argument")."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in LISTS_STARTING_WITH_MINUS and arg.startswith("-") and "," in arg:
            out[-1] = f"{out[-1]}={arg}"
        elif arg.startswith("[") and _extent_value_last(out):
            out[-1] = f"{out[-1]} {arg}"  # ``--extent 1,2,3,4 [EPSG:4326]`` unquoted
        else:
            out.append(arg)
    return out


def _extent_value_last(out: Sequence[str]) -> bool:
    """Whether the last of `out` is ``--extent``'s value (after it, or joined to it by =)."""
    return bool(out) and (
        out[-1].startswith("--extent=") or (len(out) > 1 and out[-2] == "--extent")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `spex` console script; returns the exit status."""
    args = build_parser().parse_args(_joined_lists(sys.argv[1:] if argv is None else argv))
    handler = getattr(args, "handler", None) or COMMANDS[args.command]
    try:
        return handler(args)
    except SpexError as exc:
        print(f"spex: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spex: interrupted; nothing was written.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `spex inspect x.tif | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141  # as a shell reports a process ended by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
