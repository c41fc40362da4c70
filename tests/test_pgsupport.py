"""The tests' PostgreSQL helper: dropping a database must not fail a test run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pgsupport import PG_URL, PgServer

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs LEADDESK_TEST_PG_URL")


class _ForceRefused:
    """The admin connection, except that `DROP DATABASE ... WITH (FORCE)` is refused once, as PostgreSQL refused it
    in CI (another process on the database; most likely an autovacuum worker, see `PgServer.drop`)."""

    def __init__(self, admin: Any) -> None:
        self.admin = admin
        self.refused = 0

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        import psycopg

        if "WITH (FORCE)" in query and not self.refused:
            self.refused += 1
            raise psycopg.errors.InsufficientPrivilege(
                "must be a member of the role whose process is being terminated or member of pg_signal_backend")
        return self.admin.execute(query, *args, **kwargs)


def test_a_drop_refused_by_force_still_drops_the_database_and_ends_our_connections(pg_server: PgServer) -> None:
    name = pg_server.create()
    client = pg_server.connect(name)
    client.execute("CREATE TABLE t (x int)")
    admin = pg_server.admin
    refusing = _ForceRefused(admin)
    pg_server.admin = refusing  # type: ignore[assignment]
    try:
        pg_server.drop(name)
    finally:
        pg_server.admin = admin
    assert refusing.refused == 1
    assert admin.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone() == (0,)
    assert client.closed or client.broken or _dead(client)


def _dead(connection: Any) -> bool:
    import psycopg

    try:
        connection.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False
