"""The schema as typed objects, its canonical JSON encoding and SHA-256 (docs/schema-hash.md).

Parsing follows chaincode/src/schema.ts rule for rule and message for message: a schema the
chaincode would refuse is refused here with the same words (testdata/schema-vectors.json holds
each refusal's exact text and both test suites check it). Unlike the chaincode, which stops at
the first fault, `parse_schema` reports every fault it finds.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from fedledger.schema.errors import TaskSchemaError
from fedledger.schema.text import MISSING, js_length, quoted_list, show

FeatureType = Literal["float", "int", "bool", "category"]
TargetType = Literal["float", "category"]

FEATURE_TYPES: tuple[str, ...] = ("float", "int", "bool", "category")
TARGET_TYPES: tuple[str, ...] = ("float", "category")
# Value formats a category feature may declare (chaincode/src/schema.ts FEATURE_FORMATS).
COUNTRY_FORMAT = "iso3166-alpha2"
FEATURE_FORMATS: tuple[str, ...] = (COUNTRY_FORMAT,)
# How a bool feature's values are written in the agreed shape (docs/task-file.md).
BOOL_TRUE = ("true", "1")
BOOL_FALSE = ("false", "0")
_ALPHA2 = re.compile(r"[A-Z]{2}")
# The chaincode's limits (chaincode/src/schema.ts); testdata/task-vectors.json keeps them equal.
MAX_FEATURES = 4096
MAX_LABELS = 4096
MAX_LABEL_LENGTH = 256
MAX_NAME_LENGTH = 128

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
NAME_PATTERN = _NAME  # what a feature or target name must fullmatch
NAME_RULE = (
    'must be usable as an ONNX input name: a letter or "_", '
    'then up to 127 letters, digits, "_", "." or "-"'
)
_SCHEMA_KEYS = ("features", "target")
_FEATURE_KEYS = ("name", "type", "nullable", "categories", "format")
_TARGET_KEYS = ("name", "type", "classes")

# What to write instead of a type name that is not one (both lists are in chaincode/src/schema.ts).
_TEXT_FEATURE = "use category and list the values in categories"
_FEATURE_TYPE_HINTS = {
    "float": "use float",
    "int": "use int",
    "bool": "use bool",
    "category": "use category",
    "double": "use float",
    "number": "use float",
    "numeric": "use float",
    "integer": "use int",
    "boolean": "use bool",
    "string": _TEXT_FEATURE,
    "str": _TEXT_FEATURE,
    "text": _TEXT_FEATURE,
    "categorical": "use category",
}
_YES_NO_TARGET = (
    'a yes/no target is a category target with two classes, e.g. classes: ["false", "true"]'
)
_INT_TARGET = (
    "use float for a numeric target, or category with the labels quoted as classes, "
    'e.g. classes: ["0", "1"]'
)
_TEXT_TARGET = "use category and list the labels in classes"
_TARGET_TYPE_HINTS = {
    "float": "use float",
    "category": "use category",
    "double": "use float",
    "number": "use float",
    "numeric": "use float",
    "categorical": "use category",
    "bool": _YES_NO_TARGET,
    "boolean": _YES_NO_TARGET,
    "int": _INT_TARGET,
    "integer": _INT_TARGET,
    "string": _TEXT_TARGET,
    "str": _TEXT_TARGET,
    "text": _TEXT_TARGET,
}


class SchemaError(TaskSchemaError):
    """A schema document breaks a rule of docs/schema-hash.md; `problems` lists every fault."""

    def __init__(self, *problems: str) -> None:
        self.problems: tuple[str, ...] = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Feature:
    name: str
    type: FeatureType
    nullable: bool = False
    categories: tuple[str, ...] = ()
    format: str | None = None  # absent from the canonical JSON unless declared

    @property
    def is_numeric(self) -> bool:
        """Float, int and bool features: one number per row (bool as 0/1) in the model input."""
        return self.type != "category"

    @property
    def is_country(self) -> bool:
        return self.format == COUNTRY_FORMAT

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "nullable": self.nullable}
        if self.type == "category":
            out["categories"] = list(self.categories)
        if self.format is not None:
            out["format"] = self.format
        return out


@dataclass(frozen=True)
class Target:
    name: str
    type: TargetType
    classes: tuple[str, ...] = ()

    @property
    def is_classification(self) -> bool:
        return self.type == "category"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.type == "category":
            out["classes"] = list(self.classes)
        return out


@dataclass(frozen=True)
class Schema:
    """Ordered features (the model's input order) and the target. Build with `from_dict`."""

    features: tuple[Feature, ...]
    target: Target

    def __post_init__(self) -> None:
        problems = _parse(self.to_dict(), "schema")[1]
        problems += [
            f"schema.features[{i}].categories is only allowed on category features"
            for i, f in enumerate(self.features)
            if f.categories and f.type != "category"
        ]
        if self.target.classes and self.target.type != "category":
            problems.append("schema.target.classes is only allowed on a category target")
        if problems:
            raise SchemaError(*problems)

    @classmethod
    def from_dict(cls, doc: object) -> Schema:
        """Parse and normalise a schema document; raises SchemaError listing every fault."""
        schema, problems = parse_schema(doc)
        if schema is None:
            raise SchemaError(*problems)
        return schema

    @classmethod
    def from_json(cls, text: str | bytes) -> Schema:
        """Raises SchemaError listing every fault (json's ValueError if `text` is not JSON)."""
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": [f.to_dict() for f in self.features],
            "target": self.target.to_dict(),
        }

    def canonical_json(self) -> bytes:
        """Sorted keys, no whitespace, non-ASCII as UTF-8: the bytes the chaincode hashes."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json()).hexdigest()

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def feature(self, name: str) -> Feature:
        """The feature called `name`; raises KeyError for a name the schema lacks."""
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)


def parse_schema(doc: object, path: str = "schema") -> tuple[Schema | None, list[str]]:
    """The normalised schema, or None and every fault found, each naming its field path."""
    built, problems = _parse(doc, path)
    if problems or built is None:
        return None, problems
    features, target = built
    return Schema(features, target), []


def _parse(doc: object, path: str) -> tuple[tuple[tuple[Feature, ...], Target] | None, list[str]]:
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        return None, [f"{path} must be an object with features and target, got {show(doc)}"]
    unknown_fields(doc, _SCHEMA_KEYS, path, problems)
    raw_features = doc.get("features", MISSING)
    features: list[Feature | None] = []
    if (
        not isinstance(raw_features, list)
        or len(raw_features) == 0
        or len(raw_features) > MAX_FEATURES
    ):
        problems.append(
            f"{path}.features must be a list of 1 to {MAX_FEATURES} features, "
            f"got {show(raw_features)}"
        )
    else:
        features = [
            _feature(item, f"{path}.features[{i}]", problems) for i, item in enumerate(raw_features)
        ]
    seen: set[str] = set()
    for index, feature in enumerate(features):
        if feature is None:
            continue
        if feature.name in seen:
            problems.append(
                f'{path}.features[{index}].name repeats "{feature.name}"; '
                "feature names must be unique"
            )
        seen.add(feature.name)
    target = _target(doc.get("target", MISSING), f"{path}.target", problems)
    if target is not None and target.name in seen:
        problems.append(
            f'{path}.target.name "{target.name}" is also a feature; the target must not be an input'
        )
    if problems:
        return None, problems
    return (tuple(cast(list[Feature], features)), cast(Target, target)), []


def unknown_fields(
    doc: Mapping[Any, Any], allowed: tuple[str, ...], path: str, problems: list[str]
) -> list[str]:
    """Add `unknown field <path>.<key> (allowed: …)` for each key not in `allowed`."""
    unknown = sorted(str(k) for k in doc if k not in allowed)
    for key in unknown:
        where = key if path == "" else f"{path}.{key}"
        problems.append(f"unknown field {where} (allowed: {', '.join(allowed)})")
    return unknown


def _name(doc: Mapping[str, Any], path: str, problems: list[str]) -> str | None:
    value = doc.get("name", MISSING)
    if not isinstance(value, str) or value == "":
        problems.append(f"{path}.name must be a non-empty string, got {show(value)}")
        return None
    if js_length(value) > MAX_NAME_LENGTH:
        problems.append(
            f"{path}.name is {js_length(value)} characters, over the limit of {MAX_NAME_LENGTH}"
        )
        return None
    if not _NAME.fullmatch(value):
        problems.append(f"{path}.name {NAME_RULE}, got {show(value)}")
        return None
    return value


def _type(
    doc: Mapping[str, Any],
    path: str,
    allowed: tuple[str, ...],
    rule: str,
    hints: dict[str, str],
    problems: list[str],
) -> str | None:
    value = doc.get("type", MISSING)
    if isinstance(value, str) and value in allowed:
        return value
    hint = hints.get(value.lower()) if isinstance(value, str) else None
    problems.append(f"{path}.type {rule}, got {show(value)}" + (f"; {hint}" if hint else ""))
    return None


def _feature(doc: object, path: str, problems: list[str]) -> Feature | None:
    if not isinstance(doc, Mapping):
        problems.append(f"{path} must be an object with name and type, got {show(doc)}")
        return None
    before = len(problems)
    unknown_fields(doc, _FEATURE_KEYS, path, problems)
    name = _name(doc, path, problems)
    kind = _type(
        doc,
        path,
        FEATURE_TYPES,
        f"must be one of {', '.join(FEATURE_TYPES)}",
        _FEATURE_TYPE_HINTS,
        problems,
    )
    nullable = doc.get("nullable")
    if nullable is None:
        nullable = False
    elif not isinstance(nullable, bool):
        problems.append(f"{path}.nullable must be true or false, got {show(nullable)}")
    categories: tuple[str, ...] = ()
    label = f'"{name}"' if name is not None else "this feature"
    if kind == "category":
        categories = _labels(doc, path, "categories", 1, problems)
    elif kind is not None and "categories" in doc:
        problems.append(
            f"{path}.categories is only allowed on category features, and {label} is {kind}; "
            "remove it or declare the feature as type: category"
        )
    value_format = _format(doc, path, kind, label, categories, problems)
    if len(problems) > before or name is None or kind is None:
        return None
    return Feature(name, cast(FeatureType, kind), nullable, categories, value_format)


def _format(
    doc: Mapping[str, Any],
    path: str,
    kind: str | None,
    label: str,
    categories: tuple[str, ...],
    problems: list[str],
) -> str | None:
    """The declared value format; a country feature's categories must be alpha-2 codes."""
    value = doc.get("format", MISSING)
    if value is MISSING or kind is None:
        return None
    if kind != "category":
        problems.append(
            f"{path}.format is only allowed on category features, and {label} is {kind}; "
            "remove it or declare the feature as type: category"
        )
        return None
    if value not in FEATURE_FORMATS:
        problems.append(
            f"{path}.format must be one of {', '.join(FEATURE_FORMATS)} (or left out), "
            f"got {show(value)}"
        )
        return None
    for index, category in enumerate(categories):
        if not _ALPHA2.fullmatch(category):
            problems.append(
                f"{path}.categories[{index}] must be an ISO 3166 alpha-2 code (two capital "
                f'letters, e.g. "BR") as the feature\'s format is {value}, got {show(category)}'
            )
            return None
    return str(value)


