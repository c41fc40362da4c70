"""The several-writers stress test (issues 5 and 9): N processes x M mixed updates on one database.

Each worker process is a rep with their own `Desk`; a seeded random generator picks status changes
(hand-pickable statuses only), notes, field edits (read, then write with the version read; a Conflict
re-reads and retries), follow-up dates, and a few new leads and board reads, half of the time on a
few "hot" leads so the reps collide.
Every text a worker writes is unique (its login and sequence number), so each successful operation
can be found again in the history; the score is counted up from the value read (read, modify, write).

Afterwards: no error other than a handled Conflict surfaced (no "database is locked"); every note is
on its lead's timeline exactly once; every successful write has exactly one history row naming its
user, and every history row is such a write; per lead, the versions the writes returned are exactly
2..final version (no update lost, none applied twice); per lead and field, the history rows follow
the writes in version order, each row's old value is the previous row's new value, and the last one
is the lead's value now; `PRAGMA integrity_check` is ok.

The full size (8 x 500) is marked slow: `python -m pytest -m slow tests/test_stress.py`. With
LEADDESK_TEST_PG_URL set the same test also runs on PostgreSQL, in a database made for the run.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import random
import sqlite3
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.errors import Conflict, LeadDeskError
from leaddesk.store.queries import LeadFilter

LEADS = 40
HOT = 4  # half of the operations go to leads 1..HOT
MAX_RETRIES = 200
# The text fields edits set (named as show() and the history name them), each to a value no one else writes.
TEXT_FIELDS = ("company", "city", "job_title", "zone", "description")
FIRST_FOLLOWUP = date(2031, 1, 1)
PG_URL = os.environ.get("LEADDESK_TEST_PG_URL")


# -- the worker (runs in a spawned process) ------------------------------------------------------------
def _pick_lead(rng: random.Random) -> int:
    return rng.randint(1, HOT) if rng.random() < 0.5 else rng.randint(1, LEADS)


def _retrying(desk: Desk, number: int, write: Any) -> tuple[Any, int]:
    """Read the lead, write with what was read (its version); on a Conflict re-read and retry.
    (what `write` returned, conflicts)."""
    conflicts = 0
    while True:
        lead = desk.show(str(number))
        try:
            return write(lead), conflicts
        except Conflict:
            conflicts += 1
            if conflicts > MAX_RETRIES:
                raise


def _one_op(desk: Desk, rng: random.Random, widx: int, seq: int, ops: int,
            statuses: list[str]) -> dict[str, Any]:
    """Do one random operation; the record of what was written (field and value as history shows them)."""
    login = desk.login
    number = _pick_lead(rng)
    kind = rng.choices(("status", "note", "edit", "followup", "read", "add"), weights=(30, 25, 25, 15, 3, 2))[0]
    rec: dict[str, Any] = {"seq": seq, "login": login, "lead": number, "op": kind, "conflicts": 0}
    ref = str(number)
    if kind == "status":
        name = rng.choice(statuses)
        if rng.random() < 0.5:  # as the TUI does: with the version on screen
            (lead, action), rec["conflicts"] = _retrying(
                desk, number, lambda read: desk.set_status(ref, name, expected_version=read["version"]))
        else:  # as a script does: `leaddesk status 12 contacted`
            lead, action = desk.set_status(ref, name)
        assert lead["status"] == name, (lead["status"], name)
        rec.update(action=action, field="status", value=name, version=lead["version"],
                   writes=action != "unchanged")
    elif kind == "note":
        body = f"note by {login} #{seq} on lead {number}"
        lead = desk.add_activity(ref, "note", body)
        rec.update(action="note", field="activity", value=f"note: {body}", body=body, version=lead["version"],
                   writes=True, versioned=False)
    elif kind == "edit":  # a text field set to a new value, or the score counted up from the value read
        field = rng.choice((*TEXT_FIELDS, "score"))

        def edit(read: dict[str, Any]) -> tuple[dict[str, Any], str]:
            value = str(read["score"] + 1) if field == "score" else f"{field} {login}-{seq}"
            return desk.edit_lead(ref, {field: value}, expected_version=read["version"]), value

        (lead, value), rec["conflicts"] = _retrying(desk, number, edit)
        assert str(lead[field]) == value
        rec.update(action="edit", field=field, value=value, version=lead["version"], writes=True)
    elif kind == "followup":
        when = (FIRST_FOLLOWUP + timedelta(days=widx * ops + seq)).isoformat()
        if rng.random() < 0.5:
            lead, rec["conflicts"] = _retrying(
                desk, number, lambda read: desk.set_followup(ref, when, expected_version=read["version"]))
        else:
            lead = desk.set_followup(ref, when)
        assert lead["followup_on"] == when
        rec.update(action="followup", field="followup", value=when, version=lead["version"], writes=True)
    elif kind == "add":  # a new lead (as web intake and email capture make them while reps work)
        name = f"New {login}-{seq}"
        lead = desk.add_lead({"name": name, "city": "Oslo"})
        assert (lead["contact_name"], lead["owner"], lead["version"]) == (name, login, 1)
        rec.update(lead=lead["number"], name=name, writes=False)
    else:  # a consistent snapshot: every lead is in exactly one column, all of them open
        columns = desk.board(LeadFilter())
        assert sum(c["count"] for c in columns if c["category"] == "open") >= LEADS, columns
        assert sum(c["count"] for c in columns if c["category"] != "open") == 0, columns
        rec.update(writes=False)
    return rec


def _worker(target: str, widx: int, ops: int, seed: int, statuses: list[str], barrier: Any, out: Any) -> None:
    """One rep: `ops` random operations; puts {"widx", "ops": [records], "errors": [...]} on `out`."""
    result: dict[str, Any] = {"widx": widx, "ops": [], "errors": []}
    try:
        desk = Desk.open(target, login=f"rep{widx}", settings=Settings())
        rng = random.Random(seed * 1000 + widx)
        barrier.wait(timeout=120)
        try:
            for seq in range(ops):
                result["ops"].append(_one_op(desk, rng, widx, seq, ops, statuses))
        finally:
            desk.close()
    except BaseException as exc:  # every other error surfaces in the test, with where it happened
        result["errors"].append(f"rep{widx} after {len(result['ops'])} ops: {type(exc).__name__}: {exc}\n"
                                + "".join(traceback.format_exc(limit=8)))
    out.put(result)


# -- databases -----------------------------------------------------------------------------------------
def _pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database on LEADDESK_TEST_PG_URL's server for one run; dropped afterwards."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    assert PG_URL is not None
    server = make_url(PG_URL)
    name = f"leaddesk_stress_{uuid.uuid4().hex[:12]}"

    def admin() -> psycopg.Connection[Any]:
        return psycopg.connect(host=server.host, port=server.port, user=server.username,
                               password=server.password, dbname=server.database or "postgres", autocommit=True)

    with admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        # A test server need not flush each commit to disk (the locking, not the disk, is under test).
        conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.skipif(
    not PG_URL, reason="LEADDESK_TEST_PG_URL is not set"))])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where the desk lives: a SQLite file, or a PostgreSQL URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "stress.db")
    else:
        yield from _pg_database()


def _seed(target: str, workers: int) -> tuple[Desk, list[str]]:
    """An admin's desk with LEADS leads and reps rep0..; the hand-pickable statuses."""
    desk = Desk.open(target, login="boss", settings=Settings())
    desk.init("sales")
    for i in range(workers):
        desk.add_user(f"rep{i}")
    for n in range(1, LEADS + 1):
        desk.add_lead({"name": f"Contact {n}", "company": f"Company {n}", "city": "Rome", "score": "0"})
    pickable = [s["name"] for s in desk.status_choices("1")]
    assert len(pickable) >= 3, pickable
    return desk, pickable


