"""The target catalogue and the instruction parser: prompt text to Plan, and its refusals."""

from __future__ import annotations

import json

import pytest

from spex.engine.errors import PromptError
from spex.engine.instructions.instruction import (
    EVERY_TARGET_PHRASES,
    parse_instruction,
    singular,
)
from spex.engine.instructions.plan import Plan
from spex.engine.instructions.size_limits import M2_PER_UNIT
from spex.engine.instructions.targets import (
    AMBIGUOUS_TERMS,
    CATALOGUE_PATH,
    TARGET_IDS,
    TARGETS,
    WITHIN_TARGET,
    Target,
    get_target,
    titles,
)

ALL_TITLES = "water, vegetation, forest, built-up, bare soil, snow/ice, cloud"

# prompt -> (targets, min_area_m2, max_area_m2, min_pixels, max_pixels, largest_n)
CASES: list[
    tuple[str, tuple[str, ...], float | None, float | None, int | None, int | None, int | None]
] = [
    # paraphrases of one target
    ("extract the water bodies", ("water",), None, None, None, None, None),
    ("Please extract all the water in this image.", ("water",), None, None, None, None, None),
    ("find lakes", ("water",), None, None, None, None, None),
    ("map the rivers and reservoirs", ("water",), None, None, None, None, None),
    ("flooded fields", ("water",), None, None, None, None, None),
    ("delineate the inundation", ("water",), None, None, None, None, None),
    ("extract the fields", ("vegetation",), None, None, None, None, None),
    ("segment all vegetation patches in the scene", ("vegetation",), None, None, None, None, None),
    ("trees, grass, and shrubs", ("forest", "vegetation"), None, None, None, None, None),
    ("urban green spaces", ("vegetation",), None, None, None, None, None),
    ("built-up areas", ("builtup",), None, None, None, None, None),
    ("Built up area", ("builtup",), None, None, None, None, None),
    ("detect impervious surfaces", ("builtup",), None, None, None, None, None),
    ("show me the rooftops", ("builtup",), None, None, None, None, None),
    ("bare-soil", ("bare",), None, None, None, None, None),
    ("bare ground, sand and rocks", ("bare",), None, None, None, None, None),
    ("fallow fields", ("bare",), None, None, None, None, None),
    ("delineate snow cover and glaciers", ("snow",), None, None, None, None, None),
    ("sea ice", ("snow",), None, None, None, None, None),
    ("show me the clouds", ("cloud",), None, None, None, None, None),
    ("haze", ("cloud",), None, None, None, None, None),
    # case, punctuation and filler invariance
    ("WATER", ("water",), None, None, None, None, None),
    ("  water!!!  ", ("water",), None, None, None, None, None),
    ("Could you please map the lakes for me?", ("water",), None, None, None, None, None),
    # several targets, order of first mention, de-duplicated
    ("water and vegetation", ("water", "vegetation"), None, None, None, None, None),
    ("forests, lakes and towns", ("forest", "water", "builtup"), None, None, None, None, None),
    ("lakes, forests, rivers and woods", ("water", "forest"), None, None, None, None, None),
    ("snow/ice and clouds", ("snow", "cloud"), None, None, None, None, None),
    ("water;vegetation", ("water", "vegetation"), None, None, None, None, None),
    # place phrases say where, not what
    ("buildings in the forest", ("builtup",), None, None, None, None, None),
    ("clouds over the lakes", ("cloud",), None, None, None, None, None),
    ("lakes in Bavaria", ("water",), None, None, None, None, None),
    ("water bodies from the Sentinel-2 image", ("water",), None, None, None, None, None),
    ("vegetation at 10 m resolution", ("vegetation",), None, None, None, None, None),
    # area limits and unit conversions
    ("extract the water bodies larger than 2 ha", ("water",), 20000.0, None, None, None, None),
    ("water over 2 ha", ("water",), 20000.0, None, None, None, None),
    ("lakes of 2,5 ha or more", ("water",), 25000.0, None, None, None, None),
    # thousands grouped by spaces (SI, most of Europe) and scientific notation
    ("water over 10 000 m2", ("water",), 10000.0, None, None, None, None),
    ("lakes between 1\u202f000 and 20 000 m2", ("water",), 1000.0, 20000.0, None, None, None),
    ("vegetation over 2.5E4 m2", ("vegetation",), 25000.0, None, None, None, None),
    ("the 3 largest lakes over 1e3 m2", ("water",), 1000.0, None, None, None, 3),
    ("water at least 500 m2", ("water",), 500.0, None, None, None, None),
    ("water at least 500 m²", ("water",), 500.0, None, None, None, None),
    ("lakes over 500 square metres", ("water",), 500.0, None, None, None, None),
    ("lakes over 500 sq m", ("water",), 500.0, None, None, None, None),
    ("lakes > 1 km2", ("water",), 1e6, None, None, None, None),
    ("lakes >1km²", ("water",), 1e6, None, None, None, None),
    ("lakes over 1 sq km", ("water",), 1e6, None, None, None, None),
    ("water more than 0.5 hectares", ("water",), 5000.0, None, None, None, None),
    ("lakes larger than two hectares", ("water",), 20000.0, None, None, None, None),
    ("lakes over 3 acres", ("water",), 3 * 4046.8564224, None, None, None, None),
    ("ponds smaller than 1 ha", ("water",), None, 10000.0, None, None, None),
    ("ponds under 300 m2", ("water",), None, 300.0, None, None, None),
    ("lakes no larger than 5 ha", ("water",), None, 50000.0, None, None, None),
    ("lakes between 1 and 5 ha", ("water",), 10000.0, 50000.0, None, None, None),
    ("lakes 1-5 ha", ("water",), 10000.0, 50000.0, None, None, None),
    ("water bodies > 2 ha and < 10 ha", ("water",), 20000.0, 100000.0, None, None, None),
    ("minimum mapping unit of 0.5 ha for water", ("water",), 5000.0, None, None, None, None),
    ("buildings bigger than 20 pixels", ("builtup",), None, None, 20, None, None),
    ("water less than 10 px", ("water",), None, None, None, 10, None),
    ("water bigger than 50 pixels and at least 1 ha", ("water",), 10000.0, None, 50, None, None),
    # largest N
    ("the 3 largest lakes", ("water",), None, None, None, None, 3),
    ("the 3 biggest lakes", ("water",), None, None, None, None, 3),
    ("largest lake", ("water",), None, None, None, None, 1),
    ("the largest built-up area", ("builtup",), None, None, None, None, 1),
    ("top 5 forests", ("forest",), None, None, None, None, 5),
    ("the five largest forests larger than 2 ha", ("forest",), 20000.0, None, None, None, 5),
    # A field is vegetation, unless the instruction says it is bare; mines are bare ground.
    ("bare fields", ("bare",), None, None, None, None, None),
    ("harvested fields over 2 ha", ("bare",), 20000.0, None, None, None, None),
    ("agricultural fields", ("vegetation",), None, None, None, None, None),
    ("identify the agricultural areas", ("vegetation",), None, None, None, None, None),
    ("map the arable land and farms", ("vegetation",), None, None, None, None, None),
    ("open-pit mines", ("bare",), None, None, None, None, None),
    ("map the mangroves", ("forest",), None, None, None, None, None),
    ("oil palm plantations larger than 5 ha", ("forest",), 50000.0, None, None, None, None),
    ("informal settlements", ("builtup",), None, None, None, None, None),
    ("scrubland and water", ("vegetation", "water"), None, None, None, None, None),
    ("determine the built-up area", ("builtup",), None, None, None, None, None),
    ("quantify the water", ("water",), None, None, None, None, None),
]


