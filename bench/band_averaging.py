"""Does an imaging spectrometer's role gain from averaging several bands, and over what width?

The band nearest a role's centre names it (``engine/raster/band_names.py``); since stop 59 the
engine reads the role as the mean of every good band within ``SPECTROMETER_TOLERANCE_NM`` (15 nm)
of that centre (``BandMapping.averaged``). Until then it read the nearest band alone; stop 28
measured the mean over the role's whole Sentinel-2 MSI band (up to 115 nm wide) and kept one
band. This builds three seven-band versions of each benchmark scene with more than
``SPECTROMETER_BANDS`` bands known by wavelength (the nearest band; the engine's mean; the mean
over the MSI width), runs the engine on each as an analyst would (``--bands
blue,green,red,rededge1,nir,swir1,swir2``) and scores them like ``bench/quality``.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.band_averaging`` (about 10 s; the EnMAP scene
needs the EnMAP-Box mirror of ``bench/more_scenes.py``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import rasterio

from bench.quality import score_scene
from bench.scenes import Scene, all_scenes
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.raster.band_names import SPECTROMETER_BANDS, wavelength_nm
from spex.engine.raster.bands import resolve_band_mapping
from spex.engine.raster.raster_source import band_descriptions

#: Sentinel-2A MSI bands (nm, the ends of the nominal width) standing for each feature role.
MSI_WIDTHS_NM: dict[str, tuple[float, float]] = {
    "blue": (458.0, 523.0),
    "green": (543.0, 578.0),
    "red": (650.0, 680.0),
    "rededge1": (698.0, 713.0),
    "nir": (785.0, 900.0),
    "swir1": (1565.0, 1655.0),
    "swir2": (2100.0, 2280.0),
}
ROLES = ",".join(MSI_WIDTHS_NM)
MODES = ("pick", "engine", "msi")


def seven_bands(image: Path, mode: str, out: Path) -> dict[str, int]:
    """Write the seven role bands of `image` to `out`: the band that names each role ("pick"),
    the mean the engine reads ("engine": the bands within 15 nm of the role's centre) or the
    mean of the bands inside each MSI width ("msi"); returns how many bands each role used."""
    with rasterio.open(image) as src:
        descriptions = band_descriptions(src)  # as the engine reads them
        picked = resolve_band_mapping(src.count, descriptions)
        nodata = src.nodata
        data = src.read().astype(np.float32)
        profile = src.profile
        scale, offset = src.scales[0], src.offsets[0]
    found = [wavelength_nm(d) if d else None for d in descriptions]
    wl = np.array([np.nan if w is None else w for w in found])  # NaN: bad or undescribed
    data[data == nodata] = np.nan
    layers, used = [], {}
    for role, (lo, hi) in MSI_WIDTHS_NM.items():
        inside = np.flatnonzero((wl >= lo) & (wl <= hi))
        if mode == "engine":
            inside = np.array(picked.bands_of(role))
        elif mode == "pick" or len(inside) == 0:
            inside = np.array([picked.index_of(role)])
        used[role] = len(inside)
        layers.append(np.mean(data[inside], axis=0))  # NaN where any of them is nodata
    stack = np.stack(layers)
    stack[np.isnan(stack)] = nodata
    profile.update(count=len(layers), dtype="float32", nodata=nodata)
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(stack.astype(np.float32))
        dst.scales = (scale,) * len(layers)  # declared like the source's: read as reflectance
        dst.offsets = (offset,) * len(layers)
    return used


def spectrometer_scenes() -> list[Scene]:
    """The benchmark's scenes with more than ``SPECTROMETER_BANDS`` bands known by wavelength."""
    found = []
    for scene in all_scenes(("benchmark", "extra")):
        with rasterio.open(scene.rasters[0][0]) as src:
            if src.count <= SPECTROMETER_BANDS:
                continue
            known = [d for d in band_descriptions(src) if d and wavelength_nm(d) is not None]
            if len(known) > SPECTROMETER_BANDS:
                found.append(scene)
    return found


def main() -> None:
    """Print, per spectrometer scene and target, ours with the nearest band, the engine's mean
    and the mean over the MSI width."""
    params = SpectralParams()
    with tempfile.TemporaryDirectory() as tmp:
        for scene in spectrometer_scenes():
            scores = {}
            for mode in MODES:
                pairs = []
                for k, (image, labels) in enumerate(scene.rasters):
                    out = Path(tmp) / f"{scene.name}_{k}_{mode}.tif"
                    used = seven_bands(image, mode, out)
                    pairs.append((out, labels))
                print(f"{scene.name} {mode}: bands per role {used}")
                variant = Scene(f"{scene.name}_{mode}", scene.group, tuple(pairs), ROLES,
                                scale=scene.scale)  # fmt: skip
                rows = score_scene(variant, params, with_baselines=False)
                scores[mode] = {r["target"]: r["ours"] for r in rows}
            print(
                "| target | nearest band | within 15 nm (the engine) | change | MSI width | change |"
            )
            print("| --- | --- | --- | --- | --- | --- |")
            for target, picked in scores["pick"].items():
                engine, msi = scores["engine"][target], scores["msi"][target]
                print(f"| {target} | {picked:.3f} | {engine:.3f} | {engine - picked:+.3f} | "
                      f"{msi:.3f} | {msi - picked:+.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
