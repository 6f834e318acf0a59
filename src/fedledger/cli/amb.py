"""`fedledger amb`: a consortium on AWS Managed Blockchain (fedledger/amb/).

AMB's own governance (who joins the network) runs through AMB proposals and votes, separate
from fedledger's votes on models. The admin password of a member's first Fabric CA identity is
read from an option, the environment or a hidden prompt, and never printed or logged.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fedledger.amb.errors import AmbInvitationError
from fedledger.amb.profile import ProfileRequest, write_profile
from fedledger.amb.requests import (
    MemberSpec,
    check_accounts,
    check_edition,
    node_configuration,
    voting_policy,
)
from fedledger.amb.waiting import Waiting
from fedledger.cli.amb_show import (
    print_network_next_steps,
    print_profile_next_steps,
    print_status,
    wait_with_progress,
)

amb_app = typer.Typer(
    help="Run a consortium on AWS Managed Blockchain: network, members, peer nodes, profile.",
    no_args_is_help=True,
)
network_app = typer.Typer(help="Create an AMB network.", no_args_is_help=True)
node_app = typer.Typer(help="Create a member's peer nodes.", no_args_is_help=True)
amb_app.add_typer(network_app, name="network")
amb_app.add_typer(node_app, name="node")
out = Console(soft_wrap=True)

if TYPE_CHECKING:
    from fedledger.amb.client import AmbClient

Region = Annotated[
    str | None,
    typer.Option(
        "--region",
        envvar="AWS_REGION",
        help="AWS region (default: $AWS_REGION, else the AWS profile's, as the AWS CLI does).",
    ),
]
EndpointUrl = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Another address for the AMB API (a test server); default: AWS's, or "
        "$AWS_ENDPOINT_URL.",
    ),
]
NetworkId = Annotated[str, typer.Option("--network-id", help="The network, n-….")]
MemberId = Annotated[str, typer.Option("--member-id", help="Your member, m-….")]
Wait = Annotated[
    float,
    typer.Option(
        "--wait", help="Seconds to wait for AVAILABLE, then give up naming the status; 0: don't."
    ),
]
PollInterval = Annotated[
    float, typer.Option("--poll-interval", help="Seconds between two status requests.")
]
MemberName = Annotated[str, typer.Option("--member-name", help="Your member's name.")]
AdminUsername = Annotated[
    str, typer.Option("--admin-username", help="The first identity of your member's Fabric CA.")
]
AdminPassword = Annotated[
    str,
    typer.Option(
        "--admin-password",
        envvar="FEDLEDGER_AMB_ADMIN_PASSWORD",
        prompt="Admin password for the member's Fabric CA",
        hide_input=True,
        confirmation_prompt=True,
        show_default=False,
        help="Its password (or $FEDLEDGER_AMB_ADMIN_PASSWORD; asked, hidden, when neither).",
    ),
]
CaLogs = Annotated[
    bool,
    typer.Option("--cloudwatch-logs", help="Publish the CA's or the peer's logs to CloudWatch."),
]


@network_app.command("create")
def network_create(
    name: Annotated[str, typer.Option("--name", help="The network's name.")],
    member_name: MemberName,
    admin_password: AdminPassword,
    admin_username: AdminUsername = "admin",
    edition: Annotated[str, typer.Option("--edition", help="STARTER or STANDARD.")] = "STARTER",
    framework_version: Annotated[
        str, typer.Option("--framework-version", help="Fabric version (AMB offers 2.2).")
    ] = "2.2",
    threshold: Annotated[int, typer.Option("--threshold", help="Approval %, 0-100.")] = 50,
    proposal_hours: Annotated[
        int, typer.Option("--proposal-hours", help="Hours a proposal stays open.")
    ] = 24,
    comparator: Annotated[
        str, typer.Option("--comparator", help="GREATER_THAN or GREATER_THAN_OR_EQUAL_TO.")
    ] = "GREATER_THAN",
    cloudwatch_logs: CaLogs = False,
    wait: Wait = 3600,
    poll_interval: PollInterval = 30,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Create an AMB network (Hyperledger Fabric) and its first member, yours.

    Waits for both to be AVAILABLE (about 30 minutes on AWS), then prints the next steps.
    """
    member = MemberSpec(member_name, admin_username, admin_password, ca_logs=cloudwatch_logs)
    client = _client(region, endpoint_url)
    network_id, member_id = client.create_network(
        name,
        framework_version,
        check_edition(edition),
        voting_policy(threshold, proposal_hours, comparator),
        member,
    )
    out.print(f"network {network_id} with member {member_id} ({member_name}) requested")
    waiting = Waiting(wait, poll_interval)
    if wait > 0:
        wait_with_progress(
            f"network {network_id}", lambda: _status(client.network(network_id)), waiting
        )
        wait_with_progress(
            f"member {member_id}",
            lambda: _status(client.member(network_id, member_id)),
            waiting,
        )
    print_network_next_steps(out, client.network(network_id), member_id)


