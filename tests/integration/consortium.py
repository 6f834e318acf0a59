"""A consortium from empty folders, each organisation on its own "host" (a folder of its own on
this machine) with only its own keys; what crosses between hosts is the public files the
commands write (orderer.json and its TLS CA, orgN.json, the genesis block, update files, the
models in the shared store). Every step is a `fedledger` command run in the host's folder with
relative paths, as a user types it (docs/multi-host.md's walk-through)."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from fedledger.cli.app import app
from fedledger.profile import ConnectionProfile

runner = CliRunner()
TASK = "consortium-task"


class CommandFailedError(AssertionError):
    def __init__(self, args: tuple[str, ...], output: str) -> None:
        super().__init__(f"`fedledger {' '.join(args)}` failed:\n{output}")
        self.output = output


@dataclass
class Hosts:
    """The five hosts' folders under `root`, the ports each organisation was given, and each
    command's wall time."""

    root: Path
    ports: dict[str, int]
    times: list[tuple[str, str, float]] = field(default_factory=list)

    def host(self, name: str) -> Path:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def run(self, host: str, *args: str) -> str:
        """`fedledger ARGS` typed in `host`'s folder; its output, or CommandFailedError."""
        started = time.monotonic()
        with contextlib.chdir(self.host(host)):
            result = runner.invoke(app, list(args))
        self.times.append((host, " ".join(args), round(time.monotonic() - started, 2)))
        if result.exit_code != 0:
            raise CommandFailedError(args, result.output + repr(result.exception or ""))
        return result.output

    def send(self, source: str, name: str, *targets: str) -> None:
        """A public file travels from one host to others (mail, a shared drive)."""
        for target in targets:
            shutil.copy(self.host(source) / name, self.host(target) / Path(name).name)

    def profile(self, host: str) -> ConnectionProfile:
        return ConnectionProfile.load(self.host(host) / "org" / "profile.yaml")


def private_keys(folder: Path) -> dict[Path, bytes]:
    """Every private key under `folder`, as the DER of its public key."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file() and b"PRIVATE KEY-----" in path.read_bytes()[:200]:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            found[path] = key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
    return found


def certificates(folder: Path, domain: str) -> dict[Path, bytes]:
    """Every PEM certificate under `folder` issued by `domain`'s own CAs (not the other
    organisations' CA certificates a folder keeps to verify them), as the DER of its public
    key."""
    issuers = {f"ca.{domain}", f"tlsca.{domain}"}
    found = {}
    for path in folder.rglob("*"):
        if path.is_file() and path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----"):
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            names = cert.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
            if names and names[0].value in issuers:
                found[path] = cert.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )
    return found


def validator_config(hosts: Hosts, host: str, msp_id: str, holdout: str) -> str:
    """The validator configuration the organisation's operator writes beside its folder
    (docs/validator-config.md), from its own profile; paths relative to the file."""
    own = hosts.profile(host).org(msp_id)
    domain = f"{host}.example.com"
    user = f"org/users/User1@{domain}"
    document: dict[str, Any] = {
        "organization": msp_id,
        "identity": f"{user}/msp",
        "gateway": {
            "endpoint": own.gateway.endpoint,
            "serverName": own.gateway.server_name,
            "tlsCaCert": f"org/tlsca/tlsca.{domain}-cert.pem",
            "tlsClient": {"cert": f"{user}/tls/client.crt", "key": f"{user}/tls/client.key"},
        },
        "tasks": {TASK: {"holdout": holdout}},
        "store": {"location": "../store"},
        "listen": {
            "address": f"127.0.0.1:{hosts.ports[host] + 4}",
            "tls": {
                "issueFrom": {
                    "caCert": f"org/tlsca/tlsca.{domain}-cert.pem",
                    "caKey": "org/tlsca/priv_sk",
                },
                "clientCaCerts": [f"org/tlsca/tlsca.{domain}-cert.pem"],
            },
        },
        "stateDir": "validator-state",
        "limits": {"maxConcurrentEvaluations": 1},
    }
    (hosts.host(host) / "validator.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return "validator.yaml"


@contextlib.contextmanager
def stopped_at_exit(hosts: Hosts) -> Iterator[None]:
    """Whatever was started is stopped by the hosts' own `stop` commands, then checked."""
    try:
        yield
    finally:
        for host in ("org1", "org2", "org3", "org4"):
            if (hosts.root / host / "org" / "org.yaml").exists():
                with contextlib.chdir(hosts.root / host):
                    runner.invoke(app, ["org", "stop"])
        if (hosts.root / "orderer" / "orderer" / "ordering.yaml").exists():
            with contextlib.chdir(hosts.root / "orderer"):
                runner.invoke(app, ["orderer", "stop"])
