"""What fedledger's configuration files share: the connection profile, a validator's
configuration and the validators file are each declared as pydantic models built from these
parts, and every error becomes one message that starts with the field path and says how to fix
it (docs/validator-config.md#how-configuration-files-are-parsed).

The rules, the same in the three files: field names are camelCase; an unknown field is refused,
naming the fields allowed there; a field set to nothing (`channel:`) counts as absent; a relative
path is taken from the file's folder (`validate(..., base=folder)`); a task id or MSP ID that
YAML reads as a number (`2024:`) is the text "2024".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar
from urllib.parse import urlparse

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from fedledger.paths import read_path

# Our own error types: the message follows the field path after a space, or after ": " when it
# is about the file the field names.
WRONG = "fedledger_wrong"
AT_PATH = "fedledger_at_path"

M = TypeVar("M", bound="Section")


def wrong(message: str, field: str | None = None, **values: Any) -> PydanticCustomError:
    """An error of the field being validated (or of its sub-field `field`): `message` follows its
    path. `{got}` in `message` is the value as written, when given as `got=`."""
    context = {key: repr(value) if key == "got" else value for key, value in values.items()}
    if field is not None:
        context["field"] = field
    return PydanticCustomError(WRONG, message, context)


class Section(BaseModel):
    """A mapping in a configuration file."""

    model_config = ConfigDict(alias_generator=to_camel, frozen=True, defer_build=True)
    # What the mapping holds, after "must be a mapping" (" (holdout: <file>)").
    shape: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _known_fields_only(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise wrong("must be a mapping" + cls.shape)
        known = [field.alias or name for name, field in cls.model_fields.items()]
        for key in data:
            if key not in known:
                raise wrong(
                    "is not a known field (known: {known})", field=str(key), known=", ".join(known)
                )
        return {key: value for key, value in data.items() if value is not None}


def validate(model: type[M], document: Any, base: Path, top: str) -> M:
    """`document` as `model`, or ValueError with the message of its first mistake; `top` names
    the whole document in a message about it."""
    try:
        return model.model_validate(document, context={"base": base})
    except ValidationError as error:
        raise ValueError(describe(error, top)) from None


def describe(error: ValidationError, top: str) -> str:
    first = error.errors(include_url=False)[0]
    context = first.get("ctx") or {}
    parts = [*first["loc"], *([context["field"]] if "field" in context else [])]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":
            path += f".{part}" if path else str(part)
    path = path or top
    kind = first["type"]
    if kind == WRONG:
        return f"{path} {first['msg']}"
    if kind == "missing":
        return f"{path} is missing"
    if kind in ("model_type", "dict_type"):
        return f"{path} must be a mapping"
    return f"{path}: {first['msg']}"


def read_document(path: Path) -> Any:
    """The YAML document in `path`. FileNotFoundError as such (each file says what to do);
    other OSError and YAML errors as ValueError with the path; an empty file is refused."""
    try:
        text = path.read_text()
        document = yaml.safe_load(text)
    except FileNotFoundError:
        raise
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    if document is None:
        raise ValueError(f"{path} is empty")
    return document


def _base(info: ValidationInfo) -> Path:
    base: Path = (info.context or {})["base"]
    return base


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise wrong("must be a non-empty string, got {got}", got=value)
    return value


def _path(value: Any, info: ValidationInfo) -> Path:
    return read_path(_text(value), _base(info))


def _file(value: Any, info: ValidationInfo) -> Path:
    path = _path(value, info)
    if not path.is_file():
        raise PydanticCustomError(AT_PATH, "no file at {path}", {"path": str(path)})
    return path


def _folder(value: Any, info: ValidationInfo) -> Path:
    path = _path(value, info)
    if path.exists() and not path.is_dir():
        raise PydanticCustomError(
            AT_PATH, "{path} is a file, not a folder: name a folder", {"path": str(path)}
        )
    return path


def _address(value: Any) -> str:
    text = _text(value)
    if "://" in text:
        fixed = text.split("://", 1)[1]
        raise wrong(
            "must be host:port without a scheme, got {got}: write {fixed}", got=text, fixed=fixed
        )
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise wrong("must be host:port, e.g. 127.0.0.1:7051, got {got}", got=text)
    return text


def _store_location(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value:
        raise wrong("must be a folder, file:///folder or s3://bucket/prefix, got {got}", got=value)
    parsed = urlparse(value)
    if parsed.scheme == "s3" and not parsed.netloc:
        raise wrong("must name a bucket, as in s3://bucket/prefix, got {got}", got=value)
    if parsed.scheme == "file" and (parsed.netloc or not parsed.path.startswith("/")):
        raise wrong("must be an absolute file URI, as in file:///srv/models, got {got}", got=value)
    if parsed.scheme not in ("", "file", "s3"):
        raise wrong("must be a folder, file:///folder or s3://bucket/prefix, got {got}", got=value)
    return str(read_path(value, _base(info))) if parsed.scheme == "" else value


def _strings(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise wrong("must be a list of non-empty strings, got {got}", got=value)
    return value


def whole_number(example: str) -> PlainValidator:
    """An integer >= 1, no unit (YAML's `4_294_967_296` is one; `4e9`, `2GiB` and `true` are not).

    Raises the ValueError of `wrong` naming the value otherwise.
    """

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise wrong(f"must be a whole number {example}, got {{got}}", got=value)
        return value

    return PlainValidator(check)


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise wrong(
            "must be a number of seconds > 0 without a unit, e.g. 5 or 0.5, got {got}", got=value
        )
    return float(value)


def mapping_of(what: str) -> BeforeValidator:
    """A mapping field keyed by ids; `what` completes "must map ..." when it is not one.

    Raises the ValueError of `wrong`.
    """

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise wrong(f"must map {what}, got {{got}}", got=value)
        return {
            str(key) if isinstance(key, int) and not isinstance(key, bool) else key: item
            for key, item in value.items()
        }

    return BeforeValidator(check)


def not_empty(message: str) -> AfterValidator:
    """A field that must hold at least one entry; raises the ValueError of `wrong` with `message`
    when it is empty.
    """

    def check(value: Any) -> Any:
        if not value:
            raise wrong(message)
        return value

    return AfterValidator(check)


def check_each(rule: Callable[[str, Any], None]) -> AfterValidator:
    """`rule(key, value)` on each entry of a mapping field; it raises `wrong(...)` naming the
    key as `field`."""

    def check(value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            rule(key, item)
        return value

    return AfterValidator(check)


Text = Annotated[str, PlainValidator(_text)]
Key = Text  # a key of a mapping keyed by ids: task ids, MSP IDs, identity names
Address = Annotated[str, PlainValidator(_address)]
AnyPath = Annotated[Path, PlainValidator(_path)]
File = Annotated[Path, PlainValidator(_file)]
Folder = Annotated[Path, PlainValidator(_folder)]
StoreLocation = Annotated[str, PlainValidator(_store_location)]
Texts = Annotated[list[Text], BeforeValidator(_strings)]
Files = Annotated[list[File], BeforeValidator(_strings)]
Seconds = Annotated[float, PlainValidator(_seconds)]
Count = Annotated[int, whole_number(">= 1, e.g. 2")]
Bytes = Annotated[int, whole_number("of bytes >= 1 without a unit, e.g. 4294967296 for 4 GiB")]