@node_app.command("create")
def node_create(
    network_id: NetworkId,
    member_id: MemberId,
    availability_zone: Annotated[
        str | None,
        typer.Option("--availability-zone", help="Default: the region's first, e.g. us-east-1a."),
    ] = None,
    instance_type: Annotated[
        str, typer.Option("--instance-type", help="e.g. bc.t3.small (STARTER), bc.m5.large.")
    ] = "bc.t3.small",
    state_db: Annotated[str, typer.Option("--state-db", help="CouchDB or LevelDB.")] = "CouchDB",
    cloudwatch_logs: CaLogs = False,
    wait: Wait = 1800,
    poll_interval: PollInterval = 30,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Create a peer node of your member and wait for it to be AVAILABLE."""
    client = _client(region, endpoint_url)
    zone = availability_zone or f"{client.region}a"
    configuration = node_configuration(instance_type, zone, state_db, cloudwatch_logs)
    node_id = client.create_node(network_id, member_id, configuration)
    out.print(f"peer node {node_id} of member {member_id} requested ({instance_type}, {zone})")
    if wait > 0:
        wait_with_progress(
            f"node {node_id}",
            lambda: _status(client.node(network_id, member_id, node_id)),
            Waiting(wait, poll_interval),
        )
    node = client.node(network_id, member_id, node_id)
    endpoint = node.get("FrameworkAttributes", {}).get("Fabric", {}).get("PeerEndpoint", "")
    out.print(f"node {node_id}: {node.get('Status')}, peer endpoint {endpoint}")
    out.print(
        f"next: fedledger amb profile --network-id {network_id} --member-id {member_id} "
        "--tls-chain managedblockchain-tls-chain.pem --out profile.yaml"
    )


@amb_app.command()
def invite(
    network_id: NetworkId,
    member_id: MemberId,
    account: Annotated[
        list[str], typer.Option("--account", help="AWS account ID to invite; repeat for more.")
    ],
    description: Annotated[str, typer.Option("--description", help="Shown to voters.")] = "",
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Propose inviting AWS accounts to the network (an AMB proposal the members vote on)."""
    client = _client(region, endpoint_url)
    proposal_id = client.invite(network_id, member_id, check_accounts(account), description)
    out.print(f"proposal {proposal_id} to invite {', '.join(account)}")
    out.print(
        f"each member votes: fedledger amb vote --network-id {network_id} "
        f"--member-id <its member> --proposal-id {proposal_id} --yes"
    )


@amb_app.command()
def vote(
    network_id: NetworkId,
    member_id: MemberId,
    proposal_id: Annotated[str, typer.Option("--proposal-id", help="The proposal, p-….")],
    yes: Annotated[bool, typer.Option("--yes/--no", help="Approve or reject.")],
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Vote on an AMB proposal as your member."""
    client = _client(region, endpoint_url)
    client.vote(network_id, proposal_id, member_id, yes)
    proposal = client.proposal(network_id, proposal_id)
    status = proposal.get("Status")
    out.print(
        f"voted {'YES' if yes else 'NO'} on {proposal_id}: {status} "
        f"({proposal.get('YesVoteCount')} yes, {proposal.get('NoVoteCount')} no, "
        f"{proposal.get('OutstandingVoteCount')} outstanding)"
    )
    if status == "REJECTED":
        out.print("the proposal is REJECTED: AMB sends no invitation and removes no member")
    elif status == "APPROVED":
        out.print("approved: an invited account accepts with `fedledger amb accept`")


@amb_app.command()
def accept(
    member_name: MemberName,
    admin_password: AdminPassword,
    invitation_id: Annotated[
        str | None,
        typer.Option("--invitation-id", help="Default: this account's one PENDING invitation."),
    ] = None,
    admin_username: AdminUsername = "admin",
    cloudwatch_logs: CaLogs = False,
    wait: Wait = 1800,
    poll_interval: PollInterval = 30,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Accept an invitation: create your member in the network that invited this account."""
    member = MemberSpec(member_name, admin_username, admin_password, ca_logs=cloudwatch_logs)
    client = _client(region, endpoint_url)
    invitation = _invitation(client.invitations(), invitation_id)
    network_id = str(invitation["NetworkSummary"]["Id"])
    member_id = client.create_member(str(invitation["InvitationId"]), network_id, member)
    out.print(f"member {member_id} ({member_name}) requested in network {network_id}")
    if wait > 0:
        wait_with_progress(
            f"member {member_id}",
            lambda: _status(client.member(network_id, member_id)),
            Waiting(wait, poll_interval),
        )
    print_network_next_steps(out, client.network(network_id), member_id)


@amb_app.command()
def status(
    network_id: NetworkId,
    member_id: Annotated[
        str | None, typer.Option("--member-id", help="Also list this member's peer nodes.")
    ] = None,
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Show the network, its members, open proposals and your member's peer nodes."""
    client = _client(region, endpoint_url)
    nodes = client.nodes(network_id, member_id) if member_id else []
    print_status(
        out,
        client.network(network_id),
        client.members(network_id),
        client.proposals(network_id),
        nodes,
    )


@amb_app.command()
def profile(
    network_id: NetworkId,
    member_id: MemberId,
    tls_chain: Annotated[
        Path,
        typer.Option(
            "--tls-chain",
            help="Amazon's TLS chain file (s3://<region>.managedblockchain/etc/"
            "managedblockchain-tls-chain.pem).",
        ),
    ],
    out_path: Annotated[Path, typer.Option("--out", help="The profile to write.")] = Path(
        "profile.yaml"
    ),
    channel: Annotated[str, typer.Option("--channel", help="The channel.")] = "fedledger",
    chaincode: Annotated[str, typer.Option("--chaincode", help="The chaincode.")] = "fedledger",
    orderer_msp_id: Annotated[
        str, typer.Option("--orderer-msp-id", help="The ordering service's MSP ID.")
    ] = "OrdererMSP",
    region: Region = None,
    endpoint_url: EndpointUrl = None,
) -> None:
    """Write fedledger's connection profile for your member from AMB's live endpoints."""
    client = _client(region, endpoint_url)
    request = ProfileRequest(
        network_id, member_id, out_path, tls_chain, channel, chaincode, orderer_msp_id
    )
    written = write_profile(client, request)
    print_profile_next_steps(out, written, tls_chain)


def _client(region: str | None, endpoint_url: str | None) -> AmbClient:
    from fedledger.amb.client import AmbClient  # boto3 with a command only, never for --help

    return AmbClient(region, endpoint_url)


def _status(resource: dict[str, object]) -> str:
    return str(resource.get("Status", "UNKNOWN"))


def _invitation(invitations: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
    """The invitation to accept: the one named, or the only PENDING one. Ends the command with
    AmbInvitationError naming the status of one that cannot be accepted."""
    if wanted is not None:
        found = [i for i in invitations if i.get("InvitationId") == wanted]
        if not found:
            raise AmbInvitationError(
                f"this AWS account has no invitation {wanted}: list them with "
                "`aws managedblockchain list-invitations`"
            )
        status = found[0].get("Status")
        if status != "PENDING":
            raise AmbInvitationError(
                f"invitation {wanted} is {status}, not PENDING: only a pending invitation can "
                "be accepted; ask a member to propose a new one (`fedledger amb invite`)"
            )
        return found[0]
    pending = [i for i in invitations if i.get("Status") == "PENDING"]
    if len(pending) != 1:
        seen = ", ".join(f"{i.get('InvitationId')} {i.get('Status')}" for i in invitations)
        raise AmbInvitationError(
            f"this AWS account has {len(pending)} PENDING invitations "
            f"({seen or 'none at all'}): "
            + ("name one with --invitation-id" if pending else "a member must invite it first")
        )
    return pending[0]
