"""The channel's configuration read from a peer, and updates sent to an orderer.

The latest configuration is found as a peer's clients find it: the chain height from qscc's
GetChainInfo, the last block, the number of the last config block its metadata names, and that
block. An update goes to an orderer's Broadcast as one CONFIG_UPDATE envelope; success there
only means the orderer accepted it, so `wait_for_sequence` then watches the peer's config.
"""

from __future__ import annotations

import time
from typing import Any

import grpc
from fabric_protos.common import common_pb2, configtx_pb2
from fabric_protos.orderer import ab_pb2_grpc

from fedledger.channelconfig.envelopes import config_of_block, last_config_index
from fedledger.channelconfig.errors import BroadcastError, ChannelConfigError
from fedledger.fabric.contract import Network
from fedledger.fabric.gateway import TlsConfig, open_channel
from fedledger.fabric.qscc import LedgerQueries
from fedledger.profile import ConnectionProfile, OrdererEndpoint

BROADCAST_TIMEOUT = 30.0


def latest_config(network: Network) -> tuple[configtx_pb2.Config, int]:
    """The channel's configuration in force and the number of the block holding it. The fabric
    package's errors go through when the peer cannot be reached or refuses."""
    queries = LedgerQueries(network)
    index = last_config_index(queries.block_by_number(network.block_height() - 1))
    return config_of_block(queries.block_by_number(index)), index


def wait_for_sequence(
    network: Network, sequence: int, timeout: float, poll: float = 0.25
) -> configtx_pb2.Config:
    """The peer's configuration once its sequence reaches `sequence`; raises ChannelConfigError
    when it has not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        config, _ = latest_config(network)
        if config.sequence >= sequence:
            return config
        if time.monotonic() > deadline:
            raise ChannelConfigError(
                f"the peer's channel configuration is still at sequence {config.sequence} after "
                f"{timeout:g} s (waiting for {sequence}): the orderer accepted the update, check "
                "its log and `fedledger channel show` later"
            )
        time.sleep(poll)


def orderer_of(profile: ConnectionProfile) -> OrdererEndpoint:
    """The first orderer the profile lists; raises ChannelConfigError when it lists none."""
    if not profile.orderers:
        where = profile.path or "the connection profile"
        raise ChannelConfigError(
            f"{where} lists no orderers: add an `orderers:` entry with endpoint, serverName and "
            "tlsCaCert (docs/connection-profile.md)"
        )
    return profile.orderers[0]


def broadcast(orderer: OrdererEndpoint, envelope: common_pb2.Envelope) -> None:
    """Send one envelope to the orderer's Broadcast; raises BroadcastError with the orderer's
    status and reason when it does not answer SUCCESS or cannot be reached."""
    tls = TlsConfig.from_files(orderer.tls_ca_cert, server_name=orderer.server_name)
    channel = open_channel(orderer.endpoint, tls)
    try:
        stub: Any = ab_pb2_grpc.AtomicBroadcastStub(channel)
        replies = stub.Broadcast(iter([envelope]), timeout=BROADCAST_TIMEOUT)
        reply = next(iter(replies))
    except grpc.RpcError as error:
        raise BroadcastError(
            f"orderer {orderer.endpoint}: {error.code().name}: {error.details()}"
        ) from None
    finally:
        channel.close()
    if reply.status != common_pb2.SUCCESS:
        status = common_pb2.Status.Name(reply.status)
        raise BroadcastError(
            f"orderer {orderer.endpoint} refused the update: {status}: {reply.info}"
        )
