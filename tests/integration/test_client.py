"""The Fabric Gateway client against a running ledger (every backend available).

Heartbeats (`health:Beat`) are the workload: each reads a per-name counter, increments it,
writes it and emits a "Heartbeat" event with {"name", "count"}. Every test uses its own names.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest

from fedledger.fabric import (
    ChaincodeEvent,
    ChaincodeEventStream,
    Commit,
    CommitError,
    Contract,
    EndorseError,
    EvaluateError,
    FileCheckpointer,
    Gateway,
    SigningIdentity,
    TlsConfig,
    connect,
)
from fedledger.fabric.connect import peer_client
from fedledger.orgs import MemberOrg, OrdererOrg, OrgLayout, generate_material
from fedledger.runtime.health import wait_for

from .everywhere import CommittedEverywhere

pytestmark = [pytest.mark.ledger, pytest.mark.slow, pytest.mark.fabric22]


@pytest.fixture(scope="module", params=["gateway", "peer"])
def protocol(request: pytest.FixtureRequest, ledger: Any) -> str:
    """Each protocol in turn: the Gateway service, and the older Endorser, Broadcast and Deliver
    services (both backends serve both)."""
    if request.param == "gateway" and ledger.backend == "fabric-2.2":
        pytest.skip("Fabric 2.2 has no Gateway service: its peers speak the older protocol only")
    return str(request.param)


@pytest.fixture(scope="module")
def gateway(ledger: Any, protocol: str) -> Iterator[Gateway]:
    with connect(ledger.profile, "Org1MSP", protocol=protocol) as connected:
        yield connected


@pytest.fixture(scope="module")
def contract(ledger: Any, gateway: Gateway) -> Contract:
    return gateway.network(ledger.profile.channel).contract(ledger.profile.chaincode)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def beats(events: list[ChaincodeEvent], name: str) -> list[int]:
    counts = []
    for event in events:
        body = json.loads(event.payload)
        if event.event_name == "Heartbeat" and body["name"] == name:
            counts.append(body["count"])
    return counts


class Listener:
    """Consumes a stream on a thread, keeping every event (checkpointing each if asked)."""

    def __init__(
        self, stream: ChaincodeEventStream, checkpointer: FileCheckpointer | None = None
    ) -> None:
        self.stream = stream
        self.checkpointer = checkpointer
        self.events: list[ChaincodeEvent] = []
        self.error: BaseException | None = None
        self._arrived = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for event in self.stream:
                with self._arrived:
                    self.events.append(event)
                    if self.checkpointer is not None:
                        self.checkpointer.checkpoint_event(event)
                    self._arrived.notify_all()
        except BaseException as error:  # reported by wait_for
            self.error = error

    def wait_for(self, name: str, count: int, timeout: float = 60.0) -> list[int]:
        with self._arrived:
            self._arrived.wait_for(
                lambda: self.error is not None or len(beats(self.events, name)) >= count, timeout
            )
        if self.error is not None:
            raise self.error
        return beats(self.events, name)

    def stop(self) -> None:
        self.stream.close()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()


def test_submit_then_evaluate(contract: Contract) -> None:
    name = unique("submit")
    assert json.loads(contract.submit("health:Beat", [name])) == 1
    assert json.loads(contract.submit("health:Beat", [name])) == 2

    version = json.loads(contract.evaluate("health:Version"))
    assert version["chaincode"] == "fedledger"
    # Evaluating a write runs it without ordering it: the committed count stays 2.
    assert json.loads(contract.evaluate("health:Beat", [name])) == 3
    assert json.loads(contract.evaluate("health:Beat", [name])) == 3


def test_submit_async_returns_the_result_before_the_commit(contract: Contract) -> None:
    commit = contract.submit_async("health:Beat", [unique("async")])
    assert json.loads(commit.result) == 1
    status = commit.status()
    assert status.successful
    assert status.code_name == "VALID"
    assert status.block_number > 0
    # Asking again (wait after status) gives the same answer at once.
    assert commit.wait() == commit.result
    assert commit.status() == status


def test_endorsing_organisations_can_be_chosen(contract: Contract) -> None:
    name = unique("orgs")
    contract.submit("health:Beat", [name], endorsing_organizations=["Org2MSP", "Org3MSP"])

    # Commit status comes from the gateway's own peer (Org1's); Org3's peer commits the block
    # in its own time, so the test waits for it rather than asking at once.
    def org3_sees_the_first_beat() -> bool:
        beat = contract.evaluate("health:Beat", [name], endorsing_organizations=["Org3MSP"])
        return bool(json.loads(beat) == 2)

    wait_for(org3_sees_the_first_beat, "Org3's peer to commit the first beat", timeout=30)


def test_a_chaincode_error_reaches_the_caller_verbatim(contract: Contract) -> None:
    task_id = unique("missing")
    expected = (
        f"[TASK_NOT_FOUND] query refused: task {task_id} does not exist; list tasks with ListTasks"
    )

    with pytest.raises(EndorseError) as endorsed:
        contract.submit("registry:GetTask", [task_id])
    assert endorsed.value.chaincode_message == expected
    assert endorsed.value.transaction_id
    assert endorsed.value.details, "the Gateway names the peers that refused"
    assert all(expected in detail.message for detail in endorsed.value.details)
    assert {d.msp_id for d in endorsed.value.details} <= {"Org1MSP", "Org2MSP", "Org3MSP"}

    with pytest.raises(EvaluateError) as evaluated:
        contract.evaluate("registry:GetTask", [task_id])
    assert evaluated.value.chaincode_message == expected


def test_concurrent_writes_of_one_key_end_in_mvcc_read_conflict(contract: Contract) -> None:
    name = unique("mvcc")
    contract.submit("health:Beat", [name])
    # Both endorsed before either is ordered: both read version 1 of the key.
    first = contract.new_proposal("health:Beat", [name]).endorse()
    second = contract.new_proposal("health:Beat", [name]).endorse()
    commits = [first.submit(), second.submit()]

    with futures.ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(_outcome, commits))

    assert sorted(code for code, _ in outcomes) == ["MVCC_READ_CONFLICT", "VALID"]
    error = next(error for _, error in outcomes if error is not None)
    assert error.code == 11
    assert error.transaction_id in {c.transaction_id for c in commits}
    assert json.loads(contract.evaluate("health:Beat", [name])) == 3


def _outcome(commit: Commit) -> tuple[str, CommitError | None]:
    try:
        commit.wait()
    except CommitError as error:
        return error.code_name, error
    return "VALID", None


def test_concurrent_submits_through_one_gateway(contract: Contract) -> None:
    names = [unique("parallel") for _ in range(16)]
    with futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: contract.submit("health:Beat", [n]), names))
    assert [json.loads(r) for r in results] == [1] * 16


def test_an_identity_from_an_unknown_msp_is_refused(
    ledger: Any, protocol: str, tmp_path: Path
) -> None:
    generate_material(
        tmp_path,
        [MemberOrg("Org9", "Org9MSP", "org9.example.com")],
        OrdererOrg("Orderer", "OrdererMSP", "orderer.example.com"),
    )
    stranger = SigningIdentity.from_msp_folder(
        OrgLayout.under(tmp_path, "org9.example.com").client.msp, "Org9MSP"
    )
    org = ledger.profile.org("Org1MSP")
    tls = TlsConfig.from_files(
        org.gateway.tls_ca_cert,
        server_name=org.gateway.server_name,
        client_certificate=org.tls_client.cert if org.tls_client else None,
        client_key=org.tls_client.key if org.tls_client else None,
    )
    if protocol == "peer":
        connected = Gateway.over(peer_client(ledger.profile, org, stranger), stranger)
    else:
        connected = Gateway.connect(org.gateway.endpoint, stranger, tls)
    with connected as gateway:
        contract = gateway.network(ledger.profile.channel).contract(ledger.profile.chaincode)
        with pytest.raises(EvaluateError) as evaluated:
            contract.evaluate("health:Version")
        with pytest.raises(EndorseError) as endorsed:
            contract.submit("health:Beat", [unique("stranger")])
    # Refused by the ledger, not unreachable: the peer does not know the creator's MSP.
    assert evaluated.value.code != grpc.StatusCode.UNAVAILABLE
    assert endorsed.value.code != grpc.StatusCode.UNAVAILABLE
    unknown = "access denied: channel [fedledger] creator org unknown, creator is malformed"
    if ledger.backend == "fabric-2.2":  # Fabric 2.2's peer words it so
        unknown = "access denied: channel [fedledger] creator org [Org9MSP]"
    assert evaluated.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert evaluated.value.message.endswith(unknown)
    assert endorsed.value.code == grpc.StatusCode.ABORTED
    assert [d.message for d in endorsed.value.details] == [f"error validating proposal: {unknown}"]


def test_events_arrive_in_order(ledger: Any, gateway: Gateway, contract: Contract) -> None:
    name = unique("ordered")
    network = gateway.network(ledger.profile.channel)
    listener = Listener(network.chaincode_events(ledger.profile.chaincode))
    try:
        first = contract.submit_async("health:Beat", [name])
        first.wait()
        for _ in range(5):  # one after another: each reads the previous count
            contract.submit("health:Beat", [name])
        assert listener.wait_for(name, 6) == [1, 2, 3, 4, 5, 6]
    finally:
        listener.stop()
    mine = [e for e in listener.events if beats([e], name)]
    assert [e.block_number for e in mine] == sorted(e.block_number for e in mine)
    assert mine[0].transaction_id == first.transaction_id
    assert all(e.chaincode == ledger.profile.chaincode for e in mine)


def test_a_restarted_listener_resumes_from_its_checkpoint_exactly_once(
    ledger: Any, gateway: Gateway, contract: Contract, tmp_path: Path
) -> None:
    name = unique("resume")
    path = tmp_path / "listener.json"
    network = gateway.network(ledger.profile.channel)
    start = network.block_height()
    first = Listener(
        network.chaincode_events(ledger.profile.chaincode, start_block=start),
        FileCheckpointer(path),
    )
    for _ in range(3):
        contract.submit("health:Beat", [name])
    assert first.wait_for(name, 3) == [1, 2, 3]
    # Stop the first listener while transactions keep committing.
    writer = futures.ThreadPoolExecutor(1).submit(
        lambda: [contract.submit("health:Beat", [name]) for _ in range(4)]
    )
    first.stop()
    writer.result()

    second = Listener(
        network.chaincode_events(ledger.profile.chaincode, checkpointer=FileCheckpointer(path)),
        FileCheckpointer(path),
    )
    try:
        contract.submit("health:Beat", [name])
        later = second.wait_for(name, 8 - len(beats(first.events, name)))
    finally:
        second.stop()
    assert beats(first.events, name) + later == [1, 2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize("kill", [False, True], ids=["stop", "kill"])
def test_the_stream_recovers_when_the_peer_restarts(ledger: Any, protocol: str, kill: bool) -> None:
    name = unique("restart")
    profile = ledger.profile
    others = ["Org2MSP", "Org3MSP"]  # endorse and write while Org1's peer is down
    with (
        connect(profile, "Org1MSP", protocol=protocol) as listening,
        connect(profile, "Org2MSP", protocol=protocol) as writing,
        connect(profile, "Org3MSP", protocol=protocol) as endorsing,
    ):
        # Each beat reads the last: both endorsers must have it (CI met Org3's peer a block
        # behind, "ProposalResponsePayloads do not match"). Org1's peer may be down, so only
        # theirs are waited for.
        endorsers = [writing.network(profile.channel), endorsing.network(profile.channel)]
        contract = CommittedEverywhere(endorsers[0].contract(profile.chaincode), endorsers)
        stream = listening.network(profile.channel).chaincode_events(profile.chaincode)
        listener = Listener(stream)
        try:
            for _ in range(2):
                contract.submit("health:Beat", [name], endorsing_organizations=others)
            assert listener.wait_for(name, 2) == [1, 2]
            ledger.restart_peer("Org1MSP", kill=kill)
            for _ in range(3):
                contract.submit("health:Beat", [name], endorsing_organizations=others)
            assert listener.wait_for(name, 5, timeout=120) == [1, 2, 3, 4, 5]
            assert stream.reconnects >= 1
        finally:
            listener.stop()


@pytest.fixture(scope="module")
def fabric_gateway(fabric_ledger: Any) -> Iterator[Gateway]:
    with connect(fabric_ledger.profile, "Org1MSP") as gateway:
        yield gateway


@pytest.mark.fabric
def test_what_python_writes_the_peer_cli_reads_identically(
    fabric_ledger: Any, fabric_gateway: Gateway
) -> None:
    ledger = fabric_ledger
    contract = fabric_gateway.network(ledger.profile.channel).contract(ledger.profile.chaincode)
    name = unique("py2cli")
    for _ in range(2):
        contract.submit("health:Beat", [name])
    for function, args in (("health:Beat", [name]), ("health:Version", [])):
        query = ledger.peer_cli(
            "Org1MSP",
            "chaincode",
            "query",
            "-C",
            ledger.profile.channel,
            "-n",
            ledger.profile.chaincode,
            "-c",
            json.dumps({"Args": [function, *args]}),
        )
        assert query.returncode == 0, query.stderr
        assert query.stdout.rstrip("\n").encode() == contract.evaluate(function, args)
    assert json.loads(contract.evaluate("health:Beat", [name])) == 3


@pytest.mark.fabric
def test_what_the_peer_cli_writes_python_reads(fabric_ledger: Any, fabric_gateway: Gateway) -> None:
    ledger, gateway = fabric_ledger, fabric_gateway
    contract = gateway.network(ledger.profile.channel).contract(ledger.profile.chaincode)
    name = unique("cli2py")
    listener = Listener(
        gateway.network(ledger.profile.channel).chaincode_events(ledger.profile.chaincode)
    )
    try:
        invoke = ledger.peer_cli(
            "Org1MSP",
            "chaincode",
            "invoke",
            *ledger.network.commands.orderer_args(),
            "-C",
            ledger.profile.channel,
            "-n",
            ledger.profile.chaincode,
            *_endorsing_peers(ledger, ["Org1MSP", "Org2MSP"]),
            "-c",
            json.dumps({"Args": ["health:Beat", name]}),
            "--waitForEvent",
        )
        assert invoke.returncode == 0, invoke.stderr
        assert listener.wait_for(name, 1) == [1]
    finally:
        listener.stop()
    assert json.loads(contract.evaluate("health:Beat", [name])) == 2
    assert json.loads(contract.submit("health:Beat", [name])) == 2


def _endorsing_peers(ledger: Any, msp_ids: list[str]) -> list[str]:
    args = []
    for msp_id in msp_ids:
        org = ledger.profile.org(msp_id)
        args += [
            "--peerAddresses",
            org.gateway.endpoint,
            "--tlsRootCertFiles",
            str(org.gateway.tls_ca_cert),
        ]
    return args
