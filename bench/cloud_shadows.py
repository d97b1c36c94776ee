"""How well Level-1C's cast cloud shadows (`engine/raster/cloud_shadows.py`) find real shadows.

- **Three hand-labelled chips** (ukis-csmask's Landsat 5, Landsat 7 and Sentinel-2 test chips,
  labelled cloud, cloud shadow, water and land; read from the git mirror, pinned by sha256).
  The chips carry no sun angles, so the sun's azimuth is fitted WITH the labels (the one, in
  5-degree steps, whose full sweep holds most labelled shadow) and the zenith is 45 degrees:
  what is measured is the darkness test, the matching and the height range, not the
  direction. Each row: the engine's functions with its constants, on the chip's 30 m grid,
  clouds as labelled; the cast shadow against the labelled shadow (IoU, precision, recall) and
  the labelled water it would hide. Ablations: every cloud swept (no matching), no water test,
  and the darkness share at 0.6 and 0.8.
- **The sun the spectral backend finds** on the same chips, as `bench.quality` runs them
  (`backends/spectral/shadow_veto.py`: the azimuth whose sweep of the classifier's own clouds
  holds the most possible shadow), against the one fitted with the labels above.
- **A winter scene whose clouds cast no shadow that can be seen**: the real Sentinel-2 sample
  (T33UUU, 2017-02-16) with its hand-drawn haze clouds, on the 60 m grid as the engine matches,
  with the sun of its date and place and with three wrong ones: the shadow pixels cast at 10 m.

Run: ``.venv/bin/python -m bench.cloud_shadows`` -> Markdown on stdout and in
``bench/out/cloud_shadows.md``. Skips a chip whose mirror is absent, saying so.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import rasterio

from spex.engine.raster import cloud_shadows as cs

from .csmask_scene import UKIS_COMMIT, UKIS_REPO
from .extra_scenes import SourceUnavailableError, _git_blob, mirror_path
from .sentinel2_safe import SAMPLE_SUN

OUT = Path(__file__).resolve().parent / "out"
CACHE = Path(__file__).resolve().parents[1] / ".cache"
#: The chips (file in the mirror at `UKIS_COMMIT`, sha256).
CHIPS = {
    "ukis Landsat 5": (
        "tests/testfiles/landsat5.npz",
        "9e9387fc2236c7a0d9da68d88f027865343750e731ec7f8124547cf7c22c46bf",
    ),
    "ukis Landsat 7": (
        "tests/testfiles/landsat7.npz",
        "81cccaf46333d512a26580a1b5e12f2a7823634abe0c83d6973fda3ca2079299",
    ),
    "ukis Sentinel-2": (
        "tests/testfiles/sentinel2.npz",
        "b0bb793c4b53dbe99839372de70fcfa1b375147f0c6f0f936b3b2a321a0e7062",
    ),
}
#: The reference mask's codes (Wieland et al. 2019, as `csmask_scene` reads them).
SHADOW, WATER, CLOUD = 0, 1, 4
CHIP_PIXEL_M = 30.0
CHIP_ZENITH = 45.0


def cast(
    clouds: np.ndarray,
    green: np.ndarray,
    nir: np.ndarray,
    sun: cs.SunAngles,
    pixel_m: float,
    dark_share: float = cs.DARK_SHARE,
    matching: bool = True,
    water_test: bool = True,
) -> np.ndarray:
    """The engine's cast shadow on one grid (clouds, bands and test on the same pixels)."""
    dark = dark_share * float(np.median(nir[~clouds & (nir > 0)]))
    possible = cs.possible_shadow(green, nir, dark)
    if not water_test:
        possible = (nir > 0) & (nir < dark)
    offsets = cs.shadow_offsets(sun, pixel_m)
    casting = cs.casting_clouds(clouds, possible & ~clouds, offsets) if matching else clouds
    return cs.swept(casting, offsets) & ~clouds & possible


def fitted_azimuth(clouds: np.ndarray, shadow: np.ndarray) -> float:
    """The azimuth (5-degree steps) whose full sweep holds most labelled shadow, per pixel
    swept."""
    best, found = -1.0, 0.0
    for azimuth in range(0, 360, 5):
        sun = cs.SunAngles(CHIP_ZENITH, float(azimuth))
        reach = cs.swept(clouds, cs.shadow_offsets(sun, CHIP_PIXEL_M)) & ~clouds
        share = (reach & shadow).sum() / max(int(reach.sum()), 1)
        if share > best:
            best, found = share, float(azimuth)
    return found


