"""Mutual TLS for the validator: its server certificate and the CAs whose clients may call it.

The server certificate is either given (cert and key files) or issued at start-up by the
organisation's TLS CA, like the peer's own: a fresh key each start, never written to disk.
gRPC then requires every client to present a certificate chaining to one of `clientCaCerts`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import grpc

from fedledger.orgs.ca import CertificateAuthority
from fedledger.validator.config import ListenConfig


@dataclass(frozen=True)
class ServerTls:
    certificate_chain: bytes
    private_key: bytes
    client_cas: bytes

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate_chain)],
            root_certificates=self.client_cas,
            require_client_auth=True,
        )


def server_tls(listen: ListenConfig, common_name: str, now: dt.datetime) -> ServerTls:
    """The server's key pair (read or issued) and the accepted client CAs.

    Raises ValueError for a listen section with neither (the configuration's checks refuse it
    first).
    """
    client_cas = b"".join(_pem(path) for path in listen.client_ca_certs)
    if listen.server is not None:
        return ServerTls(_pem(listen.server.cert), _pem(listen.server.key), client_cas)
    if listen.issue_from is None:
        raise ValueError("listen.tls has neither a certificate nor a CA to issue one")
    ca = CertificateAuthority.load(listen.issue_from.ca_cert, listen.issue_from.ca_key)
    issued = ca.issue_tls(common_name, list(listen.issue_from.hostnames), now)
    return ServerTls(issued.cert_pem, issued.key_pem, client_cas)


def client_credentials(
    ca_certificate: bytes, client_certificate: bytes | None, client_key: bytes | None
) -> grpc.ChannelCredentials:
    """What a caller of the validator presents: the server's CA and its own certificate."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca_certificate,
        private_key=client_key,
        certificate_chain=client_certificate,
    )


def _pem(path: Path) -> bytes:
    return path.read_bytes()
