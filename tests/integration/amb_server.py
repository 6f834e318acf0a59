"""moto's server as AWS Managed Blockchain, for the `fedledger amb` tests.

moto models the AMB API with FrameworkVersion 1.2 where AMB runs 2.2: the calls, the flow and
the fields are the same. Its network has no Status and no VpcEndpointServiceName, and every
resource is AVAILABLE at once; `statuses` gives the network AMB's two fields and lets a test
keep a resource CREATING for a while, as AWS does for minutes.
"""

from __future__ import annotations

import logging
import os
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto.managedblockchain import models
from moto.server import ThreadedMotoServer

from .ports import free_port


class CreatingFor:
    """A resource's `status` that reads CREATING for `seconds` after the test set it up, then
    what moto set (AVAILABLE)."""

    def __init__(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds

    def __get__(self, resource: Any, owner: type) -> str:
        if time.monotonic() < self.until:
            return "CREATING"
        return str(resource.__dict__.get("_moto_status", "AVAILABLE"))

    def __set__(self, resource: Any, value: str) -> None:
        resource.__dict__["_moto_status"] = value


@contextmanager
def amb_server() -> Iterator[str]:
    """moto's server on a free loopback port; its endpoint URL."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    # The server's request log would land in the commands' captured output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models.ManagedBlockchainNetwork, "status", "AVAILABLE", raising=False)
        patch.setattr(
            models.ManagedBlockchainNetwork,
            "vpc_endpoint_service_name",
            property(lambda n: f"com.amazonaws.{n.region}.managedblockchain.{n.id.lower()}"),
            raising=False,
        )
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


def reset(endpoint: str) -> None:
    """Forget every network, member, node, proposal and invitation."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
