"""`spex batch`: many scenes, one Dask task each, each writing `DIR/<name>/` as `spex extract`.

Restartable: a scene whose folder holds a finished run of the same prompt (its run.json) is
skipped, and what an interrupted run left is cleared and redone. A failing scene is recorded
with its one-line error and the others go on. `DIR/batch.json` records every scene and the
options (a rerun with other options is refused); `DIR/summary.gpkg` gathers every region.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import CancelledError, ExtentOutsideError, OutputError, SpexError
from ..pipeline import ExtractionRequest, check_request, extract
from .batch_scenes import (
    Scene,
    check_examples_over_scenes,
    clear_partial,
    expand_inputs,
    finished_manifest,
    name_scenes,
)
from .batch_summary import write_summary
from .dask_cluster import (
    ClusterSpec,
    dask_client,
    restore_malloc_defaults,
    tile_threads_per_worker,
)

if TYPE_CHECKING:
    from distributed import Client, Future

SCHEMA = "spex-batch/1"
#: Seconds between rewrites of batch.json while scenes finish.
SAVE_EVERY_S = 2.0
#: Seconds between checks for cancel while waiting for scenes.
POLL_S = 0.5


@dataclass(frozen=True)
class BatchRequest:
    """A batch: the inputs as given, the batch folder, the extraction options, the cluster.

    `extraction` is a template: its `input_path` and `out_dir` are replaced per scene.
    """

    inputs: tuple[str | Path, ...]
    out_dir: Path
    extraction: ExtractionRequest
    cluster: ClusterSpec = field(default_factory=ClusterSpec)


#: A scene's status in batch.json, in the order its counts are given.
STATUSES = ("done", "skipped", "outside", "failed", "pending")


@dataclass(frozen=True)
class SceneOutcome:
    """How one scene went: status done, skipped (finished before), outside (the extent does
    not cover it) or failed (with its error)."""

    name: str
    input: str
    status: str
    error: str | None = None
    seconds: float = 0.0
    timings_s: dict[str, float] = field(default_factory=dict)
    regions_per_target: dict[str, int] = field(default_factory=dict)
    area_m2_per_target: dict[str, float] = field(default_factory=dict)
    #: The analyst's example pixels the scene was trained with, per class (None: no examples).
    example_pixels: dict[str, int] | None = None
    #: The share of the scene hidden as the product's clouds (None: not asked, `--mask-clouds`).
    clouds_hidden_share: float | None = None


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands, for a progress bar."""

    finished: int  # done or failed in this run, plus skipped
    failed: int
    skipped: int
    total: int
    elapsed_s: float
    eta_s: float | None
    last: SceneOutcome | None = None


@dataclass(frozen=True)
class BatchResult:
    """Every scene's outcome, and where batch.json and summary.gpkg are."""

    out_dir: Path
    outcomes: tuple[SceneOutcome, ...]
    batch_path: Path
    summary_path: Path
    seconds: float
    #: Scenes that summary.gpkg leaves out: no CRS (their regions are in pixels), or a local one.
    not_in_summary: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        """Scenes with `status`."""
        return sum(o.status == status for o in self.outcomes)

    @property
    def without_examples(self) -> tuple[str, ...]:
        """With examples: the scenes none of them fell on, which ran on their own seeds."""
        return tuple(o.name for o in self.outcomes if o.example_pixels == {})


def options_of(template: ExtractionRequest) -> dict[str, object]:
    """The extraction options a batch's scenes share, in JSON form (input and folder left out)."""
    options = asdict(replace(template, input_path=Path(), out_dir=Path()))
    for key in ("input_path", "out_dir", "workers"):
        options.pop(key)
    return json.loads(json.dumps(options, default=str))


