"""A held-out airborne scene of soil, trees and water for the quality benchmark: Samson.

``upcgit_samson_shore``: the 95 x 95 pixel Samson subscene that hyperspectral unmixing papers
use (the SAMSON airborne spectrometer, 156 bands over 401-889 nm), with its reference
abundances of soil, tree and water, as UPCGIT/Hyperspectral-Unmixing-Models ships it (one
MATLAB file). Bare soil is the benchmark's weakest target and had eight scenes; this is a ninth,
beside water and trees, in visible and near-infrared bands only. Labelled as Jasper Ridge and
MUUFL Gulfport are: a pixel is its material where that material's abundance is at least
``PURE_FRACTION``. Stop 62 read the file's description and left it out (no built-up class);
added in stop 64, after every rule of the spectral backend was set, and scored before anything
else was done with it: no choice was tuned on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .extra_scenes import Scene
from .jasper_scene import PURE_FRACTION, pure_pixel_labels, spectrometer_scene
from .muufl_scene import UPCGIT_COMMIT, UPCGIT_REPO, upcgit_mat

SAMSON_FILE = "Datasets/Samson.mat"
SAMSON_SHA256 = "49530e80d0dabf6b1fb9cde2d6cf257f89a344afe9c13b2cc912eb22f344de18"
#: The reference materials in the file's order (soil, tree, water: their spectra, ``GT``,
#: checked: the third is dark in NIR, the second green and bright there) as benchmark codes.
SAMSON_CODES = (4, 2, 1)
TREE = 1
#: The Samson scene's 156 bands as the unmixing literature describes them (401-889 nm).
FIRST_NM, LAST_NM, BANDS = 401.0, 889.0, 156


def build_upcgit_samson_shore(work: Path, downloads: Path) -> Scene:
    """Samson (156 bands, 401-889 nm) with its soil, tree and water abundances."""
    del work, downloads  # from a git mirror only, read in memory
    mat = upcgit_mat(SAMSON_FILE, SAMSON_SHA256)
    rows, cols = int(mat["lines"][0, 0]), int(mat["cols"][0, 0])
    pixels = np.asarray(mat["Y"], dtype=np.float64)  # bands x pixels
    # Pixel k is row k % rows, column k // rows (column by column, as MATLAB stores it): so
    # read, the pure water is dark in NIR (0.02) and the trees bright (0.57); row by row, not.
    image = pixels.reshape((pixels.shape[0], rows, cols), order="F")
    labels, trees = pure_pixel_labels(np.asarray(mat["S_GT"], dtype=np.float64), SAMSON_CODES, TREE)
    nm = np.linspace(FIRST_NM, LAST_NM, BANDS)
    step = float(np.diff(nm)[0])
    counts = {int(c): int(n) for c, n in zip(*np.unique(labels, return_counts=True), strict=True)}
    notes = f"""Source: GitHub {UPCGIT_REPO}, commit {UPCGIT_COMMIT}, file {SAMSON_FILE}
(last changed 2024-12-10; Y: {pixels.shape[0]} bands x {rows * cols} pixels, float64, 0-1;
S_GT: the reference abundances of soil, tree and water, {rows} x {cols} x 3; GT: their
spectra). The repository carries no licence at its root; the scene and its abundances are the
unmixing literature's (Zhu, Wang, Xiang & Pan 2014, "Structured sparse method for hyperspectral
unmixing", ISPRS J. 88:101-118, as for Jasper Ridge). Read at set-up from the mirror, never
committed or redistributed.

Sensor: SAMSON (an airborne imaging spectrometer), the 95 x 95 pixel subscene of unmixing
papers: {pixels.shape[0]} bands over 401-889 nm (the literature's description). The file gives
no wavelengths: each band's centre is taken as evenly spaced over that range ({step:.2f} nm
apart), written as each band's wavelength so that the engine picks its band per role by
wavelength. Values: the file's own, 0-1, the cube divided by one factor (each band's maximum
0.10-1.00): not reflectance, stored as given (float32), so the engine's own scaling rules apply.
No SWIR band. No georeferencing: a CRS-less identity transform (areas in pixels).

Labels: each pixel's largest abundance when it is at least {PURE_FRACTION} (a pure pixel),
else unlabelled (0). Mapping: soil -> 4 bare soil, tree -> 2 vegetation (and tree cover,
trees.tif), water -> 1. Counts by code: {counts}. The abundances come from unmixing guided by
analysts, not from a field survey. Added after the spectral backend's rules were set (stop 64):
a held-out scene."""
    meta = {
        "sensor": "SAMSON, 156 bands over 401-889 nm, values scaled to 0-1 (unmixing scene)",
        "scaling": "the cube divided by one factor (float), not declared in the file",
        "source": f"github.com/{UPCGIT_REPO}@{UPCGIT_COMMIT} {SAMSON_FILE}",
        "licence": "no licence in the repository; read, not redistributed",
    }
    channels = range(1, pixels.shape[0] + 1)
    return spectrometer_scene(
        image.astype(np.float32), labels, trees, (channels, nm, step), meta, notes
    )
