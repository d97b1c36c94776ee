"""Forest: the part of the scene's vegetation darkest in the visible bands, on the real
Sentinel-2 sample scene, checked against its OpenStreetMap land-use polygons."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import ogr
from rasterio import features
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.backends.spectral.darkness import discriminant_slope
from spex.engine.backends.spectral.tree_cover import TreeCut, fit_tree_cut, visible_roles
from spex.engine.instructions.instruction import parse_instruction
from spex.engine.instructions.targets import TARGETS, answered_as

#: OSM land-use classes of the sample scene that are vegetation but not tree cover.
OPEN_GREEN = ("farm", "meadow", "grass")


@pytest.fixture(scope="module")
def runs(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """The mask of each instruction on the sample scene (one tile), and forest on 96 px tiles."""
    out = tmp_path_factory.mktemp("trees")
    masks = {}
    for name, prompt, tile in (
        ("forest", "map the forest", 512),
        ("vegetation", "vegetation", 512),
        ("both", "trees and meadows", 512),
        ("forest_tiled", "map the forest", 96),
        ("without", "vegetation except the forest", 96),
    ):
        result = extract(ExtractionRequest(s2_scene, prompt, out / name, tile_size=tile))
        with rasterio.open(result.mask_path) as src:
            masks[name] = src.read(1)
        masks[f"{name}_dir"] = out / name
    return masks


def _osm(sample_data: dict[str, Path], shape: tuple[int, int], transform) -> dict[str, np.ndarray]:
    """The OSM land-use polygons of the sample scene, burnt per class at pixel centres."""
    source = ogr.Open(str(sample_data["s2_osm_water"]))  # kept: its layer dies with it
    shapes: dict[str, list] = {}
    for feature in source.GetLayer(0):
        geometry = json.loads(feature.GetGeometryRef().ExportToJson())
        shapes.setdefault(feature.GetField("fclass"), []).append(geometry)
    return {
        fclass: features.rasterize(
            [(g, 1) for g in geoms], out_shape=shape, transform=transform
        ).astype(bool)
        for fclass, geoms in shapes.items()
    }


def test_forest_is_the_darker_part_of_the_vegetation(runs, s2_scene, sample_data) -> None:
    forest, vegetation, both = runs["forest"] == 1, runs["vegetation"] == 1, runs["both"]
    # A part of the vegetation, never a class of its own: the same fit, one more cut.
    assert forest.sum() > 1000 and not (forest & ~vegetation).any()
    assert (vegetation & ~forest).sum() > 1000
    # Asked together, each vegetation pixel is one of them.
    assert np.array_equal(both == 1, forest) and np.array_equal(both == 2, vegetation & ~forest)
    with rasterio.open(s2_scene) as src:
        osm = _osm(sample_data, (src.height, src.width), src.transform)
    open_green = np.any([osm[c] for c in OPEN_GREEN], axis=0)

    def forest_share(area: np.ndarray) -> float:
        return float(forest[area & vegetation].sum() / (area & vegetation).sum())

    # Measured: 0.73 of the vegetation found in OSM forest is forest, 0.13 in farmland, meadow
    # and grass (a winter scene: little of either is green).
    assert forest_share(osm["forest"]) >= 0.6
    assert forest_share(open_green) <= 0.3


def test_forest_does_not_depend_on_the_tile_size(runs) -> None:
    assert np.array_equal(runs["forest"], runs["forest_tiled"])


def test_forest_left_out_of_the_vegetation_is_background(runs) -> None:
    """ "vegetation except forest": the vegetation less the very forest asked for alone (on
    other tiles: the cut is tile-exact), the forest background; the explanation and run.json
    say it was left out."""
    forest, vegetation = runs["forest"] == 1, runs["vegetation"] == 1
    assert np.array_equal(runs["without"] == 1, vegetation & ~forest)
    assert set(np.unique(runs["without"])) <= {0, 1, 255}
    text = (runs["without_dir"] / "explanation.md").read_text()
    assert "Targets: vegetation without forest." in text
    assert "forest, left out of the vegetation: the vegetation darker" in text
    plan = json.loads((runs["without_dir"] / "run.json").read_text())["plan"]
    assert plan["targets"] == ["vegetation"] and plan["left_out"] == ["forest"]
    with rasterio.open(runs["without_dir"] / "mask.tif") as mask:
        assert mask.tags()["CLASS_1"] == "vegetation without forest"
    regions = ogr.Open(str(runs["without_dir"] / "features.gpkg"))  # kept: its layer dies with it
    names = {f.GetField("class_name") for f in regions.GetLayerByName("regions")}
    assert names == {"vegetation without forest"}


def test_only_the_spectral_backend_leaves_forest_out() -> None:
    from spex.engine.backends import left_out_refusal

    assert left_out_refusal(("forest",), "spectral") is None
    assert left_out_refusal((), "onnx") is None
    refusal = left_out_refusal(("forest",), "onnx")
    assert refusal.startswith("The onnx backend cannot leave forest out of vegetation")


def test_the_explanation_and_run_json_give_the_cut(runs) -> None:
    text = (runs["both_dir"] / "explanation.md").read_text()
    assert "| VIS, visible brightness (tree cover) |" in text
    assert "forest: the vegetation darker in the visible bands" in text
    assert "vegetation is the rest of it" in text
    details = json.loads((runs["both_dir"] / "run.json").read_text())["backend"]["details"]
    cut = details["tree_cover"]
    assert cut["bands"] == ["blue", "green", "red"] and 0.0 < cut["share_of_vegetation"] < 1.0
    assert "VIS, visible brightness (tree cover)" in details["thresholds_how"]
    assert cut["set_by_analyst"] is False and 0.0 < cut["visible_brightness"] < 0.3


def test_forest_in_true_colour(s2_scene: Path, tmp_path: Path) -> None:
    """With the visible bands alone forest is still found (no NIR: excess green for vegetation)."""
    result = extract(
        ExtractionRequest(s2_scene, "forest", tmp_path / "rgb", bands="-,blue,green,red" + ",-" * 9)
    )
    with rasterio.open(result.mask_path) as src:
        assert (src.read(1) == 1).sum() > 100


def test_words_for_trees_name_forest_and_the_rest_stays_vegetation() -> None:
    assert parse_instruction("the woods and the jungle").targets == ("forest",)
    assert parse_instruction("mangroves and crops").targets == ("forest", "vegetation")
    assert parse_instruction("green areas").targets == ("vegetation",)
    assert TARGETS["forest"].part_of == "vegetation"
    assert answered_as("forest", ("vegetation",)) == "vegetation"
    assert answered_as("forest", ("forest", "vegetation")) == "forest"
    assert answered_as("forest", ("water",)) is None


def test_no_cut_without_red_or_enough_vegetation() -> None:
    assert visible_roles(("blue", "green", "nir")) == ()
    assert visible_roles(("red", "green", "nir")) == ("green", "red")
    assert fit_tree_cut(np.linspace(1.0, 2.0, 49), ("red",)) is None  # fewer than 50 pixels
    assert fit_tree_cut(np.full(500, 2.0), ("red",)) is None  # no spread to split
    two_stands = np.concatenate([np.full(300, 1.0), np.full(100, 3.0)])
    cut = fit_tree_cut(two_stands, ("red",))
    assert cut is not None and 1.0 < cut.threshold < 3.0 and cut.share == pytest.approx(0.25)


def test_a_phrase_of_trees_and_green_is_forest_and_a_class_of_both_is_vegetation() -> None:
    """Words that qualify trees ("green forest", "forest plantations", NLCD's class names) do
    not add vegetation beside forest; a model class of trees and shrubs is vegetation."""
    from spex.engine.backends.onnx.classes import catalogue_target

    for words in ("dense green forests", "forest vegetation", "forest plantations",
                  "deciduous forest", "woody vegetation", "wooded areas"):  # fmt: skip
        assert parse_instruction(words).targets == ("forest",), words
    assert parse_instruction("plantations").targets == ("vegetation",)
    assert catalogue_target("trees") == "forest"
    assert catalogue_target("Trees/Shrubs") == "vegetation"
    assert catalogue_target("trees and grass") == "vegetation"
    assert catalogue_target("trees and water") is None  # two wholes: the model's own class


def test_forest_refused_where_a_backend_has_it_only_within_vegetation() -> None:
    from spex.engine.errors import PromptError

    with pytest.raises(PromptError) as refused:
        parse_instruction("the woods", available=["water", "vegetation"])
    assert str(refused.value) == (
        "Cannot extract forest with this backend: it extracts water, vegetation; its vegetation "
        "includes forest (try 'extract the vegetation')"
    )


def test_forest_says_why_it_is_empty_under_the_analysts_ndvi(s2_scene, tmp_path) -> None:
    result = extract(
        ExtractionRequest(s2_scene, "forest", tmp_path / "run", index_thresholds={"NDVI": 0.65})
    )
    text = result.explanation_path.read_text()
    assert "vegetation seeds were picked with NDVI 0.65, the value set with --threshold" in text
    assert "forest: not mapped (too little vegetation" in text


def test_the_probability_of_tree_cover_rises_past_the_cut() -> None:
    """A logistic centred on the cut, its slope the linear discriminant of the two sides."""
    rng = np.random.default_rng(0)
    other, trees = rng.normal(1.0, 0.2, 20000), rng.normal(2.0, 0.2, 10000)
    slope = discriminant_slope(np.concatenate([other, trees]), 1.5)
    assert slope == pytest.approx(1.0 / 0.2**2, rel=0.05)  # (2 - 1) / 0.04
    cut = TreeCut(1.5, 1 / 3, ("red",), slope=slope)
    p = cut.probability(np.array([1.0, 1.4, 1.5, 1.6, 2.0, 9.0], np.float32))
    assert p[2] == pytest.approx(0.5) and np.all(np.diff(p) > 0) and p[-1] == 1.0
    assert p[3] == pytest.approx(1 / (1 + np.exp(-0.1 * slope)), rel=1e-5)
    assert cut.summary()["probability_slope"] == pytest.approx(slope, abs=1e-4)
    # A hard cut where a side has no spread, as before: sure on either side.
    assert discriminant_slope(np.array([1.0, 1.0, 3.0]), 2.0) == np.inf
    hard = TreeCut(1.5, 0.5, ("red",))
    assert hard.probability(np.array([1.4, 1.6], np.float32)).tolist() == [0.0, 1.0]
    assert hard.summary()["probability_slope"] is None


def test_the_vegetation_beside_the_forest_is_surer_away_from_the_cut(
    s2_scene: Path, sample_data
) -> None:
    """ "trees and meadows" on the real scene: a pixel's confidence is its vegetation
    probability times how sure it is of its side of the tree cut, so the open green the cut
    leaves beside the forest is ranked above the forest the cut missed. Measured against
    OpenStreetMap: AUC 0.66 (the vegetation probability alone: 0.49)."""
    from scipy.stats import mannwhitneyu

    from spex.engine.backends.spectral.backend import SpectralBackend
    from spex.engine.progress import RunMonitor
    from spex.engine.raster.raster_source import open_source

    with open_source(s2_scene) as source:
        backend = SpectralBackend()
        plan = parse_instruction("trees and meadows")
        backend.prepare(source, plan, source.read_sample(), RunMonitor())
        window = Window(0, 0, source.width, source.height)
        bands = source.read(window)
        both = backend.predict(bands, window)
        backend.set_targets(("vegetation",))
        alone = backend.predict(bands, window)
    with rasterio.open(s2_scene) as src:
        osm = _osm(sample_data, (src.height, src.width), src.transform)
    forest, other = both.classes == 1, both.classes == 2
    # Never surer than of the vegetation itself, and less sure on average.
    assert np.all(both.confidence[forest | other] <= alone.confidence[forest | other] + 1e-6)
    assert both.confidence[forest].mean() < alone.confidence[forest].mean() - 0.005
    open_green = np.any([osm[c] for c in OPEN_GREEN], axis=0)
    scored = other & (open_green | osm["forest"])
    right = open_green[scored]

    def auc(confidence: np.ndarray) -> float:
        c = confidence[scored]
        return mannwhitneyu(c[right], c[~right]).statistic / (right.sum() * (~right).sum())

    assert auc(both.confidence) > 0.6 and auc(both.confidence) > auc(alone.confidence) + 0.1


def test_the_cut_lies_between_the_analysts_forest_and_other_vegetation() -> None:
    from spex.engine.backends.spectral.tree_cover import cut_between_examples

    own = TreeCut(2.0, 0.5, ("red",))
    vegetation = np.linspace(1.0, 3.0, 201)
    cut = cut_between_examples(own, vegetation, np.array([2.6, 2.8, 3.0]), np.array([1.0, 1.4]))
    assert cut.threshold == pytest.approx((2.8 + 1.2) / 2) and cut.examples == (2.8, 1.2)
    assert cut.share == pytest.approx(np.mean(vegetation > 2.0))
    assert f"analyst's forest examples ({np.exp(-2.8):.4g})" in cut.describe()
    # Forest examples brighter than the others contradict the canopy's shade: the scene's cut.
    assert cut_between_examples(own, vegetation, np.array([1.0]), np.array([2.5])) is own
    assert cut_between_examples(own, vegetation, np.array([]), np.array([2.5])) is own


def test_forest_and_grass_examples_set_the_cut(s2_scene: Path, tmp_path: Path) -> None:
    """Points on the forest of a first run and on its vegetation that is not forest, labelled
    'forest' and 'grass': the cut lies between them, and the explanation says so."""
    from tests.test_examples import pixel_points, write_examples

    first = extract(ExtractionRequest(s2_scene, "trees and meadows", tmp_path / "own"))
    with rasterio.open(first.mask_path) as src:
        mask = src.read(1)
    rng = np.random.default_rng(5)
    points = []
    for value, label in ((1, "forest"), (2, "grass")):
        cells = np.argwhere(mask == value)
        points += pixel_points(s2_scene, cells[rng.choice(len(cells), 15, replace=False)], label)
    examples_path = write_examples(tmp_path / "ex.gpkg", points, 4326)
    from spex.engine.backends.spectral.examples import load_examples

    examples = load_examples(examples_path, "class")
    run = extract(
        ExtractionRequest(s2_scene, "trees and meadows", tmp_path / "with", examples=examples)
    )
    details = json.loads((tmp_path / "with" / "run.json").read_text())["backend"]["details"]
    # Medians as visible brightness: the forest's the darker; the cut halfway in their log.
    forest_median, other_median = details["tree_cover"]["examples_medians"]
    assert forest_median < other_median
    assert details["tree_cover"]["visible_brightness"] == pytest.approx(
        np.sqrt(forest_median * other_median), rel=1e-3
    )
    assert "analyst's forest examples" in run.explanation_path.read_text()


def test_the_analyst_sets_the_tree_cut(runs, s2_scene: Path, tmp_path: Path) -> None:
    """``--threshold VIS=...``: forest is the vegetation darker than the analyst's value; a
    brighter value takes more of the vegetation, and the scene's own choice is printed beside."""
    own = json.loads((runs["forest_dir"] / "run.json").read_text())["backend"]["details"]
    own_cut = own["tree_cover"]["visible_brightness"]
    masks = {}
    for name, factor in (("lower", 0.8), ("higher", 1.25)):
        result = extract(
            ExtractionRequest(
                s2_scene,
                "map the forest",
                tmp_path / name,
                index_thresholds={"VIS": own_cut * factor},
            )
        )
        with rasterio.open(result.mask_path) as src:
            masks[name] = src.read(1) == 1
        details = json.loads((tmp_path / name / "run.json").read_text())["backend"]["details"]
        cut = details["tree_cover"]
        assert cut["set_by_analyst"] is True
        assert cut["visible_brightness"] == pytest.approx(own_cut * factor, rel=1e-5)
        text = result.explanation_path.read_text()
        assert "The analyst set VIS (--threshold)" in text
        assert f"the scene's own choice: {own_cut:.4g}" in text
    forest = runs["forest"] == 1
    # Darker than a lower value is less forest; every pixel of it is forest at the scene's cut.
    assert masks["lower"].sum() < forest.sum() < masks["higher"].sum()
    assert not (masks["lower"] & ~forest).any() and not (forest & ~masks["higher"]).any()


def test_the_tree_cut_is_refused_where_it_would_not_be_used(s2_scene: Path, tmp_path: Path) -> None:
    from spex.engine.backends.spectral.set_thresholds import parse_thresholds
    from spex.engine.errors import InputError

    left_out = extract(
        ExtractionRequest(
            s2_scene, "vegetation without forest", tmp_path / "w", index_thresholds={"VIS": 0.04}
        )
    )
    assert left_out.mask_path.exists()  # the cut sets what is left out: used
    with pytest.raises(InputError, match="does not ask for forest; leave it out or ask for"):
        extract(
            ExtractionRequest(
                s2_scene, "vegetation", tmp_path / "veg", index_thresholds={"VIS": 0.04}
            )
        )
    assert not (tmp_path / "veg" / "mask.tif").exists()
    with pytest.raises(InputError, match=r"give VIS a number above 0 \(e.g. VIS=0.04\)"):
        parse_thresholds("VIS=0")
    with pytest.raises(InputError, match="give VIS a number above 0"):
        parse_thresholds("VIS=1e999")  # infinite: every vegetation pixel would be forest
    assert parse_thresholds("vis=0,05") == {"VIS": 0.05}
