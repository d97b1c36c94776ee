"""How dark built surfaces get in the infrared: earthlib's spectral library against the
built-up darkness limit of the water veto (``IMPERVIOUS_DARK_MAX``).

earthlib 1.1.0 (MIT; the sample data's sha256-pinned wheel, ``make data``) ships 7,261 field
and laboratory reflectance spectra, 0.40-2.45 um, as an ENVI spectral library with a CSV of
their classes (888 impervious: asphalt, roads, shingles, concrete, paint, metal...; 4,185
soils; 2,000 canopies). Each spectrum is averaged over a sensor's nominal band ranges; a
surface is darker than the limit where every band of a set is.

Command: ``PYTHONPATH=. .venv/bin/python -m bench.impervious_floor`` (under a second).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spex.engine.backends.spectral.water_veto import IMPERVIOUS_DARK_MAX

#: Nominal band edges (um) of the infrared roles: ESA's Sentinel-2 MSI user guide (B8, B11,
#: B12) and USGS's Landsat band designations (OLI B5-B7; TM and ETM+ B4, B5, B7).
BAND_RANGES_UM: dict[str, dict[str, tuple[float, float]]] = {
    "Sentinel-2 MSI": {"nir": (0.785, 0.900), "swir1": (1.565, 1.655), "swir2": (2.100, 2.280)},
    "Landsat 8/9 OLI": {"nir": (0.851, 0.879), "swir1": (1.566, 1.651), "swir2": (2.107, 2.294)},
    "Landsat 4-7 TM/ETM+": {"nir": (0.76, 0.90), "swir1": (1.55, 1.75), "swir2": (2.08, 2.35)},
}
#: Band sets of NIR and SWIR (the veto reads them where a SWIR band is present) and NIR alone.
ROLE_SETS = (("nir", "swir1", "swir2"), ("nir", "swir1"), ("nir",))


@dataclass(frozen=True)
class SpectralLibrary:
    """Spectra (n, bands) in reflectance, their wavelengths (um) and two levels of classes."""

    wavelengths: np.ndarray
    spectra: np.ndarray
    kind: np.ndarray  # LEVEL_1: impervious or pervious
    cover: np.ndarray  # LEVEL_3: asphalt, road, soil, canopy...


def read_library(hdr: Path, sli: Path, table: Path) -> SpectralLibrary:
    """earthlib's ENVI spectral library (float32, little-endian, one spectrum per line)."""
    header = hdr.read_text(encoding="utf-8")
    values = re.search(r"wavelength\s*=\s*\{([^}]*)\}", header)
    lines = re.search(r"lines\s*=\s*(\d+)", header)
    if values is None or lines is None or "data type = 4" not in header:
        raise ValueError(f"{hdr.name} is not a float32 ENVI spectral library header")
    wavelengths = np.array([float(v) for v in values.group(1).split(",")])
    spectra = np.fromfile(sli, dtype="<f4").reshape(int(lines.group(1)), len(wavelengths))
    with table.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != len(spectra):
        raise ValueError(f"{table.name} has {len(rows)} rows for {len(spectra)} spectra")
    return SpectralLibrary(
        wavelengths,
        spectra,
        np.array([r["LEVEL_1"] for r in rows]),
        np.array([r["LEVEL_3"] for r in rows]),
    )


def brightest_band(
    library: SpectralLibrary, ranges: dict[str, tuple[float, float]], roles: tuple[str, ...]
) -> np.ndarray:
    """Per spectrum, the largest of its mean reflectances over the bands of `roles`."""
    means = []
    for role in roles:
        lo, hi = ranges[role]
        inside = (library.wavelengths >= lo) & (library.wavelengths <= hi)
        means.append(library.spectra[:, inside].mean(axis=1))
    return np.max(means, axis=0)


def main(argv: list[str] | None = None) -> int:
    """Print, per sensor and band set, how many impervious spectra fall below the limit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(".cache/data/earthlib"))
    args = parser.parse_args(argv)
    folder = args.data
    if not (folder / "spectra.sli").is_file():
        print(f"error: no earthlib library in {folder}; run `make data`", file=sys.stderr)
        return 2
    lib = read_library(folder / "spectra.sli.hdr", folder / "spectra.sli", folder / "spectra.csv")
    impervious = lib.kind == "impervious"
    print(f"limit {IMPERVIOUS_DARK_MAX}; {impervious.sum()} impervious spectra")
    print("| sensor | bands | impervious 1st pct | below the limit | darkest soil, sand, canopy |")
    print("| --- | --- | --- | --- | --- |")
    for sensor, ranges in BAND_RANGES_UM.items():
        for roles in ROLE_SETS:
            top = brightest_band(lib, ranges, roles)
            below = top[impervious] < IMPERVIOUS_DARK_MAX
            others = ", ".join(
                f"{top[lib.cover == c].min():.3f}" for c in ("soil", "sand", "canopy")
            )
            print(
                f"| {sensor} | {', '.join(roles)} | {np.percentile(top[impervious], 1):.3f} | "
                f"{below.sum()} ({below.mean():.1%}: "
                f"{', '.join(sorted(set(lib.cover[impervious][below])))}) | {others} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
