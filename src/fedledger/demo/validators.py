"""The demo's validators: one `fedledger validator serve` process per organisation."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from fedledger.profile import ConnectionProfile
from fedledger.validator.endpoint import ENDPOINT_FILE, read_endpoint
from fedledger.validator.profile_config import config_document, write_config

START_TIMEOUT = 90.0


class ValidatorStartError(RuntimeError):
    """A validator process exited or did not come up; the message carries its log's tail."""


@dataclass
class ValidatorProcess:
    msp_id: str
    config: Path
    state_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    def address(self) -> str | None:
        try:
            return str(read_endpoint(self.state_dir)["address"])
        except (FileNotFoundError, KeyError, ValueError):
            return None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_validators(
    profile: ConnectionProfile, holdouts: dict[str, dict[str, Path]], store: str, folder: Path
) -> list[ValidatorProcess]:
    """Start one validator per organisation (tasks → holdout) and wait until all listen."""
    started = []
    for msp_id, tasks in holdouts.items():
        org_folder = folder / msp_id
        state_dir = org_folder / "validator-state"
        config = org_folder / "validator.yaml"
        document = config_document(profile, msp_id, tasks=tasks, store=store, state_dir=state_dir)
        write_config(config, document)
        (state_dir / ENDPOINT_FILE).unlink(missing_ok=True)
        log = org_folder / "validator.log"
        with log.open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "fedledger", "validator", "serve", "--config", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        started.append(ValidatorProcess(msp_id, config, state_dir, log, process))
    deadline = time.monotonic() + START_TIMEOUT
    try:
        for validator in started:
            while validator.address() is None:
                if validator.process.poll() is not None:
                    raise ValidatorStartError(
                        f"the validator of {validator.msp_id} exited while starting:\n"
                        f"{validator.log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise ValidatorStartError(
                        f"the validator of {validator.msp_id} did not start in "
                        f"{START_TIMEOUT:.0f} s:\n{validator.log_tail()}"
                    )
                time.sleep(0.1)
    except BaseException:
        stop_validators(started)
        raise
    return started


def stop_validators(validators: list[ValidatorProcess]) -> None:
    for validator in validators:
        validator.stop()
