"""The "SPEX" Processing provider."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .batch_algorithm import BatchExtractLandCoverAlgorithm
from .common import ICON
from .extract_algorithm import ExtractLandCoverAlgorithm
from .index_algorithm import SpectralIndexAlgorithm


class SpexProvider(QgsProcessingProvider):
    """Provider id ``spex``: ``spex:extract_land_cover``, ``spex:batch_extract_land_cover`` and
    ``spex:spectral_index``."""

    def loadAlgorithms(self) -> None:  # noqa: N802 - QGIS API
        """Register the algorithms."""
        self.addAlgorithm(ExtractLandCoverAlgorithm())
        self.addAlgorithm(SpectralIndexAlgorithm())
        self.addAlgorithm(BatchExtractLandCoverAlgorithm())

    def id(self) -> str:
        """Provider id, the prefix of the algorithm ids."""
        return "spex"

    def name(self) -> str:
        """Name shown in the toolbox."""
        return "SPEX"

    def longName(self) -> str:  # noqa: N802 - QGIS API
        """Name with the version."""
        from spex.engine import __version__

        return f"SPEX land-cover extraction {__version__}"

    def icon(self) -> QIcon:
        """The plugin icon."""
        return QIcon(str(ICON))
