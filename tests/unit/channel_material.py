"""A three-organisation channel configuration and a fourth organisation, built from generated
material, for the channel configuration tests."""

from __future__ import annotations

from pathlib import Path

from fabric_protos.common import configtx_pb2

from fedledger.channelconfig.genesis import OrgMaterial, channel_config
from fedledger.fabric.identity import SigningIdentity
from fedledger.orgs import MemberOrg, OrdererOrg, OrgLayout, generate_material
from fedledger.orgs.export import OrgDefinition
from fedledger.orgs.layout import OrdererOrgLayout

CHANNEL = "fedledger"


def make_crypto(root: Path) -> Path:
    members = [MemberOrg(f"Org{i}", f"Org{i}MSP", f"org{i}.test") for i in (1, 2, 3, 4)]
    generate_material(root, members, OrdererOrg("Orderer", "OrdererMSP", "orderer.test"))
    return root


def _material(root: Path, msp_id: str, domain: str, port: int) -> OrgMaterial:
    layout = OrgLayout.under(root, domain)
    return OrgMaterial(
        msp_id, layout.ca_cert.read_bytes(), layout.tlsca_cert.read_bytes(), (("127.0.0.1", port),)
    )


def three_org_config(crypto: Path) -> configtx_pb2.Config:
    members = [_material(crypto, f"Org{i}MSP", f"org{i}.test", 7050 + i) for i in (1, 2, 3)]
    ordering = OrdererOrgLayout.under(crypto, "orderer.test")
    orderer = OrgMaterial(
        "OrdererMSP",
        ordering.ca_cert.read_bytes(),
        ordering.tlsca_cert.read_bytes(),
        (("127.0.0.1", 7050),),
    )
    return channel_config(members, orderer, 0.25, 10)


def org4_definition(crypto: Path) -> OrgDefinition:
    layout = OrgLayout.under(crypto, "org4.test")
    return OrgDefinition(
        "Org4MSP",
        (layout.ca_cert.read_bytes(),),
        (layout.tlsca_cert.read_bytes(),),
        "peer0.org4.test",
        9051,
    )


def signer(crypto: Path, index: int, user: str = "Admin") -> SigningIdentity:
    layout = OrgLayout.under(crypto, f"org{index}.test")
    return SigningIdentity.from_msp_folder(layout.user(user).msp, f"Org{index}MSP")
