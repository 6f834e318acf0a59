"""AMB's API through boto3's `managedblockchain` client, its refusals turned into AmbErrors.

Only what fedledger's commands use. Each method is one API call (or one listing and its
details); AWS's error code decides the error class and the advice, never its English text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from fedledger.amb.errors import AmbError, AmbInputError, AmbMemberLimitError, AmbRequestError
from fedledger.amb.requests import MemberSpec

T = TypeVar("T")
FRAMEWORK = "HYPERLEDGER_FABRIC"

_ADVICE = {
    "ResourceNotFoundException": "check the ID with `fedledger amb status --network-id …`",
    "AccessDeniedException": "the AWS credentials in use lack managedblockchain:* permissions",
    "ThrottlingException": "AWS is throttling this account's calls: try again in a minute",
    "ResourceNotReadyException": "the resource is still being created: wait for AVAILABLE",
    "InternalServiceErrorException": "an AWS-side failure: try again, then ask AWS support",
}
_OPERATION_ADVICE = {
    ("CreateMember", "InvalidRequestException"): "the invitation is no longer PENDING "
    "(accepted, rejected or expired) or the member name is taken in the network: see "
    "`aws managedblockchain list-invitations`",
    ("VoteOnProposal", "InvalidRequestException"): "the proposal is no longer IN_PROGRESS "
    "(decided or expired): see `fedledger amb status --network-id …`",
    ("VoteOnProposal", "ResourceAlreadyExistsException"): "this member has already voted",
}
_LIMITS = {
    "CreateMember": "the network holds as many members as its edition allows (STARTER 5, "
    "STANDARD 14): remove a member by an AMB proposal, or run the consortium on a STANDARD "
    "network",
    "CreateNode": "the member has as many peer nodes as its edition allows (STARTER 2, STANDARD 3)",
}


class AmbClient:
    """One region's AMB API. `endpoint_url` is for another implementation of the API (moto's
    server in the tests); boto3 finds the credentials and, without `region`, the region as
    the AWS CLI does. Raises AmbInputError when no region is given or configured."""

    def __init__(self, region: str | None = None, endpoint_url: str | None = None) -> None:
        try:
            self._api: Any = boto3.client(
                "managedblockchain", region_name=region, endpoint_url=endpoint_url
            )
        except NoRegionError:
            raise AmbInputError(
                "no AWS region: pass --region (e.g. us-east-1), set $AWS_REGION, or set a "
                "region in your AWS profile (`aws configure set region us-east-1`)"
            ) from None

    @property
    def region(self) -> str:
        return str(self._api.meta.region_name)

    def create_network(
        self,
        name: str,
        framework_version: str,
        edition: str,
        voting: dict[str, Any],
        member: MemberSpec,
        description: str = "",
    ) -> tuple[str, str]:
        """Create a network and its first member: (network ID, member ID). Raises AmbError
        (AmbRequestError with AWS's code when AWS refuses; AmbInputError for the member)."""
        arguments: dict[str, Any] = {
            "Name": name,
            "Framework": FRAMEWORK,
            "FrameworkVersion": framework_version,
            "FrameworkConfiguration": {"Fabric": {"Edition": edition}},
            "VotingPolicy": voting,
            "MemberConfiguration": member.configuration(),
        }
        if description:
            arguments["Description"] = description
        answer = self._call("CreateNetwork", lambda: self._api.create_network(**arguments))
        return str(answer["NetworkId"]), str(answer["MemberId"])

    def create_member(self, invitation_id: str, network_id: str, member: MemberSpec) -> str:
        """Accept an invitation by creating this account's member; its ID. Raises AmbError
        (AmbMemberLimitError when the network is full)."""
        configuration = member.configuration()
        answer = self._call(
            "CreateMember",
            lambda: self._api.create_member(
                InvitationId=invitation_id,
                NetworkId=network_id,
                MemberConfiguration=configuration,
            ),
        )
        return str(answer["MemberId"])

    def create_node(self, network_id: str, member_id: str, configuration: dict[str, Any]) -> str:
        """Create a peer node of the member; its ID. Raises AmbError (AmbMemberLimitError
        when the member has its edition's number of nodes)."""
        answer = self._call(
            "CreateNode",
            lambda: self._api.create_node(
                NetworkId=network_id, MemberId=member_id, NodeConfiguration=configuration
            ),
        )
        return str(answer["NodeId"])

    def invite(
        self, network_id: str, member_id: str, accounts: list[str], description: str = ""
    ) -> str:
        """Propose inviting the AWS accounts; the proposal's ID. Raises AmbError."""
        arguments: dict[str, Any] = {
            "NetworkId": network_id,
            "MemberId": member_id,
            "Actions": {"Invitations": [{"Principal": account} for account in accounts]},
        }
        if description:
            arguments["Description"] = description
        answer = self._call("CreateProposal", lambda: self._api.create_proposal(**arguments))
        return str(answer["ProposalId"])

    def vote(self, network_id: str, proposal_id: str, member_id: str, approve: bool) -> None:
        """Vote YES or NO on a proposal as the member. Raises AmbError."""
        self._call(
            "VoteOnProposal",
            lambda: self._api.vote_on_proposal(
                NetworkId=network_id,
                ProposalId=proposal_id,
                VoterMemberId=member_id,
                Vote="YES" if approve else "NO",
            ),
        )

    def network(self, network_id: str) -> dict[str, Any]:
        """GetNetwork's `Network`. Raises AmbError."""
        answer = self._call("GetNetwork", lambda: self._api.get_network(NetworkId=network_id))
        return dict(answer["Network"])

    def member(self, network_id: str, member_id: str) -> dict[str, Any]:
        """GetMember's `Member`. Raises AmbError."""
        answer = self._call(
            "GetMember",
            lambda: self._api.get_member(NetworkId=network_id, MemberId=member_id),
        )
        return dict(answer["Member"])

    def node(self, network_id: str, member_id: str, node_id: str) -> dict[str, Any]:
        """GetNode's `Node`. Raises AmbError."""
        answer = self._call(
            "GetNode",
            lambda: self._api.get_node(NetworkId=network_id, MemberId=member_id, NodeId=node_id),
        )
        return dict(answer["Node"])

    def nodes(self, network_id: str, member_id: str) -> list[dict[str, Any]]:
        """The member's nodes that are not deleted, with their endpoints, oldest first.
        Raises AmbError."""
        summaries = self._listed(
            "ListNodes", "Nodes", self._api.list_nodes, NetworkId=network_id, MemberId=member_id
        )
        summaries.sort(key=lambda summary: str(summary.get("CreationDate", "")))
        return [
            self.node(network_id, member_id, str(summary["Id"]))
            for summary in summaries
            if summary.get("Status") not in ("DELETING", "DELETED")
        ]

    def members(self, network_id: str) -> list[dict[str, Any]]:
        """ListMembers' summaries. Raises AmbError."""
        return self._listed("ListMembers", "Members", self._api.list_members, NetworkId=network_id)

    def proposals(self, network_id: str) -> list[dict[str, Any]]:
        """ListProposals' summaries. Raises AmbError."""
        return self._listed(
            "ListProposals", "Proposals", self._api.list_proposals, NetworkId=network_id
        )

    def proposal(self, network_id: str, proposal_id: str) -> dict[str, Any]:
        """GetProposal's `Proposal`. Raises AmbError."""
        answer = self._call(
            "GetProposal",
            lambda: self._api.get_proposal(NetworkId=network_id, ProposalId=proposal_id),
        )
        return dict(answer["Proposal"])

    def invitations(self) -> list[dict[str, Any]]:
        """The invitations this account received, every status. Raises AmbError."""
        return self._listed("ListInvitations", "Invitations", self._api.list_invitations)

    def _listed(
        self, operation: str, key: str, method: Callable[..., Any], **arguments: Any
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            paged = dict(arguments, NextToken=token) if token else arguments
            answer = self._call(operation, partial(method, **paged))
            found += [dict(item) for item in answer.get(key, [])]
            token = answer.get("NextToken")
            if not token:
                return found

    def _call(self, operation: str, call: Callable[[], T]) -> T:
        with refusals(operation, self._api.meta.endpoint_url):
            return call()


@contextmanager
def refusals(operation: str, endpoint: str) -> Iterator[None]:
    """Turn boto3's errors into AmbErrors naming the operation and AWS's code: raises
    AmbMemberLimitError for ResourceLimitExceededException, AmbRequestError for other codes,
    AmbError when AWS cannot be reached or no credentials are found."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        message = str(error.response.get("Error", {}).get("Message", "no message"))
        if code == "ResourceLimitExceededException":
            advice = _LIMITS.get(operation, "an account quota: ask AWS to raise it")
            raise AmbMemberLimitError(operation, code, message, advice) from None
        advice = _OPERATION_ADVICE.get((operation, code)) or _ADVICE.get(code, "")
        raise AmbRequestError(operation, code, message, advice) from None
    except NoCredentialsError:
        raise AmbError(
            f"no AWS credentials for {operation}: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run on a host with an instance role"
        ) from None
    except BotoCoreError as error:
        raise AmbError(f"cannot call {operation} at {endpoint}: {error}") from None
