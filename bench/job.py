"""One measured job in its own process: prints wall time and peak memory as JSON.

Run as `python -m bench.job read PATH` or `python -m bench.job extract PATH OUT PROMPT`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def plain_windowed_read(path: Path, tile: int = 512) -> dict[str, object]:
    """Read every band of every `tile` window once: the baseline of any windowed processing."""
    import rasterio
    from rasterio.windows import Window

    total = 0
    with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(path) as ds:
        for row in range(0, ds.height, tile):
            for col in range(0, ds.width, tile):
                window = Window(col, row, min(tile, ds.width - col), min(tile, ds.height - row))
                total += int(ds.read(window=window).shape[-1])
    return {"columns_read": total}


def extract(path: Path, out: Path, prompt: str) -> dict[str, object]:
    """The main job, as `spex extract` runs it; returns its counts and stage timings."""
    from spex.engine import ExtractionRequest, extract

    result = extract(ExtractionRequest(path, prompt, out))
    return {
        "regions": int(result.manifest["counts"]["regions_kept"]),
        "timings_s": result.manifest["timings_s"],
    }


def main(argv: list[str]) -> None:
    """Run the job named by argv[0] and print {"wall_s", "peak_rss_mb", "result"}."""
    start = time.perf_counter()
    if argv[0] == "read":
        result = plain_windowed_read(Path(argv[1]))
    elif argv[0] == "extract":
        result = extract(Path(argv[1]), Path(argv[2]), argv[3])
    else:
        raise SystemExit(f"unknown job {argv[0]}")
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "peak_rss_mb": peak, "result": result}))


if __name__ == "__main__":
    main(sys.argv[1:])
