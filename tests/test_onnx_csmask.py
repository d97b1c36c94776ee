"""A real pretrained network: ukis-csmask's EfficientNet-B4 U-Net (clear / cloud / cloud
shadow, shipped in its PyPI wheel), given Deepness-style metadata by `spex models add`, run on
a crop of the real Sentinel-2 L1C sample, agrees with the package's own pipeline on the same
pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from spex.engine.cli import main
from tests.rasters import crop_raster

pytest.importorskip("onnxruntime")
csmask = pytest.importorskip("ukis_csmask", reason="ukis-csmask is a test extra (make setup)")

SIDECAR = Path(__file__).resolve().parent.parent / "docs" / "examples" / "csmask_6b_l1c.json"
#: Bands of the sample's 13-band L1C stack in the model's order: B2 B3 B4 B8 B11 B12.
BANDS = [2, 3, 4, 8, 12, 13]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_csmask_clouds_and_shadows_agree_with_the_package(
    s2_scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ukis_csmask.mask import CSmask

    monkeypatch.setenv("SPEX_MODEL_DIR", str(tmp_path / "models"))
    model = Path(csmask.__file__).parent / "model_6b_l1c.onnx"
    scene = crop_raster(s2_scene, tmp_path / "crop.tif", (512, 0, 512, 512))  # clouds, shadows
    args = ["models", "add", str(model), "--metadata", str(SIDECAR), "--name", "csmask"]
    assert main(args) == 0
    out = tmp_path / "out"
    prompt = "extract the clouds and the cloud shadows"
    argv = ["extract", str(scene), "--prompt", prompt, "--out", str(out), "--quiet"]
    assert main([*argv, "--backend", "onnx", "--model", "csmask"]) == 0
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["plan"]["targets"] == ["cloud", "cloud_shadow"]
    with rasterio.open(out / "mask.tif") as mask:
        ours = mask.read(1)
        assert mask.tags()  # class names travel with the mask
    with rasterio.open(scene) as src:
        reflectance = np.moveaxis(src.read(BANDS).astype(np.float32) / 10000, 0, -1)
    theirs = CSmask(
        np.ascontiguousarray(reflectance),
        band_order=["blue", "green", "red", "nir", "swir16", "swir22"],
        product_level="l1c",
        intra_op_num_threads=2,
    ).csm[..., 0]
    cloud, shadow = iou(ours == 1, theirs == 1), iou(ours == 2, theirs == 2)
    assert (theirs == 1).sum() > 10_000 and (theirs == 2).sum() > 10_000  # both are there
    assert cloud >= 0.95, cloud
    assert shadow >= 0.90, shadow
    explanation = (out / "explanation.md").read_text()
    assert "cloud shadow" in explanation and "this scene's own values" not in explanation
