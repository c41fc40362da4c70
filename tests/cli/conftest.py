"""Fixtures for testing the `leaddesk` command line through its real entry point.

`cli(...)` calls `leaddesk.cli.main([...])` in-process with `--db <tmp_path>/t.db`
and returns a `Result(code, out, err)` (see clisupport.py); `run_process(...)` starts
a real `python -m leaddesk` process. Every test gets a copy of a desk initialised
once per session (sales or services preset), so migrations run only twice.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clisupport import ANN, NOW, Cli


def _template(directory: Path, preset: str) -> Path:
    from leaddesk.settings import Settings
    from leaddesk.store.desk import Desk

    path = directory / f"{preset}.db"
    desk = Desk.open(str(path), login="ann", settings=Settings())
    try:
        desk.init(preset)
    finally:
        desk.close()
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Desks initialised once per session, copied by each test."""
    directory = tmp_path_factory.mktemp("templates")
    return {preset: _template(directory, preset) for preset in ("sales", "services")}


@pytest.fixture(scope="module", autouse=True)
def built_once() -> Iterator[None]:
    """Build the Click command tree of the Typer app once per test module instead of once per call.

    `run_app` calls `typer.main.get_command(app)` on every invocation (~30 ms, harmless in a
    real one-shot process, but it would dominate hundreds of in-process calls). The tree is a
    pure function of the app object, so it is memoised per app; the subprocess tests still run
    the unpatched path.
    """
    import typer.main

    original = typer.main.get_command
    cache: dict[int, Any] = {}

    def get_command(typer_instance: Any) -> Any:
        key = id(typer_instance)
        if key not in cache:
            cache[key] = (typer_instance, original(typer_instance))
        return cache[key][1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.main, "get_command", get_command)
        yield


@pytest.fixture(autouse=True)
def frozen_now(isolated_environment: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fixed 'now' for in-process calls and subprocesses alike; plain (uncoloured) output."""
    monkeypatch.setenv("LEADDESK_NOW", NOW)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database lives."""
    return tmp_path / "t.db"


@pytest.fixture
def fresh(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """A runner on a database that does not exist yet."""
    return Cli(db_path, capsys)


@pytest.fixture
def cli(templates: dict[str, Path], db_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """A runner on a desk set up with the sales preset (ann is its admin)."""
    shutil.copyfile(templates["sales"], db_path)
    return Cli(db_path, capsys)


@pytest.fixture
def services(templates: dict[str, Path], db_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """A runner on a desk set up with the services preset."""
    shutil.copyfile(templates["services"], db_path)
    return Cli(db_path, capsys)


@pytest.fixture
def ann(cli: Cli) -> int:
    """The number of a lead 'Ann Lee (Acme)' on the sales desk."""
    return cli.add(**ANN)
