"""The task file: what `fedledger task validate` checks and `task create` submits.

A task file (docs/task-file.md) is YAML or JSON: id, description, schema (inline, or the path of
a schema file relative to the task file), metric, members and policy. `check_task` applies every
rule the chaincode applies to a TaskInput (chaincode/src/tasks.ts, policy.ts, schema.ts), with
the chaincode's words, and reports every fault at once instead of the first; a message may add
a hint after "; ". testdata/task-vectors.json holds the chaincode's limits and refusals and
testdata/metrics.json its metrics; both test suites check them. Beyond the chaincode it refuses
a metric that does not fit the target (validators could never score it) and reads YAML without
turning yes/no/on/off into booleans (`classes: [no, yes]` stays two strings).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import yaml

from fedledger.evaluate.policy import (
    CLASSIFICATION_METRICS,
    METRIC_RANGES,
    REGRESSION_METRICS,
    TASK_METRICS,
)
from fedledger.schema.text import js_length, js_number, show
from fedledger.schema.types import Schema, parse_schema, unknown_fields

TASK_FIELDS = ("id", "description", "schema", "metric", "higherIsBetter", "members", "policy")
POLICY_FIELDS = (
    "quorum",
    "approvalThreshold",
    "minScore",
    "maxRegression",
    "votingPeriodSeconds",
    "maxModelBytes",
    "maxOpenProposalsPerOrg",
)
# The chaincode's metrics and whether higher is better, in its order (testdata/metrics.json).
METRICS: dict[str, bool] = {name: higher for name, (higher, _) in TASK_METRICS.items()}
# Filled in for policy fields the task file leaves out (or sets to null); quorum defaults to the
# number of members. The chaincode itself requires every field but minScore and maxRegression,
# which it defaults to null as here.
POLICY_DEFAULTS: dict[str, Any] = {
    "approvalThreshold": 0.5,
    "minScore": None,
    "maxRegression": None,
    "votingPeriodSeconds": 3600,
    "maxModelBytes": 64 * 1024 * 1024,
    "maxOpenProposalsPerOrg": 3,
}
# The chaincode's limits (chaincode/src/input.ts, tasks.ts, policy.ts).
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ID_RULE = 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit'
MSP_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MSP_RULE = 'must be an MSP ID: 1 to 128 letters, digits, ".", "_" or "-"'
MAX_ID_LENGTH = 64
MAX_DESCRIPTION = 1024
MAX_MEMBERS = 64
MAX_VOTING_PERIOD_SECONDS = 365 * 24 * 3600
MAX_MODEL_BYTES = 1024**4
MAX_OPEN_PROPOSALS = 100
_MAX_SAFE_INTEGER = 2**53 - 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMBER = int | float


@dataclass(frozen=True)
class TaskSpec:
    """A checked task file with every default filled in; `members` None: decided at create."""

    id: str
    description: str
    schema: Schema
    metric: str
    higher_is_better: bool
    members: tuple[str, ...] | None
    policy: dict[str, Any]  # quorum is None when the members are not known yet

    def to_document(self) -> dict[str, Any]:
        """The task file this check describes, in the order a person reads it."""
        doc: dict[str, Any] = {
            "id": self.id,
            "description": self.description,
            "metric": self.metric,
            "higherIsBetter": self.higher_is_better,
        }
        if self.members is not None:
            doc["members"] = list(self.members)
        doc["policy"] = {k: v for k, v in self.policy.items() if v is not None or k != "quorum"}
        doc["schema"] = self.schema.to_dict()
        return doc


@dataclass(frozen=True)
class TaskFileCheck:
    """The outcome of checking one task file: the task, or every problem found."""

    source: str
    spec: TaskSpec | None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems and self.spec is not None


def read_task_file(
    path: Path,
    *,
    default_members: Sequence[str] | None = None,
    members_source: str = "the connection profile",
) -> TaskFileCheck:
    """Read and check a task file; unreadable files and bad YAML are problems, not exceptions."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        return TaskFileCheck(str(path), None, (f"cannot read the task file: {reason}",))
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else load_yaml(text)
    except json.JSONDecodeError as error:
        return TaskFileCheck(str(path), None, (f"the task file is not valid JSON: {error}",))
    except yaml.YAMLError as error:
        return TaskFileCheck(
            str(path), None, (f"the task file is not valid YAML: {describe_yaml_error(error)}",)
        )
    return check_task(
        doc,
        source=str(path),
        base_dir=path.parent,
        default_members=default_members,
        members_source=members_source,
    )


