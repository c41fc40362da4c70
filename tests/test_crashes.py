"""Crash safety (issue 9): kill -9 in the middle of a qualify, a merge, an import and a migration leaves a desk
that opens, passes `PRAGMA integrity_check` and holds all of each operation or none of it.

A driver process (tests/crashdriver.py) forks one child per round; the child opens the desk with `Desk` and
does the operation over and over (qualify lead after lead, merge pair after pair, import file after file) or
once (opening an old-schema desk, which backs it up and upgrades it), writing a trace of where it is and of
every SQL statement it runs. The test kills it with SIGKILL, each round one of two ways (a seeded coin):
- after a random delay (seeded), anywhere: in SQLite's own code, between statements, in Python;
- at a random write statement (the child SIGKILLs itself just before running it), so that rounds land inside
  a write transaction for sure, at every point of it alike.

After each kill the desk is opened with sqlite3 (`integrity_check` "ok", no foreign key violation, the search
index matches the leads) and with `Desk`, and checked for half-written operations: every operation is there
whole or not at all. The trace says which operations had returned (they must be there), which one was in
flight and whether its COMMIT had begun (if not, none of it may be there). The qualify, merge and import rounds
go on with the same desk, so each round also opens what the previous kill left. Migration rounds each start
from a copy of an old-schema desk (0001): the killed file must be at a revision of the chain with exactly that
revision's schema (each migration is its own transaction, so an intermediate one is a whole state, and the
next open goes on from it) and every row of the old desk; every backup the upgrade made must be a sound desk
with the same rows that opens (and upgrades) with `Desk`.

The normal suite runs a few kills per operation; the same code runs 60 per operation under `-m slow`.
Run with `-s` to see where the kills landed (`_summary`).
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from importfiles import write_csv

from leaddesk.settings import Settings
from leaddesk.store.backups import inspect_file
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.store.schema import SCHEMA_HEAD

DRIVER = Path(__file__).with_name("crashdriver.py")
WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})
OPERATIONS = ("qualify", "merge", "import", "migrate")
FAST_KILLS = 5
SLOW_KILLS = 60


# -- the driver process ------------------------------------------------------------------------------------------
class Driver:
    """tests/crashdriver.py, running: start a job's child, kill it, read how it ended."""

    def __init__(self, folder: Path) -> None:
        env = {**os.environ, "LEADDESK_DATA_DIR": str(folder / "data"), "LEADDESK_CONFIG_DIR": str(folder / "config"),
               "LEADDESK_CONFIG": str(folder / "config" / "config.toml"), "LEADDESK_USER": "ann"}
        for name in ("LEADDESK_DB", "LEADDESK_NOW"):
            env.pop(name, None)
        self.process = subprocess.Popen([sys.executable, str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env=env, cwd=folder, bufsize=0)
        self.child: int | None = None
        self._buffer = b""
        assert self._message(120) is not None, "the crash driver did not start"

    def _message(self, timeout: float) -> dict[str, Any] | None:
        """The driver's next line, or None if none comes within `timeout` seconds."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    raise AssertionError(f"the crash driver stopped (exit {self.process.wait()})")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return dict(json.loads(line))

    def start(self, job: dict[str, Any]) -> None:
        """Fork a child for the job."""
        assert self.process.stdin is not None and self.child is None
        job = {**job, "owner": os.getpid()}  # a child left behind by a test that died ends itself
        self.process.stdin.write((json.dumps(job) + "\n").encode())
        answer = self._message(60)
        assert answer is not None, "the crash driver did not fork"
        self.child = int(answer["pid"])

    def ended(self, timeout: float) -> int | None:
        """The child's wait status once it has ended (None if it is still running after `timeout` s)."""
        answer = self._message(timeout)
        if answer is None:
            return None
        self.child = None
        return int(answer["status"])

    def kill(self) -> int:
        """SIGKILL the child (its process group: it and anything it forked); its wait status."""
        assert self.child is not None
        os.killpg(self.child, signal.SIGKILL)
        status = self.ended(60)
        assert status is not None, "a killed child was not reaped"
        return status

    def run(self, job: dict[str, Any], trace: Path) -> None:
        """Run a job that ends by itself (building a desk); fail with its traceback if it fails."""
        self.start({**job, "wait": False, "trace": str(trace)})
        status = self.ended(600)
        assert status == 0, trace.read_text() if trace.exists() else f"wait status {status}"

    def close(self) -> None:
        """Kill a child left running (a failed test), then stop the driver."""
        if self.child is not None:
            self.kill()
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driver]:
    """One driver for the module (it pays leaddesk's and Alembic's imports once; each round is a fork)."""
    running = Driver(tmp_path_factory.mktemp("crashdriver"))
    try:
        yield running
    finally:
        running.close()


