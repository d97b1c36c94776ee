"""A real pretrained network in `make bench`: ukis-csmask's EfficientNet-B4 U-Net (clear /
cloud / cloud shadow, from its PyPI wheel) on the Sentinel-2 sample, 256 px windows, 10 %
overlap, three ways on the same machine in one run:

1. raw onnxruntime over the same model windows, read, standardised and batched in memory
   beforehand (the runtime's best: nothing else is timed);
2. the whole `spex extract --backend onnx` (reading, the model, blending, regions, polygons,
   explanation), with the model added by `spex models add --metadata`;
3. the package's own pipeline (`ukis_csmask.mask.CSmask` on the scene already in memory).

Writes the "onnx-unet" section of docs/benchmarks.md. Run alone: python bench/onnx_unet.py
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import replace_section  # noqa: E402

SCENE = ROOT / ".cache" / "data" / "s2l1c_T33UUU_20170216.tif"
SIDECAR = ROOT / "docs" / "examples" / "csmask_6b_l1c.json"
PROMPT = "extract the clouds and the cloud shadows"
L1C_BANDS = [2, 3, 4, 8, 12, 13]  # B2 B3 B4 B8 B11 B12 of the 13-band stack


def add_model(work: Path, name: str, **changes: object) -> Path:
    """The package's 6-band L1C model with the sidecar's metadata (and `changes`)."""
    import ukis_csmask

    from spex.engine.backends.onnx.sidecar import add_onnx_model

    meta = json.loads(SIDECAR.read_text()) | changes
    sidecar = work / f"{name}.json"
    sidecar.write_text(json.dumps(meta))
    model = Path(ukis_csmask.__file__).parent / "model_6b_l1c.onnx"
    return add_onnx_model(model, sidecar, name, cache=work / "models")


def raw(model: Path, provider: str | None) -> dict[str, object]:
    """Raw onnxruntime over the windows the backend runs, prepared in memory beforehand."""
    from rasterio.windows import Window

    from spex.engine.backends.onnx.backend import OnnxBackend
    from spex.engine.backends.onnx.segmentation import WindowGrid
    from spex.engine.raster.raster_source import open_source

    backend = OnnxBackend(model=model, provider=provider)
    meta, session = backend.meta, backend.runtime.session
    t = meta.tile_size
    with open_source(SCENE) as source:
        grid = WindowGrid(source.width, source.height, t, meta.overlap, 0, meta.origin)
        bands = source.read(Window(0, 0, source.width, source.height), meta.bands)
    stack = backend._standardise(np.stack([np.nan_to_num(bands[r]) for r in meta.bands]))
    windows = []
    for i in range(grid.count(grid.height)):
        for j in range(grid.count(grid.width)):
            y0, x0 = grid.origin(i), grid.origin(j)
            ya, xa = max(0, y0), max(0, x0)
            part = stack[:, ya : y0 + t, xa : x0 + t]
            pads = ((0, 0), (ya - y0, t - part.shape[1] - (ya - y0)), (xa - x0, 0))
            pads = (*pads[:2], (xa - x0, t - part.shape[2] - (xa - x0)))
            windows.append(np.pad(part, pads, mode="symmetric"))
    batches = [
        np.stack(windows[s : s + backend._batch]).astype(np.float32)
        for s in range(0, len(windows), backend._batch)
    ]
    name = session.get_inputs()[0].name
    session.run(None, {name: batches[0][:1]})  # warm-up: first-run allocations
    clock = time.perf_counter()
    for x in batches:
        session.run(None, {name: x})
    return {
        "run_s": time.perf_counter() - clock,
        "windows": len(windows),
        "batch": backend._batch,
        "provider": backend.runtime.provider,
    }


def ours(model: Path, out: Path, provider: str | None) -> dict[str, object]:
    """The whole `spex extract`, as the command line runs it."""
    from spex.engine import ExtractionRequest, extract

    shutil.rmtree(out, ignore_errors=True)
    clock = time.perf_counter()
    options = {"model": model} | ({"provider": provider} if provider else {})
    result = extract(ExtractionRequest(SCENE, PROMPT, out, backend="onnx", backend_options=options))
    wall = time.perf_counter() - clock
    details = result.manifest["backend"]["details"]
    return {"wall_s": wall, "windows": details["windows_run"], "mask": out / "mask.tif"}


def package(provider: str | None) -> dict[str, object]:
    """ukis-csmask's own pipeline on the scene in memory (its defaults: 20 % overlap)."""
    import rasterio
    from ukis_csmask.mask import CSmask

    from spex.engine.backends.onnx.runtime import usable_cores

    with rasterio.open(SCENE) as src:
        image = np.moveaxis(src.read(L1C_BANDS).astype(np.float32) / 10000, 0, -1)
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if provider == "cuda" else None
    clock = time.perf_counter()
    mask = CSmask(
        np.ascontiguousarray(image),
        band_order=["blue", "green", "red", "nir", "swir16", "swir22"],
        product_level="l1c",
        intra_op_num_threads=usable_cores(),
        providers=providers or ["CPUExecutionProvider"],
    ).csm[..., 0]
    return {"run_s": time.perf_counter() - clock, "mask": mask}


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def run(provider: str | None = None) -> str:
    """Run the three and return the section's Markdown."""
    import rasterio

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = add_model(work, "csmask10", tiles_overlap=10, tiles_origin=25)
        r = raw(model, provider)
        o = ours(model, work / "out", provider)
        p = package(provider)
        same = ours(add_model(work, "csmask"), work / "same", provider)  # its own tiling
        with rasterio.open(o["mask"]) as m, rasterio.open(same["mask"]) as n:
            mask, same_mask = m.read(1), n.read(1)
    cloud, shadow = iou(mask == 1, p["mask"] == 1), iou(mask == 2, p["mask"] == 2)
    cloud_same = iou(same_mask == 1, p["mask"] == 1)
    shadow_same = iou(same_mask == 2, p["mask"] == 2)
    ratio = o["wall_s"] / r["run_s"]
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; onnxruntime on "
        f"{r['provider']}. Model: ukis-csmask 6-band L1C (EfficientNet-B4 U-Net, 3 classes), "
        f"256 px windows, 10 % overlap, batches of {r['batch']}. Raster: the Sentinel-2 sample, "
        "1536 x 768 px. Command: `python bench/onnx_unet.py` (also run by "
        "`bench/onnx_bench.py`).",
        "",
        "| run | time | / raw onnxruntime | windows |",
        "| --- | --- | --- | --- |",
        f"| raw onnxruntime (windows in memory) | {r['run_s']:.2f} s | 1.00x | {r['windows']} |",
        f"| `spex extract` (whole run) | {o['wall_s']:.2f} s | {ratio:.2f}x | {o['windows']} |",
        f"| ukis-csmask's own pipeline (in memory, its 20 % overlap) | {p['run_s']:.2f} s | "
        f"{p['run_s'] / r['run_s']:.2f}x | |",
        "",
        "Agreement with the package's classes (IoU, whole scene): with its own tiling "
        f"(docs/examples/csmask_6b_l1c.json: 20 % overlap, mirrored edges) cloud "
        f"{cloud_same:.3f}, cloud shadow {shadow_same:.3f} ({same['wall_s']:.1f} s); with the "
        f"10 % overlap above cloud {cloud:.3f}, cloud shadow {shadow:.3f}. The network's "
        "squeeze-and-excitation blocks pool over the whole window, so its answer depends on "
        "where the windows sit: agreement needs the same tiling, which the sidecar's "
        "`tiles_overlap`, `tiles_origin` and `tiles_padding` give. `tests/test_onnx_csmask.py` "
        "checks it on a 512 px crop (cloud >= 0.95, shadow >= 0.90).",
    ]
    return "\n".join(lines)


def main() -> None:
    """Print the section and write it into docs/benchmarks.md (`--no-write`: print only)."""
    text = run("cuda" if "--cuda" in sys.argv else None)
    print(text)
    if "--no-write" not in sys.argv:
        body = "## ONNX backend: a real U-Net (ukis-csmask)\n\n" + text
        replace_section(ROOT / "docs" / "benchmarks.md", "onnx-unet", body)


if __name__ == "__main__":
    main()
