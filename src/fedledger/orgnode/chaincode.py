"""The organisation's chaincode service, for the package its own admin approved.

`fedledger deploy --as <MSP> --service-address HOST:PORT` installs and approves a package whose
connection.json names that address; `org start` finds that package on the organisation's own
peer (the committed definition, then the package the organisation approved for it) and runs
`fedledger chaincode serve` for it on the organisation's chaincode port. Nothing is started
before the organisation has deployed: there is no package id to serve.
"""

from __future__ import annotations

import sys

from fedledger.deploy.admin import PeerAdmin
from fedledger.deploy.org_lifecycle import (
    approved_package_id,
    committed_definition,
    installed_package_ids,
)
from fedledger.orgnode.layout import NodeFolders
from fedledger.orgs.standalone import StandaloneOrg
from fedledger.runtime.processes import ProcessSpec


def service_name(org: StandaloneOrg) -> str:
    return f"chaincode.{org.domain}"


def approved_package(admin: PeerAdmin, channel: str, chaincode: str) -> str | None:
    """The package id the organisation approved for the committed definition and installed on
    its peer, or None when it has not deployed it. Raises PeerCommandError when the peer cannot
    be asked."""
    definition = committed_definition(admin, channel, chaincode)
    if definition is None:
        return None
    package_id = approved_package_id(admin, definition)
    if package_id is None or package_id not in installed_package_ids(admin):
        return None
    return package_id


def service_process(org: StandaloneOrg, package_id: str, address: str) -> ProcessSpec:
    """`fedledger chaincode serve` for `package_id`, listening on `address`."""
    name = service_name(org)
    command = [
        sys.executable, "-m", "fedledger", "chaincode", "serve",
        "--package-id", package_id, "--address", address,
    ]  # fmt: skip
    return ProcessSpec(name, command, NodeFolders(org.root).log(name), org.root)
