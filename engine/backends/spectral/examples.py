"""Examples an analyst gives: points or polygons, each naming the class it shows.

Where the scene's own seeds pick the wrong pixels (green pasture taken as forest, cleared land
as a town), a few examples say what the analyst means. They are read from a vector file (the
command line) or a layer (QGIS), in their own CRS, and sampled on the raster once per run, never
per tile: the same pixel gets the same answer whatever the extent. How they shape the scene
classifier is `example_seeds`'s concern.

A class is a target of the catalogue (its id, title or a synonym: ``water``, ``built-up``,
``forest``) or ``other``: land that is none of the targets, which keeps the targets' seeds off
it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio.features
import rasterio.warp
from affine import TransformNotInvertibleError
from rasterio._err import CPLE_BaseError  # GDAL and PROJ errors; no public alias
from rasterio.windows import Window

from ...errors import InputError
from ...instructions.instruction import phrase_target
from ...instructions.targets import TARGETS
from ...raster.dataset_open import GDAL_DATASET_NAME
from ...raster.pixel_grid import grid_transform, grid_window_transform
from ...raster.raster_source import RasterSource

#: Where an analyst gives examples, in each way in (the notes and caveats that ask for them).
EXAMPLES_WHERE = "--examples; the dock's Examples layer; Processing's EXAMPLES"

#: The class of land that is none of the targets.
OTHER = "other"
_OTHER_WORDS = frozenset({"other", "others", "background", "none", "not target", "rest"})
#: At most this many pixels of one class are kept (evenly spaced): a polygon over a whole lake
#: adds nothing a thousand of its pixels do not, and the fit stays small.
MAX_PIXELS_PER_CLASS = 5000
DEFAULT_FIELD = "class"
#: Polygons are read in blocks of this many pixels a side.
BLOCK = 1024


@dataclass(frozen=True)
class ExampleFeature:
    """One example: its class and a GeoJSON geometry (point, polygon or multi-)."""

    cls: str
    geometry: Mapping


@dataclass(frozen=True)
class Examples:
    """An analyst's examples, with the CRS their coordinates are in (None: the raster's)."""

    features: tuple[ExampleFeature, ...]
    crs_wkt: str | None
    source: str  # the file or layer they came from, for the explanation and run.json
    #: Shared by the scenes of a batch: a raster none of them falls on runs on its own seeds
    #: (and says so) instead of being refused, as a lone raster is.
    shared_by_scenes: bool = False

    def counts(self) -> dict[str, int]:
        """Number of examples (features) per class."""
        return dict(Counter(f.cls for f in self.features))


@dataclass(frozen=True)
class ExamplePixels:
    """The raster's values under the examples: per class, per band role, one value a pixel."""

    values: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    outside: int = 0  # examples with no valid pixel of the raster under them

    def counts(self) -> dict[str, int]:
        """Pixels per class."""
        return {c: len(next(iter(v.values()))) for c, v in self.values.items() if v}

    def by_scene_class(self) -> ExamplePixels:
        """The pixels with a part's label (forest) joined to its whole's (vegetation): the
        classes the scene model has; tree cover is split from the vegetation afterwards."""
        merged: dict[str, list[dict[str, np.ndarray]]] = {}
        for cls, values in self.values.items():
            whole = TARGETS[cls].part_of if cls in TARGETS else None
            merged.setdefault(whole or cls, []).append(values)
        joined = {
            cls: {r: np.concatenate([p[r] for p in parts]) for r in parts[0]}
            for cls, parts in merged.items()
        }
        return ExamplePixels(joined, self.outside)


def example_class(name: str, classes: Sequence[str] | None = None) -> str:
    """The class an example's label names: a target id, title or synonym, or ``other``.

    `classes` are the targets the backend models (default: the spectral backend's). Raises
    `InputError` naming the label and the classes it may use.
    """
    text = " ".join(str(name).strip().lower().replace("-", " ").replace("_", " ").split())
    if text in _OTHER_WORDS:
        return OTHER
    classes = spectral_classes() if classes is None else classes
    cls = phrase_target(text)
    # A part (forest) is kept as labelled where its whole is a class: the scene model takes
    # its pixels as the whole's (`ExamplePixels.by_scene_class`).
    if cls not in classes and (cls is None or TARGETS[cls].part_of not in classes):
        names = ", ".join(TARGETS[c].title for c in classes)
        raise InputError(
            f"Example class '{name}' is not a class the spectral backend maps; label each "
            f"example as one of {names}, or {OTHER}."
        )
    return cls


