"""An idle chaincode event stream stays up: the client's keepalive pings are ones the server
accepts (gRPC servers close a connection that pings more often than they allow, with GOAWAY
ENHANCE_YOUR_CALM "too_many_pings", after two such pings).

Production intervals are minutes (the client pings every KEEPALIVE_SECONDS = 120 s; a Fabric
peer and the embedded ledger accept one ping per 60 s): on the embedded ledger the test keeps
their ratio with both scaled down, the server accepting one ping per 2 s and the client pinging
every 4 s, and holds a stream idle through several pings (gRPC's server does not enforce an
interval of 1 s or less, measured here with grpcio 1.71). A client pinging more often
than the server accepts is cut off within seconds in the same setting, which shows the test can
fail. On Fabric the peers' minInterval is not configurable from here: the test measures what a
too-frequent client gets from a real peer.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from fedledger.fabric import ChaincodeEvent, Gateway, SigningIdentity
from fedledger.fabric.connect import tls_of
from fedledger.fabric.events import ChaincodeEventStream
from fedledger.fabric.gateway import KEEPALIVE_SECONDS, PEER_MIN_PING_INTERVAL
from fedledger.models.synthetic import synthetic_schema
from fedledger.profile import ConnectionProfile
from fedledger.registry import Policy, Registry
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base

from .conftest import Ledger

pytestmark = [pytest.mark.ledger, pytest.mark.slow]


@pytest.fixture(scope="module")
def quick_pings_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectionProfile]:
    """An embedded ledger whose Gateway servers accept one keepalive ping per 2 s."""
    from fedledger.embedded import EmbeddedLedger

    definition = NetworkDefinition.load().with_overrides(
        port_base=free_port_base(), batch_timeout=0.25
    )
    network = EmbeddedLedger(definition, tmp_path_factory.mktemp("keepalive"))
    network.config = dataclasses.replace(network.config, keepalive_min_interval=2.0)
    try:
        yield network.up()
    finally:
        network.down()


class Follower:
    """Iterates an event stream in a thread of its own, keeping what arrives."""

    def __init__(self, stream: ChaincodeEventStream) -> None:
        self.stream = stream
        self.events: list[ChaincodeEvent] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for event in self.stream:
            self.events.append(event)

    def close(self) -> None:
        self.stream.close()
        self._thread.join(10)


def gateway(profile: ConnectionProfile, keepalive_seconds: float) -> Gateway:
    org = profile.org("Org1MSP")
    signer = SigningIdentity.from_msp_folder(org.identity("user"), org.msp_id)
    return Gateway.connect(
        org.gateway.endpoint, signer, tls_of(org), keepalive_seconds=keepalive_seconds
    )


def create_task(registry: Registry) -> str:
    task_id = f"keepalive-{uuid.uuid4().hex[:8]}"
    registry.create_task(
        task_id,
        schema=synthetic_schema().to_dict(),
        metric="roc_auc",
        members=["Org1MSP", "Org2MSP", "Org3MSP"],
        policy=Policy(
            quorum=1,
            approval_threshold=0.5,
            min_score=None,
            max_regression=None,
            voting_period_seconds=60,
            max_model_bytes=1_000_000,
            max_open_proposals_per_org=3,
        ),
    )
    return task_id


def hold_idle(profile: ConnectionProfile, keepalive_seconds: float, seconds: float) -> Follower:
    """A stream opened with pings every `keepalive_seconds`, idle for `seconds`, then sent one
    event; returns its follower once the event arrived (or 30 s passed)."""
    with gateway(profile, keepalive_seconds) as client:
        network = client.network(profile.channel)
        follower = Follower(network.chaincode_events(profile.chaincode))
        try:
            time.sleep(seconds)
            task_id = create_task(Registry(network.contract(profile.chaincode)))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(
                task_id.encode() in e.payload for e in follower.events
            ):
                time.sleep(0.05)
        finally:
            follower.close()
    return follower


def test_the_client_pings_no_more_often_than_a_fabric_peer_or_the_embedded_ledger_allows() -> None:
    from fedledger.embedded.config import EmbeddedConfig

    embedded_default = next(
        f.default for f in dataclasses.fields(EmbeddedConfig) if f.name == "keepalive_min_interval"
    )
    assert embedded_default == PEER_MIN_PING_INTERVAL == 60.0
    assert KEEPALIVE_SECONDS >= 2 * PEER_MIN_PING_INTERVAL


def test_an_idle_event_stream_stays_up_through_many_pings(
    quick_pings_ledger: ConnectionProfile,
) -> None:
    # Scaled as in production: pings every 4 s to a server accepting one per 2 s, 14 s idle.
    follower = hold_idle(quick_pings_ledger, keepalive_seconds=4.0, seconds=14.0)
    assert [e.event_name for e in follower.events] == ["TaskCreated"]
    assert follower.stream.reconnects == 0


def test_a_client_pinging_more_often_than_the_server_allows_is_cut_off(
    quick_pings_ledger: ConnectionProfile,
) -> None:
    # Pings every second to a server accepting one per 2 s: cut off after three (measured: 3 s).
    follower = hold_idle(quick_pings_ledger, keepalive_seconds=1.0, seconds=8.0)
    assert follower.stream.reconnects >= 1
    # The stream resumes where it was: the event still arrives, once.
    assert [e.event_name for e in follower.events] == ["TaskCreated"]


def test_a_fabric_peer_cuts_off_a_client_pinging_more_often_than_its_min_interval(
    fabric_ledger: Ledger,
) -> None:
    """What triggers "Too many pings" on a real peer (minInterval 60 s): pings every 10 s."""
    follower = hold_idle(fabric_ledger.profile, keepalive_seconds=10.0, seconds=45.0)
    assert follower.stream.reconnects >= 1
    assert [e.event_name for e in follower.events] == ["TaskCreated"]


def test_an_idle_event_stream_stays_up_on_fabric_with_the_production_keepalive(
    fabric_ledger: Ledger,
) -> None:
    """Two pings at KEEPALIVE_SECONDS to peers enforcing minInterval 60 s: no reconnect."""
    follower = hold_idle(
        fabric_ledger.profile, KEEPALIVE_SECONDS, seconds=2 * KEEPALIVE_SECONDS + 10
    )
    assert [e.event_name for e in follower.events] == ["TaskCreated"]
    assert follower.stream.reconnects == 0