# -- where a kill landed: the child's trace ---------------------------------------------------------------------
@dataclass
class Transaction:
    """One transaction of one connection, as the trace shows it."""

    statements: list[str]
    end: str | None = None  # "commit" or "rollback" once that statement began
    returned: bool = False  # the end statement returned (the trace goes on after it)

    @property
    def writes(self) -> int:
        return sum(_verb(s) in WRITES for s in self.statements)

    def is_write(self) -> bool:
        """A write transaction of the service layer (BEGIN IMMEDIATE, store/db.py)."""
        return self.statements[0].upper().startswith("BEGIN IMMEDIATE")

    def is_migration(self) -> bool:
        """A transaction that moved alembic_version (one migration)."""
        return any(_verb(s) in ("UPDATE", "INSERT") and "alembic_version" in s for s in self.statements)


def text_of(trace: Path) -> str:
    """What a trace holds so far ("" before the child opened it)."""
    return trace.read_text(encoding="utf-8") if trace.exists() else ""


def _verb(statement: str) -> str:
    return statement.split(" ", 1)[0].upper()


@dataclass
class Landing:
    """Where the child was when it died, from its trace."""

    done: list[int] = field(default_factory=list)  # the operations that returned, in order
    inflight: int | None = None  # the operation started and not returned
    transactions: list[Transaction] = field(default_factory=list)  # of the in-flight operation
    loose_writes: int = 0  # write statements of the in-flight operation outside any transaction
    finished: bool = False  # the child had done all its work
    elapsed: float | None = None  # how long that took
    errors: list[str] = field(default_factory=list)
    statements: int = 0
    last: str = ""  # the last statement traced
    found: str = ""  # what the check found of the in-flight operation ("whole", "none"; a migration: the revision)

    @classmethod
    def read(cls, trace: Path) -> Landing:
        """Parse a trace (see tests/crashdriver.py)."""
        landing = cls()
        open_by_connection: dict[str, Transaction] = {}
        ending: Transaction | None = None
        for line in text_of(trace).splitlines():
            if ending is not None:  # anything after an end statement means it returned
                ending.returned, ending = True, None
            if line.startswith("# "):
                word, _, rest = line[2:].partition(" ")
                if word == "start":
                    landing.inflight, landing.transactions, landing.loose_writes = int(rest), [], 0
                elif word == "done":
                    landing.done.append(int(rest))
                    landing.inflight = None
                elif word == "finished":
                    landing.finished, landing.elapsed = True, float(rest)
                elif word == "error":
                    landing.errors.append(rest)
                continue
            landing.statements += 1
            connection, _, sql = line.partition(" ")
            landing.last = sql
            verb, current = _verb(sql), open_by_connection.get(connection)
            if verb == "BEGIN":
                current = open_by_connection[connection] = Transaction([sql])
                landing.transactions.append(current)
            elif current is not None and (verb in ("COMMIT", "END") or (
                    verb == "ROLLBACK" and not sql.upper().startswith("ROLLBACK TO"))):
                current.statements.append(sql)
                current.end = "rollback" if verb == "ROLLBACK" else "commit"
                ending = open_by_connection.pop(connection)
            elif current is not None:
                current.statements.append(sql)
            elif verb in WRITES:
                landing.loose_writes += 1
        return landing

    @property
    def where(self) -> str:
        """A name for where the kill landed."""
        if self.finished:
            return "after the work (nothing left to do)"
        if self.inflight is None:
            return "between operations" if self.done else "before the first operation"
        if self.last == "BACKUP":
            return "in the backup before the upgrade"
        open_ = [t for t in self.transactions if t.end is None]
        if open_ and open_[-1].writes:
            return "mid-transaction, after a write"
        if open_:
            return "in a transaction, before its first write"
        if any(t.end == "commit" and not t.returned for t in self.transactions):
            return "in COMMIT"
        return "in the operation, outside a transaction"

    @property
    def mid_operation(self) -> bool:
        return self.inflight is not None and not self.finished

    def committed(self) -> bool | None:
        """Whether the in-flight operation's write transaction committed: True, False, or None (its COMMIT had
        begun and not returned: either)."""
        writes = [t for t in self.transactions if t.is_write()]
        assert len(writes) <= 1, "an operation ran more than one write transaction"
        if not writes or writes[0].end != "commit":
            return False
        return True if writes[0].returned else None

    def migrations_committed(self) -> tuple[int, int]:
        """How many migrations committed: at least, at most (the last one's COMMIT may have been under way)."""
        migrations = [t for t in self.transactions if t.is_migration() and t.end == "commit"]
        done = sum(t.returned for t in migrations)
        return done, len(migrations)