def load_examples(
    path: str | Path, class_field: str = DEFAULT_FIELD, classes: Sequence[str] | None = None
) -> Examples:
    """Read the examples of a vector file (GeoPackage, shapefile, GeoJSON, ...) with OGR.

    A file of several layers names one as QGIS writes a layer's source: `FILE|layername=NAME`
    (or `|layerid=N`). Every feature needs a point or polygon geometry and a class in
    `class_field`. Raises `InputError` with one line for a file OGR cannot open, several layers
    and none named, a layer it does not hold, a missing field, an unknown class, a feature
    without a usable geometry, or a file without features.
    """
    from osgeo import ogr

    file, _, layer_option = str(path).partition("|")
    if GDAL_DATASET_NAME.match(file) is None and not Path(file).exists():
        raise InputError(f"Examples file '{file}' does not exist; check the path.")
    ogr.UseExceptions()
    try:
        data = ogr.Open(file)
    except RuntimeError as exc:
        data = None
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
    else:
        why = "not a vector file"
    if data is None or data.GetLayerCount() == 0:
        raise InputError(
            f"Examples file '{file}' cannot be read ({why}); give a GeoPackage, shapefile or "
            "GeoJSON of points or polygons."
        )
    layer = _chosen_layer(data, file, layer_option)
    defn = layer.GetLayerDefn()
    fields = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    where = f"Examples file '{path}'"
    match = class_field_in(fields, class_field, where)
    srs = layer.GetSpatialRef()
    rows = ((f.GetFID(), f.GetField(match), _geojson(f.GetGeometryRef())) for f in layer)
    return examples_from_rows(rows, srs.ExportToWkt() if srs else None, where, str(path), classes)


def _chosen_layer(data: object, file: str, option: str) -> object:
    """The layer of an OGR dataset that `option` names (QGIS's `layername=NAME` or
    `layerid=N`, "" for none); where none is named, its only layer with geometries (a table
    without, as the `layer_styles` QGIS saves beside a layer, holds no examples)."""
    from osgeo import ogr

    layers = [data.GetLayer(i) for i in range(data.GetLayerCount())]
    names = [layer.GetName() for layer in layers]
    key, _, value = option.partition("=")
    key = key.strip().lower()
    if key == "layername" and value in names:
        return layers[names.index(value)]
    if key == "layerid" and value.strip().isdigit() and int(value) < len(names):
        return layers[int(value)]
    spatial = [layer for layer in layers if layer.GetGeomType() != ogr.wkbNone]
    if not option and len(spatial) == 1:
        return spatial[0]
    if not option and not spatial:  # attributes alone: said as a file without geometries
        return layers[0]
    names = [layer.GetName() for layer in spatial] or names
    holds = f"holds the layers {', '.join(names)}" if len(names) > 1 else f"holds {names[0]}"
    named = f"no layer '{option}'; it" if option else "several layers: it"
    raise InputError(
        f"Examples file '{file}' has {named} {holds}; name one as QGIS does: "
        f"'{file}|layername={names[-1]}'."
    )


def declared_crs(wkt: str | None) -> str | None:
    """A layer's CRS (WKT), or None where it declares none: no CRS at all, or a GeoPackage's
    "Undefined geographic SRS" or "Undefined Cartesian SRS" (srs_id 0 and -1, which GDAL
    writes for a layer created without one, and QGIS shows as such). Read as degrees, a layer
    without a CRS whose points lie in the raster's metres could not be placed ("tmerc:
    Invalid latitude")."""
    if not wkt:
        return None
    from osgeo import osr

    srs = osr.SpatialReference()
    if srs.ImportFromWkt(wkt) == 0 and (srs.GetName() or "").lower().startswith("undefined "):
        return None
    return wkt


def class_field_in(fields: Sequence[str], class_field: str, where: str) -> str:
    """The name among `fields` of `class_field`, matched without regard to case; `InputError`
    naming `where` ("Examples file 'x.gpkg'") and its fields otherwise."""
    match = next((f for f in fields if f.lower() == class_field.lower()), None)
    if match is None:
        raise InputError(
            f"{where} has no field '{class_field}' (its fields: {', '.join(fields) or 'none'}); "
            "name the field that holds each example's class with --examples-field."
        )
    return match


def examples_from_rows(
    rows: Iterable[tuple[object, object, Mapping | None]],
    crs_wkt: str | None,
    where: str,
    source: str,
    classes: Sequence[str] | None = None,
) -> Examples:
    """`Examples` of (feature id, class label, GeoJSON geometry) rows; a row without a label is
    no example. `InputError` for an unknown class, a feature without a point or polygon
    geometry, or no labelled feature at all."""
    features = []
    for fid, label, geometry in rows:
        if label is None or str(label).strip() in ("", "NULL"):
            continue
        cls = example_class(str(label), classes)
        if not geometry or not geometry.get("coordinates"):
            raise InputError(
                f"Example {fid} of {where} has no geometry; draw each example as a point or a "
                "polygon."
            )
        if not geometry["type"].endswith(("Point", "Polygon")):
            raise InputError(
                f"Examples must be points or polygons, not {geometry['type'].lower()}s; draw "
                "each example as a point or a polygon."
            )
        features.append(ExampleFeature(cls, geometry))
    if not features:
        raise InputError(
            f"{where} has no labelled features; give points or polygons with a class in the "
            "field that --examples-field names."
        )
    return Examples(tuple(features), declared_crs(crs_wkt), source)


def spectral_classes() -> tuple[str, ...]:
    """The targets an example may name: the spectral backend's (``other`` aside)."""
    from .backend import SpectralBackend  # here: the backend imports this module

    return SpectralBackend().supported_targets()


