"""A held-out AVIRIS scene for the quality benchmark: Jasper Ridge and its abundance ground truth.

``maxvoldual_aviris_jasper``: the 100 x 100 pixel Jasper Ridge subscene of an AVIRIS flight
(198 of 224 bands, 380-2500 nm) that hyperspectral unmixing papers use, with its reference
abundances of tree, water, dirt and road; as shipped by mabdolali/MaxVol_Dual (``data/jasper``,
MATLAB files read with scipy). A second imaging spectrometer beside EnMAP, and a road class:
a pixel is labelled with its material where that material's abundance is at least
``PURE_FRACTION``, mixed pixels stay unlabelled. Added in stop 62, after every rule of the
spectral backend was set: no choice was tuned on it. Built by ``bench/extra_scenes.py`` like
its other scenes (pinned by sha256, skipped with one line when the mirror is absent).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rasterio.transform import Affine

from .extra_scenes import Scene, _git_blob, mirror_path

JASPER_REPO = "mabdolali/MaxVol_Dual"
JASPER_COMMIT = "2ceb4f74f119163163a1851e24a4c7d71d1015f7"
JASPER_IMAGE = "data/jasper/jasperRidge2_R198.mat"
JASPER_IMAGE_SHA256 = "0e4118a6452f6044978a8ca3762fb0f791115467904936d463c4e111e56e682e"
JASPER_TRUTH = "data/jasper/end4.mat"
JASPER_TRUTH_SHA256 = "92f5697b43705802b904fd13ba99b6ce65a3d203682864abc3fbec922beec374"
#: The reference materials (``cood``: 1-tree, 2-water, 3-dirt, 4-road) as benchmark codes.
JASPER_CODES = (2, 1, 4, 3)
#: A pixel is labelled where one material covers at least this share of it (chosen before
#: any run of the engine on the scene: the unmixing literature's "pure pixel").
PURE_FRACTION = 0.8
#: AVIRIS records 224 channels from 380 to 2500 nm (the dataset's description); their centres
#: are taken as evenly spaced, within about 10 nm of the flight's own calibration.
FIRST_NM, LAST_NM, CHANNELS = 380.0, 2500.0, 224


def pure_pixel_labels(
    fractions: np.ndarray, codes: Sequence[int], tree: int
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and tree cover (``trees.tif``'s codes) from abundances (rows, cols, materials):
    a pixel is its material's benchmark code (`codes`, in the materials' order; 0 leaves a
    material unlabelled) where that material covers at least `PURE_FRACTION` of it, else
    unlabelled (0); tree cover 1 where the material `tree` does, 0 on the other labelled
    pixels, 255 elsewhere."""
    top = fractions.argmax(axis=2)
    pure = fractions.max(axis=2) >= PURE_FRACTION
    labels = np.zeros(top.shape, dtype=np.uint8)
    for material, code in enumerate(codes):
        labels[pure & (top == material)] = code
    trees = np.full(top.shape, 255, dtype=np.uint8)
    trees[labels > 0] = 0
    trees[pure & (top == tree)] = 1
    return labels, trees


def channel_wavelengths() -> np.ndarray:
    """The nominal centre (nm) of AVIRIS channels 1-224, evenly spaced over 380-2500 nm."""
    return np.linspace(FIRST_NM, LAST_NM, CHANNELS)


def _loadmat(data: bytes) -> dict:
    from scipy.io import loadmat  # the benchmark's dependency only

    return loadmat(io.BytesIO(data))


