"""One organisation's material alone in its own folder (`fedledger org init`).

The folder is the organisation's root in cryptogen's layout (ca/, tlsca/, msp/, peers/, users/)
plus `org.yaml`, which records what `org init` was told: the MSP ID, the domain, the host names
its peer answers to and the peer's port. Nothing here reads or writes another organisation's
material; private keys are written with mode 0600 and never copied out of the folder.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from fedledger.orgs.errors import OrgFolderError
from fedledger.orgs.folder import FolderKind, FolderOrg, claim_folder, load_folder, write_descriptor
from fedledger.orgs.layout import OrgLayout
from fedledger.orgs.material import write_member_org

DESCRIPTOR = "org.yaml"
DEFAULT_PEER_PORT = 7051
_MSP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


ORG_FOLDER = FolderKind(
    descriptor=DESCRIPTOR,
    port_field="peerPort",
    noun="the organisation",
    command="fedledger org init",
    error=OrgFolderError,
    required=lambda root, domain: OrgLayout(root, domain).ca_cert,
)


@dataclass(frozen=True)
class StandaloneOrg(FolderOrg):
    """An organisation whose material lives alone in `root`; `port` is its peer's."""

    kind: ClassVar[FolderKind] = ORG_FOLDER

    @property
    def peer_port(self) -> int:
        return self.port

    @property
    def layout(self) -> OrgLayout:
        return OrgLayout(self.root, self.domain)

    @property
    def anchor_peer(self) -> tuple[str, int]:
        """The peer other organisations' peers reach: the first host given, the peer's port."""
        return self.hosts[0], self.peer_port


def check_host(host: str) -> str:
    """`host` if it is an IP address or a DNS name; raises OrgFolderError otherwise."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_NAME.match(host):
            raise OrgFolderError(
                f"--host {host!r} is neither an IP address nor a DNS name "
                "(letters, digits, '-' and '.')"
            ) from None
    return host


def check_identity(msp_id: str, domain: str, peer_port: int) -> None:
    """Raises OrgFolderError naming the option that is wrong."""
    if not _MSP_ID.match(msp_id):
        raise OrgFolderError(
            f"--msp-id {msp_id!r} must be letters, digits, '.', '_' or '-', e.g. Org4MSP"
        )
    if not _HOST_NAME.match(domain) or "." not in domain:
        raise OrgFolderError(f"--domain {domain!r} must be a DNS domain, e.g. org4.example.com")
    if not 0 < peer_port < 65536:
        raise OrgFolderError(f"--port {peer_port} must be a TCP port, 1 to 65535")


def init_org(
    root: Path,
    msp_id: str,
    domain: str,
    hosts: list[str],
    peer_port: int = DEFAULT_PEER_PORT,
    now: dt.datetime | None = None,
) -> StandaloneOrg:
    """Create the organisation's CAs, peer0, Admin and User1 in `root`, whose TLS certificates
    name `hosts` too. Raises OrgFolderError for a wrong argument or a folder that is not empty
    (its keys may be in use: nothing is overwritten)."""
    check_identity(msp_id, domain, peer_port)
    if not hosts:
        raise OrgFolderError("give at least one --host: the name or IP address of the peer's host")
    checked = tuple(dict.fromkeys(check_host(h) for h in hosts))
    claim_folder(root, ORG_FOLDER)
    org = StandaloneOrg(root.resolve(), msp_id, domain, checked, peer_port)
    write_member_org(org.layout, 1, now or dt.datetime.now(dt.UTC), hosts=checked)
    write_descriptor(org)
    return org


def load_org(root: Path) -> StandaloneOrg:
    """The organisation `org init` wrote in `root`; raises OrgFolderError naming what is missing
    or wrong."""
    return load_folder(StandaloneOrg, root)
