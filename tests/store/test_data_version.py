"""`Database.data_version()`, what live refresh polls: it changes when another connection commits and not for
our own writes, on SQLite (PRAGMA data_version) and on PostgreSQL (LISTEN/NOTIFY, a listening connection of its
own opened on the first look)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from leaddesk.settings import Settings
from leaddesk.store.desk import Desk


@pytest.fixture
def two(db_file: str) -> Iterator[tuple[Desk, Desk]]:
    """Two desks on one database, as two processes would have them."""
    first = Desk.open(db_file, login="ann", settings=Settings())
    first.init("sales")
    second = Desk.open(db_file, login="ann", settings=Settings())
    yield first, second
    first.close()
    second.close()


def changes(desk: Desk, since: int, within: float = 2.0) -> int:
    """The desk's data_version once it differs from `since` (a notification may take a moment to arrive)."""
    deadline = time.monotonic() + within
    while (version := desk.db.data_version()) == since:
        assert time.monotonic() < deadline, "data_version did not change"
        time.sleep(0.01)
    return version


def test_another_desk_commit_changes_it_and_our_own_do_not(two: tuple[Desk, Desk]) -> None:
    watcher, writer = two
    seen, own = watcher.db.data_version(), writer.db.data_version()
    lead = writer.add_lead({"name": "Written Elsewhere"})
    seen = changes(watcher, seen)
    writer.add_activity(str(lead["number"]), "note", "and a note")
    seen = changes(watcher, seen)

    watcher.add_activity(str(lead["number"]), "note", "the watcher writes too")
    changes(writer, own)  # the writer hears the watcher, and (in commit order) its own writes before it...
    time.sleep(0.05)
    assert watcher.db.data_version() == seen  # ...while the watcher never counts its own write


def test_a_rolled_back_write_changes_nothing(two: tuple[Desk, Desk]) -> None:
    watcher, writer = two
    seen = watcher.db.data_version()
    lead = writer.add_lead({"name": "Kept"})
    seen = changes(watcher, seen)
    with pytest.raises(RuntimeError), writer.db.write() as tx:
        tx.execute("UPDATE lead SET city = 'Nowhere' WHERE id = :id", {"id": lead["id"]})
        raise RuntimeError("changed my mind")
    writer.add_activity(str(lead["number"]), "note", "committed")  # a commit after it, to wait for
    after = changes(watcher, seen)
    if writer.db.dialect == "postgresql":
        assert after == seen + 1  # one notification: the committed note's, not the rollback's


@pytest.mark.parametrize("backend", ["pg"], indirect=True)
def test_on_postgresql_a_lost_listener_reconnects_and_reports_a_change(two: tuple[Desk, Desk],
                                                                       pg_server: object) -> None:
    watcher, writer = two
    seen = watcher.db.data_version()
    listener = watcher.db._listener
    assert listener is not None and not listener.closed
    with writer.db.write() as tx:  # the server ends the listening connection (as a restart would)
        tx.scalar("SELECT pg_terminate_backend(:pid)", {"pid": listener.info.backend_pid})
    writer.add_lead({"name": "While it was away"})
    version = changes(watcher, seen)  # listening anew: what was committed meanwhile is unknown, so it counts
    assert watcher.db._listener is not None and watcher.db._listener is not listener
    writer.add_lead({"name": "After it came back"})
    changes(watcher, version)


@pytest.mark.parametrize("backend", ["pg"], indirect=True)
def test_on_postgresql_close_ends_the_listening_connection(db_file: str, pg_server: object) -> None:
    desk = Desk.open(db_file, login="ann", settings=Settings())
    desk.init("sales")
    desk.db.data_version()
    listener = desk.db._listener
    assert listener is not None
    pid = listener.info.backend_pid
    desk.close()
    assert listener.closed
    probe = Desk.open(db_file, login="ann", settings=Settings())
    try:
        deadline = time.monotonic() + 2
        while True:  # one transaction per look: pg_stat_activity is a snapshot within one
            with probe.db.read() as tx:
                if not tx.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid", {"pid": pid}):
                    break
            assert time.monotonic() < deadline, "the listening connection is still there"
            time.sleep(0.02)
    finally:
        probe.close()


@pytest.mark.parametrize("backend", ["pg"], indirect=True)
def test_on_postgresql_a_server_away_at_the_first_look_counts_a_change_once_it_listens(
        two: tuple[Desk, Desk], pg_server: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    watcher, writer = two
    real = psycopg.connect

    def away(*args: object, **kwargs: object) -> None:
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(psycopg, "connect", away)
    seen = watcher.db.data_version()
    assert watcher.db.data_version() == seen and watcher.db._listener is None  # no error, no change yet
    writer.add_lead({"name": "Unheard"})
    monkeypatch.setattr(psycopg, "connect", real)
    assert watcher.db.data_version() == seen + 1  # listening now: what it may have missed counts as a change
    assert watcher.db.data_version() == seen + 1
