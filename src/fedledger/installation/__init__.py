"""Finding, checking and installing a Fabric installation (the release archive's layout)."""

from fedledger.installation.discover import (
    FABRIC_VERSION,
    Installation,
    cache_dir,
    find_installation,
    inspect_installation,
)
from fedledger.installation.download import DEFAULT_URL_TEMPLATE, install_release
from fedledger.installation.errors import InstallationError

__all__ = [
    "DEFAULT_URL_TEMPLATE",
    "FABRIC_VERSION",
    "Installation",
    "InstallationError",
    "cache_dir",
    "find_installation",
    "inspect_installation",
    "install_release",
]
