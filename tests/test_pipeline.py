"""End-to-end extraction on the real Sentinel-2 scene: outputs, reproducibility, geometry."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import ogr
from rasterio.transform import from_origin

from spex.engine import ExtractionRequest, RunMonitor, extract
from spex.engine.errors import CancelledError, InputError
from spex.engine.raster.raster_source import open_source
from tests.rasters import crop_raster, ungeoreferenced_copy, write_raster
from tests.test_cli import run_spex

PROMPT = "extract the water bodies and vegetation larger than 1 ha"


@pytest.fixture(scope="module")
def s2_run(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> object:
    out = tmp_path_factory.mktemp("s2") / "run"
    return extract(ExtractionRequest(s2_scene, PROMPT, out, tile_size=512))


def _features(path: Path) -> list[dict[str, object]]:
    ds = ogr.Open(str(path))
    layer = ds.GetLayer(0)
    rows = [f.items() | {"_wkb_area": f.GetGeometryRef().GetArea()} for f in layer]
    return sorted(rows, key=lambda r: r["region_id"])


def test_outputs_exist_and_describe_the_run(s2_run: object, s2_scene: Path) -> None:
    out = s2_run.out_dir
    assert sorted(p.name for p in out.iterdir() if not p.name.endswith(".aux.xml")) == [
        "explanation.md",
        "features.gpkg",
        "mask.tif",
        "run.json",
    ]
    with rasterio.open(out / "mask.tif") as mask, rasterio.open(s2_scene) as src:
        assert mask.dtypes[0] == "uint8" and mask.nodata == 255
        assert (mask.width, mask.height) == (src.width, src.height)
        assert mask.crs == src.crs and mask.transform == src.transform
        assert mask.tags()["CLASS_1"].lower() == "water"
        assert mask.colormap(1)[1][:3] != mask.colormap(1)[2][:3]
        values = np.unique(mask.read(1))
    assert set(values.tolist()) <= {0, 1, 2, 255} and {1, 2} <= set(values.tolist())
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["plan"]["targets"] == ["water", "vegetation"]
    assert manifest["plan"]["min_area_m2"] == pytest.approx(10_000)
    assert manifest["bands"]["sensor"] == "sentinel2_l1c"
    assert manifest["scaling"]["scale"] == pytest.approx(1e-4)
    assert manifest["tiling"]["tiles"] == 6
    text = (out / "explanation.md").read_text()
    assert text.splitlines()[0] == f'# Extraction: "{PROMPT}"'
    assert "Targets: water, vegetation" in text.split("## Summary")[0]
    for section in ("## How thresholds were chosen", "## Largest regions", "## Evidence"):
        assert section in text


def test_the_explanation_says_how_every_threshold_was_chosen(s2_run: object) -> None:
    """Every row of the thresholds table says how (HOT's rows once were blank when the scene
    had no haze layer), and the classifier's features are named, not "all bands"."""
    text = (s2_run.out_dir / "explanation.md").read_text()
    table = text.split("## How thresholds were chosen")[1].split("\n\n")[2]
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    assert rows and all(len(cells) == 3 and cells[2].strip(" |") for cells in rows), table
    details = json.loads((s2_run.out_dir / "run.json").read_text())["backend"]["details"]
    features = details["features"]
    assert f"over {', '.join(features[:-1])} and {features[-1]} labelled every pixel" in text


def test_features_carry_attributes_and_respect_the_plan(s2_run: object) -> None:
    rows = _features(s2_run.features_path)
    assert rows, "no polygons written"
    assert {r["class"] for r in rows} == {"water", "vegetation"}
    for r in rows:
        assert r["area_m2"] >= 10_000 - 1e-6  # "larger than 1 ha"
        assert r["area_m2"] == pytest.approx(r["_wkb_area"], rel=1e-6)  # UTM: metres
        assert r["area_m2"] == pytest.approx(r["pixels"] * 100.0, rel=1e-6)
        assert 0.0 <= r["confidence"] <= 1.0
        assert r["size"] in {"huge", "large", "somewhat large", "medium", "small", "very tiny"}
        assert 0.0 <= r["centroid_x"] <= 1.0 and 0.0 <= r["centroid_y"] <= 1.0
        assert len(json.loads(r["rotated_box"])) == 4
    water = [r for r in rows if r["class"] == "water"]
    veg = [r for r in rows if r["class"] == "vegetation"]
    assert np.mean([r["mean_mndwi"] for r in water]) > np.mean([r["mean_mndwi"] for r in veg])
    assert np.mean([r["mean_ndvi"] for r in veg]) > np.mean([r["mean_ndvi"] for r in water])


