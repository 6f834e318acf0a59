"""A consortium of separate hosts on one machine, driven by fedledger's own commands.

Three organisations hold one folder each with only their own admin and user keys, the other
members' peer addresses and TLS CA certificates, and the orderer's (`member_folder`, which
test_deploy.py uses too). A fourth is created by `org init` in a folder of its own and given
only the orderer's address and TLS CA. Every step is a `fedledger` command run as the
organisation it belongs to, timed, so tests/integration/test_multi_host.py and
bench/bench_join.py share the walk-through
of docs/multi-host.md. Imports only fedledger: the benchmark loads it by path.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from typer.testing import CliRunner

from fedledger.cli.app import app
from fedledger.fabric import connect
from fedledger.installation import find_installation
from fedledger.profile import ConnectionProfile
from fedledger.registry import Policy, open_registry
from fedledger.registry.client import Registry
from fedledger.registry.errors import ChaincodeRefusalError
from fedledger.registry.records import Proposal
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base

MEMBERS = ("Org1MSP", "Org2MSP", "Org3MSP")
ORG4 = "Org4MSP"
TASK = "join-task"
runner = CliRunner()
T = TypeVar("T")


class CommandFailedError(AssertionError):
    def __init__(self, args: tuple[str, ...], output: str) -> None:
        super().__init__(f"`fedledger {' '.join(args)}` failed:\n{output}")
        self.output = output


def fedledger(*args: str) -> str:
    """Run one command in this process; its output, or CommandFailedError with it."""
    result = runner.invoke(app, list(args))
    if result.exit_code != 0:
        raise CommandFailedError(args, result.output + repr(result.exception or ""))
    return result.output


def start_network(backend: str, run_dir: Path) -> Any:
    """A fresh three-organisation network of `backend` (it changes the channel, so never the
    session's shared ledger)."""
    definition = NetworkDefinition.load().with_overrides(
        port_base=free_port_base(), batch_timeout=0.25
    )
    if backend == "fabric":
        from fedledger.network.native import NativeNetwork

        return NativeNetwork(definition, run_dir, find_installation())
    from fedledger.embedded import EmbeddedLedger

    return EmbeddedLedger(definition, run_dir)


def member_folder(
    profile: ConnectionProfile, root: Path, msp_id: str, chaincode: str | None = None
) -> Path:
    """What member `msp_id` holds on its host, built from a running network's `profile`: its
    own identities, every member's peer address and TLS CA certificate, the orderer's address
    and TLS CA, in a profile naming `chaincode` (default: the network's)."""
    folder = root / msp_id
    public = folder / "public"
    public.mkdir(parents=True)
    organizations: dict[str, Any] = {}
    for other, org in profile.organizations.items():
        tls_ca = public / f"{other}-tlsca.pem"
        shutil.copy(org.gateway.tls_ca_cert, tls_ca)
        entry: dict[str, Any] = {
            "mspId": other,
            "gateway": {
                "endpoint": org.gateway.endpoint,
                "serverName": org.gateway.server_name,
                "tlsCaCert": str(tls_ca.relative_to(folder)),
            },
            "identities": {},
        }
        if other == msp_id:
            for name in ("admin", "user"):
                shutil.copytree(org.identity(name), folder / "msp" / name)
                entry["identities"][name] = f"msp/{name}"
        organizations[other] = entry
    orderer = profile.orderers[0]
    shutil.copy(orderer.tls_ca_cert, public / "orderer-tlsca.pem")
    document = {
        "name": f"{msp_id}-view",
        "ledger": profile.ledger,
        "channel": profile.channel,
        "chaincode": chaincode or profile.chaincode,
        "organizations": organizations,
        "orderers": [
            {
                "endpoint": orderer.endpoint,
                "serverName": orderer.server_name,
                "tlsCaCert": "public/orderer-tlsca.pem",
            }
        ],
    }
    (folder / "profile.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


def wait_for(check: Callable[[], T | None], what: str, timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.3)


@dataclass
class Consortium:
    """The three members' folders, the fourth organisation's host, and the step times."""

    backend: str
    root: Path
    network: Any
    profile: ConnectionProfile
    folders: dict[str, Path]
    times: dict[str, float] = field(default_factory=dict)

    @property
    def org4_host(self) -> Path:
        return self.root / "org4-host"

    @property
    def org4(self) -> Path:
        return self.org4_host / "org"

    @property
    def store(self) -> Path:
        """The model store every member reaches (S3 between real hosts)."""
        return self.root / "store"

    def member_profile(self, msp_id: str) -> ConnectionProfile:
        if msp_id == ORG4:
            return ConnectionProfile.load(self.org4 / "profile.yaml")
        return ConnectionProfile.load(self.folders[msp_id] / "profile.yaml")

    def as_member(self, msp_id: str, *args: str, option: str = "--org") -> str:
        return fedledger(
            *args, "--profile", str(self.folders[msp_id] / "profile.yaml"), option, msp_id
        )

    def caught_up(self, timeout: float = 60.0) -> None:
        """Until every member's peer has every block any of them has. A write waits for the
        writer's own peer only; the next step may be another member's, through its own peer,
        which commits the block in its own time."""
        with contextlib.ExitStack() as stack:
            peers = [
                stack.enter_context(connect(self.member_profile(msp), msp)).network(
                    self.profile.channel
                )
                for msp in MEMBERS
            ]
            top = max(peer.block_height() for peer in peers)
            for msp, peer in zip(MEMBERS, peers, strict=True):
                what = f"block {top - 1} on {msp}'s peer"
                wait_for(lambda p=peer: p.block_height() >= top, what, timeout)

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self.times[step] = round(time.monotonic() - started, 2)

    # The fourth organisation's steps, each as the organisation that takes it.

    def given_orderer(self) -> list[str]:
        """What the consortium tells the new organisation: the orderer and its TLS CA (on the
        embedded ledger, the ledger's endpoint), as options relative to its host's folder."""
        orderer = self.profile.orderers[0]
        given = self.org4_host / "given" / "orderer-tlsca.pem"
        given.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(orderer.tls_ca_cert, given)
        return [
            "--orderer", orderer.endpoint, "--orderer-tls-ca", "given/orderer-tlsca.pem",
            "--orderer-name", orderer.server_name,
            # As on a real host: listening on every interface, announced by its name.
            "--listen-host", "0.0.0.0",
        ]  # fmt: skip

    def init_and_export(self) -> int:
        port = free_port_base(span=10)
        with self.timed("init"):
            fedledger(
                "org", "init", "--msp-id", ORG4, "--domain", "org4.example.com",
                "--host", "127.0.0.1", "--port", str(port), "--dir", str(self.org4),
            )  # fmt: skip
        with self.timed("export"):
            fedledger(
                "org", "export", "--dir", str(self.org4), "--out", str(self.root / "org4.json")
            )
        return port

    def add_to_channel(self) -> None:
        update = str(self.root / "add-org4.pb")
        with self.timed("add-org"):
            self.as_member(
                "Org1MSP", "channel", "add-org", str(self.root / "org4.json"), "--out", update,
                option="--as",
            )  # fmt: skip
            for msp in ("Org1MSP", "Org2MSP"):
                self.as_member(msp, "channel", "sign-update", update, option="--as")
            self.as_member("Org1MSP", "channel", "submit-update", update, option="--as")
            self.caught_up()

    def org_start(self, *extra: str, step: str | None = None) -> str:
        """`org start` as a user types it in the host's folder: the default `--dir org`,
        relative paths."""
        with contextlib.chdir(self.org4_host), self.timed(step or "org start again"):
            return fedledger("org", "start", *extra)

    def deploy(self, service_port: int) -> str:
        """Fabric only: Org4's admin joins the committed chaincode definition."""
        with contextlib.chdir(self.org4_host), self.timed("deploy"):
            return fedledger(
                "deploy", "--profile", "org/profile.yaml", "--as", ORG4,
                "--service-address", f"127.0.0.1:{service_port}",
            )  # fmt: skip

    def change(self, kind: str, member: str, proposer: str, approvers: tuple[str, ...]) -> str:
        """A governance change proposed by `proposer` and approved by `approvers`; the last
        approval's output."""
        proposed = self.as_member(
            proposer, "change", "propose", kind, "--task", TASK, "--msp-id", member
        )
        change_id = next(word for word in proposed.split() if word.startswith("c-"))
        last = proposed
        for msp in approvers:
            self.caught_up()
            last = self.as_member(msp, "change", "vote", change_id, "approve")
        self.caught_up()
        return last

    # Tasks, models and votes, through the registry as each member.

    def create_task(self, schema: dict[str, Any]) -> None:
        with open_registry(self.member_profile("Org1MSP"), "Org1MSP") as registry:
            registry.create_task(
                TASK,
                schema=schema,
                metric="roc_auc",
                members=list(MEMBERS),
                policy=Policy(3, 0.5, None, None, 600, 1_000_000, 5),
            )

    def propose(self, proposer: str, model: bytes) -> str:
        from fedledger.store.factory import open_store

        uri = open_store(self.store).put(model)
        with open_registry(self.member_profile(proposer), proposer) as registry:
            proposal = registry.submit_proposal(
                TASK, model_sha256=hashlib.sha256(model).hexdigest(), uri=uri, size_bytes=len(model)
            )
        return proposal.id

    def vote(self, msp_id: str, proposal_id: str, *, wait_seen: bool = True) -> None:
        """A member's vote as its validator would cast it (the others' validators are not what
        this walk-through is about), once its own peer has the proposal's block (the proposer's
        submit waited for its own peer only) unless `wait_seen` is False."""
        with open_registry(self.member_profile(msp_id), msp_id) as registry:
            if wait_seen:
                wait_for(lambda: _knows(registry, proposal_id), f"{msp_id} to see it", 30)
            registry.cast_vote(
                proposal_id,
                decision="approve",
                metrics={"roc_auc": 0.8},
                holdout_rows=100,
                evaluator_version=f"manual-{uuid.uuid4().hex[:4]}",
            )

    def org4_vote_through(self, msp_id: str, proposal_id: str) -> None:
        """Org4's vote sent through `msp_id`'s peer, as Org4's profile lists it."""
        from fedledger.fabric.connect import tls_of
        from fedledger.fabric.gateway import Gateway
        from fedledger.fabric.identity import SigningIdentity

        profile = self.member_profile(ORG4)
        user = SigningIdentity.from_msp_folder(profile.org(ORG4).identity("user"), ORG4)
        peer = profile.org(msp_id)
        with Gateway.connect(peer.gateway.endpoint, user, tls_of(peer)) as gateway:
            contract = gateway.network(profile.channel).contract(profile.chaincode)
            Registry(contract).cast_vote(
                proposal_id,
                decision="approve",
                metrics={"roc_auc": 0.8},
                holdout_rows=100,
                evaluator_version="manual",
            )

    def proposal(self, proposal_id: str) -> Proposal:
        with open_registry(self.member_profile("Org1MSP"), "Org1MSP") as registry:
            return registry.get_proposal(proposal_id)

    def decided(self, proposal_id: str, timeout: float = 120.0) -> Proposal:
        """The proposal once decided; Org1 asks for the decision if the votes decide it and no
        validator did."""

        def settled() -> Proposal | None:
            with open_registry(self.member_profile("Org1MSP"), "Org1MSP") as registry:
                current = registry.get_proposal(proposal_id)
                if current.pending and len(registry.get_votes(proposal_id)) >= 3:
                    current = registry.decide(proposal_id)
            return None if current.pending else current

        return wait_for(settled, f"a decision on {proposal_id}", timeout)

    def voters(self, proposal_id: str) -> list[str]:
        with open_registry(self.member_profile("Org1MSP"), "Org1MSP") as registry:
            return sorted(v.voter for v in registry.get_votes(proposal_id))


def _knows(registry: Registry, proposal_id: str) -> bool:
    try:
        registry.get_proposal(proposal_id)
    except ChaincodeRefusalError as error:
        if error.code != "PROPOSAL_NOT_FOUND":
            raise
        return False
    return True


def validator_config(consortium: Consortium, holdout: Path, port: int) -> Path:
    """Org4's validator configuration (docs/validator-config.md), written by its operator from
    its own profile and folder."""
    from fedledger.orgs.standalone import load_org

    org = load_org(consortium.org4)
    own = consortium.member_profile(ORG4).org(ORG4)
    tlsca = org.layout.tlsca_cert
    document = {
        "organization": ORG4,
        "identity": str(org.layout.client.msp),
        "gateway": {
            "endpoint": own.gateway.endpoint,
            "serverName": own.gateway.server_name,
            "tlsCaCert": str(own.gateway.tls_ca_cert),
            "tlsClient": {
                "cert": str(org.layout.client.tls_cert("client")),
                "key": str(org.layout.client.tls_key("client")),
            },
        },
        "tasks": {TASK: {"holdout": str(holdout)}},
        "store": {"location": str(consortium.store)},
        "listen": {
            "address": f"127.0.0.1:{port}",
            "tls": {
                "issueFrom": {"caCert": str(tlsca), "caKey": str(org.layout.tlsca_key)},
                "clientCaCerts": [str(tlsca)],
            },
        },
        "stateDir": str(consortium.org4_host / "validator-state"),
        "limits": {"maxConcurrentEvaluations": 1},
    }
    path = consortium.org4_host / "validator.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@contextmanager
def consortium_of(backend: str, root: Path) -> Iterator[Consortium]:
    """A fresh network and its three members' folders; everything stopped on exit (the fourth
    organisation's processes by `org stop`)."""
    network = start_network(backend, root / "net")
    try:
        started = time.monotonic()
        profile = network.up()
        folders = {msp: member_folder(profile, root / "members", msp) for msp in MEMBERS}
        consortium = Consortium(backend, root, network, profile, folders)
        consortium.times["network up"] = round(time.monotonic() - started, 2)
        yield consortium
    finally:
        if (root / "org4-host" / "org" / "org.yaml").exists():
            runner.invoke(app, ["org", "stop", "--dir", str(root / "org4-host" / "org")])
        network.down()


@dataclass(frozen=True)
class Joined:
    """What the fourth organisation's commands printed on its way in, for the test to check."""

    port: int
    too_early: str | None
    first_start: str
    deployed: str | None
    added: str
    second_start: str


def join_org4(consortium: Consortium, holdout: Path, *, too_early: bool = False) -> Joined:
    """Org4 from an empty folder to a task member with its validator running: every command of
    docs/multi-host.md's walk-through, each timed. With `too_early`, an `org start` before the
    channel lists Org4 first, whose error is returned."""
    from fedledger.models.synthetic import synthetic_frame, synthetic_schema

    schema = synthetic_schema()
    consortium.create_task(schema.to_dict())
    port = consortium.init_and_export()
    refused = None
    if too_early:
        try:
            consortium.org_start(*consortium.given_orderer(), "--timeout", "3", step="too early")
        except CommandFailedError as error:
            refused = error.output
    consortium.add_to_channel()
    first = consortium.org_start(*consortium.given_orderer(), step="org start")
    deployed = consortium.deploy(port + 3) if consortium.backend == "fabric" else None
    with consortium.timed("governance add-member"):
        added = consortium.change("add-member", ORG4, "Org1MSP", ("Org2MSP", "Org3MSP"))
    synthetic_frame(schema, 400, seed=4).to_parquet(holdout)
    config = validator_config(consortium, holdout, port + 4)
    relative = str(config.relative_to(consortium.org4_host))
    second = consortium.org_start("--validator-config", relative, step="validator start")
    return Joined(port, refused, first, deployed, added, second)


def first_counted_vote(consortium: Consortium, model: bytes) -> tuple[str, Proposal]:
    """A proposal Org4's validator evaluates and votes on, with two members' votes beside its
    own: with quorum 3 of the task's four members, Org4's vote is the one that decides. Timed
    from the proposal to its decision."""
    with consortium.timed("first vote counted"):
        proposal_id = consortium.propose("Org2MSP", model)
        for msp in ("Org1MSP", "Org2MSP"):
            consortium.vote(msp, proposal_id)
        return proposal_id, consortium.decided(proposal_id)
