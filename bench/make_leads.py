"""Build a large leaddesk SQLite database quickly, for benchmarks and manual testing.

    .venv/bin/python bench/make_leads.py /tmp/bench.db --leads 100000

The schema and the catalog come from the real code path (`Desk.open` migrates a new
file, `Desk.add_lead` seeds the preset and creates lead 1); the other leads, a few
activities and their history rows are then bulk-inserted with raw `sqlite3` in one
transaction. Every row is consistent with what the service layer would write:
`status_id` is an open status, `number` is unique and increasing, `email_lower`
is the casefolded email and `phone_e164` the E.164 form of `phone`.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leaddesk.store.fields import search_text

FIRST = ("Ann", "Bob", "Carla", "Dev", "Erin", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kiri", "Lena")
LAST = ("Lee", "Okafor", "Smith", "Nakamura", "Rossi", "Garcia", "Novak", "Haddad", "Brown", "Kowalski")
CITIES = (("Austin", "TX"), ("Boston", "MA"), ("Denver", "CO"), ("Portland", "OR"), ("Miami", "FL"))
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne")

LEAD_INSERT_COLUMNS = (
    "id", "number", "title", "first_name", "last_name", "contact_name", "company", "job_title", "email",
    "email_lower", "phone", "phone_e164", "city", "state", "zip", "country", "zone", "source_id",
    "type_id", "status_id", "priority", "tags", "owner_id", "followup_on", "score", "custom",
    "created_at", "updated_at", "version", "search_text",
)


def phone_of(number: int) -> tuple[str, str]:
    """A US phone for lead `number` as typed (`(555) 012-3456`) and its E.164 form."""
    digits = f"{number % 10_000_000:07d}"
    return f"(555) {digits[:3]}-{digits[3:]}", f"+1555{digits}"


def _seed(path: Path) -> None:
    """Create the schema and catalog through the real service layer, with one lead."""
    from leaddesk.settings import Settings
    from leaddesk.store.desk import Desk

    desk = Desk.open(str(path), login="bench", settings=Settings())
    try:
        phone, _e164 = phone_of(1)
        desk.add_lead({"name": "Ann Lee", "company": "Acme", "email": "Lead1@Acme.com", "phone": phone,
                       "city": "Austin", "state": "TX"})
    finally:
        desk.close()


def build_db(path: Path, leads: int, *, activity_every: int = 3) -> dict[str, Any]:
    """Create `path` with `leads` leads (the first through the API, the rest in bulk); return a summary."""
    if path.exists():
        raise FileExistsError(f"{path} exists; remove it or reuse it")
    started = time.perf_counter()
    _seed(path)
    seeded = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        open_ids = [r[0] for r in conn.execute(
            "SELECT id FROM status WHERE category = 'open' AND manual ORDER BY position, id")]
        source_ids = [r[0] for r in conn.execute("SELECT id FROM source ORDER BY id")]
        type_ids = [r[0] for r in conn.execute("SELECT id FROM lead_type ORDER BY id")]
        user_id = conn.execute("SELECT id FROM \"user\" WHERE login = 'bench'").fetchone()[0]
        first_number = (conn.execute("SELECT max(number) FROM lead").fetchone()[0] or 0) + 1
        first_id = (conn.execute("SELECT max(id) FROM lead").fetchone()[0] or 0) + 1
        now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
        today = now.date()

        def lead_rows() -> Iterator[tuple[Any, ...]]:
            for k in range(leads - 1):
                number = first_number + k
                first, last = FIRST[number % len(FIRST)], LAST[(number // 7) % len(LAST)]
                company = f"{COMPANIES[number % len(COMPANIES)]} {number // 100}"
                email = f"{first}.{last}{number}@{COMPANIES[number % len(COMPANIES)]}.com"
                phone, e164 = phone_of(number)
                city, state = CITIES[number % len(CITIES)]
                created = (now - timedelta(minutes=leads - k)).isoformat()
                followup = (today + timedelta(days=number % 30 - 10)).isoformat() if number % 4 == 0 else None
                yield (first_id + k, number, company, first, last, f"{first} {last}", company, "Buyer",
                       email, email.casefold(), phone, e164, city, state, f"{number % 100000:05d}", "US",
                       f"Z{number % 9}", source_ids[number % len(source_ids)],
                       type_ids[number % len(type_ids)], open_ids[number % len(open_ids)], number % 4,
                       "bench" if number % 5 == 0 else "", user_id, followup, number % 100, "{}",
                       created, created, 1, search_text({"contact_name": f"{first} {last}", "company": company,
                                                         "title": company, "email_lower": email.casefold()}))

        marks = ", ".join("?" for _ in LEAD_INSERT_COLUMNS)
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO lead ({', '.join(LEAD_INSERT_COLUMNS)}) VALUES ({marks})", lead_rows())
        stamp = now.isoformat()
        conn.executemany(
            "INSERT INTO history (change_id, entity, entity_id, action, field, old, new, user_id, at, origin)"
            " VALUES (?, 'lead', ?, 'create', 'number', NULL, ?, ?, ?, 'import')",
            ((f"bench{lead_id:011d}", lead_id, str(first_number + lead_id - first_id), user_id, stamp)
             for lead_id in range(first_id, first_id + leads - 1)))
        activity_leads = range(first_id, first_id + leads - 1, activity_every)
        conn.executemany(
            "INSERT INTO activity (lead_id, kind, body, at, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            ((lead_id, "call" if lead_id % 2 else "note", f"bench activity on lead id {lead_id}", stamp,
              user_id, stamp) for lead_id in activity_leads))
        conn.executemany(
            "INSERT INTO history (change_id, entity, entity_id, action, field, old, new, user_id, at, origin)"
            " SELECT ?, 'lead', lead_id, 'log', 'activity:' || id, NULL, kind || ': ' || body, ?, ?, 'import'"
            " FROM activity WHERE lead_id = ?",
            ((f"benchact{lead_id:08d}", user_id, stamp, lead_id) for lead_id in activity_leads))
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = conn.execute("SELECT count(*) FROM lead").fetchone()[0]
    finally:
        conn.close()
    done = time.perf_counter()
    return {"path": str(path), "leads": total, "seed_seconds": round(seeded - started, 2),
            "bulk_seconds": round(done - seeded, 2)}


def main(argv: list[str] | None = None) -> int:
    """Command line: make_leads.py PATH [--leads N]."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="the database file to create (must not exist)")
    parser.add_argument("--leads", type=int, default=100_000, help="how many leads (default 100000)")
    args = parser.parse_args(argv)
    if args.leads < 2:
        parser.error("--leads must be at least 2")
    try:
        summary = build_db(args.path, args.leads)
    except FileExistsError as exc:
        print(f"make_leads: {exc}", file=sys.stderr)
        return 1
    print(f"{summary['leads']} leads in {summary['path']} (schema {summary['seed_seconds']} s,"
          f" bulk {summary['bulk_seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
