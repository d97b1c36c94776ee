"""SPIE attributes: size and location words, rotated boxes, regions from masks, the prompt."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from scipy import ndimage

from spex.engine.instructions.spie import (
    SIZE_WORDS,
    RegionAttributes,
    convex_rectangles,
    location_word,
    min_area_rectangle,
    region_attributes,
    regions_from_mask,
    render_spie_prompt,
    size_word,
)


def _polygon_area(corners: np.ndarray) -> float:
    x, y = corners[:, 0], corners[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _hull_area(points: np.ndarray) -> float:
    from scipy.spatial import ConvexHull

    return float(ConvexHull(points).volume)  # "volume" is the area in 2-D


def _same_corners(a: np.ndarray, b: np.ndarray) -> bool:
    return np.allclose(a, b, atol=1e-9)


@pytest.mark.parametrize(
    ("fraction", "word"),
    [
        (1.0, "huge"),
        (0.20, "huge"),
        (0.1999, "large"),
        (0.04, "large"),
        (0.0399, "somewhat large"),
        (0.008, "somewhat large"),
        (0.0079, "medium"),
        (0.004, "medium"),
        (0.0039, "small"),
        (0.0015, "small"),
        (0.0014, "very tiny"),
        (0.0, "very tiny"),
    ],
)
def test_size_words_at_thresholds(fraction, word):
    assert size_word(fraction) == word


def test_size_words_are_ordered_largest_first():
    thresholds = [t for t, _ in SIZE_WORDS]
    assert thresholds == sorted(thresholds, reverse=True)
    words = [w for _, w in SIZE_WORDS]
    assert words == ["huge", "large", "somewhat large", "medium", "small"]


@pytest.mark.parametrize(
    ("x", "y", "word"),
    [
        (0.1, 0.1, "top-left"),
        (0.5, 0.1, "top-center"),
        (0.9, 0.1, "top-right"),
        (0.1, 0.5, "middle-left"),
        (0.5, 0.5, "center"),
        (0.9, 0.5, "middle-right"),
        (0.1, 0.9, "bottom-left"),
        (0.5, 0.9, "bottom-center"),
        (0.9, 0.9, "bottom-right"),
        # borders: a point on a third goes right / down; the tile edges stay in the grid
        (1 / 3, 0.5, "center"),
        (0.3333, 0.5, "middle-left"),
        (2 / 3, 2 / 3, "bottom-right"),
        (0.0, 0.0, "top-left"),
        (1.0, 1.0, "bottom-right"),
        (1.0, 0.0, "top-right"),
        # SPEX demo prompts (MiliLab/SPEX demo/*.txt): centroid -> word
        (0.48, 0.422, "center"),
        (0.838, 0.348, "middle-right"),
        (0.564, 0.672, "bottom-center"),
        (0.371, 0.074, "top-center"),
    ],
)
def test_location_words(x, y, word):
    assert location_word(x, y) == word


def test_min_area_rectangle_of_axis_aligned_rectangle_is_itself():
    points = np.array([[2, 1], [7, 1], [7, 4], [2, 4], [3, 2], [6, 3], [2, 2.5]], dtype=float)
    box = min_area_rectangle(points)
    # top-left, top-right, bottom-right, bottom-left (y down), as in SPEX's prompts
    assert _same_corners(box, np.array([[2, 1], [7, 1], [7, 4], [2, 4]]))


def test_min_area_rectangle_of_45_degree_square_is_the_square():
    square = np.array([[5, 0], [10, 5], [5, 10], [0, 5]], dtype=float)
    inside = np.array([[5, 5], [4, 6], [6, 3]], dtype=float)
    box = min_area_rectangle(np.vstack([inside, square[::-1]]))
    assert _same_corners(box, square)  # top-most corner first, then clockwise on screen
    assert _polygon_area(box) == pytest.approx(50.0)  # the axis-aligned box would be 100


def test_min_area_rectangle_of_rotated_rectangle():
    angle = np.deg2rad(30)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    rect = np.array([[0, 0], [8, 0], [8, 2], [0, 2]], dtype=float) @ rot.T + 20
    rng = np.random.default_rng(3)
    inside = (rng.uniform([0, 0], [8, 2], size=(200, 2))) @ rot.T + 20
    box = min_area_rectangle(np.vstack([inside, rect]))
    assert _polygon_area(box) == pytest.approx(16.0)
    assert sorted(map(tuple, np.round(box, 9))) == sorted(map(tuple, np.round(rect, 9)))


def test_min_area_rectangle_encloses_points_and_beats_every_angle():
    rng = np.random.default_rng(11)
    for _ in range(20):
        points = rng.normal(size=(40, 2)) * rng.uniform(0.5, 5, size=2)
        box = min_area_rectangle(points)
        area = _polygon_area(box)
        assert area >= _hull_area(points) - 1e-9
        # every point inside the box (projections on both sides within their extents)
        edge_u, edge_v = box[1] - box[0], box[3] - box[0]
        for edge in (edge_u, edge_v):
            proj = (points - box[0]) @ edge / (edge @ edge)
            assert proj.min() >= -1e-9 and proj.max() <= 1 + 1e-9
        # no axis-aligned box at any of 720 rotations is smaller
        angles = np.linspace(0, np.pi / 2, 720)
        c, s = np.cos(angles), np.sin(angles)
        pu = points @ np.stack([c, s])
        pv = points @ np.stack([-s, c])
        assert area <= (np.ptp(pu, axis=0) * np.ptp(pv, axis=0)).min() + 1e-9


def test_min_area_rectangle_degenerate_inputs():
    one = min_area_rectangle(np.array([[3.0, 4.0]]))
    assert one.shape == (4, 2) and (one == [3.0, 4.0]).all()
    same = min_area_rectangle(np.array([[1.0, 1.0]] * 5))
    assert (same == 1.0).all()
    line = min_area_rectangle(np.array([[0, 0], [1, 1], [3, 3], [2, 2]], dtype=float))
    assert line.shape == (4, 2)
    assert _polygon_area(line) == pytest.approx(0.0)
    assert {tuple(p) for p in np.round(line, 9)} == {(0.0, 0.0), (3.0, 3.0)}
    with pytest.raises(ValueError):
        min_area_rectangle(np.empty((0, 2)))


def test_region_attributes_from_pixel_centres():
    # a 3 x 2 block of pixel centres in a 10 x 10 tile, bottom-right
    xs, ys = np.meshgrid(np.arange(7, 10) + 0.5, np.arange(8, 10) + 0.5)
    points = np.stack([xs.ravel(), ys.ravel()], axis=1)
    attrs = region_attributes(points, area_px=6, width=10, height=10)
    assert attrs.size == "large"  # 6 % of the tile
    assert attrs.centroid == (0.85, 0.9)
    assert attrs.location == "bottom-right"
    assert attrs.bounding_box == ((0.75, 0.85), (0.95, 0.85), (0.95, 0.95), (0.75, 0.95))


def test_regions_from_mask_sorted_by_size_with_pixel_corner_boxes():
    mask = np.zeros((20, 40), dtype=np.uint8)
    mask[2:4, 2:5] = 1  # 6 pixels, top-left
    mask[10:18, 20:36] = 1  # 128 pixels, bottom-right-ish
    mask[19, 0] = 1  # 1 pixel, bottom-left corner
    regions = regions_from_mask(mask)
    assert len(regions) == 3
    big, block, dot = regions
    assert big.size == "large"  # 128 / 800 = 0.16
    assert big.centroid == (0.7, 0.7)
    assert big.location == "bottom-right"
    assert big.bounding_box == ((0.5, 0.5), (0.9, 0.5), (0.9, 0.9), (0.5, 0.9))
    assert block.size == "medium"  # 6 / 800 = 0.0075
    assert block.location == "top-left"
    assert block.bounding_box == ((0.05, 0.1), (0.125, 0.1), (0.125, 0.2), (0.05, 0.2))
    assert dot.size == "very tiny"  # 1 / 800
    assert dot.bounding_box == ((0.0, 0.95), (0.025, 0.95), (0.025, 1.0), (0.0, 1.0))
    assert dot.centroid == (round(0.5 / 40, 3), 0.975) and dot.location == "bottom-left"
    assert [r.size for r in regions_from_mask(mask, min_pixels=7)] == ["large"]
    assert regions_from_mask(np.zeros((5, 5))) == []


def test_regions_from_mask_uses_8_connectivity_and_rotated_boxes():
    mask = np.eye(32, dtype=bool)  # one diagonal line of 32 pixels
    (region,) = regions_from_mask(mask)
    box = np.array(region.bounding_box)
    # the rotated box is far thinner than the full tile an upright box would need
    assert _polygon_area(box) < 0.1
    assert region.centroid == (0.5, 0.5) and region.location == "center"
    assert box[0][1] == pytest.approx(0.0, abs=1e-3)  # starts at the top-most corner


def test_to_spie_dict_has_exactly_the_spie_keys():
    attrs = RegionAttributes("medium", (0.5, 0.25), "top-center", ((0.0, 0.0),) * 4)
    d = attrs.to_spie_dict()
    assert list(d) == ["Size of area", "Centroid", "Location", "Bounding box"]
    assert d["Centroid"] == [0.5, 0.25] and isinstance(d["Bounding box"][0], list)


def test_rendered_prompt_is_exactly_the_spex_format():
    mask = np.zeros((10, 10), dtype=bool)
    mask[0:4, 5:10] = True  # 20 % of the tile, top-right
    mask[7, 1] = True  # one pixel, bottom-left
    prompt = render_spie_prompt("water bodies", regions_from_mask(mask))
    assert prompt == (
        "<image>\nBased on the provided image and the attributes of the water bodies regions, "
        "please provide a detailed description of them:"
        "[{'Size of area': 'huge', 'Centroid': [0.75, 0.2], 'Location': 'top-right', "
        "'Bounding box': [[0.5, 0.0], [1.0, 0.0], [1.0, 0.4], [0.5, 0.4]]}, "
        "{'Size of area': 'somewhat large', 'Centroid': [0.15, 0.75], 'Location': 'bottom-left', "
        "'Bounding box': [[0.1, 0.7], [0.2, 0.7], [0.2, 0.8], [0.1, 0.8]]}]"
    )
    assert prompt.count("\n") == 1  # a real newline after <image>, no trailing one


def test_prompt_list_parses_back_and_max_regions_keeps_the_largest():
    mask = np.zeros((64, 64), dtype=bool)
    mask[0:30, 0:30] = True
    mask[40:50, 40:60] = True
    mask[60, 60] = True
    regions = regions_from_mask(mask)
    prompt = render_spie_prompt("vegetation", regions, max_regions=2)
    listed = ast.literal_eval(prompt.split("of them:", 1)[1])
    assert listed == [r.to_spie_dict() for r in regions[:2]]
    assert [d["Size of area"] for d in listed] == ["huge", "large"]
    assert render_spie_prompt("vegetation", []).endswith("of them:[]")
    assert "-0.0" not in render_spie_prompt("vegetation", regions)


def test_filled_and_general_regions_agree_with_region_attributes():
    mask = np.zeros((16, 16), dtype=bool)
    mask[3:7, 9:15] = True  # a filled rectangle (fast path)
    mask[10:15, 1:3] = True  # an L shape (hull path) ...
    mask[13:15, 3:7] = True
    rect, ell = sorted(regions_from_mask(mask), key=lambda r: r.centroid[1])
    corners = np.array([[9, 3], [15, 3], [15, 7], [9, 7]], dtype=float)
    assert rect == region_attributes(corners, 24, 16, 16, centroid_xy=(12.0, 5.0))
    # the L's minimum rectangle is its upright extent: x 1..7, y 10..15
    assert ell.bounding_box == ((0.062, 0.625), (0.438, 0.625), (0.438, 0.938), (0.062, 0.938))
    assert ell.size == "large" and ell.location == "bottom-left"  # 18 / 256 = 0.07


def test_max_regions_in_regions_from_mask_keeps_the_largest():
    rng = np.random.default_rng(5)
    mask = rng.random((128, 128)) > 0.6
    everything = regions_from_mask(mask)
    assert len(everything) > 50
    assert regions_from_mask(mask, max_regions=10) == everything[:10]
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    big_enough = int((np.bincount(labels.ravel())[1:] >= 5).sum())
    assert 0 < big_enough < count
    assert regions_from_mask(mask, min_pixels=5) == everything[:big_enough]


def test_min_area_rectangle_convex_fast_paths_match_the_hull_path():
    rng = np.random.default_rng(11)
    for n in (3, 5, 8, 20, 40):
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(0.5, 1.0)
        polygon = np.stack([radii * np.cos(angles) * 3 + 5, np.sin(angles) + 2], axis=1)
        closed = np.vstack([polygon, polygon[:1]])  # OGR rings repeat the first vertex
        expected = min_area_rectangle(polygon)
        got = min_area_rectangle(closed, convex=True)

        def area(c: np.ndarray) -> float:
            return float(np.linalg.norm(c[1] - c[0]) * np.linalg.norm(c[2] - c[1]))

        # A triangle has three equally small boxes: compare areas, then containment.
        assert area(got) == pytest.approx(area(expected), rel=1e-9)
        centre = got.mean(axis=0)
        for corner in polygon:
            inside = [np.cross(got[(i + 1) % 4] - got[i], corner - got[i]) for i in range(4)]
            assert all(v >= -1e-9 for v in inside) or all(v <= 1e-9 for v in inside), centre


def test_convex_rectangles_in_bulk_match_each_hull_alone_and_the_hull_path():
    rng = np.random.default_rng(5)
    hulls = [np.array([[0.3, 0.4]]), np.array([[0.1, 0.1], [0.1, 0.1], [0.5, 0.2], [0.1, 0.1]])]
    for _ in range(60):
        n = int(rng.integers(3, 25))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        polygon = np.stack([np.cos(angles) * rng.uniform(0.5, 3), np.sin(angles)], axis=1)
        hulls.append(np.vstack([polygon, polygon[:1]]) if rng.random() < 0.5 else polygon)
    counts = [len(h) for h in hulls]
    bulk = convex_rectangles(np.concatenate(hulls), counts)
    assert bulk.shape == (len(hulls), 4, 2)
    for hull, box in zip(hulls, bulk, strict=True):
        # The same bytes alone as in any batch: a region's box does not depend on its batch.
        np.testing.assert_array_equal(convex_rectangles(hull, [len(hull)])[0], box)
    np.testing.assert_array_equal(bulk[0], [[0.3, 0.4]] * 4)  # one distinct point
    # A segment (repeats and a closing vertex dropped) gives a zero-width box on it.
    assert sorted(map(tuple, bulk[1].tolist())) == [(0.1, 0.1), (0.1, 0.1), (0.5, 0.2), (0.5, 0.2)]
    for hull, box in zip(hulls[2:], bulk[2:], strict=True):
        expected = min_area_rectangle(hull)  # the general path: its own hull, numpy calipers

        def area(c: np.ndarray) -> float:
            return float(np.linalg.norm(c[1] - c[0]) * np.linalg.norm(c[2] - c[1]))

        assert area(box) == pytest.approx(area(expected), rel=1e-9)
        assert box[0, 1] == pytest.approx(box[:, 1].min())  # starts at the top-most corner
    with pytest.raises(ValueError, match="at least one point"):
        convex_rectangles(np.empty((0, 2)), [0])
