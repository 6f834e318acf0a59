"""The task file: `fedledger task validate`, the checks `task create` runs, and their messages.

testdata/task-vectors.json is shared with the chaincode's tests: its limits and refusals
are the chaincode's, so a task file that passes here is one the chaincode accepts.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from fedledger.cli import tasks as tasks_module
from fedledger.cli.app import app
from fedledger.evaluate.policy import CLASSIFICATION_METRICS, LOWER_IS_BETTER, REGRESSION_METRICS
from fedledger.profile import ConnectionProfile, GatewayEndpoint, OrgProfile
from fedledger.schema import task_file
from fedledger.schema.task_file import (
    METRICS,
    POLICY_DEFAULTS,
    check_policy,
    check_task,
    load_yaml,
    read_task_file,
)
from fedledger.schema.types import MAX_FEATURES, MAX_LABEL_LENGTH, MAX_LABELS, MAX_NAME_LENGTH

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "testdata" / "task-vectors.json").read_text("utf-8"))
DOCS = (ROOT / "docs" / "task-file.md").read_text("utf-8")
MEMBERS = ["Org1MSP", "Org2MSP", "Org3MSP"]
runner = CliRunner()


def task_from(changes: dict[str, Any]) -> dict[str, Any]:
    """The vectors' base task with each dotted path of `changes` set (as the chaincode test)."""
    task = copy.deepcopy(VECTORS["base"])
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = task
        for key in parents:
            node = node[key]
        node[last] = value
    return task


# --- agreement with the chaincode -----------------------------------------------------------


def test_metrics_are_the_chaincodes_in_its_order() -> None:
    shared = json.loads((ROOT / "testdata" / "metrics.json").read_text("utf-8"))["taskMetrics"]
    assert [(m["name"], m["higherIsBetter"]) for m in shared] == list(METRICS.items())


def test_every_task_metric_is_one_validators_compute_in_the_same_direction() -> None:
    for metric, higher_is_better in METRICS.items():
        assert metric in CLASSIFICATION_METRICS + REGRESSION_METRICS
        assert higher_is_better == (metric not in LOWER_IS_BETTER)


def test_limits_and_defaults_are_the_chaincodes() -> None:
    assert VECTORS["limits"] == {
        "idLength": task_file.MAX_ID_LENGTH,
        "descriptionLength": task_file.MAX_DESCRIPTION,
        "members": task_file.MAX_MEMBERS,
        "votingPeriodSeconds": task_file.MAX_VOTING_PERIOD_SECONDS,
        "maxModelBytes": task_file.MAX_MODEL_BYTES,
        "maxOpenProposalsPerOrg": task_file.MAX_OPEN_PROPOSALS,
        "features": MAX_FEATURES,
        "labels": MAX_LABELS,
        "labelLength": MAX_LABEL_LENGTH,
        "nameLength": MAX_NAME_LENGTH,
    }
    assert VECTORS["policyDefaults"] == POLICY_DEFAULTS
    assert tasks_module.POLICY_DEFAULTS is POLICY_DEFAULTS


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_tasks_the_chaincode_accepts_pass(vector: dict[str, Any]) -> None:
    check = check_task(task_from(vector["set"]))
    assert check.problems == ()
    assert check.spec is not None


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_tasks_the_chaincode_refuses_fail_with_its_words(vector: dict[str, Any]) -> None:
    check = check_task(task_from(vector["set"]))
    [problem] = check.problems
    assert problem == vector["error"] or problem.startswith(vector["error"] + "; ")


POLICY_VECTORS = [v for v in VECTORS["invalid"] if any(k.startswith("policy.") for k in v["set"])]


@pytest.mark.parametrize("vector", POLICY_VECTORS, ids=lambda v: v["name"])
def test_policy_refusals_are_word_for_word(vector: dict[str, Any]) -> None:
    problems: list[str] = []
    task = task_from(vector["set"])
    check_policy(task["policy"], 3, problems, metric=task["metric"])
    assert problems == [vector["error"]]


# --- task validate --------------------------------------------------------------------------

MINIMAL = """\
id: churn-1
schema:
  features:
    - {name: tenure_months, type: int}
    - {name: has_contract, type: bool}
  target: {name: churned, type: category, classes: [no, yes]}
metric: roc_auc
"""