def _target(doc: object, path: str, problems: list[str]) -> Target | None:
    if doc is MISSING:
        problems.append(
            f"{path} is required: an object with name and type (and classes for a category target)"
        )
        return None
    if not isinstance(doc, Mapping):
        problems.append(f"{path} must be an object with name and type, got {show(doc)}")
        return None
    before = len(problems)
    unknown_fields(doc, _TARGET_KEYS, path, problems)
    name = _name(doc, path, problems)
    kind = _type(
        doc,
        path,
        TARGET_TYPES,
        "must be float (regression) or category (classification, with classes)",
        _TARGET_TYPE_HINTS,
        problems,
    )
    classes: tuple[str, ...] = ()
    if kind == "category":
        classes = _labels(doc, path, "classes", 2, problems)
    elif kind is not None and "classes" in doc:
        problems.append(
            f"{path}.classes is only allowed on a category target; "
            "remove it or declare the target as type: category"
        )
    if len(problems) > before or name is None or kind is None:
        return None
    return Target(name, cast(TargetType, kind), classes)


_LABEL_WORDS = {
    # key: (one, many, what the entries are, how to list them when missing)
    "categories": (
        "category",
        "categories",
        "categories are strings",
        "required for a category feature: list its values (strings, in encoding order)",
    ),
    "classes": (
        "class",
        "classes",
        "class labels are strings",
        "required for a category target: list the class labels (strings, the positive class last)",
    ),
}


