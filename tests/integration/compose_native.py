"""A compose file's services run as native processes, where there is no Docker engine.

Each service's own command, environment and volumes are used as the compose file gives them:
the process runs in a mount namespace of its own (`unshare`, no privileges needed where user
namespaces are allowed) in which every volume is bind-mounted at its container path and
/etc/hosts names every service's host name as 127.0.0.1. Only what the images themselves hold
is mapped: the Fabric binaries and the peer image's chaincode-as-a-service builder come from the
Fabric installation, the chaincode image's /app from the chaincode folder. Ports are the compose
file's own (each published under its own number), on this host's network.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedledger.installation import Installation
from fedledger.network.compose import PEER_IMAGE_CCAAS_BUILDER

UNSHARE = shutil.which("unshare")


def namespaces_work() -> bool:
    """unshare can make a private mount namespace here (user namespaces allowed, or root)."""
    if UNSHARE is None:
        return False
    probe = subprocess.run(
        [UNSHARE, "--mount", "--map-root-user", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@dataclass
class NativeServices:
    compose_dir: Path
    services: dict[str, Any]
    installation: Installation
    chaincode_source: Path
    logs: Path

    def __post_init__(self) -> None:
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.hosts = self.logs / "hosts"
        self.logs.mkdir(parents=True, exist_ok=True)
        names = sorted(
            {s.get("hostname", name) for name, s in self.services.items()} | set(self.services)
        )
        self.hosts.write_text(
            "127.0.0.1 localhost\n" + "".join(f"127.0.0.1 {name}\n" for name in names)
        )

    def _mounts(self, service: dict[str, Any]) -> list[str]:
        steps = ["mount -t tmpfs tmpfs /var", "mount -t tmpfs tmpfs /opt"]
        volumes = list(service.get("volumes", []))
        if str(service.get("image", "")).startswith("hyperledger/fabric-peer"):
            volumes.append(f"{self.installation.ccaas_builder}:{PEER_IMAGE_CCAAS_BUILDER}")
        for volume in volumes:
            source_text, target, *_ = volume.split(":")
            source = (self.compose_dir / source_text).resolve()
            assert source.exists(), f"{volume}: the mounted {source} does not exist"
            make = f"mkdir -p {target}" if source.is_dir() else (
                f"mkdir -p {Path(target).parent} && touch {target}"
            )  # fmt: skip
            steps += [make, f"mount --bind {shlex.quote(str(source))} {target}"]
        steps.append(f"mount --bind {shlex.quote(str(self.hosts))} /etc/hosts")
        return steps

    def _command(self, service: dict[str, Any]) -> tuple[list[str], Path | None]:
        """The service's command with the image's programs mapped to this host's; its folder
        when the image's working directory is not a mounted one."""
        command = [part.replace("$$", "$") for part in service["command"]]
        image = str(service.get("image", ""))
        if image.startswith("hyperledger/fabric-"):
            return [str(self.installation.binary(command[0])), *command[1:]], None
        if command[0] == "fedledger":  # the validator image: this checkout's fedledger
            return [sys.executable, "-m", "fedledger", *command[1:]], self.compose_dir
        return command, self.chaincode_source

    def start(self, name: str) -> None:
        service = self.services[name]
        command, folder = self._command(service)
        steps = self._mounts(service)
        if folder is None:
            steps.append(f"cd {service['working_dir']}")
        script = " && ".join(steps) + ' && exec "$@"'
        env = {
            **os.environ,
            **{key: str(value) for key, value in service.get("environment", {}).items()},
            "PATH": f"{self.chaincode_source / 'node_modules' / '.bin'}:{os.environ['PATH']}",
        }
        assert UNSHARE is not None
        with (self.logs / f"{name}.log").open("wb") as log:
            self.running[name] = subprocess.Popen(
                [UNSHARE, "--mount", "--map-root-user", "sh", "-c", script, name, *command],
                env=env,
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def exited(self) -> dict[str, int]:
        return {n: p.returncode for n, p in self.running.items() if p.poll() is not None}

    def log_tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
