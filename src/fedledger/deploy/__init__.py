"""Fabric's chaincode lifecycle as one organisation runs it, with only its own admin identity.

`fedledger deploy` (cli/deploy.py) and the native network (network/lifecycle.py) both go
through `org_lifecycle.deploy_for_org`: install on the organisation's peer, approve the
definition for the organisation, report every organisation's approval, and commit when asked
and the channel's lifecycle policy can be met. docs/deploy.md explains the decisions.
"""

from fedledger.deploy.errors import DeployError

__all__ = ["DeployError"]
