"""The peers and orderers a client of the older protocol dials, and one connection to each.

The Gateway service hides every peer but one behind it; the older protocol talks to each
endorsing peer and to an orderer itself, so the client holds a gRPC channel per node, opened on
first use and shared by every call to that node.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from fedledger.fabric.crypto import sha256
from fedledger.fabric.gateway import KEEPALIVE_SECONDS, TlsConfig, open_channel


@dataclass(frozen=True)
class Node:
    """A peer or an orderer: where it listens, whose it is, how to check its TLS certificate."""

    endpoint: str
    msp_id: str
    tls: TlsConfig | None

    def __str__(self) -> str:
        return f"{self.endpoint} ({self.msp_id})"

    @property
    def tls_cert_hash(self) -> bytes:
        """SHA-256 of the client certificate presented to this node (DER), or empty without
        one: what a node that requires mutual TLS expects in Deliver and Discover requests."""
        if self.tls is None or self.tls.client_certificate is None:
            return b""
        return sha256(_pem_to_der(self.tls.client_certificate))


def _pem_to_der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


class Connections:
    """One gRPC channel per node. Thread-safe; `close()` closes them all."""

    def __init__(self, keepalive_seconds: float = KEEPALIVE_SECONDS) -> None:
        self._keepalive = keepalive_seconds
        self._channels: dict[Node, grpc.Channel] = {}
        self._lock = threading.Lock()

    def channel(self, node: Node) -> grpc.Channel:
        """The channel to `node`, opened now if this is the first call to it. Raises nothing:
        an unreachable node shows as UNAVAILABLE on the call."""
        with self._lock:
            if node not in self._channels:
                self._channels[node] = open_channel(node.endpoint, node.tls, self._keepalive)
            return self._channels[node]

    def close(self) -> None:
        with self._lock:
            channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            channel.close()