def crash(driver: Driver, job: dict[str, Any], trace: Path, rng: random.Random, span: float,
          kill_at_most: int) -> Landing:
    """Run the job's child and SIGKILL it, as a seeded coin says: after a random delay within `span` seconds
    from when it is ready, or when it is about to run its k-th write statement (k random in 1..kill_at_most).
    Returns where it landed; fails if the child's operation raised."""
    by_statement = rng.random() < 0.5
    kill_at = rng.randint(1, kill_at_most) if by_statement else None
    delay = rng.uniform(0, span)
    driver.start({**job, "trace": str(trace), "kill_at": kill_at})
    if by_statement:
        while (status := driver.ended(0.02)) is None:
            text = text_of(trace)
            if "# finished" in text or "# error" in text:  # no k-th write: it waits to be killed
                status = driver.kill()
                break
    else:
        deadline = time.monotonic() + 60
        while "# ready" not in text_of(trace):
            assert time.monotonic() < deadline, "the child never got ready"
            time.sleep(0.002)
        time.sleep(delay)
        status = driver.kill()
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"wait status {status}"
    landing = Landing.read(trace)
    assert not landing.errors, "the operation failed:\n" + "\n".join(landing.errors)
    return landing


# -- what every killed desk must pass ---------------------------------------------------------------------------
def sound(path: Path) -> sqlite3.Connection:
    """The file opened with sqlite3: integrity_check ok, no foreign key violation, the search index (if any) sound
    and holding every lead's current text (or the lead queued for it). The connection, for more checks."""
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'lead_fts'").fetchone():
        conn.execute("INSERT INTO lead_fts (lead_fts) VALUES ('integrity-check')")  # raises if damaged
        conn.rollback()
        stale = conn.execute(
            "SELECT count(*) FROM lead l WHERE l.id NOT IN (SELECT id FROM lead_fts_queue) AND NOT EXISTS"
            " (SELECT 1 FROM lead_fts f WHERE f.rowid = l.id AND f.search_text = l.search_text || ' '"
            " AND f.phone_e164 IS l.phone_e164)").fetchone()[0]
        ghosts = conn.execute("SELECT count(*) FROM lead_fts WHERE rowid NOT IN (SELECT id FROM lead)"
                              " AND rowid NOT IN (SELECT id FROM lead_fts_queue)").fetchone()[0]
        assert (stale, ghosts) == (0, 0), "the search index does not match the leads"
    return conn


def desk_opens(path: Path) -> int:
    """Open the desk with `Desk` (upgrading it if it is old) and read it: its first page of leads, and how many
    it has (returned)."""
    desk = Desk.open(str(path), login="ann", settings=Settings())
    try:
        assert desk.list_leads(LeadFilter(limit=20))
        return desk.count_leads(LeadFilter())
    finally:
        desk.close()


def one_value(conn: sqlite3.Connection, sql: str, params: Any = ()) -> Any:
    return conn.execute(sql, params).fetchone()[0]


def expect(landing: Landing, before: set[int], after: set[int], what: str) -> None:
    """The operations present after the kill are those present before, plus every one the child finished, plus
    the one in flight exactly when its transaction committed (either way while its COMMIT was under way)."""
    done = set(landing.done)
    assert done <= after, f"{what} that returned before the kill are missing: {sorted(done - after)}"
    extra = after - before - done
    committed = landing.committed() if landing.mid_operation else False
    if committed is None:
        assert extra <= {landing.inflight}, f"{what} appeared that nobody made: {sorted(extra)}"
    elif committed:
        assert extra == {landing.inflight}, f"{what} {landing.inflight} committed but is not there"
    else:
        assert not extra, f"{what} whose transaction never committed are there: {sorted(extra)}"
    assert before <= after, f"{what} disappeared: {sorted(before - after)}"
    if landing.mid_operation:
        landing.found = "whole" if landing.inflight in after else "none"


# -- the scenarios ----------------------------------------------------------------------------------------------
class Scenario:
    """One operation to kill: builds its desk, makes each round's job, checks the desk after each kill."""

    span = 0.25  # seconds: the random delays are within this after the child is ready
    kill_at_most = 200  # the statement kills are at a write statement within this many

    def __init__(self, driver: Driver, folder: Path, kills: int) -> None:
        self.driver, self.folder, self.kills = driver, folder, kills
        self.db = folder / "desk.db"

    def job(self, round_: int) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, landing: Landing, round_: int) -> None:
        raise NotImplementedError

    def sabotage(self) -> str:
        """Write half of an operation into the desk by hand (what a crash must never leave): `check` must fail."""
        raise NotImplementedError

    def write(self, *statements: str) -> None:
        conn = sqlite3.connect(self.db)
        with conn:
            for statement in statements:
                conn.execute(statement)
        conn.close()

    def build(self, **job: Any) -> None:
        """Build the scenario's desk, and keep a copy of it for `restart`."""
        self.driver.run({"op": "build", "db": str(self.db), **job}, self.folder / "build.trace")
        shutil.copyfile(self.db, self.folder / "built.db")

    def restart(self) -> None:
        """Put the desk back as `build` left it (its WAL and journal files gone), for rounds that would otherwise
        run out of work on a fast machine (a round with nothing left to do lands nowhere)."""
        for leftover in self.folder.glob("desk.db-*"):
            leftover.unlink()
        shutil.copyfile(self.folder / "built.db", self.db)


def _leads_csv(path: Path, rows: list[list[Any]]) -> str:
    return str(write_csv(path, [["Name", "Company", "Email", "Phone", "City"], *rows]))


