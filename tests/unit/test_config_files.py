"""The three configuration files (a validator's configuration, the connection profile, the
validators file): every mistake gives one message that starts with the field path, exactly as
the docs show it."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import grpc
import pytest
import typer
import yaml

from fedledger.cli.common import registry_for
from fedledger.cli.failures import failures
from fedledger.cli.network import _validator_config_error
from fedledger.fabric import connect
from fedledger.network.validators import ValidatorsSpec, ValidatorsSpecError
from fedledger.orgs import MemberOrg, OrdererOrg, OrgLayout, generate_material
from fedledger.profile import ConnectionProfile, ProfileError
from fedledger.validator.config import ConfigError, ValidatorConfig
from fedledger.validator.factory import build_validator, connect_gateway
from fedledger.validator.metrics import ValidatorMetrics
from fedledger.validator.service import StartError, listen_on, serve_metrics

from .validator_documents import minimal_validator_document


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("ca.pem", "ca.key", "holdout.csv", "peer-ca.pem", "client.crt", "client.key"):
        (tmp_path / name).write_text("x")
    (tmp_path / "msp").mkdir()
    return tmp_path


def tls(**fields: Any) -> dict[str, Any]:
    return {"address": "127.0.0.1:0", "tls": {"clientCaCerts": ["ca.pem"], **fields}}


ISSUE = {"caCert": "ca.pem", "caKey": "ca.key"}
GATEWAY = {"endpoint": "127.0.0.1:7051", "serverName": "peer0", "tlsCaCert": "peer-ca.pem"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"organization": None}, "organization is missing"),
        ({"organization": ""}, "organization must be a non-empty string, got ''"),
        (
            {"organisation": "Org1MSP"},
            "organisation is not a known field (known: organization, identity, channel, "
            "chaincode, gateway, tasks, store, listen, stateDir, limits, retry, decide, metrics)",
        ),
        (
            {"limits": {"memory": 1}},
            "limits.memory is not a known field (known: maxConcurrentEvaluations, "
            "maxEvaluationsPerProposer, maxInlineModelBytes, maxModelBytes, slotWaitSeconds, "
            "memoryBytes, cpuSeconds, cpuBaseSeconds, cpuSecondsPerMillionCells, "
            "cpuSecondsPerModelMib, wallSeconds, threads, maxLoopIterations)",
        ),
        ({"gateway": "peer0:7051"}, "gateway must be a mapping"),
        (
            {
                "gateway": {
                    "endpoint": "grpcs://peer:7051",
                    "serverName": "p",
                    "tlsCaCert": "ca.pem",
                }
            },
            "gateway.endpoint must be host:port without a scheme, got 'grpcs://peer:7051': "
            "write peer:7051",
        ),
        (
            {"gateway": {"endpoint": "127.0.0.1", "serverName": "p", "tlsCaCert": "ca.pem"}},
            "gateway.endpoint must be host:port, e.g. 127.0.0.1:7051, got '127.0.0.1'",
        ),
        (
            {"gateway": {"endpoint": "127.0.0.1:7051", "serverName": "p", "tlsCaCert": "no.pem"}},
            "gateway.tlsCaCert: no file at {files}/no.pem",
        ),
        ({"tasks": {}}, "tasks is empty: list at least one task and its holdout file"),
        ({"tasks": ["churn"]}, "tasks must map task ids to {{holdout: <file>}}, got ['churn']"),
        ({"tasks": {"churn": "holdout.csv"}}, "tasks.churn must be a mapping (holdout: <file>)"),
        ({"tasks": {"churn": None}}, "tasks.churn must be a mapping (holdout: <file>)"),
        ({"tasks": {"churn": {}}}, "tasks.churn.holdout is missing"),
        ({"tasks": {2024: {"holdout": "no.csv"}}}, "tasks.2024.holdout: no file at {files}/no.csv"),
        (
            {"store": {"location": "s3://"}},
            "store.location must name a bucket, as in s3://bucket/prefix, got 's3://'",
        ),
        (
            {"store": {"location": "gs://bucket/x"}},
            "store.location must be a folder, file:///folder or s3://bucket/prefix, "
            "got 'gs://bucket/x'",
        ),
        (
            {"listen": tls()},
            "listen.tls needs either cert and key (the server certificate) or issueFrom (the "
            "organisation's TLS CA certificate and key, to issue one at start-up)",
        ),
        (
            {"listen": tls(cert="ca.pem", key="ca.key", issueFrom=ISSUE)},
            "listen.tls has both cert and key and issueFrom: keep cert and key (the server "
            "certificate) or issueFrom (the organisation's TLS CA, to issue one at start-up), "
            "not both",
        ),
        ({"listen": tls(cert="ca.pem")}, "listen.tls.key is missing"),
        (
            {"listen": {"address": "127.0.0.1:0", "tls": {"issueFrom": ISSUE}}},
            "listen.tls.clientCaCerts is missing",
        ),
        (
            {
                "listen": {
                    "address": "127.0.0.1:0",
                    "tls": {"issueFrom": ISSUE, "clientCaCerts": []},
                }
            },
            "listen.tls.clientCaCerts is empty: list the CA certificates whose clients may call",
        ),
        (
            {"listen": {"address": "1:0", "tls": {"issueFrom": ISSUE, "clientCaCerts": "ca.pem"}}},
            "listen.tls.clientCaCerts must be a list of non-empty strings, got 'ca.pem'",
        ),
        (
            {"listen": tls(issueFrom=ISSUE, clientCaCerts=["ca.pem", "no.pem"])},
            "listen.tls.clientCaCerts[1]: no file at {files}/no.pem",
        ),
        ({"stateDir": "ca.pem"}, "stateDir: {files}/ca.pem is a file, not a folder: name a folder"),
        (
            {"limits": {"maxConcurrentEvaluations": 0}},
            "limits.maxConcurrentEvaluations must be a whole number >= 1, e.g. 2, got 0",
        ),
        (
            {"limits": {"memoryBytes": "2GiB"}},
            "limits.memoryBytes must be a whole number of bytes >= 1 without a unit, "
            "e.g. 4294967296 for 4 GiB, got '2GiB'",
        ),
        (
            {"limits": {"threads": True}},
            "limits.threads must be a whole number >= 1, e.g. 2, got True",
        ),
        (
            {"limits": {"wallSeconds": "10m"}},
            "limits.wallSeconds must be a number of seconds > 0 without a unit, e.g. 5 or 0.5, "
            "got '10m'",
        ),
        (
            {"retry": {"initialSeconds": 5, "maxSeconds": 1}},
            "retry.maxSeconds must be at least retry.initialSeconds (5.0), got 1.0",
        ),
        (
            {"retry": {"modelBytesAttempts": 0}},
            "retry.modelBytesAttempts must be a whole number >= 1, e.g. 2, got 0",
        ),
        ({"metrics": {"port": 9464}}, "metrics.port is not a known field (known: address)"),
        (
            {"gateway": {**GATEWAY, "protocol": "legacy"}},
            "gateway.protocol must be gateway or peer, got 'legacy'",
        ),
        (
            {"gateway": {**GATEWAY, "protocol": "peer"}},
            "gateway.profile is missing: the peer protocol takes the peers and orderers from a "
            "connection profile (docs/connection-profile.md#the-older-peer-protocol)",
        ),
        (
            {"gateway": {**GATEWAY, "protocol": "peer", "profile": "none.yaml"}},
            "gateway.profile: no file at {files}/none.yaml",
        ),
    ],
)
def test_a_validator_configuration_mistake_names_the_field(
    files: Path, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        ValidatorConfig.from_dict(minimal_validator_document(**changes), files)
    assert str(error.value) == message.format(files=files)


def test_a_numeric_task_id_is_text(files: Path) -> None:
    config = ValidatorConfig.from_dict(
        minimal_validator_document(tasks={2024: {"holdout": "holdout.csv"}}), files
    )
    assert config.tasks == {"2024": files / "holdout.csv"}


def test_the_defaults(files: Path) -> None:
    config = ValidatorConfig.from_dict(minimal_validator_document(channel=None), files)
    assert (config.channel, config.chaincode, config.metrics_address) == (
        "fedledger",
        "fedledger",
        None,
    )
    # One evaluation slot per core, at least one; one proposer's share is half, rounded up.
    assert config.limits.max_concurrent_evaluations == max(1, os.cpu_count() or 1)
    assert config.limits.max_evaluations_per_proposer is None
    sandbox = config.limits.sandbox
    assert (sandbox.cpu_seconds, sandbox.cpu_base_seconds, sandbox.wall_seconds) == (300, 2, 600)
    assert (sandbox.cpu_seconds_per_million_cells, sandbox.cpu_seconds_per_model_mib) == (5, 0.5)
    assert sandbox.max_loop_iterations == 100_000
    assert config.limits.sandbox.memory_bytes == 4 * 1024**3
    assert (config.retry.initial_seconds, config.retry.max_seconds) == (0.5, 10.0)
    assert config.retry.model_bytes_attempts == 5
    assert config.listen.issue_from is not None
    assert config.listen.issue_from.hostnames == ("localhost", "127.0.0.1")
    assert config.state_dir == files / "state"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "{path} is empty"),
        ("[1, 2]", "the configuration must be a mapping"),
    ],
)
def test_a_validator_configuration_file_that_is_not_one(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        ValidatorConfig.load(path)
    assert str(error.value) == message.format(path=path)
    assert error.value.file == path


def test_a_validator_configuration_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        ValidatorConfig.load(tmp_path / "none.yaml")
    assert str(error.value) == f"no validator configuration at {tmp_path}/none.yaml"
    with pytest.raises(ConfigError) as error:
        ValidatorConfig.load(tmp_path)
    assert str(error.value) == f"cannot read {tmp_path}: [Errno 21] Is a directory: '{tmp_path}'"


# The connection profile


def profile_document(**org_changes: Any) -> dict[str, Any]:
    org: dict[str, Any] = {
        "mspId": "Org1MSP",
        "gateway": {"endpoint": "127.0.0.1:7051", "serverName": "peer0", "tlsCaCert": "ca.pem"},
        "identities": {"user": "msp"},
        "tlsClient": {"cert": "client.crt", "key": "client.key"},
    }
    org.update(org_changes)
    return {
        "name": "n",
        "ledger": "embedded",
        "channel": "ch",
        "chaincode": "cc",
        "organizations": {"Org1MSP": org},
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({**profile_document(), "name": None}, "name is missing"),
        ({**profile_document(), "channel": 5}, "channel must be a non-empty string, got 5"),
        (
            {**profile_document(), "orgs": {}},
            "orgs is not a known field (known: name, ledger, channel, chaincode, organizations, "
            "orderers, endorsementPolicy)",
        ),
        (
            {**profile_document(), "organizations": {}},
            "organizations is empty: list at least one organisation",
        ),
        (
            {**profile_document(), "organizations": ["Org1MSP"]},
            "organizations must map MSP IDs to organisations (mspId, gateway, identities), "
            "got ['Org1MSP']",
        ),
        (
            profile_document(mspId="Org2MSP"),
            "organizations.Org1MSP.mspId must be the MSP ID it is "
            "listed under, Org1MSP, got 'Org2MSP'",
        ),
        (
            profile_document(tlsclient={}),
            "organizations.Org1MSP.tlsclient is not a known field "
            "(known: mspId, gateway, identities, tlsClient, protocol, peers)",
        ),
        (
            profile_document(
                gateway={"endpoint": "127.0.0.1", "serverName": "p", "tlsCaCert": "ca.pem"}
            ),
            "organizations.Org1MSP.gateway.endpoint must be host:port, e.g. 127.0.0.1:7051, "
            "got '127.0.0.1'",
        ),
        (
            profile_document(gateway={"endpoint": "h:1", "serverName": "p", "tlsCaCert": "y.pem"}),
            "organizations.Org1MSP.gateway.tlsCaCert: no file at {files}/y.pem",
        ),
        (
            profile_document(tlsClient={"cert": "client.crt", "key": "none.key"}),
            "organizations.Org1MSP.tlsClient.key: no file at {files}/none.key",
        ),
        (
            profile_document(identities={"user": ""}),
            "organizations.Org1MSP.identities.user must be a non-empty string, got ''",
        ),
        (
            profile_document(protocol="legacy"),
            "organizations.Org1MSP.protocol must be gateway or peer, got 'legacy'",
        ),
        (
            profile_document(protocol="peer"),
            "organizations.Org1MSP.protocol is peer, which submits through an orderer: list at "
            "least one under orderers (docs/connection-profile.md#the-older-peer-protocol)",
        ),
        (
            profile_document(peers={"endpoint": "h:1"}),
            "organizations.Org1MSP.peers must be a list of peers (endpoint, serverName, "
            "tlsCaCert), got {{'endpoint': 'h:1'}}",
        ),
        (
            profile_document(peers=[{"endpoint": "h:1", "serverName": "p", "tlsCaCert": "y.pem"}]),
            "organizations.Org1MSP.peers[0].tlsCaCert: no file at {files}/y.pem",
        ),
        (
            {**profile_document(), "orderers": [{"endpoint": "o:7050", "tlsCaCert": "ca.pem"}]},
            "orderers[0].serverName is missing",
        ),
        (
            {**profile_document(), "endorsementPolicy": "MOST"},
            "endorsementPolicy must be one of MAJORITY, ANY, ALL, got 'MOST'",
        ),
    ],
)
def test_a_profile_mistake_names_the_field(
    files: Path, document: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProfileError) as error:
        ConnectionProfile.from_dict(document, files)
    assert str(error.value) == message.format(files=files)


def test_a_profile_reads_back_what_it_wrote(files: Path) -> None:
    profile = ConnectionProfile.from_dict(profile_document(), files)
    profile.write(files / "profile.yaml")
    assert ConnectionProfile.load(files / "profile.yaml") == ConnectionProfile(
        **{**profile.__dict__, "path": files / "profile.yaml"}
    )


def test_the_peer_protocol_fields_read_back_what_they_wrote(files: Path) -> None:
    peer = {"endpoint": "10.0.0.2:7051", "serverName": "peer1", "tlsCaCert": "ca.pem"}
    document = {
        **profile_document(protocol="peer", peers=[peer]),
        "orderers": [{"mspId": "OrdererMSP", **peer, "endpoint": "10.0.0.9:7050"}],
        "endorsementPolicy": "ALL",
    }
    profile = ConnectionProfile.from_dict(document, files)
    org = profile.org("Org1MSP")
    assert org.protocol == "peer"
    assert [(p.endpoint, p.server_name, p.msp_id) for p in org.endorsing_peers] == [
        ("10.0.0.2:7051", "peer1", "Org1MSP")
    ]
    assert [(o.endpoint, o.msp_id) for o in profile.orderers] == [("10.0.0.9:7050", "OrdererMSP")]
    assert profile.endorsement_policy == "ALL"
    profile.write(files / "profile.yaml")
    assert ConnectionProfile.load(files / "profile.yaml") == ConnectionProfile(
        **{**profile.__dict__, "path": files / "profile.yaml"}
    )


def test_without_peers_an_organisation_endorses_on_its_gateway_peer(files: Path) -> None:
    org = ConnectionProfile.from_dict(profile_document(), files).org("Org1MSP")
    assert org.protocol == "gateway"
    assert [(p.endpoint, p.server_name, p.tls_ca_cert) for p in org.endorsing_peers] == [
        ("127.0.0.1:7051", "peer0", files / "ca.pem")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "{path} is empty"),
        (
            "a: [",
            "cannot read {path}: while parsing a flow node\nexpected the node content, but found "
            "'<stream end>'\n  in \"<unicode string>\", line 1, column 5:\n    a: [\n        ^",
        ),
        ("- 1", "the profile must be a mapping"),
    ],
)
def test_a_profile_file_that_is_not_one(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as error:
        ConnectionProfile.load(path)
    assert str(error.value) == message.format(path=path)


def test_a_profile_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as error:
        ConnectionProfile.load(tmp_path)
    assert str(error.value) == f"cannot read {tmp_path}: [Errno 21] Is a directory: '{tmp_path}'"


# The validators file


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "{path}: organizations is missing"),
        (
            {"organizations": ["Org1MSP"]},
            "{path}: organizations must map MSP IDs to {{tasks: {{task id: holdout file}}}}, "
            "got ['Org1MSP']",
        ),
        (
            {"organizations": {"Org1MSP": None}},
            "{path}: organizations.Org1MSP must be a mapping "
            "({{tasks: {{task id: holdout file}}}})",
        ),
        ({"organizations": {"Org1MSP": {}}}, "{path}: organizations.Org1MSP.tasks is missing"),
        (
            {"organizations": {"Org1MSP": {"tasks": {}}}},
            "{path}: organizations.Org1MSP.tasks is empty: list at least one task and its "
            "holdout file",
        ),
        (
            {"organizations": {"Org1MSP": {"tasks": {"credit-risk-1": "none.csv"}}}},
            "{path}: organizations.Org1MSP.tasks.credit-risk-1: no file at {folder}/none.csv",
        ),
        (
            {"organizations": {"Org1MSP": {"tasks": {"credit-risk-1": None}}}},
            "{path}: organizations.Org1MSP.tasks.credit-risk-1 must be a non-empty string, "
            "got None",
        ),
        (
            {"organizations": {"Org1MSP": {"tasks": {"c": {"holdout": "holdout.csv"}}}}},
            "{path}: organizations.Org1MSP.tasks.c must be a non-empty string, "
            "got {{'holdout': 'holdout.csv'}}",
        ),
        (
            {"store": {"location": "x"}, "organizations": {}},
            "{path}: store must be a folder, file:///folder or s3://bucket/prefix, "
            "got {{'location': 'x'}}",
        ),
        (
            {"store": "s3://", "organizations": {}},
            "{path}: store must name a bucket, as in s3://bucket/prefix, got 's3://'",
        ),
        ({"stores": "x"}, "{path}: stores is not a known field (known: store, organizations)"),
    ],
)
def test_a_validators_file_mistake_names_the_field(
    files: Path, document: dict[str, Any], message: str
) -> None:
    path = files / "validators.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ValidatorsSpecError) as error:
        ValidatorsSpec.load(path)
    assert str(error.value) == message.format(path=path, folder=files)


def test_a_validators_file_reads_task_ids_as_text_and_paths_from_its_folder(files: Path) -> None:
    path = files / "validators.yaml"
    path.write_text(
        "store: models\norganizations:\n  Org1MSP:\n    tasks:\n      2024: holdout.csv\n"
    )
    spec = ValidatorsSpec.load(path)
    assert spec == ValidatorsSpec(
        str(files / "models"), {"Org1MSP": {"2024": files / "holdout.csv"}}
    )


def test_an_empty_validators_file(tmp_path: Path) -> None:
    path = tmp_path / "validators.yaml"
    path.write_text("")
    with pytest.raises(ValidatorsSpecError) as error:
        ValidatorsSpec.load(path)
    assert str(error.value) == f"{path} is empty"


# Start-up


def test_a_listen_address_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        server = grpc.server(thread_pool=None, options=[("grpc.so_reuseport", 0)])  # type: ignore[arg-type]
        with pytest.raises(StartError) as error:
            listen_on(server, address, grpc.local_server_credentials())
    assert (
        str(error.value)
        == f"cannot listen on {address} (listen.address): in use; pick another port"
    )


def test_a_state_dir_that_cannot_hold_reports_is_named(files: Path) -> None:
    (files / "state").mkdir()
    (files / "state" / "reports").write_text("a file where the reports folder goes")
    config = ValidatorConfig.from_dict(minimal_validator_document(), files)
    with pytest.raises(StartError) as error:
        build_validator(config)
    assert str(error.value) == (
        f"stateDir: cannot create {files}/state/reports: File exists; "
        "name a folder the validator may write"
    )


def test_an_identity_that_is_not_an_msp_folder_is_named(files: Path) -> None:
    config = ValidatorConfig.from_dict(minimal_validator_document(), files)
    with pytest.raises(StartError) as error:
        build_validator(config)
    assert str(error.value) == (
        f"identity: {files}/msp/signcerts does not exist: an MSP folder needs signcerts/"
    )


def test_the_peer_protocol_on_a_profile_without_orderers_says_what_to_add(files: Path) -> None:
    generate_material(
        files / "crypto",
        [MemberOrg("Org1", "Org1MSP", "org1.example.com")],
        OrdererOrg("Orderer", "OrdererMSP", "orderer.example.com"),
    )
    user = OrgLayout.under(files / "crypto", "org1.example.com").client.msp
    profile = ConnectionProfile.from_dict(profile_document(identities={"user": str(user)}), files)
    with pytest.raises(ProfileError) as error:
        connect(profile, "Org1MSP", protocol="peer")
    assert str(error.value) == (
        "the profile lists no orderers: the peer protocol submits through one; add them under "
        "orderers (docs/connection-profile.md#the-older-peer-protocol)"
    )
    with pytest.raises(ValueError) as unknown:
        connect(profile, "Org1MSP", protocol="legacy")
    assert str(unknown.value) == "unknown protocol 'legacy': use gateway or peer"


def test_a_peer_protocol_profile_that_cannot_be_read_stops_the_start(files: Path) -> None:
    generate_material(
        files / "crypto",
        [MemberOrg("Org1", "Org1MSP", "org1.example.com")],
        OrdererOrg("Orderer", "OrdererMSP", "orderer.example.com"),
    )
    (files / "profile.yaml").write_text("name: n\n")
    document = minimal_validator_document(
        identity=str(OrgLayout.under(files / "crypto", "org1.example.com").client.msp),
        gateway={**GATEWAY, "protocol": "peer", "profile": "profile.yaml"},
    )
    config = ValidatorConfig.from_dict(document, files)
    assert (config.gateway.protocol, config.gateway.profile) == ("peer", files / "profile.yaml")
    with pytest.raises(StartError) as error:
        connect_gateway(config)
    assert str(error.value) == "gateway.profile: ledger is missing"


def test_a_metrics_address_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(StartError) as error:
            serve_metrics(ValidatorMetrics(), address)
    assert str(error.value) == (
        f"cannot listen on {address} (metrics.address): in use; pick another port"
    )


# What the command line makes of them


def test_a_command_whose_profile_lacks_the_identity_says_so(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ConnectionProfile.from_dict(profile_document(identities={"admin": "msp"}), files).write(
        files / "profile.yaml"
    )
    with (
        pytest.raises(typer.Exit),
        failures(),
        registry_for(files, files / "profile.yaml", None),
    ):
        pass
    assert capsys.readouterr().err == (
        "error: organisation Org1MSP has no identity 'user' (known: admin)\n"
    )


def test_a_generated_validator_configuration_that_does_not_load_is_named(files: Path) -> None:
    path = files / "validator.yaml"
    path.write_text(
        yaml.safe_dump(minimal_validator_document(tasks={"churn": {"holdout": "gone.csv"}}))
    )
    with pytest.raises(ConfigError) as error:
        ValidatorConfig.load(path)
    assert _validator_config_error(error.value) == (
        f"the validator configuration {path} does not load: tasks.churn.holdout: no file at "
        f"{files}/gone.csv; fix the validators file and run `fedledger network up --validators "
        "FILE` again, or `network down --purge`"
    )
