"""features.gpkg is closed when the run returns, whatever still holds the writer's frames.

A Dask worker's sampling profiler holds the running task's stack frames for a moment; a frame
held past its call keeps its locals, and the GeoPackage that `_write_layer` was handed closed
later, from the profiler's thread, while the run's folder was being moved into place. SQLite's
journal of the closing writes was left beside the moved file (seen twice in the distributed
tests). Here `sys.setprofile` holds the frame as such a profiler does, deterministically.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from osgeo import ogr

from spex.engine import ExtractionRequest, extract

PROC_FDS = Path("/proc/self/fd")


def _open_files() -> list[str]:
    """The paths this process holds open."""
    found = []
    for fd in os.listdir(PROC_FDS):
        try:
            found.append(os.readlink(PROC_FDS / fd))
        except OSError:  # closed between the listing and the read
            continue
    return found


@pytest.mark.skipif(not PROC_FDS.is_dir(), reason="needs /proc to list open files (Linux)")
def test_features_are_closed_when_a_profiler_holds_the_writers_frame(
    s2_scene: Path, tmp_path: Path
) -> None:
    held = []

    def hold_writer_frames(frame, event, arg) -> None:
        if event == "return" and frame.f_code.co_name == "_write_layer":
            held.append(frame)  # as a sampling profiler holds a task's frames

    sys.setprofile(hold_writer_frames)
    try:
        result = extract(ExtractionRequest(s2_scene, "extract the water bodies", tmp_path / "out"))
    finally:
        sys.setprofile(None)
    assert held, "the writer's frame was not held: the test did not test anything"
    still_open = [p for p in _open_files() if p.endswith("features.gpkg")]
    assert not still_open, f"the GeoPackage is still open after the run: {still_open}"
    assert not list(result.out_dir.glob("*-journal")) and not list(result.out_dir.glob("*-wal"))
    source = ogr.Open(str(result.features_path))  # read-only, as other programs open it
    assert source.GetLayer(0).GetFeatureCount() > 0
    held.clear()
