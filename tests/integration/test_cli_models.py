"""The model commands as a data scientist types them: train, check and convert offline with a
task file; predict with the champion of a task on every ledger backend."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io
import yaml
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import DoubleTensorType
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner, Result

from fedledger.cli.app import app
from fedledger.models.conversion import convert
from fedledger.models.scoring import Scorer
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.proposing import propose_model
from fedledger.registry import Policy, open_registry
from fedledger.store.factory import open_store

from .everywhere import profile_caught_up

pytestmark = [pytest.mark.slow]
runner = CliRunner()
SCHEMA = synthetic_schema()
FEATURES = list(SCHEMA.feature_names)
NUMBERS = [f.name for f in SCHEMA.features if f.type != "category"]
ROWS = synthetic_frame(SCHEMA, 1200, seed=5)
TREE = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


def _workspace(folder: Path) -> Path:
    """A task file and two CSV files, as a member writes them."""
    task = {"id": "loans-1", "metric": "roc_auc", "policy": {"minScore": 0.6}}
    (folder / "task.yaml").write_text(yaml.safe_dump({**task, "schema": SCHEMA.to_dict()}))
    ROWS.iloc[:900].to_csv(folder / "train.csv", index=False)
    rows = ROWS.iloc[900:].reset_index(drop=True)
    rows.insert(0, "id", [f"loan-{i}" for i in range(len(rows))])
    rows.to_csv(folder / "rows.csv", index=False)
    return folder


def _fedledger(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, run from `folder` with relative paths."""
    env = {**os.environ, "COLUMNS": "200"}
    command = [str(Path(sys.executable).parent / "fedledger"), *args]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env, timeout=120)


def test_train_check_and_convert_offline_with_a_task_file(tmp_path: Path) -> None:
    folder = _workspace(tmp_path)
    trained = _fedledger(
        folder, "models", "train", "--task", "task.yaml", "--data", "train.csv",
        "--estimator", "logistic", "--out", "baseline.onnx",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert trained.stdout.strip() == (
        "baseline.onnx: LogisticRegression trained on 900 rows of train.csv for task loans-1"
    )
    checked = _fedledger(
        folder, "models", "check", "baseline.onnx", "--task", "task.yaml", "--data", "rows.csv"
    )
    assert checked.returncode == 0, checked.stderr
    assert "baseline.onnx fits task loans-1: the static checks pass" in checked.stdout
    assert "evaluated on 300 rows of rows.csv in the sandbox:" in checked.stdout
    assert "a validator with these rows would vote approve: roc_auc" in checked.stdout

    pipeline = make_pipeline(StandardScaler(), LogisticRegression())
    pipeline.fit(ROWS[NUMBERS].iloc[:900], ROWS["label"].iloc[:900].astype(str))
    plain = convert_sklearn(
        pipeline,
        initial_types=[(n, DoubleTensorType([None, 1])) for n in NUMBERS],
        options={id(pipeline): {"zipmap": False}},
    )
    (folder / "plain.onnx").write_bytes(plain.SerializeToString())
    refused = _fedledger(folder, "models", "check", "plain.onnx", "--task", "task.yaml")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "error: plain.onnx does not fit task loans-1: model metadata lacks "
        "fedledger.format_version: the file was not made for a fedledger task; run "
        "`fedledger models convert --task loans-1 MODEL --out model.onnx` to fit it to the "
        "task (docs/bring-your-own-model.md)"
    )


