"""A validator configuration drawn from a connection profile: the TLS CA of the identity's
organisation, found through the organisation's layout."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from fedledger.orgs import MemberOrg, OrdererOrg, OrgLayout, generate_material
from fedledger.profile import ProfileError
from fedledger.validator.profile_config import org_layout_of

ORG = MemberOrg("Org1", "Org1MSP", "org1.test.local")


@pytest.fixture
def crypto(tmp_path: Path) -> Path:
    generate_material(tmp_path, [ORG], OrdererOrg("Orderer", "OrdererMSP", "orderer.test.local"))
    return tmp_path


def test_the_tls_ca_is_the_users_organisations(crypto: Path) -> None:
    org = OrgLayout.under(crypto, ORG.domain)
    layout = org_layout_of(org.client.msp)
    assert (layout.tlsca_cert, layout.tlsca_key) == (
        org.root / "tlsca" / "tlsca.org1.test.local-cert.pem",
        org.root / "tlsca" / "priv_sk",
    )


def test_an_identity_outside_cryptogens_layout_is_refused(crypto: Path) -> None:
    peer_msp = OrgLayout.under(crypto, ORG.domain).peer(0).msp
    with pytest.raises(
        ProfileError,
        match=f"^{re.escape(str(peer_msp))} is not a user's msp folder in cryptogen's layout$",
    ):
        org_layout_of(peer_msp)


def test_an_organisation_without_its_tls_ca_is_refused(crypto: Path) -> None:
    org = OrgLayout.under(crypto, ORG.domain)
    shutil.rmtree(org.root / "tlsca")
    with pytest.raises(
        ProfileError, match=f"^no TLS CA certificate in {re.escape(str(org.root / 'tlsca'))}$"
    ):
        org_layout_of(org.client.msp)