class Qualify(Scenario):
    """Leads 1..N, all New; the child qualifies them in order (each a new customer with a contact, and a deal at
    the default pipeline's first stage; every fourth converted with no deal). Once half of them are qualified the
    desk starts again as built: a fast machine qualifies ~2,000 leads a second, and a round that finds nothing
    left to qualify lands nowhere (CI once had 25 of 60 such rounds with a fixed 3,100 leads)."""

    kill_at_most = 120

    def __init__(self, driver: Driver, folder: Path, kills: int) -> None:
        super().__init__(driver, folder, kills)
        self.leads = 2000 if kills else 1000  # twice what a fast machine qualifies before the latest kill
        rows = [[f"Person {n}", f"Company {n}", f"p{n}@example.com", "", ""] for n in range(1, self.leads + 1)]
        self.build(csv=_leads_csv(folder / "leads.csv", rows))
        with sound(self.db) as conn:
            self.history = one_value(conn, "SELECT max(id) FROM history")
            self.first_stage = one_value(conn, "SELECT s.id FROM pipeline p JOIN stage s ON s.pipeline_id = p.id"
                                               " WHERE p.is_default ORDER BY s.position, s.id LIMIT 1")
        conn.close()
        self.qualified: set[int] = set()

    def job(self, round_: int) -> dict[str, Any]:
        if len(self.qualified) >= self.leads // 2:
            self.restart()
            self.qualified = set()
        numbers = [n for n in range(1, self.leads + 1) if n not in self.qualified]
        return {"op": "qualify", "db": str(self.db), "numbers": numbers}

    def check(self, landing: Landing, round_: int) -> None:
        conn = sound(self.db)
        try:
            rows = conn.execute(
                "SELECT l.number, s.name, l.customer_id, l.version, l.first_contact_at IS NOT NULL,"
                " (SELECT count(*) FROM deal d WHERE d.lead_id = l.id),"
                " (SELECT count(*) FROM deal d WHERE d.lead_id = l.id AND d.state = 'open' AND d.stage_id = ?"
                "  AND d.title = 'deal ' || l.number AND d.value_cents = 100000 AND d.customer_id = l.customer_id),"
                " (SELECT count(*) FROM contact c WHERE c.customer_id = l.customer_id),"
                " (SELECT group_concat(h.action || ':' || h.field, ' ') FROM (SELECT * FROM history h"
                "  WHERE h.entity = 'lead' AND h.entity_id = l.id AND h.id > ? ORDER BY h.field) h),"
                " (SELECT count(DISTINCT h.change_id) FROM history h WHERE h.entity = 'lead' AND h.entity_id = l.id"
                "  AND h.id > ?)"
                " FROM lead l JOIN status s ON s.id = l.status_id ORDER BY l.number",
                (self.first_stage, self.history, self.history)).fetchall()
            assert len(rows) == self.leads
            now: set[int] = set()
            for number, status, customer, version, contacted, deals, good_deals, contacts, history, changes in rows:
                state = (status, customer is not None, version, contacted, deals, good_deals, contacts, history,
                         changes)
                if status == "New":
                    assert state == ("New", False, 1, False, 0, 0, 0, None, 0), (number, state)
                elif number % 4 == 0:
                    assert state == ("Converted", True, 2, True, 0, 0, 1, "convert:customer_id convert:status_id",
                                     1), (number, state)
                    now.add(number)
                else:
                    assert state == ("Qualified", True, 2, True, 1, 1, 1, "qualify:customer_id qualify:status_id",
                                     1), (number, state)
                    now.add(number)
            # every history row written since the desk was built belongs to one whole qualify: the lead's two
            # rows, its customer's and its deal's, under one change id
            changes = conn.execute(
                "SELECT h.change_id, group_concat(h.entity || ':' || h.action || ':' || h.field, ' ') FROM"
                " (SELECT * FROM history WHERE id > ? ORDER BY entity, field) h GROUP BY h.change_id",
                (self.history,)).fetchall()
            shapes = Counter(shape for _change, shape in changes)
            with_deal = len([n for n in now if n % 4])
            assert shapes == Counter({
                "customer:customer:name deal:create:title lead:qualify:customer_id lead:qualify:status_id": with_deal,
                "customer:customer:name lead:convert:customer_id lead:convert:status_id": len(now) - with_deal,
            }) - Counter(), shapes
            counts = [one_value(conn, f"SELECT count(*) FROM {table}") for table in ("customer", "contact", "deal")]
            assert counts == [len(now), len(now), with_deal]
            assert one_value(conn, "SELECT count(DISTINCT customer_id) FROM lead") == len(now)
        finally:
            conn.close()
        expect(landing, self.qualified, now, "qualifies")
        self.qualified = now
        assert desk_opens(self.db) == self.leads

    def sabotage(self) -> str:
        left = set(range(1, self.leads + 1)) - self.qualified
        if not left:  # a fast machine qualified every lead before the kills came: break a qualified one
            number = min(self.qualified)
            self.write(f"UPDATE lead SET customer_id = NULL WHERE number = {number}")
            return f"lead {number} qualified without its customer"
        number = min(left)
        self.write("UPDATE lead SET status_id = (SELECT id FROM status WHERE name = 'Qualified'), version = 2"
                   f" WHERE number = {number}")
        return f"lead {number} Qualified without its customer, deal and history"


