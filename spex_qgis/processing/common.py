"""What both algorithms share: progress and cancel through feedback, the input file, errors."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsMapLayer,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsRasterFileWriter,
    QgsRasterLayer,
    QgsVectorFileWriter,
)
from qgis.PyQt.QtGui import QIcon

ICON = Path(__file__).resolve().parent.parent.parent / "resources" / "icons" / "spex.svg"


class SpexAlgorithm(QgsProcessingAlgorithm):
    """What every SPEX algorithm says of itself, from class attributes: ``ALGORITHM_ID``,
    ``TITLE``, ``GROUP``, ``GROUP_ID`` and ``HELP``."""

    ALGORITHM_ID = ""
    TITLE = ""
    GROUP = "Land cover"
    GROUP_ID = "landcover"
    HELP = ""

    def name(self) -> str:
        """Algorithm id inside the provider."""
        return self.ALGORITHM_ID

    def displayName(self) -> str:  # noqa: N802 - QGIS API
        """Name in the toolbox."""
        return self.TITLE

    def group(self) -> str:
        """Toolbox group."""
        return self.GROUP

    def groupId(self) -> str:  # noqa: N802 - QGIS API
        """Toolbox group id."""
        return self.GROUP_ID

    def icon(self) -> QIcon:
        """The plugin icon."""
        return QIcon(str(ICON))

    def shortHelpString(self) -> str:  # noqa: N802 - QGIS API
        """Help shown beside the dialog."""
        return self.HELP

    def createInstance(self) -> SpexAlgorithm:  # noqa: N802 - QGIS API
        """A fresh instance (batch mode and the modeler make many)."""
        return type(self)()

    def add_parameter(
        self, param: QgsProcessingParameterDefinition, help_text: str, advanced: bool = False
    ) -> None:
        """Declare `param` with its help text, among the advanced parameters if asked."""
        param.setHelp(help_text)
        if advanced:
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(param)


#: Parameter ids of the reflectance scaling, the command line's --scale and --offset.
REFLECTANCE_SCALE = "REFLECTANCE_SCALE"
REFLECTANCE_OFFSET = "REFLECTANCE_OFFSET"


def add_reflectance_parameters(algorithm: SpexAlgorithm, empty_means: str) -> None:
    """Declare the optional, advanced REFLECTANCE_SCALE and REFLECTANCE_OFFSET of `algorithm`.

    `empty_means` ends the help text: where the scaling comes from when they are left empty.
    """
    for name, label, example in (
        (REFLECTANCE_SCALE, "Reflectance scale", "0.0001"),
        (REFLECTANCE_OFFSET, "Reflectance offset", "-0.1"),
    ):
        algorithm.add_parameter(
            QgsProcessingParameterNumber(
                name, label, QgsProcessingParameterNumber.Type.Double, optional=True
            ),
            "reflectance = value x scale + offset (the command line's --scale/--offset; "
            f"e.g. {example} for Sentinel-2 of processing baseline 04.00). {empty_means}",
            advanced=True,
        )


#: The parameter that hides the product's clouds (the command line's --mask-clouds).
MASK_CLOUDS = "MASK_CLOUDS"
#: The parameter that widens them (the command line's --cloud-buffer).
CLOUD_BUFFER = "CLOUD_BUFFER"


def add_mask_clouds_parameter(algorithm: SpexAlgorithm, which: str) -> None:
    """Declare the optional MASK_CLOUDS of `algorithm` (`which`: the rasters it applies to),
    and its advanced CLOUD_BUFFER."""
    from spex.engine.raster.cloud_masking import MAX_BUFFER_M

    algorithm.add_parameter(
        QgsProcessingParameterBoolean(
            MASK_CLOUDS, "Hide the product's clouds", defaultValue=False, optional=True
        ),
        "Hide what the product's own quality band (Landsat QA_PIXEL, HLS Fmask, Sentinel-2 "
        "L2A SCL, L1C MSK_CLASSI or MSK_CLOUDS, PlanetScope udm2) flags as cloud or cloud "
        "shadow (Level-1C's "
        "shadows cast from the sun's angles): those pixels are nodata in every statistic and "
        f"output (the command line's --mask-clouds). {which}",
    )
    algorithm.add_parameter(
        QgsProcessingParameterNumber(
            CLOUD_BUFFER,
            "Cloud buffer (metres)",
            QgsProcessingParameterNumber.Type.Double,
            defaultValue=0.0,
            optional=True,
            minValue=0.0,
            maxValue=MAX_BUFFER_M,
        ),
        "With MASK_CLOUDS, hide the pixels within this distance of the flagged ones too, where "
        "the flags' edges leave haze and thin shadow (the command line's --cloud-buffer; "
        "e.g. 60). 0 hides the flagged pixels only.",
        advanced=True,
    )


def mask_clouds(
    algorithm: QgsProcessingAlgorithm, parameters: Mapping[str, object], context
) -> bool:
    """MASK_CLOUDS's value (False where left out)."""
    return parameters.get(MASK_CLOUDS) is not None and algorithm.parameterAsBoolean(
        parameters, MASK_CLOUDS, context
    )


