"""`spex:batch_extract_land_cover` in real QGIS: a local Dask cluster of worker processes,
progress and cancel through the feedback."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from qgis.core import (
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsRasterLayer,
    QgsVectorLayer,
)

from tests.qgis_helpers import REPO_ROOT
from tests.rasters import (
    LANDSAT_PRODUCT,
    crop_raster,
    landsat_product_folder,
    ungeoreferenced_copy,
)
from tests.test_cloud_buffer import within

PROMPT = "extract the water bodies and vegetation"


@pytest.fixture(scope="module")
def scenes(s2_scene: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("scenes")
    windows = [(0, 0, 256, 256), (700, 300, 256, 256), (1200, 500, 256, 256)]
    return [crop_raster(s2_scene, folder / f"part{i}.tif", w) for i, w in enumerate(windows)]


class _Feedback(QgsProcessingFeedback):
    """Records progress and messages; cancels after `cancel_after` scenes when given."""

    def __init__(self, cancel_after: int | None = None) -> None:
        super().__init__()
        self.cancel_after = cancel_after
        self.values: list[float] = []
        self.infos: list[str] = []

    def setProgress(self, value: float) -> None:  # noqa: N802 - QGIS API
        self.values.append(value)
        super().setProgress(value)

    def pushInfo(self, info: str) -> None:  # noqa: N802 - QGIS API
        self.infos.append(info)
        done = sum(": done in" in line for line in self.infos)
        if self.cancel_after is not None and done >= self.cancel_after:
            self.cancel()
        super().pushInfo(info)

    def pushWarning(self, warning: str) -> None:  # noqa: N802 - QGIS API
        self.infos.append(warning)
        super().pushWarning(warning)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        self.infos.append(error)
        super().reportError(error, fatalError)


def test_batch_algorithm_runs_every_layer(provider, scenes: list[Path], tmp_path: Path) -> None:
    import processing

    layer = QgsRasterLayer(str(scenes[0]), "part0")
    feedback = _Feedback()
    out = processing.run(
        "spex:batch_extract_land_cover",
        {
            "INPUTS": [layer, str(scenes[1])],
            "PROMPT": PROMPT,
            "WORKERS": 1,
            "OUTPUT": str(tmp_path / "batch"),
        },
        feedback=feedback,
    )
    assert (out["DONE"], out["FAILED"]) == (2, 0)
    for name in ("part0", "part1"):
        assert (tmp_path / "batch" / name / "mask.tif").is_file()
    summary = QgsVectorLayer(out["SUMMARY"], "summary", "ogr")
    assert summary.isValid() and summary.featureCount() > 0
    assert {f["scene"] for f in summary.getFeatures()} == {"part0", "part1"}
    assert max(feedback.values) == 100.0
    assert sum(": done in" in line for line in feedback.infos) == 2


def test_batch_algorithm_takes_products_given_whole(
    provider, scenes: list[Path], s2_scene: Path, tmp_path: Path
) -> None:
    """INPUTS may name products as delivered (a Landsat folder, a Sentinel-2 .SAFE), which QGIS
    cannot load as layers, beside a layer: each is one scene of the batch, named by it."""
    import processing
    from rasterio.windows import Window

    from bench.sentinel2_safe import write_scene_window

    landsat = landsat_product_folder(s2_scene, tmp_path)
    safe = write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240)).parent
    out = processing.run(
        "spex:batch_extract_land_cover",
        {
            "INPUTS": [str(landsat), QgsRasterLayer(str(scenes[0]), "part0"), str(safe)],
            "PROMPT": PROMPT,
            "WORKERS": 1,
            "OUTPUT": str(tmp_path / "batch"),
        },
        feedback=_Feedback(),
    )
    assert (out["DONE"], out["FAILED"]) == (3, 0)
    record = json.loads(Path(out["BATCH"]).read_text(encoding="utf-8"))
    names = [scene["name"] for scene in record["scenes"]]
    assert names == [LANDSAT_PRODUCT, "part0", safe.name.removesuffix(".SAFE")]


def test_batch_algorithm_hides_each_products_clouds(
    provider, scenes: list[Path], s2_scene: Path, tmp_path: Path
) -> None:
    """MASK_CLOUDS over many rasters: the product's clouds are hidden (a stand-in QA_PIXEL's
    cloud shadow block, as in test_product_quality), with CLOUD_BUFFER's 30 m around them; a
    raster with no quality band fails alone, its one line naming the parameter, not the
    command line's flag."""
    import processing

    from tests.test_product_quality import _stand_in_qa_pixel, stand_in_shadow

    landsat = landsat_product_folder(s2_scene, tmp_path)
    shadow = stand_in_shadow(_stand_in_qa_pixel(landsat))
    hidden = int(within(shadow, 30, (10.0, 10.0)).sum())  # 2,096 of the sample's 30,720
    feedback = _Feedback()
    out = processing.run(
        "spex:batch_extract_land_cover",
        {
            "INPUTS": [str(landsat), QgsRasterLayer(str(scenes[0]), "part0")],
            "PROMPT": PROMPT,
            "MASK_CLOUDS": True,
            "CLOUD_BUFFER": 30,
            "WORKERS": 1,
            "OUTPUT": str(tmp_path / "batch"),
        },
        feedback=feedback,
    )
    assert (out["DONE"], out["FAILED"]) == (1, 1)
    run = json.loads((tmp_path / "batch" / LANDSAT_PRODUCT / "run.json").read_text("utf-8"))
    assert run["input"]["cloud_mask"]["hidden_pixels"] == hidden
    assert run["input"]["cloud_mask"]["buffer_m"] == 30
    record = json.loads(Path(out["BATCH"]).read_text(encoding="utf-8"))
    shares = {scene["name"]: scene["clouds_hidden_share"] for scene in record["scenes"]}
    assert shares == {LANDSAT_PRODUCT: round(hidden / 30720, 4), "part0": None}
    said = [line for line in feedback.infos if line.startswith(f"{LANDSAT_PRODUCT}: done")]
    assert len(said) == 1 and said[0].endswith(", 6.8% hidden as the product's clouds"), said
    failed = [line for line in feedback.infos if line.startswith("part0: ")]
    assert len(failed) == 1 and "Hiding the product's clouds (MASK_CLOUDS)" in failed[0], failed