class Merge(Scenario):
    """Pairs of leads with the same phone: the first has no email, the second has an email, a city, a note and
    (every fifth pair) a deal. The child merges each second lead into the first, pair after pair (starting again
    from the built desk once half the pairs are merged)."""

    kill_at_most = 120

    def __init__(self, driver: Driver, folder: Path, kills: int) -> None:
        super().__init__(driver, folder, kills)
        self.pairs = [(2 * i + 1, 2 * i + 2) for i in range(20 * kills + 50)]
        rows = []
        for i, _pair in enumerate(self.pairs):
            phone = f"+1 212 555 {i:04d}"
            rows += [[f"Pair {i}", f"Company {i}", "", phone, ""], [f"Pair {i}", "", f"pair{i}@example.com", phone,
                                                                     "Oslo"]]
        others = [other for _keep, other in self.pairs]
        self.build(csv=_leads_csv(folder / "pairs.csv", rows), notes=others, qualify=others[::5])
        with sound(self.db) as conn:
            self.history = one_value(conn, "SELECT max(id) FROM history")
            self.activities = one_value(conn, "SELECT count(*) FROM activity")
            ids = dict(conn.execute("SELECT number, id FROM lead"))
            self.ids = ids
            self.moved = {other: (
                [r[0] for r in conn.execute("SELECT id FROM activity WHERE lead_id = ?", (ids[other],))],
                [r[0] for r in conn.execute("SELECT id FROM deal WHERE lead_id = ?", (ids[other],))],
                [r[0] for r in conn.execute("SELECT id FROM history WHERE entity = 'lead' AND entity_id = ?",
                                            (ids[other],))]) for other in others}
            self.versions = dict(conn.execute("SELECT number, version FROM lead"))
        conn.close()
        self.merged: set[int] = set()

    def job(self, round_: int) -> dict[str, Any]:
        if len(self.merged) >= len(self.pairs) // 2:  # as Qualify: never out of pairs to merge
            self.restart()
            self.merged = set()
        return {"op": "merge", "db": str(self.db), "pairs": [p for p in self.pairs if p[1] not in self.merged]}

    def check(self, landing: Landing, round_: int) -> None:
        conn = sound(self.db)
        try:
            there = dict(conn.execute("SELECT number, id FROM lead"))
            now = {other for _keep, other in self.pairs if other not in there}
            for keep, other in self.pairs:
                keep_id, other_id = self.ids[keep], self.ids[other]
                activities, deals, history = self.moved[other]
                owner = keep_id if other in now else other_id
                email, city, version = conn.execute("SELECT email, city, version FROM lead WHERE id = ?",
                                                    (keep_id,)).fetchone()
                state = {
                    "activities": {r[0] for r in conn.execute(
                        f"SELECT lead_id FROM activity WHERE id IN ({','.join('?' * len(activities))})", activities)},
                    "deals": {r[0] for r in conn.execute(
                        f"SELECT lead_id FROM deal WHERE id IN ({','.join('?' * len(deals))})", deals)},
                    "history": {r[0] for r in conn.execute(
                        f"SELECT entity_id FROM history WHERE id IN ({','.join('?' * len(history))})", history)},
                    "merge rows": one_value(conn, "SELECT count(*) FROM lead_merge WHERE keep_id = ? AND"
                                                  " merged_numbers = ? AND NOT undone", (keep_id, str(other))),
                    "notes": one_value(conn, "SELECT count(*) FROM activity WHERE lead_id = ? AND kind = 'note'"
                                             " AND body LIKE ?", (keep_id, f"merged lead #{other} %")),
                    "merged_into": one_value(conn, "SELECT count(*) FROM history WHERE entity = 'lead' AND"
                                                   " entity_id = ? AND field = 'merged_into' AND new = ?",
                                             (other_id, str(keep))),
                    "email": email, "city": city, "kept lead changed": version != self.versions[keep]}
                wanted = {"activities": {owner}, "deals": {owner} if deals else set(), "history": {owner}}
                if other in now:
                    wanted.update({"merge rows": 1, "notes": 1, "merged_into": 1, "city": "Oslo",
                                   "email": f"pair{keep // 2}@example.com", "kept lead changed": True})
                else:
                    assert self.versions[other] == one_value(conn, "SELECT version FROM lead WHERE id = ?", (other_id,))
                    wanted.update({"merge rows": 0, "notes": 0, "merged_into": 0, "email": None, "city": None,
                                   "kept lead changed": False})
                assert state == wanted, (keep, other, state)
            # nothing else was written: a note per merge, and history only under the merges' change ids
            assert one_value(conn, "SELECT count(*) FROM activity") == self.activities + len(now)
            assert one_value(conn, "SELECT count(*) FROM lead_merge") == len(now)
            assert {r[0] for r in conn.execute("SELECT DISTINCT change_id FROM history WHERE id > ?", (self.history,))
                    } == {r[0] for r in conn.execute("SELECT change_id FROM lead_merge")}
        finally:
            conn.close()
        expect(landing, self.merged, now, "merges")
        self.merged = now
        assert desk_opens(self.db) == 2 * len(self.pairs) - len(now)

    def sabotage(self) -> str:
        left = [p for p in self.pairs if p[1] not in self.merged]
        if not left:  # a fast machine merged every pair before the kills came: undo part of a merge
            keep, other = self.pairs[0]
            self.write(f"UPDATE lead SET city = NULL WHERE id = {self.ids[keep]}")
            return f"lead {keep} merged with {other} but without its city"
        keep, other = left[0]
        self.write(f"UPDATE activity SET lead_id = {self.ids[keep]} WHERE lead_id = {self.ids[other]}")
        return f"lead {other}'s activities moved to lead {keep}, the rest of the merge not done"


