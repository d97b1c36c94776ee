"""Files the engine writes for itself in the temporary folder: VRTs that stack, convert or
mask an input's bands (`sentinel2_layers`, `band_stacks`, `data_types`, `cloud_masking`), the
masks of a product's clouds (`cloud_masking`) and companion files taken out of an archive
(`product_files`).

Each is named by a key: what it is made from, with `file_stamp` of the files it reads, so a
file changed since gets a new one and a stale copy is never read. It is written once, to a
partial file moved into place, so a second run, or a Dask worker reopening the input, takes
the same file and none is ever read half-written.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

#: A file inside an archive as GDAL names it: the archive is what changes.
_IN_ARCHIVE = re.compile(r"^/vsi(?:zip|tar)/(/?.+?\.(?:zip|tar|tar\.gz|tgz))(?:/|$)", re.IGNORECASE)


def file_stamp(name: str | Path) -> str:
    """When the file `name` (for a file inside a zip or tar archive, ``/vsizip/...``, the
    archive) last changed and its size ("" for a GDAL dataset name that is no file), for a
    key."""
    inside = _IN_ARCHIVE.match(str(name))
    try:
        stat = Path(inside.group(1) if inside else name).stat()
    except OSError:
        return ""
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def written_once(folder: str, key: str, name: str, write: Callable[[Path], object]) -> Path:
    """The file `name` in the temporary folder's `folder`, under a folder named by `key`:
    made by `write(partial)` the first time, then moved into place."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
    out = Path(tempfile.gettempdir()) / folder / digest / name
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f"part-{os.getpid()}-{name}")
        write(partial)
        partial.replace(out)
    return out
