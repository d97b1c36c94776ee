"""Examples the analyst gives (`--examples points.gpkg`): reading the file, the pixels under
them in another CRS, how they correct the seeds, and the real CLI on the real Sentinel-2 sample
in a fresh process."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from osgeo import gdal, ogr, osr
from rasterio.errors import NotGeoreferencedWarning
from rasterio.warp import transform as warp_points
from rasterio.windows import Window

from spex.engine.backends.spectral.example_notes import TREES
from spex.engine.backends.spectral.example_seeds import seed_with_examples
from spex.engine.backends.spectral.examples import (
    OTHER,
    ExampleFeature,
    Examples,
    example_class,
    example_pixels,
    load_examples,
)
from spex.engine.errors import InputError
from spex.engine.raster.raster_source import open_source
from tests.rasters import true_colour_copy, ungeoreferenced_copy
from tests.test_cli import run_spex

CLASSES = ("water", "vegetation", "builtup", "bare", "snow", "cloud")


def write_examples(
    path: Path, points: list[tuple[float, float, str]], epsg: int, kind: str = "point"
) -> Path:
    """A GeoPackage of labelled points (or lines, to be refused) in EPSG:`epsg` (0: a layer
    created without a CRS), via OGR."""
    srs = None
    if epsg:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    data = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    geometry_type = ogr.wkbPoint if kind == "point" else ogr.wkbLineString
    layer = data.CreateLayer("examples", srs, geometry_type)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTString))
    for x, y, cls in points:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("class", cls)
        wkt = f"POINT ({x} {y})" if kind == "point" else f"LINESTRING ({x} {y}, {x + 5} {y + 5})"
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    data = None
    return path


def pixel_points(
    raster: Path, rows_cols: np.ndarray, cls: str, epsg: int = 4326
) -> list[tuple[float, float, str]]:
    """The centres of raster pixels (row, col), in EPSG:`epsg`, each labelled `cls`."""
    with rasterio.open(raster) as src:
        xs, ys = zip(*(src.xy(int(r), int(c)) for r, c in rows_cols), strict=True)
        lon, lat = warp_points(src.crs, f"EPSG:{epsg}", xs, ys)
    return [(x, y, cls) for x, y in zip(lon, lat, strict=True)]


@pytest.mark.parametrize(
    ("label", "cls"),
    [("Water", "water"), ("built-up", "builtup"), ("Forest", "forest"), ("Buildings", "builtup"),
     ("bare soil", "bare"), ("Other", OTHER), ("background", OTHER)],
)  # fmt: skip
def test_a_class_is_named_as_an_analyst_writes_it(label: str, cls: str) -> None:
    assert example_class(label, CLASSES) == cls


def test_an_unknown_class_is_one_line_that_lists_the_classes() -> None:
    with pytest.raises(InputError, match=r"Example class 'lava' .* or other\.$"):
        example_class("lava", CLASSES)


def test_the_file_is_read_in_its_own_crs(tmp_path: Path) -> None:
    path = write_examples(
        tmp_path / "ex.gpkg", [(13.1, 52.5, "water"), (13.2, 52.4, "forest")], 4326
    )
    examples = load_examples(path, "CLASS", CLASSES)  # the field is matched without case
    assert examples.counts() == {"water": 1, "forest": 1}  # forest: a part of vegetation
    assert "4326" in examples.crs_wkt and examples.source == str(path)
    assert examples.features[0].geometry["coordinates"][:2] == pytest.approx((13.1, 52.5))


@pytest.mark.parametrize(
    ("make", "field", "message"),
    [
        (lambda p: write_examples(p, [(1, 1, "water")], 4326), "kind",
         "has no field 'kind' (its fields: class); name the field"),
        (lambda p: write_examples(p, [(1, 1, "lava")], 4326), "class", "Example class 'lava'"),
        (lambda p: write_examples(p, [(1, 1, "water")], 4326, kind="line"), "class",
         "Examples must be points or polygons, not linestrings"),
        (lambda p: write_examples(p, [], 4326), "class", "has no labelled features"),
        (lambda p: p, "class", "does not exist; check the path"),  # no file at all
        (lambda p: p.write_text("not vector data") and p, "class", "cannot be read"),
    ],
)  # fmt: skip
def test_a_bad_examples_file_is_one_line_that_names_it(tmp_path, make, field, message) -> None:
    path = make(tmp_path / "ex.gpkg")
    with pytest.raises(InputError) as error:
        load_examples(path, field, CLASSES)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_geopackage_layer_without_a_crs_is_in_the_rasters(s2_scene: Path, tmp_path: Path) -> None:
    """A GeoPackage layer created without a CRS (GDAL gives it the "Undefined geographic SRS"
    of srs_id 0) whose points are in the raster's metres: they land on the pixels they name.
    Read as degrees, they could not be placed ("tmerc: Invalid latitude")."""
    cells = np.array([[10, 20], [400, 1000], [700, 1500]])
    with rasterio.open(s2_scene) as src:
        epsg = src.crs.to_epsg()
        expected = [src.read(4, window=Window(int(c), int(r), 1, 1))[0, 0] for r, c in cells]
    path = write_examples(tmp_path / "ex.gpkg", pixel_points(s2_scene, cells, "water", epsg), 0)
    data = ogr.Open(str(path))  # held: a layer outlives its closed file as a crash
    assert data.GetLayer(0).GetSpatialRef().GetName() == "Undefined geographic SRS"
    data = None
    examples = load_examples(path, "class", CLASSES)
    assert examples.crs_wkt is None
    with open_source(s2_scene) as src:
        pixels = example_pixels(src, examples)
    assert pixels.counts() == {"water": 3} and pixels.outside == 0
    raw = pixels.values["water"]["red"]
    with open_source(s2_scene) as src:
        assert np.allclose(raw, src.scaling.apply(np.array(expected, np.float32), "red"))


def test_a_layer_of_a_file_of_several_is_named_as_qgis_names_it(tmp_path: Path) -> None:
    """A GeoPackage of two point layers: each is read by QGIS's `|layername=` or `|layerid=`;
    none named is one line that lists them (the first was taken silently). A table without
    geometries beside one layer (the `layer_styles` QGIS saves) is no second layer."""
    path = write_examples(tmp_path / "ex.gpkg", [(13.1, 52.5, "water")], 4326)
    data = ogr.Open(str(path), 1)
    second = data.CreateLayer("more", data.GetLayer(0).GetSpatialRef(), ogr.wkbPoint)
    second.CreateField(ogr.FieldDefn("class", ogr.OFTString))
    for x in (13.2, 13.3):
        feature = ogr.Feature(second.GetLayerDefn())
        feature.SetField("class", "forest")
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({x} 52.4)"))
        second.CreateFeature(feature)
    data = None
    assert load_examples(f"{path}|layername=more", "class", CLASSES).counts() == {"forest": 2}
    assert load_examples(f"{path}|layerid=0", "class", CLASSES).counts() == {"water": 1}
    with pytest.raises(InputError) as refused:
        load_examples(path, "class", CLASSES)
    assert str(refused.value) == (
        f"Examples file '{path}' has several layers: it holds the layers examples, more; name "
        f"one as QGIS does: '{path}|layername=more'."
    )
    with pytest.raises(InputError, match="has no layer 'layername=less'; it holds the layers"):
        load_examples(f"{path}|layername=less", "class", CLASSES)
    styled = write_examples(tmp_path / "styled.gpkg", [(13.1, 52.5, "water")], 4326)
    data = ogr.Open(str(styled), 1)
    data.CreateLayer("layer_styles", geom_type=ogr.wkbNone)
    data = None
    assert load_examples(styled, "class", CLASSES).counts() == {"water": 1}


def test_points_in_another_crs_take_the_pixels_they_fall_on(s2_scene: Path) -> None:
    """Points given in longitude/latitude land on the UTM raster's pixels they name."""
    cells = np.array([[10, 20], [400, 1000], [700, 1500]])
    points = pixel_points(s2_scene, cells, "vegetation")
    examples = Examples(
        tuple(ExampleFeature(c, {"type": "Point", "coordinates": (x, y)}) for x, y, c in points),
        "EPSG:4326",
        "test",
    )
    with open_source(s2_scene) as src:
        pixels = example_pixels(src, examples)
        expected = [src.read(Window(int(c), int(r), 1, 1))["red"][0, 0] for r, c in cells]
    assert pixels.counts() == {"vegetation": 3} and pixels.outside == 0
    assert np.allclose(pixels.values["vegetation"]["red"], expected)


