"""Validators against a running ledger (every backend available): three organisations, each with
its own holdout, vote on proposals through the real chaincode; their gRPC service is called over
mutual TLS, through reflection, and refused without an accepted certificate."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from moto.server import ThreadedMotoServer
from sklearn.linear_model import LogisticRegression

from fedledger.fabric import Network, connect
from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.orgs import MemberOrg, OrdererOrg, OrgLayout, generate_material
from fedledger.proposing import unserved_members
from fedledger.registry import (
    ChaincodeRefusalError,
    Policy,
    Proposal,
    RefusalCode,
    Registry,
    ServingValidator,
    proposal_id_for,
)
from fedledger.store.s3 import S3Store
from fedledger.validator.api import SERVICE_NAME, validator_pb2
from fedledger.validator.client import channel_for, open_channel, stub
from fedledger.validator.config import ValidatorConfig
from fedledger.validator.endpoint import read_endpoint
from fedledger.validator.profile_config import config_document, write_config

from .everywhere import CommittedEverywhere, caught_up
from .s3_server import free_port, start_s3_store

pytestmark = [pytest.mark.ledger, pytest.mark.slow]

ORGS = ("Org1MSP", "Org2MSP", "Org3MSP")
SCHEMA = synthetic_schema()


@dataclass
class ValidatorProcess:
    msp_id: str
    config_path: Path
    config: ValidatorConfig
    log_path: Path
    document: dict[str, Any]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        (self.config.state_dir / "endpoint.json").unlink(missing_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fedledger",
                "--log-json",
                "validator",
                "serve",
                "--config",
                str(self.config_path),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"validator {self.msp_id} exited:\n{self.log_path.read_text()}"
                )
            if (self.config.state_dir / "endpoint.json").exists():
                return
            time.sleep(0.1)
        raise AssertionError(f"validator {self.msp_id} did not start:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def channel(self) -> grpc.Channel:
        return channel_for(self.config)

    @property
    def address(self) -> str:
        return str(read_endpoint(self.config.state_dir)["address"])


@dataclass
class Setup:
    task_id: str
    store: S3Store
    moto: ThreadedMotoServer
    registries: dict[str, Registry]
    peers: list[Network]  # each organisation's, asked as itself
    validators: dict[str, ValidatorProcess]
    model: bytes
    quorum_two_task: str  # accepted on two votes: the third validator's vote comes late
    quorum_two_model: bytes
    expiring_task: str  # a voting period of seconds: its proposals expire during a test
    expiring_model: bytes


def policy(quorum: int = 3, voting_period_seconds: int = 120) -> Policy:
    return Policy(
        quorum=quorum,
        approval_threshold=0.6,
        min_score=0.6,
        max_regression=None,
        voting_period_seconds=voting_period_seconds,
        max_model_bytes=10_000_000,
        max_open_proposals_per_org=50,
    )


@pytest.fixture(scope="module")
def setup(ledger: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("validators")
    moto, store, endpoint = start_s3_store()
    task_id = f"validated-{uuid.uuid4().hex[:8]}"
    quorum_two_task = f"quorum-two-{uuid.uuid4().hex[:8]}"
    expiring_task = f"expiring-{uuid.uuid4().hex[:8]}"
    with (
        connect(ledger.profile, "Org1MSP") as g1,
        connect(ledger.profile, "Org2MSP") as g2,
        connect(ledger.profile, "Org3MSP") as g3,
    ):
        peers = [g.network(ledger.profile.channel) for g in (g1, g2, g3)]
        # A write returns once every organisation's peer has it: the tests propose as one
        # organisation and read or vote as another (CI met the lag on a proposal read at once).
        registries = {
            msp: Registry(CommittedEverywhere(peer.contract(ledger.profile.chaincode), peers))
            for msp, peer in zip(ORGS, peers, strict=True)
        }
        registries["Org1MSP"].create_task(
            task_id,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=list(ORGS),
            policy=policy(),
        )
        registries["Org1MSP"].create_task(
            quorum_two_task,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=list(ORGS),
            policy=policy(quorum=2),
        )
        registries["Org1MSP"].create_task(
            expiring_task,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=list(ORGS),
            policy=policy(voting_period_seconds=10),
        )
        # A validator announces the configured tasks its own peer knows at start.
        caught_up(peers)
        validators = {}
        for index, msp in enumerate(ORGS):
            holdout = root / f"holdout-{msp}.csv"
            synthetic_frame(SCHEMA, 2000 + 500 * index, seed=10).to_csv(holdout, index=False)
            document = config_document(
                ledger.profile,
                msp,
                tasks={task_id: holdout, quorum_two_task: holdout, expiring_task: holdout},
                store="s3://models/fl",
                store_endpoint_url=endpoint,
                state_dir=root / f"state-{msp}",
                metrics="127.0.0.1:0",
                retry={"initialSeconds": 0.2, "maxSeconds": 1.0},
                # Org3's validator watches, votes and decides over the older peer protocol.
                protocol="peer" if msp == "Org3MSP" else None,
            )
            path = write_config(root / f"validator-{msp}.yaml", document)
            validators[msp] = ValidatorProcess(
                msp, path, ValidatorConfig.load(path), root / f"{msp}.log", document
            )
        for validator in validators.values():
            validator.start()
        training = synthetic_frame(SCHEMA, 3000, seed=10)
        trained = train(SCHEMA, training, LogisticRegression(max_iter=500))
        model, quorum_two_model = convert(trained, task_id), convert(trained, quorum_two_task)
        expiring_model = convert(trained, expiring_task)
        try:
            yield Setup(
                task_id,
                store,
                moto,
                registries,
                peers,
                validators,
                model,
                quorum_two_task,
                quorum_two_model,
                expiring_task,
                expiring_model,
            )
        finally:
            for validator in validators.values():
                validator.stop()
            moto.stop()


def propose_bytes(
    setup: Setup, data: bytes, msp: str = "Org2MSP", task_id: str | None = None
) -> Proposal:
    uri = setup.store.put(data)
    sha = uri.rsplit("/", 1)[-1]
    return setup.registries[msp].submit_proposal(
        task_id or setup.task_id,
        model_sha256=sha,
        uri=uri,
        size_bytes=len(data),
        metrics={"roc_auc": 0.9},
    )


def variant(model: bytes) -> bytes:
    """The same model with a different hash: a fresh doc string in the ONNX metadata."""
    import onnx

    parsed = onnx.load_from_string(model)
    parsed.doc_string = uuid.uuid4().hex
    return parsed.SerializeToString()


def wait_decided(registry: Registry, proposal_id: str, timeout: float = 60.0) -> Proposal:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proposal = registry.get_proposal(proposal_id)
        if not proposal.pending:
            return proposal
        time.sleep(0.05)
    raise AssertionError(f"proposal {proposal_id} still pending after {timeout} s: {proposal}")


def decided_everywhere(setup: Setup, proposal_id: str) -> Proposal:
    """The proposal once Org1's peer has it decided, and every other peer has that block too
    (the decider's validator waited for its own peer only)."""
    decided = wait_decided(setup.registries["Org1MSP"], proposal_id)
    caught_up(setup.peers)
    return decided


def test_three_validators_vote_and_the_proposal_is_decided(setup: Setup) -> None:
    proposal = propose_bytes(setup, variant(setup.model))
    decided = decided_everywhere(setup, proposal.id)
    assert decided.status == "ACCEPTED", decided.status_reason
    votes = setup.registries["Org3MSP"].get_votes(proposal.id)
    assert sorted(v.voter for v in votes) == list(ORGS)
    assert setup.validators["Org3MSP"].config.gateway.protocol == "peer"  # voted over it
    assert {v.decision for v in votes} == {"approve"}
    rows = {v.voter: v.holdout_rows for v in votes}
    assert rows == {"Org1MSP": 2000, "Org2MSP": 2500, "Org3MSP": 3000}
    assert all(v.score is not None and v.score > 0.6 for v in votes)
    assert setup.registries["Org2MSP"].get_champion(setup.task_id).proposal_id == proposal.id

    # The ledger shows the vote before the validator's own commit status returns and it files
    # its report: wait for the report, as for any condition asserted across processes.
    wait_for_line(setup.validators["Org2MSP"], proposal.id, '"event": "voted"')
    with setup.validators["Org2MSP"].channel() as channel:
        reply = stub(channel).GetReport(validator_pb2.GetReportRequest(proposal_id=proposal.id))
    mine = next(v for v in votes if v.voter == "Org2MSP")
    assert reply.transaction_id == mine.transaction_id
    assert reply.vote_decision == "approve"
    assert reply.report.holdout_rows == 2500
    assert reply.report.score == pytest.approx(mine.score)


def test_proposal_to_three_votes_latency(setup: Setup, ledger: Any) -> None:
    """Median of 10 proposals from submission to the third vote committed."""
    times = []
    for _ in range(10):
        data = variant(setup.model)
        uri = setup.store.put(data)
        started = time.perf_counter()
        proposal = setup.registries["Org1MSP"].submit_proposal(
            setup.task_id,
            model_sha256=uri.rsplit("/", 1)[-1],
            uri=uri,
            size_bytes=len(data),
        )
        wait_decided(setup.registries["Org1MSP"], proposal.id)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(
        f"\n[{ledger.backend}] proposal -> 3 votes committed: median {median:.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}), BatchTimeout 0.25 s"
    )
    assert median < 15


def test_damaged_bytes_expire_the_proposal_and_once_repaired_it_is_proposed_again(
    setup: Setup, ledger: Any
) -> None:
    """Whoever can write to the store cannot veto a model: damaged bytes are the store's fault.

    Every validator retries, records an `unavailable` report (counting for nothing) and votes
    nothing; the proposal EXPIRES (never REJECTED) with a reason naming the members and the
    fault; `put` of the intact model repairs the object, the same proposal is reopened and the
    validators' real votes, replacing their reports, accept it.
    """
    genuine = variant(setup.expiring_model)
    sha = hashlib.sha256(genuine).hexdigest()
    uri = setup.store.put(genuine)
    damaged = variant(setup.expiring_model)
    actual = hashlib.sha256(damaged).hexdigest()
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    setup.store.client.put_object(Bucket=bucket, Key=key, Body=damaged)
    registry = setup.registries["Org3MSP"]
    proposal = registry.submit_proposal(
        setup.expiring_task, model_sha256=sha, uri=uri, size_bytes=len(genuine)
    )
    seen = f"model bytes unavailable: {uri} holds SHA-256 {actual}, expected SHA-256 {sha}"
    for validator in setup.validators.values():
        wait_for_line(validator, proposal.id, seen)
    decided = decided_everywhere(setup, proposal.id)
    assert decided.status == "EXPIRED", decided.status_reason
    assert decided.status_reason == (
        "model bytes unavailable to Org1MSP, Org2MSP, Org3MSP (hash_mismatch); "
        "re-upload the model and propose it again"
    )
    assert (decided.tally.cast, decided.tally.unavailable) == (0, 3)
    reports = registry.get_votes(proposal.id)
    assert {(v.voter, v.decision, v.score) for v in reports} == {
        (msp, "unavailable", None) for msp in ORGS
    }
    reason = f"hash_mismatch: the stored object has SHA-256 {actual}, not the proposal's {sha}"
    assert {v.reason for v in reports} == {reason}
    for validator in setup.validators.values():
        wait_for_line(validator, proposal.id, "reported the model's bytes unavailable")
        wait_for_line(
            validator, proposal.id, "no vote: the deadline passes before the next attempt"
        )
    with setup.validators["Org2MSP"].channel() as channel, pytest.raises(grpc.RpcError) as error:
        stub(channel).GetReport(validator_pb2.GetReportRequest(proposal_id=proposal.id))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert error.value.details().startswith(
        f"this validator did not vote on proposal {proposal.id}: it gave up at the deadline "
        f"after {seen}"
    )
    shown = proposal_show(ledger, proposal.id)
    assert f"status EXPIRED ({decided.status_reason})" in " ".join(shown.split())

    assert setup.store.put(genuine) == uri
    assert setup.store.get(uri, sha) == genuine
    again = registry.submit_proposal(
        setup.expiring_task, model_sha256=sha, uri=uri, size_bytes=len(genuine)
    )
    assert (again.id, again.status) == (proposal.id, "PENDING")
    accepted = decided_everywhere(setup, proposal.id)
    assert accepted.status == "ACCEPTED", accepted.status_reason
    assert accepted.tally.unavailable == 0
    votes = registry.get_votes(proposal.id)
    assert {v.decision for v in votes} == {"approve"}
    assert (accepted.tally.approve, len(votes)) == (3, 3)


def proposal_show(ledger: Any, proposal_id: str) -> str:
    """`fedledger proposal show` as Org1's admin sees it."""
    from typer.testing import CliRunner

    from fedledger.cli.app import app

    profile = str(ledger.profile.path)
    args = ["proposal", "show", proposal_id, "--profile", profile, "--org", "Org1MSP"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_model_for_a_future_opset_is_rejected_with_the_opset_and_no_local_path(
    setup: Setup,
) -> None:
    import onnx

    from fedledger.evaluate.runtime_support import installed_support

    future = onnx.load_from_string(variant(setup.model))
    for opset in future.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = 999
    proposal = propose_bytes(setup, future.SerializeToString(), msp="Org3MSP")
    decided = wait_decided(setup.registries["Org1MSP"], proposal.id)
    votes = setup.registries["Org1MSP"].get_votes(proposal.id)
    assert decided.status == "REJECTED", (decided, votes)
    highest = installed_support().opsets[""]
    assert votes, "at least the deciding reject was recorded"
    for vote in votes:
        assert vote.decision == "reject", vote
        assert vote.reason.startswith(
            "not scored, unsupported_version: model imports ai.onnx opset 999; onnxruntime "
        )
        assert f"supports ai.onnx up to opset {highest} " in vote.reason
        assert "/" not in vote.reason


def test_a_validator_killed_while_it_evaluates_votes_exactly_once(setup: Setup) -> None:
    org3 = setup.validators["Org3MSP"]
    registry = setup.registries["Org1MSP"]
    assert org3.process is not None
    for _ in range(3):
        proposal = propose_bytes(setup, variant(setup.model), msp="Org1MSP")
        deadline = time.monotonic() + 30
        while '"evaluating"' not in _lines_of(org3, proposal.id) and time.monotonic() < deadline:
            time.sleep(0.005)
        # Frozen while it evaluates, it cannot vote; unless it voted before the freeze took.
        # Asked of its own peer, which reports its votes first, once every peer has any block.
        org3.process.send_signal(signal.SIGSTOP)
        caught_up(setup.peers)
        if setup.registries["Org3MSP"].vote_of(proposal.id, "Org3MSP") is None:
            break
        org3.process.send_signal(signal.SIGCONT)
    else:
        pytest.fail("Org3MSP's validator voted every time before it could be frozen mid-evaluation")
    org3.kill()
    assert registry.vote_of(proposal.id, "Org3MSP") is None
    org3.start()
    decided = wait_decided(registry, proposal.id)
    assert decided.status == "ACCEPTED"
    assert sorted(v.voter for v in registry.get_votes(proposal.id)) == list(ORGS)
    # Killed and restarted once more after the decision: at start-up it looks at the champion
    # again (a late vote may be owed), finds its vote there, and votes nothing more.
    seen_before = _lines_of(org3, proposal.id).count("already voted")
    org3.kill()
    org3.start()
    deadline = time.monotonic() + 60
    while _lines_of(org3, proposal.id).count("already voted") == seen_before:
        assert time.monotonic() < deadline, "the restarted validator never looked at the champion"
        time.sleep(0.05)
    with org3.channel() as channel:
        while stub(channel).Status(validator_pb2.StatusRequest(), timeout=10).pending:
            assert time.monotonic() < deadline, "the restarted validator stays busy"
            time.sleep(0.05)
    assert sorted(v.voter for v in registry.get_votes(proposal.id)) == list(ORGS)


def test_a_validator_down_at_the_decision_scores_the_champion_when_it_returns(
    setup: Setup,
) -> None:
    org3 = setup.validators["Org3MSP"]
    registry = setup.registries["Org1MSP"]
    task_id = setup.quorum_two_task
    org3.stop()
    try:
        proposal = propose_bytes(
            setup, variant(setup.quorum_two_model), msp="Org1MSP", task_id=task_id
        )
        decided = wait_decided(registry, proposal.id)
        assert decided.status == "ACCEPTED", decided.status_reason
        assert sorted(registry.get_champion(task_id).scores) == ["Org1MSP", "Org2MSP"]
    finally:
        org3.start()
    deadline = time.monotonic() + 60
    while "Org3MSP" not in registry.get_champion(task_id).scores:
        assert time.monotonic() < deadline, f"no late vote:\n{_lines_of(org3, proposal.id)}"
        time.sleep(0.1)
    late = registry.vote_of(proposal.id, "Org3MSP")
    assert late is not None
    assert late.decision == "approve"
    assert late.holdout_rows == 3000
    assert registry.get_champion(task_id).scores["Org3MSP"] == late.score
    assert registry.get_proposal(proposal.id).tally == decided.tally, "it decided nothing"
    wait_for_line(org3, proposal.id, '"late": true')  # logged once its commit status returns


def test_a_vote_waits_for_the_store_to_come_back(setup: Setup) -> None:
    data = variant(setup.model)
    uri = setup.store.put(data)
    setup.moto.stop()
    try:
        proposal = setup.registries["Org2MSP"].submit_proposal(
            setup.task_id, model_sha256=uri.rsplit("/", 1)[-1], uri=uri, size_bytes=len(data)
        )
        for validator in setup.validators.values():
            wait_for_line(validator, proposal.id, "vote postponed")
        assert setup.registries["Org1MSP"].get_votes(proposal.id) == ()
    finally:
        setup.moto.start()
    decided = wait_decided(setup.registries["Org1MSP"], proposal.id)
    assert decided.status == "ACCEPTED"
    assert decided.decided_at is not None
    assert decided.decided_at < decided.deadline


def _lines_of(validator: ValidatorProcess, proposal_id: str) -> str:
    text = validator.log_path.read_text(errors="replace")
    return "\n".join(line for line in text.splitlines() if proposal_id in line)


def wait_for_line(
    validator: ValidatorProcess, proposal_id: str, words: str, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if words in _lines_of(validator, proposal_id):
            return
        time.sleep(0.05)
    raise AssertionError(f"{validator.msp_id} never logged {words!r} for {proposal_id}")


def test_evaluate_and_health_through_reflection(setup: Setup) -> None:
    from google.protobuf import descriptor_pool, message_factory
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    with setup.validators["Org1MSP"].channel() as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = set(database.get_services())
        assert {SERVICE_NAME, "grpc.health.v1.Health"} <= services
        pool = descriptor_pool.DescriptorPool(database)
        service = pool.FindServiceByName(SERVICE_NAME)
        evaluate = service.methods_by_name["Evaluate"]
        request_class = message_factory.GetMessageClass(evaluate.input_type)
        response_class = message_factory.GetMessageClass(evaluate.output_type)
        call = channel.unary_unary(
            f"/{SERVICE_NAME}/Evaluate",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        request = request_class(task_id=setup.task_id, inline=setup.model)
        reply = call(request, timeout=120)
        assert reply.report.decision == "approve"
        assert reply.report.holdout_rows == 2000
        assert reply.report.metric == "roc_auc"
        assert 0.6 < reply.report.score <= 1

        health_service = pool.FindServiceByName("grpc.health.v1.Health")
        check = health_service.methods_by_name["Check"]
        health_request = message_factory.GetMessageClass(check.input_type)
        health_response = message_factory.GetMessageClass(check.output_type)
        health_call = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=health_response.FromString,
        )
        answer = health_call(health_request(service=SERVICE_NAME), timeout=10)
        assert (
            health_response.DESCRIPTOR.fields_by_name["status"]
            .enum_type.values_by_number[answer.status]
            .name
            == "SERVING"
        )


@pytest.mark.parametrize(
    ("request_fields", "code", "message"),
    [
        ({"task_id": "nope", "inline": b"x"}, grpc.StatusCode.NOT_FOUND, "task nope is not served"),
        ({"task_id": "TASK"}, grpc.StatusCode.INVALID_ARGUMENT, "give the model either"),
        ({"task_id": "TASK", "inline": b"not onnx"}, grpc.StatusCode.INVALID_ARGUMENT, "malformed"),
        (
            {"task_id": "TASK", "reference": {"uri": "file:///x", "sha256": "zz"}},
            grpc.StatusCode.INVALID_ARGUMENT,
            "reference.sha256 must be 64 lowercase hex characters",
        ),
        (
            {
                "task_id": "TASK",
                "reference": {"uri": f"s3://models/fl/sha256/{'ab' * 32}", "sha256": "ab" * 32},
            },
            grpc.StatusCode.UNAVAILABLE,
            f"model bytes unavailable: s3://models/fl/sha256/{'ab' * 32} holds no object",
        ),
    ],
)
def test_evaluate_errors_become_precise_status_codes(
    setup: Setup, request_fields: dict[str, Any], code: grpc.StatusCode, message: str
) -> None:
    fields = dict(request_fields)
    if fields.get("task_id") == "TASK":
        fields["task_id"] = setup.task_id
    if "reference" in fields:
        fields["reference"] = validator_pb2.ModelReference(**fields["reference"])
    with setup.validators["Org2MSP"].channel() as channel, pytest.raises(grpc.RpcError) as error:
        stub(channel).Evaluate(validator_pb2.EvaluateRequest(**fields), timeout=60)
    assert error.value.code() == code
    assert message in error.value.details()


def test_get_report_of_an_unknown_proposal_is_not_found(setup: Setup) -> None:
    with setup.validators["Org1MSP"].channel() as channel, pytest.raises(grpc.RpcError) as error:
        stub(channel).GetReport(validator_pb2.GetReportRequest(proposal_id="p-" + "0" * 32))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert "has no report on proposal p-000" in error.value.details()


def test_a_client_without_an_accepted_certificate_cannot_call(setup: Setup, tmp_path: Path) -> None:
    validator = setup.validators["Org1MSP"]
    ca = validator.config.listen.issue_from
    assert ca is not None
    request = validator_pb2.StatusRequest()
    with (
        open_channel(validator.address, ca.ca_cert, None, None) as channel,
        pytest.raises(grpc.RpcError) as no_certificate,
    ):
        stub(channel).Status(request, timeout=10)
    assert no_certificate.value.code() == grpc.StatusCode.UNAVAILABLE

    generate_material(
        tmp_path,
        [MemberOrg("Org9", "Org9MSP", "org9.example.com")],
        OrdererOrg("Orderer", "OrdererMSP", "orderer.example.com"),
    )
    stranger = OrgLayout.under(tmp_path, "org9.example.com").client
    with (
        open_channel(
            validator.address, ca.ca_cert, stranger.tls_cert("client"), stranger.tls_key("client")
        ) as channel,
        pytest.raises(grpc.RpcError) as foreign,
    ):
        stub(channel).Status(request, timeout=10)
    assert foreign.value.code() == grpc.StatusCode.UNAVAILABLE

    with validator.channel() as channel:
        status = stub(channel).Status(request, timeout=10)
    assert status.organization == "Org1MSP"
    assert sorted(t.task_id for t in status.tasks) == sorted(
        [setup.task_id, setup.quorum_two_task, setup.expiring_task]
    )
    assert {t.holdout_rows for t in status.tasks} == {2000}
    assert status.last_block > 0


def test_status_from_the_command_line(setup: Setup) -> None:
    validator = setup.validators["Org2MSP"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fedledger",
            "validator",
            "status",
            "--config",
            str(validator.config_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["organization"] == "Org2MSP"
    assert document["tasks"][0]["holdoutRows"] == 2500


def announced(
    registry: Registry, task_id: str, orgs: tuple[str, ...], after: datetime | None = None
) -> dict[str, ServingValidator]:
    """The task's serving validators once each of `orgs` announced it (after `after`)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        serving = {v.organization: v for v in registry.list_validators(task_id)}
        if all(o in serving and (after is None or serving[o].announced_at > after) for o in orgs):
            return serving
        time.sleep(0.1)
    raise AssertionError(f"{orgs} did not announce serving {task_id}: {serving}")


def test_validators_announce_their_tasks_on_start_and_again_with_a_new_configuration(
    setup: Setup,
) -> None:
    registry = setup.registries["Org1MSP"]
    serving = announced(registry, setup.task_id, ORGS)
    assert sorted(serving) == list(ORGS)
    for validator in serving.values():
        assert validator.evaluator_version.startswith("fedledger/")
        assert " onnxruntime/" in validator.evaluator_version
    task = registry.get_task(setup.task_id)
    assert unserved_members(registry, task, datetime.now(UTC)) == []
    before = announced(registry, setup.quorum_two_task, ORGS)["Org3MSP"]
    # Org3's validator restarts serving one task only: its announcement says so at once.
    org3 = setup.validators["Org3MSP"]
    original = org3.config_path.read_text()
    tasks = {setup.task_id: org3.document["tasks"][setup.task_id]}
    org3.stop()
    write_config(org3.config_path, {**org3.document, "tasks": tasks})
    org3.start()
    try:
        again = announced(registry, setup.task_id, ("Org3MSP",), after=before.announced_at)
        assert again["Org3MSP"].since == serving["Org3MSP"].since
        remaining = [v.organization for v in registry.list_validators(setup.quorum_two_task)]
        assert remaining == ["Org1MSP", "Org2MSP"]
        warnings = unserved_members(
            registry, registry.get_task(setup.quorum_two_task), datetime.now(UTC)
        )
        assert warnings == [
            f"Org3MSP has no validator serving task {setup.quorum_two_task} (none announced): "
            "its vote may not come before the deadline"
        ]
    finally:
        org3.stop()
        org3.config_path.write_text(original)
        org3.start()
    announced(registry, setup.quorum_two_task, ORGS)


def place_config(validator: ValidatorProcess, run_dir: Path, **changes: Any) -> Path:
    """The validator's configuration where `network up --validators` writes it in `run_dir`."""
    path = run_dir / "validators" / validator.msp_id / "validator.yaml"
    return write_config(path, {**validator.document, **changes})


def evaluate_command(*args: str) -> Any:
    from typer.testing import CliRunner

    from fedledger.cli.app import app

    return CliRunner().invoke(app, ["validator", "evaluate", *args])


def test_validator_evaluate_from_the_command_line(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    place_config(setup.validators["Org2MSP"], tmp_path / "run")
    (tmp_path / "model.onnx").write_bytes(setup.model)
    monkeypatch.chdir(tmp_path)  # the paths as a person types them, from where they work
    where = ["model.onnx", "--task", setup.task_id, "--org", "Org2MSP", "--run-dir", "run"]

    result = evaluate_command(*where, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["organization"] == "Org2MSP"
    assert report["address"] == setup.validators["Org2MSP"].address
    assert report["modelSha256"] == hashlib.sha256(setup.model).hexdigest()
    assert report["decision"] == "approve"
    assert report["holdoutRows"] == 2500
    assert report["metric"] == "roc_auc"
    assert 0.6 < report["score"] <= 1
    assert report["metrics"]["roc_auc"] == report["score"]
    assert {"accuracy", "f1", "log_loss", "brier"} <= set(report["metrics"])
    assert report["reasons"] == [f"roc_auc {report['score']:.6g} meets the task's policy"]
    assert report["errorCode"] == ""
    # Nothing was proposed or voted: Evaluate only says what the vote would be.
    with pytest.raises(ChaincodeRefusalError) as never_proposed:
        setup.registries["Org1MSP"].get_votes(proposal_id_for(setup.task_id, report["modelSha256"]))
    assert never_proposed.value.code is RefusalCode.PROPOSAL_NOT_FOUND

    printed = evaluate_command(*where)
    assert printed.exit_code == 0, printed.output
    lines = printed.stdout.splitlines()
    assert lines[0] == (
        f"Org2MSP's validator would approve this model for task {setup.task_id} (nothing was voted)"
    )
    assert lines[1].startswith(f"model {report['modelSha256']}, 2500 holdout rows, ")
    assert f"roc_auc {report['score']:.6g} (the task's metric; " in lines[2]
    assert lines[3:5] == ["reasons:", f"  - {report['reasons'][0]}"]
    assert lines[5].startswith("other metrics: accuracy ")


def test_validator_evaluate_says_when_the_validator_is_not_there(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.onnx").write_bytes(setup.model)
    run = tmp_path / "run"
    validator = setup.validators["Org3MSP"]

    def error_of(*args: str) -> str:
        result = evaluate_command("model.onnx", "--task", setup.task_id, *args)
        assert result.exit_code == 1, result.output
        return " ".join(result.output.split())

    hint = (
        "start it with `fedledger network up --validators FILE`, or "
        "`fedledger validator serve --config FILE` for a validator of your own"
    )
    assert error_of("--org", "Org3MSP", "--run-dir", "run") == (
        f"error: no validator configuration of Org3MSP at {run}/validators/Org3MSP/validator.yaml: "
        f"no validator of this organisation was started with this run folder; {hint}"
    )
    assert error_of() == (
        "error: name the organisation whose validator to ask (--org MSPID) or its --config"
    )

    stopped = tmp_path / "stopped-state"
    place_config(validator, run, stateDir=str(stopped))
    assert error_of("--org", "Org3MSP", "--run-dir", "run") == (
        f"error: the validator of Org3MSP is not running: no running validator recorded in "
        f"{stopped} (no endpoint.json): start one with `fedledger validator serve --config …`"
    )

    nobody = f"127.0.0.1:{free_port()}"
    message = error_of("--org", "Org3MSP", "--run-dir", "run", "--address", nobody)
    assert message.startswith(
        f"error: the validator of Org3MSP at {nobody} did not answer (UNAVAILABLE: "
    )
    assert message.endswith(
        "is it running? `fedledger network status` lists the validators; " + hint
    )

    config = str(validator.config_path)
    assert error_of("--org", "Org2MSP", "--config", config) == (
        f"error: {config} configures the validator of Org3MSP, not Org2MSP"
    )
    unserved = evaluate_command("model.onnx", "--task", "nope", "--config", config)
    assert unserved.exit_code == 1
    assert " ".join(unserved.output.split()).startswith(
        f"error: the validator of Org3MSP at {validator.address} refused the evaluation "
        "(NOT_FOUND): task nope is not served"
    )
    missing = evaluate_command("absent.onnx", "--task", setup.task_id, "--config", config)
    assert missing.exit_code == 1
    assert " ".join(missing.output.split()) == (
        "error: cannot read absent.onnx: [Errno 2] No such file or directory: 'absent.onnx'"
    )
