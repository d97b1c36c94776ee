"""Everything the spectral backend fits on a raster's global sample, once, before any tile.

`fit_scene` runs the scene classifier and the splits and vetoes that read its classes on the
sample (water veto, bright land, soil in vegetation, reddish vegetation, tree cut, cloud
shadows); `FittedScene` holds them for `predict` (per tile) and `scene_report` (the
explanation). Nothing here depends on the targets a run answers after the fit, so one fit
serves `SpectralBackend.set_targets` for any of the plan's targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ...instructions.plan import Plan
from ...instructions.targets import TARGETS
from ...passes.pixel_areas import pixel_metres
from ...raster.raster_source import RasterSource, Sample
from ...raster.sensors import get_preset
from .bright_land import BrightLand, fit_scene_bright_land
from .bright_patches import GridCells
from .detectable import fine_shadow_note, fine_white_note, taken_below_clouds
from .example_notes import examples_mapped
from .examples import Examples, example_pixels
from .params import SpectralParams
from .pixel_classes import PixelClasses, pixel_classes
from .reddish_vegetation import (
    VEGETATION_OR_SOIL,
    ReddishVegetation,
    fit_scene_reddish_vegetation,
)
from .scene_model import SceneModel, fit_scene_model
from .set_thresholds import TREE_CUT
from .shadow_veto import ShadowVeto, fit_scene_shadow_veto
from .soil_in_vegetation import SoilInVegetation, fit_scene_soil_in_vegetation
from .tree_cover import TreeCut, fit_scene_tree_cut
from .water_veto import WaterVeto, water_veto

#: The two covers of the non-vegetated land, each with the other.
LAND_PARTNER = {"builtup": "bare", "bare": "builtup"}


@dataclass(frozen=True)
class FittedScene:
    """The scene classifier and what was fitted beside it on the same sample."""

    model: SceneModel
    #: Whether the raster's values are physical reflectance (its scaling's `calibrated`).
    calibrated: bool
    #: The water veto's cut (built-up that is water), or None where it does not apply.
    veto: WaterVeto | None = None
    #: Cloud shadows' veto on water and built-up, or None.
    shadows: ShadowVeto | None = None
    #: Bare soil as the bright mode of an undivided land, or None.
    bright: BrightLand | None = None
    #: Vegetation below its seeds' NDVI and redder than green, mapped as bare soil; or None.
    soil: SoilInVegetation | None = None
    #: The vegetation that is redder than green, where it is enough to say; or None.
    reddish: ReddishVegetation | None = None
    #: Tree cover's cut within the vegetation, where forest is asked or left out; or None.
    trees: TreeCut | None = None
    #: Whether forest is left out of the vegetation (asked for as "vegetation but not forest").
    trees_left_out: bool = False
    #: Share of the sampled pixels per scene class, and the share the water veto moved.
    shares: dict[str, float] = field(default_factory=dict)
    vetoed_share: float = 0.0
    #: What passes for water, cloud and snow at fine pixels, said (`detectable`).
    fine_notes: tuple[str, ...] = ()
    #: Per example class: its pixels counted by the scene class the fitted model gives them.
    examples_mapped: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Examples with no valid pixel of the raster under them.
    example_outside: int = 0

    @property
    def land_undivided(self) -> bool:
        """Whether the non-vegetated land is one class: a built-up class, no bare one, and no
        bright mode split off as bare soil."""
        classes = self.model.classes
        return "builtup" in classes and "bare" not in classes and self.bright is None

    def land_answers_for_bare(self, targets: Sequence[str]) -> bool:
        """Whether the undivided land is returned for bare soil: asked for without built-up,
        which the land is returned as otherwise."""
        return self.land_undivided and "bare" in targets and "builtup" not in targets

    def undivided_targets(self, asked: Sequence[str]) -> dict[str, str]:
        """The asked land targets, each with the cover it was not told apart from."""
        if not self.land_undivided:
            return {}
        return {t: LAND_PARTNER[t] for t in asked if t in LAND_PARTNER}


def fit_scene(
    source: RasterSource,
    plan: Plan,
    sample: Sample,
    params: SpectralParams,
    examples: Examples | None = None,
) -> FittedScene:
    """Fit the scene classifier on `sample` for `plan`'s targets, with the analyst's
    `examples`, then each split and veto on the sample's own classes."""
    calibrated = source.scaling.calibrated
    pixels = example_pixels(source, examples) if examples else None
    preset = get_preset(source.mapping.sensor) if source.mapping.sensor else None
    spacing = raster_pixel_spacing(source)
    pixel_m = spacing[0] if spacing is not None else None
    model = fit_scene_model(
        sample.bands,
        grid=grid_cells(sample, spacing),
        calibrated=calibrated,
        below_clouds=taken_below_clouds(
            preset and preset.title, preset.airborne if preset else "", pixel_m
        ),
        # Forest is split from the vegetation: its seeds, notes and examples are the whole's.
        targets=tuple(dict.fromkeys(TARGETS[t].part_of or t for t in plan.targets)),
        params=params,
        examples=pixels.by_scene_class() if pixels is not None else None,
    )
    veto = water_veto(model, params)
    # The sampled pixels' classes, once: the splits and the scene shares are measured on them.
    classified = pixel_classes(model, veto, sample.bands) if sample.valid_pixels else None
    bright = fit_scene_bright_land(model, sample.bands, classified, params)
    soil = fit_scene_soil_in_vegetation(model, sample.bands, classified, calibrated, params)
    reddish = (
        fit_scene_reddish_vegetation(
            model, sample.bands, classified, calibrated, params.builtup_ndvi_margin, soil
        )
        if VEGETATION_OR_SOIL & set(plan.targets)
        else None
    )
    trees_left_out = "forest" in plan.left_out
    trees = (
        fit_scene_tree_cut(
            model, sample.bands, classified, pixels, params.analyst_threshold(TREE_CUT)
        )
        if "forest" in plan.targets or trees_left_out
        else None
    )
    shares, vetoed_share = scene_shares(model, classified)
    fine_notes = (
        fine_shadow_note(plan.targets, source.roles, pixel_m),
        fine_white_note(shares, pixel_m),
    )
    return FittedScene(
        model=model,
        calibrated=calibrated,
        veto=veto,
        shadows=fit_scene_shadow_veto(model, source, sample, classified, pixel_m),
        bright=bright,
        soil=soil,
        reddish=reddish,
        trees=trees,
        trees_left_out=trees_left_out,
        shares=shares,
        vetoed_share=vetoed_share,
        fine_notes=tuple(note for note in fine_notes if note),
        examples_mapped=(
            examples_mapped(model, veto, pixels, trees, bright, soil) if pixels is not None else {}
        ),
        example_outside=pixels.outside if pixels is not None else 0,
    )


