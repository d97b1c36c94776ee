"""The reflectance maps of a multispectral drone flight: one GeoTIFF per band.

A flight of a multispectral drone camera (DJI Phantom 4 Multispectral and Mavic 3
Multispectral, MicaSense RedEdge and Altum, Parrot Sequoia) processed by Pix4Dmapper or
Pix4Dfields leaves one reflectance map per band, named by the project and the band:
``field_2021_transparent_reflectance_red.tif``, ``..._red edge.tif`` (Sequoia's
``..._reg.tif``), ``..._nir.tif``, in the project's ``4_index/reflectance`` folder; DJI Terra
names them ``result_Red.tif``, ``result_RedEdge.tif``, ``result_NIR.tif`` beside the true-colour
``result.tif``. Each holds the band's reflectance as 32-bit floats (0-1, calibrated with the
reflectance panel), with no band name.

Given the folder, or one of its band files (the dock's "Add product"), the engine reads the
maps stacked in band order (blue, green, red, red edge, NIR; a VRT built by GDAL in the
temporary folder: `band_stacks`), each band named by its file (`band_named`), with the preset
``drone_reflectance_maps``: reflectance as it is, taken by a drone below the clouds
(``airborne``). The camera's thermal band (``lwir``), the true-colour mosaic and the index
maps are left out; values that are no reflectance are read by their own range, and said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .band_stacks import one_product_in, stacked_files
from .product_files import geotiff_stem, only_one
from .reflectance import PRESET_MIN_P99, ProductReading, Scaling, plausible_reflectance

#: A band file's stem (the maps' name, the band) per program. Pix4D writes the red edge with a
#: space.
BAND_STEMS = {
    "Pix4D": re.compile(
        r"^(?P<maps>.+?_transparent_reflectance)_(?P<band>blue|green|red|red[ _]?edge|reg|nir)$",
        re.IGNORECASE,
    ),
    "DJI Terra": re.compile(r"^(?P<maps>result)_(?P<band>Blue|Green|Red|RedEdge|NIR)$"),
}
#: Each band as the stem names it -> its description in the stack (the preset's band name).
BAND_NAMES = {
    "blue": "Blue",
    "green": "Green",
    "red": "Red",
    "rededge": "Red edge",
    "reg": "Red edge",
    "nir": "NIR",
}
#: The bands in stack order.
ORDER = ("Blue", "Green", "Red", "Red edge", "NIR")
PRESET = "drone_reflectance_maps"


@dataclass(frozen=True)
class ReflectanceMaps:
    """One project's reflectance maps (their files' name before the band) and the program
    that wrote them."""

    identifier: str
    program: str = "Pix4D"

    @property
    def label(self) -> str:
        """What an analyst reads."""
        return f"{self.program}'s reflectance maps of a multispectral drone flight"

    @property
    def preset(self) -> str:
        """The sensor preset that reads the stack's band names."""
        return PRESET


def maps_name(name: str) -> str | None:
    """The project's maps that the file `name` is one band file of, or None."""
    found = _band_file(name)
    return found[0] if found else None


def find_product(
    path: str | Path, descriptions: Sequence[str | None] = ()
) -> ReflectanceMaps | None:
    """The one project's maps the file name, the band files of the folder `path` or the band
    descriptions (a VRT's band files' names: see `product_names`) name; None where none is or
    two are."""
    found = {}
    named = [_band_file(str(path)), *(_band(d) for d in descriptions if d)]
    if Path(path).is_dir():  # its stack's bands read as bands (`band_named`), not as files
        named += [_band_file(str(f)) for f in Path(path).iterdir()]
    for maps, _, program in filter(None, named):
        found[maps] = ReflectanceMaps(maps, program)
    return only_one(found)


def product_reading(
    product: ReflectanceMaps,
    path: str | Path,
    percentiles: Mapping[str, float],
    roles: Sequence[str] = (),
) -> ProductReading:
    """Reflectance as it is, if the values of the raster at `path` are reflectance (the maps'
    32-bit floats); else no scaling, and why."""
    p1, p99 = float(percentiles["p1"]), float(percentiles["p99"])
    name = f"{product.label}, {product.identifier} (named by the band files)"
    if not plausible_reflectance(p1, p99, PRESET_MIN_P99):
        return ProductReading(
            None, f"{name}: its values (p1 {p1:g}, p99 {p99:g}) are not reflectance; "
        )
    how = f"reflectance as stored ({product.program}'s maps, calibrated with the panel)"
    return ProductReading(
        Scaling(1.0, 0.0, True, f"product {product.identifier}", f"{name}: {how}")
    )


def maps_stack(name: str) -> Path | None:
    """A VRT of the reflectance maps of the one project whose band files the folder `name`
    holds, in band order; None for anything else, `InputError` for a folder of several."""
    if not Path(name).is_dir():
        return None
    names = [str(f) for f in Path(name).iterdir()]
    fix = "move each project's reflectance maps into a folder of their own and give one"
    maps = one_product_in(names, Path(name).name, maps_in, "drone flights' reflectance maps", fix)
    return _stack(names, maps) if maps else None


def maps_of_band_file(band_file: str) -> Path | None:
    """A VRT of the reflectance maps that one of them belongs to, stacked from the band files
    beside it; None for any other file."""
    maps = maps_name(band_file)
    if maps is None or not Path(band_file).is_file():
        return None
    folder = Path(band_file).absolute().parent
    return _stack([str(f) for f in folder.iterdir()], maps)


def band_named(description: str | None) -> str | None:
    """A band description that is a reflectance map's stem (a VRT's band named by its file:
    `vrt_sources`) as the band's name in the preset (``Red edge``), so that a stack built by hand
    in any order reads each band by its own name; any other as it is."""
    found = _band(description) if description else None
    return found[1] if found else description


def maps_in(names: Iterable[str]) -> list[str]:
    """The projects whose reflectance maps the file names `names` hold, sorted."""
    return sorted({maps for name in names if (maps := maps_name(name))})


def _band_file(name: str) -> tuple[str, str, str] | None:
    """`_band` of the file `name`, where it is a GeoTIFF."""
    stem = geotiff_stem(name)
    return _band(stem) if stem else None


def _band(stem: str) -> tuple[str, str, str] | None:
    """(the project's maps, the band's name in the stack, the program that wrote them) of a
    band file's stem, or None."""
    for program, pattern in BAND_STEMS.items():
        if match := pattern.match(stem):
            band = re.sub(r"[ _]", "", match.group("band").lower())
            return match.group("maps"), BAND_NAMES[band], program
    return None


def _stack(names: Iterable[str], maps: str) -> Path:
    """The project's band files among `names`, stacked in band order."""
    files: dict[str, str] = {}
    for name in names:
        found = _band_file(name)
        if found and found[0] == maps:
            files[found[1]] = name
    return stacked_files([files[band] for band in ORDER if band in files])
