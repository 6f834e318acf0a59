"""A real `fabric-ca-server` for tests, found in the Fabric installation's bin/ as the other
Fabric binaries are; started with TLS in a temporary folder on free ports, stopped by its pid."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from fedledger.ca import CaError, FabricCaClient
from fedledger.installation import InstallationError, find_installation
from fedledger.runtime.ports import free_port_base

BOOTSTRAP = ("admin", "adminpw")
HOW_TO_BUILD = (
    "build Fabric CA v1.5 from its source repository and put fabric-ca-server in the "
    "installation's bin/ (docs/identities.md, 'Testing against a real CA')"
)


def ca_server_binary() -> tuple[Path | None, str]:
    """The fabric-ca-server of the Fabric installation, or None and why not."""
    try:
        installation = find_installation()
    except InstallationError as error:
        return None, f"needs fabric-ca-server, and no Fabric installation was found ({error})"
    binary = installation.binary("fabric-ca-server")
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return None, f"needs fabric-ca-server in {binary.parent}: {HOW_TO_BUILD}"
    return binary, ""


@dataclass
class CaServer:
    process: subprocess.Popen[bytes]
    home: Path
    url: str

    @property
    def tls_cert(self) -> Path:
        return self.home / "tls-cert.pem"

    def client(self) -> FabricCaClient:
        return FabricCaClient(self.url, self.tls_cert)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_ca_server(
    binary: Path,
    home: Path,
    signing: tuple[Path, Path] | None = None,
    extra: tuple[str, ...] = (),
) -> CaServer:
    """A started server with the bootstrap identity admin:adminpw; `signing` (certificate,
    key) makes it issue under an existing CA instead of a root of its own; `extra` are more
    options of `fabric-ca-server start`."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port_base(span=2)
    command = [str(binary), "start", "-b", ":".join(BOOTSTRAP), "--tls.enabled"]
    command += ["--port", str(port), "--home", str(home)]
    command += ["--operations.listenaddress", f"127.0.0.1:{port + 1}"]
    if signing is not None:
        command += ["--ca.certfile", str(signing[0]), "--ca.keyfile", str(signing[1])]
    command += extra
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = CaServer(process, home, f"https://localhost:{port}")
    try:
        _wait_until_serving(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_serving(server: CaServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            log = (server.home / "server.log").read_text()[-2000:]
            raise RuntimeError(f"fabric-ca-server exited {server.process.returncode}:\n{log}")
        if server.tls_cert.exists():
            client = server.client()
            try:
                client.cainfo()
            except CaError:
                pass
            else:
                return
            finally:
                client.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"fabric-ca-server at {server.url} did not answer in {timeout} s")
        time.sleep(0.2)
