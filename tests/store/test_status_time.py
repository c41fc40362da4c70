"""Issue 8: the velocity report's time in each status and the moments each status was entered, kept on write in
`lead_status_time` (migration 0006) by triggers on history, on both databases.

- Whatever writes the history (rows inserted, deleted, or updated in their lead, status, time or kind, in any
  order), the table holds what the lead status rows add up to, worked out here in Python (status_times.py).
- On desks made through the service layer (status picks, won, lost, reopen, undo, qualify and the deal won, merges
  and their undo, an import, a delete, a copy), the report's measures are, lead for lead, the ones the query it
  replaced computed from the history (`history_time_in_status`: that query, kept here as the reference; the
  milestones' query with the history in place of the table: the query itself is checked on hand-built desks in
  test_reports.py), unfiltered and filtered.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.store import reports_velocity
from leaddesk.store.db import Tx
from leaddesk.store.desk import Desk
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.queries import LeadFilter
from leaddesk.store.reports import ReportFilters, Scope, resolve

from .conftest import NOW
from .status_times import STATUS_ROWS, STORED, assert_same, expected_status_times, stored_status_times

STAMPS = ("2026-03-01T09:00:00", "2026-03-01T09:00:00.250000", "2026-03-02T17:30:05", "2026-03-02T17:30:05+00:00",
          "2026-04-10T00:00:00", "2025-12-31T23:59:59.999999")
STATUSES = (None, "1", "2", "3", "7")


def rows(tx: Tx, sql: str) -> list[tuple[Any, ...]]:
    """A query's rows as tuples, on either database (their rows are mappings)."""
    return [tuple(dict(r).values()) for r in tx.all(sql)]


def check_table(desk: Desk) -> None:
    """The table holds what the history's lead status rows add up to."""
    with desk.db.read() as tx:
        expected = expected_status_times(rows(tx, STATUS_ROWS))
        found = stored_status_times(rows(tx, STORED))
    assert_same(found, expected)


def random_history_change(tx: Tx, rng: random.Random) -> str:
    """Insert, delete or update one history row at random (lead status rows mostly, some of other kinds, and
    updates that turn one kind into the other); returns what it did."""
    ids = [int(r["id"]) for r in tx.all("SELECT id FROM history ORDER BY id")]
    choice = rng.random()
    if choice < 0.5 or not ids:
        entity, field = ("lead", "status_id") if rng.random() < 0.85 else rng.choice(
            [("lead", "company"), ("deal", "status_id")])
        tx.execute("INSERT INTO history (change_id, entity, entity_id, action, field, old, new, at, origin, undone)"
                   " VALUES ('c', :e, :l, 'status', :f, :o, :n, :at, 'cli', :u)",
                   {"e": entity, "l": rng.randint(1, 4), "f": field, "o": rng.choice(STATUSES),
                    "n": rng.choice(STATUSES), "at": rng.choice(STAMPS), "u": False})
        return "insert"
    target = rng.choice(ids)
    if choice < 0.7:
        tx.execute("DELETE FROM history WHERE id = :i", {"i": target})
        return "delete"
    column, value = rng.choice([("entity_id", rng.randint(1, 4)), ("old", rng.choice(STATUSES)),
                                ("new", rng.choice(STATUSES)), ("at", rng.choice(STAMPS)),
                                ("field", rng.choice(["status_id", "company"])),
                                ("entity", rng.choice(["lead", "deal"]))])
    tx.execute(f"UPDATE history SET {column} = :v WHERE id = :i", {"v": value, "i": target})
    return f"update {column}"


@pytest.mark.parametrize("seed", range(4))
def test_the_table_follows_every_write_to_the_history(desk: Desk, seed: int) -> None:
    rng = random.Random(seed)
    done: list[str] = []
    for _ in range(12):
        with desk.db.write() as tx:
            for _ in range(rng.randint(1, 8)):
                done.append(random_history_change(tx, rng))
        check_table(desk)
    with desk.db.write() as tx:  # a merge moves every history row of a lead to another in one statement
        tx.execute("UPDATE history SET entity_id = 1 WHERE entity = 'lead' AND entity_id = 2")
    check_table(desk)
    with desk.db.write() as tx:
        tx.execute("DELETE FROM history WHERE entity_id = 3")
    check_table(desk)
    assert {"insert", "delete", "update entity_id", "update new", "update at", "update field"} <= set(done)


