"""Where a Fabric installation is and whether it is complete.

An installation is a folder in the official release archive's layout: `bin/` (peer, orderer,
configtxgen, osnadmin, ...), `config/` (core.yaml, orderer.yaml, configtx.yaml) and
`builders/ccaas/bin/` (the chaincode-as-a-service builder). We look, in order, at `$FABRIC_HOME`,
the cache folder `fedledger network install` writes to, and `peer` on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fedledger.installation.errors import InstallationError

FABRIC_VERSION = "2.5.16"
REQUIRED_BINARIES = ("peer", "orderer", "configtxgen", "osnadmin")
# Fabric 2.3 added the channel participation API (and osnadmin); 2.2 orders through a system
# channel (docs/fabric-2.2.md).
CHANNEL_PARTICIPATION_SINCE = (2, 3)
REQUIRED_CONFIG = ("core.yaml", "orderer.yaml")
CCAAS_BUILDER = ("detect", "build", "release")
HOW_TO_INSTALL = (
    "run `fedledger network install` (downloads the official release archive), or unpack "
    "hyperledger-fabric-linux-amd64-{version}.tar.gz into {cache} or anywhere and set "
    "FABRIC_HOME to that folder"
)


@dataclass(frozen=True)
class Installation:
    root: Path
    version: str
    found_via: str

    def binary(self, name: str) -> Path:
        return self.root / "bin" / name

    @property
    def channel_participation(self) -> bool:
        """Whether this Fabric has the channel participation API (2.3 on); 2.2 bootstraps its
        orderers from a system channel instead."""
        return has_channel_participation(self.version)

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def ccaas_builder(self) -> Path:
        return self.root / "builders" / "ccaas"


def cache_dir(version: str = FABRIC_VERSION, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = Path(env.get("XDG_CACHE_HOME") or Path(env.get("HOME", "~")).expanduser() / ".cache")
    return base / "fedledger" / "fabric" / version


def how_to_install(version: str = FABRIC_VERSION) -> str:
    return HOW_TO_INSTALL.format(version=version, cache=cache_dir(version))


def peer_version(peer: Path) -> str:
    """The version `peer version` reports, without a leading 'v'; raises InstallationError when
    `peer` does not run or reports no version."""
    try:
        result = subprocess.run(
            [str(peer), "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as error:
        raise InstallationError(f"{peer} does not run: {error}") from error
    match = re.search(r"Version:\s*v?(\S+)", result.stdout)
    if result.returncode != 0 or match is None:
        raise InstallationError(
            f"`{peer} version` did not report a version (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[:200]}"
        )
    return match.group(1)


def has_channel_participation(version: str) -> bool:
    """Whether Fabric `version` ("2.5.16", "v2.2.15") has the channel participation API; an
    unreadable version is taken as a current one."""
    match = re.match(r"v?(\d+)\.(\d+)", version)
    if match is None:
        return True
    return (int(match.group(1)), int(match.group(2))) >= CHANNEL_PARTICIPATION_SINCE


def missing_parts(root: Path, version: str = FABRIC_VERSION) -> list[str]:
    """Every file of the release layout that `root` lacks, as paths relative to it (osnadmin
    only where `version` has channel participation)."""
    participation = has_channel_participation(version)
    binaries = [b for b in REQUIRED_BINARIES if participation or b != "osnadmin"]
    wanted = [Path("bin", name) for name in binaries]
    wanted += [Path("config", name) for name in REQUIRED_CONFIG]
    wanted += [Path("builders", "ccaas", "bin", name) for name in CCAAS_BUILDER]
    missing = []
    for relative in wanted:
        path = root / relative
        executable = relative.parts[0] in ("bin", "builders")
        if not path.is_file() or (executable and not os.access(path, os.X_OK)):
            missing.append(str(relative))
    return missing


def inspect_installation(root: Path, version: str, found_via: str) -> Installation:
    """Check the layout and the reported version.

    Raises InstallationError naming everything that is wrong.
    """
    missing = missing_parts(root, version)
    if missing:
        raise InstallationError(
            f"the Fabric installation at {root} (found via {found_via}) is incomplete: "
            f"missing {', '.join(missing)}"
        )
    reported = peer_version(root / "bin" / "peer")
    if reported != version:
        raise InstallationError(
            f"the Fabric installation at {root} (found via {found_via}) is version {reported}, "
            f"fedledger needs {version}: {how_to_install(version)}"
        )
    return Installation(root, version, found_via)


def candidates(version: str, env: Mapping[str, str]) -> list[tuple[Path, str]]:
    found = []
    if env.get("FABRIC_HOME"):
        found.append((Path(env["FABRIC_HOME"]).expanduser(), "FABRIC_HOME"))
    found.append((cache_dir(version, env), "the fedledger cache"))
    peer = shutil.which("peer", path=env.get("PATH"))
    if peer:
        found.append((Path(peer).resolve().parent.parent, "PATH"))
    return found


def find_installation(
    version: str = FABRIC_VERSION, env: Mapping[str, str] | None = None
) -> Installation:
    """The first candidate that exists is the one used: a broken FABRIC_HOME is an error,
    not a reason to quietly pick something else.

    Raises InstallationError when none exists (saying where it looked and how to install one)
    or the first one found is incomplete or another version.
    """
    env = os.environ if env is None else env
    for root, found_via in candidates(version, env):
        if root.exists():
            return inspect_installation(root, version, found_via)
    searched = [str(root) for root, _ in candidates(version, env)] or []
    where = ", ".join(searched + ([] if env.get("FABRIC_HOME") else ["$FABRIC_HOME (unset)"]))
    raise InstallationError(
        f"no Fabric {version} installation found (searched {where}, and `peer` on PATH): "
        f"{how_to_install(version)}"
    )
