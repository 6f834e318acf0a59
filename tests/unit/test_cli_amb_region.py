"""`fedledger amb`: the region from --region, $AWS_REGION or the AWS profile, as the docs say."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import fedledger.amb.client
from fedledger.amb.errors import AmbInputError
from fedledger.cli.app import app

runner = CliRunner()
STATUS = ["amb", "status", "--network-id", "n-1", "--member-id", "m-1"]


@pytest.fixture
def no_aws_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))


@pytest.mark.usefixtures("no_aws_configuration")
def test_no_region_anywhere_is_an_error_saying_where_to_give_one() -> None:
    result = runner.invoke(app, STATUS)
    assert result.exit_code == 1, result.output
    assert " ".join(result.stderr.split()) == (
        "error: no AWS region: pass --region (e.g. us-east-1), set $AWS_REGION, or set a "
        "region in your AWS profile (`aws configure set region us-east-1`)"
    )


@pytest.mark.usefixtures("no_aws_configuration")
@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {"AWS_REGION": "eu-west-2"}, "eu-west-2"),
        (["--region", "ap-southeast-1"], {"AWS_REGION": "eu-west-2"}, "ap-southeast-1"),
        ([], {"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
    ],
)
def test_the_region_is_the_option_then_aws_region_then_the_profile(
    monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    regions: list[str] = []

    class Recording(fedledger.amb.client.AmbClient):
        def __init__(self, region: str | None = None, endpoint_url: str | None = None) -> None:
            super().__init__(region, endpoint_url)
            regions.append(self.region)
            raise AmbInputError("stopped before asking AWS")

    monkeypatch.setattr(fedledger.amb.client, "AmbClient", Recording)
    result = runner.invoke(app, [*STATUS, *args])
    assert result.exit_code == 1, result.output
    assert "error: stopped before asking AWS" in result.stderr
    assert regions == [expected]
