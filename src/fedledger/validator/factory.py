"""`build_validator`: one organisation's validator composed from its configuration.

Each outside part can be passed in (a fake in unit tests; a gateway, store or evaluator the
caller already holds); the ones not passed are built from the configuration:

    service = build_validator(config)
    service.start()
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import structlog

from fedledger.evaluate.engine import Evaluator
from fedledger.evaluate.report import evaluator_version
from fedledger.fabric import (
    Backoff,
    ChaincodeEvent,
    FileCheckpointer,
    Gateway,
    SigningIdentity,
    TlsConfig,
)
from fedledger.fabric.connect import peer_client
from fedledger.orgs.msp import MspFolderError
from fedledger.profile import ConnectionProfile, ProfileError
from fedledger.registry import ContractLike, Registry
from fedledger.store.base import ModelStore
from fedledger.store.factory import open_store
from fedledger.validator.announcer import Announcer
from fedledger.validator.config import ValidatorConfig
from fedledger.validator.deciding import Decider
from fedledger.validator.errors import StartError
from fedledger.validator.evaluation import EvaluationService, ModelEvaluator
from fedledger.validator.expiry import Expirer
from fedledger.validator.holdouts import Holdouts
from fedledger.validator.metrics import ValidatorMetrics
from fedledger.validator.reports import ReportBook
from fedledger.validator.service import ValidatorParts, ValidatorService
from fedledger.validator.voting import Clock, Voter, utc_now
from fedledger.validator.watcher import Watcher

log = structlog.get_logger("fedledger.validator")


class NetworkLike(Protocol):
    """What the validator needs of `fedledger.fabric.Network`."""

    def contract(self, chaincode: str) -> ContractLike: ...

    def chaincode_events(
        self,
        chaincode: str,
        *,
        start_block: int | None,
        checkpointer: FileCheckpointer,
        backoff: Backoff,
    ) -> Iterable[ChaincodeEvent]: ...

    def block_height(self) -> int: ...


class GatewayLike(Protocol):
    """What the validator needs of `fedledger.fabric.Gateway`."""

    def network(self, channel: str) -> NetworkLike: ...

    def close(self) -> None: ...


def build_validator(
    config: ValidatorConfig,
    *,
    clock: Clock = utc_now,
    gateway: GatewayLike | None = None,
    store: ModelStore | None = None,
    evaluator: ModelEvaluator | None = None,
) -> ValidatorService:
    """The validator of `config`, not started.

    Raises StartError naming the field that stops it; FabricError, StoreError or OSError when
    the gateway, the store or a file of the configuration cannot be opened.
    """
    log.info("validator starting", **config.summary())
    reports = report_book(config)
    gateway = gateway if gateway is not None else connect_gateway(config)
    network = gateway.network(config.channel)
    registry = Registry(network.contract(config.chaincode))
    metrics = ValidatorMetrics()
    evaluation = EvaluationService(
        config.organization,
        registry,
        store if store is not None else model_store(config),
        Holdouts(config.tasks, registry.get_task),
        evaluator if evaluator is not None else Evaluator(config.limits.sandbox),
        config.limits,
        metrics,
    )
    backoff = Backoff(config.retry.initial_seconds, config.retry.max_seconds)
    decider = Decider(
        registry, config.organization, metrics, config.decide.stagger_seconds, backoff
    )
    voter = Voter(evaluation, reports, metrics, config.retry, clock, decider.consider)
    checkpointer = FileCheckpointer(config.state_dir / "checkpoint.json")
    watcher = Watcher(
        voter,
        registry,
        evaluation.holdouts.task_ids,
        lambda start: network.chaincode_events(
            config.chaincode, start_block=start, checkpointer=checkpointer, backoff=backoff
        ),
        network.block_height,
        checkpointer,
        metrics,
        # Voters wait for a slot (and their proposer's share of them) in these threads.
        workers=4 * config.limits.max_concurrent_evaluations + 4,
        backoff=backoff,
        expirer=Expirer(registry, evaluation.holdouts.task_ids, clock, metrics, backoff),
        decider=decider,
    )
    announcer = Announcer(
        registry, config.organization, evaluation.holdouts.task_ids, evaluator_version(), backoff
    )
    return ValidatorService(
        config, ValidatorParts(gateway, evaluation, reports, watcher, announcer)
    )


def connect_gateway(config: ValidatorConfig) -> Gateway:
    """The organisation's gateway peer (gateway.*), as its identity (identity); with
    `gateway.protocol: peer`, the older protocol over the peers and orderers of the connection
    profile `gateway.profile`.

    Raises StartError when the identity or that profile cannot be loaded.
    """
    try:
        signer = SigningIdentity.from_msp_folder(config.identity, config.organization)
    except (MspFolderError, OSError) as error:
        raise StartError(f"identity: {error}") from error
    if config.gateway.protocol == "peer" and config.gateway.profile is not None:
        try:
            profile = ConnectionProfile.load(config.gateway.profile)
            client = peer_client(profile, profile.org(config.organization), signer)
        except (ProfileError, OSError, ValueError) as error:
            raise StartError(f"gateway.profile: {error}") from error
        return Gateway.over(client, signer)
    client_tls = config.gateway.tls_client
    tls = TlsConfig.from_files(
        config.gateway.tls_ca_cert,
        server_name=config.gateway.server_name,
        client_certificate=client_tls.cert if client_tls else None,
        client_key=client_tls.key if client_tls else None,
    )
    return Gateway.connect(config.gateway.endpoint, signer, tls)


def model_store(config: ValidatorConfig) -> ModelStore:
    """The store the proposals' models are read from (store.*), under limits.maxModelBytes."""
    return open_store(
        config.store.location,
        endpoint_url=config.store.endpoint_url,
        region=config.store.region,
        max_bytes=config.limits.max_model_bytes,
    )


def report_book(config: ValidatorConfig) -> ReportBook:
    """The reports behind our votes, in stateDir/reports.

    Raises StartError when the folder cannot be written.
    """
    try:
        return ReportBook(config.state_dir / "reports")
    except OSError as error:
        raise StartError(
            f"stateDir: cannot create {config.state_dir / 'reports'}: {error.strerror}; "
            "name a folder the validator may write"
        ) from error
