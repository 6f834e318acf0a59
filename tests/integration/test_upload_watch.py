"""`fedledger watch` and the Lambda handler against moto's S3 and SQS, on every ledger backend:
each uploaded model is proposed exactly once, through notifications, restarts, duplicates,
bad objects and two watchers of one organisation."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from sklearn.linear_model import LogisticRegression

from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.registry import Policy, Registry, open_registry, proposal_id_for
from fedledger.store.s3 import S3Store
from fedledger.upload.errors import UploadError
from fedledger.upload.objects import S3Source
from fedledger.upload.proposer import ALREADY_PROPOSED, PROPOSED, REFUSED, Outcome, Proposer
from fedledger.upload.queue import EventQueue
from fedledger.upload.state import WatchState
from fedledger.upload.watcher import Watcher

from .s3_server import start_s3_store

pytestmark = [pytest.mark.ledger, pytest.mark.slow]

ORG = "Org1MSP"
SCHEMA = synthetic_schema()
MODELS = 13


@dataclass
class World:
    ledger: Any
    task_id: str
    registry: Registry
    store: S3Store
    s3: Any
    sqs: Any
    models: list[bytes]

    def notified_bucket(self, name: str) -> EventQueue:
        """A new bucket whose ObjectCreated events go to a new queue."""
        self.s3.create_bucket(Bucket=name)
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        self.s3.put_bucket_notification_configuration(
            Bucket=name,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {"QueueArn": arn["Attributes"]["QueueArn"], "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )
        return EventQueue(url, self.sqs, S3Source(name, "incoming", self.s3))

    def watcher(self, source: Any, state: Path | None, **options: Any) -> Watcher:
        proposer = Proposer(self.registry, self.store, task=None, max_bytes=10_000_000)
        return Watcher(proposer, source, WatchState(state) if state else None, **options)


@pytest.fixture(scope="module")
def world(ledger: Any) -> Iterator[World]:
    moto, store, endpoint = start_s3_store()
    saved = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_DEFAULT_REGION="us-east-1")
    task_id = f"upload-{uuid.uuid4().hex[:8]}"
    frame = synthetic_frame(SCHEMA, 400, seed=3)
    models = [
        convert(train(SCHEMA, frame, LogisticRegression(C=0.1 * (i + 1), max_iter=300)), task_id)
        for i in range(MODELS)
    ]
    try:
        with open_registry(ledger.profile, ORG) as registry:
            registry.create_task(
                task_id,
                schema=SCHEMA.to_dict(),
                metric="roc_auc",
                members=[ORG, "Org2MSP"],
                policy=Policy(
                    quorum=2,
                    approval_threshold=1.0,
                    min_score=None,
                    max_regression=None,
                    voting_period_seconds=3600,
                    max_model_bytes=10_000_000,
                    max_open_proposals_per_org=50,
                ),
            )
            s3, sqs = boto3.client("s3"), boto3.client("sqs")
            yield World(ledger, task_id, registry, store, s3, sqs, models)
    finally:
        moto.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def sha(model: bytes) -> str:
    return hashlib.sha256(model).hexdigest()


def tar_gz(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def bucket_with_prefix(world: World) -> tuple[str, S3Source]:
    bucket = f"uploads-{uuid.uuid4().hex[:8]}"
    world.s3.create_bucket(Bucket=bucket)
    return bucket, S3Source(bucket, "incoming", world.s3)


def by_location(outcomes: list[Outcome]) -> dict[str, tuple[str, str | None]]:
    return {o.location.rsplit("/incoming/", 1)[-1]: (o.outcome, o.proposal_id) for o in outcomes}


def test_notified_uploads_are_proposed_from_the_queue_once(world: World, tmp_path: Path) -> None:
    bucket = f"notified-{uuid.uuid4().hex[:8]}"
    queue = world.notified_bucket(bucket)
    first, second = world.models[0], world.models[1]
    world.s3.put_object(Bucket=bucket, Key=f"incoming/{world.task_id}/run 1/m.onnx", Body=first)
    # The metadata names the task, so the key's first folder ("misc") does not.
    world.s3.put_object(
        Bucket=bucket,
        Key="incoming/misc/model.tar.gz",
        Body=tar_gz(("code/inference.py", b"#"), ("model/model.onnx", second)),
        Metadata={"fedledger-task": world.task_id},
    )
    watcher = world.watcher(queue.source, tmp_path / "state.json", report=lambda _: None)
    watcher.queue = queue
    outcomes: list[Outcome] = []
    for _ in range(10):
        outcomes += watcher.drain_queue()
        if len(outcomes) == 2:
            break
    expected = {
        f"{world.task_id}/run 1/m.onnx": (PROPOSED, proposal_id_for(world.task_id, sha(first))),
        "misc/model.tar.gz": (PROPOSED, proposal_id_for(world.task_id, sha(second))),
    }
    assert by_location(outcomes) == expected
    for model in (first, second):
        proposal = world.registry.get_proposal(proposal_id_for(world.task_id, sha(model)))
        assert (proposal.uri, proposal.proposer) == (world.store.uri_for(sha(model)), ORG)
        assert world.store.get(proposal.uri, sha(model)) == model
    assert watcher.drain_queue() == []
    assert watcher.sweep() == []  # the listing finds both recorded
    recorded = WatchState(tmp_path / "state.json").read()
    assert {e.proposal_id for e in recorded.values()} == {o.proposal_id for o in outcomes}


def test_a_restart_proposes_what_came_meanwhile_and_nothing_twice(
    world: World, tmp_path: Path
) -> None:
    bucket, source = bucket_with_prefix(world)
    state = tmp_path / "state.json"
    before, meanwhile = world.models[2], world.models[3]
    task = world.task_id
    world.s3.put_object(Bucket=bucket, Key=f"incoming/{task}/a.onnx", Body=before)
    first = run_until(world.watcher(source, state, report=lambda _: None, interval=0.1), 1)
    world.s3.put_object(Bucket=bucket, Key=f"incoming/{task}/b.onnx", Body=meanwhile)
    world.s3.put_object(Bucket=bucket, Key=f"incoming/{task}/copy-of-a.onnx", Body=before)
    second = run_until(world.watcher(source, state, report=lambda _: None, interval=0.1), 2)
    before_id = proposal_id_for(task, sha(before))
    assert by_location(first) == {f"{task}/a.onnx": (PROPOSED, before_id)}
    assert by_location(second) == {
        f"{task}/b.onnx": (PROPOSED, proposal_id_for(task, sha(meanwhile))),
        f"{task}/copy-of-a.onnx": (ALREADY_PROPOSED, before_id),
    }
    # A watcher that lost its state file proposes nothing again either: the ledger knows.
    fresh = world.watcher(source, tmp_path / "lost.json", report=lambda _: None).sweep()
    assert {o.outcome for o in fresh} == {ALREADY_PROPOSED}
    assert len(fresh) == 3


def run_until(watcher: Watcher, count: int, timeout: float = 60.0) -> list[Outcome]:
    """Run the watcher in a thread until it reported `count` outcomes, then stop it."""
    outcomes: list[Outcome] = []
    watcher.report = outcomes.append
    thread = threading.Thread(target=watcher.run)
    thread.start()
    deadline = time.monotonic() + timeout
    while len(outcomes) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop.set()
    thread.join(30)
    assert not thread.is_alive()
    return outcomes


def test_bad_objects_are_refused_recorded_and_the_rest_proposed(
    world: World, tmp_path: Path
) -> None:
    from fedledger.evaluate.limits import SandboxLimits
    from fedledger.evaluate.static import check_model
    from fedledger.models.errors import ModelError
    from fedledger.registry.evaluation import evaluation_task

    bucket, source = bucket_with_prefix(world)
    task, good = world.task_id, world.models[4]
    objects = {
        f"{task}/garbage.onnx": b"not a model",
        f"{task}/empty.tar.gz": tar_gz(("README", b"no model")),
        f"{task}/two.tar.gz": tar_gz(("a.onnx", good), ("b.onnx", good)),
        f"{task}/sneaky.tar.gz": tar_gz(("../model.onnx", good)),
        f"{task}/broken.tar.gz": b"\x1f\x8b not gzip",
        "no-such-task/m.onnx": good,
        "loose.onnx": good,
        f"{task}/zz-good.onnx": good,
    }
    for key, body in objects.items():
        world.s3.put_object(Bucket=bucket, Key=f"incoming/{key}", Body=body)
    outcomes = {
        o.location.rsplit("/incoming/", 1)[-1]: o
        for o in world.watcher(source, tmp_path / "s.json", report=lambda _: None).sweep()
    }
    with pytest.raises(ModelError) as garbage:
        check_model(b"not a model", evaluation_task(world.registry.get_task(task)), SandboxLimits())
    assert {k: (o.outcome, o.code, o.detail) for k, o in outcomes.items()} == {
        f"{task}/garbage.onnx": (REFUSED, "MODEL_MISFIT", str(garbage.value)),
        f"{task}/empty.tar.gz": (
            REFUSED,
            "",
            f"{task}/empty.tar.gz must hold exactly one .onnx file, found 0 (none)",
        ),
        f"{task}/two.tar.gz": (
            REFUSED,
            "",
            f"{task}/two.tar.gz must hold exactly one .onnx file, found 2 (a.onnx, b.onnx)",
        ),
        f"{task}/sneaky.tar.gz": (
            REFUSED,
            "",
            f"{task}/sneaky.tar.gz: member '../model.onnx' has an unsafe path",
        ),
        f"{task}/broken.tar.gz": (REFUSED, "", outcomes[f"{task}/broken.tar.gz"].detail),
        "no-such-task/m.onnx": (
            REFUSED,
            "TASK_NOT_FOUND",
            outcomes["no-such-task/m.onnx"].detail,
        ),
        "loose.onnx": (
            REFUSED,
            "",
            "no task: put it under <prefix>/<task>/, set metadata fedledger-task, or run the "
            "watcher with --task",
        ),
        f"{task}/zz-good.onnx": (PROPOSED, "", ""),
    }
    assert outcomes[f"{task}/broken.tar.gz"].detail.startswith(
        f"{task}/broken.tar.gz is not a readable .tar.gz archive: "
    )
    assert "no-such-task" in outcomes["no-such-task/m.onnx"].detail
    unknown = outcomes["no-such-task/m.onnx"]
    assert unknown.line() == (
        f"s3://{bucket}/incoming/no-such-task/m.onnx (task no-such-task): refused: "
        f"TASK_NOT_FOUND {unknown.detail}"
    )
    # Refusals are recorded: the next round reads none of them again.
    assert world.watcher(source, tmp_path / "s.json", report=lambda _: None).sweep() == []


@pytest.mark.parametrize("shared_state", [True, False], ids=["shared-state", "own-state"])
def test_two_watchers_of_one_organisation_propose_each_model_once(
    world: World, tmp_path: Path, shared_state: bool
) -> None:
    bucket, source = bucket_with_prefix(world)
    task = world.task_id
    models = world.models[5:7] if shared_state else world.models[7:9]
    keys = {f"{task}/{name}.onnx": models[0] for name in ("a", "b", "c")}
    keys[f"{task}/d.onnx"] = models[1]
    for key, body in keys.items():
        world.s3.put_object(Bucket=bucket, Key=f"incoming/{key}", Body=body)
    outcomes: list[Outcome] = []
    with contextlib.ExitStack() as stack:
        watchers = []
        for index in range(2):
            registry = stack.enter_context(open_registry(world.ledger.profile, ORG))
            state = tmp_path / ("state.json" if shared_state else f"state-{index}.json")
            proposer = Proposer(registry, world.store, task=None, max_bytes=10_000_000)
            watchers.append(Watcher(proposer, source, WatchState(state), report=outcomes.append))
        threads = [threading.Thread(target=w.sweep) for w in watchers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    proposed = sorted(o.proposal_id or "" for o in outcomes if o.outcome == PROPOSED)
    assert proposed == sorted(proposal_id_for(task, sha(m)) for m in models)
    assert {o.outcome for o in outcomes} <= {PROPOSED, ALREADY_PROPOSED}
    # Sharing the state file, each object is handled by one of the two; apart, by both.
    assert len(outcomes) == (4 if shared_state else 8)
    for model in models:
        assert world.registry.get_proposal(proposal_id_for(task, sha(model))).status == "PENDING"


def test_the_lambda_handler_proposes_the_objects_of_a_real_s3_event(world: World) -> None:
    from fedledger.aws.upload_handler import handler

    bucket = f"lambda-{uuid.uuid4().hex[:8]}"
    queue = world.notified_bucket(bucket)
    model = world.models[11]
    world.s3.put_object(Bucket=bucket, Key=f"incoming/{world.task_id}/a b+c.onnx", Body=model)
    world.s3.put_object(Bucket=bucket, Key="elsewhere/x.onnx", Body=model)
    bodies = []
    for _ in range(10):
        reply = world.sqs.receive_message(QueueUrl=queue.url, WaitTimeSeconds=1)
        bodies += [json.loads(m["Body"]) for m in reply.get("Messages", [])]
        if sum(len(b.get("Records", [])) for b in bodies) == 2:
            break
    event = {"Records": [r for body in bodies for r in body.get("Records", [])]}
    assert "a+b%2Bc.onnx" in json.dumps(event)  # keys arrive URL-encoded
    environment = {
        "FEDLEDGER_PROFILE": str(world.ledger.profile.path),
        "FEDLEDGER_ORG": ORG,
        "FEDLEDGER_STORE": f"s3://{world.store.bucket}/{world.store.prefix}",
        "FEDLEDGER_WATCH_PREFIX": "incoming",
    }
    saved = dict(os.environ)
    os.environ.update(environment)
    try:
        # S3 delivers an event at least once: the second delivery meets the ledger's refusal.
        replies = [handler(event, None), handler(event, None)]
    finally:
        os.environ.clear()
        os.environ.update(saved)
    location = f"s3://{bucket}/incoming/{world.task_id}/a b+c.onnx"
    expected_id = proposal_id_for(world.task_id, sha(model))
    assert [
        [(o["location"], o["outcome"], o["proposal_id"]) for o in reply["outcomes"]]
        for reply in replies
    ] == [[(location, PROPOSED, expected_id)], [(location, ALREADY_PROPOSED, expected_id)]]
    assert world.registry.get_proposal(expected_id).uri == world.store.uri_for(sha(model))


def test_the_lambda_handler_names_what_its_environment_lacks() -> None:
    from fedledger.aws.upload_handler import handle_event

    with pytest.raises(UploadError) as error:
        handle_event({"Records": []}, {"FEDLEDGER_PROFILE": "p.yaml"})
    assert str(error.value) == "set FEDLEDGER_ORG and FEDLEDGER_STORE in the function's environment"


def fedledger_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "fedledger"), *args]


def test_the_command_watches_a_relative_folder_and_stops_on_sigterm(
    world: World, tmp_path: Path
) -> None:
    task, old, model = world.task_id, world.models[9], world.models[10]
    (tmp_path / "uploads" / task).mkdir(parents=True)
    (tmp_path / "uploads" / task / "old.onnx").write_bytes(old)
    (tmp_path / "uploads" / task / "junk.onnx").write_bytes(b"junk")
    profile = str(world.ledger.profile.path)
    common = ["--org", ORG, "--profile", profile, "--store", "store", "--interval", "0.2"]
    once = subprocess.run(
        fedledger_command("watch", "uploads", "--once", *common),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert once.returncode == 0
    expected_id = proposal_id_for(task, sha(old))
    refusal, proposal, summary = once.stdout.splitlines()
    assert refusal.startswith(f"uploads/{task}/junk.onnx (task {task}): refused: MODEL_MISFIT ")
    assert proposal == f"uploads/{task}/old.onnx (task {task}): proposed {expected_id}"
    assert summary == (
        "uploads: 2 objects seen, 2 new: 1 proposed, 1 refused, 0 already proposed, 0 failed"
    )
    # The refusal and the pass also go to stderr as one JSON object each, for a log collector.
    logged, passed = [json.loads(line) for line in once.stderr.splitlines()]
    assert (logged["event"], logged["location"], logged["outcome"], logged["code"]) == (
        "upload",
        f"uploads/{task}/junk.onnx",
        "refused",
        "MODEL_MISFIT",
    )
    assert refusal.endswith(logged["detail"])
    assert passed == {"event": "pass", "source": "uploads", "seen": 2, "new": 2, "proposed": 1,
                      "refused": 1, "alreadyProposed": 0, "failed": 0}  # fmt: skip
    quiet = subprocess.run(
        fedledger_command("watch", "uploads", "--once", *common),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (quiet.returncode, quiet.stdout) == (
        0,
        "uploads: 2 objects seen, 0 new: 0 proposed, 0 refused, 0 already proposed, 0 failed\n",
    )
    assert (tmp_path / ".fedledger" / "watch" / f"{ORG}.json").is_file()
    running = subprocess.Popen(
        fedledger_command("watch", "uploads", "--task", task, *common),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert running.stdout is not None
        assert running.stdout.readline().startswith("watching uploads as Org1MSP")
        # Put in place whole, as an upload tool does (docs/upload.md): a listing that met the
        # file half-written refused those bytes, and proposed it only at the next pass.
        (tmp_path / "new.onnx.part").write_bytes(model)
        (tmp_path / "new.onnx.part").rename(tmp_path / "uploads" / "new.onnx")
        line = running.stdout.readline()
        running.send_signal(signal.SIGTERM)
        remaining, errors = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert line == (
        f"uploads/new.onnx (task {task}): proposed {proposal_id_for(task, sha(model))}\n"
    )
    assert (running.returncode, remaining) == (0, "stopped\n")
    # Every listing logs its pass: the two objects --once handled are never new again, the
    # new one is new once.
    passes = [json.loads(logged) for logged in errors.splitlines()]
    assert {record["event"] for record in passes} == {"pass"}
    assert [record["proposed"] for record in passes].count(1) == 1
    assert sum(record["new"] for record in passes) == 1


def test_the_command_takes_uploads_from_the_queue(world: World, tmp_path: Path) -> None:
    bucket = f"command-{uuid.uuid4().hex[:8]}"
    queue = world.notified_bucket(bucket)
    model = world.models[12]
    running = subprocess.Popen(
        fedledger_command(
            *("watch", f"s3://{bucket}/incoming/", "--queue", queue.url, "--interval", "3600"),
            *("--org", ORG, "--profile", str(world.ledger.profile.path)),
            *("--store", f"s3://{world.store.bucket}/{world.store.prefix}"),
        ),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert running.stdout is not None
        assert running.stdout.readline().startswith(f"watching s3://{bucket}/incoming as ")
        uploaded = time.monotonic()
        world.s3.put_object(Bucket=bucket, Key=f"incoming/{world.task_id}/q.onnx", Body=model)
        line = running.stdout.readline()
        latency = time.monotonic() - uploaded
        running.send_signal(signal.SIGINT)
        remaining, errors = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    print(f"\n[{world.ledger.backend}] upload to proposal through the queue: {latency:.2f} s")
    # The listing runs once an hour: the queue brought it.
    assert line.startswith(
        f"s3://{bucket}/incoming/{world.task_id}/q.onnx (task {world.task_id}): "
    )
    assert line.endswith(f": proposed {proposal_id_for(world.task_id, sha(model))}\n")
    assert (running.returncode, remaining) == (0, "stopped\n")
    # The listing at start and each poll that brought objects log their pass.
    passes = [json.loads(logged) for logged in errors.splitlines()]
    assert passes[0]["source"] == f"s3://{bucket}/incoming"
    assert {record["source"] for record in passes[1:]} <= {f"queue {queue.url}"}
    assert sum(record["proposed"] for record in passes) == 1
