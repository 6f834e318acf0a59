"""deploy/aws/member.yaml: what it creates, and cfn-lint passing on it in every AMB region."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "member.yaml"
# The dev dependency's script, beside the interpreter running the tests.
CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
# The regions AWS Managed Blockchain for Hyperledger Fabric runs in.
AMB_REGIONS = ["us-east-1", "eu-west-1", "eu-west-2", "ap-northeast-1", "ap-northeast-2",
               "ap-southeast-1"]  # fmt: skip


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, …) read as {tag: value}."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_CloudFormationLoader.add_multi_constructor("!", _tagged)


def _lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CFN_LINT, "--regions", *AMB_REGIONS, "--", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cfn_lint_passes_in_every_amb_region() -> None:
    linted = _lint(TEMPLATE)
    assert (linted.returncode, linted.stdout, linted.stderr) == (0, "", "")


def test_cfn_lint_would_catch_a_broken_endpoint(tmp_path: Path) -> None:
    broken = tmp_path / "member.yaml"
    text = TEMPLATE.read_text()
    broken.write_text(text.replace("VpcEndpointType: Interface\n", "VpcEndpointType: Private\n", 1))
    linted = _lint(broken)
    assert linted.returncode != 0
    assert "E3030 'Private' is not one of ['Interface', " in linted.stdout


def test_the_template_holds_the_member_its_peer_the_endpoint_and_the_host() -> None:
    template = yaml.load(TEMPLATE.read_text(), _CloudFormationLoader)
    types = {name: r["Type"] for name, r in template["Resources"].items()}
    assert types["Member"] == "AWS::ManagedBlockchain::Member"
    assert types["PeerNode"] == "AWS::ManagedBlockchain::Node"
    assert types["NetworkEndpoint"] == "AWS::EC2::VPCEndpoint"
    assert types["Host"] == "AWS::EC2::Instance"
    endpoint = template["Resources"]["NetworkEndpoint"]["Properties"]
    assert endpoint["ServiceName"] == {"Ref": "VpcEndpointServiceName"}
    assert endpoint["PrivateDnsEnabled"] is True
    assert template["Parameters"]["AdminPassword"]["NoEcho"] is True
    host_data = template["Resources"]["Host"]["Properties"]["UserData"]["Fn::Base64"]["Sub"]
    assert "managedblockchain-tls-chain.pem" in host_data