def cloud_buffer(
    algorithm: QgsProcessingAlgorithm, parameters: Mapping[str, object], context
) -> float:
    """CLOUD_BUFFER's value in metres (0 where left out)."""
    if parameters.get(CLOUD_BUFFER) is None:
        return 0.0
    return algorithm.parameterAsDouble(parameters, CLOUD_BUFFER, context)


#: The parameter that sets index thresholds (the command line's --threshold).
INDEX_THRESHOLDS = "INDEX_THRESHOLDS"


def add_thresholds_parameter(algorithm: SpexAlgorithm) -> None:
    """Declare the optional, advanced INDEX_THRESHOLDS of `algorithm`."""
    from spex.engine.backends.spectral.set_thresholds import SETTABLE_HELP

    algorithm.add_parameter(
        QgsProcessingParameterString(INDEX_THRESHOLDS, "Index thresholds", optional=True),
        "INDEX=VALUE pairs, comma-separated, in place of the scene's own thresholds (spectral "
        f"backend; the command line's --threshold): {SETTABLE_HELP}, e.g. NDVI=0.65 for dense "
        "canopy only. Empty: each scene chooses its own.",
        advanced=True,
    )


def index_thresholds(parameters: dict) -> dict[str, float]:
    """The index thresholds the user set ({} when empty); a one-line error otherwise."""
    from spex.engine.backends.spectral.set_thresholds import parse_thresholds

    text = optional_text(parameters.get(INDEX_THRESHOLDS))
    parsed = run_engine(lambda: parse_thresholds(text), {"--threshold": INDEX_THRESHOLDS})
    return parsed  # type: ignore[return-value]


#: The parameters that give the analyst's examples (the command line's --examples and
#: --examples-field).
EXAMPLES = "EXAMPLES"
EXAMPLES_FIELD = "EXAMPLES_FIELD"
EXAMPLE_FLAGS = {"--examples-field": EXAMPLES_FIELD, "--examples": EXAMPLES}


def add_examples_parameters(algorithm: SpexAlgorithm) -> None:
    """Declare the optional, advanced EXAMPLES layer and its EXAMPLES_FIELD of `algorithm`."""
    from spex.engine.backends.spectral.examples import DEFAULT_FIELD

    algorithm.add_parameter(
        QgsProcessingParameterFeatureSource(
            EXAMPLES,
            "Examples (points or polygons you labelled)",
            [QgsProcessing.SourceType.TypeVectorPoint, QgsProcessing.SourceType.TypeVectorPolygon],
            optional=True,
        ),
        "Points or polygons whose field names the class each shows: a target (water, "
        "vegetation, built-up, bare soil, snow, cloud, or a synonym such as grass; a forest "
        "example is a vegetation example) or "
        "'other' for land that is none of them. They correct the scene's own seeds (spectral "
        "backend; the command line's --examples). Empty: the scene's seeds alone. Over many "
        "rasters, each takes the examples on it; one that none falls on runs on its own seeds.",
        advanced=True,
    )
    algorithm.add_parameter(
        QgsProcessingParameterField(
            EXAMPLES_FIELD,
            "Examples' class field",
            defaultValue=DEFAULT_FIELD,
            parentLayerParameterName=EXAMPLES,
            optional=True,
        ),
        "The field of EXAMPLES that holds each example's class (default: class).",
        advanced=True,
    )


def examples_of(algorithm: QgsProcessingAlgorithm, parameters: dict, context) -> object | None:
    """The engine's `Examples` of the EXAMPLES source (None when empty); a one-line error
    naming the parameter otherwise."""
    from spex.engine.backends.spectral.examples import DEFAULT_FIELD

    from ..example_layer import examples_from_source

    if not parameters.get(EXAMPLES):
        return None
    source = algorithm.parameterAsSource(parameters, EXAMPLES, context)
    if source is None:
        raise QgsProcessingException("EXAMPLES cannot be read; choose a point or polygon layer.")
    field = optional_text(algorithm.parameterAsString(parameters, EXAMPLES_FIELD, context))
    given = parameters.get(EXAMPLES)
    # A layer object (the Python console, a model) by its name, not its repr.
    name = given.name() if isinstance(given, QgsMapLayer) else str(given)
    return run_engine(
        lambda: examples_from_source(source, field or DEFAULT_FIELD, name), EXAMPLE_FLAGS
    )