def _run_workers(target: str, workers: int, ops: int, statuses: list[str], timeout: float) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    out = context.Queue()
    procs = [context.Process(target=_worker, args=(target, i, ops, 20260505, statuses, barrier, out))
             for i in range(workers)]
    for p in procs:
        p.start()
    try:
        results = [out.get(timeout=timeout) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0] * workers
    return sorted(results, key=lambda r: r["widx"])


# -- the test --------------------------------------------------------------------------------------------
SIZES = [
    pytest.param(4, 40, id="4x40"),
    pytest.param(8, 500, id="8x500", marks=[pytest.mark.slow, pytest.mark.timeout(1800)]),
]


@pytest.mark.parametrize(("workers", "ops"), SIZES)
def test_many_reps_at_once_lose_nothing(target: str, workers: int, ops: int) -> None:
    desk, statuses = _seed(target, workers)
    try:
        results = _run_workers(target, workers, ops, statuses, timeout=1500 if ops > 100 else 110)
        errors = [e for r in results for e in r["errors"]]
        assert errors == [], "\n".join(errors)
        records = [rec for r in results for rec in r["ops"]]
        assert len(records) == workers * ops
        _check(desk, records)
        stats = Counter(rec["op"] for rec in records)
        print(f"\n{'pg' if '://' in target else 'sqlite'} {workers}x{ops}: {dict(stats)},"
              f" conflicts retried {sum(rec['conflicts'] for rec in records)},"
              f" unchanged statuses {sum(1 for rec in records if rec.get('action') == 'unchanged')}")
    finally:
        desk.close()
    if "://" not in target:
        conn = sqlite3.connect(target)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            conn.close()