def test_a_polygon_takes_the_pixels_whose_centres_it_holds(s2_scene: Path) -> None:
    with rasterio.open(s2_scene) as src:
        left, top = src.xy(100, 200, offset="ul")
    square = [[left, top], [left + 30, top], [left + 30, top - 20], [left, top - 20], [left, top]]
    examples = Examples(
        (ExampleFeature("water", {"type": "Polygon", "coordinates": [square]}),), None, "t"
    )
    with open_source(s2_scene) as src:
        assert example_pixels(src, examples).counts() == {"water": 6}  # 3 x 2 pixels of 10 m


def test_examples_over_a_raster_without_georeferencing_use_qgis_grid(
    s2_scene: Path, tmp_path: Path
) -> None:
    """QGIS shows a raster with no geotransform at y = -row: examples drawn over it there take
    the pixels under them (on rasterio's identity grid they would all be off the raster)."""
    chip = ungeoreferenced_copy(s2_scene, tmp_path / "chip.tif", (420, 120, 300, 250))
    cells = np.array([[5, 7], [120, 260]])
    square = [[10, -20], [13, -20], [13, -22], [10, -22], [10, -20]]  # columns 10-12, rows 20-21
    features = [
        ExampleFeature("water", {"type": "Point", "coordinates": (c + 0.5, -(r + 0.5))})
        for r, c in cells
    ] + [ExampleFeature("other", {"type": "Polygon", "coordinates": [square]})]
    with open_source(chip) as src:
        pixels = example_pixels(src, Examples(tuple(features), None, "drawn in QGIS"))
        expected = [src.read(Window(int(c), int(r), 1, 1))["red"][0, 0] for r, c in cells]
        block = src.read(Window(10, 20, 3, 2))["red"]
    assert pixels.counts() == {"water": 2, "other": 6} and pixels.outside == 0
    assert np.allclose(pixels.values["water"]["red"], expected)
    assert np.allclose(np.sort(pixels.values["other"]["red"]), np.sort(block.ravel()))


