"""Chaincode packages in Fabric's lifecycle format.

A package is a tar.gz holding `metadata.json` (type and label) and `code.tar.gz`. Two types:

- `ccaas`: the chaincode runs as a service; `code.tar.gz` holds only `connection.json`. On
  fedledger's own peers its address is a template (`{{.ccport}}`) that each peer fills from its
  own CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG, so one package serves every organisation; on other
  networks each organisation packages the address of its own service (the package ids differ,
  the definition's version, the label, does not).
- `node`: an ordinary Node chaincode that peers build themselves (Docker-based peers, AWS Managed
  Blockchain): `code.tar.gz` holds the project under `src/`.

The label carries a digest of the built chaincode, so a changed chaincode gets a new package id
and redeploying it bumps the definition's sequence.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

from fedledger.network.errors import NetworkError

# Files that decide what runs; node_modules follows from the lock file.
_SOURCE_PATTERNS = ("package.json", "package-lock.json", "dist/**/*.js")
_NODE_PACKAGE_EXCLUDES = {"node_modules", "coverage", ".nyc_output", "test", "src"}


class PackagingError(NetworkError):
    """The chaincode cannot be packaged: not built, or not a Node chaincode project."""


@dataclass(frozen=True)
class ChaincodePackage:
    path: Path
    label: str

    @property
    def package_id(self) -> str:
        """Fabric's package id: the label and the SHA-256 of the package file."""
        return f"{self.label}:{hashlib.sha256(self.path.read_bytes()).hexdigest()}"


def tar_bytes(files: dict[str, bytes]) -> bytes:
    """A gzip'd tar with fixed metadata, so equal content gives an equal package id; raises
    nothing of its own."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(files[name]))
    # gzip stores a timestamp in its header; zero it for reproducible packages.
    data = bytearray(buffer.getvalue())
    data[4:8] = b"\0\0\0\0"
    return bytes(data)


def source_digest(source: Path) -> str:
    """A digest of the chaincode's built sources, which names a package; raises PackagingError when
    the chaincode is not built.
    """
    if not (source / "dist").is_dir():
        raise PackagingError(
            f"the chaincode in {source} is not built: run `npm ci && npm run build` there "
            "(or `make setup`)"
        )
    digest = hashlib.sha256()
    for pattern in _SOURCE_PATTERNS:
        for path in sorted(source.glob(pattern)):
            digest.update(str(path.relative_to(source)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def chaincode_version(source: Path) -> str:
    """The chaincode's version from its package.json; raises PackagingError when it has none."""
    try:
        return str(json.loads((source / "package.json").read_text())["version"])
    except (OSError, KeyError, ValueError) as error:
        raise PackagingError(f"{source}/package.json has no version: {error}") from error


PEER_FILLED_ADDRESS = "127.0.0.1:{{.ccport}}"


def package_label(source: Path, name: str) -> str:
    """The build's label: chaincode name, version and a digest of the built sources; raises
    PackagingError when `source` is not a built Node chaincode project."""
    return f"{name}_{chaincode_version(source)}_{source_digest(source)[:12]}"


def package_ccaas(
    source: Path, name: str, out_dir: Path, address: str = PEER_FILLED_ADDRESS
) -> ChaincodePackage:
    """A chaincode-as-a-service package of the project in `source`, written to `out_dir`, whose
    peer dials the service at `address` (by default the address fedledger's peers fill in).

    Raises PackagingError when `source` is not a built Node chaincode project.
    """
    label = package_label(source, name)
    connection = {
        "address": address,
        "dial_timeout": "10s",
        "tls_required": False,
    }
    code = tar_bytes({"connection.json": json.dumps(connection, indent=2).encode()})
    return write_package(out_dir, label, "ccaas", code)


def package_node(source: Path, name: str, out_dir: Path) -> ChaincodePackage:
    """The built project (package.json, lock file, dist/) under `src/`, as `peer` packages it.

    The peer's Node builder runs `npm install --production` from the lock file; bundle
    node_modules yourself where peers have no registry access (AWS Managed Blockchain).
    Raises PackagingError when `source` is not a built Node chaincode project.
    """
    label = package_label(source, name)
    files: dict[str, bytes] = {}
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and relative.parts[0] not in _NODE_PACKAGE_EXCLUDES:
            files[f"src/{relative.as_posix()}"] = path.read_bytes()
    return write_package(out_dir, label, "node", tar_bytes(files))


def write_package(out_dir: Path, label: str, kind: str, code: bytes) -> ChaincodePackage:
    """Writes the lifecycle package (metadata.json and code.tar.gz) into `out_dir`; raises
    OSError when the folder cannot be written."""
    metadata = {"type": kind, "label": label}
    if kind == "node":
        metadata["path"] = ""
    package = tar_bytes({"metadata.json": json.dumps(metadata).encode(), "code.tar.gz": code})
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{label}.{kind}.tar.gz"
    path.write_bytes(package)
    return ChaincodePackage(path, label)
