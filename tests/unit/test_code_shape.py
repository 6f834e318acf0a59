"""Functions short enough to read at once: none in the package is over 60 lines.

Ruff checks complexity, branches and statements (pyproject.toml); length it does not, so this
test does, with the names of the functions that break it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "fedledger"
MAX_LINES = 60


def test_no_function_is_over_60_lines() -> None:
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "_generated" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    where = path.relative_to(PACKAGE)
                    too_long.append(f"{where}:{node.lineno} {node.name} ({lines} lines)")
    assert too_long == []