def test_batch_algorithm_takes_an_area_of_interest(
    provider, scenes: list[Path], tmp_path: Path
) -> None:
    """EXTENT in longitude and latitude (QGIS's xmin,xmax,ymin,ymax [CRS]): each raster takes
    its part in its own CRS; a raster it misses is outside it, neither done nor failed."""
    import processing
    from rasterio.warp import transform_bounds

    # the first scene's top-left 1.5 km (it is the sample's top-left 256 px)
    west, south, east, north = transform_bounds(
        "EPSG:32633", "EPSG:4326", 330500, 5820300, 332000, 5821800
    )
    feedback = _Feedback()
    out = processing.run(
        "spex:batch_extract_land_cover",
        {
            "INPUTS": [str(scenes[0]), str(scenes[2])],
            "PROMPT": PROMPT,
            "EXTENT": f"{west},{east},{south},{north} [EPSG:4326]",
            "WORKERS": 1,
            "OUTPUT": str(tmp_path / "batch"),
        },
        feedback=feedback,
    )
    assert (out["DONE"], out["FAILED"], out["OUTSIDE"]) == (1, 0, 1)
    assert any("part2: outside the area of interest" in line for line in feedback.infos)
    mask = QgsRasterLayer(str(tmp_path / "batch" / "part0" / "mask.tif"), "mask")
    assert 140 <= mask.width() <= 160 and 140 <= mask.height() <= 160


