"""One organisation's own side of a running network, from its own folder (`fedledger org
start/status/stop/profile`): its peer joined to the channel, its chaincode service, its
validator, and a connection profile read from the channel's configuration. docs/multi-host.md
explains the decisions."""

from fedledger.orgnode.errors import OrgNodeError

__all__ = ["OrgNodeError"]