def test_each_target_keeps_the_regions_its_own_limits_allow(s2_scene: Path, tmp_path: Path) -> None:
    """ "water bodies over 1 ha and the 3 largest vegetation patches": water regions of any
    count over 1 ha, vegetation's three largest whatever their size; the plan says which."""
    prompt = "water bodies over 1 ha and the 3 largest vegetation patches"
    result = extract(ExtractionRequest(s2_scene, prompt, tmp_path / "run"))
    rows = _features(result.features_path)
    water = [r for r in rows if r["class"] == "water"]
    veg = sorted((r for r in rows if r["class"] == "vegetation"), key=lambda r: -r["area_m2"])
    assert len(veg) == 3
    assert len(water) > 3  # the count is vegetation's alone
    assert min(r["area_m2"] for r in water) >= 10_000 - 1e-6
    # Unlimited by area, vegetation's three are the largest of the run without any limit.
    every = extract(ExtractionRequest(s2_scene, "water and vegetation", tmp_path / "all"))
    unlimited = _features(every.features_path)
    all_veg = sorted((r["area_m2"] for r in unlimited if r["class"] == "vegetation"), reverse=True)
    assert [r["area_m2"] for r in veg] == pytest.approx(all_veg[:3])
    # ... and the water limit has something to drop there.
    assert any(r["class"] == "water" and r["area_m2"] < 10_000 for r in unlimited)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["plan"]["own_limits"]["vegetation"]["largest_n"] == 3
    assert "Keep water regions of at least 10000 m2 (1 ha)" in result.plan.describe()
    text = (tmp_path / "run" / "explanation.md").read_text()
    assert "vegetation regions of any size, the 3 largest" in text
    # The analyst's minimum area beside the instruction (--min-area) is every target's.
    wider = extract(ExtractionRequest(s2_scene, prompt, tmp_path / "wider", min_area_m2=50_000))
    kept = _features(wider.features_path)
    assert kept and min(r["area_m2"] for r in kept) >= 50_000 - 1e-6
    assert sum(r["class"] == "vegetation" for r in kept) <= 3


def test_tile_size_does_not_change_the_result(
    s2_run: object, s2_scene: Path, tmp_path: Path
) -> None:
    other = extract(ExtractionRequest(s2_scene, PROMPT, tmp_path / "t200", tile_size=200))
    with rasterio.open(s2_run.mask_path) as a, rasterio.open(other.mask_path) as b:
        assert np.array_equal(a.read(1), b.read(1))
    ra, rb = _features(s2_run.features_path), _features(other.features_path)
    assert len(ra) == len(rb)
    assert [r["area_m2"] for r in ra] == [r["area_m2"] for r in rb]


def test_extent_does_not_change_a_pixels_answer(
    s2_run: object, s2_scene: Path, tmp_path: Path
) -> None:
    with rasterio.open(s2_scene) as src:
        x0, y1 = src.transform @ (300, 100)
        x1, y0 = src.transform @ (700, 400)
    part = extract(
        ExtractionRequest(
            s2_scene, "water and vegetation", tmp_path / "part", extent=(x0, y0, x1, y1)
        )
    )
    whole = extract(ExtractionRequest(s2_scene, "water and vegetation", tmp_path / "whole"))
    with rasterio.open(part.mask_path) as p, rasterio.open(whole.mask_path) as w:
        assert (p.width, p.height) == (400, 300)
        assert p.transform.c == pytest.approx(x0) and p.transform.f == pytest.approx(y1)
        core = w.read(1)[100:400, 300:700]
        assert np.array_equal(p.read(1), core)


