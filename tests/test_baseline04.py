"""A Sentinel-2 product of processing baseline 04.00 and later (every value + 1000) runs end to
end as its older encoding does: the real L1C scene stored both ways gives the same mask, and the
explanation says what was recognised."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio

from spex.engine import ExtractionRequest, extract


def test_baseline_04_product_gives_the_mask_of_its_older_encoding(
    s2_scene: Path, tmp_path: Path
) -> None:
    recent = tmp_path / "s2_baseline04.tif"
    with rasterio.open(s2_scene) as src:
        dn = src.read()
        profile = src.profile
        names = src.descriptions
    valid = (dn != 0).any(axis=0)
    shifted = np.where(valid, dn.astype(np.int32) + 1000, 0).astype(np.uint16)  # RADIO_ADD_OFFSET
    with rasterio.open(recent, "w", **profile) as dst:
        dst.write(shifted)
        for i, name in enumerate(names, start=1):
            dst.set_band_description(i, name)
    prompt = "extract the water bodies and vegetation"
    old = extract(ExtractionRequest(s2_scene, prompt, tmp_path / "old"))
    new = extract(ExtractionRequest(recent, prompt, tmp_path / "new"))
    scaling = json.loads(new.manifest_path.read_text())["scaling"]
    assert scaling["offset"] == -0.1 and scaling["calibrated"]
    with rasterio.open(old.mask_path) as a, rasterio.open(new.mask_path) as b:
        agree = float((a.read(1) == b.read(1)).mean())
    assert agree > 0.999  # float32 rounding of (DN + 1000) x 1e-4 - 0.1 moves a few pixels
    assert "add 1000 to every value" in new.explanation_path.read_text()