def test_convert_refuses_untrusted_skops_types_until_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _workspace(tmp_path)
    model = HistGradientBoostingClassifier(max_iter=20).fit(
        ROWS[FEATURES].iloc[:900].assign(region=ROWS["region"].iloc[:900].str.len()),
        ROWS["label"].iloc[:900].astype(str),
    )
    skops.io.dump(model, folder / "hgb.skops")
    monkeypatch.chdir(folder)
    command = ["models", "convert", "hgb.skops", "--task", "task.yaml", "--out", "hgb.onnx"]
    refused = runner.invoke(app, command)
    assert refused.exit_code == 1
    assert " ".join(refused.output.split()) == (
        "error: hgb.skops cannot be converted for task loans-1: hgb.skops holds types skops "
        f"does not trust: {TREE}; nothing was loaded. If you trust whoever wrote the file, name "
        f"them: --trust {TREE}"
    )
    assert not (folder / "hgb.onnx").exists()
    # Trusted, it loads; a matrix of numbers cannot carry the task's category feature.
    trusted = runner.invoke(app, [*command, "--trust", TREE])
    assert trusted.exit_code == 1
    assert "the task's feature(s) ['region'] are categories" in trusted.output
    assert not (folder / "hgb.onnx").exists()


def test_convert_a_skops_pipeline_then_check_it_on_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _workspace(tmp_path)
    trained = train(SCHEMA, ROWS.iloc[:900], LogisticRegression(max_iter=500))
    skops.io.dump(trained.pipeline, folder / "pipeline.skops")
    monkeypatch.chdir(folder)
    converted = runner.invoke(
        app, ["models", "convert", "pipeline.skops", "--task", "task.yaml", "--out", "m.onnx"]
    )
    assert converted.exit_code == 0, converted.output
    assert converted.stdout.startswith(
        "m.onnx: scikit-learn (skops) model converted for task loans-1"
    )
    checked = runner.invoke(
        app, ["models", "check", "m.onnx", "--task", "task.yaml", "--data", "rows.csv"]
    )
    assert checked.exit_code == 0, checked.output
    assert "would vote approve" in checked.stdout


def test_model_commands_name_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _workspace(tmp_path)
    monkeypatch.chdir(folder)
    wrong = ROWS.iloc[:50].assign(region="atlantis")
    wrong.to_csv("wrong.csv", index=False)
    regression = runner.invoke(
        app, ["models", "train", "--task", "task.yaml", "--data", "train.csv",
              "--estimator", "linear", "--out", "m.onnx"],
    )  # fmt: skip
    assert regression.exit_code == 1
    assert regression.output.strip() == (
        "error: --estimator linear needs a regression task; use logistic"
    )
    bad_rows = runner.invoke(
        app, ["models", "train", "--task", "task.yaml", "--data", "wrong.csv",
              "--estimator", "rf", "--out", "m.onnx"],
    )  # fmt: skip
    assert bad_rows.exit_code == 1
    assert "error: wrong.csv does not match the task schema:" in bad_rows.output
    assert "'atlantis'" in bad_rows.output
    offline = runner.invoke(app, ["models", "check", "m.onnx", "--task", "loans-1"])
    assert offline.exit_code == 1
    assert " ".join(offline.output.split()) == (
        "error: cannot read m.onnx: No such file or directory"
    )
    no_ledger = runner.invoke(
        app, ["models", "train", "--task", "loans-1", "--data", "train.csv",
              "--estimator", "rf", "--out", "m.onnx"],
    )  # fmt: skip
    assert no_ledger.exit_code == 1
    assert " ".join(no_ledger.output.split()) == (
        "error: --task loans-1 is a task id, read from the ledger, but no connection profile at "
        f"{folder / '.fedledger' / 'connection-profile.yaml'}: start a network with `fedledger "
        "network up` or write one (docs/connection-profile.md); to work offline, give the task "
        "file instead (--task task.yaml)"
    )
    not_a_file = runner.invoke(app, ["predict", "rows.csv", "--task", "task.yaml", "--out", "s"])
    assert not_a_file.exit_code == 1
    assert not_a_file.output.strip() == (
        "error: predict scores with the champion on the ledger: give the task's id, not task.yaml"
    )


# predict, on every ledger backend


