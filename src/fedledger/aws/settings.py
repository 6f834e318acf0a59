"""The FEDLEDGER_* environment both Lambda handlers read, once at cold start.

Both handlers act as one organisation on one connection profile and one model store, for a
task: those four variables are read here, with the same defaults and the same errors. Each
handler adds its own (upload_handler: FEDLEDGER_WATCH_PREFIX, FEDLEDGER_MAX_BYTES;
serving_handler: FEDLEDGER_CHAMPION_CHECK_SECONDS) with `read_number` or as plain text. The
error class is the handler's package's (UploadError, ServingConfigError), so a misconfigured
function fails its cold start with that package's error naming the variable to set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

N = TypeVar("N", int, float)
PROFILE = "FEDLEDGER_PROFILE"
ORG = "FEDLEDGER_ORG"
STORE = "FEDLEDGER_STORE"
TASK = "FEDLEDGER_TASK"
DEFAULT_PROFILE = Path("connection-profile.yaml")


@dataclass(frozen=True)
class LambdaEnvironment:
    """What both handlers are told: the profile (default connection-profile.yaml, relative to
    the function's working folder), the organisation (None: the handler decides), the model
    store, and the task (None: not fixed)."""

    profile: Path
    org: str | None
    store: str
    task: str | None


def read_common(
    environ: Mapping[str, str], required: Sequence[str], error: type[Exception]
) -> LambdaEnvironment:
    """The shared settings in `environ`; FEDLEDGER_STORE and the names in `required` must be
    set (an empty value counts as unset). Raises `error` naming every missing variable."""
    needed = [*dict.fromkeys([*required, STORE])]
    missing = [name for name in needed if not environ.get(name)]
    if missing:
        raise error(f"set {_listed(missing)} in the function's environment")
    return LambdaEnvironment(
        profile=Path(environ.get(PROFILE) or DEFAULT_PROFILE),
        org=environ.get(ORG) or None,
        store=environ[STORE],
        task=environ.get(TASK) or None,
    )


def read_number(
    environ: Mapping[str, str],
    name: str,
    default: N,
    parse: Callable[[str], N],
    minimum: N,
    what: str,
    error: type[Exception],
) -> N:
    """Variable `name` parsed by `parse` (`default` when unset or empty); raises `error` saying
    what to give, e.g. "FEDLEDGER_MAX_BYTES is 'lots': give a whole number of bytes >= 1",
    when it does not parse or is below `minimum` (NaN included)."""
    raw = environ.get(name) or ""
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        value = None
    if value is None or not value >= minimum:
        raise error(f"{name} is {raw!r}: give {what}")
    return value


def _listed(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"
