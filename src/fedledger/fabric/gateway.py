"""A connection to one peer's Gateway service, shared by every network and contract made from it.

One gRPC channel (one HTTP/2 connection) carries every call; gRPC multiplexes concurrent calls
over it, so many threads may evaluate and submit at once through one Gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from fedledger.fabric.client import GatewayClient, Timeouts
from fedledger.fabric.contract import Clock, Network, now
from fedledger.fabric.identity import SigningIdentity

# Reconnect quickly after a peer restart (gRPC's default backoff grows to two minutes); detect a
# silently dead connection under an idle event stream with keepalive pings no more often than a
# peer tolerates (Fabric's peer.keepalive.minInterval, 60 s: more frequent pings get the
# connection closed); accept blocks and query results larger than gRPC's 4 MiB default.
CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 5_000),
    ("grpc.keepalive_time_ms", 120_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 100 * 1024 * 1024),
    ("grpc.max_send_message_length", 100 * 1024 * 1024),
]


@dataclass(frozen=True)
class TlsConfig:
    """Server verification against the organisation's TLS CA; optional client certificate."""

    ca_certificate: bytes
    server_name: str | None = None
    client_certificate: bytes | None = None
    client_key: bytes | None = None

    @classmethod
    def from_files(
        cls,
        ca_certificate: Path,
        server_name: str | None = None,
        client_certificate: Path | None = None,
        client_key: Path | None = None,
    ) -> TlsConfig:
        """TLS settings from PEM files. Raises ValueError, a caller's mistake, for a client
        certificate without its key or the reverse; OSError for an unreadable file.
        """
        if (client_certificate is None) != (client_key is None):
            raise ValueError("mutual TLS needs both a client certificate and its key")
        return cls(
            ca_certificate=ca_certificate.read_bytes(),
            server_name=server_name,
            client_certificate=client_certificate.read_bytes() if client_certificate else None,
            client_key=client_key.read_bytes() if client_key else None,
        )

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca_certificate,
            private_key=self.client_key,
            certificate_chain=self.client_certificate,
        )


def open_channel(endpoint: str, tls: TlsConfig | None) -> grpc.Channel:
    """A gRPC channel to `host:port`; plaintext only when `tls` is None."""
    if tls is None:
        return grpc.insecure_channel(endpoint, options=CHANNEL_OPTIONS)
    options: list[tuple[str, int | str]] = list(CHANNEL_OPTIONS)
    if tls.server_name:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    return grpc.secure_channel(endpoint, tls.credentials(), options=options)


class Gateway:
    """Entry point: `gateway.network(channel).contract(chaincode)`.

    Thread-safe. Close it (or use it as a context manager) to release the connection; a Gateway
    given an existing channel leaves closing that channel to its owner.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        signer: SigningIdentity,
        timeouts: Timeouts | None = None,
        *,
        owns_channel: bool = False,
        clock: Clock = now,
    ) -> None:
        self._channel = channel
        self.signer = signer
        self.timeouts = timeouts or Timeouts()
        self._client = GatewayClient(channel, self.timeouts)
        self._owns_channel = owns_channel
        self._clock = clock

    @classmethod
    def connect(
        cls,
        endpoint: str,
        signer: SigningIdentity,
        tls: TlsConfig | None,
        timeouts: Timeouts | None = None,
    ) -> Gateway:
        """Open a channel to the peer at `endpoint` (`host:port`); the Gateway owns it."""
        return cls(open_channel(endpoint, tls), signer, timeouts, owns_channel=True)

    def network(self, channel: str) -> Network:
        return Network(self._client, self.signer, channel, clock=self._clock)

    def close(self) -> None:
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