def run_scene(request: ExtractionRequest, name: str) -> SceneOutcome:
    """Extract one scene (the task a Dask worker runs); every error becomes its outcome."""
    restore_malloc_defaults()
    folder = Path(request.out_dir)
    finished = finished_manifest(folder, Scene(name, Path(request.input_path)), request.prompt)
    if finished is not None:  # run again because its result was lost with a dead worker
        return _outcome(name, str(request.input_path), "done", finished, 0.0)
    clear_partial(folder)
    start = time.perf_counter()
    try:
        result = extract(request)
    except ExtentOutsideError as exc:  # a batch's area of interest misses some of its scenes
        return SceneOutcome(name, str(request.input_path), "outside", str(exc), _since(start))
    except SpexError as exc:
        return SceneOutcome(name, str(request.input_path), "failed", str(exc), _since(start))
    except Exception as exc:  # one bad scene must not stop the batch
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        where = traceback.extract_tb(exc.__traceback__)[-1]
        error = f"{type(exc).__name__}: {line} ({Path(where.filename).name}:{where.lineno})"
        return SceneOutcome(name, str(request.input_path), "failed", error, _since(start))
    return _outcome(name, str(request.input_path), "done", result.manifest, _since(start))


def _outcome(
    name: str, path: str, status: str, manifest: dict[str, object], seconds: float
) -> SceneOutcome:
    counts = manifest.get("counts", {})
    details = manifest.get("backend", {}).get("details", {})
    clouds = manifest.get("input", {}).get("cloud_mask")
    return SceneOutcome(
        name,
        path,
        status,
        None,
        seconds,
        dict(manifest.get("timings_s", {})),
        dict(counts.get("regions_per_target", {})),
        dict(counts.get("area_m2_per_target") or {}),  # None without a CRS: no m2 to sum
        dict(details["example_pixels"]) if "examples" in details else None,
        round(clouds["hidden_pixels"] / max(1, clouds["flagged_pixels"]), 4) if clouds else None,
    )


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def run_batch(
    request: BatchRequest,
    on_progress: Callable[[BatchProgress], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> BatchResult:
    """Run every scene not finished before on the cluster; write batch.json and summary.gpkg.

    Raises a `SpexError` for a mistake in the request itself (before any scene runs) and
    `CancelledError` when cancelled (finished scenes are kept, batch.json says which).
    """
    start = time.perf_counter()
    out = Path(request.out_dir).absolute()
    check_request(request.extraction)  # an instruction or size every scene would refuse
    scenes = name_scenes(expand_inputs(request.inputs))
    examples = request.extraction.examples
    if examples is not None:  # each scene takes the examples on it; the others run without
        check_examples_over_scenes(scenes, examples)
        examples = replace(examples, shared_by_scenes=True)
        request = replace(request, extraction=replace(request.extraction, examples=examples))
    options = options_of(request.extraction)
    _check_batch_folder(out, options)
    outcomes: dict[str, SceneOutcome] = {}
    todo: list[Scene] = []
    for scene in scenes:
        manifest = finished_manifest(out / scene.name, scene, request.extraction.prompt)
        if manifest is None:
            todo.append(scene)
        else:
            outcomes[scene.name] = _outcome(scene.name, str(scene.path), "skipped", manifest, 0)
    ledger = _Ledger(out / "batch.json", scenes, options, outcomes)
    ledger.save()
    progress = _ProgressCounter(len(scenes), len(outcomes), start, on_progress)
    progress.report(None)
    if todo:
        threads = tile_threads_per_worker(request.cluster)
        requests = {
            s.name: replace(
                request.extraction, input_path=s.path, out_dir=out / s.name, workers=threads
            )
            for s in todo
        }
        with dask_client(request.cluster) as client:
            _run_on_cluster(client, requests, ledger, progress, is_cancelled)
    ledger.save()
    finished = [out / s.name for s in scenes if outcomes[s.name].status in ("done", "skipped")]
    summary_path = out / "summary.gpkg"
    left_out = write_summary([(f.name, f) for f in finished], summary_path)
    ordered = tuple(outcomes[s.name] for s in scenes)
    return BatchResult(out, ordered, ledger.path, summary_path, _since(start), left_out)


def _run_on_cluster(
    client: Client,
    requests: dict[str, ExtractionRequest],
    ledger: _Ledger,
    progress: _ProgressCounter,
    is_cancelled: Callable[[], bool] | None,
) -> None:
    from distributed import wait

    futures = {
        client.submit(
            run_scene, req, name, pure=False, key=f"spex-scene-{name}-{os.getpid()}"
        ): name
        for name, req in requests.items()
    }
    pending = set(futures)
    try:
        while pending:
            if is_cancelled is not None and is_cancelled():
                raise CancelledError("The batch was cancelled; finished scenes are kept.")
            try:
                done, pending = wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            for future in done:
                name = futures[future]
                outcome = _result(future, name, requests[name])
                ledger.record(outcome)
                progress.report(outcome)
            ledger.save(throttle=True)
    finally:
        client.cancel(list(pending))
        ledger.save()


def _result(future: Future, name: str, request: ExtractionRequest) -> SceneOutcome:
    """The task's outcome; a task Dask itself gave up on (its workers died) is a failure."""
    try:
        return future.result()
    except Exception as exc:  # e.g. KilledWorker: the workers running it died
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return SceneOutcome(
            name, str(request.input_path), "failed", f"{type(exc).__name__}: {line}"
        )


def _check_batch_folder(out: Path, options: dict[str, object]) -> None:
    """A batch folder is new, empty, or a batch of the same options (then it resumes)."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"Output {out} is a file; give a new or empty folder with --out.")
    ledger = out / "batch.json"
    if ledger.is_file():
        try:
            previous = json.loads(ledger.read_text(encoding="utf-8")).get("options")
        except (OSError, ValueError, AttributeError):
            previous = None
        if previous != options:
            raise OutputError(
                f"{out} holds a batch run with other options; give the same prompt and "
                "options to resume it, or a new folder with --out."
            )
    elif out.is_dir() and any(out.iterdir()):
        raise OutputError(
            f"Output folder {out} is not empty and holds no batch.json; give a new or empty folder."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the batch folder {out}: {exc.strerror}.") from exc


class _Ledger:
    """batch.json: the options and every scene's outcome, rewritten atomically as they come."""

    def __init__(
        self,
        path: Path,
        scenes: list[Scene],
        options: dict[str, object],
        outcomes: dict[str, SceneOutcome],
    ) -> None:
        self.path = path
        self.scenes = scenes
        self.options = options
        self.outcomes = outcomes
        self._saved = 0.0

    def record(self, outcome: SceneOutcome) -> None:
        self.outcomes[outcome.name] = outcome

    def save(self, throttle: bool = False) -> None:
        if throttle and time.monotonic() - self._saved < SAVE_EVERY_S:
            return
        pending = {"status": "pending"}
        scenes = [
            asdict(self.outcomes[s.name])
            if s.name in self.outcomes
            else {"name": s.name, "input": str(s.path)} | pending
            for s in self.scenes
        ]
        statuses = [s["status"] for s in scenes]
        document = {
            "schema": SCHEMA,
            "spex_version": __version__,
            "options": self.options,
            "counts": {k: statuses.count(k) for k in STATUSES},
            "scenes": scenes,
        }
        fd, tmp = tempfile.mkstemp(prefix=".batch.json.", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; batch.json is a normal output file
        os.replace(tmp, self.path)
        self._saved = time.monotonic()


class _ProgressCounter:
    """Counts finished scenes and estimates the time left from this run's pace."""

    def __init__(
        self,
        total: int,
        skipped: int,
        start: float,
        callback: Callable[[BatchProgress], None] | None,
    ) -> None:
        self.total, self.skipped, self.start = total, skipped, start
        self.finished, self.failed = skipped, 0
        self.callback = callback

    def report(self, outcome: SceneOutcome | None) -> None:
        if outcome is not None:
            self.finished += 1
            self.failed += outcome.status == "failed"
        if self.callback is None:
            return
        elapsed = time.perf_counter() - self.start
        ran = self.finished - self.skipped
        left = self.total - self.finished
        eta = elapsed / ran * left if ran else None
        self.callback(
            BatchProgress(
                self.finished, self.failed, self.skipped, self.total, elapsed, eta, outcome
            )
        )
