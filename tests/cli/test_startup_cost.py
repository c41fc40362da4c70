"""What the Typer commands cost on every run (issue 8, `--help` within 8x `python -c pass`; bench/cli.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import leaddesk.cli

CLI = Path(leaddesk.cli.__file__).parent


def command_modules() -> list[Path]:
    """The CLI modules that define Typer commands (`@<something>.command(...)` or `.callback(...)`)."""
    found = []
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text())
        decorators = [d for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) for d in node.decorator_list]
        if any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ("command", "callback")
               for d in decorators):
            found.append(path)
    return found


def test_command_modules_keep_their_annotations_as_objects() -> None:
    """Typer evaluates string annotations (eval + compile of each) every time the app is built: ~40 ms a run."""
    modules = command_modules()
    assert len(modules) >= 10  # the scan finds the command modules
    postponed = [p.name for p in modules
                 if any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
                        and any(alias.name == "annotations" for alias in node.names)
                        for node in ast.parse(p.read_text()).body)]
    assert postponed == []
