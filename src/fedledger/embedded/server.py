"""The embedded ledger's process: `python -m fedledger.embedded serve --run-dir DIR`.

It assembles the parts (store, committer, block cutter, chaincode, endorser), serves one TLS
Gateway endpoint per member organisation, and on SIGTERM stops taking requests, commits what
was already submitted, stops the chaincode and closes the database.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

import grpc
import structlog
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2_grpc
from fabric_protos.orderer import ab_pb2_grpc
from fabric_protos.peer import events_pb2_grpc, peer_pb2_grpc

from fedledger.embedded.broadcast import BroadcastServicer
from fedledger.embedded.chaincode_process import ChaincodeRunner
from fedledger.embedded.chaincode_protocol import MAX_MESSAGE_BYTES
from fedledger.embedded.channel_config import ChannelConfigKeeper
from fedledger.embedded.committer import Committer, Notifier, genesis
from fedledger.embedded.config import EmbeddedConfig, OrgConfig, RunPaths
from fedledger.embedded.endorsed_broadcast import EndorsedTransactions
from fedledger.embedded.endorser import Endorser
from fedledger.embedded.gateway import GatewayServicer, Ledger
from fedledger.embedded.identity import MemberRegistry, Signer
from fedledger.embedded.orderer import BlockCutter
from fedledger.embedded.peer_services import (
    DeliverServicer,
    EndorserServicer,
    SharedSimulations,
)
from fedledger.embedded.store import Store
from fedledger.embedded.validator import Validator
from fedledger.fabric.gateway import accepted_pings
from fedledger.runtime.processes import ProcessTable

log = structlog.get_logger("fedledger.embedded.server")
SHUTDOWN_GRACE = 5.0
BIND_RETRY_SECONDS = 15.0  # a crashed server's connections can hold its ports briefly


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )


async def serve(run_dir: Path) -> None:
    paths = RunPaths(run_dir)
    config = EmbeddedConfig.load(paths.config)
    crypto = paths.crypto
    members = MemberRegistry.from_pem_files(
        {org.msp_id: config.org_layout(crypto, org).ca_cert for org in config.members}
    )
    peers = {
        org.msp_id: Signer.from_msp(config.org_layout(crypto, org).peer(0).msp, org.msp_id)
        for org in config.members
    }
    orderer = Signer.from_msp(config.orderer_layout(crypto).orderer(0).msp, config.orderer_msp_id)
    store = Store(paths.database)
    notifier = Notifier(store)
    committer = Committer(config, store, Validator(config, members), orderer, notifier)
    committer.ensure_genesis(genesis(config, crypto))
    keeper = ChannelConfigKeeper(config.channel, store, committer, orderer, members)
    chaincode = ChaincodeRunner(config, paths.chaincode_log, ProcessTable(paths.processes))
    await chaincode.start()
    cutter = BlockCutter(config.max_message_count, config.batch_timeout, committer.commit)
    cutter.start()

    endorser = Endorser(config, members, peers, store, chaincode.execute)
    ledger = Ledger(config, members, store, endorser, cutter, notifier)
    broadcast = BroadcastServicer(
        config.channel,
        {
            common_pb2.CONFIG_UPDATE: keeper.handle,
            common_pb2.ENDORSER_TRANSACTION: EndorsedTransactions(ledger).handle,
        },
    )
    simulations = SharedSimulations(endorser)
    servers = [
        await _start_gateway(ledger, broadcast, simulations, crypto, org) for org in config.members
    ]
    log.info(
        "embedded ledger ready",
        network=config.name,
        channel=config.channel,
        chaincode=config.chaincode_id,
        height=store.height(),
        gateways=[org.address for org in config.members],
        batch_timeout=config.batch_timeout,
        max_message_count=config.max_message_count,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("stopping")
    await asyncio.gather(cutter.stop(), *(s.stop(SHUTDOWN_GRACE) for s in servers))
    await chaincode.stop()
    store.close()
    log.info("stopped", height=notifier.height)


async def _start_gateway(
    ledger: Ledger,
    broadcast: BroadcastServicer,
    simulations: SharedSimulations,
    crypto: Path,
    org: OrgConfig,
) -> grpc.aio.Server:
    """Listen on the organisation's Gateway port, which serves the older Endorser and Deliver
    services too, as a Fabric peer's port does. Right after a crash the kernel may still hold
    the old server's closing connections on that port for a moment: retry, then give up naming
    the port."""
    config = ledger.config
    address = f"127.0.0.1:{org.gateway_port}"
    deadline = time.monotonic() + BIND_RETRY_SECONDS
    while True:
        server = _gateway_server(ledger, simulations, org)
        # Every peer's port also serves ordering, as if an orderer sat beside each peer.
        ab_pb2_grpc.add_AtomicBroadcastServicer_to_server(broadcast, server)
        try:
            server.add_secure_port(address, _credentials(config, crypto, org))
            break
        except RuntimeError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"cannot listen on {address} for {org.msp_id}: {error}"
                ) from None
            log.warning("gateway port busy, retrying", address=address, organization=org.msp_id)
            await asyncio.sleep(0.2)
    await server.start()
    return server


def _credentials(config: EmbeddedConfig, crypto: Path, org: OrgConfig) -> grpc.ServerCredentials:
    tls = config.org_layout(crypto, org).peer(0)
    return grpc.ssl_server_credentials(
        [(tls.tls_key("server").read_bytes(), tls.tls_cert("server").read_bytes())]
    )


def _gateway_server(
    ledger: Ledger, simulations: SharedSimulations, org: OrgConfig
) -> grpc.aio.Server:
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
            *accepted_pings(ledger.config.keepalive_min_interval),
        ]
    )
    gateway_pb2_grpc.add_GatewayServicer_to_server(GatewayServicer(ledger, org), server)
    peer_pb2_grpc.add_EndorserServicer_to_server(EndorserServicer(simulations, org), server)
    events_pb2_grpc.add_DeliverServicer_to_server(DeliverServicer(ledger), server)
    return server


def main(run_dir: Path) -> int:
    configure_logging()
    try:
        asyncio.run(serve(run_dir))
    except Exception as error:
        log.exception("embedded ledger failed", error=str(error))
        return 1
    return 0
