"""fedledger.proposing without a ledger: what is checked before anything is stored or proposed."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sklearn.linear_model import LogisticRegression

from fedledger.models.conversion import convert
from fedledger.models.errors import ModelError
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.proposing import describe_age, propose_model, unserved_members
from fedledger.registry import (
    ChaincodeRefusalError,
    Policy,
    Registry,
    RegistryError,
    ServingValidator,
    Task,
)
from fedledger.registry.evaluation import SchemaHashMismatchError
from fedledger.store.base import ModelStore

SCHEMA = synthetic_schema()
NOW = datetime(2026, 1, 2, tzinfo=UTC)


def task(schema_sha256: str = SCHEMA.sha256()) -> Task:
    return Task(
        id="churn",
        description="",
        schema=SCHEMA.to_dict(),
        schema_sha256=schema_sha256,
        metric="roc_auc",
        higher_is_better=True,
        members=("Org1MSP",),
        policy=Policy(1, 0.5, None, None, 60, 10_000_000, 3),
        created_by="Org1MSP",
        created_at=NOW,
        updated_at=NOW,
        transaction_id="t0",
    )


REFUSED = "[TOO_MANY_OPEN_PROPOSALS] proposal refused: Org1MSP already has 3 open proposals"


class FakeRegistry:
    def __init__(self, found: Task, champion: str | None) -> None:
        self.found = found
        self.champion = champion
        self.submitted: list[dict[str, Any]] = []
        self.checked: list[dict[str, Any]] = []
        self.refuse_check = False
        self.refuse_submit = False

    def check_proposal(self, task_id: str, **fields: Any) -> str:
        self.checked.append({"task_id": task_id, **fields})
        if self.refuse_check:
            raise ChaincodeRefusalError("SubmitProposal", REFUSED, "t9")
        return "would be proposed"

    def get_task(self, task_id: str) -> Task:
        return self.found

    def find_champion(self, task_id: str) -> Any:
        return None if self.champion is None else type("C", (), {"proposal_id": self.champion})

    def submit_proposal(self, task_id: str, **fields: Any) -> str:
        if self.refuse_submit:
            raise ChaincodeRefusalError("SubmitProposal", REFUSED, "t9")
        self.submitted.append({"task_id": task_id, **fields})
        return "proposed"


class FakeStore:
    def __init__(self) -> None:
        self.stored: list[bytes] = []

    def uri_for(self, sha256: str) -> str:
        return f"file:///store/{sha256}"

    def exists(self, sha256: str) -> bool:
        return any(hashlib.sha256(data).hexdigest() == sha256 for data in self.stored)

    def put(self, data: bytes | Path) -> str:
        assert isinstance(data, bytes)
        if data not in self.stored:
            self.stored.append(data)
        return self.uri_for(hashlib.sha256(data).hexdigest())

    def delete(self, sha256: str) -> None:
        self.stored = [d for d in self.stored if hashlib.sha256(d).hexdigest() != sha256]


@pytest.fixture(scope="module")
def model() -> bytes:
    trained = train(SCHEMA, synthetic_frame(SCHEMA, 300, seed=2), LogisticRegression(max_iter=200))
    return convert(trained, task_id="churn")


def propose(registry: FakeRegistry, store: FakeStore, model: bytes) -> Any:
    return propose_model(
        cast(Registry, registry), cast(ModelStore, store), "churn", model, metrics={"roc_auc": 0.8}
    )


def test_a_fitting_model_is_stored_and_proposed_with_the_champion_as_parent(model: bytes) -> None:
    registry, store = FakeRegistry(task(), champion="p-0"), FakeStore()
    assert propose(registry, store, model) == "proposed"
    assert store.stored == [model]
    sha256 = hashlib.sha256(model).hexdigest()
    assert registry.checked == registry.submitted
    assert registry.submitted == [
        {
            "task_id": "churn",
            "model_sha256": sha256,
            "uri": f"file:///store/{sha256}",
            "size_bytes": len(model),
            "metrics": {"roc_auc": 0.8},
            "parent": "p-0",
        }
    ]


def test_a_model_that_does_not_fit_is_neither_stored_nor_proposed() -> None:
    registry, store = FakeRegistry(task(), champion=None), FakeStore()
    with pytest.raises(ModelError):
        propose(registry, store, b"not an onnx model")
    assert (store.stored, registry.submitted) == ([], [])


def test_a_schema_the_chaincode_hashes_otherwise_stops_the_proposal(model: bytes) -> None:
    registry, store = FakeRegistry(task(schema_sha256="ee" * 32), champion=None), FakeStore()
    with pytest.raises(SchemaHashMismatchError) as error:
        propose(registry, store, model)
    assert isinstance(error.value, RegistryError)
    assert str(error.value) == (
        f"task churn: the schema on the ledger hashes to {SCHEMA.sha256()} here but the "
        f"chaincode recorded {'ee' * 32}; the two canonical encodings disagree"
    )
    assert (store.stored, registry.submitted) == ([], [])


def test_a_proposal_the_chaincode_refuses_when_asked_first_stores_nothing(model: bytes) -> None:
    registry, store = FakeRegistry(task(), champion=None), FakeStore()
    registry.refuse_check = True
    with pytest.raises(ChaincodeRefusalError) as error:
        propose(registry, store, model)
    assert error.value.chaincode_message == REFUSED
    assert (store.stored, registry.submitted) == ([], [])


def test_a_submit_refused_after_the_check_removes_the_object_it_uploaded(model: bytes) -> None:
    registry, store = FakeRegistry(task(), champion=None), FakeStore()
    registry.refuse_submit = True
    with pytest.raises(ChaincodeRefusalError):
        propose(registry, store, model)
    assert store.stored == []


def test_a_refused_submit_never_removes_an_object_that_was_there_before(model: bytes) -> None:
    registry, store = FakeRegistry(task(), champion=None), FakeStore()
    store.put(model)  # another proposal, of another task, may name it
    registry.refuse_submit = True
    with pytest.raises(ChaincodeRefusalError):
        propose(registry, store, model)
    assert store.stored == [model]


def test_a_model_for_a_future_opset_is_refused_before_it_is_stored(model: bytes) -> None:
    import onnx

    from fedledger.evaluate.errors import UnsupportedVersionError
    from fedledger.evaluate.runtime_support import installed_support

    future = onnx.load_from_string(model)
    for opset in future.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = 999
    registry, store = FakeRegistry(task(), champion=None), FakeStore()
    with pytest.raises(UnsupportedVersionError) as error:
        propose(registry, store, future.SerializeToString())
    support = installed_support()
    assert str(error.value) == (
        f"model imports ai.onnx opset 999; onnxruntime {support.onnxruntime}, which the "
        f"validators evaluate with, supports ai.onnx up to opset {support.opsets['']} (export "
        "the model for that opset)"
    )
    assert (store.stored, registry.submitted) == ([], [])


class Announcing(FakeRegistry):
    def __init__(self, serving: list[ServingValidator]) -> None:
        super().__init__(task(), champion=None)
        self.found = replace(self.found, members=("Org1MSP", "Org2MSP", "Org3MSP"))
        self.serving = serving

    def list_validators(self, task_id: str) -> tuple[ServingValidator, ...]:
        assert task_id == "churn"
        return tuple(self.serving)


def serving(org: str, announced: datetime) -> ServingValidator:
    return ServingValidator(org, "churn", NOW, "fedledger/0.1 onnxruntime/1.32.0", announced, "t")


def test_members_without_a_fresh_validator_are_warned_of_and_the_model_still_proposed(
    model: bytes,
) -> None:
    registry = Announcing(
        [
            serving("Org1MSP", NOW + timedelta(hours=20)),
            serving("Org3MSP", NOW - timedelta(hours=2)),
        ]
    )
    store, warnings = FakeStore(), list[str]()
    proposed = propose_model(
        cast(Registry, registry),
        cast(ModelStore, store),
        "churn",
        model,
        warn=warnings.append,
        now=lambda: NOW + timedelta(hours=26),
    )
    assert proposed == "proposed"
    assert warnings == [
        "Org2MSP has no validator serving task churn (none announced): its vote may not come "
        "before the deadline",
        "Org3MSP's validator last announced serving task churn 28 hours ago (2026-01-01 22:00 "
        "UTC): it may be down",
    ]


def test_a_chaincode_that_cannot_list_validators_is_one_warning() -> None:
    class Old(FakeRegistry):
        def list_validators(self, task_id: str) -> tuple[ServingValidator, ...]:
            raise ChaincodeRefusalError("ListValidators", "no such function", "tx")

    found = unserved_members(cast(Registry, Old(task(), None)), task(), NOW)
    assert found == ["cannot tell which members' validators serve task churn: no such function"]


@pytest.mark.parametrize(
    ("age", "words"),
    [
        (timedelta(minutes=119), "119 minutes"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(hours=47, minutes=59), "47 hours"),
        (timedelta(days=3, hours=5), "3 days"),
    ],
)
def test_ages_are_said_in_the_unit_a_person_would_use(age: timedelta, words: str) -> None:
    assert describe_age(age) == words
