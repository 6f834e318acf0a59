"""The demo's validators: one `fedledger validator serve` process per organisation, started,
awaited and stopped by the same code as a network's validators (`fedledger.network.validators`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fedledger.network.validators import (
    START_TIMEOUT,
    ValidatorExitedError,
    validator_process,
    wait_serving,
)
from fedledger.profile import ConnectionProfile
from fedledger.runtime import processes
from fedledger.runtime.health import NotReadyError
from fedledger.runtime.processes import ProcessRecord
from fedledger.validator.config import ValidatorConfig
from fedledger.validator.endpoint import ENDPOINT_FILE, read_endpoint
from fedledger.validator.profile_config import config_document, write_config


class ValidatorStartError(RuntimeError):
    """A validator process exited or did not come up; the message carries its log's tail."""


@dataclass
class ValidatorProcess:
    msp_id: str
    config: Path
    state_dir: Path
    log: Path
    record: ProcessRecord

    def address(self) -> str | None:
        try:
            return str(read_endpoint(self.state_dir)["address"])
        except (FileNotFoundError, KeyError, ValueError):
            return None

    def log_tail(self, lines: int = 20) -> str:
        return processes.log_tail(self.log, lines)

    def stop(self, timeout: float = 15.0) -> None:
        processes.stop(self.record, timeout)

    def wait_serving(self) -> None:
        """Return once the validator serves; raises ValidatorStartError, with its log's tail,
        when it exits or does not serve within START_TIMEOUT.
        """
        try:
            wait_serving(self.record, ValidatorConfig.load(self.config), self.log, START_TIMEOUT)
        except ValidatorExitedError:
            raise ValidatorStartError(
                f"the validator of {self.msp_id} exited while starting:\n{self.log_tail()}"
            ) from None
        except NotReadyError:
            raise ValidatorStartError(
                f"the validator of {self.msp_id} did not start in {START_TIMEOUT:.0f} s:\n"
                f"{self.log_tail()}"
            ) from None


def start_validators(
    profile: ConnectionProfile, holdouts: dict[str, dict[str, Path]], store: str, folder: Path
) -> list[ValidatorProcess]:
    """Start one validator per organisation (tasks → holdout) and wait until all serve."""
    started = []
    try:
        for msp_id, tasks in holdouts.items():
            org_folder = folder / msp_id
            state_dir = org_folder / "validator-state"
            config = org_folder / "validator.yaml"
            document = config_document(
                profile, msp_id, tasks=tasks, store=store, state_dir=state_dir
            )
            write_config(config, document)
            (state_dir / ENDPOINT_FILE).unlink(missing_ok=True)
            log = org_folder / "validator.log"
            record = processes.start(
                validator_process(f"validator {msp_id}", config, log, Path.cwd())
            )
            started.append(ValidatorProcess(msp_id, config, state_dir, log, record))
        for validator in started:
            validator.wait_serving()
    except BaseException:
        stop_validators(started)
        raise
    return started


def stop_validators(validators: list[ValidatorProcess]) -> None:
    for validator in validators:
        validator.stop()