def test_an_area_over_a_raster_that_declares_the_identity(s2_scene: Path, tmp_path: Path) -> None:
    """A file that declares the identity transform (y grows downwards; QGIS shows it there): an
    area drawn over it takes its pixels, though rasterio's from_bounds refuses such a grid."""
    chip = tmp_path / "identity.tif"
    with rasterio.open(s2_scene) as src, warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # the identity, on purpose
        profile = src.profile | {"crs": None, "transform": Affine.identity(), "driver": "GTiff"}
        with rasterio.open(chip, "w", **profile) as dst:
            dst.write(src.read())
            dst.descriptions = src.descriptions
    assert gdal.Open(str(chip)).GetGeoTransform(can_return_null=True) == (0, 1, 0, 0, 0, 1)
    square = [[10, 20], [13, 20], [13, 22], [10, 22], [10, 20]]  # columns 10-12, rows 20-21
    examples = Examples(
        (ExampleFeature("water", {"type": "Polygon", "coordinates": [square]}),), None, "t"
    )
    with open_source(chip) as src:
        pixels = example_pixels(src, examples)
        block = src.read(Window(10, 20, 3, 2))["red"]
    assert pixels.counts() == {"water": 6}
    assert np.allclose(np.sort(pixels.values["water"]["red"]), np.sort(block.ravel()))


def test_seeds_nearer_another_class_examples_are_dropped() -> None:
    """Two clusters seeded as one class: examples calling one cluster 'other' drop its seeds,
    keep the others, and join with the weight of the class's own seeds."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.1, (100, 2)), rng.normal(3, 0.1, (100, 2))])
    seeds = {"vegetation": np.ones(200, dtype=bool)}
    given = {"vegetation": np.array([[0.0, 0.0]]), OTHER: np.array([[3.0, 3.0]])}
    out = seed_with_examples(x, seeds, (), given)
    kept = out.masks["vegetation"]
    assert kept[:100].all() and not kept[100:200].any() and kept[200]  # the example joins
    assert out.dropped == {"vegetation": 100}
    assert out.other is not None and out.other[201] and out.other.sum() == 1
    assert out.weights[200] == 200 and (out.weights[:200] == 1).all()


def test_a_cover_gives_way_where_most_of_a_class_examples_lie_among_its_seeds() -> None:
    """Synthetic features: bright roofs seeded as cloud. Built-up examples on them take the
    cloud's seeds, all of them, and say so; examples elsewhere, or cloud examples, do not."""
    rng = np.random.default_rng(0)
    roofs, land = rng.normal(3, 0.2, (60, 2)), rng.normal(0, 0.2, (200, 2))
    x = np.concatenate([roofs, land])
    seeds = {"cloud": np.arange(260) < 60, "builtup": np.arange(260) >= 60}
    on_roofs = {"builtup": np.concatenate([roofs[:3], land[:2]])}  # 3 of 5 among the cloud's
    out = seed_with_examples(x, seeds, (), on_roofs)
    assert not out.masks["cloud"].any() and out.masks["builtup"][60:260].all()
    claim = out.gave_way["cloud"]
    assert (claim.by, claim.inside, claim.examples, claim.seeds) == ("builtup", 3, 5, 60)
    assert claim.note("cloud").startswith("cloud gave way to the examples: 3 of the 5 builtup")
    off_roofs = {"builtup": np.concatenate([roofs[:2], land[:3]])}  # 2 of 5: not most
    assert seed_with_examples(x, seeds, (), off_roofs).masks["cloud"][:60].all()
    with_cloud = on_roofs | {"cloud": roofs[10:12]}  # the analyst says some of it is cloud
    assert seed_with_examples(x, seeds, (), with_cloud).gave_way == {}