def test_a_write_that_fails_leaves_the_table_as_it_was(desk: Desk) -> None:
    lead = desk.add_lead({"name": "Ada", "company": "Ada Co"}, force=True)
    desk.set_status(str(lead["number"]), "Contacted")
    with desk.db.read() as tx:
        before = stored_status_times(rows(tx, STORED))
    with pytest.raises(RuntimeError), desk.db.write() as tx:
        tx.execute("INSERT INTO history (change_id, entity, entity_id, action, field, old, new, at, origin, undone)"
                   " VALUES ('c', 'lead', :l, 'status', 'status_id', '3', '4', '2026-11-26T12:00:00', 'cli', :u)",
                   {"l": lead["id"], "u": False})
        raise RuntimeError("the writer fails after the row")
    with desk.db.read() as tx:
        assert stored_status_times(rows(tx, STORED)) == before
    check_table(desk)


# -- the report, against the query it replaced --------------------------------------------------------------------
# What `lead_status_time` stands for in the milestones' query, read from the history: per (lead, status) the first
# and last time the lead entered it (a status it only left has a row too: it was in it)
FROM_HISTORY = (
    "(SELECT h.entity_id AS lead_id, h.new AS status, min(h.at) AS first_in, max(h.at) AS last_in FROM history h"
    " WHERE h.entity = 'lead' AND h.field = 'status_id' AND h.new IS NOT NULL GROUP BY h.entity_id, h.new"
    " UNION ALL SELECT h.entity_id, h.old, NULL, NULL FROM history h"
    " WHERE h.entity = 'lead' AND h.field = 'status_id' AND h.old IS NOT NULL)")


def history_milestones(tx: Tx, scope: Scope) -> tuple[list[float], list[float], int, int]:
    """The report's milestones with the entering times read from the history, as before migration 0006."""
    kept = reports_velocity.STATUS_TIME
    reports_velocity.STATUS_TIME = FROM_HISTORY
    try:
        return reports_velocity._milestones(tx, scope)
    finally:
        reports_velocity.STATUS_TIME = kept


def history_time_in_status(tx: Tx, scope: Scope) -> tuple[dict[str, list[float]], list[float]]:
    """The time in each status as the query before migration 0006 computed it, from the history's rows."""
    ids = scope.status_ids("open", "qualified")
    wanted = scope.in_list("vs", ids)
    scope.params["v_now"] = scope.now
    moment = scope.epoch
    rows_of = (f"FROM {scope.status_moves} JOIN lead l ON l.id = h.entity_id"
               " WHERE h.entity = 'lead' AND h.field = 'status_id'")
    sums, picks = [], []
    for i in range(len(ids)):
        sums.append(f"sum(CASE WHEN status = :vs{i} THEN v END) AS v{i},"
                    f" sum(CASE WHEN status = :vs{i} THEN b END) AS b{i}")
        picks.append(f"{scope.joined(f'CASE WHEN b{i} = 0 THEN v{i} WHEN b{i} = 1 THEN v{i} - c END')} AS s{i}")
    row = tx.one(
        f"WITH moves AS (SELECT l.id AS lead_id, CAST(l.status_id AS TEXT) AS status, {moment(':v_now')} AS v,"
        f" 1 AS b, {moment('l.created_at')} AS c, {moment('l.first_contact_at')} AS fc"
        f" FROM lead l WHERE {scope.where}"
        f" UNION ALL SELECT h.entity_id, h.new, -{moment('h.at')}, -1, NULL, NULL {rows_of} AND h.new IN {wanted}"
        f" AND {scope.where}"
        f" UNION ALL SELECT h.entity_id, h.old, {moment('h.at')}, 1, NULL, NULL {rows_of} AND h.old IN {wanted}"
        f" AND {scope.where}),"
        f" per AS (SELECT {''.join(s + ', ' for s in sums)}max(c) AS c, max(fc) AS fc FROM moves GROUP BY lead_id)"
        f" SELECT {''.join(p + ', ' for p in picks)}{scope.joined('fc - c')} AS fc FROM per WHERE c IS NOT NULL",
        scope.params)
    assert row is not None
    seconds_list = reports_velocity._seconds_list
    return {status: seconds_list(row[f"s{i}"]) for i, status in enumerate(ids)}, seconds_list(row["fc"])


def close(found: Any, expected: Any) -> bool:
    """Equal, the seconds within one (each side rounds its own float sums to whole seconds)."""
    if isinstance(expected, dict):
        return found.keys() == expected.keys() and all(close(found[k], v) for k, v in expected.items())
    if isinstance(expected, (list, tuple)):
        return len(found) == len(expected) and all(close(f, e) for f, e in zip(found, expected, strict=True))
    if isinstance(expected, (int, float)):
        return abs(found - expected) <= 1
    return bool(found == expected)


