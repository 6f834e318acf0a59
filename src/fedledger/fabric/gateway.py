"""A connection to one peer's Gateway service, shared by every network and contract made from it.

One gRPC channel (one HTTP/2 connection) carries every call; gRPC multiplexes concurrent calls
over it, so many threads may evaluate and submit at once through one Gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from fedledger.fabric.client import GatewayClient, LedgerClient, Timeouts
from fedledger.fabric.contract import Clock, Network, now
from fedledger.fabric.identity import SigningIdentity

# Keepalive pings detect a silently dead connection under an idle event stream. A server closes
# a connection whose client pings more often than it allows ("Too many pings", GOAWAY
# ENHANCE_YOUR_CALM) after two such pings: Fabric's peer allows one per
# peer.keepalive.minInterval (60 s by default), the embedded ledger one per 60 s as well
# (EmbeddedConfig.keepalive_min_interval; gRPC's own server default is 5 minutes). Twice that.
KEEPALIVE_SECONDS = 120.0
PEER_MIN_PING_INTERVAL = 60.0


def accepted_pings(min_interval: float = PEER_MIN_PING_INTERVAL) -> list[tuple[str, int]]:
    """Server options that accept keepalive pings as a Fabric peer does (one per
    `min_interval` at most, also without a call in flight). gRPC's own server default, one per
    5 minutes while it sends no data, would close every idle event stream of a client pinging
    as Fabric allows."""
    return [
        ("grpc.http2.min_ping_interval_without_data_ms", round(min_interval * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
    ]


def channel_options(keepalive_seconds: float = KEEPALIVE_SECONDS) -> list[tuple[str, int]]:
    """Reconnect quickly after a peer restart (gRPC's default backoff grows to two minutes);
    ping every `keepalive_seconds` (see KEEPALIVE_SECONDS); accept blocks and query results
    larger than gRPC's 4 MiB default."""
    return [
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.min_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 5_000),
        ("grpc.keepalive_time_ms", round(keepalive_seconds * 1000)),
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


def open_channel(
    endpoint: str, tls: TlsConfig | None, keepalive_seconds: float = KEEPALIVE_SECONDS
) -> grpc.Channel:
    """A gRPC channel to `host:port`; plaintext only when `tls` is None."""
    if tls is None:
        return grpc.insecure_channel(endpoint, options=channel_options(keepalive_seconds))
    options: list[tuple[str, int | str]] = list(channel_options(keepalive_seconds))
    if tls.server_name:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    return grpc.secure_channel(endpoint, tls.credentials(), options=options)


class Gateway:
    """Entry point: `gateway.network(channel).contract(chaincode)`.

    Thread-safe. Close it (or use it as a context manager) to release the connection; a Gateway
    given an existing channel leaves closing that channel to its owner. A Gateway made `over` a
    client of the older peer protocol (`PeerClient`) owns that client and closes it.
    """

    def __init__(
        self,
        channel: grpc.Channel | None,
        signer: SigningIdentity,
        timeouts: Timeouts | None = None,
        *,
        owns_channel: bool = False,
        clock: Clock = now,
        client: LedgerClient | None = None,
    ) -> None:
        self._channel = channel
        self.signer = signer
        self.timeouts = client.timeouts if client else timeouts or Timeouts()
        if client is None:
            if channel is None:
                raise ValueError("a Gateway needs a gRPC channel or a client")
            client = GatewayClient(channel, self.timeouts)
        self._client = client
        self._owns_channel = owns_channel
        self._clock = clock

    @classmethod
    def over(cls, client: LedgerClient, signer: SigningIdentity) -> Gateway:
        """The same API over another protocol's client; closing the Gateway closes the client.
        Raises nothing."""
        return cls(None, signer, client=client)

    @classmethod
    def connect(
        cls,
        endpoint: str,
        signer: SigningIdentity,
        tls: TlsConfig | None,
        timeouts: Timeouts | None = None,
        *,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
    ) -> Gateway:
        """Open a channel to the peer at `endpoint` (`host:port`); the Gateway owns it."""
        channel = open_channel(endpoint, tls, keepalive_seconds)
        return cls(channel, signer, timeouts, owns_channel=True)

    def network(self, channel: str) -> Network:
        return Network(self._client, self.signer, channel, clock=self._clock)

    def close(self) -> None:
        self._client.close()
        if self._owns_channel and self._channel is not None:
            self._channel.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
