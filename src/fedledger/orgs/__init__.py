"""Organisation material: CAs, node and user identities in cryptogen's folder layout."""

from fedledger.orgs.layout import OrdererOrgLayout, OrgLayout
from fedledger.orgs.material import MemberOrg, OrdererOrg, generate_material
from fedledger.orgs.msp import MspIdentity, load_msp_identity

__all__ = [
    "MemberOrg",
    "MspIdentity",
    "OrdererOrg",
    "OrdererOrgLayout",
    "OrgLayout",
    "generate_material",
    "load_msp_identity",
]
