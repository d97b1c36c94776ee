"""A Dask distributed client: the user's scheduler, or a local cluster of worker processes.

Dask (`dask`, `distributed`) is imported only here and only when a distributed run starts.
Local workers are processes with one thread each (GDAL's caches and the GIL make processes
the unit of parallelism); each runs the tile threads of its own task.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BackendError, InputError
from ..passes.tile_runner import default_workers

if TYPE_CHECKING:
    from distributed import Client

#: Seconds to wait for a user's scheduler to answer.
CONNECT_TIMEOUT_S = 15
#: Dask's setting of the variables its nanny gives worker processes, and the one we undo.
PRE_SPAWN = "distributed.nanny.pre-spawn-environ"
MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
_MALLOC_TUNED = False


@dataclass(frozen=True)
class ClusterSpec:
    """Where tasks run: `scheduler` (tcp://HOST:PORT) or `workers` local processes.

    Neither: a local cluster with one worker per usable core.
    """

    scheduler: str | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.scheduler and self.workers:
            raise InputError("Give --scheduler or --workers, not both.")
        if self.workers is not None and self.workers < 1:
            raise InputError(f"--workers {self.workers} is not a positive number; give 1 or more.")

    def local_workers(self) -> int:
        """Worker processes of a local cluster."""
        return max(1, self.workers or usable_cores())


def usable_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def tile_threads_per_worker(spec: ClusterSpec) -> int | None:
    """Tile threads inside each task: the local cores shared out, or the worker's own default."""
    if spec.scheduler:
        return None  # each remote worker machine picks its own (tile_runner.default_workers)
    return max(1, min(default_workers(), usable_cores() // spec.local_workers()))


@contextmanager
def dask_client(spec: ClusterSpec) -> Iterator[Client]:
    """A connected `distributed.Client`, closed (and its local cluster stopped) on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise BackendError(
            "Dask distributed is not installed; install it with `pip install dask distributed`."
        ) from exc
    if spec.scheduler:
        try:
            client = Client(spec.scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"Cannot reach the Dask scheduler at {spec.scheduler} ({_first_line(exc)}); "
                "start it with `dask scheduler` or check the address."
            ) from exc
        try:
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                raise InputError(
                    f"The Dask scheduler at {spec.scheduler} has no workers; start some with "
                    f"`dask worker {spec.scheduler}`."
                ) from exc
            yield client
        finally:
            client.close()
        return
    import dask

    _use_python_for_workers()
    environ = dict(os.environ)
    with dask.config.set({f"{PRE_SPAWN}.{MALLOC_TRIM}": None}):  # see restore_malloc_defaults
        cluster = LocalCluster(
            n_workers=spec.local_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,  # a closing cluster logs errors that mean nothing
        )
    _restore_environ(environ)  # the nannies set their workers' variables in this process
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def restore_malloc_defaults() -> None:
    """Undo, in a worker process, the allocator setting Dask's nanny gives its workers.

    The nanny starts workers with MALLOC_TRIM_THRESHOLD_ set, which makes glibc map and unmap
    every array over 128 KiB: the engine's per-tile temporaries then cost page faults, and a
    scene ran 2-3 times slower on a worker than alone. Called at the start of each task;
    raising the mapping threshold back keeps such arrays in the reused heap.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED or MALLOC_TRIM not in os.environ or not sys.platform.startswith("linux"):
        return
    _MALLOC_TUNED = True
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return
    libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)  # glibc's largest mapping threshold
    libc.mallopt(_M_TRIM_THRESHOLD, 128 * 2**20)


def _restore_environ(saved: dict[str, str]) -> None:
    for key in set(os.environ) - set(saved):
        del os.environ[key]
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def _use_python_for_workers() -> None:
    """Inside an application embedding Python (QGIS), start worker processes with Python:
    the running interpreter's own, not whichever `python3` comes first on PATH."""
    if _runs_this_interpreter(Path(sys.executable)):
        return
    python = shutil.which("python3") or shutil.which("python")
    candidate = Path(sys.exec_prefix) / ("python.exe" if os.name == "nt" else "bin/python3")
    if candidate.exists():
        python = str(candidate)
    if python:
        multiprocessing.set_executable(python)


def _runs_this_interpreter(executable: Path) -> bool:
    """Whether `sys.executable` is this interpreter: a venv's python, or a python under the
    installation's prefix. An embedding application (qgis_process) may report the first
    `python3` on PATH instead, e.g. a pyenv shim, whose workers cannot load this stdlib."""
    if not executable.name.lower().startswith("python"):
        return False
    if sys.prefix != sys.base_prefix:  # a virtual environment: its python is the one
        return True
    try:
        return executable.resolve().is_relative_to(Path(sys.exec_prefix).resolve())
    except OSError:
        return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
