"""A client of a validator: a mutual-TLS channel and the generated stub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc

from fedledger.validator.api import ValidatorStub
from fedledger.validator.config import ValidatorConfig
from fedledger.validator.endpoint import read_endpoint
from fedledger.validator.tls import client_credentials


def open_channel(
    address: str,
    server_ca: Path,
    client_cert: Path | None,
    client_key: Path | None,
    server_name: str | None = None,
) -> grpc.Channel:
    credentials = client_credentials(
        server_ca.read_bytes(),
        client_cert.read_bytes() if client_cert else None,
        client_key.read_bytes() if client_key else None,
    )
    options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
    return grpc.secure_channel(address, credentials, options=options)


def channel_for(config: ValidatorConfig, address: str | None = None) -> grpc.Channel:
    """A channel to the validator a configuration describes, as its organisation's client
    (the gateway's TLS client certificate), trusting the CA that issued the server's.

    Raises FileNotFoundError when no `address` is given and the validator has recorded none
    (it is not running).
    """
    listen = config.listen
    server_ca = listen.issue_from.ca_cert if listen.issue_from else listen.client_ca_certs[0]
    client = config.gateway.tls_client
    target = address or str(read_endpoint(config.state_dir)["address"])
    return open_channel(
        target, server_ca, client.cert if client else None, client.key if client else None
    )


def stub(channel: grpc.Channel) -> Any:
    return ValidatorStub(channel)
