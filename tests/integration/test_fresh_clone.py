"""A newcomer's first hour: a fresh clone, the README's main command exactly as written (default
options, the default relative run folder, no fedledger environment variables), then the
commands the demo and the README suggest afterwards.

Every other test passes absolute temporary paths; only this one sees what a user sees. The
clone reuses the machine's package caches (uv, npm), so it costs the demo plus an install.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
REPOSITORY = Path(__file__).resolve().parents[2]


def newcomer_env() -> dict[str, str]:
    """The environment of someone who has just cloned the repository."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FEDLEDGER_", "PYTEST_", "VIRTUAL_ENV", "COV_"))
    }


def run(clone: Path, command: str, timeout: float = 900) -> str:
    done = subprocess.run(
        command,
        shell=True,
        cwd=clone,
        env=newcomer_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`{command}` exited {done.returncode}:\n{output[-4000:]}"
    return output


def test_the_readme_main_command_and_what_it_suggests_work_from_a_fresh_clone(
    tmp_path: Path,
) -> None:
    if not (REPOSITORY / ".git").exists():
        pytest.skip(f"{REPOSITORY} is not a git repository: nothing to clone")
    clone = tmp_path / "fedledger"
    subprocess.run(["git", "clone", "--quiet", str(REPOSITORY), str(clone)], check=True)
    try:
        demo = run(clone, "make setup demo")
        assert len(re.findall(r"proposes .*: ACCEPTED in", demo)) == 2, demo[-3000:]
        assert len(re.findall(r"proposes .*: REJECTED in", demo)) == 1, demo[-3000:]
        champion = re.search(r"champion of credit-risk-1: (p-[0-9a-f]+); fetched, verified", demo)
        assert champion is not None, demo[-3000:]
        assert (clone / ".fedledger" / "connection-profile.yaml").exists()

        shown = run(clone, f"uv run fedledger proposal show {champion.group(1)} --history")
        assert "status ACCEPTED" in shown
        digest = re.search(r"model sha256 ([0-9a-f]{64})", shown)
        assert digest is not None, shown
        assert len(re.findall(r"│ Org\dMSP +│ approve", shown)) == 3, shown

        fetched = run(
            clone, "uv run fedledger models fetch --task credit-risk-1 --out champion.onnx"
        )
        assert "verified against the ledger" in fetched
        model = (clone / "champion.onnx").read_bytes()
        assert hashlib.sha256(model).hexdigest() == digest.group(1)

        down = run(clone, "uv run fedledger network down")
        assert re.search(r"stopped \d+ processes", down), down
    finally:
        subprocess.run(
            "uv run fedledger network down --purge",
            shell=True,
            cwd=clone,
            env=newcomer_env(),
            capture_output=True,
            timeout=120,
            check=False,
        )