@pytest.mark.parametrize(
    ("prompt", "targets", "min_m2", "max_m2", "min_px", "max_px", "largest_n"), CASES
)
def test_parse_instruction(prompt, targets, min_m2, max_m2, min_px, max_px, largest_n):
    plan = parse_instruction(prompt)
    assert plan.targets == targets
    assert plan.min_area_m2 == (None if min_m2 is None else pytest.approx(min_m2))
    assert plan.max_area_m2 == (None if max_m2 is None else pytest.approx(max_m2))
    assert plan.min_pixels == min_px
    assert plan.max_pixels == max_px
    assert plan.largest_n == largest_n
    assert plan.prompt == prompt.strip()


@pytest.mark.parametrize(
    "prompt",
    [
        "extract the water bodies larger than 2 ha",
        "EXTRACT THE WATER BODIES LARGER THAN 2 HA!",
        "Please, in this image, extract all the water bodies larger than 2 ha.",
        "detect the water patches over 2 hectares",
        "water > 20000 m2",
        "water bodies >= 0.02 km2",
    ],
)
def test_invariance_to_case_punctuation_and_fillers(prompt):
    plan = parse_instruction(prompt)
    assert (plan.targets, plan.min_area_m2, plan.max_area_m2) == (("water",), 20000.0, None)


