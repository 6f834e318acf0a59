"""Channel policies evaluated over the identities that signed, as Fabric's policy engine does.

A signature policy's n-out-of rule counts the sub-rules satisfied, each signing identity used at
most once per path through the rule (Fabric's `used` flags, restored when a sub-rule fails); a
principal `<msp>.member` matches any role of that MSP, `<msp>.admin` only its admins, and so on
for client, peer and orderer (NodeOU roles). An implicit-meta policy counts the sub-groups whose
policy of that name is satisfied: ANY needs one, ALL every one, MAJORITY more than half; with
no sub-group having such a policy, any threshold is met (Fabric's rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fabric_protos.common import configtx_pb2, policies_pb2
from fabric_protos.msp import msp_principal_pb2

from fedledger.channelconfig.errors import UpdateRefusedError

ROLE_NAMES = {v: k.lower() for k, v in msp_principal_pb2.MSPRole.MSPRoleType.items()}


@dataclass(frozen=True)
class Signer:
    """An identity whose signature was verified: its organisation and NodeOU role."""

    msp_id: str
    role: str


@dataclass(frozen=True)
class Outcome:
    """Whether a policy is met; for an implicit-meta one, by how many sub-groups of how many
    needed, and which sub-groups (organisations) are not satisfied yet."""

    satisfied: bool
    description: str
    needed: int = 0
    unsatisfied: tuple[str, ...] = ()


def _group_at(root: configtx_pb2.ConfigGroup, path: Sequence[str]) -> configtx_pb2.ConfigGroup:
    group = root
    for name in path:
        if name not in group.groups:
            raise UpdateRefusedError(f"no group /Channel/{'/'.join(path)} in the configuration")
        group = group.groups[name]
    return group


def resolve(path: Sequence[str], name: str) -> tuple[tuple[str, ...], str]:
    """The group path and policy name of policy reference `name` used in group `path` (below
    /Channel): absolute as `/Channel/Application/Admins`, or relative to the group. Raises
    UpdateRefusedError for an absolute reference outside /Channel."""
    if name.startswith("/"):
        parts = name.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "Channel":
            raise UpdateRefusedError(f"policy reference {name!r} is not below /Channel")
        return tuple(parts[1:-1]), parts[-1]
    return tuple(path), name


def policy_path(path: Sequence[str], name: str) -> str:
    return "/" + "/".join(["Channel", *path, name])


def evaluate(
    root: configtx_pb2.ConfigGroup, path: Sequence[str], name: str, signers: Sequence[Signer]
) -> Outcome:
    """Whether `signers` satisfy policy `name` of the group at `path` (below /Channel); raises
    UpdateRefusedError when there is no such policy."""
    group = _group_at(root, path)
    if name not in group.policies:
        raise UpdateRefusedError(f"no policy {policy_path(path, name)} in the configuration")
    policy = group.policies[name].policy
    if policy.type == policies_pb2.Policy.SIGNATURE:
        envelope = policies_pb2.SignaturePolicyEnvelope.FromString(policy.value)
        met = _rule(envelope.rule, list(envelope.identities), list(signers), [False] * len(signers))
        return Outcome(met, f"{policy_path(path, name)} (a signature policy)")
    if policy.type == policies_pb2.Policy.IMPLICIT_META:
        return _implicit(root, group, path, name, signers, policy)
    raise UpdateRefusedError(
        f"policy {policy_path(path, name)} is of type {policy.type}, which fedledger does not "
        "evaluate"
    )


def _implicit(
    root: configtx_pb2.ConfigGroup,
    group: configtx_pb2.ConfigGroup,
    path: Sequence[str],
    name: str,
    signers: Sequence[Signer],
    policy: policies_pb2.Policy,
) -> Outcome:
    meta = policies_pb2.ImplicitMetaPolicy.FromString(policy.value)
    subgroups = [g for g, sub in sorted(group.groups.items()) if meta.sub_policy in sub.policies]
    unsatisfied = tuple(
        g for g in subgroups if not evaluate(root, (*path, g), meta.sub_policy, signers).satisfied
    )
    count = len(subgroups)
    rule = policies_pb2.ImplicitMetaPolicy.Rule.Name(meta.rule)
    needed = {"ANY": 1, "ALL": count, "MAJORITY": count // 2 + 1}[rule] if count else 0
    met = count - len(unsatisfied) >= needed
    description = (
        f"{policy_path(path, name)} ({rule} {meta.sub_policy}: {needed} of the {count} "
        f"{meta.sub_policy} policies of {', '.join(subgroups) or 'no organisation'})"
    )
    return Outcome(met, description, needed - (count - len(unsatisfied)), unsatisfied)


def _rule(
    rule: policies_pb2.SignaturePolicy,
    principals: list[msp_principal_pb2.MSPPrincipal],
    signers: list[Signer],
    used: list[bool],
) -> bool:
    if rule.WhichOneof("Type") == "signed_by":
        principal = principals[rule.signed_by]
        for index, signer in enumerate(signers):
            if not used[index] and _matches(principal, signer):
                used[index] = True
                return True
        return False
    satisfied = 0
    for sub in rule.n_out_of.rules:
        attempt = list(used)
        if _rule(sub, principals, signers, attempt):
            satisfied += 1
            used[:] = attempt
    return bool(satisfied >= rule.n_out_of.n)


def _matches(principal: msp_principal_pb2.MSPPrincipal, signer: Signer) -> bool:
    if principal.principal_classification != msp_principal_pb2.MSPPrincipal.ROLE:
        return False
    role = msp_principal_pb2.MSPRole.FromString(principal.principal)
    if role.msp_identifier != signer.msp_id:
        return False
    wanted = ROLE_NAMES[role.role]
    return bool(wanted == "member" or wanted == signer.role)
