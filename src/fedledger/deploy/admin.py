"""Fabric's own `peer` command, run as one organisation's admin against one of its peers.

The lifecycle is administration, and Fabric's `peer lifecycle chaincode` commands are how its
operators do it on any network (2.2 peers included); fedledger drives them rather than
re-implementing the lifecycle's private-data writes. Only the organisation's own admin MSP
folder is used; other organisations are only addresses and TLS CA certificates.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fedledger.deploy.errors import PeerCommandError


@dataclass(frozen=True)
class Endpoint:
    """A TLS endpoint: `address` (host:port), the CA that signed its server certificate, and the
    name in that certificate when the address does not carry it."""

    address: str
    tls_ca_cert: Path
    server_name: str | None = None


@dataclass(frozen=True)
class PeerAdmin:
    """`peer_binary` run as `msp_id`'s admin (`admin_msp`) against `peer`, ordering via `orderer`.

    `config_dir` holds the core.yaml the command reads (the installation's `config/`).
    """

    peer_binary: Path
    config_dir: Path
    msp_id: str
    admin_msp: Path
    peer: Endpoint
    orderer: Endpoint | None = None
    timeout: float = 120.0

    def environment(self, *, several_peers: bool = False) -> dict[str, str]:
        """The `peer` command's environment. Its TLS host name override applies to every peer it
        dials, so it is set only for commands that talk to this organisation's peer alone."""
        env = {
            "FABRIC_CFG_PATH": str(self.config_dir),
            "CORE_PEER_LOCALMSPID": self.msp_id,
            "CORE_PEER_MSPCONFIGPATH": str(self.admin_msp),
            "CORE_PEER_ADDRESS": self.peer.address,
            "CORE_PEER_TLS_ENABLED": "true",
            "CORE_PEER_TLS_ROOTCERT_FILE": str(self.peer.tls_ca_cert),
            "FABRIC_LOGGING_SPEC": "WARNING",
        }
        if self.peer.server_name and not several_peers:
            env["CORE_PEER_TLS_SERVERHOSTOVERRIDE"] = self.peer.server_name
        return env

    def orderer_args(self) -> list[str]:
        """The ordering options of a lifecycle transaction; raises PeerCommandError when no
        orderer is known."""
        if self.orderer is None:
            raise PeerCommandError(
                "no orderer to send the transaction to: add `orderers:` to the connection "
                "profile or pass --orderer and --orderer-tls-ca"
            )
        args = ["-o", self.orderer.address, "--tls", "--cafile", str(self.orderer.tls_ca_cert)]
        if self.orderer.server_name:
            args += ["--ordererTLSHostnameOverride", self.orderer.server_name]
        return args

    def start(self, *args: str, several_peers: bool = False) -> subprocess.Popen[str]:
        """Start `peer ARGS` without waiting (finish it with `finish`)."""
        return subprocess.Popen(
            [str(self.peer_binary), *args],
            env={**os.environ, **self.environment(several_peers=several_peers)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(
        self, step: str, *args: str, check: bool = True, several_peers: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run `peer ARGS`; raises PeerCommandError naming `step` and the peer's answer when it
        fails and `check` is set."""
        process = self.start(*args, several_peers=several_peers)
        return finish(process, step, self.timeout, check=check)


def finish(
    process: subprocess.Popen[str], step: str, timeout: float, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Wait for a started `peer` command; raises PeerCommandError naming `step` when it fails
    (and `check` is set) or does not finish within `timeout` seconds."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise PeerCommandError(f"{step}: `peer` did not finish within {timeout:.0f} s") from None
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        raise PeerCommandError(f"{step} failed (exit {result.returncode}): {_said(result)}")
    return result


def _said(result: subprocess.CompletedProcess[str]) -> str:
    """What the peer said: its `Error:` lines, without the usage text it prints after them."""
    text = (result.stderr or result.stdout).strip()
    errors = [line for line in text.splitlines() if line.startswith("Error:")]
    return " ".join(errors)[:800] if errors else text[-800:]
