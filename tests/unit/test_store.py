"""Stores: content addressing, verified reads, size limits while streaming, typed errors.

The S3 tests talk HTTP to a real moto server on a free port, through boto3.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from fedledger.store.base import read_verified
from fedledger.store.errors import (
    HashMismatchError,
    InvalidUriError,
    ModelTooLargeError,
    ObjectNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from fedledger.store.factory import open_store, store_root_of
from fedledger.store.local import LocalStore
from fedledger.store.s3 import S3Store

DATA = b"onnx model bytes " * 100
SHA = hashlib.sha256(DATA).hexdigest()
OTHER = hashlib.sha256(b"other").hexdigest()


def test_local_put_get_round_trip_and_is_idempotent(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    uri = store.put(DATA)
    assert uri == f"file://{tmp_path.resolve()}/sha256/{SHA}"
    assert store.put(DATA) == uri
    assert store.get(uri, SHA) == DATA
    source = tmp_path / "model.onnx"
    source.write_bytes(DATA)
    assert store.put(source) == uri
    assert [p.name for p in (tmp_path / "sha256").iterdir()] == [SHA]


def test_local_get_refuses_a_swapped_file_naming_both_hashes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    uri = store.put(DATA)
    Path(store.path_of(uri)).write_bytes(b"swapped")
    actual = hashlib.sha256(b"swapped").hexdigest()
    with pytest.raises(HashMismatchError) as info:
        store.get(uri, SHA)
    assert info.value.expected == SHA
    assert info.value.actual == actual
    assert SHA in str(info.value)
    assert actual in str(info.value)


def test_local_errors_are_typed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(ObjectNotFoundError, match=OTHER):
        store.get(store.uri_for(OTHER), OTHER)
    with pytest.raises(InvalidUriError, match="not an object address of a folder store"):
        store.get("file:///etc/passwd", SHA)
    with pytest.raises(InvalidUriError, match="not a file:/// URI"):
        store.get(f"s3://bucket/sha256/{SHA}", SHA)
    with pytest.raises(InvalidUriError, match="not a lowercase hex SHA-256"):
        store.get(store.uri_for(SHA), SHA.upper())


def test_an_object_is_read_from_this_stores_folder_whatever_folder_its_uri_names(
    tmp_path: Path,
) -> None:
    """The proposer's store and a validator's are one folder mounted at two places (a container,
    another host): the URI's content address is what names the object."""
    proposer, validator = LocalStore(tmp_path / "host"), LocalStore(tmp_path / "mounted")
    uri = proposer.put(DATA)
    validator.put(DATA)
    assert validator.get(uri, SHA) == DATA
    assert validator.path_of(uri) == tmp_path / "mounted" / "sha256" / SHA
    with pytest.raises(ObjectNotFoundError, match=OTHER):
        validator.get(f"file:///elsewhere/sha256/{OTHER}", OTHER)


def test_local_refuses_a_10_gb_object_without_reading_it(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, max_bytes=64 * 1024 * 1024)
    huge = tmp_path / "sha256" / OTHER
    huge.parent.mkdir()
    with huge.open("wb") as handle:  # sparse: no disk space used
        handle.truncate(10 * 1024**3)
    with pytest.raises(ModelTooLargeError, match="10737418240 bytes, over the 67108864-byte"):
        store.get(store.uri_for(OTHER), OTHER)


def test_local_put_refuses_over_the_limit(tmp_path: Path) -> None:
    with pytest.raises(ModelTooLargeError, match="1700 bytes, over the 1000-byte limit"):
        LocalStore(tmp_path, max_bytes=1000).put(DATA)


def test_streaming_limit_stops_an_endless_body() -> None:
    endless = itertools.repeat(b"x" * 1024)
    with pytest.raises(ModelTooLargeError, match="at least 5120 bytes, over the 4096-byte"):
        read_verified(endless, uri="s3://b/k", expected_sha256=SHA, max_bytes=4096)


def test_open_store_by_location(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    assert isinstance(open_store(tmp_path.as_uri()), LocalStore)
    s3 = open_store("s3://models/team-a/", endpoint_url="http://127.0.0.1:1", region="us-east-1")
    assert isinstance(s3, S3Store)
    assert s3.uri_for(SHA) == f"s3://models/team-a/sha256/{SHA}"
    with pytest.raises(InvalidUriError, match="unsupported store scheme 'ftp'"):
        open_store("ftp://host/x")
    assert store_root_of(f"s3://models/team-a/sha256/{SHA}") == "s3://models/team-a"
    assert store_root_of(f"file:///var/m/sha256/{SHA}") == "file:///var/m"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_store(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Store:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bucket = f"models-{os.urandom(4).hex()}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    store = open_store(f"s3://{bucket}/fed", endpoint_url=s3_endpoint, region="us-east-1")
    assert isinstance(store, S3Store)
    return store


def test_s3_put_get_round_trip(s3_store: S3Store, tmp_path: Path) -> None:
    uri = s3_store.put(DATA)
    assert uri == f"s3://{s3_store.bucket}/fed/sha256/{SHA}"
    assert s3_store.put(DATA) == uri
    assert s3_store.get(uri, SHA) == DATA
    source = tmp_path / "model.onnx"
    source.write_bytes(DATA * 3)
    uri3 = s3_store.put(source)
    assert s3_store.get(uri3, hashlib.sha256(DATA * 3).hexdigest()) == DATA * 3
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=f"fed/sha256/{SHA}")
    assert head["Metadata"] == {"sha256": SHA}


def test_s3_refuses_a_swapped_object(s3_store: S3Store) -> None:
    key = f"fed/sha256/{SHA}"
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=key, Body=b"swapped")
    with pytest.raises(HashMismatchError) as info:
        s3_store.get(f"s3://{s3_store.bucket}/{key}", SHA)
    assert (info.value.expected, info.value.actual) == (SHA, hashlib.sha256(b"swapped").hexdigest())


def test_s3_refuses_an_object_over_the_limit_before_reading(s3_store: S3Store) -> None:
    uri = s3_store.put(DATA)
    small = S3Store(s3_store.bucket, "fed", client=s3_store.client, max_bytes=1024)
    with pytest.raises(ModelTooLargeError, match="1700 bytes, over the 1024-byte limit") as info:
        small.get(uri, SHA)
    assert (info.value.size, info.value.limit) == (1700, 1024)


def test_s3_missing_object_and_bucket(s3_store: S3Store) -> None:
    with pytest.raises(ObjectNotFoundError):
        s3_store.get(s3_store.uri_for(OTHER), OTHER)
    with pytest.raises(ObjectNotFoundError):
        s3_store.get(f"s3://no-such-bucket-here/sha256/{OTHER}", OTHER)
    with pytest.raises(InvalidUriError, match="not an s3://bucket/key URI"):
        s3_store.get("s3:///sha256/x", OTHER)


def test_s3_unreachable_endpoint_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = S3Store(
        "models",
        endpoint_url=f"http://127.0.0.1:{port}",
        region="us-east-1",
        timeout_seconds=1,
        client=boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1}),
        ),
    )
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        store.get(store.uri_for(SHA), SHA)
    with pytest.raises(StoreUnavailableError):
        store.put(DATA)
    assert issubclass(StoreUnavailableError, StoreError)