def _geojson(geometry) -> dict | None:
    """An OGR geometry as a GeoJSON mapping (None when missing or empty)."""
    import json

    if geometry is None or geometry.IsEmpty():
        return None
    return json.loads(geometry.ExportToJson())


def example_pixels(source: RasterSource, examples: Examples) -> ExamplePixels:
    """The raster's scaled band values under every example, per class.

    A point takes the pixel it falls in; a polygon the pixels whose centres it contains, read in
    blocks so that a polygon over the whole raster stays in bounded memory. Raises `InputError`
    when no example falls on a valid pixel of the raster (a wrong CRS or another place),
    unless they are shared by a batch's scenes: then no pixels, every example outside.
    """
    dataset = source.dataset
    geoms = _placed(examples, dataset)
    pooled: dict[str, list[dict[str, np.ndarray]]] = {}
    outside = 0
    for feature, geom in zip(examples.features, geoms, strict=True):
        parts = [
            part
            for window in _blocks(_window_of(geom, dataset))
            if (part := _pixels_in(source, geom, window)) is not None
        ]
        if not parts:
            outside += 1
            continue
        pooled.setdefault(feature.cls, []).extend(parts)
    if not pooled and examples.shared_by_scenes:
        return ExamplePixels({}, outside)
    if not pooled:
        hidden = (
            ", outside the product's clouds (--mask-clouds hides them)" if source.cloud_mask else ""
        )
        raise InputError(
            f"None of the {len(examples.features)} examples of '{examples.source}' falls on a "
            f"valid pixel of the raster; check that they cover this raster{hidden} and that "
            "their CRS is set."
        )
    values = {}
    for cls, parts in pooled.items():
        merged = {r: np.concatenate([p[r] for p in parts]).astype(np.float64) for r in parts[0]}
        n = len(next(iter(merged.values())))
        if n > MAX_PIXELS_PER_CLASS:
            keep = np.linspace(0, n - 1, MAX_PIXELS_PER_CLASS).round().astype(int)
            merged = {r: v[keep] for r, v in merged.items()}
        values[cls] = merged
    return ExamplePixels(values, outside)


def examples_over(examples: Examples, dataset: rasterio.DatasetReader) -> int:
    """How many examples lie, at least in part, over the raster's extent (from their bounds;
    no pixel is read, so one on nodata counts). Raises `InputError` as `example_pixels`."""
    return sum(_window_of(g, dataset) is not None for g in _placed(examples, dataset))


def _placed(examples: Examples, dataset: rasterio.DatasetReader) -> list[Mapping]:
    """The examples' geometries in the raster's CRS (as given when either has none)."""
    geoms = [f.geometry for f in examples.features]
    if not (examples.crs_wkt and dataset.crs):
        return geoms
    try:
        return [rasterio.warp.transform_geom(examples.crs_wkt, dataset.crs, g) for g in geoms]
    except CPLE_BaseError as error:  # coordinates the layer's CRS cannot hold
        raise InputError(
            f"The examples of '{examples.source}' cannot be placed on the raster ({error}); "
            "check that the layer's CRS is the one its coordinates are in."
        ) from None


def _pixels_in(source: RasterSource, geom: Mapping, window: Window) -> dict | None:
    """The valid pixels of `window` under `geom`, per role (None when there are none)."""
    bands = source.read(window)
    inside = rasterio.features.geometry_mask(
        [geom],
        out_shape=(int(window.height), int(window.width)),
        transform=grid_window_transform(source.dataset, window),
        invert=True,
        all_touched=geom["type"].endswith("Point"),  # a point burns the pixel it falls in
    )
    valid = inside & np.all([np.isfinite(v) for v in bands.values()], axis=0)
    if not valid.any():
        return None
    return {r: v[valid] for r, v in bands.items()}


def _blocks(window: Window | None) -> list[Window]:
    """`window` cut into blocks of at most BLOCK x BLOCK pixels."""
    if window is None:
        return []
    c0, r0, w, h = (int(v) for v in (window.col_off, window.row_off, window.width, window.height))
    return [
        Window(c, r, min(BLOCK, c0 + w - c), min(BLOCK, r0 + h - r))
        for r in range(r0, r0 + h, BLOCK)
        for c in range(c0, c0 + w, BLOCK)
    ]


def _window_of(geom: Mapping, dataset: rasterio.DatasetReader) -> Window | None:
    """The pixel window around a geometry, clipped to the raster (None when off it).

    Not rasterio's `geometry_window`: for a point on a pixel corner it gives an empty window,
    where the point still burns the pixel it touches. Any grid orientation (a raster whose file
    declares the identity has y growing downwards)."""
    left, bottom, right, top = rasterio.features.bounds(geom)
    try:
        inverse = ~grid_transform(dataset)
    except TransformNotInvertibleError:  # a degenerate transform: nothing to read
        return None
    cols, rows = zip(*(inverse * (x, y) for x in (left, right) for y in (bottom, top)), strict=True)
    col0, row0 = max(int(np.floor(min(cols))), 0), max(int(np.floor(min(rows))), 0)
    col1 = min(int(np.floor(max(cols))) + 1, dataset.width)
    row1 = min(int(np.floor(max(rows))) + 1, dataset.height)
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)
