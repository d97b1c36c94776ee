"""`spex indices`: one spectral index written as a float32 GeoTIFF, window by window."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .indices import available_indices, get_index
from .outputs import atomic_file_target
from .progress import RunMonitor
from .raster.cloud_masking import check_cloud_buffer
from .raster.raster_sink import GeoTiffSink
from .raster.raster_source import open_source
from .raster.windows import make_grid

#: Nodata value of index rasters.
INDEX_NODATA = np.float32(-9999.0)


def write_index(
    input_path: Path,
    index_name: str,
    out_path: Path,
    bands: str | Sequence[str] | None = None,
    sensor: str | None = None,
    scale: float | None = None,
    offset: float | None = None,
    tile_size: int = 512,
    monitor: RunMonitor | None = None,
    mask_clouds: bool = False,
    cloud_buffer_m: float = 0.0,
) -> Path:
    """Compute `index_name` over the whole raster into `out_path` (written atomically); with
    `mask_clouds`, nodata where the product's quality band flags cloud and within
    `cloud_buffer_m` metres of it (`cloud_masking`)."""
    monitor = monitor or RunMonitor()
    index = get_index(index_name)
    check_cloud_buffer(mask_clouds, cloud_buffer_m)
    with open_source(
        input_path,
        bands,
        sensor,
        scale,
        offset,
        mask_clouds=mask_clouds,
        cloud_buffer_m=cloud_buffer_m,
    ) as source:
        source.mapping.require(
            index.roles,
            index.name,
            f"set --bands or choose one of {', '.join(available_indices(source.roles))}",
        )
        grid = make_grid(source.width, source.height, tile_size, 0)
        tmp = atomic_file_target(Path(out_path))
        try:
            with GeoTiffSink(
                tmp, source.dataset, "float32", nodata=float(INDEX_NODATA), ordered=True
            ) as sink:
                sink.describe(
                    [index.name], tags={"SPEX_INDEX": index.name, "FORMULA": index.formula}
                )
                for i, tile in enumerate(grid):
                    monitor.check_cancel()
                    values = index.compute(source.read(tile.read))
                    sink.write(np.where(np.isfinite(values), values, INDEX_NODATA), tile.core)
                    monitor.progress((i + 1) / len(grid), f"{index.name} tile {i + 1}/{len(grid)}")
            os.replace(tmp, out_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return Path(out_path)
