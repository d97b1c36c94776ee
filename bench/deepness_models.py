"""Deepness's own test models through `spex extract`, checked against Deepness's rule.

Not run by `make bench` (Deepness's files are not ours to ship): point it at a checkout of
PUTvision/qgis-plugin-deepness. Every `test/data/**/*.onnx` runs on its `dummy_fotomap_small.tif`
asking for all the model's classes; a refused model shows its one-line reason. For each run,
Deepness's segmentation processing is redone in numpy (its fixed tile grid from the corner,
zero padding, values below `seg_thresh` set to 0, argmax per output or `!= 0` for one channel,
smaller outputs centre-cropped) and compared pixel by pixel with our mask.

Usage: python bench/deepness_models.py DEEPNESS_CHECKOUT [--write] (--write: the table goes
into the "deepness-models" section of docs/benchmarks.md)
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def deepness_classes(model: Path, image: np.ndarray) -> np.ndarray:
    """Deepness's class maps (outputs, H, W): 0 where no window answered, else class + 1."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    threshold = float(json.loads(meta["seg_thresh"])) if "seg_thresh" in meta else None
    tile = session.get_inputs()[0].shape[-1]
    overlap = int(tile * float(json.loads(meta.get("tiles_overlap", "0"))) / 100)
    stride = tile - overlap
    c, h, w = image.shape
    ny, nx = -(-max(0, h - tile) // stride) + 1, -(-max(0, w - tile) // stride) + 1
    full = np.zeros((c, (ny - 1) * stride + tile, (nx - 1) * stride + tile), np.float32)
    full[:, :h, :w] = image
    outputs = len(session.get_outputs())
    result = np.zeros((outputs, *full.shape[1:]), np.int32)
    name = session.get_inputs()[0].name
    for i in range(ny):
        for j in range(nx):
            x = full[None, :, i * stride : i * stride + tile, j * stride : j * stride + tile]
            for o, r in enumerate(session.run(None, {name: x})):
                r = (r[:, None] if r.ndim == 3 else r)[0]
                if threshold is not None:
                    r = np.where(r < threshold, 0, r)
                if r.shape[0] == 1:  # our default threshold 0.5 when the model gives none
                    hit = (r[0] != 0) if threshold is not None else (r[0] >= 0.5)
                    cls = hit.astype(np.int32) + 1
                else:
                    cls = r.argmax(0) + 1
                off = (tile - r.shape[1]) // 2
                ys, xs = i * stride + off, j * stride + off
                result[o, ys : ys + r.shape[1], xs : xs + r.shape[2]] = cls
    return result[:, :h, :w]


def main() -> None:
    """Print one line per model: refused (why) or ran, agreement, time."""
    import rasterio

    from spex.engine.backends.onnx.backend import OnnxBackend
    from spex.engine.backends.onnx.classes import class_target
    from spex.engine.cli import main as spex

    data = Path(sys.argv[1]) / "test" / "data"
    raster = data / "dummy_fotomap_small.tif"
    with rasterio.open(raster) as src:
        image = src.read([1, 2, 3]).astype(np.float32) / 255.0  # Deepness: RGB / 255
    rows = [
        "| model | runs? | agreement with Deepness's rule | time |",
        "| --- | --- | --- | --- |",
    ]
    for model in sorted(data.rglob("*.onnx")):
        label = str(model.relative_to(data))
        try:
            targets = OnnxBackend(model=model).supported_targets()
        except Exception as exc:  # the one-line refusal is the result
            rows.append(f"| {label} | refused: {exc} | | |")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            prompt = "extract the " + " and the ".join(targets)
            clock = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                code = spex(
                    ["extract", str(raster), "--prompt", prompt, "--out", str(out), "--quiet"]
                    + ["--backend", "onnx", "--model", str(model)]
                )
            seconds = time.perf_counter() - clock
            if code != 0:
                rows.append(f"| {label} | failed (exit {code}) | | |")
                continue
            with rasterio.open(out / "mask.tif") as mask:
                ours = mask.read(1)
            run = json.loads((out / "run.json").read_text())
        names = run["backend"]["details"]["metadata"]["class_names"]
        plan = run["plan"]["targets"]
        theirs = deepness_classes(model, image)
        want = np.zeros(ours.shape, np.uint8)
        for o, group in enumerate(names):
            lut = [0] + [
                plan.index(class_target(n)) + 1 if class_target(n) in plan else 0 for n in group
            ]
            value = np.asarray(lut, np.uint8)[theirs[o]]
            want = np.where(want == 0, value, want)
        answered = (theirs > 0).all(axis=0)
        agree = float((ours == want)[answered].mean())
        rows.append(
            f"| {label} | yes ({', '.join(targets)}) | {agree:.4f} of "
            f"{answered.mean():.0%} of the pixels | {seconds:.1f} s |"
        )
    text = "\n".join(rows)
    print(text)
    if "--write" in sys.argv:
        from bench.report import replace_section

        intro = (
            "## ONNX backend: Deepness's own test models\n\n"
            "Every `test/data/**/*.onnx` of PUTvision/qgis-plugin-deepness on its "
            "`dummy_fotomap_small.tif` (2 cm RGB), unmodified, through `spex extract` asking for "
            "all the model's classes; agreement with Deepness's segmentation rule redone in "
            "numpy on the pixels its windows answer (the 512 -> 484 model leaves its edges "
            "unanswered). Command: `python bench/deepness_models.py DEEPNESS_CHECKOUT --write`."
            "\n\n"
        )
        replace_section(ROOT / "docs" / "benchmarks.md", "deepness-models", intro + text)


if __name__ == "__main__":
    main()
