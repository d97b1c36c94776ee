"""The "SPEX" Processing provider."""

from __future__ import annotations

from collections.abc import Sequence

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .batch_algorithm import BatchExtractLandCoverAlgorithm
from .common import ICON
from .extract_algorithm import ExtractLandCoverAlgorithm
from .index_algorithm import SpectralIndexAlgorithm
from .install_algorithm import InstallDependenciesAlgorithm
from .unavailable import UnavailableAlgorithm


class SpexProvider(QgsProcessingProvider):
    """Provider id ``spex``: ``spex:extract_land_cover``, ``spex:batch_extract_land_cover``,
    ``spex:spectral_index`` and ``spex:install_dependencies``. With Python packages missing, the first two are stand-ins
    that say what is missing (`set_missing` switches once they are installed)."""

    def __init__(self, missing: Sequence[object] = ()) -> None:
        """`missing`: the `dependencies.MissingPackage`s that stop the engine (none: ready)."""
        super().__init__()
        self.missing = list(missing)

    def set_missing(self, missing: Sequence[object]) -> None:
        """Update what is missing and reload the algorithms if that changes anything."""
        if list(missing) != self.missing:
            self.missing = list(missing)
            self.refreshAlgorithms()

    def loadAlgorithms(self) -> None:  # noqa: N802 - QGIS API
        """Register the algorithms (stand-ins while packages are missing)."""
        if self.missing:
            self.addAlgorithm(
                UnavailableAlgorithm(
                    "extract_land_cover", "Extract land cover from an instruction", self.missing
                )
            )
            self.addAlgorithm(
                UnavailableAlgorithm(
                    "batch_extract_land_cover",
                    "Extract land cover from many rasters (Dask)",
                    self.missing,
                )
            )
            self.addAlgorithm(
                UnavailableAlgorithm("spectral_index", "Spectral index", self.missing)
            )
        else:
            self.addAlgorithm(ExtractLandCoverAlgorithm())
            self.addAlgorithm(BatchExtractLandCoverAlgorithm())
            self.addAlgorithm(SpectralIndexAlgorithm())
        self.addAlgorithm(InstallDependenciesAlgorithm())

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
