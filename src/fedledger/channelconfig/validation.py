"""An orderer's checks of a config update, and the configuration that results.

As Fabric's configtx validator: the configuration is flattened into elements keyed by kind and
path; every read-set element must be at the channel's current version; the write-set elements
whose version differs from the read set's are the changes, each at the current version plus one
(0 for a new element) and allowed by the modification policy of the element it replaces (a
group's own policies for a group, its parent group's for a value or a policy). The new
configuration is the current one with the changes laid over it: a changed group lists its whole
new membership, so what it no longer lists is removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fabric_protos.common import configtx_pb2

from fedledger.channelconfig.errors import PolicyNotSatisfiedError, UpdateRefusedError
from fedledger.channelconfig.policies import Signer, evaluate, resolve

GROUP, VALUE, POLICY = "Group", "Value", "Policy"
Key = tuple[str, tuple[str, ...]]


def _flatten(group: configtx_pb2.ConfigGroup, path: tuple[str, ...], into: dict[Key, Any]) -> None:
    into[(GROUP, path)] = group
    for name, value in group.values.items():
        into[(VALUE, (*path, name))] = value
    for name, policy in group.policies.items():
        into[(POLICY, (*path, name))] = policy
    for name, sub in group.groups.items():
        _flatten(sub, (*path, name), into)


def flatten(group: configtx_pb2.ConfigGroup) -> dict[Key, Any]:
    found: dict[Key, Any] = {}
    _flatten(group, (), found)
    return found


def describe(key: Key) -> str:
    kind, path = key
    return f"[{kind}] /" + "/".join(("Channel", *path))


def _check_read_set(read: dict[Key, Any], current: dict[Key, Any]) -> None:
    for key, element in read.items():
        existing = current.get(key)
        if existing is None or existing.version != element.version:
            now = "absent" if existing is None else f"at version {existing.version}"
            raise UpdateRefusedError(
                f"the update read {describe(key)} at version {element.version}, but the channel's "
                f"is {now}: the configuration changed since the update was prepared; prepare it "
                "again from the current configuration"
            )


def _check_change(
    key: Key,
    element: Any,
    current: dict[Key, Any],
    root: configtx_pb2.ConfigGroup,
    signers: Sequence[Signer],
) -> None:
    existing = current.get(key)
    if existing is None:
        if element.version != 0:
            raise UpdateRefusedError(
                f"{describe(key)} is new and must be written at version 0, not {element.version}"
            )
        return
    if element.version != existing.version + 1:
        raise UpdateRefusedError(
            f"{describe(key)} is at version {existing.version} and must be written at "
            f"{existing.version + 1}, not {element.version}"
        )
    if not existing.mod_policy:
        raise UpdateRefusedError(f"{describe(key)} has no modification policy: it cannot change")
    kind, path = key
    group_path = path if kind == GROUP else path[:-1]
    policy_group, name = resolve(group_path, existing.mod_policy)
    outcome = evaluate(root, policy_group, name, signers)
    if not outcome.satisfied:
        signed = ", ".join(sorted({s.msp_id for s in signers})) or "nobody"
        still = ", ".join(outcome.unsatisfied)
        more = f"; still to sign: {outcome.needed} more of {still}" if outcome.needed > 0 else ""
        raise PolicyNotSatisfiedError(
            f"the signatures do not satisfy {outcome.description}, the modification policy of "
            f"{describe(key)}: signed by {signed}{more}",
            outcome.description,
            list(outcome.unsatisfied),
        )


def _rebuild(key: Key, merged: dict[Key, Any]) -> configtx_pb2.ConfigGroup:
    stored = merged[key]
    _, path = key
    group = configtx_pb2.ConfigGroup(version=stored.version, mod_policy=stored.mod_policy)
    for kind, names, target in (
        (VALUE, stored.values, group.values),
        (POLICY, stored.policies, group.policies),
    ):
        for name in names:
            child = merged.get((kind, (*path, name)))
            if child is None:
                raise UpdateRefusedError(f"{describe((kind, (*path, name)))} is listed but absent")
            target[name].CopyFrom(child)
    for name in stored.groups:
        child_key = (GROUP, (*path, name))
        if child_key not in merged:
            raise UpdateRefusedError(f"{describe(child_key)} is listed but absent")
        group.groups[name].CopyFrom(_rebuild(child_key, merged))
    return group


def apply_update(
    config: configtx_pb2.Config, update: configtx_pb2.ConfigUpdate, signers: Sequence[Signer]
) -> configtx_pb2.Config:
    """The configuration after `update`, signed by `signers`, with the next sequence number.
    Raises UpdateRefusedError (PolicyNotSatisfiedError for missing signatures) when an orderer
    would refuse it; the error names the element and what to do."""
    current = flatten(config.channel_group)
    read = flatten(update.read_set)
    write = flatten(update.write_set)
    _check_read_set(read, current)
    changes = {
        key: element
        for key, element in write.items()
        if key not in read or read[key].version != element.version
    }
    if not changes:
        raise UpdateRefusedError("the update changes nothing")
    for key, element in sorted(changes.items(), key=lambda item: len(item[0][1])):
        _check_change(key, element, current, config.channel_group, signers)
    merged = {**current, **changes}
    return configtx_pb2.Config(
        sequence=config.sequence + 1, channel_group=_rebuild((GROUP, ()), merged)
    )