ERRORS = [
    # (prompt, available, words that must be in the message)
    ("", None, ["empty", "extract the water bodies"]),
    ("   \n ", None, ["empty"]),
    ("extract the airplanes", None, ["'airplanes'", ALL_TITLES]),
    ("water and airplanes", None, ["'airplanes'", ALL_TITLES]),
    ("extract the solar panels and water", None, ["'solar panels'", ALL_TITLES]),
    ("please extract", None, ["No target", ALL_TITLES]),
    ("wetlands", None, ["'wetlands'", "water", "vegetation"]),
    ("extract the roads", None, ["'roads'", "built-up"]),
    ("extract paved surfaces", None, ["'paved'", "ask for 'built-up'"]),
    # a word the built-up holds is refused where it is not asked for, or is left out
    ("roads and water", None, ["'roads'", "ask for 'built-up'"]),
    ("land cover except roads", None, ["'roads'", "ask for 'built-up'"]),
    ("land cover except built-up and roads", None, ["'roads'", "ask for 'built-up'"]),
    ("buildings and roads", ["water", "vegetation"], ["'roads'", "ask for 'built-up'"]),
    ("extract the cloud shadows", None, ["'cloud shadows'", "--backend onnx"]),
    ("paddy fields", None, ["'paddy'", "water", "vegetation"]),
    ("map the rice fields", None, ["'rice fields'", "water", "vegetation"]),
    ("clouds", ["water", "vegetation"], ["cloud", "water, vegetation"]),
    ("airplanes", ["water", "vegetation"], ["'airplanes'", "water, vegetation"]),
    ("water except rivers", None, ["'river' is water here", "'land cover except cloud'"]),
    ("urban areas except parks", None, ["each pixel has one class", "built-up alone"]),
    ("all forests except small ones", None, ["with a size", "'forest larger than 1 ha'"]),
    ("identify the deforested areas", None, ["'deforested'", "two dates"]),
    ("map the burned areas", None, ["'burned'", "two dates"]),
    ("fire scars larger than 10 ha", None, ["'fire scars'", "two dates"]),
    ("healthy vegetation", None, ["'healthy'", "--threshold NDVI"]),
    ("vegetation except water", None, ["Cannot leave water out of vegetation", "one class"]),
    ("forest and vegetation except forest", None, ["Forest is both asked for and left out"]),
    ("vegetation except forest", ["vegetation"], ["cannot tell forest within the vegetation"]),
    ("non forested areas", None, ["'non forested'", "'vegetation except forest'"]),
    ("cloud-free land cover", None, ["cloud free"]),
    ("trees taller than 5 m", None, ["'taller'", "heights cannot be measured", "'forest'"]),
    ("map the coastline", None, ["'coastline'", "edge of the water", "'water'"]),
    # an index value is a threshold, set beside the instruction: the fix is named
    ("vegetated areas with NDVI above 0.5", None, ["'ndvi above 0.5'", "--threshold NDVI=0.5"]),
    ("vegetation where ndvi >= 0.6", None, ["--threshold NDVI=0.6"]),
    ("water with an MNDWI of 0.2", None, ["--threshold MNDWI=0.2"]),
    ("forest, EVI above 0.4", None, ["EVI cannot be set", "settable: NDVI, ExG"]),
    ("the 3 tallest buildings", None, ["'tallest'", "heights cannot be measured", "'built-up'"]),
    ("cloud-free areas", None, ["cloud free"]),
    ("lakes of 2 ha", None, ["minimum or a maximum"]),
    ("lakes larger than 2", None, ["'larger than 2'", "ha"]),
    ("the largest lakes", None, ["how many"]),
    ("the smallest lakes", None, ["largest"]),
    ("the 3 largest lakes and the 2 largest rivers", None, ["Two counts", "water", "3", "2"]),
    ("lakes over 1 ha and rivers over 2 ha", None, ["Two minimum sizes given for water"]),
    # Hundreds of limits or counts: one line, never a traceback (each kind has 2048 marks).
    ("lakes " + " and ".join(["over 1 ha"] * 300), None, ["Two minimum sizes given for water"]),
    ("lakes " + " and ".join(["over 1 ha"] * 3000), None, ["more than 2048 size limits"]),
    ("lakes " + " and ".join(["the 3 largest"] * 3000), None, ["more than 2048 counts"]),
    ("lakes larger than 1 ha and larger than 5 ha", None, ["Two minimum"]),
    ("lakes larger than 5 ha and smaller than 1 ha", None, ["minimum", "maximum"]),
    ("water 3", None, ["'3'"]),
    ("please\nextract " + "the " * 100, None, ["No target", "..."]),
    # Another language: refused whole, not split at its accents, and told that English is read.
    ("extraia os corpos d'água", None, ["'extraia os corpos dagua'", "read in English"]),
    ("Wasserflächen", None, ["'wasserflachen'", "read in English"]),
    ("提取水体", None, ["No target found", "read in English"]),
    # A minus sign before a size: refused, not read as the positive size (its dash a space).
    ("water bodies larger than -5 ha", None, ["A size cannot be negative ('-5 ha')"]),
    ("water > -2 ha", None, ["cannot be negative ('-2 ha')", "larger than 2 ha"]),
    ("buildings under \u22123 m2", None, ["cannot be negative ('-3 m2')"]),
    # ... after any comparison the size limits read, and at a range's start.
    ("water up to -3 ha", None, ["cannot be negative ('-3 ha')"]),
    ("water mmu of -1 ha", None, ["cannot be negative ('-1 ha')"]),
    ("water between -2 and 5 ha", None, ["cannot be negative ('-2')"]),
]


