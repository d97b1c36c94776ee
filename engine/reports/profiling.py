"""Per-stage profile of a run (`--profile` or `SPEX_PROFILE=1`): where the time goes.

Stages are named `pass.step` (`classify.read`, `vectorize.polygonize`, ...). Steps run in
worker threads add up their own time, so a pass's steps can sum to more than its wall time:
that is the parallel work. Each pass also records the process's CPU time and the peak memory
so far. Switched off, `stage()` costs one attribute lookup.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: Environment variable that switches profiling on for every run (`1`, `true`, `yes`).
PROFILE_ENV = "SPEX_PROFILE"


def profile_from_env() -> bool:
    """Whether `SPEX_PROFILE` asks for a profile."""
    return os.environ.get(PROFILE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    On Linux the high-water mark of this program's own memory (`VmHWM`): `ru_maxrss` keeps the
    peak of the process that forked and executed it, so a small job started by a large one
    would report the large one's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if os.uname().sysname == "Darwin" else peak / 1024


@dataclass
class StageProfile:
    """Seconds and calls per stage, CPU seconds and peak memory per pass."""

    enabled: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    passes: dict[str, dict[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, seconds: float) -> None:
        """Add `seconds` to stage `name` (thread-safe)."""
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
            self.calls[name] = self.calls.get(name, 0) + 1

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage `name` (no-op when profiling is off)."""
        if not self.enabled:
            yield
            return
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    @contextmanager
    def run_pass(self, name: str) -> Iterator[None]:
        """Time a whole pass: wall and CPU seconds (added up if the pass comes back), and the
        peak memory at its end."""
        if not self.enabled:
            yield
            return
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            before = self.passes.get(name, {"wall_s": 0.0, "cpu_s": 0.0})
            self.passes[name] = {
                "wall_s": before["wall_s"] + time.perf_counter() - wall,
                "cpu_s": before["cpu_s"] + time.process_time() - cpu,
                "peak_mb": peak_memory_mb(),
            }

    def to_dict(self) -> dict[str, object]:
        """The profile as JSON-able data for `run.json`."""
        return {
            "passes": {
                name: {k: round(v, 3) for k, v in values.items()}
                for name, values in self.passes.items()
            },
            "stages": {
                name: {"seconds": round(self.seconds[name], 3), "calls": self.calls[name]}
                for name in self.seconds
            },
            "cores": os.cpu_count(),
            "note": "stage seconds add up over worker threads; cpu_s / wall_s > 1 is parallel work",
        }

    def markdown(self) -> list[str]:
        """The explanation's appendix: one table of passes, one of stages."""
        lines = ["## Appendix: profile", ""]
        lines += [
            "| pass | wall | CPU | CPU / wall | peak memory |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, v in self.passes.items():
            ratio = v["cpu_s"] / v["wall_s"] if v["wall_s"] > 0 else 0.0
            lines.append(
                f"| {name} | {v['wall_s']:.2f} s | {v['cpu_s']:.2f} s | {ratio:.2f} "
                f"| {v['peak_mb']:.0f} MB |"
            )
        lines += ["", "| stage | seconds (summed over threads) | calls |", "| --- | --- | --- |"]
        for name in self.seconds:
            lines.append(f"| {name} | {self.seconds[name]:.2f} | {self.calls[name]:,} |")
        lines += [
            "",
            f"{os.cpu_count()} CPU cores. Stages run in worker threads add up their time, so "
            "they can sum to more than their pass's wall time.",
            "",
        ]
        return lines
