"""Opening the database and running transactions on it.

SQLite is driven through the standard `sqlite3` module (WAL, busy timeout,
foreign keys, `BEGIN IMMEDIATE` for writes); any other SQLAlchemy URL (e.g.
PostgreSQL, where writes take one advisory lock so that they too run one at a
time) through an SQLAlchemy connection. Both speak the same SQL with
`:name` parameters, so every operation in the service layer is written once.

Live refresh asks `Database.data_version()` whether another process committed:
SQLite's `PRAGMA data_version`; on PostgreSQL every write transaction sends a
NOTIFY on NOTIFY_CHANNEL (delivered at commit, dropped on rollback) naming the
Database that wrote, and one extra autocommit connection LISTENs and counts the
notifications of the others.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from leaddesk.settings import Files
from leaddesk.store.beside import SideReader
from leaddesk.store.errors import LeadDeskError, RuleError
from leaddesk.store.schema import SCHEMA_HEAD

BUSY_TIMEOUT_S = 10.0
# The transaction-level advisory lock every write transaction takes on PostgreSQL (the key spells "lead").
PG_WRITE_LOCK = 0x6C656164
# The channel every PostgreSQL write transaction notifies (the payload names the writing Database).
NOTIFY_CHANNEL = "leaddesk_changes"

Row = Mapping[str, Any]


class Tx(Protocol):
    """One transaction: the only way operations touch the database."""

    dialect: str
    lock_suffix: str

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]: ...
    def one(self, sql: str, params: Mapping[str, Any] | None = None) -> Any | None: ...
    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any: ...
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int: ...
    def insert(self, sql: str, params: Mapping[str, Any] | None = None) -> int: ...
    def many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None: ...


class SqliteTx:
    """A transaction on a sqlite3 connection."""

    dialect = "sqlite"
    lock_suffix = ""

    def __init__(self, conn: sqlite3.Connection, beside: SqliteTx | None = None) -> None:
        self.conn = conn
        self.beside = beside  # a read on the same snapshot on another connection (store/beside.py), or None

    def _run(self, sql: str, params: Mapping[str, Any] | None) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params or {})
        except UnicodeEncodeError as exc:
            raise unstorable(exc) from None

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """All rows of a query."""
        return self._run(sql, params).fetchall()

    def one(self, sql: str, params: Mapping[str, Any] | None = None) -> Any | None:
        """The first row of a query, or None."""
        return self._run(sql, params).fetchone()

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self._run(sql, params).fetchone()
        return None if row is None else row[0]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement; the number of rows it touched."""
        return self._run(sql, params).rowcount

    def insert(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run an INSERT; the new row's id."""
        return int(self._run(sql + " RETURNING id", params).fetchone()[0])

    def many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each row of parameters (executemany)."""
        try:
            self.conn.executemany(sql, rows)
        except UnicodeEncodeError as exc:
            raise unstorable(exc) from None


def unstorable(exc: UnicodeEncodeError) -> RuleError:
    """The refusal for text the database cannot encode: a lone surrogate, which is what bytes that are not UTF-8
    become in a command-line argument or a file name (`surrogateescape`), or what a JSON `\\udXXX` escape gives."""
    from leaddesk.textsafe import safe_line

    bad = exc.object[exc.start:exc.end] if isinstance(exc.object, str) else ""
    return RuleError(f"text with {safe_line(bad) or 'a character'} cannot be stored or searched: it is not"
                     " valid Unicode (bytes that are not UTF-8?)")


def nul_unstorable() -> RuleError:
    """The refusal for a NUL character sent to PostgreSQL, whose text cannot hold one (SQLite's can: there the
    store refuses NULs in what it stores, and a search for one simply finds nothing)."""
    return RuleError("the text contains a NUL character: the database cannot store or search it")


def _holds_nul(rows: Iterable[Mapping[str, Any]]) -> bool:
    return any(isinstance(value, str) and "\x00" in value for row in rows for value in row.values())


class MixedRow(dict[str, Any]):
    """A row readable by column name and by position, like sqlite3.Row."""

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


class AlchemyTx:
    """A transaction on an SQLAlchemy connection (PostgreSQL and other servers)."""

    lock_suffix = " FOR UPDATE"

    def __init__(self, conn: Any) -> None:
        from sqlalchemy import text
        from sqlalchemy.exc import DataError

        self.conn = conn
        self.dialect = conn.dialect.name
        self._text = text
        self._data_error = DataError

    def _run(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        try:
            return self.conn.execute(self._text(sql), dict(params or {}))
        except UnicodeEncodeError as exc:
            raise unstorable(exc) from None
        except self._data_error:
            if _holds_nul([params or {}]):  # PostgreSQL's text cannot hold one: not even to search for it
                raise nul_unstorable() from None
            raise

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """All rows of a query."""
        return [MixedRow(r._mapping) for r in self._run(sql, params)]

    def one(self, sql: str, params: Mapping[str, Any] | None = None) -> Any | None:
        """The first row of a query, or None."""
        row = self._run(sql, params).first()
        return None if row is None else MixedRow(row._mapping)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        return self._run(sql, params).scalar()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement; the number of rows it touched."""
        return int(self._run(sql, params).rowcount)

    def insert(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run an INSERT; the new row's id."""
        return int(self._run(sql + " RETURNING id", params).scalar_one())

    def many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each row of parameters (executemany; pipelined by psycopg)."""
        if rows:
            try:
                self.conn.execute(self._text(sql), [dict(r) for r in rows])
            except UnicodeEncodeError as exc:
                raise unstorable(exc) from None
            except self._data_error:
                if _holds_nul(rows):
                    raise nul_unstorable() from None
                raise


def is_url(target: str) -> bool:
    """True for an SQLAlchemy URL, False for a file path."""
    return "://" in target


def sqlite_path_of(target: str) -> Path | None:
    """The file path for a SQLite target (a path or a sqlite:/// URL); None for other databases."""
    if not is_url(target):
        return Path(target).expanduser()
    if target.startswith("sqlite:///"):
        return Path(target[len("sqlite:///"):]).expanduser()
    return None


def shown_target(target: str) -> str:
    """A database for messages and output: a server URL without its password."""
    if not is_url(target) or "@" not in target:
        return target
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(target).render_as_string(hide_password=True)
    except ArgumentError:
        return target.split("://", 1)[0] + "://***@" + target.rsplit("@", 1)[1]


def resolve_target(explicit: str | None, configured: str | None = None) -> str:
    """The database to open: --db, else LEADDESK_DB, else the settings file, else the default path."""
    if explicit:
        return explicit
    env = os.environ.get("LEADDESK_DB")
    if env:
        return env
    if configured:
        return configured
    from leaddesk.paths import default_db_path

    return str(default_db_path())


def _connect_sqlite(path: Path, files: Files) -> sqlite3.Connection:
    from leaddesk.store import filemodes

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created private (0600), or 0660 for the [files] group: the WAL and shared-memory files get this mode.
        filemodes.create(path, files)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys=ON")
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "wal":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for suffix in ("-wal", "-shm"):
        filemodes.share(path.with_name(path.name + suffix), files)
    return conn


def sqlite_revision(conn: sqlite3.Connection) -> str | None:
    """The Alembic revision of a SQLite database, or None for an empty one."""
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


class Database:
    """An open leaddesk database; hand out transactions with `read()` and `write()`."""

    def __init__(self, target: str, *, sqlite_conn: sqlite3.Connection | None = None,
                 engine: Any = None) -> None:
        self.target = target
        self.path = sqlite_path_of(target)
        self._conn = sqlite_conn
        self._engine = engine
        self._side: SideReader | None = None  # the connections of `read(beside=True)`, opened on first use
        self._lock = threading.RLock()
        # PostgreSQL live refresh (see data_version): who we are in our notifications, the listening
        # connection (opened on the first look), how many changes of others it has seen.
        self._me = f"{os.getpid()}:{id(self)}"
        self._listener: Any = None
        self._listen_lock = threading.Lock()
        self._changes = 0
        self._missed = False

    @property
    def dialect(self) -> str:
        """'sqlite' or the SQLAlchemy dialect name."""
        return "sqlite" if self._conn is not None else str(self._engine.dialect.name)

    @classmethod
    def open(cls, target: str, *, migrate: bool = True, create: bool = True, files: Files | None = None) -> Database:
        """Open (creating it unless `create` is off) and bring the schema up to date, backing up first.

        A new SQLite file, its -wal/-shm and the backup are created with the access of `files` (default private)."""
        files = files or Files()
        path = sqlite_path_of(target)
        if path is not None:
            if not create and not path.exists():
                raise LeadDeskError(f"there is no desk at {path} yet: add a lead, or run `leaddesk init`"
                                    " (or `leaddesk demo`), or point --db at another file")
            if path.is_dir():
                raise LeadDeskError(f"database path {path} is a folder, not a file")
            try:
                conn = _connect_sqlite(path, files)
            except (sqlite3.Error, OSError) as exc:
                raise LeadDeskError(f"cannot open database {path}: {exc}") from None
            try:
                revision = sqlite_revision(conn)
            except sqlite3.DatabaseError as exc:
                conn.close()
                raise LeadDeskError(f"{path} is not a leaddesk database: {exc}") from None
            if revision != SCHEMA_HEAD:
                if not migrate:
                    conn.close()
                    raise LeadDeskError(f"database {path} needs an upgrade: run `leaddesk db upgrade`")
                from leaddesk.store.migrate import upgrade_sqlite

                conn.close()
                upgrade_sqlite(path, revision, files)
                conn = _connect_sqlite(path, files)
            return cls(target, sqlite_conn=conn)
        from leaddesk.store.migrate import open_engine

        return cls(target, engine=open_engine(target, migrate=migrate))

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction (BEGIN IMMEDIATE on SQLite): all of it commits, or none."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute("BEGIN IMMEDIATE")  # waits up to BUSY_TIMEOUT_S for another writer
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    raise LeadDeskError(f"the desk {self.path} is busy: another process has been writing to it"
                                        f" for {BUSY_TIMEOUT_S:g} s (a large import?); nothing was changed,"
                                        " try again in a moment") from None
                try:
                    yield SqliteTx(self._conn)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            else:
                with self._engine.begin() as conn:
                    tx = AlchemyTx(conn)
                    if tx.dialect == "postgresql":
                        # Writers take turns, as BEGIN IMMEDIATE makes them on SQLite: every check-then-write
                        # (the next lead number, the duplicate refusal, unique logins, round-robin) then holds
                        # on both. Reads never wait for it; the lock ends with the transaction.
                        # In the same round trip, tell the other desks (delivered only if this commits).
                        tx.execute("SELECT pg_advisory_xact_lock(:k), pg_notify(:channel, :me)",
                                   {"k": PG_WRITE_LOCK, "channel": NOTIFY_CHANNEL, "me": self._me})
                    yield tx

    @contextmanager
    def read(self, *, beside: bool = False) -> Iterator[Tx]:
        """A read transaction: one consistent snapshot. With `beside`, on SQLite, the transaction's `beside` is a
        second one on the same snapshot when it can be had at once (store/beside.py: for `in_parallel`)."""
        with self._lock:
            if self._conn is not None:
                side = None
                if beside and self.path is not None:
                    if self._side is None:
                        self._side = SideReader(self.path)
                    side = self._side.begin_pair(self._conn)
                else:
                    self._conn.execute("BEGIN")
                try:
                    yield SqliteTx(self._conn, None if side is None else SqliteTx(side))
                finally:
                    self._conn.execute("ROLLBACK")
                    if side is not None:
                        side.execute("ROLLBACK")
            else:  # PostgreSQL's default (read committed) gives each statement its own snapshot
                with self._engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
                    yield AlchemyTx(conn)

    def data_version(self) -> int:
        """A number that changes when another connection commits (for live refresh), never blocking for long:
        SQLite's data_version; on PostgreSQL a count of the write notifications of other Database objects
        (other processes, or other desks in this one), drained from a LISTENing connection that the first
        call opens. Our own writes do not change it, as on SQLite. 0 on other servers."""
        if self._conn is not None:
            with self._lock:
                return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        if self._engine is None or self.dialect != "postgresql":
            return 0
        with self._listen_lock:
            return self._pg_changes()

    def _pg_changes(self) -> int:
        try:
            import psycopg
        except ImportError:  # another driver (psycopg2): no live refresh
            return 0
        if self._listener is None:
            try:
                cargs, cparams = self._engine.dialect.create_connect_args(self._engine.url)
                cparams.pop("context", None)  # SQLAlchemy's type adapters: not needed to listen
                cparams.setdefault("connect_timeout", 5)
                self._listener = psycopg.connect(*cargs, **{**cparams, "autocommit": True})
                self._listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            except (psycopg.Error, OSError):
                self._close_listener()
                self._missed = True  # the server is away: look again next time
                return self._changes
            if self._missed:  # changes made while we could not listen are unknown: assume some
                self._missed = False
                self._changes += 1
        try:
            for _ in range(1000):  # each look takes what the socket holds, without waiting: until it is empty
                notes = [note.payload for note in self._listener.notifies(timeout=0)]
                self._changes += sum(payload != self._me for payload in notes)
                if not notes:
                    break
        except (psycopg.Error, OSError):  # the connection broke (a server restart): listen anew next time
            self._close_listener()
            self._missed = True
        return self._changes

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(Exception):  # already broken: nothing to release
                listener.close()

    def close(self) -> None:
        """Close the connection (and the listening one, if live refresh opened it, and the side reader's)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._side is not None:
            self._side.close()
            self._side = None
        with self._listen_lock:
            self._close_listener()
        if self._engine is not None:
            self._engine.dispose()
