"""The side reader (store/beside.py): a second read transaction on the same SQLite snapshot, for a report that
runs two queries at once; taken only when the write lock is free at once, never waiting for it."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from leaddesk.store.beside import FIRST_READ, in_parallel
from leaddesk.store.db import Database, Tx
from leaddesk.store.desk import Desk
from leaddesk.store.reports import ReportFilters

pytestmark = pytest.mark.sqlite_only


def leads(tx: Tx) -> int:
    return int(tx.scalar("SELECT count(*) FROM lead"))


def add_leads(desk: Desk, count: int) -> None:
    for n in range(count):
        desk.add_lead({"name": f"Lead {n}", "company": f"Co {n}", "email": f"l{n}@example.com"}, force=True)


def other_connection(db: Database, timeout: float = 0) -> sqlite3.Connection:
    assert db.path is not None
    return sqlite3.connect(db.path, timeout=timeout, isolation_level=None)


def insert_a_lead(conn: sqlite3.Connection, number: int) -> None:
    """Another process adds a lead (a copy of lead 1 under a new number), committing at once unless in a
    transaction."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(lead)") if row[1] not in ("id", "number")]
    listed = ", ".join(columns)
    conn.execute(f"INSERT INTO lead (number, {listed}) SELECT :n, {listed} FROM lead WHERE number = 1",
                 {"n": number})


def test_both_reads_see_one_snapshot_while_another_connection_commits(desk: Desk) -> None:
    add_leads(desk, 3)
    writer = other_connection(desk.db, timeout=5)
    with desk.db.read(beside=True) as tx:
        beside = getattr(tx, "beside", None)
        assert beside is not None and beside.conn is not tx.conn  # type: ignore[attr-defined]
        insert_a_lead(writer, 900)  # commits (autocommit) after both snapshots were taken
        assert (leads(tx), leads(beside)) == (3, 3)
    with desk.db.read() as tx:
        assert leads(tx) == 4
    writer.close()


def test_no_commit_lands_between_the_two_snapshots(desk: Desk) -> None:
    """The moment between the desk connection's first read and the side reader's is the one a commit could slip
    into: a writer tries right then (from the reader's trace of its first read), and is refused."""
    add_leads(desk, 2)
    with desk.db.read(beside=True):
        pass  # opens the side reader's connections
    assert desk.db._side is not None and desk.db._side._reader is not None
    writer = other_connection(desk.db)
    attempts: list[str] = []

    def write_now(sql: str) -> None:
        if sql == FIRST_READ and not attempts:
            try:
                insert_a_lead(writer, 901)
                attempts.append("committed")
            except sqlite3.OperationalError as exc:
                attempts.append(str(exc))

    desk.db._side._reader.set_trace_callback(write_now)
    try:
        with desk.db.read(beside=True) as tx:
            beside = getattr(tx, "beside", None)
            assert beside is not None
            assert leads(tx) == leads(beside) == 2
    finally:
        desk.db._side._reader.set_trace_callback(None)
    assert attempts == ["database is locked"]
    insert_a_lead(writer, 901)  # and the lock was let go
    writer.close()


def test_while_another_process_writes_the_report_reads_alone_and_waits_for_nobody(desk: Desk) -> None:
    add_leads(desk, 2)
    writer = other_connection(desk.db)
    writer.execute("BEGIN IMMEDIATE")
    insert_a_lead(writer, 902)
    try:
        with desk.db.read(beside=True) as tx:
            assert getattr(tx, "beside", None) is None
            assert leads(tx) == 2
        threads: list[str] = []
        with desk.db.read(beside=True) as tx:
            here, there = in_parallel(tx, lambda t: (threads.append(threading.current_thread().name), leads(t))[1],
                                      lambda t: (threads.append(threading.current_thread().name), leads(t))[1])
        assert (here, there) == (2, 2)
        assert threads == [threading.current_thread().name] * 2  # one after the other, here
    finally:
        writer.execute("COMMIT")
        writer.close()


def test_in_parallel_runs_the_second_query_in_another_thread_on_the_side_reader(desk: Desk) -> None:
    add_leads(desk, 2)
    seen: dict[str, tuple[str, object]] = {}

    def note(name: str, tx: Tx) -> int:
        seen[name] = (threading.current_thread().name, getattr(tx, "conn", None))
        return leads(tx)

    with desk.db.read(beside=True) as tx:
        assert in_parallel(tx, lambda t: note("here", t), lambda t: note("there", t)) == (2, 2)
        assert seen["here"] == (threading.current_thread().name, tx.conn)  # type: ignore[attr-defined]
        assert seen["there"][0] == "leaddesk-beside" and seen["there"][1] is tx.beside.conn  # type: ignore[attr-defined]


def test_an_error_on_either_side_is_raised_once_both_have_ended(desk: Desk) -> None:
    ended: list[str] = []

    def slow_then_fine(tx: Tx) -> int:
        tx.scalar("SELECT count(*) FROM lead")
        ended.append("there")
        return 1

    def fails(tx: Tx) -> int:
        raise ValueError("here failed")

    with desk.db.read(beside=True) as tx, pytest.raises(ValueError, match="here failed"):
        in_parallel(tx, fails, slow_then_fine)
    assert ended == ["there"]

    def also_fails(tx: Tx) -> int:
        raise KeyError("there failed")

    with desk.db.read(beside=True) as tx, pytest.raises(KeyError, match="there failed"):
        in_parallel(tx, lambda t: leads(t), also_fails)
    with desk.db.read() as tx:  # both connections are out of their transactions
        assert leads(tx) == 0
    assert desk.db._side is not None and desk.db._side._reader is not None
    assert not desk.db._side._reader.in_transaction


def test_the_velocity_report_is_the_same_read_alone_or_with_the_side_reader(desk: Desk) -> None:
    add_leads(desk, 6)
    for number, status in (("1", "Contacted"), ("2", "Contacted"), ("3", "Engaged"), ("4", "Attempted to contact")):
        desk.set_status(number, status)
    desk.set_status("1", "Engaged")
    together = desk.report("velocity", ReportFilters())
    writer = other_connection(desk.db)
    writer.execute("BEGIN IMMEDIATE")  # the side reader cannot be had: the report reads alone
    try:
        alone = desk.report("velocity", ReportFilters())
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert together.rows == alone.rows
    assert sum(row["leads"] for row in together.rows) >= 10


def test_closing_the_desk_closes_the_side_reader(desk: Desk) -> None:
    desk.report("velocity", ReportFilters())
    side = desk.db._side
    assert side is not None and side._reader is not None
    reader = side._reader
    desk.db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        reader.execute("SELECT 1")


def test_only_the_reports_that_run_two_queries_open_the_side_reader(desk: Desk) -> None:
    add_leads(desk, 2)
    for name in ("volume", "sources", "funnel", "owners", "lost", "pipeline"):
        desk.report(name, ReportFilters())
    assert desk.db._side is None  # no lock taken, no connection opened for them
    desk.report("vel", ReportFilters())  # a prefix names it too
    assert desk.db._side is not None and desk.db._side._reader is not None
