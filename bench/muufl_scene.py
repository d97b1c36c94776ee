"""A held-out airborne scene for the quality benchmark: MUUFL Gulfport and its abundances.

``muufl_casi_gulfport``: 90 x 90 pixels of the MUUFL Gulfport flight (ITRES CASI-1500, 64
bands over 375-1050 nm, about 1 m pixels) over the Gulf Park campus of the University of
Southern Mississippi: roofs, asphalt, grass, trees and their shadows. As shipped by
UPCGIT/Hyperspectral-Unmixing-Models (MUNet's ``muffle_dataset_130_90.mat``, the first 90 of
the 130 rows of the unmixing literature's region) with the reference abundances of roof, grass,
tree, shadow and asphalt. The benchmark's first airborne scene, its first at metre pixels and
its first of visible and near-infrared bands only from a spectrometer. A pixel is labelled with
its material where that material covers at least ``PURE_FRACTION`` of it, as for Jasper Ridge.
Added in stop 64, after every rule of the spectral backend was set: no choice was tuned on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .extra_scenes import Scene, _git_blob, mirror_path
from .jasper_scene import PURE_FRACTION, _loadmat, pure_pixel_labels, spectrometer_scene

UPCGIT_REPO = "UPCGIT/Hyperspectral-Unmixing-Models"
UPCGIT_COMMIT = "3ec77a26ce726c2843b4e29070b435056941df39"
MUUFL_FILE = "IEEE_TGRS_MUNet-main/data/muffle_dataset_130_90.mat"
MUUFL_SHA256 = "207a19630faf445eccc403f3ccea0e85d898f8458200d225b34e618372cbf3cd"
#: The reference materials in the file's order (its README: roof, grass, tree, shadow,
#: asphalt) as benchmark codes. Shadow is no land cover: what lies in it is unknown, so its
#: pure pixels stay unlabelled (chosen before any run of the engine on the scene).
MUUFL_CODES = (3, 2, 2, 0, 3)
TREE = 2
#: CASI's 64 bands as the dataset describes them (375-1050 nm): taken as evenly spaced.
FIRST_NM, LAST_NM, BANDS = 375.0, 1050.0, 64


def upcgit_mirror() -> Path:
    """The bare git mirror of the UPCGIT repository (``SPEX_UPCGIT_MIRROR`` if set)."""
    return mirror_path(UPCGIT_REPO, "SPEX_UPCGIT_MIRROR")


def upcgit_mat(path: str, sha256: str) -> dict:
    """A MATLAB file of the UPCGIT repository's mirror, checked against its sha256 and read in
    memory."""
    return _loadmat(_git_blob(upcgit_mirror(), UPCGIT_COMMIT, path, sha256))


def build_muufl_casi_gulfport(work: Path, downloads: Path) -> Scene:
    """MUUFL Gulfport (CASI, 64 bands) with its roof, grass, tree and asphalt abundances."""
    del work, downloads  # from a git mirror only, read in memory
    mat = upcgit_mat(MUUFL_FILE, MUUFL_SHA256)
    cube = np.asarray(mat["Y"], dtype=np.float64)  # rows, cols, bands: already a cube
    rows, cols, count = cube.shape
    labels, trees = pure_pixel_labels(np.asarray(mat["label"], dtype=np.float64), MUUFL_CODES, TREE)
    nm = np.linspace(FIRST_NM, LAST_NM, BANDS)
    step = float(np.diff(nm)[0])
    counts = {int(c): int(n) for c, n in zip(*np.unique(labels, return_counts=True), strict=True)}
    notes = f"""Source: GitHub {UPCGIT_REPO}, commit {UPCGIT_COMMIT}, file {MUUFL_FILE}
(last changed 2025-03-04; Y: {rows} x {cols} x {count}, float64; label: the reference
abundances of 1-roof, 2-grass, 3-tree, 4-shadow, 5-asphalt, each pixel's summing to 1; M: their
spectra; DSM and MPN: LiDAR, not used). The folder is MUNet's (Han, Hong, Gao, Yao, Zhang &
Chanussot 2022, "Multimodal hyperspectral unmixing: insights from attention networks", IEEE
TGRS 60:5524913), licensed GPL-3.0 there; the imagery is the MUUFL Gulfport dataset's (Gader,
Zare, Close, Aitken & Tuell 2013, University of Florida and University of Southern Mississippi),
whose terms ask that it be cited. Read at set-up from the mirror, never committed or
redistributed.

Sensor: ITRES CASI-1500 (airborne imaging spectrometer), Gulf Park campus, Long Beach,
Mississippi, November 2010, about 1 m pixels: {count} bands over 375-1050 nm (the dataset's
description). The file gives no wavelengths: each band's centre is taken as evenly spaced over
that range ({step:.2f} nm apart), written as each band's wavelength so that the engine picks
its band per role by wavelength. Values: the file's own, 0-1, scaled by one factor over the
whole cube (each band's maximum 0.71-1.00): not reflectance (the shadows' blue is 0.11, the
trees' 0.12: an offset such as path radiance is in them), stored as given (float32), so the
engine's own scaling rules apply. No SWIR band. No georeferencing: a CRS-less identity
transform (areas in pixels).

Labels: each pixel's largest abundance when it is at least {PURE_FRACTION} (a pure pixel),
else unlabelled (0). Mapping: roof and asphalt -> 3 built-up; grass and tree -> 2 vegetation
(tree alone is tree cover, trees.tif); shadow -> 0 unlabelled (no land cover: what lies in the
shadow is unknown). Counts by code: {counts}. The abundances come from unmixing guided by
analysts (the MUNet paper's reference), not from a field survey; the asphalt's spectrum rises
in the near infrared (mixed with the grass beside the roads). Added after the spectral
backend's rules were set (stop 64): a held-out scene."""
    meta = {
        "sensor": "CASI-1500, 64 bands over 375-1050 nm, values scaled to 0-1 (MUUFL Gulfport)",
        "scaling": "the cube divided by its maximum (float), not declared in the file",
        "source": f"github.com/{UPCGIT_REPO}@{UPCGIT_COMMIT} {MUUFL_FILE}",
        "licence": "GPL-3.0 folder; MUUFL Gulfport imagery (cite); read, not redistributed",
    }
    image = cube.transpose(2, 0, 1).astype(np.float32)
    return spectrometer_scene(image, labels, trees, (range(1, count + 1), nm, step), meta, notes)
