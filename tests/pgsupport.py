"""PostgreSQL for the tests, when `LEADDESK_TEST_PG_URL` names a server (see .ci/postgres.sh).

The URL's role must be allowed to create databases. A session makes its own databases, named after its process
id so that two sessions on one server do not meet, and drops them at the end:

- `ldt<pid>`: migrated to the schema head once, then emptied before each test that uses it (every table's rows
  deleted children first, every sequence restarted, the previous test's connections ended, in one round trip).
  That gives each test a brand-new desk in about 3 ms; `CREATE DATABASE ... TEMPLATE` and `DROP DATABASE` per
  test cost 30 ms (170 ms with synchronous commits): 15 s to 2 minutes more for the ~700 store tests.
- `ldt<pid>_<n>`: empty, unmigrated databases on demand (`PgServer.create`), e.g. the target of `db copy`.

Every database is made with `synchronous_commit = off` (a test server does not need its commits on disk) and
the C collation (text sorts bytewise, as on SQLite, whatever the server's locale).
"""

from __future__ import annotations

import itertools
import os
from typing import Any

PG_URL = os.environ.get("LEADDESK_TEST_PG_URL", "").strip() or None
BACKENDS: tuple[str, ...] = ("sqlite", "pg") if PG_URL else ("sqlite",)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class PgServer:
    """An autocommit connection to the test server that makes and drops this session's databases."""

    def __init__(self, url: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        self.url = make_url(url)
        self.prefix = f"ldt{os.getpid()}"
        self._numbers = itertools.count(1)
        self.admin = psycopg.connect(self._conninfo(self.url.database or "postgres"), autocommit=True)
        self.admin.execute("SET synchronous_commit = off")
        self._made: list[str] = []
        self._drop_leftovers()

    def _drop_leftovers(self) -> None:
        """Drop the databases of earlier sessions on this machine that ended without cleaning up (killed)."""
        if self.url.host not in (None, "", "localhost", "127.0.0.1", "::1"):
            return  # a shared server: its `ldt<pid>` databases may belong to a session on another machine
        for (name,) in self.admin.execute("SELECT datname FROM pg_database WHERE datname ~ '^ldt[0-9]+(_[0-9]+)?$'"):
            pid = int(name[3:].split("_")[0])
            if pid != os.getpid() and not _alive(pid):
                self.drop(name)

    def _conninfo(self, database: str) -> str:
        from psycopg.conninfo import make_conninfo

        parts = {"host": self.url.host, "port": self.url.port, "user": self.url.username,
                 "password": self.url.password, "dbname": database}
        return make_conninfo(**{k: str(v) for k, v in parts.items() if v is not None})

    def url_of(self, database: str) -> str:
        """The SQLAlchemy URL (password included) of a database on this server."""
        return self.url.set(database=database).render_as_string(hide_password=False)

    def connect(self, database: str) -> Any:
        """An autocommit psycopg connection to one of this session's databases."""
        import psycopg

        return psycopg.connect(self._conninfo(database), autocommit=True)

    def create(self, name: str | None = None) -> str:
        """Make an empty database (dropping a leftover of that name); return its name."""
        name = name or f"{self.prefix}_{next(self._numbers)}"
        self.drop(name)
        # Text sorts bytewise, as on SQLite, whatever the server's locale: the tests expect one order.
        self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\' LC_COLLATE \'C\'')
        self.admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        self._made.append(name)
        return name

    def drop(self, name: str) -> None:
        """Drop a database, ending any connection to it.

        `WITH (FORCE)` refused once in CI (5eb6f88: InsufficientPrivilege, "must be a member of the role whose process
        is being terminated") at a test's teardown: a process of another role, or of none, was on the database. Ours
        are all one role; the likely one is an autovacuum worker after the test filled the database (PostgreSQL 15
        checks its role as a user's). Then our own connections are ended (waiting for each) and a plain DROP runs,
        which cancels autovacuum itself.
        """
        import psycopg

        try:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.errors.InsufficientPrivilege:
            self.admin.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid() AND usename = current_user", [name])
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}"')

    def close(self) -> None:
        """Drop every database this session made and disconnect."""
        for name in self._made:
            self.drop(name)
        self.admin.close()


class ReusedDesk:
    """A database migrated once and emptied before each test (see the module's docstring)."""

    def __init__(self, server: PgServer) -> None:
        from sqlalchemy import MetaData, create_engine

        from leaddesk.settings import Settings
        from leaddesk.store.desk import Desk

        self.server = server
        self.name = server.create(server.prefix)
        self.url = server.url_of(self.name)
        Desk.open(self.url, login="template", settings=Settings()).close()
        engine = create_engine(self.url)
        try:
            meta = MetaData()
            meta.reflect(engine)
        finally:
            engine.dispose()
        self.tables = [t.name for t in reversed(meta.sorted_tables) if t.name != "alembic_version"]
        self.conn = server.connect(self.name)
        self.sequences = [r[0] for r in self.conn.execute(
            "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'")]
        self._reset_sql: str | None = None
        filled = [t for t in self.tables if self.conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()]
        assert not filled, f"the migrations left rows in {filled}: resetting by deleting would lose them"

    def reset(self) -> str:
        """End the previous test's connections, empty every table and restart every sequence (one round trip,
        one transaction); return the database's URL."""
        if self._reset_sql is None:
            self._reset_sql = "; ".join([
                # Without waiting for them to exit (that costs ~50 ms): a DELETE waits for a lock they still hold.
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND usename = current_user",
                *(f'DELETE FROM "{table}"' for table in self.tables),
                # setval, not ALTER SEQUENCE ... RESTART (a new file per sequence: 20 times slower)
                *(f"SELECT setval('{sequence}', 1, false)" for sequence in self.sequences)])
        self.conn.execute(self._reset_sql)  # no parameters: sent as one simple query, run as one transaction
        return self.url

    def close(self) -> None:
        """Disconnect (the server drops the database)."""
        self.conn.close()