@pytest.mark.parametrize(("prompt", "available", "expected"), ERRORS)
def test_refusals_are_one_line_and_helpful(prompt, available, expected):
    with pytest.raises(PromptError) as info:
        parse_instruction(prompt, available=available)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message
    for part in expected:
        assert part in message


def test_unknown_target_message_matches_documented_form():
    with pytest.raises(PromptError) as info:
        parse_instruction("extract the airplanes")
    assert str(info.value) == (
        "Cannot extract 'airplanes': this backend extracts water, vegetation, forest, built-up, "
        "bare soil, snow/ice, cloud (try 'extract the water bodies')"
    )


def test_land_cover_asks_for_every_target_the_backend_extracts():
    for prompt in (
        "land cover",
        "classify the land cover",
        "a land-cover map",
        "all classes",
        "every class",
        "everything",
        "LULC classification",
    ):
        assert parse_instruction(prompt).targets == TARGET_IDS, prompt
    assert parse_instruction("land cover", available=["vegetation", "water"]).targets == (
        "vegetation",
        "water",
    )
    # beside a named target: its limit stays its own, every other target joins it
    plan = parse_instruction("lakes over 1 ha and everything")
    assert plan.targets == TARGET_IDS
    assert plan.limits("water").min_area_m2 == 1e4
    assert plan.limits("builtup").min_area_m2 is None
    # right after a target, "land cover" names that target's cover, not every target
    assert parse_instruction("forest land cover").targets == ("forest",)
    assert parse_instruction("water in the land cover map").targets == ("water",)
    # every target but those said to be left out; a whole left out takes its parts
    assert parse_instruction("everything except water").targets == TARGET_IDS[1:]
    assert parse_instruction("land cover without clouds, snow or ice").targets == (
        "water",
        "vegetation",
        "forest",
        "builtup",
        "bare",
    )
    assert parse_instruction("all classes but vegetation").targets == (
        "water",
        "builtup",
        "bare",
        "snow",
        "cloud",
    )
    plan = parse_instruction("land cover except cloud, over 1 ha")
    assert "cloud" not in plan.targets and plan.limits("water").min_area_m2 == 1e4


@pytest.mark.parametrize(
    "prompt",
    [
        "vegetation except forest",
        "extract non-forest vegetation",
        "vegetation excluding trees",
        "vegetation but not the forest",
        "grassland other than forest",
        "the vegetation except for the woods",
        "crops apart from tree cover",
        "vegetation without forest",
    ],
)
def test_the_forest_is_left_out_of_the_vegetation(prompt: str) -> None:
    """A whole less its part, in the words analysts use: vegetation is the target, forest is
    left out of it (answered as background), and the plan says so."""
    plan = parse_instruction(prompt)
    assert (plan.targets, plan.left_out) == (("vegetation",), ("forest",))
    assert plan.describe().startswith("Targets: vegetation without forest.")
    assert Plan.from_dict(plan.to_dict()) == plan


