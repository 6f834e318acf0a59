"""The upload watcher's own rules: what an object holds, which task it is for, S3 event
records, the state file."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from fedledger.upload.archive import model_bytes
from fedledger.upload.errors import NotAModelError, StateFileError
from fedledger.upload.objects import s3_records
from fedledger.upload.proposer import Proposer
from fedledger.upload.state import Entry, WatchState

MODEL = b"\x08\x07onnx bytes"


def tar_gz(*members: tarfile.TarInfo | tuple[str, bytes]) -> bytes:
    """The same bytes for the same members at every collection (the gzip header's time is 0):
    parallel workers must collect identical test ids."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w") as archive,
    ):
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
                continue
            info = tarfile.TarInfo(member[0])
            info.size = len(member[1])
            archive.addfile(info, io.BytesIO(member[1]))
    return buffer.getvalue()


def link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


def test_a_bare_onnx_and_a_sagemaker_archive_give_the_model() -> None:
    assert model_bytes("t/m.onnx", MODEL, 100) == MODEL
    archive = tar_gz(("code/inference.py", b"#"), ("model.onnx", MODEL), link("x", "model.onnx"))
    assert model_bytes("t/model.tar.gz", archive, 10_000) == MODEL
    assert model_bytes("t/MODEL.TGZ", tar_gz(("m/M.ONNX", MODEL)), 10_000) == MODEL


@pytest.mark.parametrize(
    ("key", "data", "limit", "message"),
    [
        ("a.onnx", b"x" * 101, 100, "a.onnx is 101 bytes, over the limit of 100"),
        ("a.zip", b"x", 10_000, "a.zip is neither an .onnx file nor a .tar.gz archive holding one"),
        (
            "a.tar.gz",
            tar_gz(("README", b"")),
            10_000,
            "a.tar.gz must hold exactly one .onnx file, found 0 (none)",
        ),
        (
            "a.tar.gz",
            tar_gz(("a.onnx", MODEL), ("b/b.onnx", MODEL)),
            10_000,
            "a.tar.gz must hold exactly one .onnx file, found 2 (a.onnx, b/b.onnx)",
        ),
        (
            "a.tar.gz",
            tar_gz(("../m.onnx", MODEL)),
            10_000,
            "a.tar.gz: member '../m.onnx' has an unsafe path",
        ),
        (
            "a.tar.gz",
            tar_gz(("/etc/m.onnx", MODEL)),
            10_000,
            "a.tar.gz: member '/etc/m.onnx' has an unsafe path",
        ),
        (
            "a.tar.gz",
            tar_gz(link("m.onnx", "/etc/passwd")),
            10_000,
            "a.tar.gz: m.onnx is a link, not the model itself",
        ),
        (
            "a.tar.gz",
            tar_gz(("m.onnx", b"y" * 9000)),
            5000,
            "a.tar.gz: m.onnx is 9,000 bytes, over the limit of 5,000",
        ),
    ],
)
def test_objects_that_hold_no_single_safe_model_are_refused(
    key: str, data: bytes, limit: int, message: str
) -> None:
    with pytest.raises(NotAModelError) as error:
        model_bytes(key, data, limit)
    assert str(error.value) == message


def test_a_file_that_is_no_archive_names_itself() -> None:
    with pytest.raises(NotAModelError) as error:
        model_bytes("a.tar.gz", b"\x1f\x8b garbage", 10_000)
    assert str(error.value).startswith("a.tar.gz is not a readable .tar.gz archive: ")


def proposer(task: str | None) -> Proposer:
    unused: Any = None
    return Proposer(unused, unused, task=task, max_bytes=100)


@pytest.mark.parametrize(
    ("fixed", "key", "metadata", "task"),
    [
        (None, "credit/2026/model.tar.gz", {}, "credit"),
        (None, "credit/model.onnx", {"fedledger-task": "fraud"}, "fraud"),
        ("fraud", "credit/model.onnx", {}, "fraud"),
        ("fraud", "model.onnx", {"fedledger-task": "fraud"}, "fraud"),
    ],
)
def test_the_task_is_the_fixed_one_else_metadata_else_the_first_folder(
    fixed: str | None, key: str, metadata: dict[str, str], task: str
) -> None:
    assert proposer(fixed).task_for(key, metadata) == task


def test_metadata_naming_another_task_than_the_fixed_one_is_refused() -> None:
    with pytest.raises(NotAModelError) as error:
        proposer("fraud").task_for("m.onnx", {"fedledger-task": "credit"})
    assert str(error.value) == (
        "its metadata names task credit, this watcher proposes for fraud only"
    )


def test_event_records_are_url_decoded_and_only_creations_count() -> None:
    event = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": "b"},
                    "object": {"key": "in/credit/run+1/m%2B1.onnx", "eTag": "e1"},
                },
            },
            {
                "eventName": "ObjectRemoved:Delete",
                "s3": {"bucket": {"name": "b"}, "object": {"key": "in/x.onnx"}},
            },
        ]
    }
    assert s3_records(event) == [("b", "in/credit/run 1/m+1.onnx", "e1")]
    assert s3_records({"Service": "Amazon S3", "Event": "s3:TestEvent"}) == []


def test_the_state_file_keeps_entries_and_names_itself_when_broken(tmp_path: Path) -> None:
    state = WatchState(tmp_path / "w" / "state.json")
    entry = Entry("e1", "proposed", "credit", "ab" * 32, "p-" + "0" * 32, "", "2026-12-01")
    with state.locked() as entries:
        entries["s3://b/k"] = entry
    assert WatchState(tmp_path / "w" / "state.json").read() == {"s3://b/k": entry}
    state.path.write_text("{not json")
    with pytest.raises(StateFileError) as error:
        state.read()
    assert str(error.value).startswith(f"{state.path} is not a readable watcher state file (")
    state.path.write_text('{"version": 7, "objects": {}}')
    with pytest.raises(StateFileError) as error:
        state.read()
    assert str(error.value) == f"{state.path}: expected a state file of version 1"
