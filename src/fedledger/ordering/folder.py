"""The ordering organisation's material alone in its own folder (`fedledger orderer init`).

The folder is the organisation's root in cryptogen's layout (ca/, tlsca/, msp/, orderers/,
users/) plus `ordering.yaml`, recording what `orderer init` was told. Its orderer's ports are
the one given (clients and Raft) and the two after it (admin, operations).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from fedledger.ordering.errors import OrdererFolderError
from fedledger.orgs.errors import OrgFolderError
from fedledger.orgs.folder import FolderKind, FolderOrg, claim_folder, load_folder, write_descriptor
from fedledger.orgs.layout import NodeLayout, OrdererOrgLayout
from fedledger.orgs.material import write_orderer_org
from fedledger.orgs.standalone import check_host, check_identity
from fedledger.runtime.definition import OrdererPorts

DESCRIPTOR = "ordering.yaml"
DEFAULT_ORDERER_PORT = 7050


ORDERING_FOLDER = FolderKind(
    descriptor=DESCRIPTOR,
    port_field="port",
    noun="the ordering organisation",
    command="fedledger orderer init",
    error=OrdererFolderError,
    required=lambda root, domain: OrdererOrgLayout(root, domain).orderer(0).tls_cert("server"),
)


@dataclass(frozen=True)
class OrderingOrg(FolderOrg):
    """An ordering organisation whose material lives alone in `root`, with one orderer."""

    kind: ClassVar[FolderKind] = ORDERING_FOLDER

    @property
    def layout(self) -> OrdererOrgLayout:
        return OrdererOrgLayout(self.root, self.domain)

    @property
    def orderer(self) -> NodeLayout:
        return self.layout.orderer(0)

    @property
    def ports(self) -> OrdererPorts:
        return OrdererPorts(listen=self.port, admin=self.port + 1, operations=self.port + 2)

    @property
    def endpoint(self) -> tuple[str, int]:
        """Where peers, clients and other orderers reach it: the first host given."""
        return self.hosts[0], self.port


def init_orderer(
    root: Path, msp_id: str, domain: str, hosts: list[str], port: int = DEFAULT_ORDERER_PORT,
    now: dt.datetime | None = None,
) -> OrderingOrg:  # fmt: skip
    """Create the ordering organisation's CAs, orderer0 and Admin in `root`; orderer0's TLS
    certificate names `hosts` too. Raises OrdererFolderError for a wrong argument or a folder
    that is not empty (nothing is overwritten)."""
    try:
        check_identity(msp_id, domain, port)
        checked = tuple(dict.fromkeys(check_host(h) for h in hosts))
    except OrgFolderError as error:
        raise OrdererFolderError(str(error)) from None
    if not checked:
        raise OrdererFolderError("give at least one --host: the orderer host's name or address")
    if not 0 < port < 65534:
        raise OrdererFolderError(f"--port {port}: the orderer uses it and the two after it")
    claim_folder(root, ORDERING_FOLDER)
    org = OrderingOrg(root.resolve(), msp_id, domain, checked, port)
    write_orderer_org(org.layout, now or dt.datetime.now(dt.UTC), hosts=checked)
    write_descriptor(org)
    return org


def load_orderer(root: Path) -> OrderingOrg:
    """The ordering organisation `orderer init` wrote in `root`; raises OrdererFolderError
    naming what is missing or wrong."""
    return load_folder(OrderingOrg, root)