def check_task(
    doc: object,
    *,
    source: str = "task file",
    base_dir: Path = Path(),
    default_members: Sequence[str] | None = None,
    members_source: str = "the connection profile",
) -> TaskFileCheck:
    """Every rule the chaincode applies to the task, plus the metric's fit to the target."""
    if not isinstance(doc, Mapping):
        return TaskFileCheck(source, None, (_not_a_mapping(doc),))
    problems: list[str] = []
    notes: list[str] = []
    _unknown_with_hints(doc, TASK_FIELDS, "", problems)
    task_id = _task_id(doc.get("id"), problems)
    description = _description(doc.get("description"), problems)
    schema = _schema(doc.get("schema"), base_dir, problems)
    metric = _metric(doc.get("metric"), problems)
    higher_is_better = _higher_is_better(doc.get("higherIsBetter"), metric, problems)
    members, member_count = _members(
        doc.get("members"), default_members, members_source, problems, notes
    )
    policy = check_policy(doc.get("policy"), member_count, problems, suggest=True, metric=metric)
    if policy is not None and doc.get("members") is None and default_members is None:
        notes.append(_quorum_note(policy["quorum"]))
    if schema is not None and metric is not None:
        _metric_fits(metric, schema, problems)
    if (
        problems
        or task_id is None
        or schema is None
        or metric is None
        or higher_is_better is None
        or policy is None
    ):
        return TaskFileCheck(source, None, tuple(problems), tuple(notes))
    spec = TaskSpec(
        id=task_id,
        description=description or "",
        schema=schema,
        metric=metric,
        higher_is_better=higher_is_better,
        members=members,
        policy=policy,
    )
    return TaskFileCheck(source, spec, (), tuple(notes))


def _not_a_mapping(doc: object) -> str:
    if doc is None:
        return "the task file is empty: write a mapping with id, schema and metric"
    return (
        "the task file must be a mapping with id, schema and metric (and optionally "
        f"description, members, policy), got {show(doc)}"
    )


def _quorum_note(quorum: object) -> str:
    """What an offline check can say of the quorum when the members are the network's."""
    if quorum is None:
        return (
            "policy.quorum is not given: it defaults to the number of members of the network "
            "at create time"
        )
    return (
        f"policy.quorum {quorum} must not exceed the number of members of the network "
        "at create time"
    )


