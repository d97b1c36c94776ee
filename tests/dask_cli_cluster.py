"""A real Dask cluster on 127.0.0.1, started with the `dask` command line, for tests.

The scheduler picks its port at run time (`--port 0`) and writes its address to a scheduler
file; workers connect to it. Every process is started in its own session and stopped (then
killed if need be) by its id when the cluster is closed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

#: Seconds allowed for the scheduler and the workers to come up.
START_TIMEOUT_S = 90


def dask_command() -> list[str]:
    """The `dask` command of this Python environment."""
    script = Path(sys.executable).with_name("dask")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dask"]


class DaskCliCluster:
    """`dask scheduler` plus `dask worker` processes; use as a context manager."""

    def __init__(self, folder: Path, workers: int = 2, nanny: bool = True) -> None:
        self.folder = folder
        self.n_workers = workers
        self.nanny = nanny
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.address = ""

    def __enter__(self) -> DaskCliCluster:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(
            [*dask_command(), *args],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        file = self.folder / "scheduler.json"
        self.scheduler = self._spawn(
            "scheduler",
            ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(file)],
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.address:
            if self.scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler did not start: {self.log('scheduler')}")
            try:
                self.address = json.loads(file.read_text(encoding="utf-8"))["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        for i in range(self.n_workers):
            self.add_worker(f"w{i}")
        self.wait_for_workers(self.n_workers)

    def add_worker(self, name: str) -> subprocess.Popen:
        """Start one more single-threaded worker process."""
        args = ["worker", self.address, "--nthreads", "1", "--name", name, "--no-dashboard"]
        args += ["--local-directory", str(self.folder / "scratch")]
        if not self.nanny:
            args.append("--no-nanny")
        worker = self._spawn(name, args)
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, n: int) -> None:
        """Block until the scheduler counts `n` workers."""
        from distributed import Client

        with Client(self.address, timeout=START_TIMEOUT_S) as client:
            client.wait_for_workers(n, timeout=START_TIMEOUT_S)

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL one process of the cluster (a worker dying mid-task)."""
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def log(self, name: str) -> str:
        """The tail of a process's log."""
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def close(self) -> None:
        """Stop the workers, then the scheduler: SIGTERM to each session, SIGKILL after 20 s."""
        processes = [*self.workers, *([self.scheduler] if self.scheduler else [])]
        for process in processes:
            _signal_session(process, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_session(process, signal.SIGKILL)  # whatever of its session is left
            process.wait(timeout=10)


def _signal_session(process: subprocess.Popen, sig: int) -> None:
    """Signal the session the process leads (it and the worker processes a nanny started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
