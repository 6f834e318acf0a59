"""`python -m fedledger.embedded serve|verify --run-dir DIR`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fedledger.embedded")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in [
        ("serve", "run the embedded ledger (started by EmbeddedLedger.up)"),
        ("verify", "re-compute the hash chain and the state from the blocks"),
    ]:
        command = commands.add_parser(name, help=text)
        command.add_argument("--run-dir", type=Path, required=True)
    arguments = parser.parse_args(argv)
    if arguments.command == "serve":
        from fedledger.embedded.server import main as serve

        return serve(arguments.run_dir)
    from fedledger.embedded.verify import verify_ledger

    report = verify_ledger(arguments.run_dir)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
