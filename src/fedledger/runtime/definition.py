"""The declarative network definition (network/fedledger.yaml) and the ports it implies."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from fedledger.installation.discover import FABRIC_VERSION
from fedledger.orgs import MemberOrg, OrdererOrg
from fedledger.paths import read_path
from fedledger.runtime.errors import RuntimeLayerError

DEFAULT_DEFINITION = Path(__file__).resolve().parents[3] / "network" / "fedledger.yaml"

# Every node gets a block of ports at a fixed offset from the base, so a node's ports can be
# told from its name and two networks with different bases never collide.
ORDERER_BLOCK = 10  # orderer i: base + 10*i + {0 listen, 1 admin, 2 operations}
PEER_BASE = 100
PEER_BLOCK = 10  # peer of org k (0-based): base + 100 + 10*k + {0 listen, 1 chaincode,
#                  2 operations, 3 chaincode server, 4 validator}
MAX_ORGS = 10  # the peers' blocks then end at offset 200, the span free_port_base finds
MAX_ORDERERS = 9


class DefinitionError(RuntimeLayerError, ValueError):
    """The network definition is missing a field or holds an unusable value."""


@dataclass(frozen=True)
class OrdererPorts:
    listen: int
    admin: int
    operations: int


@dataclass(frozen=True)
class PeerPorts:
    listen: int
    chaincode: int
    operations: int
    chaincode_server: int
    validator: int


def parse_duration(text: str, field: str) -> float:
    """'500ms', '2s', '1m' → seconds.

    Raises DefinitionError, naming `field`, when `text` is not such a duration.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*", str(text))
    if not match:
        raise DefinitionError(f"{field}: {text!r} is not a duration like 500ms, 2s or 1m")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]


@dataclass(frozen=True)
class NetworkDefinition:
    name: str
    channel: str
    chaincode_name: str
    chaincode_source: Path
    ordering: OrdererOrg
    batch_timeout: float  # seconds
    max_message_count: int
    members: tuple[MemberOrg, ...]
    port_base: int
    # The Fabric release the native network runs: 2.2 (AWS Managed Blockchain's line) orders
    # through a system channel (docs/fabric-2.2.md).
    fabric_version: str = FABRIC_VERSION

    @classmethod
    def load(cls, path: Path = DEFAULT_DEFINITION) -> NetworkDefinition:
        """The definition in `path` (default: the bundled one), checked.

        Raises DefinitionError when the file is missing, lacks a field or holds an unusable value.
        """
        try:
            document = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise DefinitionError(f"no network definition at {path}") from None
        return cls.from_dict(document, base=path.parent)

    @classmethod
    def from_dict(cls, document: dict[str, Any], base: Path) -> NetworkDefinition:
        """Raises DefinitionError, naming the field, when `document` lacks one or holds an
        unusable value."""

        def get(mapping: dict[str, Any], key: str, where: str) -> Any:
            if not isinstance(mapping, dict) or key not in mapping:
                raise DefinitionError(f"{where}.{key} is missing")
            return mapping[key]

        chaincode = get(document, "chaincode", "network")
        ordering = get(document, "ordering", "network")
        organizations = get(document, "organizations", "network")
        source = read_path(str(get(chaincode, "source", "chaincode")), base)
        definition = cls(
            name=str(get(document, "name", "network")),
            channel=str(get(document, "channel", "network")),
            chaincode_name=str(get(chaincode, "name", "chaincode")),
            chaincode_source=source,
            ordering=OrdererOrg(
                name=str(get(ordering, "name", "ordering")),
                msp_id=str(get(ordering, "mspId", "ordering")),
                domain=str(get(ordering, "domain", "ordering")),
                orderers=int(get(ordering, "orderers", "ordering")),
            ),
            batch_timeout=parse_duration(
                get(ordering, "batchTimeout", "ordering"), "ordering.batchTimeout"
            ),
            max_message_count=int(get(ordering, "maxMessageCount", "ordering")),
            members=member_orgs(
                int(get(organizations, "count", "organizations")),
                int(organizations.get("peersPerOrg", 1)),
            ),
            port_base=int(get(get(document, "ports", "network"), "base", "ports")),
            fabric_version=str(document.get("fabricVersion", FABRIC_VERSION)),
        )
        definition.check()
        return definition

    def with_overrides(
        self,
        *,
        orgs: int | None = None,
        orderers: int | None = None,
        port_base: int | None = None,
        batch_timeout: float | None = None,
        fabric_version: str | None = None,
    ) -> NetworkDefinition:
        """This definition with the given values in place of its own.

        Raises DefinitionError when the result is not a usable network (e.g. 12 organisations).
        """
        changed = self
        if orgs is not None:
            changed = replace(changed, members=member_orgs(orgs, self.members[0].peers))
        if orderers is not None:
            changed = replace(changed, ordering=replace(self.ordering, orderers=orderers))
        if port_base is not None:
            changed = replace(changed, port_base=port_base)
        if batch_timeout is not None:
            changed = replace(changed, batch_timeout=batch_timeout)
        if fabric_version is not None:
            changed = replace(changed, fabric_version=fabric_version)
        changed.check()
        return changed

    def check(self) -> None:
        """Raises DefinitionError, naming the field, for the first value out of range."""
        if not 1 <= len(self.members) <= MAX_ORGS:
            raise DefinitionError(
                f"organizations.count is {len(self.members)}: use 1 to {MAX_ORGS}"
            )
        if not 1 <= self.ordering.orderers <= MAX_ORDERERS:
            raise DefinitionError(
                f"ordering.orderers is {self.ordering.orderers}: use 1 to {MAX_ORDERERS}"
            )
        if any(m.peers != 1 for m in self.members):
            raise DefinitionError("organizations.peersPerOrg: only 1 peer per organisation for now")
        if not 1024 <= self.port_base <= 65535 - self.highest_port_offset:
            raise DefinitionError(
                f"ports.base is {self.port_base}: use 1024 to {65535 - self.highest_port_offset}"
            )
        if self.batch_timeout <= 0:
            raise DefinitionError("ordering.batchTimeout must be positive")
        if self.max_message_count < 1:
            raise DefinitionError("ordering.maxMessageCount must be at least 1")

    @property
    def highest_port_offset(self) -> int:
        return PEER_BASE + PEER_BLOCK * MAX_ORGS

    def orderer_ports(self, index: int) -> OrdererPorts:
        first = self.port_base + ORDERER_BLOCK * index
        return OrdererPorts(listen=first, admin=first + 1, operations=first + 2)

    def peer_ports(self, org_index: int) -> PeerPorts:
        first = self.port_base + PEER_BASE + PEER_BLOCK * org_index
        return PeerPorts(
            listen=first,
            chaincode=first + 1,
            operations=first + 2,
            chaincode_server=first + 3,
            validator=first + 4,
        )

    def member(self, msp_id: str) -> tuple[int, MemberOrg]:
        """The index and organisation of `msp_id`; raises DefinitionError if it is not one."""
        for index, member in enumerate(self.members):
            if member.msp_id == msp_id:
                return index, member
        known = ", ".join(m.msp_id for m in self.members)
        raise DefinitionError(f"no organisation {msp_id} in the network (known: {known})")


def member_orgs(count: int, peers: int = 1) -> tuple[MemberOrg, ...]:
    return tuple(
        MemberOrg(
            name=f"Org{n}", msp_id=f"Org{n}MSP", domain=f"org{n}.fedledger.local", peers=peers
        )
        for n in range(1, count + 1)
    )
