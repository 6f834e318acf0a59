"""Organisation files (as `fedledger org export` writes them) of a running network's members, and
`fedledger channel create --legacy` run against its profile."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from fedledger.cli.app import app
from fedledger.orgs.export import OrgDefinition
from fedledger.orgs.layout import OrgLayout
from fedledger.runtime.definition import NetworkDefinition


def write_org_files(crypto: Path, definition: NetworkDefinition, out: Path) -> list[Path]:
    files = []
    for i, member in enumerate(definition.members):
        layout = OrgLayout.under(crypto, member.domain)
        org = OrgDefinition(
            member.msp_id,
            (layout.ca_cert.read_bytes(),),
            (layout.tlsca_cert.read_bytes(),),
            "127.0.0.1",
            definition.peer_ports(i).listen,
        )
        path = out / f"{member.msp_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(org.to_document()))
        files.append(path)
    return files


def create_legacy(profile: Path, as_org: str, *args: str) -> Result:
    command = ["channel", "create", "--legacy", *args, "--as", as_org, "--profile", str(profile)]
    return CliRunner().invoke(app, command)
