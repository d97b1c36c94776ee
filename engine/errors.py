"""User-facing errors: each carries one line that names the problem and the fix."""

from __future__ import annotations


class SpexError(Exception):
    """Base class for errors caused by the user's input or environment.

    The message is a single line, shown as-is by the command line, the dock panel and
    the Processing algorithms; it never needs a traceback to be understood.
    """


class InputError(SpexError):
    """The input raster is missing, unreadable or unusable."""


class BandError(SpexError):
    """Band roles could not be resolved or are inconsistent with the raster."""


class PromptError(SpexError):
    """The instruction is empty or asks for something the backend cannot do."""


class OutputError(SpexError):
    """The output location cannot be used."""


class CancelledError(SpexError):
    """The run was cancelled by the user."""


class BackendError(SpexError):
    """The requested backend is unknown or cannot run here."""
