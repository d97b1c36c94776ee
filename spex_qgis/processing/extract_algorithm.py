"""``spex:extract_land_cover``: instruction + raster -> class raster, polygons, explanation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingOutputFile,
    QgsProcessingOutputFolder,
    QgsProcessingOutputString,
    QgsProcessingParameterExtent,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
)

from .common import (
    EXAMPLE_FLAGS,
    INDEX_THRESHOLDS,
    REFLECTANCE_OFFSET,
    REFLECTANCE_SCALE,
    SHARED_PARAMETERS,
    RasterInputAlgorithm,
    add_examples_parameters,
    add_mask_clouds_parameter,
    add_reflectance_parameters,
    add_thresholds_parameter,
    cloud_buffer,
    examples_of,
    extent_in_its_crs,
    index_thresholds,
    mask_clouds,
    monitor_for,
    optional_number,
    optional_text,
    place_output,
    reflectance_scaling,
    run_engine,
)

if TYPE_CHECKING:
    from spex.engine.instructions.plan import Plan

#: Files a previous run leaves in the run folder; only these are replaced by a new run.
RUN_FILES = {"explanation.md", "run.json"}
#: Post-processors must outlive the algorithm instance until QGIS has loaded the outputs.
_STYLERS: list[QgsProcessingLayerPostProcessorInterface] = []


class _Styler(QgsProcessingLayerPostProcessorInterface):
    """Styles an output layer once QGIS has loaded it (toolbox and modeler runs)."""

    def __init__(self, kind: str, plan: Plan, abstract: tuple[str, str, Path]):
        super().__init__()
        self.kind, self.plan, self.abstract = kind, plan, abstract

    def postProcessLayer(self, layer, context, feedback) -> None:  # noqa: N802 - QGIS API
        """Apply the paletted / categorized style and the metadata."""
        from ..results import class_styles, set_abstract, style_mask, style_regions

        if self.kind == "mask":
            style_mask(layer, class_styles(self.plan))
        else:
            style_regions(layer, self.plan)
        set_abstract(layer, *self.abstract)


class ExtractLandCoverAlgorithm(RasterInputAlgorithm):
    """Extract the land cover an instruction asks for from a multispectral raster."""

    ALGORITHM_ID = "extract_land_cover"
    TITLE = "Extract land cover from an instruction"
    HELP = (
        "Turns an instruction such as <i>extract the water bodies larger than 2 ha</i> (or "
        "<i>classify the land cover</i> for every class) and a multispectral raster into a "
        "class raster (0 background, 1..N the targets in the order asked, 255 nodata), polygons with attributes (class, area in m² and ha, "
        "confidence, mean index values, location) and an explanation grounded in measured "
        "evidence (returned as EXPLANATION and written beside the run manifest, MANIFEST)."
        "<br><br>Band roles come from BANDS, else SENSOR, else the band descriptions (in a "
        "virtual raster of band files, the files' names). A Landsat or Sentinel-2 product "
        "name in the file, folder or band names gives the processing level and its "
        "reflectance scaling (with a Landsat MTL file beside the raster, calibrated)."
    )

    INPUT = "INPUT"
    PROMPT = "PROMPT"
    BANDS = "BANDS"
    SENSOR = "SENSOR"
    BACKEND = "BACKEND"
    EXTENT = "EXTENT"
    MIN_AREA = "MIN_AREA"
    TILE_SIZE = "TILE_SIZE"
    MODEL = "MODEL"
    OUTPUT_MASK = "OUTPUT_MASK"
    OUTPUT_FEATURES = "OUTPUT_FEATURES"
    #: The command line's flags the engine's messages name, as this algorithm's parameters.
    FLAG_PARAMETERS = {
        **SHARED_PARAMETERS,
        "--scale/--offset": f"{REFLECTANCE_SCALE}/{REFLECTANCE_OFFSET}",
        "--scale": REFLECTANCE_SCALE,
        "--offset": REFLECTANCE_OFFSET,
        "--extent": EXTENT,
        "--min-area": MIN_AREA,
        "--tile": TILE_SIZE,
        "--model": MODEL,
        "--backend": BACKEND,
        "--threshold": INDEX_THRESHOLDS,
        **EXAMPLE_FLAGS,
    }

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 - QGIS API
        """Declare the parameters and outputs."""
        from spex.engine.backends import BACKEND_NAMES
        from spex.engine.raster.sensors import load_presets

        add = self.add_parameter

        add(
            QgsProcessingParameterRasterLayer(self.INPUT, "Multispectral raster"),
            "A GDAL-readable multispectral raster (Sentinel-2, Landsat, any stack with known "
            "bands), or the path of a product given whole (a Landsat folder, .tar or MTL file; "
            "a Sentinel-2 zip, .SAFE folder or MTD_MSIL2A.xml; an HLS granule's folder).",
        )
        add(
            QgsProcessingParameterString(
                self.PROMPT,
                "Instruction",
                defaultValue="extract the water bodies larger than 2 ha",
                multiLine=True,
            ),
            "What to extract, in plain words, e.g. 'find the 5 largest lakes', or each target "
            "with its own limits: 'lakes over 1 ha and buildings over 200 m2'.",
        )
        add(
            QgsProcessingParameterString(self.BANDS, "Band roles", optional=True),
            "One role per band, in order, comma-separated; '-' for unused "
            "(e.g. blue,green,red,nir); or by band number for many bands (e.g. 48=red,72=nir). "
            "Empty: from SENSOR or the band descriptions.",
        )
        add(
            QgsProcessingParameterString(self.SENSOR, "Sensor preset", optional=True),
            "Sensor preset for band order and scaling: " + ", ".join(sorted(load_presets())),
        )
        add_reflectance_parameters(
            self, "Empty: from the file, its sensor preset or its values, as the explanation says."
        )
        add(
            QgsProcessingParameterString(
                self.BACKEND, "Backend", defaultValue="spectral", optional=True
            ),
            "Which backend classifies: " + ", ".join(BACKEND_NAMES),
        )
        add(
            QgsProcessingParameterExtent(self.EXTENT, "Extent", optional=True),
            "Process only this extent (any CRS; converted to the raster's). Empty: whole raster.",
        )
        add(
            QgsProcessingParameterNumber(
                self.MIN_AREA,
                "Minimum region area (m²)",
                QgsProcessingParameterNumber.Type.Double,
                optional=True,
                minValue=0.0,
            ),
            "Drop regions smaller than this, of every target; overrides the instruction's own limits.",
        )
        add(
            QgsProcessingParameterNumber(
                self.TILE_SIZE,
                "Tile size (pixels)",
                QgsProcessingParameterNumber.Type.Integer,
                defaultValue=512,
                optional=True,
                minValue=64,
            ),
            "Pixels per tile side; memory is bounded by the tile size.",
            advanced=True,
        )
        add_mask_clouds_parameter(
            self, "The raster must be such a product, given whole or as a band file in its folder."
        )
        add_thresholds_parameter(self)
        add_examples_parameters(self)
        add(
            QgsProcessingParameterString(self.MODEL, "Model folder", optional=True),
            "Weights folder for the 'spex' and 'onnx' backends.",
            advanced=True,
        )
        add(
            QgsProcessingParameterRasterDestination(self.OUTPUT_MASK, "Class raster"),
            "uint8 GeoTIFF: 0 background, 1..N targets, 255 nodata.",
        )
        add(
            QgsProcessingParameterVectorDestination(
                self.OUTPUT_FEATURES, "Regions", QgsProcessing.SourceType.TypeVectorPolygon
            ),
            "Polygons with class, area (m², ha), confidence and evidence attributes.",
        )
        self.addOutput(QgsProcessingOutputString("EXPLANATION", "Explanation (Markdown)"))
        self.addOutput(QgsProcessingOutputString("SUMMARY", "Summary"))
        self.addOutput(QgsProcessingOutputString("DEVICE", "Backend and device that ran"))
        self.addOutput(QgsProcessingOutputFile("MANIFEST", "Run manifest (run.json)"))
        self.addOutput(
            QgsProcessingOutputFolder("RUN_FOLDER", "Folder with explanation and manifest")
        )

    def processAlgorithm(  # noqa: N802 - QGIS API
        self,
        parameters: dict,
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict:
        """Run the engine into a run folder beside the class raster, then place the outputs."""
        from spex.engine import ExtractionRequest, extract

        layer, input_path = self.input_raster(parameters, context)
        prompt = self.parameterAsString(parameters, self.PROMPT, context)
        mask_dest = Path(self.parameterAsOutputLayer(parameters, self.OUTPUT_MASK, context))
        features_dest = Path(self.parameterAsOutputLayer(parameters, self.OUTPUT_FEATURES, context))
        run_dir = mask_dest.parent / f"{mask_dest.stem}_spex"
        _clear_previous_run(run_dir)
        model = optional_text(self.parameterAsString(parameters, self.MODEL, context))
        scale, offset = reflectance_scaling(parameters)
        request = ExtractionRequest(
            input_path=input_path,
            prompt=prompt,
            out_dir=run_dir,
            bands=optional_text(self.parameterAsString(parameters, self.BANDS, context)),
            sensor=optional_text(self.parameterAsString(parameters, self.SENSOR, context)),
            scale=scale,
            offset=offset,
            backend=optional_text(self.parameterAsString(parameters, self.BACKEND, context))
            or "spectral",
            tile_size=self.parameterAsInt(parameters, self.TILE_SIZE, context) or 512,
            **self._extent(parameters, context, layer),
            min_area_m2=optional_number(parameters, self.MIN_AREA, "m²"),
            backend_options={"model": Path(model)} if model else {},
            index_thresholds=index_thresholds(parameters),
            examples=examples_of(self, parameters, context),
            mask_clouds=mask_clouds(self, parameters, context),
            cloud_buffer_m=cloud_buffer(self, parameters, context),
        )
        feedback.pushInfo(f"Input: {input_path}")
        result = run_engine(lambda: extract(request, monitor_for(feedback)), self.FLAG_PARAMETERS)
        feedback.pushInfo(f"Plan: {result.plan.describe()}")
        place_output(result.mask_path, mask_dest, raster=True)
        place_output(result.features_path, features_dest, raster=False)
        manifest = _rewrite_manifest(result.manifest_path, mask_dest, features_dest)
        explanation = Path(result.explanation_path).read_text(encoding="utf-8")
        backend = manifest.get("backend", {}) if isinstance(manifest, dict) else {}
        device = f"{backend.get('name', request.backend)} on {backend.get('device', 'cpu')}"
        abstract = (prompt, explanation, Path(result.manifest_path))
        self._style_on_load(context, str(mask_dest), "mask", result.plan, abstract)
        self._style_on_load(context, str(features_dest), "regions", result.plan, abstract)
        for line in result.summary.splitlines():
            feedback.pushInfo(line)
        return {
            self.OUTPUT_MASK: str(mask_dest),
            self.OUTPUT_FEATURES: str(features_dest),
            "EXPLANATION": explanation,
            "SUMMARY": result.summary,
            "DEVICE": device,
            "MANIFEST": str(result.manifest_path),
            "RUN_FOLDER": str(result.out_dir),
        }

    def _extent(self, parameters: dict, context: QgsProcessingContext, layer) -> dict:
        """EXTENT as the request's extent: in the layer's CRS, or for a product given whole
        (no layer) in its own CRS, which the engine takes into the product's."""
        if layer is None:
            return extent_in_its_crs(self, parameters, self.EXTENT, context)
        if parameters.get(self.EXTENT) in (None, ""):
            return {}
        rect = self.parameterAsExtent(parameters, self.EXTENT, context, layer.crs())
        if rect.isNull() or rect.isEmpty():
            return {}
        return {"extent": (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())}

    def _style_on_load(self, context, dest: str, kind: str, plan: Plan, abstract) -> None:
        if not context.willLoadLayerOnCompletion(dest):
            return
        styler = _Styler(kind, plan, abstract)
        del _STYLERS[:-20]  # keep the recent ones alive; QGIS loads outputs right after the run
        _STYLERS.append(styler)
        context.layerToLoadOnCompletionDetails(dest).setPostProcessor(styler)


def _clear_previous_run(run_dir: Path) -> None:
    """Processing overwrites outputs: replace a previous run folder, but never a foreign one."""
    if not run_dir.exists():
        return
    names = {p.name for p in run_dir.iterdir()}
    if not names <= RUN_FILES:
        raise QgsProcessingException(
            f"{run_dir} exists and holds other files; choose another class raster file name."
        )
    shutil.rmtree(run_dir)


def _rewrite_manifest(manifest_path: Path, mask: Path, features: Path) -> dict:
    """Point the manifest's outputs at where the class raster and polygons now are."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    outputs = manifest.get("outputs")
    if isinstance(outputs, dict):
        outputs["mask"] = str(mask)
        outputs["features"] = str(features)
    Path(manifest_path).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
