"""`fedledger network install`: fetch the official release archive, unpack it atomically.

Fabric publishes no checksum beside its archives, so what was unpacked is checked instead: the
release layout must be complete and `peer version` must report the version asked for. Only then
is the folder moved into place, in one rename; a broken download leaves nothing behind.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from fedledger.installation.discover import (
    FABRIC_VERSION,
    Installation,
    cache_dir,
    inspect_installation,
)
from fedledger.installation.errors import InstallationError

DEFAULT_URL_TEMPLATE = (
    "https://github.com/hyperledger/fabric/releases/download/"
    "v{version}/hyperledger-fabric-linux-amd64-{version}.tar.gz"
)
CHUNK = 1 << 20

Progress = Callable[[int, int | None], None]


def _download(url: str, target: Path, progress: Progress | None, timeout: float) -> None:
    import httpx  # only `network install` downloads; every other command starts without it

    try:
        with (
            httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as response,
            target.open("wb") as out,
        ):
            if response.status_code != 200:
                raise InstallationError(
                    f"downloading {url} failed: HTTP {response.status_code}; check the version "
                    "or pass --url with a mirror that serves the release archive"
                )
            length = response.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            for chunk in response.iter_bytes(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            if total is not None and done != total:
                raise InstallationError(
                    f"downloading {url} failed: stopped after {done} of {total} bytes; "
                    "nothing was installed, try again"
                )
    except httpx.HTTPError as error:
        raise InstallationError(
            f"downloading {url} failed: {error}; nothing was installed, try again"
        ) from error


def _unpack(archive: Path, into: Path) -> None:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise InstallationError(
            f"the downloaded archive is truncated or not a Fabric release archive ({error}); "
            "nothing was installed, try again"
        ) from error


def install_release(
    version: str = FABRIC_VERSION,
    *,
    url: str | None = None,
    destination: Path | None = None,
    progress: Progress | None = None,
    timeout: float = 60.0,
) -> Installation:
    """Download and unpack Fabric `version`; return the checked installation.

    Raises InstallationError when `destination` exists, the download or unpacking fails, or
    the archive is not a complete installation of `version`.
    """
    destination = destination or cache_dir(version)
    if destination.exists():
        raise InstallationError(
            f"{destination} already exists; remove it first to reinstall Fabric {version}"
        )
    url = url or DEFAULT_URL_TEMPLATE.format(version=version)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".install-") as scratch:
        archive = Path(scratch) / "fabric.tar.gz"
        unpacked = Path(scratch) / "unpacked"
        _download(url, archive, progress, timeout)
        _unpack(archive, unpacked)
        inspect_installation(unpacked, version, f"the archive from {url}")
        shutil.move(unpacked, destination)
    return Installation(destination, version, "the fedledger cache")