def check_policy(
    value: object,
    member_count: int | None,
    problems: list[str],
    *,
    suggest: bool = False,
    metric: str | None = None,
) -> dict[str, Any] | None:
    """The policy with defaults filled in, as the chaincode's parsePolicy checks it.

    `member_count` None (members decided at create time): quorum is checked against the most
    members a task can have, and left None when not given. `metric` None (not known or not
    valid): minScore and maxRegression are not checked against its range.
    """
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        problems.append(
            f"policy must be a mapping of {', '.join(POLICY_FIELDS)}, got {show(value)}"
        )
        return None
    before = len(problems)
    if suggest:
        _unknown_with_hints(value, POLICY_FIELDS, "policy", problems)
    else:
        unknown_fields(value, POLICY_FIELDS, "policy", problems)
    defaults = {**POLICY_DEFAULTS, "quorum": member_count}

    def given(key: str) -> Any:
        raw = value.get(key)
        return defaults[key] if raw is None else raw

    policy: dict[str, Any] = {}
    quorum = given("quorum")
    policy["quorum"] = (
        None
        if quorum is None
        else _integer("policy.quorum", quorum, 1, member_count or MAX_MEMBERS, problems)
    )
    threshold = _number("policy.approvalThreshold", given("approvalThreshold"), problems)
    if threshold is not None and not 0 < threshold <= 1:
        problems.append(
            "policy.approvalThreshold must be a share greater than 0 and at most 1, "
            f"got {show(threshold)}"
        )
    policy["approvalThreshold"] = threshold
    policy["minScore"], policy["maxRegression"] = _bounds(
        given("minScore"), given("maxRegression"), metric, problems
    )
    for key, maximum in (
        ("votingPeriodSeconds", MAX_VOTING_PERIOD_SECONDS),
        ("maxModelBytes", MAX_MODEL_BYTES),
        ("maxOpenProposalsPerOrg", MAX_OPEN_PROPOSALS),
    ):
        policy[key] = _integer(f"policy.{key}", given(key), 1, maximum, problems)
    return policy if len(problems) == before else None


def _bounds(
    min_score: object, regression: object, metric: str | None, problems: list[str]
) -> tuple[float | None, float | None]:
    """minScore and maxRegression as numbers (None: no bound), checked against the metric."""
    checked_min = None if min_score is None else _number("policy.minScore", min_score, problems)
    checked_regression = None
    if regression is not None:
        checked_regression = _number("policy.maxRegression", regression, problems)
        if checked_regression is not None and checked_regression < 0:
            problems.append(
                "policy.maxRegression must be zero or more (or null for no veto), "
                f"got {show(checked_regression)}"
            )
    misfit = None if metric is None else bound_misfit(metric, checked_min, checked_regression)
    if misfit is not None:
        problems.append(misfit)
    return checked_min, checked_regression


def describe_range(low: float | None, high: float | None) -> str:
    """The words for a range, as the chaincode's describeRange: "from 0 to 1", "0 or more"."""
    if low is not None and high is not None:
        return f"from {js_number(low)} to {js_number(high)}"
    if low is not None:
        return f"{js_number(low)} or more"
    return "any number" if high is None else f"at most {js_number(high)}"


def bound_misfit(metric: str, min_score: object, max_regression: object) -> str | None:
    """The chaincode's refusal of a minScore outside the metric's range or a maxRegression
    wider than it, or None when the bounds fit (or are not numbers: refused elsewhere)."""
    low, high = METRIC_RANGES.get(metric, (None, None))
    if _is_number(min_score) and (
        (low is not None and min_score < low) or (high is not None and min_score > high)
    ):
        return (
            f"policy.minScore must be {describe_range(low, high)} for {metric}, "
            f"got {show(min_score)}"
        )
    width = None if low is None or high is None else high - low
    if _is_number(max_regression) and width is not None and max_regression > width:
        return (
            f"policy.maxRegression must be at most {js_number(width)}, the width of "
            f"{metric}'s range (or null for no veto), got {show(max_regression)}"
        )
    return None


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def load_yaml(text: str) -> Any:
    """YAML as task files are read: only true/false are booleans, repeated keys are refused."""
    return yaml.load(text, Loader=_TaskLoader)  # noqa: S506 - a SafeLoader subclass


def describe_yaml_error(error: yaml.YAMLError) -> str:
    """`<problem> (line L, column C)`, with a hint for the usual mistakes."""
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem_mark is None:
        return str(error)
    mark = error.problem_mark
    text = f"{error.problem} (line {mark.line + 1}, column {mark.column + 1})"
    if error.problem and "'\\t'" in error.problem:
        text += "; indent with spaces, not tabs"
    elif error.problem and "mapping values are not allowed" in error.problem:
        text += '; a value that contains ": " must be quoted'
    return text


