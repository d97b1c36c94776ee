"""The write pass: provisional labels remapped to the kept regions, as the region-id raster
that vectorizing reads and as `mask.tif` (written beside the vectorizing, `pipeline.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from rasterio.windows import Window

from ..instructions.targets import TARGETS
from ..progress import RunMonitor
from ..raster.gdal_io import GDAL_IO
from ..raster.raster_sink import GeoTiffSink
from .classify_pass import MASK_NODATA
from .regions import NODATA_LABEL, Regions

if TYPE_CHECKING:
    from ..reports.run_facts import RunFacts


@dataclass(frozen=True)
class KeptRegions:
    """Lookups from provisional labels to the kept regions: their final id (0: background) and
    their class (index into the plan's targets, from 1; 0: background)."""

    n_provisional: int
    to_id: np.ndarray  # int32, indexed by provisional label
    to_class: np.ndarray  # uint8, indexed by provisional label

    @classmethod
    def of(cls, regions: Regions, kept: np.ndarray) -> KeptRegions:
        """`kept` are the indices of the regions the plan keeps, in their final order; every
        other region becomes background."""
        region_of = regions.provisional_to_region
        new_id = np.zeros(len(regions) + 1, dtype=np.int32)
        new_id[kept + 1] = np.arange(1, len(kept) + 1, dtype=np.int32)
        class_of_region = np.zeros(len(regions) + 1, dtype=np.uint8)
        class_of_region[kept + 1] = regions.target[kept]
        # region_of == -1 (no region) -> 0
        return cls(len(region_of), new_id[region_of + 1], class_of_region[region_of + 1])


def _provisional_tiles(
    facts: RunFacts, labels_path: Path, kept: KeptRegions, check_cancel: Callable[[], None]
) -> Iterator[tuple[Window, np.ndarray, np.ndarray]]:
    """Per tile core of the grid: its window, provisional labels (0 where none or nodata) and
    nodata mask."""
    grid = facts.grid
    with rasterio.open(labels_path) as labels_src:
        for tile in grid:
            check_cancel()
            local = Window(
                tile.core.col_off - grid.area.col_off,
                tile.core.row_off - grid.area.row_off,
                tile.core.width,
                tile.core.height,
            )
            with GDAL_IO:
                prov = labels_src.read(1, window=local)
            nodata = prov == NODATA_LABEL
            yield tile.core, np.where(nodata | (prov >= kept.n_provisional), 0, prov), nodata


def write_region_ids(
    facts: RunFacts, labels_path: Path, kept: KeptRegions, region_path: Path, monitor: RunMonitor
) -> None:
    """Write the region-id raster (int32, 0 = no kept region) that vectorizing reads."""
    grid, source = facts.grid, facts.source
    with GeoTiffSink(
        region_path, source.dataset, "int32", nodata=0, area=grid.area, scratch=True
    ) as ids:
        tiles = _provisional_tiles(facts, labels_path, kept, monitor.check_cancel)
        for i, (core, prov, _) in enumerate(tiles):
            ids.write(kept.to_id[prov], core)
            monitor.progress(0.7 + 0.15 * (i + 1) / len(grid), "writing the region ids")


def write_mask(
    facts: RunFacts,
    labels_path: Path,
    kept: KeptRegions,
    mask_path: Path,
    check_cancel: Callable[[], None],
) -> None:
    """Write `mask.tif`: the class per pixel (0 background, 1.. the plan's targets, 255
    nodata), with its colours and class names. Reports no progress: it runs beside the
    vectorizing, which does."""
    grid, source = facts.grid, facts.source
    colours = {0: (0, 0, 0)} | {
        i: TARGETS[t].colour for i, t in enumerate(facts.plan.targets, start=1)
    }
    names = ["background"] + [facts.plan.title(t) for t in facts.plan.targets]
    tags = {f"CLASS_{i}": name for i, name in enumerate(names)}
    tags.update(SPEX_PROMPT=facts.plan.prompt, SPEX_NODATA="255")
    with GeoTiffSink(
        mask_path, source.dataset, "uint8", nodata=MASK_NODATA, area=grid.area, ordered=True
    ) as mask:
        mask.describe(["class"], colours, tags)
        for core, prov, nodata in _provisional_tiles(facts, labels_path, kept, check_cancel):
            classes = kept.to_class[prov]
            classes[nodata] = MASK_NODATA
            mask.write(classes, core)
    _attach_category_names(mask_path, names)


def _attach_category_names(path: Path, names: list[str]) -> None:
    """Class names as GDAL category names (kept in the .aux.xml beside the mask)."""
    from osgeo import gdal

    categories = names + [""] * (MASK_NODATA - len(names)) + ["nodata"]
    with GDAL_IO:
        dataset = gdal.Open(str(path), gdal.GA_Update)
        dataset.GetRasterBand(1).SetCategoryNames(categories)
        dataset = None