def _mask(out: Path) -> np.ndarray:
    with rasterio.open(out / "mask.tif") as mask:
        return mask.read(1)


def test_examples_of_other_take_sparse_vegetation_out(s2_scene: Path, tmp_path: Path) -> None:
    """The real CLI: the analyst labels the scene's sparsest vegetation 'other' and its densest
    'vegetation': the sparse part leaves the vegetation, the dense part stays; the explanation
    and run.json say what the examples were and did."""
    own = tmp_path / "own"
    flags = ("--prompt", "map the vegetation", "--quiet")
    assert run_spex("extract", s2_scene, "--out", own, *flags).returncode == 0
    with rasterio.open(s2_scene) as src:
        red, nir = src.read([4, 8]).astype(float)
    ndvi = (nir - red) / (nir + red + 1e-9)
    vegetation = _mask(own) == 1
    low, high = np.quantile(ndvi[vegetation], [0.1, 0.9])
    sparse, dense = vegetation & (ndvi < low), vegetation & (ndvi > high)
    rng = np.random.default_rng(1)
    cells = {name: np.argwhere(m) for name, m in (("other", sparse), ("vegetation", dense))}
    points = [
        p for name, c in cells.items()
        for p in pixel_points(s2_scene, c[rng.choice(len(c), 20, replace=False)], name)
    ]  # fmt: skip
    path = write_examples(tmp_path / "ex.gpkg", points, 4326)
    out = tmp_path / "with"
    result = run_spex("extract", s2_scene, "--out", out, "--examples", path, *flags)
    assert result.returncode == 0, result.stderr
    now = _mask(out) == 1
    assert now[sparse].mean() < 0.5 and now[dense].mean() > 0.95
    explanation = (out / "explanation.md").read_text(encoding="utf-8")
    assert "trained with the analyst's examples from" in explanation
    details = json.loads((out / "run.json").read_text(encoding="utf-8"))["backend"]["details"]
    assert details["examples"]["features"] == {"other": 20, "vegetation": 20}
    assert details["example_pixels"] == {"other": 20, "vegetation": 20}
    assert details["seeds_dropped_by_examples"]["vegetation"] > 0
    # The analyst's own pixels scored by the model they trained: every pixel counted once.
    mapped = details["examples"]["pixels_by_scene_class"]
    assert {c: sum(n.values()) for c, n in mapped.items()} == {"other": 20, "vegetation": 20}
    assert mapped["vegetation"] == {"vegetation": 20}  # the densest canopy is vegetation
    outside = 20 - mapped["other"].get("vegetation", 0)  # any class but vegetation is outside
    assert "the example pixels as the result maps them (per pixel): " in explanation
    assert f"other {outside} of 20 outside the result" in explanation
    assert "vegetation 20 of 20 as vegetation" in explanation
    assert "example pixels are mapped as" not in explanation  # no caveat: all as labelled


