"""What `fedledger amb` prints: waiting with a progress display, status, next steps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from fedledger.amb.profile import WrittenProfile
from fedledger.amb.waiting import Waiting, wait_until_available

progress_console = Console(stderr=True, soft_wrap=True)


def wait_with_progress(what: str, status_of: Callable[[], str], waiting: Waiting) -> None:
    """Wait for AVAILABLE with a spinner naming the status; AmbWaitError passes through."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=progress_console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{what}: asking", total=None)

        def show(name: str, status: str, _elapsed: float) -> None:
            progress.update(task, description=f"{name}: {status}")

        waited = wait_until_available(what, status_of, waiting, show)
    progress_console.print(f"{what} is AVAILABLE (waited {waited:.0f} s)")


def _fabric(resource: dict[str, Any]) -> dict[str, Any]:
    return dict(resource.get("FrameworkAttributes", {}).get("Fabric", {}))


def _named(kind: str, resource: dict[str, Any]) -> str:
    """`kind id (name)`, or less when AMB (or a test server) left a field out."""
    name = resource.get("Name")
    return " ".join(str(p) for p in (kind, resource.get("Id"), name and f"({name})") if p)


def _known(*facts: Any, separator: str = ", ") -> str:
    return separator.join(str(fact) for fact in facts if fact)


def network_line(network: dict[str, Any]) -> str:
    """The network, its status, Fabric version and edition: only the fields AMB reported."""
    version, edition = network.get("FrameworkVersion"), _fabric(network).get("Edition")
    facts = _known(
        network.get("Status"), version and f"Fabric {version}", edition and f"{edition} edition"
    )
    return _named("network", network) + (f": {facts}" if facts else "")


def print_network_next_steps(out: Console, network: dict[str, Any], member_id: str) -> None:
    network_id = network.get("Id")
    service = network.get("VpcEndpointServiceName", "(not reported yet)")
    ordering = _fabric(network).get("OrderingServiceEndpoint", "(not reported yet)")
    out.print(network_line(network))
    out.print(f"ordering service: {ordering}")
    out.print(f"VPC endpoint service: {service}")
    out.print("next steps:")
    out.print(
        f"  1. an interface VPC endpoint for {service} in your VPC, and an EC2 host there "
        "(deploy/aws/member.yaml does both)"
    )
    out.print(f"  2. fedledger amb node create --network-id {network_id} --member-id {member_id}")
    out.print(
        f"  3. fedledger amb profile --network-id {network_id} --member-id {member_id} "
        "--tls-chain managedblockchain-tls-chain.pem --out profile.yaml"
    )
    out.print(
        f"  4. invite the next member: fedledger amb invite --network-id {network_id} "
        f"--member-id {member_id} --account <AWS account ID>"
    )


def print_status(
    out: Console,
    network: dict[str, Any],
    members: list[dict[str, Any]],
    proposals: list[dict[str, Any]],
    nodes: list[dict[str, Any]],
) -> None:
    """What AMB reported, and only that: a field it left out is left out of the line (moto's
    test server omits some, AMB itself while a resource is being created)."""
    out.print(network_line(network))
    for label, value in (
        ("ordering service", _fabric(network).get("OrderingServiceEndpoint")),
        ("VPC endpoint service", network.get("VpcEndpointServiceName")),
    ):
        if value:
            out.print(f"  {label}: {value}")
    for member in members:
        status = member.get("Status")
        out.print(_named("member", member) + (f": {status}" if status else ""))
    for node in nodes:
        facts = _known(node.get("Status"), _fabric(node).get("PeerEndpoint"), separator=" ")
        out.print(_named("node", node) + (f": {facts}" if facts else ""))
    for proposal in proposals:
        if proposal.get("Status") == "IN_PROGRESS":
            by = proposal.get("ProposedByMemberName") or proposal.get("ProposedByMemberId")
            out.print(
                f"proposal {proposal.get('ProposalId')}: IN_PROGRESS" + (f", by {by}" if by else "")
            )


def print_profile_next_steps(out: Console, written: WrittenProfile, tls_chain: Path) -> None:
    admin, user = written.identities["admin"], written.identities["user"]
    ca = f"https://{written.ca_endpoint}"
    out.print(f"wrote {written.path} (protocol: peer; AMB runs Fabric 2.2, without the Gateway)")
    for skipped in written.skipped_nodes:
        out.print(f"left out node {skipped}: not AVAILABLE")
    out.print("next: identities from your member's Fabric CA (run on the host in your VPC):")
    out.print(
        f"  fedledger identity enroll --ca-url {ca} --ca-cert {tls_chain} "
        f'--id {written.admin_username} --secret "$FEDLEDGER_AMB_ADMIN_PASSWORD" '
        f"--msp-dir {admin}"
    )
    out.print(
        f"  fedledger identity register --ca-url {ca} --ca-cert {tls_chain} --as {admin} "
        "--id user1 --type client --secret <user secret>"
    )
    out.print(
        f"  fedledger identity enroll --ca-url {ca} --ca-cert {tls_chain} --id user1 "
        f"--secret <user secret> --msp-dir {user}"
    )
