"""Channel configuration elements as configtxgen writes them from configtx.yaml.

An organisation's group holds its MSP definition and its four policies, each modified under its
Admins policy (network/configtx.py writes the same policies for the native network's genesis
block); anchor peers are a value of the organisation's application group.
"""

from __future__ import annotations

from collections.abc import Sequence

from fabric_protos.common import configtx_pb2, configuration_pb2, policies_pb2
from fabric_protos.msp import msp_config_pb2, msp_principal_pb2
from fabric_protos.peer import configuration_pb2 as peer_config

ADMINS = "Admins"
ROLES = {
    "member": msp_principal_pb2.MSPRole.MEMBER,
    "admin": msp_principal_pb2.MSPRole.ADMIN,
    "client": msp_principal_pb2.MSPRole.CLIENT,
    "peer": msp_principal_pb2.MSPRole.PEER,
    "orderer": msp_principal_pb2.MSPRole.ORDERER,
}
RULES = {
    "ANY": policies_pb2.ImplicitMetaPolicy.ANY,
    "ALL": policies_pb2.ImplicitMetaPolicy.ALL,
    "MAJORITY": policies_pb2.ImplicitMetaPolicy.MAJORITY,
}
# The member organisations' policies of network/configtx.py, as role lists OR-ed together.
MEMBER_ORG_POLICIES = {
    "Readers": ("admin", "peer", "client"),
    "Writers": ("admin", "client"),
    "Admins": ("admin",),
    "Endorsement": ("peer",),
}
ORDERER_ORG_POLICIES = {"Readers": ("member",), "Writers": ("member",), "Admins": ("admin",)}


def signature_policy(msp_id: str, roles: Sequence[str]) -> policies_pb2.Policy:
    """OR('<msp>.<role>', ...) as Fabric's policy language compiles it: one principal per role,
    in order, and a 1-out-of-n rule over them."""
    envelope = policies_pb2.SignaturePolicyEnvelope(version=0)
    for index, role in enumerate(roles):
        principal = msp_principal_pb2.MSPRole(msp_identifier=msp_id, role=ROLES[role])
        envelope.identities.add(
            principal_classification=msp_principal_pb2.MSPPrincipal.ROLE,
            principal=principal.SerializeToString(),
        )
        envelope.rule.n_out_of.rules.add().signed_by = index
    envelope.rule.n_out_of.n = 1
    return policies_pb2.Policy(
        type=policies_pb2.Policy.SIGNATURE, value=envelope.SerializeToString()
    )


def implicit_policy(rule: str) -> policies_pb2.Policy:
    """`ANY Readers`, `MAJORITY Admins`...: the rule over the sub-groups' policies of that name."""
    kind, sub_policy = rule.split()
    value = policies_pb2.ImplicitMetaPolicy(sub_policy=sub_policy, rule=RULES[kind])
    return policies_pb2.Policy(
        type=policies_pb2.Policy.IMPLICIT_META, value=value.SerializeToString()
    )


def set_policy(group: configtx_pb2.ConfigGroup, name: str, policy: policies_pb2.Policy) -> None:
    group.policies[name].policy.CopyFrom(policy)
    group.policies[name].mod_policy = ADMINS


def set_value(group: configtx_pb2.ConfigGroup, name: str, value: bytes) -> None:
    group.values[name].value = value
    group.values[name].mod_policy = ADMINS


def msp_value(msp_id: str, root_certs: Sequence[bytes], tls_root_certs: Sequence[bytes]) -> bytes:
    """The `MSP` value of an organisation with NodeOUs (client, peer, admin, orderer), whose OU
    identifiers name its first root CA, as configtxgen reads cryptogen's config.yaml."""
    ca = root_certs[0]

    def ou(unit: str) -> msp_config_pb2.FabricOUIdentifier:
        return msp_config_pb2.FabricOUIdentifier(
            certificate=ca, organizational_unit_identifier=unit
        )

    config = msp_config_pb2.FabricMSPConfig(
        name=msp_id,
        root_certs=list(root_certs),
        tls_root_certs=list(tls_root_certs),
        fabric_node_ous=msp_config_pb2.FabricNodeOUs(
            enable=True,
            client_ou_identifier=ou("client"),
            peer_ou_identifier=ou("peer"),
            admin_ou_identifier=ou("admin"),
            orderer_ou_identifier=ou("orderer"),
        ),
        crypto_config=msp_config_pb2.FabricCryptoConfig(
            signature_hash_family="SHA2", identity_identifier_hash_function="SHA256"
        ),
    )
    return msp_config_pb2.MSPConfig(type=0, config=config.SerializeToString()).SerializeToString()  # type: ignore[no-any-return]


def member_org_group(
    msp_id: str,
    root_certs: Sequence[bytes],
    tls_root_certs: Sequence[bytes],
    anchor_peers: Sequence[tuple[str, int]],
) -> configtx_pb2.ConfigGroup:
    """A member organisation's application group: MSP, anchor peers and its four policies."""
    group = configtx_pb2.ConfigGroup(mod_policy=ADMINS)
    set_value(group, "MSP", msp_value(msp_id, root_certs, tls_root_certs))
    anchors = peer_config.AnchorPeers()
    for host, port in anchor_peers:
        anchors.anchor_peers.add(host=host, port=port)
    set_value(group, "AnchorPeers", anchors.SerializeToString())
    for name, roles in MEMBER_ORG_POLICIES.items():
        set_policy(group, name, signature_policy(msp_id, roles))
    return group


def orderer_org_group(
    msp_id: str,
    root_certs: Sequence[bytes],
    tls_root_certs: Sequence[bytes],
    endpoints: Sequence[str],
) -> configtx_pb2.ConfigGroup:
    """An ordering organisation's group: MSP, its orderers' endpoints and its three policies."""
    group = configtx_pb2.ConfigGroup(mod_policy=ADMINS)
    set_value(group, "MSP", msp_value(msp_id, root_certs, tls_root_certs))
    addresses = configuration_pb2.OrdererAddresses(addresses=list(endpoints))
    set_value(group, "Endpoints", addresses.SerializeToString())
    for name, roles in ORDERER_ORG_POLICIES.items():
        set_policy(group, name, signature_policy(msp_id, roles))
    return group


def capabilities(*names: str) -> bytes:
    value = configuration_pb2.Capabilities()
    for name in names:
        value.capabilities[name].SetInParent()
    return value.SerializeToString()  # type: ignore[no-any-return]
