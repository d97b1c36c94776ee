"""A held-out airborne scene of water, soil and vegetation with SWIR: Moffett Field.

``upcgit_aviris_moffett``: the 50 x 50 pixel Moffett Field subscene that hyperspectral
unmixing papers use (AVIRIS, 184 of its 224 channels over about 400-2400 nm), with its
reference abundances of water, soil and vegetation, as UPCGIT/Hyperspectral-Unmixing-Models
ships it (one MATLAB file, beside Samson's). Bare soil is the benchmark's target with the
fewest scenes; this one has a SWIR band for the soil index, where Samson has none. Labelled as
Jasper Ridge, MUUFL Gulfport and Samson are: a pixel is its material where that material's
abundance is at least ``PURE_FRACTION``. Its vegetation is not told into trees and the rest, so
it has no tree-cover raster. Added in stop 65, after every rule of the spectral backend was
set, and scored before anything else was done with it: no choice was tuned on it.

The file gives no wavelengths and no list of the channels kept. They are placed from the
file's own spectra (each a one-off reading of the reference spectra ``GT``, recorded in
``source.md``): the two widest jumps of the vegetation spectrum between neighbouring kept bands
mark the two water-vapour gaps (after the 101st and the 135th band), and its features then
give the channels on AVIRIS's nominal grid (``jasper_scene.channel_wavelengths``, 380-2500 nm):
the red edge's steepest rise between the 34th and 35th bands (717 nm if the first kept channel
is 3), the vegetation's SWIR1 maximum at the 120th (1646 nm for channels 116-149) and the
vegetation's and soil's SWIR2 maximum at the 158th (2203 nm for channels 171-219). Forty
channels removed in all (1-2, 104-115, 150-170, 220-224), as the file's 184 bands require.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .extra_scenes import Scene
from .jasper_scene import PURE_FRACTION, channel_wavelengths, pure_pixel_labels, spectrometer_scene
from .muufl_scene import UPCGIT_COMMIT, UPCGIT_REPO, upcgit_mat

MOFFETT_FILE = "Datasets/moffett.mat"
MOFFETT_SHA256 = "1fc5875512af3d87a511a9ad8795b03f3785a834d75442edf07fa31332795567"
#: The reference materials in the file's order (water, soil, vegetation: their spectra,
#: ``GT``, checked: the first is dark from the red on, the second rises steadily, the third has
#: the red edge) as benchmark codes.
MOFFETT_CODES = (1, 4, 2)
#: No material is tree cover (the file's vegetation is not told into trees and the rest).
NO_TREE = -1
#: The AVIRIS channels kept, placed from the spectra's gaps and features (module docstring).
KEPT_CHANNELS = (*range(3, 104), *range(116, 150), *range(171, 220))


def build_upcgit_aviris_moffett(work: Path, downloads: Path) -> Scene:
    """Moffett Field (AVIRIS, 184 bands) with its water, soil and vegetation abundances."""
    del work, downloads  # from a git mirror only, read in memory
    mat = upcgit_mat(MOFFETT_FILE, MOFFETT_SHA256)
    rows, cols = int(mat["lines"][0, 0]), int(mat["cols"][0, 0])
    pixels = np.asarray(mat["Y"], dtype=np.float64)  # bands x pixels
    assert pixels.shape[0] == len(KEPT_CHANNELS), "the file's bands are the channels placed"
    # Column by column, as MATLAB stores it (as for Samson): so read, the pure water is dark in
    # NIR (0.03) and the soil and vegetation bright (0.54, 0.66); row by row, not.
    image = pixels.reshape((pixels.shape[0], rows, cols), order="F")
    abundances = np.asarray(mat["S_GT"], dtype=np.float64)
    labels, _ = pure_pixel_labels(abundances, MOFFETT_CODES, NO_TREE)
    nm = channel_wavelengths()[np.asarray(KEPT_CHANNELS) - 1]
    step = float(np.diff(channel_wavelengths())[0])
    counts = {int(c): int(n) for c, n in zip(*np.unique(labels, return_counts=True), strict=True)}
    notes = f"""Source: GitHub {UPCGIT_REPO}, commit {UPCGIT_COMMIT}, file {MOFFETT_FILE}
(last changed 2024-12-10; Y: {pixels.shape[0]} bands x {rows * cols} pixels, float64, 0-1;
S_GT: the reference abundances of water, soil and vegetation, {rows} x {cols} x 3; GT: their
spectra). The repository carries no licence at its root; the scene is AVIRIS's (NASA/JPL,
Moffett Field, California, 1997) and its abundances the unmixing literature's. Read at set-up
from the mirror, never committed or redistributed.

Sensor: AVIRIS (an airborne imaging spectrometer), the 50 x 50 pixel Moffett Field subscene of
unmixing papers (about 20 m pixels): {pixels.shape[0]} of its 224 channels. The file gives no
wavelengths and no channel list; the channels are placed from the file's own reference spectra
on AVIRIS's nominal grid (channel centres evenly spaced over 380-2500 nm, {step:.2f} nm apart;
the instrument's own centres differ by up to about 10 nm): the vegetation spectrum's two widest
jumps between neighbouring bands (0.23 after band 101, 0.17 after band 135) are the
water-vapour gaps; its red edge rises most steeply between bands 34 and 35 (717 nm when the
first channel kept is 3), its SWIR1 maximum is band 120 (1646 nm for channels 116-149) and its
SWIR2 maximum, the soil's too, band 158 (2203 nm for channels 171-219). Channels kept: 3-103,
116-149, 171-219 (40 removed: 1-2, 104-115, 150-170, 220-224), written as each band's
wavelength so that the engine picks its band per role by wavelength; each placement could be
off by one or two channels (10-20 nm). Values: the file's own, 0-1, the cube divided by one
factor (each band's maximum 0.13-0.98): not reflectance, stored as given (float32), so the
engine's own scaling rules apply. No georeferencing: a CRS-less identity transform (areas in
pixels).

Labels: each pixel's largest abundance when it is at least {PURE_FRACTION} (a pure pixel),
else unlabelled (0). Mapping: water -> 1, soil -> 4 bare soil, vegetation -> 2 (not told into
trees and the rest: no trees.tif). Counts by code: {counts}. The abundances come from unmixing,
not from a field survey. Added after the spectral backend's rules were set (stop 65): a
held-out scene."""
    meta = {
        "sensor": "AVIRIS, 184 bands over about 400-2400 nm, values scaled to 0-1 (unmixing scene)",
        "scaling": "the cube divided by one factor (float), not declared in the file",
        "source": f"github.com/{UPCGIT_REPO}@{UPCGIT_COMMIT} {MOFFETT_FILE}",
        "licence": "no licence in the repository; AVIRIS data NASA/JPL; read, not redistributed",
    }
    bands = (KEPT_CHANNELS, nm, step)
    return spectrometer_scene(image.astype(np.float32), labels, None, bands, meta, notes)
