"""The schema as typed objects, its canonical JSON encoding and SHA-256 (docs/schema-hash.md)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

FeatureType = Literal["float", "int", "category"]
TargetType = Literal["float", "category"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
_FEATURE_TYPES: tuple[str, ...] = ("float", "int", "category")
_TARGET_TYPES: tuple[str, ...] = ("float", "category")
_FEATURE_KEYS = frozenset({"name", "type", "nullable", "categories"})
_TARGET_KEYS = frozenset({"name", "type", "classes"})


class SchemaError(ValueError):
    """A schema document breaks a rule of docs/schema-hash.md."""


@dataclass(frozen=True)
class Feature:
    name: str
    type: FeatureType
    nullable: bool = False
    categories: tuple[str, ...] = ()

    @property
    def is_numeric(self) -> bool:
        return self.type != "category"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "nullable": self.nullable}
        if self.type == "category":
            out["categories"] = list(self.categories)
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
        _check_schema(self)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Schema:
        _expect_keys(doc, frozenset({"features", "target"}), "schema", required=("features",))
        raw_features = doc.get("features")
        if not isinstance(raw_features, list):
            raise SchemaError("schema.features must be a list")
        features = tuple(_parse_feature(f, i) for i, f in enumerate(raw_features))
        if "target" not in doc:
            raise SchemaError("schema.target is required")
        return cls(features=features, target=_parse_target(doc["target"]))

    @classmethod
    def from_json(cls, text: str | bytes) -> Schema:
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise SchemaError("schema must be a JSON object")
        return cls.from_dict(doc)

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
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)


def _expect_keys(
    doc: object, allowed: frozenset[str], where: str, required: Sequence[str] = ("name", "type")
) -> None:
    if not isinstance(doc, Mapping):
        raise SchemaError(f"{where} must be an object")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise SchemaError(f"{where} has unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    for key in required:
        if key not in doc:
            raise SchemaError(f"{where}.{key} is required")


def _string_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SchemaError(f"{where} must be a list of strings")
    return tuple(cast(list[str], value))


def _parse_feature(doc: object, index: int) -> Feature:
    where = f"schema.features[{index}]"
    _expect_keys(doc, _FEATURE_KEYS, where)
    d = cast(Mapping[str, Any], doc)
    if d["type"] not in _FEATURE_TYPES:
        raise SchemaError(f"{where}.type is {d['type']!r}; expected one of {list(_FEATURE_TYPES)}")
    nullable = d.get("nullable", False)
    if not isinstance(nullable, bool):
        raise SchemaError(f"{where}.nullable must be true or false")
    if d["type"] == "category":
        if "categories" not in d:
            raise SchemaError(f"{where}.categories is required for a category feature")
        categories = _string_list(d["categories"], f"{where}.categories")
    elif "categories" in d:
        raise SchemaError(f"{where}.categories is only allowed on a category feature")
    else:
        categories = ()
    name = d["name"]
    if not isinstance(name, str):
        raise SchemaError(f"{where}.name must be a string")
    return Feature(name=name, type=d["type"], nullable=nullable, categories=categories)


def _parse_target(doc: object) -> Target:
    where = "schema.target"
    _expect_keys(doc, _TARGET_KEYS, where)
    d = cast(Mapping[str, Any], doc)
    if d["type"] not in _TARGET_TYPES:
        raise SchemaError(
            f"{where}.type is {d['type']!r}; use 'float' for regression or 'category' for classes"
        )
    if d["type"] == "category":
        if "classes" not in d:
            raise SchemaError(f"{where}.classes is required for a category target")
        classes = _string_list(d["classes"], f"{where}.classes")
    elif "classes" in d:
        raise SchemaError(f"{where}.classes is only allowed on a category target")
    else:
        classes = ()
    if not isinstance(d["name"], str):
        raise SchemaError(f"{where}.name must be a string")
    return Target(name=d["name"], type=d["type"], classes=classes)


def _check_text(value: str, where: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SchemaError(f"{where} is not valid Unicode text (lone surrogate)") from exc


def _check_schema(schema: Schema) -> None:
    if not schema.features:
        raise SchemaError("schema.features must list at least one feature")
    seen: set[str] = set()
    for i, f in enumerate(schema.features):
        where = f"schema.features[{i}]"
        if not _NAME.fullmatch(f.name):
            raise SchemaError(
                f"{where}.name {f.name!r} is not usable as an ONNX input name "
                f"(must match {_NAME.pattern})"
            )
        if f.name in seen:
            raise SchemaError(f"{where}.name {f.name!r} is a duplicate feature name")
        seen.add(f.name)
        if f.type not in _FEATURE_TYPES:
            raise SchemaError(f"{where}.type {f.type!r} is unknown")
        if f.type == "category":
            _check_labels(f.categories, f"{where}.categories", minimum=1)
        elif f.categories:
            raise SchemaError(f"{where}.categories is only allowed on a category feature")
    t = schema.target
    if not t.name or not isinstance(t.name, str):
        raise SchemaError("schema.target.name must be a non-empty string")
    _check_text(t.name, "schema.target.name")
    if t.name in seen:
        raise SchemaError(f"schema.target.name {t.name!r} is also a feature's name")
    if t.type == "category":
        _check_labels(t.classes, "schema.target.classes", minimum=2)
    elif t.type == "float":
        if t.classes:
            raise SchemaError("schema.target.classes is only allowed on a category target")
    else:
        raise SchemaError(f"schema.target.type {t.type!r} is unknown")


def _check_labels(labels: tuple[str, ...], where: str, minimum: int) -> None:
    if len(labels) < minimum:
        raise SchemaError(f"{where} must hold at least {minimum} value(s), got {len(labels)}")
    for label in labels:
        _check_text(label, where)
    duplicates = sorted({v for v in labels if labels.count(v) > 1})
    if duplicates:
        raise SchemaError(f"{where} has duplicate value(s) {duplicates}")
