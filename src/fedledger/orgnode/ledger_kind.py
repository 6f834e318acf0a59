"""Which ledger runs the channel, told by the orderer address the consortium gave.

A Fabric orderer serves only ordering (AtomicBroadcast); the embedded ledger serves the Gateway
on every one of its ports, the one it gives out as the orderer included. So an empty Gateway
request to that address answers UNIMPLEMENTED from Fabric and a refusal of the empty request
from the embedded ledger: no option for the user to get wrong, and no guess from what happens
to be installed on this host (`network up --ledger auto` may guess that way because it starts
the ledger itself; here someone else runs it).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import grpc
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc

from fedledger.fabric.gateway import TlsConfig, open_channel
from fedledger.orgnode.errors import StartSettingsError
from fedledger.orgnode.settings import StartSettings
from fedledger.runtime import health

# Answers that say nothing about the service yet: the orderer is not listening (yet).
_UNANSWERED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def ledger_behind(address: str, tls_ca: Path, server_name: str, timeout: float) -> str:
    """The ledger, fabric or embedded, whose orderer listens at `address` (host:port, its TLS
    certificate checked against `tls_ca` under `server_name`), asked until it answers.

    Raises StartSettingsError naming the address and the last answer when it does not answer
    within `timeout` seconds.
    """
    tls = TlsConfig.from_files(tls_ca, server_name=server_name)
    last: list[str] = ["no answer yet"]

    def answer() -> str | None:
        with open_channel(address, tls) as channel:
            try:
                gateway_pb2_grpc.GatewayStub(channel).Evaluate(
                    gateway_pb2.EvaluateRequest(), timeout=min(5.0, timeout)
                )
            except grpc.RpcError as error:
                code = error.code()
                if code == grpc.StatusCode.UNIMPLEMENTED:
                    return "fabric"
                if code in _UNANSWERED:
                    last[0] = f"{code.name}: {error.details()}"
                    return None
            return "embedded"

    try:
        return health.wait_for(answer, f"the orderer at {address}", timeout, 0.5)
    except health.NotReadyError as error:
        raise StartSettingsError(
            f"cannot tell which ledger runs the channel: {error} (last: {last[0]}); is the "
            "orderer running and --orderer right? (or give --ledger fabric or embedded)"
        ) from None


def with_ledger_known(settings: StartSettings, timeout: float) -> StartSettings:
    """`settings` with `ledger` "auto" replaced by the ledger its orderer belongs to.

    Raises StartSettingsError when no orderer is known or it does not answer in time.
    """
    if settings.ledger != "auto":
        return settings
    address, tls_ca, name = settings.require_orderer()
    return replace(settings, ledger=ledger_behind(address, tls_ca, name, timeout))
