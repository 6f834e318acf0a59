"""AMB's request rules, the waiting loop and the translation of AWS's error codes."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from fedledger.amb.client import AmbClient, refusals
from fedledger.amb.errors import (
    AmbError,
    AmbInputError,
    AmbMemberLimitError,
    AmbRequestError,
    AmbWaitError,
)
from fedledger.amb.requests import (
    MemberSpec,
    check_accounts,
    check_admin_password,
    node_configuration,
    voting_policy,
)
from fedledger.amb.waiting import Waiting, wait_until_available

PREFIX = "the admin password (--admin-password or $FEDLEDGER_AMB_ADMIN_PASSWORD) must "
SUFFIX = " (AMB's rules for a member's first Fabric CA identity)"


@pytest.mark.parametrize(
    ("password", "broken"),
    [
        ("Short1a", "be 8 to 32 characters long"),
        ("A1" + "a" * 31, "be 8 to 32 characters long"),
        ("NoDigitsHere", "contain a digit"),
        ("lower1234", "contain an upper-case letter"),
        ("UPPER1234", "contain a lower-case letter"),
        ("Has@Sign123", "contain none of ' \" \\ / @ or a space"),
        ("Has Space123", "contain none of ' \" \\ / @ or a space"),
        ("weak", "be 8 to 32 characters long, contain a digit, contain an upper-case letter"),
    ],
)
def test_an_admin_password_breaking_amb_rules_is_refused_by_rule(
    password: str, broken: str
) -> None:
    with pytest.raises(AmbInputError) as refused:
        check_admin_password(password)
    assert str(refused.value) == PREFIX + broken + SUFFIX
    assert password not in str(refused.value)


def test_a_good_admin_password_passes_and_reaches_the_member_configuration() -> None:
    check_admin_password("Sup3rSecretPw")
    configuration = MemberSpec("banka", "admin", "Sup3rSecretPw").configuration()
    assert configuration == {
        "Name": "banka",
        "FrameworkConfiguration": {
            "Fabric": {"AdminUsername": "admin", "AdminPassword": "Sup3rSecretPw"}
        },
        "LogPublishingConfiguration": {"Fabric": {"CaLogs": {"Cloudwatch": {"Enabled": False}}}},
    }


def test_an_admin_username_breaking_amb_rules_is_refused() -> None:
    with pytest.raises(AmbInputError) as refused:
        MemberSpec("banka", "1admin", "Sup3rSecretPw").configuration()
    assert str(refused.value) == (
        "--admin-username '1admin' must start with a letter and hold 1 to 16 letters and "
        "digits (AMB's rule)"
    )


@pytest.mark.parametrize(
    ("threshold", "hours", "comparator", "message"),
    [
        (101, 24, "GREATER_THAN", "--threshold must be a percentage from 0 to 100, got 101"),
        (50, 0, "GREATER_THAN", "--proposal-hours must be 1 to 168 (a week), got 0"),
        (
            50,
            24,
            "MORE",
            "--comparator must be one of GREATER_THAN, GREATER_THAN_OR_EQUAL_TO, got 'MORE'",
        ),
    ],
)
def test_a_voting_policy_out_of_range_names_the_option(
    threshold: int, hours: int, comparator: str, message: str
) -> None:
    with pytest.raises(AmbInputError) as refused:
        voting_policy(threshold, hours, comparator)
    assert str(refused.value) == message


def test_accounts_and_nodes_are_checked() -> None:
    assert check_accounts(["123456789012"]) == ["123456789012"]
    with pytest.raises(AmbInputError) as refused:
        check_accounts(["12345"])
    assert str(refused.value) == (
        "--account '12345' is not an AWS account ID (12 digits, e.g. 123456789012)"
    )
    with pytest.raises(AmbInputError, match="name at least one AWS account"):
        check_accounts([])
    with pytest.raises(AmbInputError) as refused:
        node_configuration("bc.t3.small", "us-east-1a", "Mongo", False)
    assert str(refused.value) == "--state-db must be one of CouchDB, LevelDB, got 'Mongo'"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_waiting_asks_until_available_and_shows_every_poll() -> None:
    clock = FakeClock()
    answers = iter(["CREATING", "CREATING", "AVAILABLE"])
    seen: list[tuple[str, float]] = []
    waited = wait_until_available(
        "node nd-1",
        lambda: next(answers),
        Waiting(60, 10, clock, clock.sleep),
        lambda _what, status, elapsed: seen.append((status, elapsed)),
    )
    assert waited == 20
    assert seen == [("CREATING", 0), ("CREATING", 10), ("AVAILABLE", 20)]


def test_waiting_gives_up_at_the_timeout_naming_the_status() -> None:
    clock = FakeClock()
    with pytest.raises(AmbWaitError) as gave_up:
        wait_until_available("network n-1", lambda: "CREATING", Waiting(25, 10, clock, clock.sleep))
    assert gave_up.value.status == "CREATING"
    assert str(gave_up.value).startswith("network n-1 is still CREATING after 25 s (--wait)")
    assert clock.slept == [10, 10, 5], "the last sleep ends at the timeout"


def test_a_failed_creation_ends_the_wait_at_once() -> None:
    clock = FakeClock()
    with pytest.raises(AmbWaitError) as failed:
        wait_until_available(
            "member m-1", lambda: "CREATE_FAILED", Waiting(600, 10, clock, clock.sleep)
        )
    assert failed.value.status == "CREATE_FAILED"
    assert str(failed.value) == (
        "member m-1 is CREATE_FAILED: it will not become AVAILABLE; see its events in the AMB "
        "console, then create it again"
    )
    assert clock.slept == []


def _client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "AWS says no"}}, operation)


def test_aws_error_codes_choose_the_error_and_the_advice() -> None:
    with pytest.raises(AmbMemberLimitError) as limit, refusals("CreateNode", "https://x"):
        raise _client_error("ResourceLimitExceededException", "CreateNode")
    assert limit.value.code == "ResourceLimitExceededException"
    assert str(limit.value) == (
        "AWS Managed Blockchain refused CreateNode: ResourceLimitExceededException: AWS says "
        "no; the member has as many peer nodes as its edition allows (STARTER 2, STANDARD 3)"
    )
    with pytest.raises(AmbRequestError) as other, refusals("GetNetwork", "https://x"):
        raise _client_error("IllegalActionException", "GetNetwork")
    assert str(other.value) == (
        "AWS Managed Blockchain refused GetNetwork: IllegalActionException: AWS says no"
    )
    with pytest.raises(AmbRequestError) as used, refusals("CreateMember", "https://x"):
        raise _client_error("InvalidRequestException", "CreateMember")
    assert used.value.code == "InvalidRequestException"
    assert str(used.value).endswith(
        "InvalidRequestException: AWS says no; the invitation is no longer PENDING (accepted, "
        "rejected or expired) or the member name is taken in the network: see "
        "`aws managedblockchain list-invitations`"
    )
    with pytest.raises(AmbError) as anonymous, refusals("ListInvitations", "https://x"):
        raise NoCredentialsError
    assert str(anonymous.value).startswith("no AWS credentials for ListInvitations: set ")
    with pytest.raises(AmbError) as unreachable, refusals("GetNode", "https://x"):
        raise EndpointConnectionError(endpoint_url="https://x")
    assert str(unreachable.value) == (
        'cannot call GetNode at https://x: Could not connect to the endpoint URL: "https://x"'
    )


class _PagedApi:
    """ListMembers answering in two pages, as AWS does past its page size."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.meta = type("Meta", (), {"endpoint_url": "https://x", "region_name": "us-east-1"})

    def list_members(self, **arguments: str) -> dict[str, object]:
        self.calls.append(arguments)
        if "NextToken" not in arguments:
            return {"Members": [{"Id": "m-1"}], "NextToken": "page2"}
        return {"Members": [{"Id": "m-2"}]}


def test_listings_follow_next_tokens() -> None:
    client = AmbClient(region="us-east-1")
    api = _PagedApi()
    client._api = api
    assert [m["Id"] for m in client.members("n-1")] == ["m-1", "m-2"]
    assert api.calls == [{"NetworkId": "n-1"}, {"NetworkId": "n-1", "NextToken": "page2"}]
