"""Finding a Fabric installation, and installing one from a release archive over HTTP."""

from __future__ import annotations

import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedledger.installation import InstallationError, find_installation, install_release
from fedledger.installation.discover import CCAAS_BUILDER, REQUIRED_BINARIES, REQUIRED_CONFIG

VERSION = "2.5.16"


def fake_peer(version: str) -> bytes:
    return f"#!/bin/sh\necho 'peer:'\necho ' Version: v{version}'\n".encode()


def release_files(version: str = VERSION, skip: str | None = None) -> dict[str, tuple[bytes, int]]:
    files: dict[str, tuple[bytes, int]] = {}
    for name in REQUIRED_BINARIES:
        files[f"bin/{name}"] = (b"#!/bin/sh\nexit 0\n", 0o755)
    files["bin/peer"] = (fake_peer(version), 0o755)
    for name in REQUIRED_CONFIG:
        files[f"config/{name}"] = (b"# sample\n", 0o644)
    for name in CCAAS_BUILDER:
        files[f"builders/ccaas/bin/{name}"] = (b"#!/bin/sh\nexit 0\n", 0o755)
    if skip:
        files.pop(skip)
    return files


def write_tree(root: Path, files: dict[str, tuple[bytes, int]]) -> Path:
    for name, (data, mode) in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)
    return root


def archive(files: dict[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home"), "PATH": str(tmp_path / "nobin"), **extra}


# ---- discovery -----------------------------------------------------------------------------


def test_fabric_home_wins(tmp_path: Path) -> None:
    home = write_tree(tmp_path / "fabric", release_files())
    found = find_installation(VERSION, env_for(tmp_path, FABRIC_HOME=str(home)))
    assert found.root == home
    assert found.found_via == "FABRIC_HOME"
    assert found.binary("osnadmin") == home / "bin" / "osnadmin"


def test_cache_folder_is_found(tmp_path: Path) -> None:
    cache = tmp_path / "home" / ".cache" / "fedledger" / "fabric" / VERSION
    write_tree(cache, release_files())
    assert find_installation(VERSION, env_for(tmp_path)).found_via == "the fedledger cache"


def test_peer_on_path_is_found(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "opt" / "fabric", release_files())
    found = find_installation(VERSION, env_for(tmp_path, PATH=str(root / "bin")))
    assert (found.root, found.found_via) == (root, "PATH")


def test_nothing_found_says_where_it_looked_and_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(InstallationError) as raised:
        find_installation(VERSION, env_for(tmp_path))
    message = str(raised.value)
    assert f"no Fabric {VERSION} installation found" in message
    assert str(tmp_path / "home" / ".cache" / "fedledger" / "fabric" / VERSION) in message
    assert "fedledger network install" in message
    assert "FABRIC_HOME" in message


def test_incomplete_installation_names_every_missing_part(tmp_path: Path) -> None:
    files = release_files(skip="bin/osnadmin")
    files.pop("builders/ccaas/bin/release")
    home = write_tree(tmp_path / "fabric", files)
    with pytest.raises(
        InstallationError, match=r"missing bin/osnadmin, builders/ccaas/bin/release"
    ):
        find_installation(VERSION, env_for(tmp_path, FABRIC_HOME=str(home)))


def test_non_executable_binary_counts_as_missing(tmp_path: Path) -> None:
    home = write_tree(tmp_path / "fabric", release_files())
    (home / "bin" / "orderer").chmod(0o644)
    with pytest.raises(InstallationError, match="missing bin/orderer"):
        find_installation(VERSION, env_for(tmp_path, FABRIC_HOME=str(home)))


def test_wrong_version_is_refused_naming_both(tmp_path: Path) -> None:
    home = write_tree(tmp_path / "fabric", release_files("2.4.9"))
    with pytest.raises(InstallationError, match=r"is version 2\.4\.9, fedledger needs 2\.5\.16"):
        find_installation(VERSION, env_for(tmp_path, FABRIC_HOME=str(home)))


# ---- install over HTTP ---------------------------------------------------------------------


class _Server:
    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.truncate: dict[str, int] = {}
        routes, truncate = self.routes, self.truncate

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: truncate.get(self.path, len(body))])

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server()
    yield running
    running.httpd.shutdown()


def test_install_unpacks_and_checks_a_good_archive(server: _Server, tmp_path: Path) -> None:
    server.routes["/fabric.tar.gz"] = archive(release_files())
    seen: list[int] = []
    target = tmp_path / "cache" / VERSION
    installed = install_release(
        VERSION,
        url=server.url("/fabric.tar.gz"),
        destination=target,
        progress=lambda done, total: seen.append(done),
    )
    assert installed.root == target
    assert (target / "bin" / "peer").is_file()
    assert seen[-1] == len(server.routes["/fabric.tar.gz"])
    assert [p.name for p in target.parent.iterdir()] == [VERSION]


def test_truncated_download_leaves_nothing(server: _Server, tmp_path: Path) -> None:
    body = archive(release_files())
    server.routes["/fabric.tar.gz"] = body
    server.truncate["/fabric.tar.gz"] = len(body) // 2
    target = tmp_path / "cache" / VERSION
    with pytest.raises(InstallationError, match=r"failed: .*nothing was installed"):
        install_release(VERSION, url=server.url("/fabric.tar.gz"), destination=target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_garbage_archive_leaves_nothing(server: _Server, tmp_path: Path) -> None:
    server.routes["/fabric.tar.gz"] = b"not a tarball" * 100
    target = tmp_path / "cache" / VERSION
    with pytest.raises(InstallationError, match="truncated or not a Fabric release archive"):
        install_release(VERSION, url=server.url("/fabric.tar.gz"), destination=target)
    assert list(target.parent.iterdir()) == []


def test_archive_of_another_version_is_refused(server: _Server, tmp_path: Path) -> None:
    server.routes["/fabric.tar.gz"] = archive(release_files("2.5.15"))
    target = tmp_path / "cache" / VERSION
    with pytest.raises(InstallationError, match=r"is version 2\.5\.15, fedledger needs 2\.5\.16"):
        install_release(VERSION, url=server.url("/fabric.tar.gz"), destination=target)
    assert not target.exists()


def test_missing_release_is_an_http_error_with_advice(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(InstallationError, match=r"HTTP 404.*--url"):
        install_release(VERSION, url=server.url("/nope.tar.gz"), destination=tmp_path / "x")


def test_existing_installation_is_not_overwritten(server: _Server, tmp_path: Path) -> None:
    target = write_tree(tmp_path / VERSION, release_files())
    with pytest.raises(InstallationError, match="already exists"):
        install_release(VERSION, url=server.url("/fabric.tar.gz"), destination=target)