def write(folder: Path, text: str, name: str = "task.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def validate(path: Path, *extra: str) -> Any:
    # --run-dir in an empty folder: no connection profile, as on a newcomer's machine.
    run_dir = path.parent / "no-network"
    return runner.invoke(app, ["task", "validate", str(path), "--run-dir", str(run_dir), *extra])


def test_validate_prints_the_effective_task_with_defaults(tmp_path: Path) -> None:
    result = validate(write(tmp_path, MINIMAL))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"# {tmp_path / 'task.yaml'} is a valid task file; `fedledger task create` would "
        "submit this task,",
        "# with every default filled in.",
    ]
    assert re.fullmatch(r"# schema SHA-256: [0-9a-f]{64}", lines[2])
    assert lines[3:5] == [
        "# note: members are not given and there is no connection profile: `task create` "
        "makes every organisation of the network a member",
        "# note: policy.quorum is not given: it defaults to the number of members of the "
        "network at create time",
    ]
    effective = yaml.safe_load(result.stdout)
    assert effective["policy"] == POLICY_DEFAULTS
    assert "members" not in effective
    assert effective["higherIsBetter"] is True
    assert effective["schema"]["target"]["classes"] == ["no", "yes"]  # not booleans
    assert effective["schema"]["features"][1] == {
        "name": "has_contract",
        "type": "bool",
        "nullable": False,
    }


def test_the_printed_task_is_itself_a_valid_task_file(tmp_path: Path) -> None:
    first = validate(write(tmp_path, MINIMAL))
    again = validate(write(tmp_path, first.stdout, "effective.yaml"))
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[1:] == first.stdout.splitlines()[1:]


def test_members_fill_in_the_quorum(tmp_path: Path) -> None:
    text = MINIMAL + "members: [Org2MSP, Org1MSP]\npolicy: {minScore: 0.7}\n"
    result = validate(write(tmp_path, text))
    assert result.exit_code == 0, result.output
    effective = yaml.safe_load(result.stdout)
    assert effective["members"] == ["Org1MSP", "Org2MSP"]
    assert effective["policy"] == {**POLICY_DEFAULTS, "quorum": 2, "minScore": 0.7}
    assert "# note:" not in result.stdout


def _write_profile(run_dir: Path, msp_ids: list[str]) -> Path:
    orgs = {
        msp: OrgProfile(
            msp_id=msp,
            gateway=GatewayEndpoint("localhost:7051", "peer0", run_dir / "ca.pem"),
            identities={"user": run_dir / "user"},
        )
        for msp in msp_ids
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "ca.pem").write_text("not a certificate: validate never connects")
    (run_dir / "user").mkdir(exist_ok=True)
    profile = ConnectionProfile("test", "embedded", "fedledger", "fedledger", orgs)
    path = run_dir / "connection-profile.yaml"
    profile.write(path)
    return path


def test_a_connection_profile_supplies_the_default_members(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    run_dir = tmp_path / "net"
    profile = _write_profile(run_dir, MEMBERS)
    result = runner.invoke(app, ["task", "validate", str(path), "--run-dir", str(run_dir)])
    assert result.exit_code == 0, result.output
    effective = yaml.safe_load(result.stdout)
    assert effective["members"] == MEMBERS
    assert effective["policy"]["quorum"] == 3
    assert (
        f"# note: members are not given: every organisation in the connection profile {profile} "
        "(Org1MSP, Org2MSP, Org3MSP)" in result.stdout
    )


def test_quorum_without_members_is_checked_at_create_time(tmp_path: Path) -> None:
    result = validate(write(tmp_path, MINIMAL + "policy: {quorum: 2}\n"))
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["policy"]["quorum"] == 2
    assert (
        "# note: policy.quorum 2 must not exceed the number of members of the network at "
        "create time" in result.stdout
    )


def test_validate_lists_every_problem_with_its_field_path(tmp_path: Path) -> None:
    text = """\
id: credit risk
descripton: Lending Club
metric: r2
members: [Org1MSP, Org1MSP]
schema:
  features:
    - {name: loan_amnt, type: float}
    - {name: term, type: string}
    - {name: paid, type: int, categories: [no, yes]}
    - {name: has_mortgage, type: boolean}
  target: {name: Class, type: category, classes: [0, 1]}
policy:
  approvalThreshold: 2
  votingPeriod: 60
"""
    result = validate(write(tmp_path, text))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'task.yaml'}: 9 problems",
        "  - unknown field descripton (allowed: id, description, schema, metric, "
        "higherIsBetter, members, policy); did you mean description?",
        '  - id must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or '
        'digit, got "credit risk"',
        "  - schema.features[1].type must be one of float, int, bool, category, got "
        '"string"; use category and list the values in categories',
        '  - schema.features[2].categories is only allowed on category features, and "paid" '
        "is int; remove it or declare the feature as type: category",
        "  - schema.features[3].type must be one of float, int, bool, category, got "
        '"boolean"; use bool',
        "  - schema.target.classes[0] must be a string, got 0; class labels are strings, so "
        'quote them: classes: ["0", "1"]',
        '  - members[1] repeats "Org1MSP"; entries must be unique',
        "  - unknown field policy.votingPeriod (allowed: quorum, approvalThreshold, minScore, "
        "maxRegression, votingPeriodSeconds, maxModelBytes, maxOpenProposalsPerOrg); did you "
        "mean votingPeriodSeconds?",
        "  - policy.approvalThreshold must be a share greater than 0 and at most 1, got 2",
    ]


