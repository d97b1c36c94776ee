"""The output folder: everything is written to a temporary sibling, then moved into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from .errors import OutputError


def check_output_dir(path: Path) -> None:
    """Fail early, with one line, if `path` cannot receive a run's outputs."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"Output {path} is a file; give a new or empty folder with --out.")
    if path.is_dir() and any(path.iterdir()):
        raise OutputError(f"Output folder {path} is not empty; give a new or empty folder.")
    parent = path.parent if not path.is_dir() else path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(
            f"{parent} is a file, so {path} cannot be created; choose another folder."
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"Cannot write to {parent}; choose an output folder you can write to.")


class StagedOutputDir:
    """A context manager giving a temporary folder that becomes `final` only on success.

    On error or cancel the temporary folder is removed, so no half-written output is left.
    The temporary folder is a sibling of `final`, so the last step is a rename on one file system.
    """

    def __init__(self, final: Path) -> None:
        self.final = Path(final).absolute()
        self.path: Path | None = None

    def __enter__(self) -> Path:
        check_output_dir(self.final)
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            self.path = Path(
                tempfile.mkdtemp(prefix=f".{self.final.name}.partial-", dir=self.final.parent)
            )
        except OSError as exc:
            raise OutputError(
                f"Cannot create the output folder {self.final}: {exc.strerror}."
            ) from exc
        return self.path

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.path is not None
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        try:
            if self.final.is_dir():
                self.final.rmdir()  # checked empty on entry
            os.replace(self.path, self.final)
        except OSError as exc:
            shutil.rmtree(self.path, ignore_errors=True)
            raise OutputError(
                f"Cannot move the outputs into {self.final}: {exc.strerror}."
            ) from exc


def atomic_file_target(final: Path) -> Path:
    """A temporary path beside `final`, for a single file to be moved in with `os.replace`."""
    final = Path(final).absolute()
    if final.is_dir():
        raise OutputError(f"Output {final} is a folder; give a file name such as ndvi.tif.")
    if not final.parent.exists():
        raise OutputError(
            f"Folder {final.parent} does not exist; create it or choose another path."
        )
    if not os.access(final.parent, os.W_OK | os.X_OK):
        raise OutputError(f"Cannot write to {final.parent}; choose a path you can write to.")
    fd, tmp = tempfile.mkstemp(
        prefix=f".{final.stem}.partial-", suffix=final.suffix, dir=final.parent
    )
    os.close(fd)
    return Path(tmp)
