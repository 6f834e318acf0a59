"""Where cryptogen puts each file, so every tool that expects its layout finds ours."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NodeLayout:
    """One identity's folder: `msp/` for signing, `tls/` for transport."""

    root: Path
    name: str

    @property
    def msp(self) -> Path:
        return self.root / "msp"

    @property
    def signcert(self) -> Path:
        return self.msp / "signcerts" / f"{self.name}-cert.pem"

    @property
    def private_key(self) -> Path:
        return self.msp / "keystore" / "priv_sk"

    @property
    def tls(self) -> Path:
        return self.root / "tls"

    @property
    def tls_ca(self) -> Path:
        return self.tls / "ca.crt"

    def tls_cert(self, role: str) -> Path:
        """`server.crt` for nodes, `client.crt` for users (cryptogen's names)."""
        return self.tls / f"{role}.crt"

    def tls_key(self, role: str) -> Path:
        return self.tls / f"{role}.key"


@dataclass(frozen=True)
class _OrgLayoutBase:
    root: Path
    domain: str

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca" / f"ca.{self.domain}-cert.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca" / "priv_sk"

    @property
    def tlsca_cert(self) -> Path:
        return self.root / "tlsca" / f"tlsca.{self.domain}-cert.pem"

    @property
    def tlsca_key(self) -> Path:
        return self.root / "tlsca" / "priv_sk"

    @property
    def msp(self) -> Path:
        """The organisation's verifying MSP, as the channel configuration references it."""
        return self.root / "msp"

    def user(self, name: str) -> NodeLayout:
        full = f"{name}@{self.domain}"
        return NodeLayout(self.root / "users" / full, full)

    @property
    def admin(self) -> NodeLayout:
        return self.user("Admin")


@dataclass(frozen=True)
class OrgLayout(_OrgLayoutBase):
    """`peerOrganizations/<domain>/`."""

    @classmethod
    def under(cls, crypto_root: Path, domain: str) -> OrgLayout:
        return cls(crypto_root / "peerOrganizations" / domain, domain)

    @classmethod
    def of_user_msp(cls, msp: Path) -> OrgLayout:
        """The organisation of a user's MSP folder, `<domain>/users/<name>@<domain>/msp`.

        Raises ValueError for a folder elsewhere (a connection profile may name any MSP folder;
        only one in cryptogen's layout tells where its organisation's CAs are).
        """
        if msp.parent.parent.name != "users":
            raise ValueError(f"{msp} is not a user's msp folder in cryptogen's layout")
        root = msp.parent.parent.parent
        return cls(root, root.name)

    def peer(self, index: int) -> NodeLayout:
        name = f"peer{index}.{self.domain}"
        return NodeLayout(self.root / "peers" / name, name)

    @property
    def client(self) -> NodeLayout:
        return self.user("User1")


@dataclass(frozen=True)
class OrdererOrgLayout(_OrgLayoutBase):
    """`ordererOrganizations/<domain>/`."""

    @classmethod
    def under(cls, crypto_root: Path, domain: str) -> OrdererOrgLayout:
        return cls(crypto_root / "ordererOrganizations" / domain, domain)

    def orderer(self, index: int) -> NodeLayout:
        name = f"orderer{index}.{self.domain}"
        return NodeLayout(self.root / "orderers" / name, name)