def test_an_extent_on_a_raster_without_georeferencing_is_in_qgis_coordinates(
    s2_scene: Path, tmp_path: Path
) -> None:
    """QGIS shows a raster with no geotransform at y = -row; an extent drawn there (the dock's
    canvas or selection) takes those pixels, and the part's mask lies where they are."""
    chip = ungeoreferenced_copy(s2_scene, tmp_path / "chip.tif", (420, 120, 300, 250))
    part = extract(ExtractionRequest(chip, "water", tmp_path / "part", extent=(50, -200, 250, -40)))
    whole = extract(ExtractionRequest(chip, "water", tmp_path / "whole"))
    with rasterio.open(part.mask_path) as p, rasterio.open(whole.mask_path) as w:
        assert (p.width, p.height) == (200, 160)
        assert tuple(p.transform)[:6] == (1, 0, 50, 0, -1, -40)
        assert np.array_equal(p.read(1), w.read(1)[40:200, 50:250])


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # the identity
def test_an_extent_on_a_grid_whose_rows_run_south(s2_scene: Path, tmp_path: Path) -> None:
    """A chip whose geotransform is the identity (rows run south, as numpy exports and the ukis
    chips have): rasterio's from_bounds refused every extent on it with a traceback ("Bounds
    and transform are inconsistent")."""
    chip = crop_raster(s2_scene, tmp_path / "chip.tif", (420, 120, 300, 250))
    with rasterio.open(chip, "r+") as dst:
        dst.transform = rasterio.Affine.identity()
    part = extract(ExtractionRequest(chip, "water", tmp_path / "part", extent=(50, 40, 250, 200)))
    whole = extract(ExtractionRequest(chip, "water", tmp_path / "whole"))
    with rasterio.open(part.mask_path) as p, rasterio.open(whole.mask_path) as w:
        assert (p.width, p.height) == (200, 160)
        assert np.array_equal(p.read(1), w.read(1)[40:200, 50:250])
    done = run_spex("extract", chip, "--prompt", "water", "--out", tmp_path / "west",
                    "--extent", "-5,-5,-1,-1")  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "does not overlap the raster" in done.stderr and "x 0 to 300, y 0 to 250" in done.stderr


def test_an_extent_in_longitude_and_latitude(s2_scene: Path, tmp_path: Path) -> None:
    """An extent in another CRS, as QGIS writes one ('xmin,ymin,xmax,ymax [EPSG:4326]'): the
    pixels that cover its box followed along its edges, as the same extent in the raster's CRS
    takes them; the manifest keeps it as given. Degrees given without their CRS, an unknown
    CRS, metres given as degrees, and a CRS for a raster without one: one line each."""
    from rasterio.warp import transform_bounds

    box = (12.56, 52.49, 12.60, 52.51)
    utm = transform_bounds("EPSG:4326", "EPSG:32633", *box, densify_pts=21)
    given = run_spex("extract", s2_scene, "--prompt", "water", "--out", tmp_path / "ll",
                     "--extent", *f"{','.join(map(str, box))} [EPSG:4326]".split(" "))  # fmt: skip
    assert given.returncode == 0, given.stderr
    same = extract(ExtractionRequest(s2_scene, "water", tmp_path / "utm", extent=utm))
    with rasterio.open(tmp_path / "ll" / "mask.tif") as a, rasterio.open(same.mask_path) as b:
        assert (a.width, a.height) == (b.width, b.height) == (279, 232)
        assert a.transform == b.transform and np.array_equal(a.read(1), b.read(1))
    tiling = json.loads((tmp_path / "ll" / "run.json").read_text(encoding="utf-8"))["tiling"]
    assert (tiling["extent"], tiling["extent_crs"]) == (list(box), "EPSG:4326")
    for extent, message in (
        (",".join(map(str, box)), "it looks like longitude and latitude: add its CRS"),
        (f"{','.join(map(str, box))} [EPSG:99999]", "The extent's CRS 'EPSG:99999' is unknown"),
        # The raster's metres named as degrees: no such place (it was "The extent is empty").
        (f"{','.join(map(str, utm))} [EPSG:4326]", "is not a place in EPSG:4326"),
    ):
        done = run_spex("extract", s2_scene, "--prompt", "water", "--out", tmp_path / "x",
                        "--extent", extent)  # fmt: skip
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1 and not (tmp_path / "x").exists()
    chip = ungeoreferenced_copy(s2_scene, tmp_path / "chip.tif", (420, 120, 300, 250))
    with pytest.raises(InputError, match="has no CRS, so an extent in EPSG:4326 cannot be"):
        extract(
            ExtractionRequest(chip, "water", tmp_path / "c", extent=box, extent_crs="EPSG:4326")
        )


