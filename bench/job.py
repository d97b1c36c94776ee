"""One measured job in its own process: prints wall time and peak memory as JSON.

Run as `python -m bench.job read PATH`, `python -m bench.job manual PATH OUT`,
`python -m bench.job extract PATH OUT PROMPT [profile] [bands=ROLES]`, or
`python -m bench.job polygonize MASK OUT`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from spex.engine.reports.profiling import peak_memory_mb


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


def manual_route(path: Path, out: Path, tile: int = 512) -> dict[str, object]:
    """What an analyst runs by hand: NDWI > 0 window by window, then GDAL Polygonize.

    The raster calculation reads only the green and NIR bands (found from the band
    descriptions, as `spex` finds them) and writes a tiled, deflate-compressed uint8 GeoTIFF;
    Polygonize (default 4-connectivity, the mask as its own mask) writes the water polygons
    into a GeoPackage in one transaction.
    """
    import time

    import numpy as np
    import rasterio
    from osgeo import gdal
    from rasterio.windows import Window

    from spex.engine.raster.bands import resolve_band_mapping

    gdal.UseExceptions()
    out.mkdir(parents=True, exist_ok=True)
    mask_path, gpkg_path = out / "ndwi_gt0.tif", out / "water.gpkg"
    start = time.perf_counter()
    with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(path) as ds:
        roles = resolve_band_mapping(ds.count, list(ds.descriptions)).roles
        green, nir = roles.index("green") + 1, roles.index("nir") + 1
        profile = ds.profile | {
            "count": 1,
            "dtype": "uint8",
            "nodata": None,
            "compress": "deflate",
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
        }
        with rasterio.open(mask_path, "w", **profile) as dst:
            for row in range(0, ds.height, tile):
                for col in range(0, ds.width, tile):
                    window = Window(col, row, min(tile, ds.width - col), min(tile, ds.height - row))
                    g, n = ds.read([green, nir], window=window).astype(np.float32)
                    dst.write((g - n > 0).astype(np.uint8), 1, window=window)
    calc_s = time.perf_counter() - start
    polygons = _polygonize(mask_path, gpkg_path, "water", "value", [])
    return {
        "polygons": polygons,
        "calc_s": calc_s,
        "polygonize_s": time.perf_counter() - start - calc_s,
    }


def polygonize_mask(mask: Path, out: Path) -> dict[str, object]:
    """GDAL Polygonize alone of an extract's own `mask.tif` into a GeoPackage: the part of any
    polygon-returning route that no classifier can shorten.

    Its classes as they are (0 background is left out by using the mask as its own mask), in
    8-connected regions as the engine's, one transaction.
    """
    out.mkdir(parents=True, exist_ok=True)
    return {"polygons": _polygonize(mask, out / "floor.gpkg", "regions", "class", ["8CONNECTED=8"])}


def _polygonize(mask: Path, gpkg: Path, layer_name: str, field: str, options: list[str]) -> int:
    """GDAL Polygonize of band 1 of `mask`, its nonzero pixels (the band as its own mask), into
    a new GeoPackage layer in one transaction; returns the number of polygons."""
    from osgeo import gdal, ogr

    gdal.UseExceptions()
    src = gdal.Open(str(mask))
    band = src.GetRasterBand(1)
    vector = ogr.GetDriverByName("GPKG").CreateDataSource(str(gpkg))
    layer = vector.CreateLayer(layer_name, src.GetSpatialRef(), ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn(field, ogr.OFTInteger))
    vector.StartTransaction()
    gdal.Polygonize(band, band, layer, 0, options)
    vector.CommitTransaction()
    polygons = layer.GetFeatureCount()
    layer = vector = band = src = None
    return polygons


def extract(
    path: Path, out: Path, prompt: str, profile: bool = False, bands: str | None = None
) -> dict[str, object]:
    """The main job, as `spex extract` runs it (`bands`: its ``--bands``); returns its counts
    and stage timings."""
    from spex.engine import ExtractionRequest, extract

    options: dict[str, object] = {"profile": True} if profile else {}  # older engines: no field
    if bands is not None:
        options["bands"] = bands
    result = extract(ExtractionRequest(path, prompt, out, **options))
    return {
        "regions": int(result.manifest["counts"]["regions_kept"]),
        "timings_s": result.manifest["timings_s"],
        "profile": result.manifest.get("profile"),
    }


def main(argv: list[str]) -> None:
    """Run the job named by argv[0] and print {"wall_s", "peak_rss_mb", "result"}."""
    start = time.perf_counter()
    if argv[0] == "read":
        result = plain_windowed_read(Path(argv[1]))
    elif argv[0] == "manual":
        result = manual_route(Path(argv[1]), Path(argv[2]))
    elif argv[0] == "polygonize":
        result = polygonize_mask(Path(argv[1]), Path(argv[2]))
    elif argv[0] == "extract":
        bands = next((a.removeprefix("bands=") for a in argv[4:] if a.startswith("bands=")), None)
        result = extract(Path(argv[1]), Path(argv[2]), argv[3], "profile" in argv[4:], bands)
    else:
        raise SystemExit(f"unknown job {argv[0]}")
    wall = time.perf_counter() - start
    peak = peak_memory_mb()
    cpu = time.process_time()
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak, "result": result}))


if __name__ == "__main__":
    main(sys.argv[1:])