class Import(Scenario):
    """A desk with ten leads; the child imports files of `rows` new leads one after the other (each one batch,
    one transaction) that the desk has no batch of: after a kill, the same file again. Once the desk holds
    `reset` files it starts again from a copy of the first desk (so that the checks stay quick)."""

    rows = 2000
    span = 0.8
    kill_at_most = 40
    reset = 6

    def __init__(self, driver: Driver, folder: Path, kills: int) -> None:
        super().__init__(driver, folder, kills)
        self.files: list[str] = []
        self.build(csv=_leads_csv(folder / "first.csv", [[f"Early {n}", "", "", "", ""] for n in range(10)]))
        self.imported: set[int] = set()

    def file(self, index: int) -> str:
        while len(self.files) <= index:
            k = len(self.files)
            rows = [[f"File{k} Person {n}", f"Company {n % 97}", f"f{k}p{n}@example.com", "", "Oslo"]
                    for n in range(self.rows)]
            self.files.append(_leads_csv(self.folder / f"import-{k}.csv", rows))
        return self.files[index]

    def job(self, round_: int) -> dict[str, Any]:
        if len(self.imported) >= self.reset:
            self.restart()
            self.imported = set()
        return {"op": "import", "db": str(self.db), "files": [self.file(i) for i in range(self.reset + 4)]}

    def check(self, landing: Landing, round_: int) -> None:
        conn = sound(self.db)
        try:
            batches = conn.execute(
                "SELECT b.id, b.file, b.state, b.rows_read, b.imported,"
                " (SELECT count(*) FROM lead l WHERE l.import_batch_id = b.id),"
                " (SELECT count(*) FROM history h WHERE h.entity = 'lead' AND h.action = 'create'"
                "  AND h.field = 'import_batch_id' AND h.new = CAST(b.id AS TEXT)),"
                " (SELECT count(*) FROM history h WHERE h.entity = 'import_batch' AND h.entity_id = b.id)"
                " FROM import_batch b ORDER BY b.id").fetchall()
            now = set(range(1, len(batches)))  # batch 1 is the desk's first ten leads
            assert batches[0][2:] == ("done", 10, 10, 10, 10, 1)
            for index, batch in enumerate(batches[1:]):
                assert batch[1:] == (self.file(index), "done", self.rows, self.rows, self.rows, self.rows, 1), batch
            total = 10 + len(now) * self.rows
            numbers = [r[0] for r in conn.execute("SELECT number FROM lead ORDER BY number")]
            assert numbers == list(range(1, total + 1))  # no number taken by a lead that is not there
            assert one_value(conn, "SELECT value FROM setting WHERE key = 'last_lead_number'") == str(total)
            assert one_value(conn, "SELECT count(*) FROM lead WHERE import_batch_id IS NULL") == 0
            assert one_value(conn, "SELECT count(*) FROM history WHERE entity = 'lead'") == total  # one per lead
            assert one_value(conn, "SELECT count(*) FROM history WHERE entity = 'import_batch'") == len(batches)
        finally:
            conn.close()
        # the trace numbers the files from 0, the batches count from 1 (batch 1 made the desk)
        expect(landing, self.imported, {n - 1 for n in now}, "imports")
        self.imported = {n - 1 for n in now}
        assert desk_opens(self.db) == total

    def sabotage(self) -> str:
        self.write(f"INSERT INTO import_batch (file, at, state) VALUES ('{self.file(len(self.imported))}', '',"
                   " 'running')")
        return "an import's batch row without its leads"