def chip_rows() -> list[str]:
    """One Markdown row per chip and variant."""
    rows = []
    mirror = mirror_path(UKIS_REPO, "SPEX_UKIS_MIRROR")
    variants = {
        "engine": {},
        "every cloud swept": {"matching": False},
        "no water test": {"water_test": False},
        "darkness 0.6": {"dark_share": 0.6},
        "darkness 0.8": {"dark_share": 0.8},
    }
    for name, (path, sha256) in CHIPS.items():
        try:
            arrays = np.load(io.BytesIO(_git_blob(mirror, UKIS_COMMIT, path, sha256)))
        except SourceUnavailableError as missing:
            rows.append(f"| {name} | skipped: {missing} | | | | | |")
            continue
        image, mask = arrays["img"], arrays["msk"][..., 0]
        clouds, shadow, water = mask == CLOUD, mask == SHADOW, mask == WATER
        green, nir = image[..., 1].astype(np.float64), image[..., 3].astype(np.float64)
        sun = cs.SunAngles(CHIP_ZENITH, fitted_azimuth(clouds, shadow))
        for variant, options in variants.items():
            found = cast(clouds, green, nir, sun, CHIP_PIXEL_M, **options)
            hit = int((found & shadow).sum())
            iou = hit / max(int((found | shadow).sum()), 1)
            rows.append(
                f"| {name} | {variant} | {sun.azimuth:.0f} | {iou:.3f} | "
                f"{hit / max(int(found.sum()), 1):.2f} | {hit / max(int(shadow.sum()), 1):.2f} | "
                f"{int((found & water).sum()):,} of {int(water.sum()):,} |"
            )
    return rows


def found_rows() -> list[str]:
    """The azimuth the spectral backend finds on each chip of the benchmark."""
    from spex.engine.backends.spectral.params import SpectralParams

    from .quality import run_engine
    from .scenes import all_scenes

    names = {"ukis_l5_csmask": "ukis Landsat 5", "ukis_l7_csmask": "ukis Landsat 7",
             "ukis_s2_csmask": "ukis Sentinel-2"}  # fmt: skip
    rows = []
    for scene in all_scenes(("benchmark", "extra")):
        if scene.name in names:
            _, _, backend = run_engine(scene.rasters[0][0], scene, SpectralParams())
            veto = backend.scene.shadows
            found = f"{veto.azimuth:.0f}" if veto is not None else "none"
            rows.append(f"| {names[scene.name]} | {found} |")
    return rows


def winter_rows() -> list[str]:
    """The sample scene's hand-drawn haze clouds, matched on the 60 m grid, cast at 10 m."""
    image = CACHE / "data" / "s2l1c_T33UUU_20170216.tif"
    labels = CACHE / "quality" / "s2_hand_labels.tif"
    if not (image.is_file() and labels.is_file()):
        return ["| winter sample | skipped: run `make data` and `bench.quality` first | | |"]
    with rasterio.open(image) as src, rasterio.open(labels) as lab:
        green, nir = (src.read(b).astype(np.float64) for b in (3, 8))
        clouds = lab.read(1) == 7  # the hand-drawn cloud (`bench.scenes` recodes it to 6)
    h6, w6 = clouds.shape[0] // 6, clouds.shape[1] // 6
    clouds60 = clouds[: h6 * 6, : w6 * 6].reshape(h6, 6, w6, 6).mean(axis=(1, 3)) > 0.5
    green60, nir60 = green[::6, ::6][:h6, :w6], nir[::6, ::6][:h6, :w6]
    dark = cs.DARK_SHARE * float(np.median(nir60[~clouds60 & (nir60 > 0)]))
    possible60 = cs.possible_shadow(green60, nir60, dark)
    rows = []
    zenith, azimuth = SAMPLE_SUN
    for label, az in (("the scene's", azimuth), ("opposite", azimuth + 180), ("east", 90.0),
                      ("west", 270.0)):  # fmt: skip
        sun = cs.SunAngles(zenith, az % 360)
        offsets = cs.shadow_offsets(sun, 60.0)
        casting = cs.casting_clouds(clouds60, possible60 & ~clouds60, offsets)
        reach60 = cs.swept(casting, offsets) & ~clouds60
        reach = np.repeat(np.repeat(reach60, 6, axis=0), 6, axis=1)
        full = np.zeros_like(clouds)
        full[: reach.shape[0], : reach.shape[1]] = reach
        swept_all = cs.swept(clouds60, offsets) & ~clouds60 & possible60
        found = full & cs.possible_shadow(green, nir, dark)
        rows.append(
            f"| winter sample | {label} sun ({az % 360:.0f} deg) | {_objects(casting)} of "
            f"{_objects(clouds60)} clouds | {int(found.sum()):,} px at 10 m (every cloud swept: "
            f"{int(swept_all.sum()) * 36:,}) |"
        )
    return rows


def _objects(mask: np.ndarray) -> int:
    from scipy import ndimage

    return int(ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))[1])


def main() -> None:
    """Print and write the tables."""
    lines = [
        "| chip | variant | azimuth (fitted) | shadow IoU | precision | recall | water hidden |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *chip_rows(),
        "",
        "| chip | azimuth the spectral backend finds |",
        "| --- | --- |",
        *found_rows(),
        "",
        "| scene | sun | clouds casting | shadow cast |",
        "| --- | --- | --- | --- |",
        *winter_rows(),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    OUT.mkdir(exist_ok=True)
    (OUT / "cloud_shadows.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
