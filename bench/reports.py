"""Time every report (issue 7) on a large desk: target <= 1 s each at 100k leads.

    .venv/bin/python bench/reports.py                        # 100k leads in a temp database, 3 runs
    .venv/bin/python bench/reports.py --db /tmp/reports.db   # build once and keep it; reused next time
    .venv/bin/python bench/reports.py --leads 20000 --runs 5 --json
    .venv/bin/python bench/reports.py --db /tmp/reports.db --with-index   # add the proposed index first

The database comes from `make_leads.py`, then gets what the reports read, in bulk with raw `sqlite3`: six owners
(and some leads with none), three partners with spend, the status history a real desk would have (a 'create' row
per field set, as `add_lead` writes, and every status change), first contacts, deals and lost reasons. The fates
cycle by lead id: 20% new and untouched, 10% one move, 10% two moves, 20% qualified with an open deal (half with
a probability), 10% won through qualified (deal won), 20% lost, 10% won then reopened. Each report runs unfiltered
and filtered (the last 30 days and one owner), `--runs` times; the figure is the median, in-process through
`Desk.report`.

The "qualified" count of sources, funnel and owners reads the status rows of `history` (velocity did too, until
migration 0006 kept its sums in `lead_status_time`, which the triggers fill as this script writes the history);
without an index on them SQLite walks every history row of every lead (`ix_history_entity`). `STATUS_INDEX` below
is the index proposed for migration 0005 (`--with-index` adds it; migrated desks have it).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_leads import build_db

OWNERS = ("rep1", "rep2", "rep3", "rep4", "rep5")
STATUS_INDEX = ("CREATE INDEX IF NOT EXISTS ix_history_lead_status ON history (field, entity_id, old, new, at)"
                " WHERE entity = 'lead' AND field = 'status_id'")
"""The index the reports want (proposed for migration 0005); `--with-index` adds it to the bench database."""
FIELDS = ("title", "first_name", "last_name", "contact_name", "company", "email", "phone", "city", "source_id")


def enrich(path: Path) -> dict[str, int]:
    """Give the bench desk owners, partners, spend, status history, first contacts, deals and lost reasons."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        stamp = "2026-01-01T00:00:00"
        for login in OWNERS:
            conn.execute("INSERT INTO \"user\" (login, name, role, active, created_at) VALUES (?, ?, 'rep', 1, ?)",
                         (login, login, stamp))
        owners = [r[0] for r in conn.execute("SELECT id FROM \"user\" ORDER BY id")]
        partners = []
        for name in ("Northwind", "Southwind", "Eastwind"):
            partners.append(conn.execute("INSERT INTO partner (name, created_at) VALUES (?, ?)",
                                         (name, stamp)).lastrowid)
            conn.executemany(
                "INSERT INTO partner_spend (partner_id, spent_on, amount_cents, note) VALUES (?, ?, ?, '')",
                [(partners[-1], f"2026-{m:02d}-01", 100_000 * m) for m in range(1, 12)])
        status = {name: sid for sid, name in conn.execute("SELECT id, name FROM status")}
        new, attempted, contacted, engaged = (status[n] for n in ("New", "Attempted to contact", "Contacted",
                                                                  "Engaged"))
        qualified, won, lost = status["Qualified"], status["Converted"], status["Disqualified"]
        reasons = [r[0] for r in conn.execute("SELECT id FROM lost_reason")]
        pipeline, = conn.execute("SELECT id FROM pipeline WHERE is_default").fetchone()
        stages = [r[0] for r in conn.execute("SELECT id FROM stage WHERE pipeline_id = ? ORDER BY position",
                                             (pipeline,))]
        paths = {0: [], 1: [], 2: [attempted], 3: [contacted, engaged], 4: [contacted, qualified],
                 5: [contacted, qualified], 6: [contacted, qualified, won], 7: [attempted, lost],
                 8: [attempted, lost], 9: [won, new]}
        leads = conn.execute("SELECT id, created_at, owner_id FROM lead ORDER BY id").fetchall()
        has_status = {r[0] for r in conn.execute(  # the lead made through the API has its own rows
            "SELECT DISTINCT entity_id FROM history WHERE entity = 'lead' AND field = 'status_id'")}
        history: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        deals: list[tuple[Any, ...]] = []
        for lead_id, created_at, _owner in leads:
            fate = lead_id % 10
            created = datetime.fromisoformat(created_at)
            change = f"r{lead_id:011d}"
            user = owners[lead_id % len(owners)]
            if lead_id not in has_status:
                history += [(change, lead_id, "create", name, None, "x", user, created_at) for name in FIELDS]
                history.append((change, lead_id, "create", "status_id", None, str(new), user, created_at))
            current, at = new, created
            first_contact = None
            for step, target in enumerate(paths[fate]):
                at = created + timedelta(hours=3 + step * 20 + lead_id % 50)
                history.append((f"s{lead_id:09d}{step}", lead_id, "status", "status_id", str(current), str(target),
                                user, at.isoformat()))
                if first_contact is None:
                    first_contact = at.isoformat()
                current = target
                if target == qualified:
                    deal_state = "won" if fate == 6 else "open"
                    deals.append((f"Deal {lead_id}", 50_000 + lead_id % 1000 * 100, pipeline,
                                  stages[lead_id % len(stages)], deal_state, lead_id, at.isoformat()))
            owner = None if lead_id % 11 == 0 else user
            partner = partners[lead_id % len(partners)] if lead_id % 4 == 0 else None
            job = 120_000 + lead_id % 500 * 100 if current == won else None
            reason = reasons[lead_id % len(reasons)] if current == lost else None
            probability = (lead_id * 7) % 100 if fate in (4, 6) else None
            updates.append((current, first_contact, owner, partner, job, reason, probability, lead_id))
        conn.executemany(
            "INSERT INTO history (change_id, entity, entity_id, action, field, old, new, user_id, at, origin)"
            " VALUES (?, 'lead', ?, ?, ?, ?, ?, ?, ?, 'bench')", history)
        conn.executemany(
            "UPDATE lead SET status_id = ?, first_contact_at = ?, owner_id = ?, partner_id = ?, job_value_cents = ?,"
            " lost_reason_id = ?, probability = ? WHERE id = ?", updates)
        conn.executemany(
            "INSERT INTO deal (title, value_cents, pipeline_id, stage_id, state, lead_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", deals)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {"leads": len(leads), "history": conn.execute("SELECT count(*) FROM history").fetchone()[0],
                "deals": len(deals)}
    finally:
        conn.close()


