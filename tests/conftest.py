"""Shared fixtures: every test runs with its own data and config folders and a known user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leaddesk import clock


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point leaddesk at tmp folders so no test touches the user's real desk or settings."""
    monkeypatch.setenv("LEADDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEADDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("LEADDESK_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("LEADDESK_USER", "ann")
    monkeypatch.delenv("LEADDESK_DB", raising=False)
    monkeypatch.delenv("LEADDESK_NOW", raising=False)
    yield
    clock.freeze(None)