def test_cropped_file_gives_the_same_answers_inside(s2_scene: Path, tmp_path: Path) -> None:
    """Scaling and thresholds come from each raster's own global sample; on a large crop of
    the same scene the class of nearly every pixel agrees."""
    crop = crop_raster(s2_scene, tmp_path / "crop.tif", (0, 0, 1024, 768))
    a = extract(ExtractionRequest(crop, "water", tmp_path / "a"))
    b = extract(ExtractionRequest(s2_scene, "water", tmp_path / "b"))
    with rasterio.open(a.mask_path) as ma, rasterio.open(b.mask_path) as mb:
        agree = np.mean(ma.read(1) == mb.read(1)[:, :1024])
    assert agree > 0.97


def test_nodata_is_propagated_and_empty_tiles_skipped(s2_scene: Path, tmp_path: Path) -> None:
    with rasterio.open(s2_scene) as src:
        data = src.read(window=rasterio.windows.Window(0, 0, 600, 300))
        profile = src.profile | {"width": 600, "height": 300, "transform": src.transform}
        descriptions = src.descriptions
    data[:, :, :300] = 0  # left half nodata: tiles of 128 there are all-nodata
    path = tmp_path / "holes.tif"
    profile.update(tiled=False, nodata=0)
    profile.pop("blockxsize", None)
    profile.pop("blockysize", None)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for i in range(1, 14):
            dst.set_band_description(i, descriptions[i - 1])
    result = extract(ExtractionRequest(path, "water", tmp_path / "out", tile_size=128))
    with rasterio.open(result.mask_path) as mask:
        values = mask.read(1)
    assert (values[:, :300] == 255).all()
    assert (values[:, 300:] != 255).mean() > 0.99
    assert result.manifest["tiling"]["tiles_skipped_nodata"] == 6  # 3 rows x 2 columns


def test_an_undeclared_fill_of_minus_9999_is_nodata(s2_scene: Path, tmp_path: Path) -> None:
    """A product's -9999 fill (HLS, ESPA, Earth Engine exports) in a file that declares no
    nodata: those pixels are nodata and the scaling is the product's, as with a declared one.
    Before, the fill's 1st percentile refused the preset's scaling (uncalibrated) and the fill
    was read as reflectance -1 and mapped."""
    with rasterio.open(s2_scene) as src:
        data = src.read(window=rasterio.windows.Window(0, 0, 256, 128)).astype("int16")
        profile = src.profile | {"width": 256, "height": 128, "dtype": "int16"}
        descriptions = src.descriptions
    data[:, :, :96] = -9999
    profile.pop("nodata", None)
    paths = {}
    for name, nodata in (("undeclared", None), ("declared", -9999)):
        paths[name] = tmp_path / f"{name}.tif"
        with rasterio.open(paths[name], "w", **(profile | {"nodata": nodata})) as dst:
            dst.write(data)
            dst.descriptions = descriptions
    with open_source(paths["undeclared"]) as src:
        assert src.scaling.calibrated and src.scaling.source == "preset sentinel2_l1c"
    masks = []
    for name, path in paths.items():
        result = extract(ExtractionRequest(path, "water", tmp_path / name, tile_size=128))
        with rasterio.open(result.mask_path) as mask:
            masks.append(mask.read(1))
    assert (masks[0][:, :96] == 255).all()
    np.testing.assert_array_equal(masks[0], masks[1])
    # Read as missing without being declared so: the explanation says how much, and which value.
    texts = {n: (tmp_path / n / "explanation.md").read_text(encoding="utf-8") for n in paths}
    assert "About 37.5% of the raster holds -9999 in every band and the file declares no " \
        "nodata value" in texts["undeclared"]  # fmt: skip
    assert "declares no nodata value" not in texts["declared"]
    manifest = json.loads((tmp_path / "undeclared" / "run.json").read_text(encoding="utf-8"))
    share, value = manifest["tiling"]["undeclared_fill"]
    assert value == -9999 and abs(share - 0.375) < 0.01