def reflectance_scaling(parameters: dict) -> tuple[float | None, float | None]:
    """The (scale, offset) the user gave; None for each left empty."""
    return (
        optional_number(parameters, REFLECTANCE_SCALE),
        optional_number(parameters, REFLECTANCE_OFFSET),
    )


def optional_number(parameters: dict, name: str, unit: str = "") -> float | None:
    """An optional number parameter's value, None when empty; a one-line error otherwise,
    naming the parameter and the `unit` its number is in."""
    value = parameters.get(name)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        of = f" of {unit}" if unit else ""
        raise QgsProcessingException(f"{name}: '{value}' is not a number{of}.") from error


def monitor_for(feedback: QgsProcessingFeedback | None) -> object:
    """A `RunMonitor` that reports to `feedback` and stops when it is cancelled."""
    from spex.engine.progress import RunMonitor

    if feedback is None:
        return RunMonitor()
    last: list[str] = [""]
    console = ConsoleProgress(QgsApplication.platform() == "qgis_process")

    def on_progress(fraction: float, message: str) -> None:
        feedback.setProgress(100.0 * fraction)
        console.progress(100.0 * fraction)
        stage = message.split(" tile ")[0]  # one log line per stage, not one per tile
        if stage and stage != last[0]:
            last[0] = stage
            feedback.pushInfo(console.line(message))

    return RunMonitor(on_progress=on_progress, is_cancelled=feedback.isCanceled)


class ConsoleProgress:
    """Keeps ``qgis_process``'s progress ticks ("0...10...20") and messages on separate lines.

    qgis_process prints a tick (a number every 10 %, a dot between) without a newline, and a
    message right after it: "0reading the global sample". This tracks the ticks the same way
    (40 per run, a newline after the last) and starts a message on a new line when a tick is
    pending. Elsewhere (the toolbox's log) messages are left as they are.
    """

    def __init__(self, console: bool) -> None:
        """`console`: running inside qgis_process."""
        self.console = console
        self.last_tick = -1
        self.pending = False

    def progress(self, percent: float) -> None:
        """Note a progress report, as qgis_process turns it into ticks."""
        tick = min(40, max(0, int(percent * 0.4)))
        if tick > self.last_tick:
            self.last_tick = tick
            self.pending = tick < 40  # qgis_process ends the line itself at 100 %

    def line(self, message: str) -> str:
        """`message`, on a line of its own."""
        if self.console and self.pending:
            self.pending = False
            return "\n" + message
        return message


class RasterInputAlgorithm(SpexAlgorithm):
    """An algorithm of one raster INPUT, which may also name a product given whole or a GDAL
    dataset name (`product_given_whole`): QGIS does not load those as layers from a string,
    and the engine opens them itself, as the command line does."""

    INPUT = "INPUT"

    def input_raster(
        self, parameters: dict, context: QgsProcessingContext
    ) -> tuple[QgsRasterLayer | None, Path]:
        """INPUT's layer (None for a product given whole) and the file the engine opens."""
        whole = product_given_whole(parameters.get(self.INPUT))
        if whole:
            return None, Path(whole)
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        return layer, raster_file(layer, self.INPUT)

    def checkParameterValues(self, parameters, context) -> tuple[bool, str]:  # noqa: N802
        """As QGIS checks them, but with INPUT unchecked where it names a product given whole."""
        if not product_given_whole(parameters.get(self.INPUT)):
            return super().checkParameterValues(parameters, context)
        return check_parameters(self, parameters, context, {self.INPUT: None})


def product_given_whole(value: object) -> str | None:
    """A raster parameter's value where it is a path naming a product given whole (a Landsat
    folder, .tar or MTL file; a Sentinel-2 zip, .SAFE folder or metadata file), or a GDAL
    dataset name (``/vsizip//...``, ``SENTINEL2_L2A:...``), which QGIS does not load as a layer
    from a string (`qgis_process`: "Could not load source layer") and the engine opens itself;
    else None."""
    from spex.engine.raster.dataset_open import GDAL_DATASET_NAME
    from spex.engine.raster.dataset_open import product_given_whole as given_whole

    if not isinstance(value, str) or not value:
        return None
    if given_whole(value) or (GDAL_DATASET_NAME.match(value) and not Path(value).exists()):
        return value
    return None


