"""`spex batch`: the command line of a batch of scenes on Dask, with its progress bar."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .batch import BatchProgress


def register(commands: argparse._SubParsersAction, _models: argparse._SubParsersAction) -> None:
    """Add `spex batch` (see `spex.engine.cli.EXTENSION_MODULES`)."""
    from ..cli import _add_raster_options, add_cluster_options, add_extract_options

    batch = commands.add_parser(
        "batch",
        help="extract from many scenes on a Dask cluster, one folder per scene",
        description="One task per scene, each writing DIR/<name>/ as `spex extract` would. "
        "A rerun skips finished scenes and redoes interrupted ones.",
    )
    _add_raster_options(batch, many=True)
    add_extract_options(batch)
    add_cluster_options(batch, "run the scenes on a Dask cluster (default: local processes)")
    batch.set_defaults(handler=_cmd_batch)


class BatchBar:
    """Scenes done / total, failures and the time left, on one line of a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()

    def __call__(self, progress: BatchProgress) -> None:
        last = progress.last
        if last is not None and last.status == "failed":
            self._clear()
            print(f"spex: {last.name} failed: {last.error}", file=sys.stderr)
        if not self.enabled:
            return
        share = progress.finished / progress.total if progress.total else 1.0
        filled = int(share * 30)
        eta = "--" if progress.eta_s is None else _duration(progress.eta_s)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {progress.finished}/{progress.total} scenes,"
            f" {progress.failed} failed, ETA {eta}   "
        )
        if progress.finished >= progress.total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def _clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 72 + "\r")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _cmd_batch(args: argparse.Namespace) -> int:
    from ..cli import extraction_request
    from .batch import BatchRequest, run_batch
    from .dask_cluster import ClusterSpec

    template = extraction_request(args, Path(), Path())
    request = BatchRequest(
        tuple(args.input), args.out, template, ClusterSpec(args.scheduler, args.workers)
    )
    try:
        result = run_batch(request, BatchBar(not args.quiet))
    except KeyboardInterrupt:
        print(
            f"spex: interrupted; finished scenes are kept in {args.out}, and the same command "
            "resumes the batch.",
            file=sys.stderr,
        )
        return 130
    done, skipped, failed = (result.count(s) for s in ("done", "skipped", "failed"))
    outside = [o.name for o in result.outcomes if o.status == "outside"]
    print(
        f"{len(result.outcomes)} scenes in {result.seconds:.1f} s: {done} done, "
        f"{skipped} already finished, {failed} failed"
        + (f", {len(outside)} outside the extent." if outside else ".")
    )
    for outcome in result.outcomes:
        if outcome.status == "failed":
            print(f"  failed: {outcome.name}: {outcome.error}")
    if outside:
        print(f"  outside the extent (nothing to extract): {', '.join(outside)}")
    hidden = [o for o in result.outcomes if o.clouds_hidden_share is not None]
    if hidden:
        print(
            "  hidden as the product's clouds: "
            + ", ".join(f"{o.name} {o.clouds_hidden_share:.1%}" for o in hidden)
        )
    if result.not_in_summary:
        print(
            "  not in summary.gpkg (no CRS, or a local one, that places them on a map): "
            f"{', '.join(result.not_in_summary)}"
        )
    if result.without_examples:
        print(
            "  no example falls on (trained on their own seeds): "
            + ", ".join(result.without_examples)
        )
    print(f"Outputs in {result.out_dir}: batch.json, summary.gpkg, one folder per scene.")
    return 1 if failed else 0
