"""Stores that repair themselves and can be checked and cleaned: `put` replaces an object whose
bytes no longer match its name, every object can be listed, hashed and removed, and
store/maintenance.py finds the damaged and the unreferenced ones. Each test runs on a local
folder and on S3 (a real moto server on a free port, through boto3)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from fedledger.store.base import ModelStore
from fedledger.store.errors import HashMismatchError, ObjectNotFoundError
from fedledger.store.factory import open_store
from fedledger.store.local import LocalStore
from fedledger.store.maintenance import unreferenced, verify_objects
from fedledger.store.s3 import S3Store

DATA = b"onnx model bytes " * 100
SHA = hashlib.sha256(DATA).hexdigest()
OTHER_DATA = b"another model"
OTHER = hashlib.sha256(OTHER_DATA).hexdigest()
DAMAGED = DATA[:-1] + b"!"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ModelStore:
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    endpoint = request.getfixturevalue("s3_endpoint")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bucket = f"models-{os.urandom(4).hex()}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return open_store(f"s3://{bucket}/fed", endpoint_url=endpoint, region="us-east-1")


def damage(store: ModelStore, sha256: str, data: bytes) -> None:
    """Overwrite an object behind the store's back, as anyone with write access to it can."""
    if isinstance(store, LocalStore):
        (store.root / "sha256" / sha256).write_bytes(data)
    else:
        assert isinstance(store, S3Store)
        store.client.put_object(Bucket=store.bucket, Key=store.key_for(sha256), Body=data)


def test_put_repairs_an_object_whose_bytes_no_longer_match_its_name(store: ModelStore) -> None:
    uri = store.put(DATA)
    damage(store, SHA, DAMAGED)
    with pytest.raises(HashMismatchError):
        store.get(uri, SHA)
    assert store.put(DATA) == uri
    assert store.get(uri, SHA) == DATA
    assert store.digest(SHA) == SHA


def test_put_of_an_intact_object_keeps_it_and_renews_its_time(store: ModelStore) -> None:
    store.put(DATA)
    if isinstance(store, LocalStore):
        os.utime(store.root / "sha256" / SHA, (0, 0))
    else:
        time.sleep(1.1)  # S3 keeps LastModified to the second
    (first,) = store.objects()
    store.put(DATA)
    (listed,) = store.objects()
    assert listed.modified > first.modified
    assert store.get(listed.uri, SHA) == DATA


def test_objects_are_listed_hashed_and_removed(store: ModelStore) -> None:
    assert list(store.objects()) == []
    uri = store.put(DATA)
    store.put(OTHER_DATA)
    listed = {o.sha256: o for o in store.objects()}
    assert set(listed) == {SHA, OTHER}
    assert (listed[SHA].uri, listed[SHA].size) == (uri, len(DATA))
    assert store.exists(SHA)
    store.delete(SHA)
    store.delete(SHA)  # nothing there: nothing to do
    assert not store.exists(SHA)
    assert [o.sha256 for o in store.objects()] == [OTHER]
    with pytest.raises(ObjectNotFoundError):
        store.digest(SHA)


def test_verify_names_the_damaged_object_with_the_hash_of_its_bytes(store: ModelStore) -> None:
    store.put(DATA)
    store.put(OTHER_DATA)
    damage(store, SHA, DAMAGED)
    checks = {check.stored.sha256: check for check in verify_objects(store)}
    assert checks[OTHER].intact
    assert not checks[SHA].intact
    assert checks[SHA].actual == hashlib.sha256(DAMAGED).hexdigest()


def test_unreferenced_objects_are_those_no_proposal_names_past_the_grace_period(
    store: ModelStore,
) -> None:
    store.put(DATA)
    store.put(OTHER_DATA)
    now = datetime.now(UTC)
    day = timedelta(hours=24)
    assert list(unreferenced(store, {SHA}, grace=day, now=now)) == []
    later = now + day + timedelta(minutes=1)
    assert [o.sha256 for o in unreferenced(store, {SHA}, grace=day, now=later)] == [OTHER]
    assert list(unreferenced(store, {SHA, OTHER}, grace=day, now=later)) == []


def test_a_put_under_way_is_not_an_object(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put(DATA)
    (tmp_path / "sha256" / ".incoming-abc").write_bytes(b"half")
    assert [o.sha256 for o in store.objects()] == [SHA]
    assert [c.stored.sha256 for c in verify_objects(store)] == [SHA]


def test_store_verify_from_the_command_line_on_s3(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from fedledger.cli.app import app

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    bucket = f"models-{os.urandom(4).hex()}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    store = open_store(f"s3://{bucket}/fed")
    store.put(DATA)
    store.put(OTHER_DATA)
    damage(store, SHA, DAMAGED)
    result = CliRunner().invoke(app, ["store", "verify", "--store", f"s3://{bucket}/fed"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines == [
        f"DAMAGED s3://{bucket}/fed/sha256/{SHA}: its bytes have SHA-256 "
        f"{hashlib.sha256(DAMAGED).hexdigest()}",
        f"2 objects checked in S3Store('s3://{bucket}/fed'), 1 damaged or unreadable",
    ]
    store.put(DATA)
    repaired = CliRunner().invoke(app, ["store", "verify", "--store", f"s3://{bucket}/fed"])
    assert repaired.exit_code == 0, repaired.output


def test_an_object_that_cannot_be_read_is_listed_as_unreadable(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put(DATA)
    (tmp_path / "sha256" / OTHER).mkdir()  # a name that opens as no file
    checks = {check.stored.sha256: check for check in verify_objects(store)}
    assert checks[SHA].intact
    assert (checks[OTHER].intact, checks[OTHER].actual) == (False, None)
    assert checks[OTHER].problem.startswith(f"cannot read {(tmp_path / 'sha256' / OTHER).as_uri()}")