def _chip_masks(
    s2_scene: Path, tmp_path: Path, data: np.ndarray, profile: dict, runs: dict[str, object]
) -> tuple[list[np.ndarray], list[str]]:
    """`data` (the sample's first 256 x 128 pixels, changed) written once per run name with that
    run's declared nodata, and the water extracted from each: the masks and explanations."""
    with rasterio.open(s2_scene) as src:
        descriptions = src.descriptions
    masks, texts = [], []
    for name, nodata in runs.items():
        path = tmp_path / f"{name}.tif"
        with rasterio.open(path, "w", **(profile | {"nodata": nodata})) as dst:
            dst.write(data)
            dst.descriptions = descriptions
        result = extract(ExtractionRequest(path, "water", tmp_path / name, tile_size=128))
        with rasterio.open(result.mask_path) as mask:
            masks.append(mask.read(1))
        texts.append((tmp_path / name / "explanation.md").read_text(encoding="utf-8"))
    return masks, texts


def test_a_float_rasters_undeclared_zero_fill_is_nodata(s2_scene: Path, tmp_path: Path) -> None:
    """A float raster (a warped or exported one) whose margin is 0 in every band and which
    declares no nodata: the margin is nodata, as in an integer raster. Read as reflectance 0
    it was a class of its own: on Aberystwyth's Sentinel-2 as float32, 0.1 % of such pixels
    became built-up seeds and took the built-up from 311 ha to 12 ha."""
    with rasterio.open(s2_scene) as src:
        data = src.read(window=rasterio.windows.Window(0, 0, 256, 128)) / np.float32(1e4)
        profile = src.profile | {"width": 256, "height": 128, "dtype": "float32"}
    data = data.astype("float32")
    data[:, :8, :] = 0.0
    runs = {"undeclared": None, "declared": 0.0}
    masks, texts = _chip_masks(s2_scene, tmp_path, data, profile, runs)
    assert (masks[0][:8] == 255).all()
    np.testing.assert_array_equal(masks[0], masks[1])
    assert "holds 0 in every band and the file declares no nodata value" in texts[0]


def test_a_zero_fill_beside_another_declared_nodata_is_nodata(
    s2_scene: Path, tmp_path: Path
) -> None:
    """A margin of 0 in every band under a declared nodata of 65535 (a warp's -dstnodata that
    missed the product's own fill): the margin is nodata too, as if 0 were declared, and the
    explanation says so. Read as values it was a class of its own: on Aberystwyth's scene a 5 %
    margin made 921 ha of water where there are 436."""
    with rasterio.open(s2_scene) as src:
        data = src.read(window=rasterio.windows.Window(0, 0, 256, 128))
        profile = src.profile | {"width": 256, "height": 128}
    data[:, :, :32] = 0
    masks, texts = _chip_masks(s2_scene, tmp_path, data, profile, {"beside": 65535, "declared": 0})
    assert (masks[0][:, :32] == 255).all()
    np.testing.assert_array_equal(masks[0], masks[1])
    assert "About 12.5% of the raster holds 0 in every band, beside the nodata value the " \
        "file declares (65535)" in texts[0]  # fmt: skip
    assert "gdal_edit.py -a_nodata 0" in texts[0] and "in every band" not in texts[1]


def test_infinite_values_are_nodata(s2_scene: Path, tmp_path: Path) -> None:
    """A float raster with infinities (a division by zero upstream) in some pixels, in one band
    or all: those pixels are nodata. An infinity in one band was classified (as background)
    with NumPy's "invalid value" warnings on the analyst's terminal."""
    with rasterio.open(s2_scene) as src:
        data = src.read(window=rasterio.windows.Window(0, 0, 256, 128)) / np.float32(1e4)
        profile = src.profile | {"width": 256, "height": 128, "dtype": "float32"}
        descriptions = src.descriptions
    data = data.astype("float32")
    data[:, 10:20, 10:20] = np.inf
    data[3, 40:50, 40:50] = -np.inf
    path = tmp_path / "inf.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.descriptions = descriptions
    done = run_spex("extract", path, "--prompt", "water and vegetation", "--out",
                    tmp_path / "out", "--quiet")  # fmt: skip
    assert done.returncode == 0 and "Warning" not in done.stderr, done.stderr
    with rasterio.open(tmp_path / "out" / "mask.tif") as mask:
        classes = mask.read(1)
    assert (classes[10:20, 10:20] == 255).all() and (classes[40:50, 40:50] == 255).all()
    assert (classes[60:, 60:] != 255).all()


