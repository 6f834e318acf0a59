"""What `org start` was told, kept in the organisation's folder (`start.yaml`) so that a second
`org start`, `org status`, `org stop` and `org profile` need no options: the channel, the
orderer the consortium named, the ledger behind it, the host to listen on and the validator's
configuration. Options given to a later start replace the kept values."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from fedledger.orgnode.errors import StartSettingsError
from fedledger.runtime.definition import PeerPorts

SETTINGS_FILE = "start.yaml"
LEDGERS = ("auto", "fabric", "embedded")


@dataclass(frozen=True)
class StartSettings:
    """`orderer` is host:port, checked against `orderer_tls_ca` under `orderer_name`; `ledger`
    "auto" until `org start` asks the orderer (orgnode/ledger_kind.py)."""

    ledger: str = "auto"
    channel: str = "fedledger"
    chaincode: str = "fedledger"
    orderer: str | None = None
    orderer_tls_ca: Path | None = None
    orderer_name: str | None = None
    listen_host: str = "127.0.0.1"
    validator_config: Path | None = None

    @classmethod
    def kept(cls, root: Path) -> StartSettings:
        """The settings of the last `org start` in `root`, or the defaults when there was none.

        Raises StartSettingsError when the kept file is unreadable or holds an unknown field.
        """
        path = root / SETTINGS_FILE
        if not path.exists():
            return cls()
        try:
            document = yaml.safe_load(path.read_text()) or {}
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(document) - known)
            if unknown:
                raise StartSettingsError(f"{path}: unknown field {unknown[0]!r}")
            return cls(**{k: _typed(k, v) for k, v in document.items()})
        except (OSError, yaml.YAMLError, TypeError, AttributeError) as error:
            raise StartSettingsError(f"cannot read {path}: {error}") from None

    def updated(self, **given: Any) -> StartSettings:
        """These settings with every value in `given` that is not None in place of its own.

        Raises StartSettingsError for a ledger other than auto, fabric or embedded, or a file that
        does not exist.
        """
        changed = replace(self, **{k: v for k, v in given.items() if v is not None})
        if changed.ledger not in LEDGERS:
            raise StartSettingsError(f"--ledger {changed.ledger!r}: use auto, fabric or embedded")
        for option, path in (
            ("--orderer-tls-ca", changed.orderer_tls_ca),
            ("--validator-config", changed.validator_config),
        ):
            if path is not None and not path.is_file():
                raise StartSettingsError(f"{option} {path}: no such file")
        return replace(
            changed,
            orderer_tls_ca=_absolute(changed.orderer_tls_ca),
            validator_config=_absolute(changed.validator_config),
        )

    def require_orderer(self) -> tuple[str, Path, str]:
        """The orderer's address, TLS CA and TLS name (its host when no name was given).

        Raises StartSettingsError when no start was ever told the orderer.
        """
        if self.orderer is None or self.orderer_tls_ca is None:
            raise StartSettingsError(
                "no orderer known: give --orderer HOST:PORT and --orderer-tls-ca FILE (the "
                "consortium's orderer and the CA of its TLS certificate) to the first `org start`"
            )
        return (
            self.orderer,
            self.orderer_tls_ca,
            self.orderer_name or self.orderer.rpartition(":")[0],
        )

    def keep(self, root: Path) -> None:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        document = {
            name: str(value) if isinstance(value, Path) else value
            for name, value in values.items()
            if value is not None
        }
        (root / SETTINGS_FILE).write_text(yaml.safe_dump(document, sort_keys=False))


def _typed(name: str, value: Any) -> Any:
    return Path(value) if name in ("orderer_tls_ca", "validator_config") and value else value


def _absolute(path: Path | None) -> Path | None:
    return None if path is None else path.resolve()


def org_ports(peer_port: int) -> PeerPorts:
    """The organisation's ports: its peer's (`org init --port`) and the four after it, in the
    order `network up` gives each organisation's block (chaincode listener, operations,
    chaincode service, validator)."""
    return PeerPorts(
        listen=peer_port,
        chaincode=peer_port + 1,
        operations=peer_port + 2,
        chaincode_server=peer_port + 3,
        validator=peer_port + 4,
    )