def _labels(
    doc: Mapping[str, Any], path: str, key: str, minimum: int, problems: list[str]
) -> tuple[str, ...]:
    one, many, nature, required = _LABEL_WORDS[key]
    where = f"{path}.{key}"
    value = doc.get(key, MISSING)
    if value is MISSING:
        problems.append(f"{where} is {required}")
        return ()
    if not isinstance(value, list):
        problems.append(f"{where} must be a list of strings, got {show(value)}")
        return ()
    if len(value) < minimum:
        noun = one if minimum == 1 else many
        problems.append(f"{where} must list at least {minimum} {noun}, got {len(value)}")
        return ()
    if len(value) > MAX_LABELS:
        problems.append(f"{where} has {len(value)} entries, over the limit of {MAX_LABELS}")
        return ()
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, str):
            suggestion = quoted_list(value)
            fix = f", so quote them: {key}: {suggestion}" if suggestion else ""
            problems.append(f"{where}[{index}] must be a string, got {show(item)}; {nature}{fix}")
            return ()
        if js_length(item) > MAX_LABEL_LENGTH:
            problems.append(
                f"{where}[{index}] is {js_length(item)} characters, "
                f"over the limit of {MAX_LABEL_LENGTH}"
            )
            return ()
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"{where}[{index}] is not valid Unicode text (lone surrogate)")
            return ()
        if item in seen:
            problems.append(f"{where}[{index}] repeats {show(item)}; entries must be unique")
            return ()
        seen.add(item)
    return tuple(value)