def _champion(ledger: Any, store: Path, max_regression: float | None = None) -> tuple[str, bytes]:
    """A task whose champion is a model proposed by Org1 and approved by Org2 and Org3."""
    task_id = f"predict-{uuid.uuid4().hex[:8]}"
    model = convert(train(SCHEMA, ROWS.iloc[:900], LogisticRegression(max_iter=500)), task_id)
    with open_registry(ledger.profile, "Org1MSP") as registry:
        registry.create_task(
            task_id,
            schema=SCHEMA.to_dict(),
            metric="roc_auc",
            members=["Org1MSP", "Org2MSP", "Org3MSP"],
            policy=Policy(2, 0.5, None, max_regression, 600, 1_000_000, 2),
        )
        proposal = propose_model(registry, open_store(store), task_id, model)
    _approve_and_decide(ledger, proposal.id)
    return task_id, model


def _approve_and_decide(ledger: Any, proposal_id: str) -> None:
    """Org2 and Org3 approve, each once its own peer has the writes before (another peer
    commits a block in its own time), and Org3 decides, as the last voter's validator would.
    Returns once every peer has the decision: the tests then read it as any organisation."""
    for org in ("Org2MSP", "Org3MSP"):
        profile_caught_up(ledger.profile)
        with open_registry(ledger.profile, org) as registry:
            registry.cast_vote(
                proposal_id,
                decision="approve",
                metrics={"roc_auc": 0.9},
                holdout_rows=100,
                evaluator_version="test",
                reason="fine",
            )
            if org == "Org3MSP":
                assert registry.decide(proposal_id).status == "ACCEPTED"
    profile_caught_up(ledger.profile)


def _predict(ledger: Any, store: Path, *args: str) -> Result:
    where = ["--profile", str(ledger.profile.path), "--org", "Org3MSP", "--store", str(store)]
    return runner.invoke(app, ["predict", *args, *where])


@pytest.mark.ledger
def test_predict_scores_rows_with_the_verified_champion(
    ledger: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    task_id, model = _champion(ledger, store)
    folder = _workspace(tmp_path)
    monkeypatch.chdir(folder)
    monkeypatch.setattr("fedledger.cli.predict.BATCH_ROWS", 128)
    result = _predict(ledger, store, "rows.csv", "--task", task_id, "--out", "scores.csv")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "scored 128 of 300 rows",
        "scored 256 of 300 rows",
        "scored 300 of 300 rows",
    ]
    assert f"scores.csv: 300 rows scored with the champion of {task_id}" in result.stdout
    scores = pd.read_csv("scores.csv", keep_default_na=False)
    assert list(scores.columns) == ["id", "prediction", "probability_no", "probability_yes"]
    rows = pd.read_csv("rows.csv")
    assert scores["id"].tolist() == rows["id"].tolist()
    expected = Scorer(model, SCHEMA).score(ROWS.iloc[900:].reset_index(drop=True))
    assert expected.probabilities is not None
    assert expected.labels is not None
    probabilities = scores[["probability_no", "probability_yes"]].to_numpy()
    assert np.abs(probabilities - expected.probabilities).max() < 1e-12
    assert scores["prediction"].tolist() == [["no", "yes"][i] for i in expected.labels]

    missing = _predict(
        ledger, store, "rows.csv", "--task", task_id, "--out", "other.csv", "--id-column", "loan"
    )
    assert missing.exit_code == 1
    assert "error: rows.csv has no column 'loan' (--id-column); its columns: ['id'," in (
        " ".join(missing.output.split())
    )
    assert not Path("other.csv").exists()