# --- each mistake and its message (docs/task-file.md, "Errors", lists the same) ---------------

# (what is wrong, the task file or a change to MINIMAL's document, the message)
MISTAKES: list[tuple[str, str | dict[str, Any], str]] = [
    (
        "not YAML",
        "id: churn-1\nschema: {features: [}\n",
        "the task file is not valid YAML: expected the node content, but found '}' "
        "(line 2, column 21)",
    ),
    (
        "a tab for indentation",
        "id: churn-1\nschema:\n\tfeatures: []\n",
        "the task file is not valid YAML: found character '\\t' that cannot start any token "
        "(line 3, column 1); indent with spaces, not tabs",
    ),
    (
        "a colon in an unquoted value",
        "id: churn-1\ndescription: Churn: monthly\n",
        "the task file is not valid YAML: mapping values are not allowed here "
        '(line 2, column 19); a value that contains ": " must be quoted',
    ),
    (
        "a key given twice",
        MINIMAL + "metric: f1\n",
        "the task file is not valid YAML: the key 'metric' appears twice (first on line 7) "
        "(line 8, column 1)",
    ),
    ("an empty file", "", "the task file is empty: write a mapping with id, schema and metric"),
    (
        "a list instead of a mapping",
        "- id: churn-1\n",
        "the task file must be a mapping with id, schema and metric (and optionally "
        "description, members, policy), got an array",
    ),
    (
        "no id",
        {"id": None},
        'id is required: a name for the task that 1 to 64 letters, digits, ".", "_" or "-", '
        "starting with a letter or digit",
    ),
    (
        "an id that YAML reads as a number",
        {"id": 2024},
        'id must be a non-empty string, got 2024; quote it: id: "2024"',
    ),
    (
        "an id that YAML reads as a date",
        MINIMAL.replace("id: churn-1", "id: 2026-01-05"),
        'id must be a non-empty string, got the date 2026-01-05; quote it: id: "2026-01-05"',
    ),
    (
        "an id with a space",
        {"id": "churn 1"},
        'id must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, '
        'got "churn 1"',
    ),
    (
        "a misspelt field",
        {"metrc": "f1"},
        "unknown field metrc (allowed: id, description, schema, metric, higherIsBetter, "
        "members, policy); did you mean metric?",
    ),
    (
        "a description over several lines",
        {"description": "Churn\nmonthly\n"},
        'description must not contain control characters, got "Churn\\nmonthly\\n"; write it '
        'on one line (in YAML, ">-" folds the lines of a block into one, where "|" keeps the '
        "line breaks)",
    ),
    (
        "no schema",
        {"schema": None},
        "schema is required: the data schema inline (features and target) or the path of a "
        "schema file relative to the task file",
    ),
    (
        "a schema file that is not there",
        {"schema": "schemas/churn.json"},
        "schema names the file schemas/churn.json ({folder}/schemas/churn.json), which cannot "
        "be read: No such file or directory",
    ),
    (
        "no features",
        {"schema": {"features": [], "target": {"name": "churned", "type": "float"}}},
        "schema.features must be a list of 1 to 4096 features, got an array",
    ),
    (
        "a feature type that does not exist",
        {"schema.features": [{"name": "plan", "type": "string"}]},
        'schema.features[0].type must be one of float, int, bool, category, got "string"; '
        "use category and list the values in categories",
    ),
    (
        "boolean instead of bool",
        {"schema.features": [{"name": "has_contract", "type": "boolean"}]},
        'schema.features[0].type must be one of float, int, bool, category, got "boolean"; '
        "use bool",
    ),
    (
        "a feature name that is not an ONNX input name",
        {"schema.features": [{"name": "monthly charges", "type": "float"}]},
        'schema.features[0].name must be usable as an ONNX input name: a letter or "_", then '
        'up to 127 letters, digits, "_", "." or "-", got "monthly charges"',
    ),
    (
        "a repeated feature name",
        {"schema.features": [{"name": "a", "type": "float"}, {"name": "a", "type": "int"}]},
        'schema.features[1].name repeats "a"; feature names must be unique',
    ),
    (
        "a category feature without categories",
        {"schema.features": [{"name": "plan", "type": "category"}]},
        "schema.features[0].categories is required for a category feature: list its values "
        "(strings, in encoding order)",
    ),
    (
        "categories on a bool feature",
        {"schema.features": [{"name": "has_contract", "type": "bool", "categories": ["n", "y"]}]},
        "schema.features[0].categories is only allowed on category features, and "
        '"has_contract" is bool; remove it or declare the feature as type: category',
    ),
    (
        "numbers as categories",
        {"schema.features": [{"name": "plan", "type": "category", "categories": [1, 2, 3]}]},
        "schema.features[0].categories[0] must be a string, got 1; categories are strings, so "
        'quote them: categories: ["1", "2", "3"]',
    ),
    (
        "a repeated category",
        {"schema.features": [{"name": "plan", "type": "category", "categories": ["a", "a"]}]},
        'schema.features[0].categories[1] repeats "a"; entries must be unique',
    ),
    (
        "nullable written as yes",
        {"schema.features": [{"name": "tenure_months", "type": "int", "nullable": "yes"}]},
        'schema.features[0].nullable must be true or false, got "yes"',
    ),
    (
        "unknown feature field",
        {"schema.features": [{"name": "tenure_months", "type": "int", "unit": "month"}]},
        "unknown field schema.features[0].unit (allowed: name, type, nullable, categories, format)",
    ),
    (
        "format on a float feature",
        {"schema.features": [{"name": "income", "type": "float", "format": "iso3166-alpha2"}]},
        'schema.features[0].format is only allowed on category features, and "income" is float; '
        "remove it or declare the feature as type: category",
    ),
    (
        "unknown format",
        {
            "schema.features": [
                {"name": "country", "type": "category", "categories": ["BR"], "format": "iso"}
            ]
        },
        'schema.features[0].format must be one of iso3166-alpha2 (or left out), got "iso"',
    ),
    (
        "country names as categories",
        {
            "schema.features": [
                {
                    "name": "country",
                    "type": "category",
                    "categories": ["Brazil"],
                    "format": "iso3166-alpha2",
                }
            ]
        },
        "schema.features[0].categories[0] must be an ISO 3166 alpha-2 code (two capital letters, "
        'e.g. "BR") as the feature\'s format is iso3166-alpha2, got "Brazil"',
    ),
    (
        "no target",
        {"schema": {"features": [{"name": "a", "type": "float"}]}},
        "schema.target is required: an object with name and type (and classes for a category "
        "target)",
    ),
    (
        "a bool target",
        {"schema.target": {"name": "churned", "type": "bool"}},
        "schema.target.type must be float (regression) or category (classification, with "
        'classes), got "bool"; a yes/no target is a category target with two classes, e.g. '
        'classes: ["false", "true"]',
    ),
    (
        "an int target",
        {"schema.target": {"name": "churned", "type": "int"}},
        "schema.target.type must be float (regression) or category (classification, with "
        'classes), got "int"; use float for a numeric target, or category with the labels '
        'quoted as classes, e.g. classes: ["0", "1"]',
    ),
    (
        "class labels written as numbers",
        {"schema.target.classes": [0, 1]},
        "schema.target.classes[0] must be a string, got 0; class labels are strings, so quote "
        'them: classes: ["0", "1"]',
    ),
    (
        "one class",
        {"schema.target.classes": ["yes"]},
        "schema.target.classes must list at least 2 classes, got 1",
    ),
    (
        "a category target without classes",
        {"schema.target": {"name": "churned", "type": "category"}},
        "schema.target.classes is required for a category target: list the class labels "
        "(strings, the positive class last)",
    ),
    (
        "classes on a float target",
        {"schema.target": {"name": "churned", "type": "float", "classes": ["no", "yes"]}},
        "schema.target.classes is only allowed on a category target; remove it or declare "
        "the target as type: category",
    ),
    (
        "the target among the features",
        {"schema.features": [{"name": "churned", "type": "float"}]},
        'schema.target.name "churned" is also a feature; the target must not be an input',
    ),
    (
        "no metric",
        {"metric": None},
        "metric is required: one of roc_auc, accuracy, f1, log_loss, rmse, mae, r2",
    ),
    (
        "an unknown metric",
        {"metric": "auc"},
        'metric must be one of roc_auc, accuracy, f1, log_loss, rmse, mae, r2, got "auc"; '
        "did you mean roc_auc?",
    ),
    (
        "a regression metric for a category target",
        {"metric": "rmse"},
        "metric rmse is a regression metric, but schema.target is a category target "
        "(classification); use one of roc_auc, accuracy, f1, log_loss",
    ),
    (
        "a classification metric for a float target",
        {"schema.target": {"name": "churned", "type": "float"}},
        "metric roc_auc is a classification metric, but schema.target is a float target "
        "(regression); use one of rmse, mae, r2",
    ),
    (
        "a direction that contradicts the metric",
        {"higherIsBetter": False},
        "higherIsBetter contradicts the metric roc_auc, for which higher is better, got false; "
        "leave it out: it follows from the metric",
    ),
    (
        "members not a list",
        {"members": "Org1MSP"},
        'members must be a list of 1 to 64 strings, got "Org1MSP"',
    ),
    (
        "a malformed member",
        {"members": ["Org1MSP", "Org 2"]},
        'members[1] must be an MSP ID: 1 to 128 letters, digits, ".", "_" or "-", got "Org 2"',
    ),
    (
        "a repeated member",
        {"members": ["Org1MSP", "Org1MSP"]},
        'members[1] repeats "Org1MSP"; entries must be unique',
    ),
    (
        "a quorum above the members",
        {"members": MEMBERS, "policy": {"quorum": 4}},
        "policy.quorum must be an integer from 1 to 3, got 4",
    ),
    (
        "an approval threshold as a percentage",
        {"policy": {"approvalThreshold": 50}},
        "policy.approvalThreshold must be a share greater than 0 and at most 1, got 50",
    ),
    (
        "a negative maximum regression",
        {"policy": {"maxRegression": -0.01}},
        "policy.maxRegression must be zero or more (or null for no veto), got -0.01",
    ),
    (
        "a minimum score as text",
        {"policy": {"minScore": "0.7"}},
        'policy.minScore must be a finite number, got "0.7"',
    ),
    (
        "a voting period with a unit",
        {"policy": {"votingPeriodSeconds": "1h"}},
        'policy.votingPeriodSeconds must be an integer from 1 to 31536000, got "1h"',
    ),
    (
        "a model size with a unit",
        {"policy": {"maxModelBytes": "64MiB"}},
        'policy.maxModelBytes must be an integer from 1 to 1099511627776, got "64MiB"',
    ),
    (
        "too many open proposals",
        {"policy": {"maxOpenProposalsPerOrg": 0}},
        "policy.maxOpenProposalsPerOrg must be an integer from 1 to 100, got 0",
    ),
    (
        "a misspelt policy field",
        {"policy": {"approval_threshold": 0.6}},
        "unknown field policy.approval_threshold (allowed: quorum, approvalThreshold, minScore, "
        "maxRegression, votingPeriodSeconds, maxModelBytes, maxOpenProposalsPerOrg); did you "
        "mean approvalThreshold?",
    ),
    (
        "a policy that is not a mapping",
        {"policy": [2, 0.5]},
        "policy must be a mapping of quorum, approvalThreshold, minScore, maxRegression, "
        "votingPeriodSeconds, maxModelBytes, maxOpenProposalsPerOrg, got an array",
    ),
]


