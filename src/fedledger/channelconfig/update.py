"""The update from one channel configuration to another, with configtxlator's semantics.

`configtxlator compute_update` (fabric internal/configtxlator/update) walks both trees: an
element whose content or modification policy changed goes into the write set with its version
plus one; a group whose membership changed (an element added or removed) or whose modification
policy changed is bumped too, and then lists every member it keeps, at its current version, in
both sets, because a bumped group's write set is its whole new membership. A group that only
contains a change is in both sets at its current version, holding only the changed part. Added
elements are written at version 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fabric_protos.common import configtx_pb2

from fedledger.channelconfig.errors import NoChangeError


@dataclass
class _MapUpdate:
    read: dict[str, Any] = field(default_factory=dict)
    write: dict[str, Any] = field(default_factory=dict)
    same: dict[str, Any] = field(default_factory=dict)
    membership_changed: bool = False


def _leaf_map(original: Any, updated: Any, payload: str) -> _MapUpdate:
    """Values (`payload` "value") or policies ("policy"): they have no children."""
    result = _MapUpdate()
    for name, before in original.items():
        if name not in updated:
            result.membership_changed = True
            continue
        after = updated[name]
        if before.mod_policy == after.mod_policy and getattr(before, payload) == getattr(
            after, payload
        ):
            result.same[name] = type(before)(version=before.version)
            continue
        result.write[name] = _copy(after, before.version + 1)
    for name, after in updated.items():
        if name not in original:
            result.membership_changed = True
            result.write[name] = _copy(after, 0)
    return result


def _copy(element: Any, version: int) -> Any:
    copied = type(element)()
    copied.CopyFrom(element)
    copied.version = version
    return copied


def _group_map(original: Any, updated: Any) -> _MapUpdate:
    result = _MapUpdate()
    for name, before in original.items():
        if name not in updated:
            result.membership_changed = True
            continue
        read, write, changed = _group(before, updated[name])
        if not changed:
            result.same[name] = read
            continue
        result.read[name] = read
        result.write[name] = write
    for name, after in updated.items():
        if name in original:
            continue
        result.membership_changed = True
        _, write, _ = _group(configtx_pb2.ConfigGroup(), after)
        write.version = 0
        write.mod_policy = after.mod_policy
        result.write[name] = write
    return result


def _group(
    original: configtx_pb2.ConfigGroup, updated: configtx_pb2.ConfigGroup
) -> tuple[configtx_pb2.ConfigGroup, configtx_pb2.ConfigGroup, bool]:
    """(read set, write set, whether anything changed) of one group."""
    policies = _leaf_map(original.policies, updated.policies, "policy")
    values = _leaf_map(original.values, updated.values, "value")
    groups = _group_map(original.groups, updated.groups)
    parts = (policies, values, groups)
    bumped = any(p.membership_changed for p in parts) or original.mod_policy != updated.mod_policy
    if not bumped:
        if not any(p.read or p.write for p in parts):
            version = original.version
            return (
                configtx_pb2.ConfigGroup(version=version),
                configtx_pb2.ConfigGroup(version=version),
                False,
            )
        read = _assemble(original.version, "", policies.read, values.read, groups.read)
        write = _assemble(original.version, "", policies.write, values.write, groups.write)
        return read, write, True
    for part in parts:
        part.read.update(part.same)
        part.write.update(part.same)
    read = _assemble(original.version, "", policies.read, values.read, groups.read)
    write = _assemble(
        original.version + 1, updated.mod_policy, policies.write, values.write, groups.write
    )
    return read, write, True


def _assemble(
    version: int,
    mod_policy: str,
    policies: dict[str, Any],
    values: dict[str, Any],
    groups: dict[str, Any],
) -> configtx_pb2.ConfigGroup:
    group = configtx_pb2.ConfigGroup(version=version, mod_policy=mod_policy)
    for name, policy in policies.items():
        group.policies[name].CopyFrom(policy)
    for name, value in values.items():
        group.values[name].CopyFrom(value)
    for name, sub in groups.items():
        group.groups[name].CopyFrom(sub)
    return group


def compute_update(
    original: configtx_pb2.Config, updated: configtx_pb2.Config, channel: str
) -> configtx_pb2.ConfigUpdate:
    """The ConfigUpdate taking channel `channel` from `original` to `updated`, as
    `configtxlator compute_update --channel_id` gives it. Raises NoChangeError when the two are
    the same."""
    read, write, changed = _group(original.channel_group, updated.channel_group)
    if not changed:
        raise NoChangeError("the modified configuration is the same as the current one")
    return configtx_pb2.ConfigUpdate(channel_id=channel, read_set=read, write_set=write)