def measure(path: Path, runs: int) -> list[dict[str, Any]]:
    """Median seconds of each report, unfiltered and filtered (last 30 days of leads, one owner)."""
    from leaddesk.settings import Settings
    from leaddesk.store.desk import Desk
    from leaddesk.store.reports import ReportFilters

    desk = Desk.open(str(path), login="bench", settings=Settings())
    try:
        with desk.db.read() as tx:
            last = str(tx.scalar("SELECT max(created_at) FROM lead"))[:10]
        since = (datetime.fromisoformat(last) - timedelta(days=29)).date().isoformat()
        cases = {"all": ReportFilters(), "filtered": ReportFilters(since=since, until=last, owner="rep2")}
        out = []
        for name in desk.report_names():
            for case, filters in cases.items():
                times = []
                for _ in range(runs):
                    started = time.perf_counter()
                    report = desk.report(name, filters)
                    times.append(time.perf_counter() - started)
                out.append({"report": name, "case": case, "median_s": round(statistics.median(times), 3),
                            "max_s": round(max(times), 3), "rows": len(report.rows)})
        return out
    finally:
        desk.close()


def main(argv: list[str] | None = None) -> int:
    """Command line: reports.py [--db PATH] [--leads N] [--runs N] [--json]."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="the bench database (built there when missing, reused otherwise)")
    parser.add_argument("--leads", type=int, default=100_000, help="how many leads (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--with-index", action="store_true",
                        help="add the status-history index proposed for migration 0005 first")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "reports.db"
        if not path.exists():
            started = time.perf_counter()
            build_db(path, args.leads)
            made = enrich(path)
            print(f"built {path}: {made} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        if args.with_index:
            conn = sqlite3.connect(path)
            conn.execute(STATUS_INDEX)
            conn.execute("ANALYZE")
            conn.close()
        figures = measure(path, args.runs)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{'report':<10} {'case':<9} {'median s':>9} {'max s':>7} {'rows':>5}  (target <= 1 s)")
    for f in figures:
        flag = "" if f["median_s"] <= 1 else "  OVER"
        print(f"{f['report']:<10} {f['case']:<9} {f['median_s']:>9.3f} {f['max_s']:>7.3f} {f['rows']:>5}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
