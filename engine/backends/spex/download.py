"""The user's model cache: downloads (streamed, resumable, verified, safely unpacked) and a registry.

Layout of the cache (``$SPEX_MODEL_DIR``, default ``~/.cache/spex/models``)::

    registry.json             name -> {"path", "source", "sha256"}
    NAME/                     an installed model folder (appears only when complete)
    .partial/NAME/FILE.part   an interrupted download, resumed by the next attempt (HTTP Range)

A download goes to ``.partial``; it is verified (sha256), unpacked when it is an archive into a
staging folder next to its destination (members that would land outside it, links and special
files are refused), then moved into place in one rename. A checksum mismatch or an unsafe
archive removes everything of that attempt; an interrupted transfer keeps only the ``.part``
file, so the next attempt resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from ...errors import BackendError, InputError

REGISTRY = "registry.json"
CHUNK = 1 << 20
RETRIES = 5
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
Progress = Callable[[int, int | None], None]


def model_cache_dir() -> Path:
    """Where models are installed: ``$SPEX_MODEL_DIR`` or ``~/.cache/spex/models``."""
    env = os.environ.get("SPEX_MODEL_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "spex" / "models"


def load_registry(cache: Path | None = None) -> dict[str, dict[str, str]]:
    """Registered models: name -> {"path", "source", "sha256"}."""
    path = (cache or model_cache_dir()) / REGISTRY
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")).get("models", {}))
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"The model registry '{path}' is unreadable ({exc}); fix or delete it."
        ) from exc


def register_model(
    name: str, folder: Path, source: str, sha256: str = "", cache: Path | None = None
) -> None:
    """Record `folder` under `name` (written atomically)."""
    cache = cache or model_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    models = load_registry(cache)
    models[name] = {"path": str(Path(folder).absolute()), "source": source, "sha256": sha256}
    fd, tmp = tempfile.mkstemp(prefix=".registry.", dir=cache)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"models": models}, handle, indent=2)
    os.replace(tmp, cache / REGISTRY)


def _check_name(name: str) -> None:
    if not name or name.startswith(".") or any(c in name for c in "/\\:") or name != name.strip():
        raise InputError(f"Model name '{name}' is not usable; use letters, digits, '-' and '_'.")


def add_model(folder: Path, name: str, cache: Path | None = None) -> Path:
    """Register a model folder downloaded by hand (checked for config and weights)."""
    _check_name(name)
    folder = Path(folder).expanduser().absolute()
    if not (folder / "config.json").is_file():
        raise InputError(
            f"'{folder}' has no config.json; give the folder that holds the model files."
        )
    if not any(
        (folder / f).is_file() for f in ("model.safetensors", "model.safetensors.index.json")
    ):
        raise InputError(
            f"'{folder}' has no model.safetensors (or index); copy the weights into it."
        )
    register_model(name, folder, "added", cache=cache)
    return folder


def resolve_model(model: str | Path | None) -> Path:
    """A model folder from ``--model``: a folder path, or a registered name."""
    if model is None or str(model).strip() == "":
        raise BackendError(
            "The spex backend needs a model: give --model DIR or a name from `spex models list` "
            "(make a test model with `spex models init --size tiny --out DIR`)."
        )
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    entry = load_registry().get(str(model))
    if entry and Path(entry["path"]).is_dir():
        return Path(entry["path"])
    raise BackendError(
        f"Model '{model}' is neither a folder nor a registered name; see `spex models list`."
    )


def _file_name(url: str) -> str:
    name = PurePosixPath(unquote(urlparse(url).path)).name
    return name or "model.safetensors"


def _is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def _received(part: Path) -> bool:
    """Whether a download's partial file holds any byte: something to resume from."""
    return part.exists() and part.stat().st_size > 0


