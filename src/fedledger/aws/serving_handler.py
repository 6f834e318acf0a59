"""The serving app as an AWS Lambda behind API Gateway, through Mangum (docs/serving.md#lambda).

Lambda freezes a process between invocations, so no thread can follow the ledger's events: the
champion is loaded at cold start, and an invocation asks the ledger for the champion first when
the last answer is older than FEDLEDGER_CHAMPION_CHECK_SECONDS (a swap is then paid by that
invocation). Configuration is the function's environment, read and checked once at cold start:

    FEDLEDGER_TASK                     the task id (required)
    FEDLEDGER_PROFILE                  the connection profile (default connection-profile.yaml)
    FEDLEDGER_ORG                      the organisation acting (default the profile's first)
    FEDLEDGER_STORE                    the model store, e.g. s3://bucket/models (required)
    FEDLEDGER_CHAMPION_CHECK_SECONDS   at most this long between champion checks (default 30)

Handler: `fedledger.aws.serving_handler.handler`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedledger.aws.settings import TASK, read_common, read_number
from fedledger.serving.errors import ServingConfigError
from fedledger.serving.service import DEFAULT_POLL_SECONDS, ChampionService

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class LambdaSettings:
    task: str
    profile: Path
    org: str | None
    store: str
    check_seconds: float

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> LambdaSettings:
        """The settings in `environ`: the shared ones (aws/settings.py) with FEDLEDGER_TASK
        required, and FEDLEDGER_CHAMPION_CHECK_SECONDS. Raises ServingConfigError naming the
        variable that is missing or invalid."""
        common = read_common(environ, [TASK], ServingConfigError)
        check_seconds = read_number(
            environ,
            "FEDLEDGER_CHAMPION_CHECK_SECONDS",
            float(DEFAULT_POLL_SECONDS),
            float,
            0.0,
            "a number of seconds >= 0",
            ServingConfigError,
        )
        return cls(environ[TASK], common.profile, common.org, common.store, check_seconds)


def make_handler(service: ChampionService) -> LambdaHandler:
    """A Lambda handler serving `service` (built with follow="poll"; started here, which loads
    the champion). Raises nothing itself; the app answers every request."""
    from mangum import Mangum

    from fedledger.serving.app import service_app

    service.start()
    adapter = Mangum(service_app(service), lifespan="off")
    poller = service.poller

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if poller is not None:
            poller.check()
        return dict(adapter(event, context))

    return handle


def open_lambda_service(settings: LambdaSettings) -> ChampionService:
    """The service the settings describe, following the champion by polling.

    Raises ProfileError, FabricError, RegistryError or StoreError (open_service, open_store).
    """
    from fedledger.profile import ConnectionProfile
    from fedledger.serving.service import open_service
    from fedledger.store.factory import open_store

    profile = ConnectionProfile.load(settings.profile)
    return open_service(
        profile,
        settings.org or profile.msp_ids[0],
        settings.task,
        open_store(settings.store),
        follow="poll",
        poll_seconds=settings.check_seconds,
    )


# A Lambda execution environment is reused across invocations: the service built at cold start
# is kept here, the one piece of module state, for the invocations that follow.
_handlers: list[LambdaHandler] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point. Raises ServingConfigError (and the errors of
    open_lambda_service) at cold start when the function is misconfigured."""
    if not _handlers:
        settings = LambdaSettings.from_environment(os.environ)
        _handlers.append(make_handler(open_lambda_service(settings)))
    return _handlers[0](event, context)