def _check(desk: Desk, records: list[dict[str, Any]]) -> None:
    # Leads added meanwhile: each got its own new number, the one it is shown under, made by its rep.
    added = [rec for rec in records if rec["op"] == "add"]
    assert sorted(rec["lead"] for rec in added) == list(range(LEADS + 1, LEADS + len(added) + 1))
    assert desk.count_leads(LeadFilter()) == LEADS + len(added)
    for rec in added:
        assert desk.show(str(rec["lead"]))["contact_name"] == rec["name"]
        assert {h["user"] for h in desk.history(str(rec["lead"]))} == {rec["login"]}

    writes = [rec for rec in records if rec["writes"]]
    by_lead: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for rec in writes:
        by_lead[rec["lead"]].append(rec)
    all_rows = 0
    for number in range(1, LEADS + 1):
        lead = desk.show(str(number))
        history = desk.history(str(number))
        assert all(h["user"] for h in history), "a history row names no user"
        rows = [h for h in history if h["action"] != "create"]
        assert {h["user"] for h in history if h["action"] == "create"} == {"boss"}
        all_rows += len(rows)
        mine = by_lead[number]

        # Every note on the timeline exactly once, by its writer; no other activity.
        notes = [rec for rec in mine if rec["op"] == "note"]
        timeline = Counter((a["body"], a["user"]) for a in lead["activities"])
        assert timeline == Counter((rec["body"], rec["login"]) for rec in notes), f"lead {number}: notes"

        # Every write has exactly one history row naming its user, and every row is a write.
        assert Counter((h["user"], h["action"], h["field"], h["new"]) for h in rows) == Counter(
            (rec["login"], rec["action"], rec["field"], rec["value"]) for rec in mine), f"lead {number}: history"

        # No update lost or applied twice: the versions the writes returned are exactly 2..version now.
        versioned = sorted(rec["version"] for rec in mine if rec.get("versioned", True))
        assert versioned == list(range(2, lead["version"] + 1)), f"lead {number}: versions"
        # Each count-up read the score and wrote it + 1 with the version read: none of them lost.
        assert lead["score"] == sum(1 for rec in mine if rec["field"] == "score"), f"lead {number}: score"

        # Per field: history follows the writes in version order, chains old -> new, and ends at the value now.
        fields = {h["field"] for h in history} - {"activity"}
        for field in fields:
            chain = [h for h in history if h["field"] == field]
            starts = (None,) if chain[0]["action"] == "create" else (None, "")  # created, or the column default
            assert chain[0]["old"] in starts, f"lead {number} {field}: {chain[0]}"
            for before, after in itertools.pairwise(chain):
                assert after["old"] == before["new"], f"lead {number} {field}: {before} then {after}"
            done = sorted((rec for rec in mine if rec["field"] == field), key=lambda rec: rec["version"])
            assert [(h["user"], h["new"]) for h in chain if h["action"] != "create"] == [
                (rec["login"], rec["value"]) for rec in done], f"lead {number} {field}: order"
            now = lead["followup_on"] if field == "followup" else lead[field]
            assert (None if now is None else str(now)) == chain[-1]["new"], f"lead {number} {field}: value now"
    # Nothing else was written: one history row per successful write.
    assert all_rows == len(writes)


def test_a_write_kept_waiting_too_long_is_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write held up past the busy timeout (another process's long import) says so; no "database is locked"."""
    from leaddesk.store import db

    path = str(tmp_path / "busy.db")
    importer = Desk.open(path, login="ann", settings=Settings())
    importer.init("sales")
    importer.add_lead({"name": "Ann Lee"})
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)
    rep = Desk.open(path, login="ann", settings=Settings())
    try:
        with importer.db.write(), pytest.raises(LeadDeskError) as err:
            rep.set_status("1", "Contacted")
        assert str(err.value) == (f"the desk {path} is busy: another process has been writing to it for 0.2 s"
                                  " (a large import?); nothing was changed, try again in a moment")
        assert rep.show("1")["status"] == "New"
        assert rep.set_status("1", "Contacted")[0]["status"] == "Contacted"  # free again: it goes through
    finally:
        rep.close()
        importer.close()
