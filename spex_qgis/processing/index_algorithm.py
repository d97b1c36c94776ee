"""``spex:spectral_index``: one spectral index of a multispectral raster as a float32 raster."""

from __future__ import annotations

import tempfile
from pathlib import Path

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from .common import (
    RasterInputAlgorithm,
    add_mask_clouds_parameter,
    cloud_buffer,
    mask_clouds,
    monitor_for,
    optional_text,
    place_output,
    run_engine,
)


class SpectralIndexAlgorithm(RasterInputAlgorithm):
    """Compute NDVI, MNDWI, NDBI, ... from band roles, tile by tile, nodata-aware."""

    ALGORITHM_ID = "spectral_index"
    TITLE = "Spectral index"
    GROUP = "Spectral indices"
    GROUP_ID = "indices"

    INPUT = "INPUT"
    INDEX = "INDEX"
    BANDS = "BANDS"
    SENSOR = "SENSOR"
    OUTPUT = "OUTPUT"

    def shortHelpString(self) -> str:  # noqa: N802 - QGIS API
        """Help shown beside the dialog, naming every index."""
        from spex.engine.indices import INDICES

        return (
            "Computes one spectral index from the raster's band roles, in reflectance, as a "
            f"float32 GeoTIFF (nodata -9999). Indices: {', '.join(INDICES)}. See "
            "docs/indices.md for formulas."
        )

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 - QGIS API
        """Declare the parameters."""
        from spex.engine.indices import INDICES

        params = [
            (
                QgsProcessingParameterRasterLayer(self.INPUT, "Multispectral raster"),
                "A GDAL-readable multispectral raster.",
            ),
            (
                QgsProcessingParameterString(self.INDEX, "Index", defaultValue="NDVI"),
                "Index name (case-insensitive): " + ", ".join(INDICES),
            ),
            (
                QgsProcessingParameterString(self.BANDS, "Band roles", optional=True),
                "One role per band, comma-separated, '-' for unused. Empty: from SENSOR or the "
                "band descriptions.",
            ),
            (
                QgsProcessingParameterString(self.SENSOR, "Sensor preset", optional=True),
                "Sensor preset for band order and scaling (e.g. sentinel2_l2a).",
            ),
            (
                QgsProcessingParameterRasterDestination(self.OUTPUT, "Index raster"),
                "float32 raster of the index values.",
            ),
        ]
        for param, help_text in params:
            self.add_parameter(param, help_text)
        add_mask_clouds_parameter(
            self, "The raster must be such a product's band files stacked (Build Virtual Raster)."
        )

    def processAlgorithm(  # noqa: N802 - QGIS API
        self,
        parameters: dict,
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict:
        """Write the index window by window."""
        from spex.engine.index_writer import write_index

        _, input_path = self.input_raster(parameters, context)
        index = self.parameterAsString(parameters, self.INDEX, context).strip() or "NDVI"
        dest = Path(self.parameterAsOutputLayer(parameters, self.OUTPUT, context))
        bands = optional_text(self.parameterAsString(parameters, self.BANDS, context))
        sensor = optional_text(self.parameterAsString(parameters, self.SENSOR, context))
        monitor = monitor_for(feedback)
        hide = mask_clouds(self, parameters, context)
        buffer_m = cloud_buffer(self, parameters, context)

        def write(path: Path) -> None:
            write_index(
                input_path,
                index,
                path,
                bands,
                sensor,
                monitor=monitor,
                mask_clouds=hide,
                cloud_buffer_m=buffer_m,
            )

        if dest.suffix.lower() in (".tif", ".tiff"):
            run_engine(lambda: write(dest))
        else:
            with tempfile.TemporaryDirectory(
                dir=dest.parent if dest.parent.exists() else None
            ) as tmp:
                tif = Path(tmp) / "index.tif"
                run_engine(lambda: write(tif))
                place_output(tif, dest, raster=True)
        feedback.pushInfo(f"{index} written to {dest}")
        return {self.OUTPUT: str(dest)}
