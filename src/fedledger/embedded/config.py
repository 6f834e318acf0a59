"""What the embedded ledger server needs to know, written by the launcher into the run folder.

The server process reads this file rather than the network definition so that a running
ledger keeps the settings it was started with, whatever happens to network/fedledger.yaml.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from fedledger.orgs import OrdererOrgLayout, OrgLayout
from fedledger.runtime.definition import NetworkDefinition

CHAINCODE_VERSION = "1.0"
CHAINCODE_LABEL = "embedded"


@dataclass(frozen=True)
class OrgConfig:
    msp_id: str
    domain: str
    gateway_port: int

    @property
    def peer_name(self) -> str:
        return f"peer0.{self.domain}"

    @property
    def address(self) -> str:
        """How the Gateway names this peer in its error details."""
        return f"{self.peer_name}:{self.gateway_port}"


@dataclass(frozen=True)
class RunPaths:
    """Where the embedded ledger keeps its files inside a network's run folder."""

    run_dir: Path

    @property
    def crypto(self) -> Path:
        return self.run_dir / "crypto"

    @property
    def state(self) -> Path:
        return self.run_dir / "embedded"

    @property
    def database(self) -> Path:
        return self.state / "ledger.sqlite"

    @property
    def config(self) -> Path:
        return self.state / "config.json"

    @property
    def processes(self) -> Path:
        """The process table: the server `up` started and the chaincode the server started."""
        return self.state / "processes.json"

    @property
    def server_log(self) -> Path:
        return self.state / "server.log"

    @property
    def chaincode_log(self) -> Path:
        return self.state / "chaincode.log"

    @property
    def profile(self) -> Path:
        return self.run_dir / "connection-profile.yaml"


@dataclass(frozen=True)
class EmbeddedConfig:
    name: str
    channel: str
    chaincode_name: str
    chaincode_source: Path
    chaincode_port: int
    batch_timeout: float
    max_message_count: int
    orderer_msp_id: str
    orderer_domain: str
    members: tuple[OrgConfig, ...]
    # The shortest interval between a client's keepalive pings that the Gateway servers accept
    # (Fabric's peer.keepalive.minInterval); quicker pings get the connection closed.
    keepalive_min_interval: float = 60.0  # fabric.gateway.PEER_MIN_PING_INTERVAL

    @classmethod
    def from_definition(cls, definition: NetworkDefinition) -> EmbeddedConfig:
        return cls(
            name=definition.name,
            channel=definition.channel,
            chaincode_name=definition.chaincode_name,
            chaincode_source=definition.chaincode_source,
            chaincode_port=definition.peer_ports(0).chaincode_server,
            batch_timeout=definition.batch_timeout,
            max_message_count=definition.max_message_count,
            orderer_msp_id=definition.ordering.msp_id,
            orderer_domain=definition.ordering.domain,
            members=tuple(
                OrgConfig(m.msp_id, m.domain, definition.peer_ports(k).listen)
                for k, m in enumerate(definition.members)
            ),
        )

    @property
    def chaincode_id(self) -> str:
        return f"{self.chaincode_name}:{CHAINCODE_LABEL}"

    def member(self, msp_id: str) -> OrgConfig:
        """The member organisation `msp_id`; raises KeyError for an organisation not in this
        network.
        """
        for org in self.members:
            if org.msp_id == msp_id:
                return org
        raise KeyError(msp_id)

    def org_layout(self, crypto: Path, org: OrgConfig) -> OrgLayout:
        return OrgLayout.under(crypto, org.domain)

    def orderer_layout(self, crypto: Path) -> OrdererOrgLayout:
        return OrdererOrgLayout.under(crypto, self.orderer_domain)

    def write(self, path: Path) -> None:
        document = asdict(self)
        document["chaincode_source"] = str(self.chaincode_source)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> EmbeddedConfig:
        document = json.loads(path.read_text())
        document["chaincode_source"] = Path(document["chaincode_source"])
        document["members"] = tuple(OrgConfig(**m) for m in document["members"])
        return cls(**document)
