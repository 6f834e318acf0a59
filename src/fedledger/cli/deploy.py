"""`fedledger deploy`: one organisation's part of deploying the chaincode, with its own admin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedledger.cli.chaincode import PackageType
from fedledger.cli.common import DEFAULT_RUN_DIR, ProfileOption, RunDir, load_profile, out
from fedledger.cli.failures import fail

AsOrg = Annotated[
    str,
    typer.Option(
        "--as",
        "--org",
        envvar="FEDLEDGER_ORG",
        help="The organisation (MSP ID) whose admin identity runs the lifecycle steps.",
    ),
]
Commit = Annotated[
    bool,
    typer.Option(
        "--commit", help="Also commit the definition once a majority of organisations approved it."
    ),
]
Type = Annotated[
    PackageType,
    typer.Option(
        "--type", help="ccaas: the chaincode runs as a service you start; node: the peer builds it."
    ),
]
ServiceAddress = Annotated[
    str | None,
    typer.Option(
        help="ccaas: host:port where this organisation's peer reaches its chaincode service "
        "(default: the address fedledger's own peers fill in)."
    ),
]
Orderer = Annotated[
    str | None, typer.Option(help="An orderer's host:port (default: the profile's first orderer).")
]
OrdererTlsCa = Annotated[
    Path | None, typer.Option(help="The CA certificate of that orderer's TLS server.")
]
Source = Annotated[
    Path | None, typer.Option(help="The chaincode project (default: the network's).")
]
Identity = Annotated[
    str, typer.Option(help="The profile's name for the organisation's admin identity.")
]
Packages = Annotated[
    Path | None,
    typer.Option(help="Folder for the package (default: packages/<MSP ID>/ beside the profile)."),
]


def deploy(
    as_org: AsOrg,
    commit: Commit = False,
    type_: Type = PackageType.ccaas,
    service_address: ServiceAddress = None,
    orderer: Orderer = None,
    orderer_tls_ca: OrdererTlsCa = None,
    source: Source = None,
    identity: Identity = "admin",
    packages: Packages = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
    profile: ProfileOption = None,
) -> None:
    """Install, approve and (with --commit) commit the chaincode as one organisation.

    Each organisation runs this on its own host with its own admin identity; the profile needs
    only that identity and the other organisations' peer addresses and TLS CA certificates.
    Re-running changes nothing; a changed build is approved at the next sequence (docs/deploy.md).
    """
    from fedledger.deploy.plan import DeployRequest, run_deploy

    loaded = load_profile(run_dir, profile)
    if (orderer is None) != (orderer_tls_ca is None):
        fail("give --orderer and --orderer-tls-ca together")
    request = DeployRequest(
        profile=loaded,
        msp_id=as_org,
        identity=identity,
        commit=commit,
        node_package=type_ is PackageType.node,
        service_address=service_address,
        orderer=(orderer, orderer_tls_ca) if orderer and orderer_tls_ca else None,
        source=source,
        packages=packages,
    )
    outcome = run_deploy(request, progress=lambda line: out.print(line, highlight=False))
    for line in outcome.report_lines():
        out.print(line, highlight=False)