@pytest.mark.ledger
def test_check_and_convert_read_a_task_id_from_the_ledger(
    ledger: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    task_id, model = _champion(ledger, store, max_regression=0.01)
    monkeypatch.chdir(_workspace(tmp_path))
    Path("champion.onnx").write_bytes(model)
    where = ["--task", task_id, "--profile", str(ledger.profile.path), "--store", str(store)]
    checked = runner.invoke(app, ["models", "check", "champion.onnx", *where])
    assert checked.exit_code == 0, checked.output
    assert f"champion.onnx fits task {task_id}: the static checks pass" in checked.stdout

    # A model trained on shuffled labels, checked on rows: vetoed against the champion.
    labels = ROWS["label"].iloc[:900].sample(frac=1, random_state=0).to_numpy()
    shuffled = ROWS.iloc[:900].assign(label=labels)
    skops.io.dump(train(SCHEMA, shuffled, LogisticRegression()).pipeline, "shuffled.skops")
    converted = runner.invoke(
        app, ["models", "convert", "shuffled.skops", "--out", "shuffled.onnx", *where[:4]]
    )
    assert converted.exit_code == 0, converted.output
    vetoed = runner.invoke(app, ["models", "check", "shuffled.onnx", "--data", "rows.csv", *where])
    assert vetoed.exit_code == 1, vetoed.output
    text = " ".join(vetoed.stdout.split())
    assert "the champion p-" in text
    assert "scores roc_auc 0.9" in text
    assert "a validator with these rows would vote reject: roc_auc" in text
    assert "from the champion's" in text
    assert "more than the allowed 0.01" in text

    unknown = runner.invoke(app, ["models", "check", "champion.onnx", "--task", "nope-1",
                                  "--profile", str(ledger.profile.path)])  # fmt: skip
    assert unknown.exit_code == 1
    assert "task nope-1 does not exist" in unknown.output


@pytest.mark.ledger
def test_predict_refuses_a_champion_whose_bytes_changed_in_the_store(
    ledger: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    task_id, model = _champion(ledger, store)
    stored = store / "sha256" / hashlib.sha256(model).hexdigest()
    stored.chmod(0o644)
    stored.write_bytes(model + b"\0")
    folder = _workspace(tmp_path)
    monkeypatch.chdir(folder)
    result = _predict(ledger, store, "rows.csv", "--task", task_id, "--out", "scores.csv")
    assert result.exit_code == 1
    digest = hashlib.sha256(model).hexdigest()
    tampered = hashlib.sha256(model + b"\0").hexdigest()
    assert " ".join(result.output.split()).endswith(
        f"/store/sha256/{digest} has SHA-256 {tampered}, expected {digest}"
    )
    assert not Path("scores.csv").exists()
    assert not Path("scores.csv.partial").exists()


def test_check_refuses_a_loop_without_a_constant_bound_before_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `propose` and every validator refuse statically (docs/bounded-evaluation.md)."""
    from tests.unit.hostile_models import loop_model

    folder = _workspace(tmp_path)
    monkeypatch.chdir(folder)
    bomb = loop_model(None, trip_name="rows", schema=SCHEMA, task_id="loans-1")
    Path("bomb.onnx").write_bytes(bomb.SerializeToString())
    refused = runner.invoke(app, ["models", "check", "bomb.onnx", "--task", "task.yaml"])
    assert refused.exit_code == 1
    assert " ".join(refused.output.split()) == (
        "error: bomb.onnx does not fit task loans-1: Loop node 'spin' has a trip count computed "
        "at run time ('rows'); a "
        "Loop's trip count must be a constant (an initializer) of at most 100000"
    )


def _variant(model: bytes) -> bytes:
    """The same model with another hash: a fresh doc string in its ONNX metadata."""
    import onnx

    parsed = onnx.load_from_string(model)
    parsed.doc_string = uuid.uuid4().hex
    return parsed.SerializeToString()


def _accept(ledger: Any, store: Path, task_id: str, model: bytes) -> str:
    """Org1 proposes `model`, Org2 and Org3 approve it: the task's new champion."""
    with open_registry(ledger.profile, "Org1MSP") as registry:
        proposal = propose_model(registry, open_store(store), task_id, model)
    _approve_and_decide(ledger, proposal.id)
    return proposal.id


@pytest.mark.ledger
def test_models_verify_exits_0_only_for_the_current_champion(
    ledger: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    task_id, first = _champion(ledger, store)
    second = _variant(first)
    successor = _accept(ledger, store, task_id, second)
    monkeypatch.chdir(tmp_path)
    Path("first.onnx").write_bytes(first)
    Path("second.onnx").write_bytes(second)
    where = ["--task", task_id, "--profile", str(ledger.profile.path)]
    with open_registry(ledger.profile, "Org1MSP") as registry:
        superseded_at = registry.get_proposal(successor).decided_at
    assert superseded_at is not None

    current = runner.invoke(app, ["models", "verify", "second.onnx", *where])
    assert current.exit_code == 0, current.output
    assert f"second.onnx is the champion of {task_id} ({successor})" in current.stdout
    old = runner.invoke(app, ["models", "verify", "first.onnx", *where])
    assert old.exit_code == 2, old.output
    text = " ".join(old.stdout.split())
    assert "status ACCEPTED, not the champion: superseded by " in text
    assert f"{successor} at {superseded_at.isoformat()} (the champion is {successor})" in text
    accepted = runner.invoke(app, ["models", "verify", "first.onnx", "--accepted", *where])
    assert accepted.exit_code == 0, accepted.output
    assert f"superseded by {successor}" in accepted.stdout


@pytest.mark.ledger
def test_store_verify_names_damage_and_gc_removes_only_unreferenced_objects(
    ledger: Any, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    task_id, model = _champion(ledger, store)
    digest = hashlib.sha256(model).hexdigest()
    orphan_uri = open_store(store).put(b"an object no proposal names")
    orphan = store / "sha256" / hashlib.sha256(b"an object no proposal names").hexdigest()
    where = ["--store", str(store)]

    intact = runner.invoke(app, ["store", "verify", *where])
    assert intact.exit_code == 0, intact.output
    assert "2 objects checked in LocalStore(" in intact.stdout
    assert "0 damaged or unreadable" in intact.stdout
    stored = store / "sha256" / digest
    tampered = model + b"\0"
    stored.write_bytes(tampered)
    damaged = runner.invoke(app, ["store", "verify", *where])
    assert damaged.exit_code == 1
    assert (
        f"DAMAGED {stored.as_uri()}: its bytes have SHA-256 {hashlib.sha256(tampered).hexdigest()}"
    ) in " ".join(damaged.stdout.split())
    open_store(store).put(model)  # the intact model, put again, repairs the object
    assert runner.invoke(app, ["store", "verify", *where]).exit_code == 0

    where += ["--profile", str(ledger.profile.path)]
    kept = runner.invoke(app, ["store", "gc", *where])
    assert kept.exit_code == 0, kept.output
    assert "0 unreferenced objects older than 24h removed" in kept.stdout
    dry = runner.invoke(app, ["store", "gc", "--grace", "0s", "--dry-run", *where])
    assert dry.exit_code == 0, dry.output
    assert f"would remove {orphan_uri} (27 bytes, written" in " ".join(dry.stdout.split())
    assert orphan.exists()
    removed = runner.invoke(app, ["store", "gc", "--grace", "0s", *where])
    assert removed.exit_code == 0, removed.output
    assert f"removed {orphan_uri}" in " ".join(removed.stdout.split())
    assert not orphan.exists()
    assert stored.read_bytes() == model, f"the champion of {task_id} stays"
    bad = runner.invoke(app, ["store", "gc", "--grace", "soon", *where])
    assert bad.exit_code == 1
    assert "error: --grace 'soon' is not a duration like 30m, 24h or 7d" in bad.output


@pytest.mark.ledger
def test_a_proposal_the_chaincode_refuses_leaves_no_object_behind(
    ledger: Any, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    task_id, model = _champion(ledger, store)  # its policy: two open proposals per member
    where = ["--task", task_id, "--profile", str(ledger.profile.path), "--store", str(store)]
    files = []
    for index in range(3):
        path = tmp_path / f"model-{index}.onnx"
        path.write_bytes(_variant(model))
        files.append(path)
    for path in files[:2]:
        proposed = runner.invoke(app, ["propose", str(path), *where])
        assert proposed.exit_code == 0, proposed.output
    refused = runner.invoke(app, ["propose", str(files[2]), *where])
    assert refused.exit_code == 1
    assert "error: proposal refused: Org1MSP already has 2 open proposals on task" in " ".join(
        refused.output.split()
    )
    names = {p.name for p in (store / "sha256").iterdir()}
    expected = {
        hashlib.sha256(b).hexdigest() for b in [model, *(f.read_bytes() for f in files[:2])]
    }
    assert names == expected