def scene_shares(
    model: SceneModel, classified: PixelClasses | None
) -> tuple[dict[str, float], float]:
    """Share of the sampled pixels whose most probable class is each scene class, and the
    share that the water veto moved out of built-up (`classified`: the sample's classes, None
    for an all-nodata sample).

    Per pixel, without smoothing: a measured estimate of cloud, snow or water cover for the
    explanation's caveats, from the same global sample the model was fitted on.
    """
    if classified is None:
        return {}, 0.0
    best, moved, _ = classified
    if not len(best):
        return {}, 0.0
    counts = np.bincount(best, minlength=len(model.classes))
    shares = {c: round(float(n) / len(best), 4) for c, n in zip(model.classes, counts, strict=True)}
    return shares, round(float(moved.mean()), 4)


def grid_cells(sample: Sample, spacing: tuple[float, float] | None) -> GridCells | None:
    """Where the `sample`'s pixels lie on its decimated grid and a cell's area (ha), from the
    raster's (row, column) pixel `spacing` in metres (`raster_pixel_spacing`); None without a
    grid or a spacing (no CRS: no area to give)."""
    if sample.grid is None or spacing is None:
        return None
    row_m, col_m = spacing
    return sample.grid, row_m * col_m * sample.decimation**2 / 1e4


def raster_pixel_spacing(source: RasterSource) -> tuple[float, float] | None:
    """The raster's (row, column) pixel spacing in metres at its middle row, or None without
    a CRS."""
    if source.dataset.crs is None:
        return None
    return pixel_metres(source.dataset, source.height / 2)