def test_a_part_left_out_keeps_the_limits_and_other_targets() -> None:
    plan = parse_instruction("vegetation patches over 2 ha except forest")
    assert plan.left_out == ("forest",) and plan.min_area_m2 == 2e4
    plan = parse_instruction("vegetation except forest; lakes over 1 ha")
    assert (plan.targets, plan.left_out) == (("vegetation", "water"), ("forest",))
    assert plan.limits("water").min_area_m2 == 1e4
    assert plan.limits("vegetation").min_area_m2 is None
    assert parse_instruction("vegetation other than forest and water").targets == (
        "vegetation",
        "water",
    )
    # "other" alone qualifies, "land cover without forest" leaves it out of every target
    assert parse_instruction("other vegetation").left_out == ()
    plan = parse_instruction("land cover without forest")
    assert "forest" not in plan.targets and plan.left_out == ()


@pytest.mark.parametrize(
    ("prompt", "targets"),
    [
        # an index named as the means, without a value, carries no meaning
        ("map water using NDWI", ("water",)),
        ("vegetation (NDVI) larger than 2 ha", ("vegetation",)),
        ("show bare ground and rock outcrops", ("bare",)),
        ("highlight dry riverbeds and sandbanks", ("bare",)),
        ("Berlin's lakes", ("water",)),  # a name owns the lakes: not a target to refuse
        ("New York's parks and lakes", ("vegetation", "water")),
        ("the farmers' fields", ("vegetation",)),
        ("map the city's parks", ("vegetation",)),  # the city says where: parks only
        ("the cities\u2019 parks", ("vegetation",)),
        ("the city's 3 largest parks", ("vegetation",)),
        ("lakes in the city's north", ("water",)),
        ("the forest's edge", ("forest",)),  # nothing of its own follows: the forest
        ("the forest's edge and lakes", ("forest", "water")),
        ("let's map what's green", ("vegetation",)),  # contractions are not owners
    ],
)
def test_what_names_where_or_how_is_not_a_target(prompt: str, targets: tuple[str, ...]) -> None:
    assert parse_instruction(prompt).targets == targets


def test_no_target_found_says_land_cover_asks_for_all():
    with pytest.raises(PromptError, match="or 'land cover' for all of them"):
        parse_instruction("classify this scene")


def test_available_restricts_and_orders_nothing_else():
    plan = parse_instruction("vegetation and water", available=["water", "vegetation"])
    assert plan.targets == ("vegetation", "water")
    with pytest.raises(PromptError, match="Unknown target 'lava'"):
        parse_instruction("water", available=["lava"])


def test_every_synonym_parses_to_its_own_target():
    for target in TARGETS.values():
        for phrase in (target.id, target.title, target.spie_phrase, *target.synonyms):
            assert parse_instruction(f"extract the {phrase}").targets == (target.id,), phrase


def test_plural_and_singular_synonyms_agree():
    pairs = {"lakes": "lake", "bodies": "body", "beaches": "beach", "grass": "grass", "ice": "ice"}
    assert {w: singular(w) for w in pairs} == pairs
    assert parse_instruction("cities").targets == parse_instruction("city").targets == ("builtup",)
    assert parse_instruction("beaches").targets == ("bare",)
    assert parse_instruction("estuaries").targets == ("water",)
    assert parse_instruction("grasses").targets == ("vegetation",)


def test_no_phrase_maps_to_two_things():
    seen: dict[tuple[str, ...], str] = {}
    for target in TARGETS.values():
        for phrase in (target.id, target.title, target.spie_phrase, *target.synonyms):
            key = tuple(
                singular(w) for w in phrase.lower().replace("-", " ").replace("/", " ").split()
            )
            assert seen.setdefault(key, target.id) == target.id, phrase
    for term in AMBIGUOUS_TERMS:
        key = tuple(singular(w) for w in term.split())
        assert key not in seen, term
    for phrase in EVERY_TARGET_PHRASES:
        key = tuple(singular(w) for w in phrase.split())
        assert key not in seen and phrase not in AMBIGUOUS_TERMS, phrase


