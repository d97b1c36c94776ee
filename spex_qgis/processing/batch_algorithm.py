"""``spex:batch_extract_land_cover``: many rasters, one instruction, on a local Dask cluster."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from .common import (
    SHARED_PARAMETERS,
    SpexAlgorithm,
    add_examples_parameters,
    add_mask_clouds_parameter,
    add_reflectance_parameters,
    add_thresholds_parameter,
    check_parameters,
    cloud_buffer,
    examples_of,
    extent_in_its_crs,
    index_thresholds,
    mask_clouds,
    optional_text,
    product_given_whole,
    raster_file,
    reflectance_scaling,
    run_engine,
    with_parameters,
)


class BatchExtractLandCoverAlgorithm(SpexAlgorithm):
    """The same instruction on many rasters, one Dask task per raster, one folder per raster."""

    ALGORITHM_ID = "batch_extract_land_cover"
    TITLE = "Extract land cover from many rasters (Dask)"
    HELP = (
        "Runs one instruction on every raster given, in parallel on a local Dask cluster "
        "(worker processes). Each raster gets its own folder in OUTPUT with mask.tif, "
        "features.gpkg, explanation.md and run.json, exactly as the command line's "
        "<i>spex extract</i> writes them. OUTPUT also gets batch.json (every raster's "
        "status, error, timings and totals) and summary.gpkg (every region, with a "
        "<i>scene</i> attribute). A raster that fails is reported and the others go on; "
        "running again into the same folder skips the rasters already finished."
    )

    INPUTS = "INPUTS"
    PROMPT = "PROMPT"
    BANDS = "BANDS"
    SENSOR = "SENSOR"
    BACKEND = "BACKEND"
    EXTENT = "EXTENT"
    WORKERS = "WORKERS"
    OUTPUT = "OUTPUT"

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 - QGIS API
        """Declare the parameters and outputs."""
        from spex.engine.backends import BACKEND_NAMES

        add = self.add_parameter

        add(
            QgsProcessingParameterMultipleLayers(
                self.INPUTS, "Multispectral rasters", QgsProcessing.SourceType.TypeRaster
            ),
            "Raster layers, raster files or products given whole (a Landsat folder, .tar or "
            "MTL file; a Sentinel-2 zip or .SAFE; an HLS granule's folder); each becomes one task.",
        )
        add(
            QgsProcessingParameterString(
                self.PROMPT, "Instruction", defaultValue="extract the water bodies"
            ),
            "What to extract from every raster, in plain words.",
        )
        add(
            QgsProcessingParameterString(self.BANDS, "Band roles", optional=True),
            "One role per band, in order, comma-separated, or by band number (48=red,72=nir) "
            "(the same for every raster).",
        )
        add(
            QgsProcessingParameterString(self.SENSOR, "Sensor preset", optional=True),
            "Sensor preset for band order and scaling (the same for every raster).",
        )
        add(
            QgsProcessingParameterExtent(self.EXTENT, "Area of interest", optional=True),
            "Each raster's part of it, taken in the raster's own CRS; a raster it misses is "
            "outside it (empty: every raster whole).",
        )
        add_reflectance_parameters(
            self,
            "The same for every raster. Empty: each raster's own, from its file, its sensor "
            "preset or its values (a batch of mixed products needs it empty).",
        )
        add_mask_clouds_parameter(
            self, "Every raster must be such a product; one without its quality band fails."
        )
        add_thresholds_parameter(self)
        add_examples_parameters(self)
        add(
            QgsProcessingParameterString(
                self.BACKEND, "Backend", defaultValue="spectral", optional=True
            ),
            "Which backend classifies: " + ", ".join(BACKEND_NAMES),
        )
        add(
            QgsProcessingParameterNumber(
                self.WORKERS,
                "Worker processes (0: one per core)",
                QgsProcessingParameterNumber.Type.Integer,
                defaultValue=0,
                minValue=0,
            ),
            "Local Dask worker processes; each runs one raster at a time.",
        )
        add(
            QgsProcessingParameterFolderDestination(self.OUTPUT, "Output folder"),
            "New, empty, or a previous batch of the same instruction (then it resumes).",
        )
        self.addOutput(QgsProcessingOutputFile("BATCH", "Batch record (batch.json)"))
        self.addOutput(QgsProcessingOutputVectorLayer("SUMMARY", "Every region (summary.gpkg)"))
        self.addOutput(QgsProcessingOutputNumber("DONE", "Rasters done"))
        self.addOutput(QgsProcessingOutputNumber("FAILED", "Rasters failed"))
        self.addOutput(QgsProcessingOutputNumber("OUTSIDE", "Rasters outside the area"))

    def checkParameterValues(self, parameters, context) -> tuple[bool, str]:  # noqa: N802
        """As QGIS checks them, but INPUTS may also name products given whole (a Landsat
        folder, .tar or MTL file; a Sentinel-2 zip, .SAFE folder or metadata file), which QGIS
        cannot load as layers and each run opens as one raster."""
        values = _values(parameters.get(self.INPUTS))
        layers = [v for v in values if not product_given_whole(v)]
        if len(layers) == len(values):
            return super().checkParameterValues(parameters, context)
        return check_parameters(self, parameters, context, {self.INPUTS: layers or None})

    def _inputs(self, parameters: dict, context: QgsProcessingContext) -> tuple[str, ...]:
        """The rasters of INPUTS, in order: each layer's file, or the product given whole."""
        inputs = []
        for value in _values(parameters.get(self.INPUTS)):
            whole = product_given_whole(value)
            if whole:
                inputs.append(whole)
                continue
            layers = self.parameterAsLayerList({self.INPUTS: [value]}, self.INPUTS, context)
            inputs += [str(raster_file(layer, self.INPUTS)) for layer in layers]
        return tuple(inputs)

    def processAlgorithm(  # noqa: N802 - QGIS API
        self,
        parameters: dict,
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict:
        """Run the batch on a local cluster, reporting each raster and the progress."""
        from spex.engine import ExtractionRequest
        from spex.engine.distributed.batch import BatchProgress, BatchRequest, run_batch
        from spex.engine.distributed.dask_cluster import ClusterSpec

        inputs = self._inputs(parameters, context)
        if not inputs:
            raise QgsProcessingException(f"{self.INPUTS}: give at least one raster.")
        out = Path(self.parameterAsString(parameters, self.OUTPUT, context))
        scale, offset = reflectance_scaling(parameters)
        template = ExtractionRequest(
            input_path=Path(),
            prompt=self.parameterAsString(parameters, self.PROMPT, context),
            out_dir=Path(),
            bands=optional_text(self.parameterAsString(parameters, self.BANDS, context)),
            sensor=optional_text(self.parameterAsString(parameters, self.SENSOR, context)),
            scale=scale,
            offset=offset,
            backend=optional_text(self.parameterAsString(parameters, self.BACKEND, context))
            or "spectral",
            index_thresholds=index_thresholds(parameters),
            examples=examples_of(self, parameters, context),
            mask_clouds=mask_clouds(self, parameters, context),
            cloud_buffer_m=cloud_buffer(self, parameters, context),
            **extent_in_its_crs(self, parameters, self.EXTENT, context),
        )
        workers = self.parameterAsInt(parameters, self.WORKERS, context) or None
        request = BatchRequest(inputs, out, template, ClusterSpec(workers=workers))

        def on_progress(progress: BatchProgress) -> None:
            feedback.setProgress(100.0 * progress.finished / max(1, progress.total))
            last = progress.last
            if last is None:
                return
            if last.status == "failed":
                error = with_parameters(str(last.error), SHARED_PARAMETERS)
                feedback.reportError(f"{last.name}: {error}", fatalError=False)
            elif last.status == "outside":
                feedback.pushInfo(f"{last.name}: outside the area of interest, nothing to do")
            else:
                hidden = last.clouds_hidden_share
                feedback.pushInfo(
                    f"{last.name}: done in {last.seconds:.1f} s "
                    f"({progress.finished}/{progress.total})"
                    + (
                        f", {hidden:.1%} hidden as the product's clouds"
                        if hidden is not None
                        else ""
                    )
                )

        feedback.pushInfo(f"{len(inputs)} rasters on a local Dask cluster")
        result = run_engine(lambda: run_batch(request, on_progress, feedback.isCanceled))
        if result.not_in_summary:
            feedback.pushWarning(
                "Not in the summary layer (no CRS, or a local one, that places them on a map): "
                + ", ".join(result.not_in_summary)
            )
        if result.without_examples:
            feedback.pushWarning(
                "No example falls on these rasters; they were trained on their own seeds: "
                + ", ".join(result.without_examples)
            )
        return {
            self.OUTPUT: str(result.out_dir),
            "BATCH": str(result.batch_path),
            "SUMMARY": str(result.summary_path),
            "DONE": result.count("done") + result.count("skipped"),
            "FAILED": result.count("failed"),
            "OUTSIDE": result.count("outside"),
        }


def _values(value: object) -> list:
    """A multiple-layer parameter's values as a list (QGIS gives one value or a list)."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