def test_water_examples_map_water_in_true_colour(s2_scene: Path, tmp_path: Path) -> None:
    """Without NIR the scene cannot seed water; the analyst's water examples do."""
    rgb = true_colour_copy(s2_scene, tmp_path / "rgb.tif")
    with rasterio.open(s2_scene) as src:
        b = src.read([3, 12], window=Window(0, 0, 512, 256)).astype(float)  # B3, B11
    mndwi = (b[0] - b[1]) / (b[0] + b[1] + 1e-9)
    water = np.argwhere(mndwi > 0.3)
    land = np.argwhere(mndwi < -0.2)
    assert len(water) > 50 and len(land) > 50
    rng = np.random.default_rng(2)
    points = pixel_points(rgb, water[rng.choice(len(water), 15, replace=False)], "water")
    points += pixel_points(rgb, land[rng.choice(len(land), 15, replace=False)], "other")
    path = write_examples(tmp_path / "ex.gpkg", points, 4326)
    flags = ("--prompt", "map the water and the vegetation", "--quiet")
    assert run_spex("extract", rgb, "--out", tmp_path / "own", *flags).returncode == 0
    assert not (_mask(tmp_path / "own") == 1).any()  # water: not with these bands
    out = tmp_path / "with"
    result = run_spex("extract", rgb, "--out", out, "--examples", path, *flags)
    assert result.returncode == 0, result.stderr
    found = _mask(out) == 1
    assert found[mndwi > 0.3].mean() > 0.5 and found[mndwi < -0.2].mean() < 0.05


def test_the_same_pixels_whatever_the_tile_size(s2_scene: Path, tmp_path: Path) -> None:
    """Examples are sampled once per raster: tiles do not change the answer."""
    rows_cols = np.array([[50, 60], [300, 900], [600, 1200], [100, 1400]])
    points = pixel_points(s2_scene, rows_cols[:2], "other") + pixel_points(
        s2_scene, rows_cols[2:], "vegetation"
    )
    path = write_examples(tmp_path / "ex.gpkg", points, 4326)
    masks = []
    for tile in ("512", "200"):
        out = tmp_path / tile
        result = run_spex("extract", s2_scene, "--prompt", "map the vegetation", "--out", out,
                          "--examples", path, "--tile", tile, "--quiet")  # fmt: skip
        assert result.returncode == 0, result.stderr
        masks.append(_mask(out)[:768, :1536])
    assert (masks[0] == masks[1]).all() and (masks[0] == 1).any()


@pytest.mark.parametrize(
    ("points", "flags", "message"),
    [
        ([(0.0, 0.0, "water")], (), "None of the 1 examples of"),  # off the raster
        # Projected coordinates in a layer that says EPSG:4326.
        ([(400000.0, 5800000.0, "water")], (), "cannot be placed on the raster"),
        ([(13.0, 52.5, "water")], ("--examples-field", "kind"), "has no field 'kind'"),
        ([(13.0, 52.5, "water")], ("--backend", "onnx"),
         "Examples (--examples) set the spectral backend's seeds; leave them out for the 'onnx'"),
    ],
)  # fmt: skip
def test_cli_refuses_bad_examples_in_one_line(s2_scene, tmp_path, points, flags, message) -> None:
    path = write_examples(tmp_path / "ex.gpkg", points, 4326)
    out = tmp_path / "out"
    result = run_spex("extract", s2_scene, "--prompt", "map the water", "--out", out,
                      "--examples", path, *flags)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()  # nothing half-written


def test_a_target_whose_examples_are_mostly_mapped_otherwise_gets_a_caveat() -> None:
    """Under half of a target's example pixels mapped as it: the explanation warns; never for
    'other', nor for a handful of pixels."""
    from spex.engine.backends.spectral.example_notes import poorly_mapped_notes

    notes = poorly_mapped_notes(
        {"bare": {"builtup": 7, "bare": 3}, "water": {"water": 9, "other": 1},
         "other": {"vegetation": 10}, "cloud": {"snow": 3, "cloud": 1}}, split=False
    )  # fmt: skip
    assert len(notes) == 1 and notes[0].startswith("only 3 of 10 bare example pixels")
    # Tree cover is vegetation; forest's examples are right in the vegetation when forest is
    # not split from it, and only above the tree cut when it is.
    trees = {"vegetation": {TREES: 6, "vegetation": 4}, "forest": {TREES: 2, "vegetation": 8}}
    assert poorly_mapped_notes(trees, split=False) == []
    notes = poorly_mapped_notes(trees, split=True)
    assert len(notes) == 1 and notes[0].startswith("only 2 of 10 forest example pixels")