def test_area_units_convert_to_square_metres():
    assert M2_PER_UNIT["ha"] == 1e4 and M2_PER_UNIT["km2"] == 1e6
    for text, m2 in [("2 ha", 2e4), ("1 km2", 1e6), ("1 acre", 4046.8564224), ("300 m2", 300.0)]:
        plan = parse_instruction(f"water larger than {text}")
        assert plan.min_area_m2 == pytest.approx(m2)
        assert plan.min_pixels is None


def test_pixel_limits_round_inwards():
    plan = parse_instruction("water more than 2.5 px and less than 9.5 pixels")
    assert (plan.min_pixels, plan.max_pixels) == (3, 9)


def test_plan_round_trip_and_describe():
    plan = parse_instruction("the 5 largest lakes and forests larger than 2 ha")
    data = plan.to_dict()
    assert data == {
        "prompt": "the 5 largest lakes and forests larger than 2 ha",
        "targets": ["water", "forest"],
        "min_area_m2": 20000.0,
        "max_area_m2": None,
        "min_pixels": None,
        "max_pixels": None,
        "largest_n": 5,
        "own_limits": {},
        "left_out": [],
    }
    assert json.loads(json.dumps(data)) == data
    assert Plan.from_dict(data) == plan
    assert plan.describe() == (
        "Targets: water, forest. Keep regions of at least 20000 m2 (2 ha). "
        "Keep the 5 largest regions per target."
    )


def test_describe_other_limits():
    assert parse_instruction("largest lake").describe() == (
        "Targets: water. Keep regions of any size. Keep the largest region per target."
    )
    assert parse_instruction("builtup between 20 and 500 pixels").describe() == (
        "Targets: built-up. Keep regions of at least 20 pixels and at most 500 pixels."
    )
    assert "at most 2000000 m2 (2 km2)" in parse_instruction("snow under 2 km2").describe()


def test_catalogue():
    assert TARGET_IDS == ("water", "vegetation", "forest", "builtup", "bare", "snow", "cloud")
    assert titles() == ALL_TITLES
    phrases = {t.id: t.spie_phrase for t in TARGETS.values()}
    assert phrases["water"] == "water bodies" and phrases["builtup"] == "buildings"
    assert get_target("Built-Up") is TARGETS["builtup"]
    for target in TARGETS.values():
        assert isinstance(target, Target)
        assert len(target.colour) == 3 and all(0 <= c <= 255 for c in target.colour)
    water, veg = TARGETS["water"].colour, TARGETS["vegetation"].colour
    assert water[2] == max(water) and veg[1] == max(veg)  # blue water, green vegetation
    assert len({t.colour for t in TARGETS.values()}) == len(TARGETS)
    assert json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))["targets"][0]["id"] == "water"
    with pytest.raises(PromptError, match="valid targets are water, vegetation"):
        get_target("airplane")


# prompt -> {target: (min_area_m2, max_area_m2, min_pixels, max_pixels, largest_n)}
OWN_LIMITS = [
    (
        "water bodies over 1 ha and buildings over 500 m2",
        {"water": (10000.0, None, None, None, None), "builtup": (500.0, None, None, None, None)},
    ),
    (
        "forest patches over 2 ha and the largest lake",
        {"forest": (20000.0, None, None, None, None), "water": (None, None, None, None, 1)},
    ),
    (
        "the 3 largest lakes and all buildings",
        {"water": (None, None, None, None, 3), "builtup": (None, None, None, None, None)},
    ),
    (
        "lakes and rivers, plus the 4 biggest forests",
        {"water": (None, None, None, None, None), "forest": (None, None, None, None, 4)},
    ),
    (
        "the 3 largest lakes and the 2 largest forests",
        {"water": (None, None, None, None, 3), "forest": (None, None, None, None, 2)},
    ),
    (
        "buildings between 20 and 500 pixels, and lakes larger than 1 ha",
        {"builtup": (None, None, 20, 500, None), "water": (10000.0, None, None, None, None)},
    ),
    (  # "the largest lake" is closed: the later limit is the forests' alone
        "the largest lake and forests over 2 ha",
        {"water": (None, None, None, None, 1), "forest": (20000.0, None, None, None, None)},
    ),
    (
        "the largest lake over 2 ha and forests",
        {"water": (20000.0, None, None, None, 1), "forest": (None, None, None, None, None)},
    ),
    (  # a limit right after another shares its targets
        "lakes larger than 1 ha and smaller than 5 ha, and forests",
        {"water": (10000.0, 50000.0, None, None, None), "forest": (None,) * 5},
    ),
]


