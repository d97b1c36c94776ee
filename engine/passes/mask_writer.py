"""The write pass: provisional labels remapped to the kept regions, `mask.tif` and region ids."""

from __future__ import annotations

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


def write_pass(
    facts: RunFacts,
    labels_path: Path,
    regions: Regions,
    kept: np.ndarray,
    mask_path: Path,
    region_path: Path,
    monitor: RunMonitor,
) -> None:
    """Write `mask.tif` (class per pixel, colours, names) and the region-id raster.

    `kept` are the indices of the regions the plan keeps, in their final order; every other
    region becomes background.
    """
    n_prov = len(regions.provisional_to_region)
    region_of = regions.provisional_to_region
    new_id = np.zeros(len(regions) + 1, dtype=np.int32)
    new_id[kept + 1] = np.arange(1, len(kept) + 1, dtype=np.int32)
    to_id = new_id[region_of + 1]  # region_of == -1 -> 0
    class_of_region = np.zeros(len(regions) + 1, dtype=np.uint8)
    class_of_region[kept + 1] = regions.target[kept]
    to_class = class_of_region[region_of + 1]
    grid, source = facts.grid, facts.source
    colours = {0: (0, 0, 0)} | {
        i: TARGETS[t].colour for i, t in enumerate(facts.plan.targets, start=1)
    }
    names = ["background"] + [TARGETS[t].title for t in facts.plan.targets]
    tags = {f"CLASS_{i}": name for i, name in enumerate(names)}
    tags.update(SPEX_PROMPT=facts.plan.prompt, SPEX_NODATA="255")
    with (
        rasterio.open(labels_path) as labels_src,
        GeoTiffSink(mask_path, source.dataset, "uint8", nodata=MASK_NODATA, area=grid.area) as mask,
        GeoTiffSink(
            region_path, source.dataset, "int32", nodata=0, area=grid.area, scratch=True
        ) as ids,
    ):
        mask.describe(["class"], colours, tags)
        for i, tile in enumerate(grid):
            monitor.check_cancel()
            local = Window(
                tile.core.col_off - grid.area.col_off,
                tile.core.row_off - grid.area.row_off,
                tile.core.width,
                tile.core.height,
            )
            with GDAL_IO:
                prov = labels_src.read(1, window=local)
            nodata = prov == NODATA_LABEL
            prov = np.where(nodata | (prov >= n_prov), 0, prov)
            classes = to_class[prov]
            classes[nodata] = MASK_NODATA
            mask.write(classes, tile.core)
            ids.write(to_id[prov], tile.core)
            monitor.progress(0.7 + 0.15 * (i + 1) / len(grid), "writing the mask")
    _attach_category_names(mask_path, names)


def _attach_category_names(path: Path, names: list[str]) -> None:
    """Class names as GDAL category names (kept in the .aux.xml beside the mask)."""
    from osgeo import gdal

    dataset = gdal.Open(str(path), gdal.GA_Update)
    categories = names + [""] * (MASK_NODATA - len(names)) + ["nodata"]
    dataset.GetRasterBand(1).SetCategoryNames(categories)
    dataset = None