def dump_yaml(doc: Mapping[str, Any]) -> str:
    """Block style, lists of plain values on one line, keys in the order given."""
    return yaml.dump(
        dict(doc),
        Dumper=_TaskDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


# --- fields -----------------------------------------------------------------------------


def _unknown_with_hints(
    doc: Mapping[Any, Any], allowed: tuple[str, ...], path: str, problems: list[str]
) -> None:
    before = len(problems)
    unknown = unknown_fields(doc, allowed, path, problems)
    for offset, key in enumerate(unknown):
        guess = _closest(key, allowed)
        if guess is not None:
            problems[before + offset] += f"; did you mean {guess}?"


def _closest(word: str, choices: Sequence[str]) -> str | None:
    def squash(text: str) -> str:
        return re.sub(r"[\s_-]", "", text).lower()

    for choice in choices:
        if squash(choice) == squash(word):
            return choice
    squashed = {squash(c): c for c in choices}
    found = difflib.get_close_matches(squash(word), list(squashed), n=1, cutoff=0.6)
    return squashed[found[0]] if found else None


def _quote_hint(key: str, value: object) -> str:
    if isinstance(value, bool | int | float) or hasattr(value, "isoformat"):
        text = value.isoformat() if hasattr(value, "isoformat") else show(value)
        return f'; quote it: {key}: "{text}"'
    return ""


def _task_id(value: object, problems: list[str]) -> str | None:
    if value is None:
        problems.append(
            f"id is required: a name for the task that {ID_RULE.removeprefix('must be ')}"
        )
        return None
    if not isinstance(value, str) or value == "":
        problems.append(
            f"id must be a non-empty string, got {show(value)}{_quote_hint('id', value)}"
        )
        return None
    if js_length(value) > MAX_ID_LENGTH:
        problems.append(f"id is {js_length(value)} characters, over the limit of {MAX_ID_LENGTH}")
        return None
    if not ID_PATTERN.fullmatch(value):
        problems.append(f"id {ID_RULE}, got {show(value)}")
        return None
    return value


def _description(value: object, problems: list[str]) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"description must be a string, got {show(value)}")
        return None
    if js_length(value) > MAX_DESCRIPTION:
        problems.append(
            f"description is {js_length(value)} characters, over the limit of {MAX_DESCRIPTION}"
        )
        return None
    if _CONTROL.search(value):
        hint = ""
        if "\n" in value:
            hint = (
                '; write it on one line (in YAML, ">-" folds the lines of a block into one, '
                'where "|" keeps the line breaks)'
            )
        problems.append(f"description must not contain control characters, got {show(value)}{hint}")
        return None
    return value


def _schema(value: object, base_dir: Path, problems: list[str]) -> Schema | None:
    if value is None:
        problems.append(
            "schema is required: the data schema inline (features and target) "
            "or the path of a schema file relative to the task file"
        )
        return None
    if isinstance(value, str) and value.strip():
        path = base_dir / value
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            problems.append(
                f"schema names the file {value} ({path}), which cannot be read: {reason}"
            )
            return None
        try:
            value = json.loads(text) if path.suffix.lower() == ".json" else load_yaml(text)
        except json.JSONDecodeError as error:
            problems.append(f"schema names the file {value}, which is not valid JSON: {error}")
            return None
        except yaml.YAMLError as error:
            problems.append(
                f"schema names the file {value}, which is not valid YAML: "
                f"{describe_yaml_error(error)}"
            )
            return None
    elif not isinstance(value, Mapping):
        problems.append(
            "schema must be the schema inline (features and target) or the path of a schema "
            f"file relative to the task file, got {show(value)}"
        )
        return None
    schema, found = parse_schema(value, "schema")
    problems.extend(found)
    return schema


def _metric(value: object, problems: list[str]) -> str | None:
    if value is None:
        problems.append(f"metric is required: one of {', '.join(METRICS)}")
        return None
    if isinstance(value, str) and value in METRICS:
        return value
    guess = _closest(value, list(METRICS)) if isinstance(value, str) else None
    problems.append(
        f"metric must be one of {', '.join(METRICS)}, got {show(value)}"
        + (f"; did you mean {guess}?" if guess else "")
    )
    return None


