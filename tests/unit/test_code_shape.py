"""The shape of the code: functions short enough to read at once, and saying what they raise.

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


def _public_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Module-level functions and methods whose names do not start with an underscore (nested
    helpers are part of their function)."""
    found = []
    for node in tree.body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        found += [
            member
            for member in members
            if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef)
            and not member.name.startswith("_")
        ]
    return found


def _raised_errors(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            names.add(ast.unparse(raised).rsplit(".", 1)[-1])
    return names


def test_every_public_function_says_what_it_raises() -> None:
    """A caller learns from the docstring which errors to expect: each error class a public
    function raises itself is named there, and any other raise (a re-raise of a caught error,
    an error built by a helper) is mentioned as such. The command line is exempt: its functions'
    docstrings are the commands' help, and `cli/failures.py` turns errors into messages."""
    silent = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "_generated" in path.parts or path.parent.name == "cli":
            continue
        for function in _public_functions(ast.parse(path.read_text(), str(path))):
            raised = _raised_errors(function)
            doc = ast.get_docstring(function) or ""
            errors = {name for name in raised if name.endswith(("Error", "Exception"))}
            unnamed = sorted(name for name in errors if name not in doc)
            if unnamed or (raised and not errors and "raise" not in doc.lower()):
                where = path.relative_to(PACKAGE)
                silent.append(
                    f"{where}:{function.lineno} {function.name} {unnamed or sorted(raised)}"
                )
    assert silent == []
