"""The same transactions on both backends give the same chaincode responses and write sets.

Each proposal is built once, with an identity both ledgers accept (the embedded ledger runs on
a copy of the native network's organisation material), and endorsed, submitted and committed
on each. Chaincode responses, events and the chaincode's write sets must be identical, and the
embedded ledger's world state must be what those write sets make of it.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2

from fedledger.embedded import EmbeddedLedger, verify_ledger
from fedledger.embedded.probe import GatewayProbe, Proposed
from fedledger.profile import ConnectionProfile
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base

pytestmark = [pytest.mark.ledger, pytest.mark.fabric, pytest.mark.slow]


def definition() -> NetworkDefinition:
    return NetworkDefinition.load().with_overrides(port_base=free_port_base(), batch_timeout=0.1)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConnectionProfile, ...]]:
    from fedledger.installation import InstallationError, find_installation
    from fedledger.network.native import NativeNetwork

    try:
        installation = find_installation()
    except InstallationError as error:
        pytest.skip(f"needs a Fabric installation: {error}")
    native_dir = tmp_path_factory.mktemp("native")
    native = NativeNetwork(definition(), native_dir, installation)
    embedded: EmbeddedLedger | None = None
    try:
        native_profile = native.up()
        embedded_dir = tmp_path_factory.mktemp("embedded")
        shutil.copytree(native_dir / "crypto", embedded_dir / "crypto")
        embedded = EmbeddedLedger(definition(), embedded_dir)
        embedded_profile = embedded.up()
        yield native_profile, embedded_profile
    finally:
        if embedded is not None:
            embedded.down()
        native.down()


def action(envelope: common_pb2.Envelope) -> proposal_pb2.ChaincodeAction:
    payload = common_pb2.Payload.FromString(envelope.payload)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
        transaction.actions[0].payload
    )
    response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    return proposal_pb2.ChaincodeAction.FromString(response_payload.extension)


def writes(
    chaincode_action: proposal_pb2.ChaincodeAction, namespace: str
) -> list[tuple[str, bool, bytes]]:
    txrw = rwset_pb2.TxReadWriteSet.FromString(chaincode_action.results)
    for ns in txrw.ns_rwset:
        if ns.namespace == namespace:
            kv = kv_rwset_pb2.KVRWSet.FromString(ns.rwset)
            return [(w.key, w.is_delete, w.value) for w in kv.writes]
    return []


def run_everywhere(
    probes: list[GatewayProbe], proposed: Proposed
) -> list[proposal_pb2.ChaincodeAction]:
    actions = []
    for probe in probes:
        envelope = probe.sign_envelope(probe.endorse(proposed))
        probe.submit_envelope(proposed.txid, envelope)
        assert probe.commit_status(proposed.txid)[0] == transaction_pb2.VALID
        actions.append(action(envelope))
    return actions


def test_the_same_transactions_give_the_same_responses_and_state(
    both: tuple[ConnectionProfile, ConnectionProfile],
) -> None:
    native_profile, embedded_profile = both
    chaincode = embedded_profile.chaincode
    names = [f"same{random.randrange(10**9)}" for _ in range(2)]
    sequence = [names[0], names[0], names[1], names[0]]
    expected_state: dict[str, bytes] = {}
    with (
        GatewayProbe.from_profile(native_profile, "Org1MSP") as native,
        GatewayProbe.from_profile(embedded_profile, "Org1MSP") as embedded,
    ):
        assert native.client.creator == embedded.client.creator
        assert native.evaluate("health:Version") == embedded.evaluate("health:Version")
        for name in sequence:
            proposed = native.propose("health:Beat", name)
            on_native, on_embedded = run_everywhere([native, embedded], proposed)
            assert on_embedded.response == on_native.response
            assert on_embedded.events == on_native.events
            assert writes(on_embedded, chaincode) == writes(on_native, chaincode)
            for key, deleted, value in writes(on_native, chaincode):
                expected_state[key] = b"" if deleted else value
    run_dir = Path(str(embedded_profile.path)).parent
    assert verify_ledger(run_dir).ok
    connection = sqlite3.connect(run_dir / "embedded" / "ledger.sqlite")
    try:
        for key, value in expected_state.items():
            row = connection.execute(
                "SELECT value FROM state WHERE namespace = ? AND key = ?", (chaincode, key.encode())
            ).fetchone()
            assert row is not None, key
            assert bytes(row[0]) == value, key
    finally:
        connection.close()
