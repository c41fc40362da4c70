"""pyte, the terminal emulator the pty tests read the desk's screen with: CI must have it (the test extras), a
developer's machine without it skips those tests."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def require_pyte() -> ModuleType:
    """The pyte module; call it at the top of a test module (without pyte it skips the module, outside CI)."""
    try:
        return importlib.import_module("pyte")
    except ImportError:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            raise  # CI installs the test extras: a missing pyte is a broken setup, not a reason to skip
        pytest.skip("the pyte package (terminal emulator for tests) is not installed", allow_module_level=True)
