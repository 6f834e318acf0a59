"""An organisation's material alone in its own folder: the record and loader both kinds share.

`fedledger org init` (orgs/standalone.py) and `fedledger orderer init` (ordering/folder.py) each
write cryptogen's layout for one organisation plus a small descriptor recording what they were
told: the MSP ID, the domain, the host names its node answers to and one port. Only the kind
differs (the descriptor's name, its port field, the command that writes it, the owning
package's error, the file that proves the material is there), and that is data: `FolderKind`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml


@dataclass(frozen=True)
class FolderKind:
    """What tells one kind of organisation folder from the other."""

    descriptor: str  # the file `init` writes in the folder, e.g. org.yaml
    port_field: str  # the descriptor's name for the port, e.g. peerPort
    noun: str  # what the folder holds, for messages: "the organisation"
    command: str  # what creates one: "fedledger org init"
    error: type[ValueError]  # the owning package's folder error
    # A file `init` writes (from the folder and the domain), whose absence means the material
    # is not, or no longer, in the folder.
    required: Callable[[Path, str], Path]


@dataclass(frozen=True)
class FolderOrg:
    """An organisation whose material lives alone in `root`; `kind` is the subclass's."""

    root: Path
    msp_id: str
    domain: str
    hosts: tuple[str, ...]
    port: int

    kind: ClassVar[FolderKind]

    def descriptor(self) -> dict[str, Any]:
        return {
            "mspId": self.msp_id,
            "domain": self.domain,
            "hosts": list(self.hosts),
            self.kind.port_field: self.port,
        }


Org = TypeVar("Org", bound=FolderOrg)


def claim_folder(root: Path, kind: FolderKind) -> None:
    """Create `root` (mode 0700) for new material; raises `kind.error` when it holds anything
    already, since its keys may be in use: nothing is overwritten."""
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise kind.error(
            f"{root} already exists and is not an empty folder: choose another --dir "
            "(an organisation's keys are never overwritten)"
        )
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)


def write_descriptor(org: FolderOrg) -> None:
    """Record what `init` was told beside the material. Raises OSError when it cannot write."""
    (org.root / org.kind.descriptor).write_text(yaml.safe_dump(org.descriptor(), sort_keys=False))


def load_folder(record: type[Org], root: Path) -> Org:
    """The organisation of type `record` that `init` wrote in `root`; raises the kind's error
    (OrgFolderError, OrdererFolderError) naming what is missing or wrong."""
    kind = record.kind
    path = root / kind.descriptor
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise kind.error(
            f"no {kind.descriptor} in {root}: create {kind.noun} with `{kind.command}` "
            "or name its folder with --dir"
        ) from None
    except (OSError, yaml.YAMLError) as error:
        raise kind.error(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict):
        raise kind.error(f"{path} must be a mapping (mspId, domain, hosts, {kind.port_field})")
    org = record(root.resolve(), *_fields(document, path, kind))
    required = kind.required(org.root, org.domain)
    if not required.is_file():
        raise kind.error(f"{root} lacks {required.relative_to(org.root)}")
    return org


def _fields(
    document: dict[str, Any], path: Path, kind: FolderKind
) -> tuple[str, str, tuple[str, ...], int]:
    """The descriptor's mspId, domain, hosts and port; raises `kind.error` naming the field."""

    def field(name: str) -> Any:
        if document.get(name) in (None, "", []):
            raise kind.error(f"{path}: field '{name}' is missing")
        return document[name]

    hosts = field("hosts")
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        raise kind.error(f"{path}: field 'hosts' must be a list of host names, not {hosts!r}")
    port = field(kind.port_field)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise kind.error(
            f"{path}: field '{kind.port_field}' must be a port number (1-65535), not {port!r}"
        )
    return str(field("mspId")), str(field("domain")), tuple(hosts), port