def test_batch_algorithm_gives_each_layer_the_examples_on_it(
    provider, scenes: list[Path], tmp_path: Path
) -> None:
    """An examples layer whose points lie on one raster: that raster is trained with them, the
    other runs on its own seeds, and the log names it."""
    import numpy as np
    import processing
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY

    from tests.test_examples import pixel_points

    cells = np.array([[r, c] for r in (40, 120, 200) for c in (60, 180)])
    examples = QgsVectorLayer("Point?crs=EPSG:4326&field=class:string", "examples", "memory")
    features = []
    for x, y, _ in pixel_points(scenes[1], cells, "other"):
        feature = QgsFeature(examples.fields())
        feature.setAttributes(["vegetation" if len(features) % 2 else "other"])
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        features.append(feature)
    assert examples.dataProvider().addFeatures(features)
    feedback = _Feedback()
    out = processing.run(
        "spex:batch_extract_land_cover",
        {
            "INPUTS": [str(scenes[0]), str(scenes[1])],
            "PROMPT": PROMPT,
            "WORKERS": 1,
            "EXAMPLES": examples,
            "OUTPUT": str(tmp_path / "batch"),
        },
        feedback=feedback,
    )
    assert (out["DONE"], out["FAILED"]) == (2, 0)
    record = json.loads((tmp_path / "batch" / "batch.json").read_text(encoding="utf-8"))
    pixels = {scene["name"]: scene["example_pixels"] for scene in record["scenes"]}
    assert pixels == {"part0": {}, "part1": {"other": 3, "vegetation": 3}}
    assert any(
        line.startswith("No example falls on these rasters") and line.endswith(": part0")
        for line in feedback.infos
    ), feedback.infos


def test_batch_algorithm_cancels_through_the_feedback(
    provider, scenes: list[Path], tmp_path: Path
) -> None:
    import processing

    feedback = _Feedback(cancel_after=1)
    with pytest.raises(QgsProcessingException, match="cancelled"):
        processing.run(
            "spex:batch_extract_land_cover",
            {
                "INPUTS": [str(p) for p in scenes],
                "PROMPT": PROMPT,
                "WORKERS": 1,
                "OUTPUT": str(tmp_path / "batch"),
            },
            feedback=feedback,
        )
    record = json.loads((tmp_path / "batch" / "batch.json").read_text(encoding="utf-8"))
    statuses = [scene["status"] for scene in record["scenes"]]
    assert statuses.count("done") >= 1 and "pending" in statuses
    assert not (tmp_path / "batch" / "summary.gpkg").exists()


def test_batch_algorithm_passes_the_reflectance_scaling(
    provider, scenes: list[Path], tmp_path: Path
) -> None:
    import processing
    from osgeo import gdal

    # A part as processing baseline 04.00 stores it (+1000): found alone, the offset is -0.1.
    recent = tmp_path / "recent.tif"
    gdal.Translate(str(recent), str(scenes[0]), scaleParams=[[0, 60000, 1000, 61000]])
    out = processing.run(
        "spex:batch_extract_land_cover",
        {
            "INPUTS": [str(recent)],
            "PROMPT": PROMPT,
            "REFLECTANCE_SCALE": 0.0001,
            "REFLECTANCE_OFFSET": 0.0,
            "WORKERS": 1,
            "OUTPUT": str(tmp_path / "batch"),
        },
    )
    assert (out["DONE"], out["FAILED"]) == (1, 0)
    run = json.loads((tmp_path / "batch" / "recent" / "run.json").read_text(encoding="utf-8"))
    assert run["scaling"]["source"] == "--scale/--offset"
    assert (run["scaling"]["scale"], run["scaling"]["offset"]) == (0.0001, 0.0)


def test_qgis_process_runs_the_batch_with_a_raster_without_a_crs(
    scenes: list[Path], s2_scene: Path, tmp_path: Path
) -> None:
    """qgis_process (Python embedded in QGIS): the workers start with this interpreter, not
    the first `python3` on PATH (a pyenv shim here, whose workers died at start), and a
    raster without a CRS is done but left out of SUMMARY, with a warning."""
    chip = ungeoreferenced_copy(s2_scene, tmp_path / "no_crs.tif", (420, 120, 300, 250))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", JSON="1")
    env.pop("ARGS", None)
    completed = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "qgis_run.sh"),
         "ALGORITHM=spex:batch_extract_land_cover", f"INPUTS={scenes[0]}", f"INPUTS={chip}",
         f"PROMPT={PROMPT}", f"OUTPUT={tmp_path / 'batch'}"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(completed.stdout[completed.stdout.index("{") :])["results"]
    assert (results["DONE"], results["FAILED"]) == (2, 0)
    assert (
        "Not in the summary layer (no CRS, or a local one, that places them on a map): no_crs"
        in completed.stdout
    )
    summary = QgsVectorLayer(results["SUMMARY"], "summary", "ogr")
    assert {f["scene"] for f in summary.getFeatures()} == {scenes[0].stem}