def _mistake_file(folder: Path, change: str | dict[str, Any]) -> Path:
    if isinstance(change, str):
        return write(folder, change)
    doc = load_yaml(MINIMAL)
    for path, value in change.items():
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        node[last] = value
    return write(folder, yaml.safe_dump(doc, sort_keys=False))


@pytest.mark.parametrize(("what", "change", "message"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_mistake_gives_its_message(
    what: str, change: str | dict[str, Any], message: str, tmp_path: Path
) -> None:
    path = _mistake_file(tmp_path, change)
    result = validate(path)
    assert result.exit_code == 1, result.output
    expected = message.replace("{folder}", str(tmp_path))
    assert result.stderr.splitlines()[:2] == [
        f"error: {path}: 1 problem",
        f"  - {expected}",
    ]


def test_the_docs_list_every_mistake_with_its_message() -> None:
    for what, _, message in MISTAKES:
        assert message.replace("{folder}", "<folder>") in DOCS, what


def _docs_examples() -> Iterator[tuple[str, str]]:
    for block in re.findall(r"```yaml\n(.*?)```", DOCS, re.DOTALL):
        first = block.splitlines()[0]
        if first.startswith("# example: "):
            yield first.removeprefix("# example: "), block


@pytest.mark.parametrize(("name", "text"), list(_docs_examples()), ids=lambda v: v[:40])
def test_the_docs_examples_are_valid_task_files(name: str, text: str, tmp_path: Path) -> None:
    result = validate(write(tmp_path, text, name))
    assert result.exit_code == 0, result.output


def test_the_docs_have_a_minimal_and_a_full_example() -> None:
    examples = dict(_docs_examples())
    assert {"minimal.yaml", "full.yaml"} <= set(examples)
    full = load_yaml(examples["full.yaml"])
    types = {f["type"] for f in full["schema"]["features"]}
    assert types == {"float", "int", "category", "bool"}
    assert full["schema"]["target"]["type"] == "category"
    assert set(full["policy"]) == set(task_file.POLICY_FIELDS)


# --- the schema file and YAML ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["schema.json", "schema.yaml"])
def test_schema_from_a_file_next_to_the_task_file(name: str, tmp_path: Path) -> None:
    schema = {
        "features": [{"name": "paid", "type": "bool"}],
        "target": {"name": "y", "type": "category", "classes": ["no", "yes"]},
    }
    (tmp_path / "schemas").mkdir()
    text = json.dumps(schema) if name.endswith(".json") else yaml.safe_dump(schema)
    (tmp_path / "schemas" / name).write_text(text)
    path = write(tmp_path, f"id: t\nschema: schemas/{name}\nmetric: f1\nmembers: [Org1MSP]\n")
    check = read_task_file(path)
    assert check.ok, check.problems
    assert check.spec is not None
    assert check.spec.schema.to_dict()["features"] == [
        {"name": "paid", "type": "bool", "nullable": False}
    ]


def test_schema_file_problems_keep_their_field_paths(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{"features": [{"name": "x", "type": "bool"}]}')
    (tmp_path / "bad.json").write_text('{"features": [')
    check = read_task_file(write(tmp_path, "id: t\nschema: s.json\nmetric: f1\n"))
    assert check.problems == (
        "schema.target is required: an object with name and type (and classes for a category "
        "target)",
    )
    check = read_task_file(write(tmp_path, "id: t\nschema: bad.json\nmetric: f1\n"))
    assert check.problems == (
        "schema names the file bad.json, which is not valid JSON: Expecting value: line 1 "
        "column 15 (char 14)",
    )


def test_yaml_reads_yes_and_no_as_text_and_true_false_as_booleans() -> None:
    assert load_yaml("a: [no, yes, on, off, y, n]\nb: true\nc: False\n") == {
        "a": ["no", "yes", "on", "off", "y", "n"],
        "b": True,
        "c": False,
    }


def test_a_json_task_file_is_read_as_json(tmp_path: Path) -> None:
    doc = {**load_yaml(MINIMAL), "members": ["Org1MSP"]}
    check = read_task_file(write(tmp_path, json.dumps(doc), "task.json"))
    assert check.ok, check.problems
    check = read_task_file(write(tmp_path, "{", "broken.json"))
    assert check.problems == (
        "the task file is not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
    )


def test_an_unreadable_task_file_is_a_problem(tmp_path: Path) -> None:
    check = read_task_file(tmp_path / "absent.yaml")
    assert check.problems == ("cannot read the task file: No such file or directory",)


# --- task create runs the same checks -------------------------------------------------------


class _Refuse:
    def __call__(self, *args: object) -> Iterator[None]:
        raise AssertionError("task create contacted the ledger with a task file that is wrong")


def test_create_refuses_a_wrong_task_file_before_contacting_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "net"
    _write_profile(run_dir, MEMBERS)
    monkeypatch.setattr(tasks_module, "registry_for", _Refuse())
    path = write(tmp_path, MINIMAL.replace("roc_auc", "auc") + "policy: {quorum: 5}\n")
    result = runner.invoke(app, ["task", "create", str(path), "--run-dir", str(run_dir)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {path}: 2 problems, nothing was submitted",
        '  - metric must be one of roc_auc, accuracy, f1, log_loss, rmse, mae, r2, got "auc"; '
        "did you mean roc_auc?",
        "  - policy.quorum must be an integer from 1 to 3, got 5",
        "  note: members are not given: every organisation in the connection profile "
        "(Org1MSP, Org2MSP, Org3MSP)",
    ]


def test_create_refuses_a_task_its_creator_is_not_a_member_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "net"
    _write_profile(run_dir, MEMBERS)
    monkeypatch.setattr(tasks_module, "registry_for", _Refuse())
    path = write(tmp_path, MINIMAL + "members: [Org2MSP, Org3MSP]\n")
    result = runner.invoke(
        app, ["task", "create", str(path), "--run-dir", str(run_dir), "--org", "Org1MSP"]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {path}: 1 problem, nothing was submitted",
        "  - members does not include Org1MSP, the organisation creating the task (--org): "
        "add it to members or create the task as one of them",
    ]


def test_create_submits_the_checked_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import contextmanager

    from fedledger.registry import Task

    run_dir = tmp_path / "net"
    _write_profile(run_dir, MEMBERS)
    submitted: dict[str, Any] = {}

    class FakeRegistry:
        def create_task(self, task_id: str, **fields: Any) -> Task:
            submitted.update(fields, id=task_id)
            return Task.from_dict(
                {
                    "id": task_id,
                    "description": fields["description"],
                    "schema": fields["schema"],
                    "schemaSha256": "ab" * 32,
                    "metric": fields["metric"],
                    "higherIsBetter": True,
                    "members": fields["members"],
                    "policy": fields["policy"].to_dict(),
                    "createdBy": "Org1MSP",
                    "createdAt": "2026-01-05T10:00:00.000Z",
                    "updatedAt": "2026-01-05T10:00:00.000Z",
                    "txId": "tx",
                }
            )

    @contextmanager
    def fake_registry(*_: object) -> Iterator[FakeRegistry]:
        yield FakeRegistry()

    monkeypatch.setattr(tasks_module, "registry_for", fake_registry)
    path = write(tmp_path, MINIMAL)
    result = runner.invoke(app, ["task", "create", str(path), "--run-dir", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert "created task churn-1" in result.stdout
    assert submitted["members"] == MEMBERS
    assert submitted["policy"].quorum == 3
    assert submitted["policy"].max_model_bytes == POLICY_DEFAULTS["maxModelBytes"]
    assert submitted["schema"]["target"]["classes"] == ["no", "yes"]


def test_the_docs_data_file_rules_are_what_the_reading_says(tmp_path: Path) -> None:
    from fedledger.schema.conform import conform_file

    full = dict(_docs_examples())["full.yaml"]
    check = read_task_file(write(tmp_path, full))
    assert check.spec is not None
    csv = write(
        tmp_path,
        "loan_amnt,annual_inc,delinq_2yrs,term,has_mortgage,Class\n"
        "1000,50000,true,term_36,yes,good\n"
        ",,2.5,term_48,maybe,\n",
        "holdout.csv",
    )
    findings = list(conform_file(csv, check.spec.schema).findings(fixable=False))
    rules = {f.rule.split(" (")[0] for f in findings}
    assert len(rules) == 6
    data_docs = (Path(__file__).resolve().parents[2] / "docs" / "data.md").read_text("utf-8")
    for rule in rules:
        assert rule in data_docs