def time_in_status_and_first_contacts(tx: Tx, scope: Scope) -> tuple[dict[str, list[int]], list[int]]:
    """What `history_time_in_status` gives, from the report's own functions."""
    return reports_velocity._time_in_status(tx, scope), reports_velocity._first_contacts(tx, scope)


def assert_report_as_before(desk: Desk, filters: ReportFilters) -> None:
    """Each measure, lead for lead (the sorted seconds), as the history query gives it."""
    with desk.db.read() as tx:
        measures = []
        for compute in ((reports_velocity._milestones, time_in_status_and_first_contacts),
                        (history_milestones, history_time_in_status)):
            scope = resolve(tx, filters)
            measures.append((compute[0](tx, scope), compute[1](tx, scope)))
    (milestones, in_status), (old_milestones, old_in_status) = measures
    assert close(milestones, old_milestones), (milestones, old_milestones)
    assert close(in_status, old_in_status), (in_status, old_in_status)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    clock.freeze(moment)
    try:
        yield
    finally:
        clock.freeze(NOW)


def busy_desk(desk: Desk, tmp_path: Path, rng: random.Random, steps: int) -> list[str]:
    """Leads made, imported, moved through every kind of change at random moments; returns what was done."""
    moment = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    numbers: list[str] = []
    with at(moment):
        for i in range(8):
            numbers.append(str(desk.add_lead({"name": f"Lead {i}", "company": f"Co {i}",
                                              "email": f"lead{i}@example.com"}, force=True)["number"]))
    path = tmp_path / "old.csv"
    path.write_text("name,status,customer,job_value,created\n"
                    "Ivy Imported,New,,,2026-09-02T00:00:00\n"
                    "Quin Qualified,Qualified,Acme Corp,,2026-09-03T08:00:00\n"
                    "Walt Won,Converted,,500,2026-09-04T00:00:00\n"
                    "Cora Contacted,Contacted,,,2026-09-05T00:00:00\n", encoding="utf-8")
    with at(moment):
        desk.import_leads(str(path))
    numbers += [str(r["number"]) for r in desk.list_leads(LeadFilter(limit=None)) if str(r["number"]) not in numbers]
    actions: dict[str, Callable[[str], Any]] = {
        "pick": lambda n: desk.set_status(n, rng.choice(["New", "Attempted to contact", "Contacted", "Engaged"])),
        "won": lambda n: desk.mark_won(n, str(rng.randint(1, 900))),
        "lost": lambda n: desk.mark_lost(n, "Budget"),
        "reopen": lambda n: desk.reopen(n),
        "undo": lambda n: desk.undo(n),
        "qualify": lambda n: desk.qualify(n, new_customer=True, value="100"),
        "deal won": lambda n: desk.deal_action(int(desk.show(n)["deals"][0]["id"]), "won"),
        "merge": lambda n: desk.merge(n, [rng.choice([m for m in numbers if m != n])]),
        "undo merge": lambda n: desk.undo_merge(),
        "copy": lambda n: numbers.append(str(desk.copy_lead(n)["number"])),
        "delete": lambda n: desk.delete_lead(n, force=True),
    }
    done = []
    weights = [6, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1]
    for _ in range(steps):
        moment += timedelta(minutes=rng.randint(1, 3000), seconds=rng.random())
        name = rng.choices(list(actions), weights)[0]
        with at(moment):
            try:
                actions[name](rng.choice(numbers))
            except (LeadDeskError, IndexError):
                continue  # refused (a closed lead picked, nothing to undo, no deal, a lead gone): fine
        done.append(name)
    return done


@pytest.mark.parametrize("seed", range(3))
def test_the_report_gives_what_the_history_gives(desk: Desk, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    done = busy_desk(desk, tmp_path, rng, steps=70)
    assert {"pick", "won", "lost", "reopen", "undo", "qualify", "merge"} <= set(done), done
    check_table(desk)
    with at(datetime(2027, 1, 15, 12, 0, tzinfo=UTC)):
        for filters in (ReportFilters(), ReportFilters(since="2026-09-03", until="2026-10-01"),
                        ReportFilters(owner="ann")):
            assert_report_as_before(desk, filters)
        with desk.db.read() as tx:
            in_status = reports_velocity._time_in_status(tx, resolve(tx, ReportFilters()))
    assert sum(map(len, in_status.values())) >= 8  # the desk has time in statuses to compare
