"""Scene runs remembered by the tuned values they read, so that a grid of values costs the runs
that differ, not the product of its axes.

A run of the spectral backend is deterministic given its data and the values of
``SpectralParams`` it reads, and it reads a value only where the code path it takes needs it
(the cloud tint only where there are cloud candidates, the built-up margins only where there is
land to divide). Two grid points that agree on every value one run read therefore give that run's
result: no approximation, the dependency is recorded as the run goes (as build systems record
the files a step opened). The leave-one-out check's 512-point grid takes 10 to 256 runs a scene.

The record is kept by ``ReadRecordingParams``, a ``SpectralParams`` whose attribute reads are
noted while `recording` is active. Its ``to_dict`` (the run manifest's copy of every value, which
decides nothing) is not noted; a copy made with `dataclasses.replace` is noted whole, which costs
runs, not exactness.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

from spex.engine.backends.spectral.params import SpectralParams

Result = TypeVar("Result")

#: The names of the values a run can read, and the reads noted now (None: not recording).
_FIELDS = frozenset(f.name for f in fields(SpectralParams))
_reads: set[str] | None = None


@dataclass(frozen=True)
class ReadRecordingParams(SpectralParams):
    """``SpectralParams`` that note which of their values are read while `recording`."""

    def __getattribute__(self, name: str) -> Any:
        if _reads is not None and name in _FIELDS:
            _reads.add(name)
        return object.__getattribute__(self, name)

    def to_dict(self) -> dict[str, Any]:
        """Every value for the manifest, not noted as read: a copy, not a decision."""
        global _reads
        noted, _reads = _reads, None
        try:
            return SpectralParams.to_dict(self)
        finally:
            _reads = noted


@contextmanager
def recording() -> Iterator[set[str]]:
    """Note the values read from any ``ReadRecordingParams`` inside the block, in the set given
    (an enclosing recording notes them too)."""
    global _reads
    outer, inner = _reads, set()
    _reads = inner
    try:
        yield inner
    finally:
        _reads = outer
        if outer is not None:
            outer |= inner


def recording_params(params: SpectralParams, **changes: Any) -> ReadRecordingParams:
    """`params` with `changes`, as a ``ReadRecordingParams`` (made outside any recording)."""
    values = {f.name: getattr(params, f.name) for f in fields(SpectralParams)}
    return ReadRecordingParams(**{**values, **changes})


class RunsByReadValues(Generic[Result]):
    """One scene's runs, each remembered with the values of `names` it read.

    `run(params)` is the scene's run; `get(values)` returns the result of a remembered run that
    read only values equal to `values` (some of `names`; the rest as `base`), or runs it anew.
    """

    def __init__(
        self, run: Callable[[SpectralParams], Result], base: SpectralParams, names: tuple[str, ...]
    ) -> None:
        self._run = run
        self._base = base
        self._names = names
        self._runs: list[tuple[dict[str, Any], Result]] = []
        self.runs = 0

    def get(self, values: Mapping[str, Any]) -> Result:
        """The run's result with `values` set (the others as the base)."""
        values = {n: values[n] if n in values else getattr(self._base, n) for n in self._names}
        for read, result in self._runs:
            if all(values[n] == v for n, v in read.items()):
                return result
        params = recording_params(self._base, **values)
        with recording() as reads:
            result = self._run(params)
        read = {n: values[n] for n in self._names if n in reads}
        self._runs.append((read, result))
        self.runs += 1
        return result
