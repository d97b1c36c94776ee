"""The dock's "Hide the product's clouds" box (the command line's ``--mask-clouds``): offered
where the chosen layer is a product whose own quality band lies beside it; and its buffer in
metres (``--cloud-buffer``), offered while the box is ticked."""

from __future__ import annotations

from pathlib import PurePosixPath

from qgis.core import QgsMapLayer
from qgis.PyQt.QtWidgets import QCheckBox, QDoubleSpinBox, QWidget

from .widgets import layer_file

#: Why the box is off, where it is.
UNAVAILABLE = (
    "Only for a Landsat, HLS, Sentinel-2 or PlanetScope product whose quality band (QA_PIXEL, "
    "Fmask, SCL, MSK_CLASSI, MSK_CLOUDS, udm2) lies beside the layer's files"
)


class CloudMaskCheck(QCheckBox):
    """Checked: what the product's quality band flags as cloud or cloud shadow is nodata."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Hide the product's clouds", parent)
        self.setObjectName("spexMaskClouds")
        self.follow(None)

    def follow(self, layer: QgsMapLayer | None) -> None:
        """Offer the box where `layer` has a quality band, naming it; else clear and disable it."""
        from spex.engine.raster.cloud_masking import CAST_KINDS
        from spex.engine.raster.quality_bands import CLOUD_FLAGS, MADE_BY, quality_band_of

        name = layer_file(layer) if layer is not None and layer.providerType() == "gdal" else ""
        found = quality_band_of(name) if name else None
        if found is None:
            self.setChecked(False)
            self.setEnabled(False)
            self.setToolTip(UNAVAILABLE)
            return
        band, kind = found
        self.setEnabled(True)
        cast = (
            ", and the shadows its clouds cast from the sun's angles," if kind in CAST_KINDS else ""
        )
        self.setToolTip(
            f"Pixels that {PurePosixPath(band).name} ({MADE_BY[kind]} flags) marks as "
            f"{CLOUD_FLAGS[kind]}{cast} become nodata in every statistic and output"
        )


class CloudBufferSpin(QDoubleSpinBox):
    """How far around the hidden clouds pixels are hidden too (m); offered while `check` is
    ticked."""

    def __init__(self, check: CloudMaskCheck, parent: QWidget | None = None) -> None:
        from spex.engine.raster.cloud_masking import MAX_BUFFER_M

        super().__init__(parent)
        self.setObjectName("spexCloudBuffer")
        self.setRange(0.0, MAX_BUFFER_M)
        self.setDecimals(0)
        self.setSingleStep(30.0)
        self.setSuffix(" m")
        self.setToolTip(
            "Hide the pixels within this distance of the flagged ones too, where the flags' "
            "edges leave haze and thin shadow (the command line's --cloud-buffer)"
        )
        check.toggled.connect(self.setEnabled)
        self.setEnabled(check.isChecked())

    def metres(self) -> float:
        """The buffer the run asks for: 0 while the clouds are not hidden."""
        return self.value() if self.isEnabled() else 0.0
