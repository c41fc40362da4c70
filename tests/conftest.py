"""Shared fixtures: every test runs with its own data and config folders and a known user.

Backends: a test that uses the `backend` fixture (directly or through `fresh_db`, or the store tests' `db_file`)
runs once per backend, ids `sqlite` and `pg`; `pg` only when LEADDESK_TEST_PG_URL is set (see pgsupport.py).
`@pytest.mark.sqlite_only` keeps a test that is about SQLite files (WAL, file copies) on `sqlite`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pgsupport import BACKENDS, PG_URL, PgServer, ReusedDesk

from leaddesk import clock


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: about SQLite files (WAL, copies): runs on the sqlite backend only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that needs `backend` on each backend (only `sqlite` for sqlite_only tests)."""
    if "backend" not in metafunc.fixturenames:
        return
    if any(m.args and "backend" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize")):
        return  # the test chose its own backends
    chosen = ("sqlite",) if metafunc.definition.get_closest_marker("sqlite_only") else BACKENDS
    metafunc.parametrize("backend", chosen, ids=chosen, indirect=True, scope="function")


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database this test runs on: "sqlite" or "pg"."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The test server (only requested by `pg` tests, which exist only when LEADDESK_TEST_PG_URL is set)."""
    assert PG_URL, "a pg test ran without LEADDESK_TEST_PG_URL"
    server = PgServer(PG_URL)
    yield server
    server.close()


@pytest.fixture(scope="session")
def pg_reused(pg_server: PgServer) -> Iterator[ReusedDesk]:
    """The session's migrated database, emptied for each test that asks for it."""
    reused = ReusedDesk(pg_server)
    yield reused
    reused.close()


@pytest.fixture
def fresh_db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A new, empty desk for this test: a SQLite path that does not exist yet, or the URL of an emptied,
    migrated PostgreSQL database."""
    if backend == "pg":
        reused: ReusedDesk = request.getfixturevalue("pg_reused")
        return reused.reset()
    return str(tmp_path / "fresh.db")


@pytest.fixture
def pg_database(request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """Make empty (unmigrated) PostgreSQL databases: `pg_database()` -> URL; dropped after the test."""
    made: list[str] = []

    def _make() -> str:
        server: PgServer = request.getfixturevalue("pg_server")
        made.append(server.create())
        return server.url_of(made[-1])

    yield _make
    if made:
        server: PgServer = request.getfixturevalue("pg_server")
        for name in made:
            server.drop(name)


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