@pytest.mark.parametrize(("prompt", "expected"), OWN_LIMITS)
def test_each_target_takes_the_limits_said_with_it(prompt, expected):
    plan = parse_instruction(prompt)
    assert plan.targets == tuple(expected)
    for target, (min_m2, max_m2, min_px, max_px, largest_n) in expected.items():
        limits = plan.limits(target)
        assert (limits.min_area_m2, limits.max_area_m2) == (min_m2, max_m2), target
        assert (limits.min_pixels, limits.max_pixels, limits.largest_n) == (
            min_px,
            max_px,
            largest_n,
        ), target


@pytest.mark.parametrize(
    "prompt",
    [
        "water bodies and vegetation larger than 2 ha",  # said after both: both
        "larger than 2 ha: water bodies and vegetation",  # said first: what follows
        "Extract water and vegetation. Only regions over 2 ha.",  # alone: every target
        "the 5 largest lakes and forests larger than 2 ha",
    ],
)
def test_limits_said_for_several_targets_are_the_plans(prompt):
    plan = parse_instruction(prompt)
    assert plan.own_limits == ()
    assert plan.min_area_m2 == 20000.0
    assert all(plan.limits(t).min_area_m2 == 20000.0 for t in plan.targets)


def test_own_limits_round_trip_describe_and_override():
    plan = parse_instruction("water bodies over 1 ha and the 2 largest forests")
    data = plan.to_dict()
    assert data["own_limits"] == {
        "water": {
            "min_area_m2": 10000.0,
            "max_area_m2": None,
            "min_pixels": None,
            "max_pixels": None,
            "largest_n": None,
        },
        "forest": {
            "min_area_m2": None,
            "max_area_m2": None,
            "min_pixels": None,
            "max_pixels": None,
            "largest_n": 2,
        },
    }
    assert Plan.from_dict(json.loads(json.dumps(data))) == plan
    assert plan.describe() == (
        "Targets: water, forest. Keep water regions of at least 10000 m2 (1 ha); "
        "forest regions of any size, the 2 largest."
    )
    assert plan.has_area_limit
    # The analyst's minimum area beside the instruction is every target's; counts stay.
    wider = plan.with_min_area(50000.0)
    assert [wider.limits(t).min_area_m2 for t in wider.targets] == [50000.0, 50000.0]
    assert wider.limits("forest").largest_n == 2
    assert not parse_instruction("the 2 largest lakes and all forests").has_area_limit
    # A plan of run.json written before own limits reads as before.
    old = {k: v for k, v in parse_instruction("lakes over 1 ha").to_dict().items()}
    del old["own_limits"]
    assert Plan.from_dict(old).limits("water").min_area_m2 == 10000.0


def test_characters_like_the_parsers_marks_are_ignored():
    """The parser marks limits and counts with private-use characters; typed ones are spaces."""
    plain = parse_instruction("lakes over 1 ha and the 2 largest forests")
    typed = parse_instruction("lakes \ue000 over 1 ha and the 2 largest \ue100forests")
    assert typed.own_limits == plain.own_limits and typed.targets == plain.targets


@pytest.mark.parametrize(
    "prompt, largest",
    [
        ("buildings and roads", None),
        ("extract the roads and buildings", None),
        ("settlements, streets and parking lots", None),
        ("the 3 largest roads and buildings", 3),
    ],
)
def test_roads_asked_with_the_built_up_are_the_built_ups(prompt, largest):
    """Roads, streets, pavement and car parks are sealed surfaces the built-up target holds:
    said beside it, they are read as it; alone they are refused (`ERRORS`)."""
    plan = parse_instruction(prompt)
    assert plan.targets == ("builtup",) and plan.largest_n == largest


def test_roads_beside_every_target_are_the_built_ups():
    plan = parse_instruction("land cover and roads")
    assert "builtup" in plan.targets and len(plan.targets) == len(TARGETS)


def test_each_word_a_target_holds_is_an_ambiguous_word_with_its_hint():
    assert WITHIN_TARGET and set(WITHIN_TARGET) <= set(AMBIGUOUS_TERMS)
    assert set(WITHIN_TARGET.values()) == {"builtup"}