def build_maxvoldual_aviris_jasper(work: Path, downloads: Path) -> Scene:
    """Jasper Ridge (AVIRIS, 198 bands) with its tree, water, dirt and road abundances."""
    del work, downloads  # from a git mirror only, read in memory
    mirror = mirror_path(JASPER_REPO, "SPEX_JASPER_MIRROR")
    image_mat = _loadmat(_git_blob(mirror, JASPER_COMMIT, JASPER_IMAGE, JASPER_IMAGE_SHA256))
    truth = _loadmat(_git_blob(mirror, JASPER_COMMIT, JASPER_TRUTH, JASPER_TRUTH_SHA256))
    rows, cols = int(image_mat["nRow"][0, 0]), int(image_mat["nCol"][0, 0])
    kept = image_mat["SlectBands"].ravel().astype(int)  # 1-based AVIRIS channels
    # MATLAB stores pixels column by column: pixel k is row k % rows, column k // rows.
    image = np.asarray(image_mat["Y"]).reshape((len(kept), rows, cols), order="F")
    fractions = np.asarray(truth["A"]).reshape((-1, rows, cols), order="F")
    labels, trees = pure_pixel_labels(fractions.transpose(1, 2, 0), JASPER_CODES, 0)
    nm = channel_wavelengths()[kept - 1]
    counts = {int(c): int(n) for c, n in zip(*np.unique(labels, return_counts=True), strict=True)}
    notes = f"""Source: GitHub {JASPER_REPO}, commit {JASPER_COMMIT} (2025-01-09), files
{JASPER_IMAGE} (Y: {len(kept)} bands x {rows * cols} pixels, uint16, maxValue 5000; SlectBands,
the AVIRIS channels kept; Region: columns 269-368, rows 105-204 of the 512 x 614 scene) and
{JASPER_TRUTH} (A: the reference abundances of 1-tree, 2-water, 3-dirt, 4-road, each pixel's
summing to 1; M: their spectra). The repository carries no licence: AVIRIS data are NASA/JPL's,
freely distributed; the reference abundances are Zhu et al.'s (Zhu, Wang, Xiang & Pan 2014,
"Structured sparse method for hyperspectral unmixing", ISPRS J. 88:101-118). Read at set-up
from the mirror, never committed or redistributed.

Sensor: AVIRIS (airborne imaging spectrometer), Jasper Ridge Biological Preserve, California;
224 channels over 380-2500 nm, channels 1-3, 108-112, 154-166 and 220-224 removed (the water
vapour bands and the noisy ends), 198 kept. The files give no wavelengths: each channel's
centre is taken as evenly spaced over 380-2500 nm (9.51 nm apart; AVIRIS's own centres differ
by up to about 10 nm), written as each band's wavelength so that the engine picks its band per
role by wavelength, as for EnMAP. Values: reflectance x 10000 by their range (water's NIR
about 160, the trees' about 2650); stored as given, so the engine's own scaling rules apply. No
georeferencing: a CRS-less identity transform (areas in pixels).

Labels: each pixel's largest abundance when it is at least {PURE_FRACTION} (a pure pixel),
else unlabelled (0). Mapping: tree -> 2 vegetation (and tree cover, trees.tif), water -> 1,
dirt -> 4 bare soil, road -> 3 built-up. Counts by code: {counts}. The abundances come from
unmixing guided by an analyst, not from a field survey. Added after the spectral backend's
rules were set (stop 62): a held-out scene."""
    meta = {
        "sensor": "AVIRIS reflectance x 10000, 198 bands (Jasper Ridge unmixing scene)",
        "scaling": "reflectance x 10000 (uint16), not declared in the file",
        "source": f"github.com/{JASPER_REPO}@{JASPER_COMMIT} data/jasper",
        "licence": "no licence in the repository; AVIRIS data NASA/JPL; read, not redistributed",
    }
    step = float(np.diff(channel_wavelengths())[0])
    return spectrometer_scene(image.astype(np.uint16), labels, trees, (kept, nm, step), meta, notes)


def spectrometer_scene(
    image: np.ndarray,
    labels: np.ndarray,
    trees: np.ndarray | None,
    bands: tuple[Sequence[int], np.ndarray, float],
    meta: dict[str, str],
    notes: str,
) -> Scene:
    """A scene of an imaging spectrometer's bands without georeferencing (an identity transform,
    no CRS): each band named by its channel and centre, with its wavelength and width as GDAL's
    band metadata, so that the engine picks its band per role by wavelength. `bands`: the
    channels' numbers, their centres (nm) and the spacing taken as each one's width; `trees`:
    None where the source does not tell tree cover."""
    channels, nm, step = bands
    descriptions = tuple(
        f"band {c} ({w:.1f} Nanometers)" for c, w in zip(channels, nm, strict=True)
    )
    band_tags = tuple(
        {"wavelength": f"{w:.1f}", "wavelength_units": "Nanometers", "fwhm": f"{step:.2f}"}
        for w in nm
    )
    return Scene(
        np.ascontiguousarray(image),
        labels,
        Affine.identity(),
        None,
        None,
        descriptions,
        meta,
        notes,
        band_tags,
        trees=trees,
    )
