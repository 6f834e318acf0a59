"""`fedledger amb` against moto's server playing AWS Managed Blockchain (amb_server.py).

These tests run against moto's model of the AMB API, which accepts FrameworkVersion 1.2 where
AMB runs 2.2: the calls, the flow and the fields are the same. No real AWS account is used;
what only AWS can show (creation times, the VPC endpoint, Fabric CA 1.4.7, the peers) is not
tested here (docs/aws-managed-blockchain.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto.managedblockchain import models
from typer.testing import CliRunner

from fedledger.cli.app import app
from fedledger.profile import ConnectionProfile

from .amb_server import CreatingFor, amb_server, reset

PASSWORD = "Sup3rSecretPw"
REGION = "us-east-1"
runner = CliRunner()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with amb_server() as url:
        yield url


@pytest.fixture
def amb(endpoint: str) -> str:
    reset(endpoint)
    return endpoint


def run(endpoint: str, *args: str, password: str = PASSWORD) -> Any:
    result = runner.invoke(
        app,
        ["amb", *args, "--region", REGION, "--endpoint-url", endpoint],
        env={"FEDLEDGER_AMB_ADMIN_PASSWORD": password},
    )
    assert password not in result.output, "the admin password is never printed"
    return result


def ok(endpoint: str, *args: str) -> str:
    result = run(endpoint, *args)
    assert result.exit_code == 0, result.output
    return str(result.output)


def one(pattern: str, text: str) -> str:
    [found] = re.findall(pattern, text)
    return str(found)


def create_network(endpoint: str, edition: str = "STARTER") -> tuple[str, str]:
    output = ok(
        endpoint,
        "network",
        "create",
        "--name",
        "consortium",
        "--member-name",
        "banka",
        "--edition",
        edition,
        "--framework-version",
        "1.2",
        "--wait",
        "5",
        "--poll-interval",
        "0.05",
    )
    return one(r"network (n-\w+) with", output), one(r"member (m-\w+) \(banka\)", output)


def invite_and_approve(endpoint: str, network: str, voters: list[str], accounts: int = 1) -> str:
    invited = [str(111111111111 * (i + 1)) for i in range(accounts)]
    accounts_args = [arg for account in invited for arg in ("--account", account)]
    output = ok(
        endpoint, "invite", "--network-id", network, "--member-id", voters[0], *accounts_args
    )
    proposal = one(r"proposal (p-\w+) to invite", output)
    for voter in voters:
        voted = ok(
            endpoint, "vote", "--network-id", network, "--member-id", voter,
            "--proposal-id", proposal, "--yes",
        )  # fmt: skip
    assert f"voted YES on {proposal}: APPROVED" in voted
    return proposal


def accept(endpoint: str, name: str, invitation: str | None = None) -> str:
    chosen = ["--invitation-id", invitation] if invitation else []
    output = ok(
        endpoint, "accept", "--member-name", name, *chosen, "--wait", "5",
        "--poll-interval", "0.05",
    )  # fmt: skip
    return one(rf"member (m-\w+) \({name}\) requested", output)


def create_node(endpoint: str, network: str, member: str, wait: str = "5") -> str:
    output = ok(
        endpoint, "node", "create", "--network-id", network, "--member-id", member,
        "--wait", wait, "--poll-interval", "0.05",
    )  # fmt: skip
    return one(r"peer node (nd-\w+) of member", output)


def test_from_an_empty_account_to_three_members_and_a_profile(amb: str, tmp_path: Path) -> None:
    network, banka = create_network(amb)
    invite_and_approve(amb, network, [banka])
    insurer = accept(amb, "insurerb")
    # Two members now: a majority above 50 % needs both.
    invite_and_approve(amb, network, [banka, insurer])
    lender = accept(amb, "lenderc")
    nodes = {member: create_node(amb, network, member) for member in (banka, insurer, lender)}

    status = ok(amb, "status", "--network-id", network, "--member-id", banka)
    assert f"network {network} (consortium): AVAILABLE, Fabric 1.2, STARTER edition" in status
    for member, name in ((banka, "banka"), (insurer, "insurerb"), (lender, "lenderc")):
        assert f"member {member} ({name}): AVAILABLE" in status
    assert f"node {nodes[banka]}: AVAILABLE" in status

    chain = tmp_path / "amb" / "managedblockchain-tls-chain.pem"
    chain.parent.mkdir()
    chain.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    out = tmp_path / "profile.yaml"
    printed = ok(
        amb, "profile", "--network-id", network, "--member-id", banka,
        "--tls-chain", str(chain), "--out", str(out),
    )  # fmt: skip
    host = "managedblockchain.us-east-1.amazonaws.com"

    def peer(member: str) -> dict[str, str]:
        name = f"{nodes[member].lower()}.{network.lower()}.{member.lower()}.{host}"
        return {
            "endpoint": f"{name}:30003",
            "serverName": name,
            "tlsCaCert": "amb/managedblockchain-tls-chain.pem",
        }

    def org(member: str, identities: dict[str, str]) -> dict[str, Any]:
        return {
            "mspId": member,
            "protocol": "peer",
            "gateway": peer(member),
            "peers": [peer(member)],
            "identities": identities,
        }

    orderer = f"orderer.{network.lower()}.{host}"
    assert yaml.safe_load(out.read_text()) == {
        "name": "consortium",
        "ledger": "fabric",
        "channel": "fedledger",
        "chaincode": "fedledger",
        "orderers": [
            {
                "mspId": "OrdererMSP",
                "endpoint": f"{orderer}:30001",
                "serverName": orderer,
                "tlsCaCert": "amb/managedblockchain-tls-chain.pem",
            }
        ],
        "organizations": {
            banka: org(banka, {"admin": f"{banka}/admin/msp", "user": f"{banka}/user/msp"}),
            insurer: org(insurer, {}),
            lender: org(lender, {}),
        },
    }
    ca = f"https://ca.{banka.lower()}.{network.lower()}.{host}:30002"
    assert (
        f"fedledger identity enroll --ca-url {ca} --ca-cert {chain} --id admin "
        f'--secret "$FEDLEDGER_AMB_ADMIN_PASSWORD" --msp-dir {tmp_path / banka / "admin" / "msp"}'
    ) in printed

    # Every command reads it: the older protocol over the member's peers, the ordering service.
    loaded = ConnectionProfile.load(out)
    assert loaded.org(banka).gateway.tls_ca_cert == chain.resolve()
    assert loaded.org(banka).gateway.endpoint == peer(banka)["endpoint"]
    assert loaded.org(banka).protocol == "peer"
    assert [p.endpoint for p in loaded.org(insurer).endorsing_peers] == [peer(insurer)["endpoint"]]
    assert [o.endpoint for o in loaded.orderers] == [f"{orderer}:30001"]


def test_status_prints_only_what_amb_reported(amb: str) -> None:
    """moto's AMB leaves out fields AMB itself fills in later (the proposer's name, the
    ordering service): the status leaves them out too, rather than printing `None`."""
    network, banka = create_network(amb)
    invited = ok(amb, "invite", "--network-id", network, "--member-id", banka,
                 "--account", "111111111111")  # fmt: skip
    proposal = one(r"proposal (p-\w+) to invite", invited)
    node = create_node(amb, network, banka)
    status = ok(amb, "status", "--network-id", network, "--member-id", banka)
    assert "None" not in status
    lines = status.splitlines()
    assert lines[0] == f"network {network} (consortium): AVAILABLE, Fabric 1.2, STARTER edition"
    assert f"member {banka} (banka): AVAILABLE" in lines
    assert any(line.startswith(f"node {node}: AVAILABLE") for line in lines)
    # moto reports neither the proposer's name nor its ID: no "by" at all.
    assert f"proposal {proposal}: IN_PROGRESS" in lines


def test_a_network_not_available_yet_is_waited_for_then_given_up_on_naming_its_status(
    amb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models.ManagedBlockchainNetwork, "status", CreatingFor(3600))
    result = run(
        amb, "network", "create", "--name", "slow", "--member-name", "banka",
        "--framework-version", "1.2", "--wait", "0.3", "--poll-interval", "0.1",
    )  # fmt: skip
    assert result.exit_code == 1
    network = one(r"network (n-\w+) with member", result.output)
    assert (
        f"error: network {network} is still CREATING after 0.3 s (--wait): AMB takes about 30 "
        "minutes for a network and 10 for a node; check later with `fedledger amb status`, or "
        "run again with a longer --wait"
    ) in result.output
    assert "status=CREATING" in result.output, "the structured log names the status"


def test_a_node_still_creating_is_waited_for_until_available(
    amb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    network, banka = create_network(amb)
    monkeypatch.setattr(models.ManagedBlockchainNode, "status", CreatingFor(0.5), raising=False)
    result = run(
        amb, "node", "create", "--network-id", network, "--member-id", banka,
        "--wait", "10", "--poll-interval", "0.1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    node = one(r"peer node (nd-\w+) of member", result.output)
    logged = re.findall(rf"resource='node {node}'\s+status=(\w+)", result.output)
    assert logged == ["CREATING", "AVAILABLE"]
    assert f"node {node}: AVAILABLE, peer endpoint {node.lower()}." in result.output


def test_the_member_limit_is_named_with_amb_error_code(amb: str) -> None:
    network, banka = create_network(amb, "STARTER")
    invite_and_approve(amb, network, [banka], accounts=5)
    client = boto3.client("managedblockchain", region_name=REGION, endpoint_url=amb)
    invitations = [i["InvitationId"] for i in client.list_invitations()["Invitations"]]
    unchosen = run(amb, "accept", "--member-name", "member0")
    assert unchosen.exit_code == 1
    assert "error: this AWS account has 5 PENDING invitations (" in unchosen.output
    assert unchosen.output.rstrip().endswith("): name one with --invitation-id")
    for number, invitation in enumerate(invitations[:4]):
        accept(amb, f"member{number}", invitation)
    result = run(amb, "accept", "--member-name", "sixth", "--invitation-id", invitations[4])
    assert result.exit_code == 1
    assert (
        "error: AWS Managed Blockchain refused CreateMember: ResourceLimitExceededException: "
    ) in result.output
    assert (
        "the network holds as many members as its edition allows (STARTER 5, STANDARD 14): "
        "remove a member by an AMB proposal, or run the consortium on a STANDARD network"
    ) in result.output


def test_a_rejected_invitation_cannot_be_accepted(amb: str) -> None:
    network, banka = create_network(amb)
    output = ok(amb, "invite", "--network-id", network, "--member-id", banka, "--account",
                "222222222222")  # fmt: skip
    proposal = one(r"proposal (p-\w+) to invite", output)
    voted = ok(amb, "vote", "--network-id", network, "--member-id", banka, "--proposal-id",
               proposal, "--no")  # fmt: skip
    assert f"voted NO on {proposal}: REJECTED (0 yes, 1 no, 0 outstanding)" in voted
    assert "the proposal is REJECTED: AMB sends no invitation and removes no member" in voted
    again = run(amb, "vote", "--network-id", network, "--member-id", banka, "--proposal-id",
                proposal, "--yes")  # fmt: skip
    assert again.exit_code == 1
    assert "error: AWS Managed Blockchain refused VoteOnProposal: InvalidRequestException: " in (
        again.output
    )
    assert again.output.rstrip().endswith(
        "the proposal is no longer IN_PROGRESS (decided or expired): see `fedledger amb status "
        "--network-id …`"
    )
    refused = run(amb, "accept", "--member-name", "insurerb")
    assert refused.exit_code == 1
    assert (
        "error: this AWS account has 0 PENDING invitations (none at all): a member must invite "
        "it first"
    ) in refused.output

    invite_and_approve(amb, network, [banka])
    client = boto3.client("managedblockchain", region_name=REGION, endpoint_url=amb)
    [invitation] = [i["InvitationId"] for i in client.list_invitations()["Invitations"]]
    client.reject_invitation(InvitationId=invitation)
    refused = run(amb, "accept", "--member-name", "insurerb", "--invitation-id", invitation)
    assert refused.exit_code == 1
    assert (
        f"error: invitation {invitation} is REJECTED, not PENDING: only a pending invitation "
        "can be accepted; ask a member to propose a new one (`fedledger amb invite`)"
    ) in refused.output


def test_bad_input_is_refused_before_aws_is_asked(amb: str, tmp_path: Path) -> None:
    weak = run(
        amb, "network", "create", "--name", "n", "--member-name", "banka",
        "--framework-version", "1.2", password="weakpass",
    )  # fmt: skip
    assert weak.exit_code == 1
    assert (
        "error: the admin password (--admin-password or $FEDLEDGER_AMB_ADMIN_PASSWORD) must "
        "contain a digit, contain an upper-case letter (AMB's rules for a member's first Fabric "
        "CA identity)"
    ) in weak.output
    client = boto3.client("managedblockchain", region_name=REGION, endpoint_url=amb)
    assert client.list_networks()["Networks"] == []

    network, banka = create_network(amb)
    missing = tmp_path / "chain.pem"
    result = run(amb, "profile", "--network-id", network, "--member-id", banka, "--tls-chain",
                 str(missing), "--out", str(tmp_path / "p.yaml"))  # fmt: skip
    assert result.exit_code == 1
    assert (
        f"error: --tls-chain: no file at {missing}: download Amazon's TLS chain with `aws s3 cp "
        f"s3://us-east-1.managedblockchain/etc/managedblockchain-tls-chain.pem {missing}`"
    ) in result.output
    missing.write_text("chain")
    result = run(amb, "profile", "--network-id", network, "--member-id", banka, "--tls-chain",
                 str(missing), "--out", str(tmp_path / "p.yaml"))  # fmt: skip
    assert result.exit_code == 1
    assert (
        f"error: member {banka} has no AVAILABLE peer node: create one with `fedledger amb node "
        f"create --network-id {network} --member-id {banka}`"
    ) in result.output
    assert not (tmp_path / "p.yaml").exists()

    unknown = run(amb, "status", "--network-id", "n-NOSUCHNETWORK000000000000")
    assert unknown.exit_code == 1
    assert (
        "error: AWS Managed Blockchain refused GetNetwork: ResourceNotFoundException: "
    ) in unknown.output
    assert "check the ID with `fedledger amb status --network-id …`" in unknown.output


def test_the_admin_password_is_asked_hidden_when_not_given(amb: str) -> None:
    result = runner.invoke(
        app,
        ["amb", "network", "create", "--name", "asked", "--member-name", "banka",
         "--framework-version", "1.2", "--wait", "0", "--region", REGION, "--endpoint-url", amb],
        env={"FEDLEDGER_AMB_ADMIN_PASSWORD": None},
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Admin password for the member's Fabric CA:" in result.output
    assert "Repeat for confirmation:" in result.output
    assert PASSWORD not in result.output
    network = one(r"network (n-\w+) with member", result.output)
    client = boto3.client("managedblockchain", region_name=REGION, endpoint_url=amb)
    assert client.get_network(NetworkId=network)["Network"]["Name"] == "asked"
