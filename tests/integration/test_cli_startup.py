"""The command line starts without the model stack: only the commands that use it import it.

Each command runs in a fresh interpreter (as a user's keypress does) and reports which heavy
libraries ended up in `sys.modules`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fedledger.backends import NetworkRecord
from fedledger.cli.app import COMMANDS, load_command
from fedledger.runtime.definition import DEFAULT_DEFINITION

HEAVY = (
    *("sklearn", "scipy", "pandas", "pyarrow", "onnx", "onnxruntime", "boto3", "skl2onnx"),
    *("fastapi", "starlette", "uvicorn", "mangum"),
)

PROBE = """
import json, sys
from fedledger.cli.app import main
sys.argv = ["fedledger", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as stop:
    code = stop.code
else:
    code = 0
print(json.dumps({
    "code": code,
    "heavy": sorted(m for m in HEAVY if m in sys.modules),
    "fedledger": sorted(m for m in sys.modules if m.startswith("fedledger")),
}))
""".replace("HEAVY", repr(HEAVY))


def imports_of(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("network", "--help"),
        ("task", "--help"),
        ("models", "--help"),
        ("models", "convert", "--help"),
        ("models", "check", "--help"),
        ("predict", "--help"),
        ("serve", "--help"),
        ("validator", "--help"),
        ("propose", "--help"),
        ("demo", "--help"),
        ("data", "--help"),
        ("data", "check", "--help"),
        ("task", "init", "--help"),
        ("identity", "enroll", "--help"),
        ("amb", "profile", "--help"),
        ("watch", "--help"),
    ],
    ids=" ".join,
)
def test_help_imports_no_model_stack(args: tuple[str, ...]) -> None:
    result = imports_of(*args)
    assert (result["code"], result["heavy"]) == (0, [])


def test_the_root_help_loads_no_command() -> None:
    result = imports_of("--help")
    assert result["fedledger"] == [
        "fedledger",
        "fedledger.cli",
        "fedledger.cli.app",
        "fedledger.cli.logs",
    ]


@pytest.mark.ledger
def test_network_status_imports_no_model_stack(ledger: Any) -> None:
    run_dir: Path = ledger.profile.path.parent
    if not (run_dir / "network.json").exists():
        overrides = {
            "port_base": ledger.definition.port_base,
            "batch_timeout": ledger.definition.batch_timeout,
        }
        NetworkRecord(ledger.backend, DEFAULT_DEFINITION, overrides).save(run_dir)
    result = imports_of("network", "status", "--run-dir", str(run_dir))
    assert (result["code"], result["heavy"]) == (0, [])


def test_the_validator_imports_no_training_stack() -> None:
    """The validator evaluates ONNX models; scikit-learn, SciPy and skl2onnx are for training."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, fedledger.validator.service; "
            "print(sorted(m for m in ('sklearn', 'scipy', 'skl2onnx') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_summary_is_the_commands_own_help(name: str) -> None:
    """`fedledger --help` lists the summaries of COMMANDS without loading the commands."""
    loaded = load_command(name)
    assert (loaded.help or "").splitlines()[0] == COMMANDS[name][2]