def check_parameters(
    algorithm: QgsProcessingAlgorithm,
    parameters: Mapping[str, object],
    context: QgsProcessingContext,
    replaced: Mapping[str, object],
) -> tuple[bool, str]:
    """QGIS's own check of `parameters`, each parameter of `replaced` checked with its value
    there instead (None: not checked): for values that name products given whole, which QGIS
    cannot load as layers."""
    for definition in algorithm.parameterDefinitions():
        name = definition.name()
        value = replaced[name] if name in replaced else parameters.get(name)
        if name in replaced and value is None:
            continue
        if not definition.checkValueIsAcceptable(value, context):
            return False, f"Incorrect parameter value for {name}"
    return True, ""


def extent_in_its_crs(
    algorithm: QgsProcessingAlgorithm, parameters: Mapping[str, object], name: str, context
) -> dict[str, object]:
    """The extent parameter `name` as the request's `extent` and `extent_crs` (the engine
    takes it in each raster's CRS), or {} where it is empty."""
    if parameters.get(name) in (None, ""):
        return {}
    rect = algorithm.parameterAsExtent(parameters, name, context)
    crs = algorithm.parameterAsExtentCrs(parameters, name, context)
    if rect.isNull() or rect.isEmpty():
        return {}
    extent = (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
    return {"extent": extent, "extent_crs": crs.toWkt() if crs.isValid() else None}


def raster_file(layer: QgsRasterLayer | None, parameter: str) -> Path:
    """The GDAL file behind a raster layer parameter, or a one-line error."""
    if layer is None or not layer.isValid():
        raise QgsProcessingException(f"{parameter}: give a raster layer or a raster file.")
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"{parameter}: '{layer.name()}' is not a file raster ({layer.providerType()}); "
            "save it as a GeoTIFF first."
        )
    return Path(layer.source().split("|")[0])


#: The command line's flags that the engine's messages name, and the parameters that stand for
#: them in every algorithm that passes them on (BANDS and SENSOR in all of them, MASK_CLOUDS and
#: CLOUD_BUFFER in each that reads a product's quality band).
SHARED_PARAMETERS = {
    "--bands": "BANDS",
    "--sensor": "SENSOR",
    "--mask-clouds": MASK_CLOUDS,
    "--cloud-buffer": CLOUD_BUFFER,
}


def run_engine(
    call: Callable[[], object], parameters: Mapping[str, str] = SHARED_PARAMETERS
) -> object:
    """Run an engine call, turning its one-line `SpexError` into a `QgsProcessingException`
    that names the algorithm's `parameters` where the engine names command-line flags."""
    from spex.engine.errors import SpexError

    try:
        return call()
    except SpexError as error:
        raise QgsProcessingException(with_parameters(str(error), parameters)) from error


def with_parameters(message: str, parameters: Mapping[str, str]) -> str:
    """`message` with each flag of `parameters` (``--bands``) replaced by its parameter name."""
    for flag in sorted(parameters, key=len, reverse=True):  # --scale/--offset before --scale
        message = re.sub(rf"{re.escape(flag)}(?![a-z-])", parameters[flag], message)
    return message


def optional_text(value: object) -> str | None:
    """A string parameter's value, or None when left empty."""
    text = str(value).strip() if value is not None else ""
    return text or None


def place_output(src: Path, dest: Path, raster: bool) -> None:
    """Move an engine output to the destination chosen by the user, converting if needed."""
    from osgeo import gdal

    dest.parent.mkdir(parents=True, exist_ok=True)
    suffix = dest.suffix.lower()
    native = (".tif", ".tiff") if raster else (".gpkg",)
    for old in (dest, dest.with_name(dest.name + ".aux.xml")):
        old.unlink(missing_ok=True)
    if suffix in native:
        shutil.move(str(src), str(dest))
        aux = src.with_name(src.name + ".aux.xml")
        if aux.exists():
            shutil.move(str(aux), str(dest.with_name(dest.name + ".aux.xml")))
        return
    if raster:
        driver = QgsRasterFileWriter.driverForExtension(suffix.lstrip("."))
        done = gdal.Translate(str(dest), str(src), format=driver or "GTiff")
    else:
        driver = QgsVectorFileWriter.driverForExtension(suffix.lstrip("."))
        done = gdal.VectorTranslate(str(dest), str(src), format=driver or "GPKG")
    if done is None:
        raise QgsProcessingException(f"Cannot write {dest}; choose a .tif / .gpkg file instead.")
    done = None  # close the dataset before removing the engine's copy
    src.unlink()
    src.with_name(src.name + ".aux.xml").unlink(missing_ok=True)
