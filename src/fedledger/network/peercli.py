"""Running Fabric's own `peer` and `osnadmin` commands as an organisation's admin."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fedledger.installation import Installation
from fedledger.network.errors import NetworkError
from fedledger.network.nodeconfig import LOCALHOST
from fedledger.orgs.layout import OrdererOrgLayout, OrgLayout
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.layout import RunLayout


class CommandError(NetworkError):
    """A Fabric command failed; the message carries the command and what it printed."""


@dataclass(frozen=True)
class FabricCommands:
    installation: Installation
    definition: NetworkDefinition
    layout: RunLayout

    def org_layout(self, index: int) -> OrgLayout:
        return OrgLayout.under(self.layout.crypto, self.definition.members[index].domain)

    @property
    def orderer_org(self) -> OrdererOrgLayout:
        return OrdererOrgLayout.under(self.layout.crypto, self.definition.ordering.domain)

    def peer_name(self, index: int) -> str:
        return self.org_layout(index).peer(0).name

    def peer_env(self, index: int) -> dict[str, str]:
        """The environment `peer` needs to act as organisation `index`'s admin on its peer."""
        org = self.org_layout(index)
        return {
            "FABRIC_CFG_PATH": str(self.layout.node(self.peer_name(index))),
            "CORE_PEER_LOCALMSPID": self.definition.members[index].msp_id,
            "CORE_PEER_MSPCONFIGPATH": str(org.admin.msp),
            "CORE_PEER_ADDRESS": f"{LOCALHOST}:{self.definition.peer_ports(index).listen}",
            "CORE_PEER_TLS_ENABLED": "true",
            "CORE_PEER_TLS_ROOTCERT_FILE": str(org.peer(0).tls_ca),
            "FABRIC_LOGGING_SPEC": "WARNING",
        }

    def orderer_args(self) -> list[str]:
        return [
            "-o",
            f"{LOCALHOST}:{self.definition.orderer_ports(0).listen}",
            "--tls",
            "--cafile",
            str(self.orderer_org.tlsca_cert),
        ]

    def peer(
        self,
        index: int,
        *args: str,
        timeout: float = 60.0,
        check: bool = True,
        log_level: str = "WARNING",
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.peer_env(index), "FABRIC_LOGGING_SPEC": log_level}
        return self._run([str(self.installation.binary("peer")), *args], env, timeout, check)

    def peer_async(self, index: int, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(self.installation.binary("peer")), *args],
            env=self.peer_env(index),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def osnadmin(
        self, orderer: int, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        admin = self.orderer_org.admin
        command = [
            str(self.installation.binary("osnadmin")),
            *args,
            "-o",
            f"{LOCALHOST}:{self.definition.orderer_ports(orderer).admin}",
            "--ca-file",
            str(self.orderer_org.tlsca_cert),
            "--client-cert",
            str(admin.tls_cert("client")),
            "--client-key",
            str(admin.tls_key("client")),
        ]
        return self._run(command, {}, 30.0, check)

    @staticmethod
    def _run(
        command: list[str], env: dict[str, str], timeout: float, check: bool
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            command,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise CommandError(
                f"`{Path(command[0]).name} {' '.join(command[1:4])} …` failed "
                f"(exit {result.returncode}): {(result.stderr or result.stdout).strip()[-800:]}"
            )
        return result


def finish(process: subprocess.Popen[str], what: str, timeout: float = 60.0) -> str:
    """Check a finished Fabric command; raises CommandError with the tail of its standard error when
    it failed.
    """
    stdout, stderr = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise CommandError(f"{what} failed (exit {process.returncode}): {stderr.strip()[-800:]}")
    return stdout