def test_areas_are_in_square_metres_in_a_geographic_crs(tmp_path: Path) -> None:
    """A 20 x 20 pixel lake at 60 N on a 0.0005 degree grid: area from geodesy, not degrees."""
    rows, cols = 100, 100
    land = np.array([400, 700, 600, 3000], dtype=np.uint16)  # blue, green, red, nir (x 10000)
    water = np.array([700, 600, 300, 150], dtype=np.uint16)
    rng = np.random.default_rng(0)
    img = np.repeat(land[:, None, None], rows, 1).repeat(cols, 2).astype(np.int32)
    img[:, 40:60, 30:50] = water[:, None, None]
    img = (img + rng.integers(-20, 20, img.shape)).astype(np.uint16)
    path = write_raster(
        tmp_path / "geo.tif",
        img,
        crs="EPSG:4326",
        transform=from_origin(10.0, 60.025, 0.0005, 0.0005),
        descriptions=["blue", "green", "red", "nir"],
    )
    result = extract(ExtractionRequest(path, "lakes", tmp_path / "out", scale=1e-4, offset=0.0))
    rows_out = _features(result.features_path)
    assert len(rows_out) == 1
    lake = rows_out[0]
    assert 390 <= lake["pixels"] <= 400  # smoothing may round the square's corners
    lat = math.radians(60.025 - 0.0005 * 50)
    metres = math.pi / 180 * 6_371_007.2
    expected = lake["pixels"] * (0.0005 * metres) ** 2 * math.cos(lat)
    assert lake["area_m2"] == pytest.approx(expected, rel=0.01)
    # The perimeter of a 20 x 20 pixel square: 20 pixels of ~27.8 m and 20 of ~55.6 m, twice.
    assert lake["perimeter_m"] == pytest.approx(
        2 * 20 * 0.0005 * metres * (1 + math.cos(lat)), rel=0.05
    )
    lakes = [lake]
    assert lakes[0]["area_m2"] > 1_000  # never square degrees


def test_cancel_leaves_nothing_behind(s2_scene: Path, tmp_path: Path) -> None:
    calls = {"n": 0}

    def cancel_after_a_few() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    out = tmp_path / "cancelled"
    with pytest.raises(CancelledError):
        extract(
            ExtractionRequest(s2_scene, "water", out, tile_size=128),
            RunMonitor(is_cancelled=cancel_after_a_few),
        )
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_progress_is_reported_in_order(s2_scene: Path, tmp_path: Path) -> None:
    seen: list[float] = []
    extract(
        ExtractionRequest(s2_scene, "snow", tmp_path / "o", tile_size=256),
        RunMonitor(on_progress=lambda f, _m: seen.append(f)),
    )
    assert seen[-1] == 1.0
    assert len(seen) > 10
    assert all(b >= a for a, b in zip(seen, seen[1:], strict=False))


def test_raw_8bit_digital_numbers_still_find_the_water(
    s2_run: object, s2_scene: Path, tmp_path: Path
) -> None:
    """The same scene as uncalibrated 8-bit DN (gain and offset unknown to the engine): the
    thresholds adapt to the scene, so the water found agrees with the calibrated run."""
    with rasterio.open(s2_scene) as src:
        reflectance = src.read([2, 3, 4, 8, 12, 13]).astype(np.float32) / 10_000
        profile = {"crs": src.crs, "transform": src.transform}
    dn = np.clip(np.round(reflectance * 600 + 12), 1, 255).astype(np.uint8)
    path = write_raster(tmp_path / "dn.tif", dn, **profile)
    result = extract(
        ExtractionRequest(path, PROMPT, tmp_path / "out", bands="blue,green,red,nir,swir1,swir2")
    )
    assert result.manifest["scaling"]["calibrated"] is False
    assert "not calibrated" in result.explanation_path.read_text()
    with rasterio.open(result.mask_path) as a, rasterio.open(s2_run.mask_path) as b:
        dn_water, ref_water = a.read(1) == 1, b.read(1) == 1
    iou = (dn_water & ref_water).sum() / (dn_water | ref_water).sum()
    assert iou > 0.8, iou


