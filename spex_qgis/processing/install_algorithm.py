"""``spex:install_dependencies``: install the engine's missing Python packages, headless too.

The same installer as the plugin's Install button (``dependencies.install``): a plugin-private
folder of the QGIS profile, every package QGIS ships pinned. With ``qgis_process`` on a machine
without a desktop this is the way to make ``spex:extract_land_cover`` runnable.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
)

from .. import dependencies
from .common import SpexAlgorithm

ALGORITHM_ID = "spex:install_dependencies"


class InstallDependenciesAlgorithm(SpexAlgorithm):
    """pip-install what the engine lacks into ``<profile>/python/spex-packages``."""

    ALGORITHM_ID = "install_dependencies"
    TITLE = "Install the Python packages SPEX needs"
    GROUP = "Set-up"
    GROUP_ID = "setup"
    HELP = (
        "Installs the Python packages the SPEX engine needs and QGIS lacks (rasterio, ...) "
        "into a folder of this QGIS profile, pinning every package QGIS already ships. "
        "Headless: <code>qgis_process.bin run spex:install_dependencies</code>."
    )

    FIND_LINKS = "FIND_LINKS"
    NO_INDEX = "NO_INDEX"

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 - QGIS API
        """Optional offline source: a folder of wheels, and no package index."""
        links = QgsProcessingParameterFile(
            self.FIND_LINKS,
            "Folder of wheels (offline install)",
            behavior=QgsProcessingParameterFile.Behavior.Folder,
            optional=True,
        )
        self.add_parameter(links, "pip --find-links: a folder holding the wheels to install from.")
        no_index = QgsProcessingParameterBoolean(
            self.NO_INDEX, "Do not use the package index", defaultValue=False
        )
        self.add_parameter(no_index, "pip --no-index: install only from the folder of wheels.")
        self.addOutput(QgsProcessingOutputString("MESSAGE", "What was installed"))
        self.addOutput(QgsProcessingOutputString("FOLDER", "Where it was installed"))

    def processAlgorithm(  # noqa: N802 - QGIS API
        self,
        parameters: dict,
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict:
        """Run pip with pip's output in the log; one-line error when it fails."""
        dependencies.activate()
        missing = dependencies.missing_packages()
        folder = dependencies.site_dir(dependencies.default_base())
        if not missing:
            feedback.pushInfo("every Python package SPEX needs is present")
            return {"MESSAGE": "nothing to install", "FOLDER": str(folder)}
        specs = [m.requirement.spec for m in missing]
        feedback.pushInfo(f"installing {', '.join(specs)} into {folder}")
        links = self.parameterAsFile(parameters, self.FIND_LINKS, context)
        result = dependencies.install(
            specs,
            find_links=Path(links) if links else None,
            no_index=self.parameterAsBool(parameters, self.NO_INDEX, context),
            on_line=feedback.pushConsoleInfo,
            is_cancelled=feedback.isCanceled,
        )
        if not result.ok:
            raise QgsProcessingException(result.message)
        feedback.pushInfo(result.message)
        return {"MESSAGE": result.message, "FOLDER": str(result.site_dir)}