class Migrate(Scenario):
    """A desk of 1000 leads (3000 in the slow run) with notes, calls, customers, deals and history, downgraded to
    revision 0001; each round upgrades a fresh copy of it (Desk.open: a backup, then a transaction per migration).
    A first, whole upgrade (`calibrate`) gives the span of the delays and the number of writes to kill at."""

    base = "0001"

    def __init__(self, driver: Driver, folder: Path, kills: int) -> None:
        super().__init__(driver, folder, kills)
        self.template = folder / "old.db"
        self.db = self.template
        leads = 1000 if kills < 20 else 3000
        rows = [[f"Old Person {n}", f"Company {n % 300}", f"old{n}@example.com", "", "Oslo"]
                for n in range(1, leads + 1)]
        self.build(csv=_leads_csv(folder / "old.csv", rows), notes=list(range(1, leads + 1, 4)),
                   calls=list(range(1, leads + 1, 9)), qualify=list(range(2, leads + 1, 13)), downgrade=self.base)
        assert not Path(f"{self.template}-wal").exists()
        reference = folder / "schemas.json"
        self.driver.run({"op": "schemas", "db": str(self.template), "base": self.base, "out": str(reference)},
                        folder / "schemas.trace")
        found = json.loads(reference.read_text())
        self.chain: list[str] = found["chain"]
        self.schemas: dict[str, list[list[Any]]] = found["schemas"]
        assert self.chain[0] == self.base and self.chain[-1] == SCHEMA_HEAD
        conn = sound(self.template)
        self.tables = old_columns(conn)
        self.leads = one_value(conn, "SELECT count(*) FROM lead")
        conn.close()
        assert self.leads == leads
        self.writes = 0
        self.span = 0.0
        self.backups_opened = 0

    def job(self, round_: int) -> dict[str, Any]:
        self.fresh_copy(f"round-{round_}")
        return {"op": "migrate", "db": str(self.db)}

    def fresh_copy(self, name: str) -> None:
        """The desk to work on: a copy of the old desk in a folder of its own (where its backups go)."""
        work = self.folder / name
        work.mkdir()
        self.db = work / "desk.db"
        shutil.copyfile(self.template, self.db)

    def calibrate(self) -> None:
        """One whole upgrade, timed and counted: the kills' delays and write numbers spread over it."""
        trace = self.folder / "calibrate.trace"
        self.fresh_copy("calibrate")
        self.driver.start({"op": "migrate", "db": str(self.db), "trace": str(trace)})
        deadline = time.monotonic() + 120
        while "# finished" not in text_of(trace):
            assert time.monotonic() < deadline and "# error" not in text_of(trace), text_of(trace)
            time.sleep(0.01)
        self.driver.kill()
        landing = Landing.read(trace)
        assert landing.elapsed is not None and landing.done == [0]
        self.span = 1.2 * landing.elapsed
        self.writes = sum(t.writes for t in landing.transactions) + landing.loose_writes
        self.kill_at_most = self.writes + 2  # now and then no write is left: killed after the upgrade

    def sabotage(self) -> str:
        self.fresh_copy("sabotaged")
        self.write("CREATE INDEX ix_lead_updated ON lead (updated_at, number)")
        return "an index of 0005 in a desk that says 0001 (what an autocommitted CREATE left before the fix)"

    def revision_and_schema(self, conn: sqlite3.Connection, what: str) -> str:
        revision = one_value(conn, "SELECT version_num FROM alembic_version")
        assert revision in self.chain, f"{what} is at revision {revision}"
        schema = [list(r) for r in conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")]
        expected = self.schemas[revision]
        missing = [r[:2] for r in expected if r not in schema]
        extra = [r[:2] for r in schema if r not in expected]
        assert (missing, extra) == ([], []), (f"{what} says revision {revision} but its schema is not that"
                                              f" revision's: missing {missing}, not of that revision {extra}")
        return str(revision)

    def check(self, landing: Landing, round_: int) -> None:
        conn = sound(self.db)
        try:
            revision = self.revision_and_schema(conn, "the killed desk")
            assert rows_differ(conn, self.template, self.tables) == [], "the killed desk lost or changed rows"
        finally:
            conn.close()
        low, high = landing.migrations_committed()
        steps = self.chain.index(revision)
        assert low <= steps <= high, f"{steps} migrations are in the file; the trace says {low}..{high} committed"
        landing.found = f"at {revision}"
        backups = sorted(self.db.parent.glob("desk.db.*.bak"))
        if landing.statements and any(t.is_migration() or t.writes for t in landing.transactions):
            assert backups, "the desk was migrated without a backup"
        for backup in backups:  # each a sound desk, at a revision of the chain, with every row, that opens
            inspect_file(backup, check=True)  # what `db restore` asks of a backup
            conn = sound(backup)
            try:
                assert self.revision_and_schema(conn, f"backup {backup.name}") == self.base  # the desk as it was
                assert rows_differ(conn, self.template, self.tables) == [], f"backup {backup.name} lost rows"
            finally:
                conn.close()
        if backups and self.backups_opened <= round_ // 10:  # the first one, then one per ten rounds (each
            copy = self.db.parent / "restored.db"  # costs a whole upgrade)
            shutil.copyfile(backups[0], copy)
            assert desk_opens(copy) == self.leads
            self.backups_opened += 1
        assert desk_opens(self.db) == self.leads  # the next open finishes the upgrade
        conn = sound(self.db)
        try:
            assert self.revision_and_schema(conn, "the reopened desk") == SCHEMA_HEAD
            assert rows_differ(conn, self.template, self.tables) == []
        finally:
            conn.close()


def old_columns(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The tables of a desk (not Alembic's) and their columns."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                         " AND name NOT LIKE 'sqlite_%' AND name <> 'alembic_version' ORDER BY name")]
    return {table: [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')] for table in tables}


def rows_differ(conn: sqlite3.Connection, old: Path, tables: dict[str, list[str]]) -> list[str]:
    """The tables of the old desk at `old` whose rows (in the old columns) this database does not hold exactly:
    the migrations add columns and fill them, and must not change, add or lose a row of the old ones."""
    conn.execute("ATTACH DATABASE ? AS old", (str(old),))
    try:
        differ = []
        for table, columns in tables.items():
            names = ", ".join(f'"{c}"' for c in columns)
            mine, theirs = f'SELECT {names} FROM main."{table}"', f'SELECT {names} FROM old."{table}"'
            counts = conn.execute(f"SELECT (SELECT count(*) FROM main.\"{table}\"), (SELECT count(*) FROM"
                                  f" old.\"{table}\"), (SELECT count(*) FROM ({mine} EXCEPT {theirs}))").fetchone()
            if counts[0] != counts[1] or counts[2]:  # rows are unique (ids): as many, none other, is the same
                differ.append(table)
        return differ
    finally:
        conn.execute("DETACH DATABASE old")


SCENARIOS: dict[str, type[Scenario]] = {"qualify": Qualify, "merge": Merge, "import": Import, "migrate": Migrate}


def _summary(operation: str, landings: list[Landing]) -> str:
    """Where the kills landed, and what the checks found of the operation in flight."""
    where = Counter(landing.where for landing in landings)
    found = Counter(landing.found for landing in landings if landing.found)
    mid = sum(landing.mid_operation for landing in landings)
    return (f"{operation}: {len(landings)} kills, {mid} mid-operation; "
            + ", ".join(f"{count} {name}" for name, count in where.most_common())
            + "; in flight, found: " + ", ".join(f"{count} {name}" for name, count in sorted(found.items())))


def run_crashes(driver: Driver, folder: Path, operation: str, kills: int, seed: int) -> list[Landing]:
    """`kills` rounds of one operation, each killed and checked; where they landed."""
    rng = random.Random(seed)
    landings = []
    try:
        scenario = SCENARIOS[operation](driver, folder, kills)
        if isinstance(scenario, Migrate):
            scenario.calibrate()
        for round_ in range(kills):
            job = scenario.job(round_)
            landing = crash(driver, job, folder / f"round-{round_}.trace", rng, scenario.span,
                            scenario.kill_at_most)
            scenario.check(landing, round_)
            landings.append(landing)
        broken = scenario.sabotage()  # and the checks do see a half-written operation
        with pytest.raises(AssertionError):
            scenario.check(Landing(), kills)
            pytest.fail(f"the checks passed a desk with {broken}")
    finally:
        if driver.child is not None:  # a failed round: the next test needs the driver
            driver.kill()
    print("\n" + _summary(operation, landings))
    return landings


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_kill_9_leaves_a_sound_desk_with_all_or_nothing_of_each_operation(
        driver: Driver, tmp_path: Path, operation: str) -> None:
    landings = run_crashes(driver, tmp_path, operation, FAST_KILLS, seed=9)
    assert any(landing.where == "mid-transaction, after a write" for landing in landings), _summary(
        operation, landings)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_many_kill_9s_leave_a_sound_desk_with_all_or_nothing_of_each_operation(
        driver: Driver, tmp_path: Path, operation: str) -> None:
    landings = run_crashes(driver, tmp_path, operation, SLOW_KILLS, seed=99)
    mid = [landing for landing in landings if landing.where == "mid-transaction, after a write"]
    assert len(mid) >= SLOW_KILLS // 3, _summary(operation, landings)


@pytest.mark.parametrize("operation", ["qualify", "merge"])
def test_the_checks_see_a_broken_desk_after_every_operation_was_done(driver: Driver, tmp_path: Path,
                                                                     operation: str) -> None:
    """A fast machine may finish every operation before a kill comes (CI once qualified all the leads): the
    sabotage then breaks a finished one, and the checks still see it."""
    import crashdriver

    scenario = SCENARIOS[operation](driver, tmp_path, 0)
    job = scenario.job(0)
    getattr(crashdriver, operation)(job)  # every operation, in this process, no kill
    done = job["numbers"] if operation == "qualify" else [other for _keep, other in job["pairs"]]
    scenario.check(Landing(done=done, finished=True), 0)
    broken = scenario.sabotage()
    with pytest.raises(AssertionError):
        scenario.check(Landing(), 1)
        pytest.fail(f"the checks passed a desk with {broken}")