def test_the_examples_pixels_are_told_in_the_result_s_terms() -> None:
    """A label asked for is right where the result has it; one not asked for, outside it."""
    from spex.engine.backends.spectral.example_notes import mapped_note

    answer = {"water": "water", "vegetation": None, "builtup": None, "other": None}
    note = mapped_note({"water": {"water": 7, "other": 3}, "builtup": {"builtup": 8}}, answer)
    assert note.endswith("builtup 8 of 8 outside the result; water 7 of 10 as water (3 outside)")
    note = mapped_note({"other": {"water": 2, "builtup": 6}}, answer)
    assert note.endswith("other 6 of 8 outside the result (2 as water)")
    # Forest asked alone: the vegetation below the tree cut is outside the result.
    answer = {"vegetation": None, TREES: "forest", "other": None}
    note = mapped_note({"forest": {TREES: 9, "vegetation": 1}}, answer)
    assert note.endswith("forest 9 of 10 as forest (1 outside)")
    # Vegetation asked alone answers for a forest label.
    note = mapped_note({"forest": {"vegetation": 10}}, {"vegetation": "vegetation"})
    assert note.endswith("forest 10 of 10 as vegetation")


def test_forest_examples_are_vegetation_seeds_told_as_forest(
    s2_scene: Path, tmp_path: Path
) -> None:
    """Points labelled 'forest' seed the vegetation (the scene model has no forest class), are
    told in the forest's terms, and make forest findable where the bands alone could not seed
    vegetation (no NIR: green, red and SWIR1 only)."""
    own = tmp_path / "own"
    assert (
        run_spex("extract", s2_scene, "--out", own, "--prompt", "forest", "--quiet").returncode == 0
    )
    forest = np.argwhere(_mask(own) == 1)
    picked = forest[np.random.default_rng(3).choice(len(forest), 20, replace=False)]
    path = write_examples(tmp_path / "ex.gpkg", pixel_points(s2_scene, picked, "forest"), 4326)
    out = tmp_path / "with"
    flags = ("--prompt", "forest", "--examples", path, "--quiet")
    result = run_spex("extract", s2_scene, "--out", out, *flags)
    assert result.returncode == 0, result.stderr
    details = json.loads((out / "run.json").read_text(encoding="utf-8"))["backend"]["details"]
    assert details["examples"]["features"] == {"forest": 20}
    assert details["example_pixels"] == {"vegetation": 20}  # the scene model's class
    mapped = details["examples"]["pixels_by_scene_class"]["forest"]
    explanation = (out / "explanation.md").read_text(encoding="utf-8")
    assert f"forest {mapped.get(TREES, 0)} of 20 as forest" in explanation
    assert mapped.get(TREES, 0) >= 15  # measured 20: the pixels were forest before
    bands = "-,-,green,red,-,-,-,-,-,-,-,swir1,-"
    alone = run_spex("extract", s2_scene, "--out", tmp_path / "a", "--bands", bands,
                     "--prompt", "forest", "--quiet")  # fmt: skip
    assert alone.returncode == 2 and "forest needs red and NIR bands" in alone.stderr
    seeded = run_spex("extract", s2_scene, "--out", tmp_path / "b", "--bands", bands, *flags)
    assert seeded.returncode == 0, seeded.stderr


def test_a_low_confidence_caveat_says_examples_correct_the_seeds(
    s2_scene: Path, tmp_path: Path
) -> None:
    """The winter scene's built-up is a guess (mean confidence below 0.6): the caveat says what
    corrects it; once the analyst has given examples, it no longer offers them."""
    flags = ("--prompt", "built-up areas", "--quiet")
    own = tmp_path / "own"
    assert run_spex("extract", s2_scene, "--out", own, *flags).returncode == 0
    hint = "or label a few pixels of it and of what it is confused with (--examples"
    caveat = [
        line
        for line in (own / "explanation.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("- built-up: mean confidence")
    ]
    assert len(caveat) == 1 and hint in caveat[0]
    # Low because built-up and bare soil are one class here (halved), and it says so.
    assert "half of how sure the pixels are of the non-vegetated land" in caveat[0]
    assert "this scene cannot tell built-up from bare soil" in caveat[0]
    builtup = np.argwhere(_mask(own) == 1)
    rng = np.random.default_rng(3)
    points = pixel_points(s2_scene, builtup[rng.choice(len(builtup), 10, replace=False)], "builtup")
    path = write_examples(tmp_path / "ex.gpkg", points, 4326)
    out = tmp_path / "with"
    result = run_spex("extract", s2_scene, "--out", out, "--examples", path, *flags)
    assert result.returncode == 0, result.stderr
    assert hint not in (out / "explanation.md").read_text(encoding="utf-8")
