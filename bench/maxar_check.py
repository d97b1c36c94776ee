"""The real WorldView products of docs/benchmarks.md, read as an analyst gives them: share of the
scene per class, each way a product can be read.

Maxar's sample products may not be redistributed, so they are in no test and no benchmark scene;
this script fetches the PyPI package that ships them (``dgsamples==1.1.2``, checked against its
pinned sha256) into ``.cache/quality/downloads`` and unpacks it into ``.cache/quality/raw`` at
run time. There are no labels: the figures are shares of a suburb (roads, car parks, roofs,
fields, one small pond) and of a marsh cut by channels, to be read against the image.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.maxar_check`` (about a minute).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import sys
import tempfile
import zipfile
from pathlib import Path

from bench.quality_data import CACHE, RAW, _pip_wheel
from engine.cli import main as spex

WHEEL = "dgsamples==1.1.2"
WHEEL_SHA256 = "2120e2c27d6b4ee16d8e9f4f37e4081ba596edb108352b78e3877cca47c32302"
ROOT = "dgsamples/"
PRODUCTS = {
    "WorldView-2, June 2014, 2 m": "wv2_longmont_1k/053792616010_01_P001_MUL/"
    "14JUN20181517-M2AS-053792616010_01_P001.TIF",
    "WorldView-3, October 2014, 1.2 m": "wv3_longmont_1k/055516443010_01_P001_MUL/"
    "14OCT06175136-M2AS-055516443010_01_P001.TIF",
}
BAYOU = "bayou_chip/extract_test.tif"
#: How each product is read: as given (its IMD; a WorldView-3 order with its SWIR product), and
#: with the roles named by `--sensor` (the file's own bands, still by its IMD).
READINGS = {"as given": (), "--sensor (the file alone)": ("--sensor", "{sensor}")}
SENSOR = {"WorldView-2": "wv2", "WorldView-3": "wv3"}
PROMPT = "water bodies, vegetation and buildings"
SHARE = re.compile(r"^- (water|vegetation|built-up): .*\(([\d.]+)% of the valid area\)", re.M)


def products() -> Path:
    """The unpacked package's folder of products (downloaded and checked once)."""
    wheel = _pip_wheel(WHEEL)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise RuntimeError(f"{wheel.name} does not have the pinned sha256; not using it")
    target = RAW / ROOT
    if not target.exists():
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(RAW, [m for m in archive.namelist() if m.startswith(ROOT)])
    return target


def shares(raster: Path, extra: tuple[str, ...]) -> dict[str, str]:
    """Share of the scene per class of one `spex extract` run, and its bands and scaling."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        with contextlib.redirect_stdout(io.StringIO()):  # its summary: read from the file
            code = spex(["extract", str(raster), "--prompt", PROMPT, "--out", str(out),
                         "--quiet", *extra])  # fmt: skip
        if code != 0:
            return {"error": f"exit {code}"}
        text = (out / "explanation.md").read_text(encoding="utf-8")
    found = {cls: f"{share} %" for cls, share in SHARE.findall(text)}
    bands = re.search(r"^- Bands \(([^)]*)\): (.*)\.$", text, re.M)
    found["bands"] = f"{len(bands.group(2).split(', '))} ({bands.group(1)})" if bands else "?"
    return found


def main() -> None:
    """Print the table of docs/benchmarks.md ("WorldView-3's SWIR product read with its
    multispectral product")."""
    folder = products()
    print(
        f"{WHEEL} (sha256 checked) in {folder.relative_to(CACHE.parent.parent)}; prompt {PROMPT!r}"
    )
    print("| product | read | bands | water | vegetation | built-up |")
    print("| --- | --- | --- | --- | --- | --- |")
    for title, relative in PRODUCTS.items():
        sensor = SENSOR[title.split(",")[0]]
        for reading, flags in READINGS.items():
            row = shares(folder / relative, tuple(f.format(sensor=sensor) for f in flags))
            cells = [row.get(k, "-") for k in ("bands", "water", "vegetation", "built-up")]
            print(f"| {title} | {reading} | " + " | ".join(cells) + " |")
        sys.stdout.flush()
    # A plain 8-band chip of a WorldView-2 scene of Louisiana's bayous, no IMD: by --sensor only.
    row = shares(folder / BAYOU, ("--sensor", "wv2"))
    cells = [row.get(k, "-") for k in ("bands", "water", "vegetation", "built-up")]
    print(
        "| WorldView-2 chip, Louisiana bayou, 2 m, no IMD | --sensor | " + " | ".join(cells) + " |"
    )


if __name__ == "__main__":
    main()
