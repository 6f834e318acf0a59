"""`fedledger amb status` prints what AMB reported and leaves out what it did not
(cli/amb_show.py): never `None`, never an empty `()`."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from fedledger.cli.amb_show import print_status


def printed(
    network: dict[str, Any],
    members: Sequence[dict[str, Any]] = (),
    proposals: Sequence[dict[str, Any]] = (),
    nodes: Sequence[dict[str, Any]] = (),
) -> list[str]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200)
    print_status(console, network, list(members), list(proposals), list(nodes))
    return buffer.getvalue().splitlines()


def test_everything_reported_is_printed() -> None:
    fabric = {"Fabric": {"Edition": "STARTER", "OrderingServiceEndpoint": "orderer:30001"}}
    network = {"Id": "n-1", "Name": "consortium", "Status": "AVAILABLE",
               "FrameworkVersion": "2.2", "FrameworkAttributes": fabric,
               "VpcEndpointServiceName": "com.amazonaws.n-1"}  # fmt: skip
    assert printed(
        network,
        [{"Id": "m-1", "Name": "banka", "Status": "AVAILABLE"}],
        [{"ProposalId": "p-1", "Status": "IN_PROGRESS", "ProposedByMemberName": "banka"},
         {"ProposalId": "p-0", "Status": "APPROVED", "ProposedByMemberName": "banka"}],
        [{"Id": "nd-1", "Status": "AVAILABLE",
          "FrameworkAttributes": {"Fabric": {"PeerEndpoint": "nd-1.m-1:30003"}}}],
    ) == [
        "network n-1 (consortium): AVAILABLE, Fabric 2.2, STARTER edition",
        "  ordering service: orderer:30001",
        "  VPC endpoint service: com.amazonaws.n-1",
        "member m-1 (banka): AVAILABLE",
        "node nd-1: AVAILABLE nd-1.m-1:30003",
        "proposal p-1: IN_PROGRESS, by banka",
    ]  # fmt: skip


def test_what_was_not_reported_is_left_out() -> None:
    assert printed(
        {"Id": "n-1"},
        [{"Id": "m-1"}, {"Id": "m-2", "Name": "lender"}],
        [{"ProposalId": "p-1", "Status": "IN_PROGRESS"},
         {"ProposalId": "p-2", "Status": "IN_PROGRESS", "ProposedByMemberId": "m-2"}],
        [{"Id": "nd-1"}, {"Id": "nd-2", "Status": "CREATING"}],
    ) == [
        "network n-1",
        "member m-1",
        "member m-2 (lender)",
        "node nd-1",
        "node nd-2: CREATING",
        "proposal p-1: IN_PROGRESS",
        "proposal p-2: IN_PROGRESS, by m-2",
    ]  # fmt: skip
    assert printed({"Id": "n-2", "FrameworkVersion": "2.2"}) == ["network n-2: Fabric 2.2"]