def _higher_is_better(value: object, metric: str | None, problems: list[str]) -> bool | None:
    derived = None if metric is None else METRICS[metric]
    if value is None:
        return derived
    if not isinstance(value, bool):
        problems.append(f"higherIsBetter must be true or false, got {show(value)}")
        return None
    if derived is not None and value != derived:
        problems.append(
            f"higherIsBetter contradicts the metric {metric}, for which higher is "
            f"{'better' if derived else 'worse'}, got {show(value)}; "
            "leave it out: it follows from the metric"
        )
        return None
    return derived


def _members(
    value: object,
    default: Sequence[str] | None,
    source: str,
    problems: list[str],
    notes: list[str],
) -> tuple[tuple[str, ...] | None, int | None]:
    if value is None:
        if default is None:
            notes.append(
                "members are not given and there is no connection profile: `task create` "
                "makes every organisation of the network a member"
            )
            return None, None
        notes.append(f"members are not given: every organisation in {source}")
        value = list(default)
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_MEMBERS:
        problems.append(f"members must be a list of 1 to {MAX_MEMBERS} strings, got {show(value)}")
        return None, None
    seen: set[str] = set()
    before = len(problems)
    for index, item in enumerate(value):
        if not isinstance(item, str) or not MSP_PATTERN.fullmatch(item):
            problems.append(f"members[{index}] {MSP_RULE}, got {show(item)}")
        elif item in seen:
            problems.append(f"members[{index}] repeats {show(item)}; entries must be unique")
        else:
            seen.add(item)
    if len(problems) > before:
        return None, None
    return tuple(sorted(seen)), len(seen)


def _metric_fits(metric: str, schema: Schema, problems: list[str]) -> None:
    if schema.target.is_classification and metric not in CLASSIFICATION_METRICS:
        fitting = [m for m in METRICS if m in CLASSIFICATION_METRICS]
        problems.append(
            f"metric {metric} is a regression metric, but schema.target is a category target "
            f"(classification); use one of {', '.join(fitting)}"
        )
    elif not schema.target.is_classification and metric not in REGRESSION_METRICS:
        fitting = [m for m in METRICS if m in REGRESSION_METRICS]
        problems.append(
            f"metric {metric} is a classification metric, but schema.target is a float target "
            f"(regression); use one of {', '.join(fitting)}"
        )


def _integer(path: str, value: object, low: int, high: int, problems: list[str]) -> int | None:
    """An integer as JavaScript sees one: 3 and 3.0 alike (JSON does not tell them apart)."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    if number is None or abs(number) > _MAX_SAFE_INTEGER or not low <= number <= high:
        problems.append(f"{path} must be an integer from {low} to {high}, got {show(value)}")
        return None
    return number


def _number(path: str, value: object, problems: list[str]) -> float | None:
    if isinstance(value, _NUMBER) and not isinstance(value, bool) and math.isfinite(value):
        return value
    problems.append(f"{path} must be a finite number, got {show(value)}")
    return None


# --- YAML ---------------------------------------------------------------------------------

_BOOL_TAG = "tag:yaml.org,2002:bool"


class _TaskLoader(yaml.SafeLoader):
    """SafeLoader, but YAML 1.2's booleans (true/false only) and no repeated keys."""


_TaskLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_TaskLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _TaskLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    lines: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            first = lines.get(key)
        except TypeError:
            continue  # an unhashable key: construct_mapping says so
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the key {key!r} appears twice (first on line {first + 1})",
                key_node.start_mark,
            )
        lines[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_TaskLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


class _TaskDumper(yaml.SafeDumper):
    def represent_list(self, data: Any) -> yaml.SequenceNode:
        flow = all(isinstance(item, str | int | float | bool) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_TaskDumper.add_representer(list, _TaskDumper.represent_list)