def fetch(url: str, part: Path, progress: Progress | None = None, retries: int = RETRIES) -> None:
    """Stream `url` into `part`, resuming from its current size with HTTP Range requests."""
    import requests

    attempt = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with requests.get(url, headers=headers, stream=True, timeout=30) as response:
                if response.status_code == 416 and have:  # nothing left to fetch
                    return
                if response.status_code not in (200, 206):
                    raise BackendError(
                        f"Download of {url} failed: HTTP {response.status_code}; check the URL."
                    )
                if response.status_code == 200:
                    have = 0  # the server ignored the range: start over
                length = response.headers.get("Content-Length")
                total = have + int(length) if length is not None else None
                with open(part, "ab" if have else "wb") as handle:
                    for block in response.iter_content(CHUNK):
                        handle.write(block)
                        have += len(block)
                        if progress:
                            progress(have, total)
                if total is not None and have < total:
                    raise requests.exceptions.ChunkedEncodingError("connection closed early")
                return
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.Timeout,
        ) as exc:
            attempt += 1
            if attempt > retries:
                if not _received(part) and isinstance(exc, requests.exceptions.ConnectionError):
                    raise BackendError(  # no byte came: nothing to resume
                        f"Cannot reach {urlparse(url).netloc or url} to download {url} "
                        f"({type(exc).__name__}); check the URL and the network."
                    ) from exc
                raise BackendError(
                    f"Download of {url} was interrupted ({type(exc).__name__}); run the same "
                    "command again to resume."
                ) from exc


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def safe_extract(archive: Path, dest: Path) -> None:
    """Unpack a zip or tar archive into `dest`, refusing any member that would escape it."""
    root = dest.resolve()

    def target(name: str) -> Path:
        path = (root / name).resolve()
        if name.startswith(("/", "\\")) or (path != root and root not in path.parents):
            raise InputError(
                f"Archive '{archive.name}' has a member '{name}' outside its folder; refusing it."
            )
        return path

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                target(info.filename)
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise InputError(
                        f"Archive '{archive.name}' holds a link '{info.filename}'; refusing it."
                    )
            zf.extractall(root)
        return
    try:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for member in members:
                target(member.name)
                if not (member.isfile() or member.isdir()):
                    raise InputError(
                        f"Archive '{archive.name}' holds a link or special file '{member.name}'; refusing it."
                    )
            for member in members:
                path = target(member.name)
                if member.isdir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                with tf.extractfile(member) as src, open(path, "wb") as out:
                    shutil.copyfileobj(src, out)
    except tarfile.TarError as exc:
        raise InputError(
            f"'{archive.name}' is not a readable archive ({exc}); re-download it."
        ) from exc


def download_model(
    url: str,
    name: str,
    sha256: str | None = None,
    progress: Progress | None = None,
    cache: Path | None = None,
    retries: int = RETRIES,
) -> Path:
    """Download, verify, unpack and register a model; returns the installed folder."""
    _check_name(name)
    cache = cache or model_cache_dir()
    dest = cache / name
    if dest.exists():
        raise InputError(
            f"A model named '{name}' is already installed at '{dest}'; choose another --name."
        )
    partial = cache / ".partial" / name
    partial.mkdir(parents=True, exist_ok=True)
    file_name = _file_name(url)
    part = partial / (file_name + ".part")
    try:
        fetch(url, part, progress, retries)
    except BackendError:
        if not _received(part):  # nothing came: nothing to resume
            shutil.rmtree(partial, ignore_errors=True)
            with contextlib.suppress(OSError):
                partial.parent.rmdir()  # `.partial` itself, where no other download waits
        raise
    digest = sha256_of(part)
    if sha256 and digest.lower() != sha256.strip().lower():
        shutil.rmtree(partial, ignore_errors=True)
        raise BackendError(
            f"The download of {url} has sha256 {digest}, not the expected {sha256}; it was "
            "deleted. Check the URL and the checksum."
        )
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=cache))
    try:
        if _is_archive(file_name):
            safe_extract(part, staging)
            entries = [p for p in staging.iterdir()]
            if len(entries) == 1 and entries[0].is_dir():  # one top folder: use its content
                inner = entries[0]
                for item in list(inner.iterdir()):
                    item.rename(staging / item.name)
                inner.rmdir()
        else:
            shutil.copyfile(part, staging / file_name)
        os.replace(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(partial, ignore_errors=True)  # a bad archive is not worth resuming
        raise
    shutil.rmtree(partial, ignore_errors=True)
    register_model(name, dest, url, digest, cache=cache)
    return dest