# The GeoPackage must be closed before its folder goes: closed later (when the traceback that
# held it is freed), GDAL's close fails on a removed file, an error Python can only print.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_cancel_during_vectorizing_leaves_nothing_behind(s2_scene: Path, tmp_path: Path) -> None:
    stage = {"vectorizing": False}

    def progress(_fraction: float, message: str) -> None:
        stage["vectorizing"] |= message.startswith("vectorizing")

    out = tmp_path / "cancelled"
    with pytest.raises(CancelledError):
        extract(
            ExtractionRequest(s2_scene, "water", out),
            RunMonitor(on_progress=progress, is_cancelled=lambda: stage["vectorizing"]),
        )
    assert stage["vectorizing"]
    assert list(tmp_path.iterdir()) == []


def test_builtup_is_tile_exact_through_the_pipeline(s2_scene: Path, tmp_path: Path) -> None:
    """Built-up and bare soil on the winter scene: the same answer per pixel whatever the tile
    size, and the manifest says the two could not be told apart."""
    prompt = "built-up areas and bare soil"
    a = extract(ExtractionRequest(s2_scene, prompt, tmp_path / "a", tile_size=512))
    b = extract(ExtractionRequest(s2_scene, prompt, tmp_path / "b", tile_size=192))
    assert a.manifest["backend"]["details"]["builtup_bare_separated"] is False
    assert a.manifest["backend"]["undivided"] == {"builtup": "bare", "bare": "builtup"}
    # Asked for both, the land goes to built-up only: bare soil is rightly "not mapped", and
    # its summary line says where its pixels are instead of "0 regions".
    assert (
        "no confident bare pixels in this scene: bare is not mapped"
        in a.explanation_path.read_text(encoding="utf-8")
    )
    lines = {line.split(":")[0]: line for line in a.summary.splitlines()[1:]}
    assert lines["bare soil"] == (
        "bare soil: not told apart from built-up in this scene, returned within built-up "
        "(see the caveats)"
    )
    assert lines["built-up"].endswith(", bare soil included: not told apart in this scene")
    with rasterio.open(a.mask_path) as ma, rasterio.open(b.mask_path) as mb:
        first = ma.read(1)
        assert np.array_equal(first, mb.read(1))
    assert (first == 1).any()


def test_landsat_collection2_names_and_scaling_end_to_end(
    s2_run: object, s2_scene: Path, tmp_path: Path
) -> None:
    """The scene's bands as a Landsat 8/9 Collection 2 Level-2 product (SR_B1..SR_B7, DN =
    (reflectance + 0.2) / 0.0000275): detected from the names, scaled by the preset, and the
    water found agrees with the Sentinel-2 run."""
    with rasterio.open(s2_scene) as src:
        reflectance = src.read([1, 2, 3, 4, 8, 12, 13]).astype(np.float32) / 10_000
        profile = {"crs": src.crs, "transform": src.transform, "nodata": 0}
    dn = np.clip(np.round((reflectance + 0.2) / 0.0000275), 1, 65535).astype(np.uint16)
    names = [f"SR_B{i}" for i in range(1, 8)]
    path = write_raster(tmp_path / "lc09.tif", dn, descriptions=names, **profile)
    result = extract(ExtractionRequest(path, PROMPT, tmp_path / "out"))
    assert result.manifest["bands"]["sensor"] == "landsat8_9_oli"
    assert result.manifest["scaling"]["scale"] == pytest.approx(0.0000275)
    assert result.manifest["scaling"]["offset"] == pytest.approx(-0.2)
    with rasterio.open(result.mask_path) as a, rasterio.open(s2_run.mask_path) as b:
        water, reference = a.read(1) == 1, b.read(1) == 1
    assert (water & reference).sum() / (water | reference).sum() > 0.9
