"""Stand-ins for the SPEX algorithms while the engine's Python packages are missing.

They keep the algorithm ids (so ``qgis_process run spex:extract_land_cover`` does not answer
"Algorithm ... not found!"), cannot execute, and say what is missing and how to install it.
"""

from __future__ import annotations

from collections.abc import Sequence

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtGui import QIcon

from .. import dependencies
from .common import ICON
from .install_algorithm import ALGORITHM_ID as INSTALL_ID


def missing_message(missing: Sequence[dependencies.MissingPackage]) -> str:
    """One line: what is missing, and the commands that install it (desktop and headless)."""
    return (
        f"SPEX cannot run: {dependencies.describe_missing(missing)}. Install them with the "
        f"plugin's Install button, or headless: qgis_process.bin run {INSTALL_ID}"
    )


class UnavailableAlgorithm(QgsProcessingAlgorithm):
    """An algorithm id whose engine cannot be imported; running it explains why."""

    def __init__(
        self, alg_name: str, title: str, missing: Sequence[dependencies.MissingPackage]
    ) -> None:
        """`alg_name` / `title` as the real algorithm's; `missing` what stops it."""
        super().__init__()
        self._name, self._title, self.missing = alg_name, title, list(missing)

    def name(self) -> str:
        """The real algorithm's id."""
        return self._name

    def displayName(self) -> str:  # noqa: N802 - QGIS API
        """The real title, marked as unavailable."""
        return f"{self._title} (Python packages missing)"

    def icon(self) -> QIcon:
        """The plugin icon."""
        return QIcon(str(ICON))

    def shortHelpString(self) -> str:  # noqa: N802 - QGIS API
        """Why it cannot run."""
        return missing_message(self.missing)

    def createInstance(self) -> UnavailableAlgorithm:  # noqa: N802 - QGIS API
        """A copy with the same message."""
        return UnavailableAlgorithm(self._name, self._title, self.missing)

    def initAlgorithm(self, config=None) -> None:  # noqa: N802 - QGIS API
        """No parameters: nothing can be run."""

    def canExecute(self) -> tuple[bool, str]:  # noqa: N802 - QGIS API
        """False, with what is missing and how to install it."""
        return False, missing_message(self.missing)

    def checkParameterValues(self, parameters, context) -> tuple[bool, str]:  # noqa: N802
        """Refuse before any parameter is looked at (qgis_process reports this message)."""
        return False, missing_message(self.missing)

    def processAlgorithm(self, parameters, context, feedback) -> dict:  # noqa: N802
        """Never runs normally; if it does, it fails with the same one line."""
        raise QgsProcessingException(missing_message(self.missing))
