"""Model downloads against a local HTTP server: resume, checksum, unsafe archives, registry."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("requests")

from spex.engine.backends.spex.download import (  # noqa: E402
    download_model,
    load_registry,
    resolve_model,
)
from spex.engine.cli import main  # noqa: E402
from spex.engine.errors import BackendError, InputError  # noqa: E402


class _Server:
    """Serves `files`; a path in `cut` sends only half its body once, then closes."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: set[str] = set()
        self.ranges: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                header = self.headers.get("Range")
                if header:
                    server.ranges.append(header)
                    start = int(header.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if self.path in server.cut:
                    server.cut.discard(self.path)
                    self.wfile.write(body[start : start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    s = _Server()
    yield s
    s.close()


def _payload(n: int = 300_000) -> bytes:
    return bytes((i * 7919) % 251 for i in range(n))


def _leftovers(cache: Path) -> list[str]:
    """Anything but the registry: half-done downloads, staging folders, installed models."""
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.name != "registry.json")


def test_interrupted_transfer_resumes_and_verifies(server: _Server, tmp_path: Path) -> None:
    data = _payload()
    server.files["/w/model.safetensors"] = data
    server.cut.add("/w/model.safetensors")
    digest = hashlib.sha256(data).hexdigest()
    folder = download_model(server.url("/w/model.safetensors"), "m1", digest, cache=tmp_path)
    assert (folder / "model.safetensors").read_bytes() == data
    assert server.ranges and server.ranges[0].startswith("bytes=1")  # resumed mid-file
    assert not (tmp_path / ".partial" / "m1").exists()
    assert load_registry(tmp_path)["m1"]["sha256"] == digest


def test_failed_attempt_keeps_only_the_part_and_next_attempt_resumes(
    server: _Server, tmp_path: Path
) -> None:
    data = _payload()
    server.files["/model.safetensors"] = data
    server.cut.add("/model.safetensors")
    with pytest.raises(BackendError, match="resume"):
        download_model(server.url("/model.safetensors"), "m2", cache=tmp_path, retries=0)
    assert not (tmp_path / "m2").exists()
    part = tmp_path / ".partial" / "m2" / "model.safetensors.part"
    assert 0 < part.stat().st_size < len(data)
    folder = download_model(server.url("/model.safetensors"), "m2", cache=tmp_path)
    assert (folder / "model.safetensors").read_bytes() == data
    assert server.ranges == [f"bytes={len(data) // 2}-"]


def test_a_server_that_cannot_be_reached_is_said_so(tmp_path: Path) -> None:
    """No byte came (a refused connection: a closed port here, a wrong host or no network for
    an analyst): the refusal says the server cannot be reached, not that a transfer that never
    began can be resumed; nothing is left behind."""
    import socket

    with socket.socket() as probe:  # a free port, closed again: connections to it are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/model.safetensors"
    with pytest.raises(BackendError) as refused:
        download_model(url, "m9", cache=tmp_path, retries=0)
    assert str(refused.value).startswith(f"Cannot reach 127.0.0.1:{port} to download {url}")
    assert "check the URL and the network" in str(refused.value)
    assert not (tmp_path / "m9").exists() and _leftovers(tmp_path) == []


def test_checksum_mismatch_leaves_nothing(server: _Server, tmp_path: Path) -> None:
    server.files["/model.safetensors"] = _payload(1000)
    with pytest.raises(BackendError, match="sha256"):
        download_model(server.url("/model.safetensors"), "bad", "0" * 64, cache=tmp_path)
    assert _leftovers(tmp_path) in ([], [".partial"])
    assert "bad" not in load_registry(tmp_path)


def _tar(members: dict[str, bytes], link: tuple[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
        if link:
            info = tarfile.TarInfo(link[0])
            info.type, info.linkname = tarfile.SYMTYPE, link[1]
            tf.addfile(info)
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buffer.getvalue()


def test_archive_is_unpacked_into_the_model_folder(server: _Server, tmp_path: Path) -> None:
    server.files["/spex.tar.gz"] = _tar({"spex/config.json": b"{}", "spex/model.safetensors": b"w"})
    server.files["/spex.zip"] = _zip({"config.json": b"{}", "model.safetensors": b"z"})
    folder = download_model(server.url("/spex.tar.gz"), "from-tar", cache=tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    folder = download_model(server.url("/spex.zip"), "from-zip", cache=tmp_path)
    assert (folder / "model.safetensors").read_bytes() == b"z"


@pytest.mark.parametrize(
    "archive",
    [
        ("/evil.tar.gz", _tar({"ok/config.json": b"{}", "../../escaped.txt": b"x"})),
        ("/evil.zip", _zip({"config.json": b"{}", "../escaped.txt": b"x"})),
        ("/abs.tar.gz", _tar({"/tmp/escaped.txt": b"x"})),
        ("/link.tar.gz", _tar({"config.json": b"{}"}, link=("weights", "/etc/passwd"))),
    ],
)
def test_archive_escaping_its_folder_is_refused(server: _Server, tmp_path: Path, archive) -> None:
    path, body = archive
    server.files[path] = body
    cache = tmp_path / "cache"
    with pytest.raises(InputError, match="refusing"):
        download_model(server.url(path), "evil", cache=cache)
    assert _leftovers(cache) in ([], [".partial"])
    assert not (tmp_path / "escaped.txt").exists() and not (cache.parent / "escaped.txt").exists()


def test_models_add_list_and_resolve(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SPEX_MODEL_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "by-hand"
    folder.mkdir()
    assert main(["models", "add", str(folder), "--name", "x"]) == 2  # no config.json yet
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"")
    assert main(["models", "add", str(folder), "--name", "chesapeake"]) == 0
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "chesapeake" in out and str(folder) in out
    assert resolve_model("chesapeake") == folder
    with pytest.raises(BackendError, match="models list"):
        resolve_model("nope")
