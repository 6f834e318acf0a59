"""The organisation's validator, run from the configuration its operator wrote
(docs/validator-config.md): `fedledger validator serve --config FILE`, recorded like the peer."""

from __future__ import annotations

from pathlib import Path

from fedledger.network.validators import validator_process, wait_serving
from fedledger.orgnode.layout import NodeFolders
from fedledger.orgs.standalone import StandaloneOrg
from fedledger.runtime.processes import ProcessRecord, ProcessSpec
from fedledger.validator.config import ValidatorConfig


def validator_name(org: StandaloneOrg) -> str:
    return f"validator.{org.domain}"


def checked_config(org: StandaloneOrg, path: Path) -> ValidatorConfig:
    """The configuration, checked whole before anything starts. Raises ConfigError naming the
    field, and StartSettingsError when it votes for another organisation or has no TLS client
    certificate to check its health with."""
    from fedledger.orgnode.errors import StartSettingsError

    config = ValidatorConfig.load(path)
    if config.organization != org.msp_id:
        raise StartSettingsError(
            f"{path}: organization is {config.organization}, but this folder is {org.msp_id}'s"
        )
    if config.gateway.tls_client is None:
        raise StartSettingsError(
            f"{path}: gateway.tlsClient is missing: `org start` and `org status` call the "
            "validator's health check with it (give User1's tls/client.crt and client.key)"
        )
    return config


def validator_spec(org: StandaloneOrg, config: Path) -> ProcessSpec:
    name = validator_name(org)
    return validator_process(name, config, NodeFolders(org.root).log(name), org.root)


def wait_validator(org: StandaloneOrg, record: ProcessRecord, config: ValidatorConfig) -> None:
    """Return once it serves; raises ValidatorExitedError or NotReadyError as `wait_serving`."""
    wait_serving(record, config, NodeFolders(org.root).log(record.name))
