"""User-facing errors: each carries one line that names the problem and the fix."""

from __future__ import annotations


class SpexError(Exception):
    """Base class for errors caused by the user's input or environment.

    The message is a single line, shown as-is by the command line, the dock panel and
    the Processing algorithms; it never needs a traceback to be understood.
    """


class InputError(SpexError):
    """The input raster is missing, unreadable or unusable."""


class ExtentOutsideError(InputError):
    """The extent does not overlap the raster (in a batch: the scene lies outside the area)."""


class BandError(SpexError):
    """Band roles could not be resolved or are inconsistent with the raster.

    ``readings``: where band names fit several sensors, each sensor's roles (one per band, None
    unused), keyed by the sensor presets that give them, so that a form can offer them.
    """

    def __init__(
        self, message: str, readings: dict[str, tuple[str | None, ...]] | None = None
    ) -> None:
        super().__init__(message)
        self.readings = dict(readings or {})


class PromptError(SpexError):
    """The instruction is empty or asks for something the backend cannot do."""


class OutputError(SpexError):
    """The output location cannot be used."""


class CancelledError(SpexError):
    """The run was cancelled by the user."""


class BackendError(SpexError):
    """The requested backend is unknown or cannot run here."""
