"""Build a large leaddesk SQLite database quickly, for benchmarks and manual testing.

    .venv/bin/python bench/make_leads.py /tmp/bench.db --leads 100000
    .venv/bin/python bench/make_leads.py /tmp/real.db --leads 100000 --realistic [--seed 1] [--today YYYY-MM-DD]

The schema and the catalog come from the real code path (`Desk.open` migrates a new
file, `Desk.add_lead` seeds the preset and creates lead 1); the other leads, a few
activities and their history rows are then bulk-inserted with raw `sqlite3` in one
transaction. Every row is consistent with what the service layer would write:
`status_id` is an open status, `number` is unique and increasing, `email_lower`
is the casefolded email and `phone_e164` the E.164 form of `phone`.

`build_realistic` (`--realistic`, what bench/run measures) builds a desk used for two years instead: leads in
every status with the history, activities, customers, deals, follow-ups, partners and spend that got them there.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
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


# -- a realistic desk (bench/run) --------------------------------------------------------------------------
R_FIRST = ("Ann", "Bob", "Carla", "Dev", "Erin", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kiri", "Lena", "Mateo",
           "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wei", "Yara", "Zoë", "José",
           "Chloé", "Dmitri", "Aisha", "Björn", "Fatima", "Hiro", "Kate", "Liam", "Mia", "Noah", "Olga", "Pablo",
           "Sofia", "Tom", "Amara", "Chen", "Diego", "Elif", "Ravi", "Sara", "Jonas", "Mei", "Luca", "Emma")
R_LAST = ("Lee", "Okafor", "Smith", "Nakamura", "Rossi", "García", "Novak", "Haddad", "Brown", "Kowalski", "Müller",
          "Tanaka", "Dubois", "Khan", "Olsen", "Silva", "Nguyen", "Walsh", "Moreau", "Ivanova", "Johnson", "Patel",
          "Schmidt", "O'Brien", "Kim", "Costa", "Jensen", "Ahmed", "Fischer", "Martin", "Lopez", "Wilson", "Chen",
          "Andersson", "Bianchi", "Murphy", "Sato", "Popescu", "Horvat", "Yilmaz")
R_WORDS = ("Acme", "Blue", "Harbor", "Summit", "Cedar", "Granite", "Nimbus", "Orbit", "Pioneer", "Quartz", "River",
           "Stone", "Evergreen", "Falcon", "Juniper", "Kestrel", "Lumen", "Monarch", "Northwind", "Silver", "Delta",
           "Apex", "Bright", "Coastal", "Maple", "Iron", "Golden", "Prairie", "Redwood", "Atlas")
R_TRADES = ("Logistics", "Roofing", "Dental", "Software", "Bakery", "Consulting", "Labs", "Plumbing", "Media",
            "Foods", "Motors", "Health", "Realty", "Legal", "Energy", "Design", "Fitness", "Print", "Security",
            "Travel")
R_SUFFIXES = ("", "", "", " Inc", " LLC", " Ltd", " Co", " GmbH", " & Sons", " Group")
R_FREEMAIL = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "hotmail.com")
R_JOBS = ("CEO", "Owner", "Office Manager", "Head of Ops", "CTO", "Buyer", "Procurement Lead", "Founder",
          "Marketing Director", "Facilities Manager", None, None, None)
R_US = (("New York", "NY", "212"), ("Chicago", "IL", "312"), ("San Francisco", "CA", "415"), ("Austin", "TX", "512"),
        ("Boston", "MA", "617"), ("Denver", "CO", "303"), ("Seattle", "WA", "206"), ("Miami", "FL", "305"),
        ("Atlanta", "GA", "404"), ("Portland", "OR", "503"), ("Phoenix", "AZ", "602"), ("Dallas", "TX", "214"),
        ("Nashville", "TN", "615"), ("Minneapolis", "MN", "612"), ("Detroit", "MI", "313"), ("Raleigh", "NC", "919"))
R_ABROAD = (("London", "", "GB", "+44 20 {a:04d} {b:04d}"), ("Sydney", "NSW", "AU", "+61 2 {a:04d} {b:04d}"),
            ("Berlin", "", "DE", "+49 30 {a:04d}{b:04d}"), ("Toronto", "ON", "CA", "+1 416 {a3:03d} {b:04d}"))
R_STREETS = ("Main St", "Oak Ave", "Market St", "2nd Ave", "Park Rd", "Elm St", "Harbor Blvd", "Mill Ln")
R_ZONES = ("North", "South", "East", "West", "Central")
R_TAGS = ("vip", "expo", "q3", "renewal", "newsletter", "webinar", "upsell")
R_SOURCES = ("Inbound Email", "Website Form", "Social Media", "Referral", "Event", "Cold Outreach", "Cold Call",
             "Advertisement", "Partner")
R_SOURCE_WEIGHTS = (10, 25, 8, 12, 7, 12, 10, 8, 8)
R_INBOUND = {"Inbound Email", "Website Form", "Social Media", "Referral", "Advertisement", "Partner"}
R_REPS = ("rep1", "rep2", "rep3", "rep4", "rep5", "rep6", "rep7", "rep8")
R_PARTNERS = ("Northwind Referrals", "Blue Harbor Agency", "Summit Resellers", "Cedar Partners", "Apex Affiliates",
              "Maple Digital", "Granite Co-marketing", "Orbit Events", "Lumen Media", "Falcon Consulting",
              "Prairie Network", "Atlas Alliances")
R_CALLS = ("No answer, left a voicemail", "Spoke briefly, asked to call back next week", "Good call: needs a quote",
           "Gatekeeper, will try the direct line", "Discussed budget and timeline", "Wrong number on file")
R_EMAILS = ("Sent the brochure", "Sent pricing", "Followed up on the quote", "Intro email", "Sent case studies")
R_NOTES = ("Met at the spring expo", "Prefers email", "Decision in Q3", "Competitor contract ends in March",
           "Asked for references", "Budget approved")
R_MEETINGS = ("Demo on site", "Video call with the team", "Lunch meeting", "Walkthrough of the proposal")
CHUNK = 5000
R_LEAD_COLUMNS = (
    "id", "number", "title", "item_id", "first_name", "last_name", "contact_name", "company", "job_title", "email",
    "email_lower", "phone", "phone_e164", "street", "city", "state", "zip", "country", "website", "zone",
    "source_id", "campaign", "medium", "type_id", "status_id", "priority", "tags", "description", "owner_id",
    "partner_id", "customer_id", "expected_revenue_cents", "probability", "expected_close", "followup_on",
    "followup_time", "followup_note", "score", "bant_budget", "bant_authority", "bant_need", "bant_timeline",
    "job_value_cents", "lost_reason_id", "lost_note", "custom", "search_text", "created_at", "updated_at", "version",
    "import_batch_id", "first_contact_at",
)
R_CREATE_HISTORY = (
    "contact_name", "first_name", "last_name", "company", "job_title", "email", "email_lower", "phone", "phone_e164",
    "street", "city", "state", "zip", "country", "website", "zone", "source_id", "campaign", "medium", "type_id",
    "priority", "tags", "description", "owner_id", "partner_id", "item_id", "status_id", "title", "number",
)


def _ascii(text: str) -> str:
    """Letters, digits, dots and dashes of `text` without accents (for made-up emails and domains)."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and (c.isalnum() or c in ".-"))


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


class _Desk:
    """The state of a realistic build: the catalog's ids, the next ids, and the rows of the current chunk."""

    def __init__(self, conn: sqlite3.Connection, rng: random.Random, now: datetime, leads: int) -> None:
        self.conn, self.rng, self.now, self.total = conn, rng, now, leads - 1
        self.start = now - timedelta(days=730)
        self.span = (now - self.start).total_seconds()
        self.companies = max(leads // 6, 10)

        def ids(sql: str) -> dict[str, int]:
            return {name: ident for ident, name in conn.execute(sql)}

        rows = conn.execute("SELECT id, name, category FROM status ORDER BY position, id").fetchall()
        self.sid = {name: ident for ident, name, _category in rows}
        self.open = [name for _ident, name, category in rows if category == "open"]
        self.qualified, self.won, self.lost = (next(n for _i, n, c in rows if c == cat)
                                               for cat in ("qualified", "won", "lost"))
        self.sources = ids("SELECT id, name FROM source")
        self.types = ids("SELECT id, name FROM lead_type")
        self.reasons = list(ids("SELECT id, name FROM lost_reason ORDER BY id").values())
        self.items = ids("SELECT id, name FROM item")
        self.stages = list(ids("SELECT id, name FROM stage ORDER BY position, id").values())
        self.pipeline = conn.execute("SELECT id FROM pipeline WHERE is_default").fetchone()[0]
        self.bench = conn.execute("SELECT id FROM \"user\" WHERE login = 'bench'").fetchone()[0]

        def top(table: str, column: str = "id") -> int:
            return int(conn.execute(f"SELECT coalesce(max({column}), 0) FROM {table}").fetchone()[0]) + 1

        self.first_number, self.next_lead, self.next_activity = top("lead", "number"), top("lead"), top("activity")
        self.next_customer, self.next_deal = top("customer"), top("deal")
        self.team: list[int] = []
        self.partners: list[int] = []
        self.batch: int | None = None
        self.batch_left = 0
        self.batch_change = ""
        self.counts = dict.fromkeys(("users", "partners", "partner_spend", "import_batches", "activities",
                                     "customers", "deals", "quote_lines", "history"), 0)
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in ("lead", "customer", "contact", "deal",
                                                                       "quote_line", "activity", "history")}

    # -- helpers ------------------------------------------------------------------------------------
    def change_id(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def record(self, cid: str, entity: str, entity_id: int, action: str, field: str, old: Any, new: Any,
               user: int | None, at: str, origin: str = "tui") -> None:
        self.rows["history"].append((cid, entity, entity_id, action, field, None if old is None else str(old),
                                     None if new is None else str(new), user, at, origin))

    def change(self, lead: dict[str, Any], action: str, changes: dict[str, Any], at: str,
               cid: str | None = None) -> str:
        """A change to a lead through the service layer: history rows, version and updated_at."""
        cid = cid or self.change_id()
        for col, value in changes.items():
            self.record(cid, "lead", lead["id"], action, col, lead[col], value, lead["_worker"], at)
            lead[col] = value
        lead["version"] += 1
        lead["updated_at"] = at
        return cid

    def activity(self, lead: dict[str, Any], kind: str, at: str) -> None:
        """A note, call, email or meeting logged by the lead's owner; calls, emails and meetings are contacts."""
        body = self.rng.choice({"call": R_CALLS, "email": R_EMAILS, "note": R_NOTES, "meeting": R_MEETINGS}[kind])
        ident = self.next_activity
        self.next_activity += 1
        self.rows["activity"].append((ident, lead["id"], kind, body, at, lead["_worker"], at))
        self.record(self.change_id(), "lead", lead["id"], "note" if kind == "note" else "log", f"activity:{ident}",
                    None, f"{kind}: {body}", lead["_worker"], at)
        if kind != "note":
            self.contacted(lead, at)

    @staticmethod
    def contacted(lead: dict[str, Any], at: str) -> None:
        if lead["first_contact_at"] is None:
            lead["first_contact_at"] = at

    # -- the desk around the leads ------------------------------------------------------------------
    def people(self) -> None:
        """A manager, eight reps, twelve partners with two years of monthly spend."""
        rng, conn, bench = self.rng, self.conn, self.bench
        at = _stamp(self.start - timedelta(days=1))
        for login, role in [("mgr", "manager")] + [(rep, "rep") for rep in R_REPS]:
            name = "Morgan Hale" if role == "manager" else f"{rng.choice(R_FIRST)} {rng.choice(R_LAST)}"
            user = conn.execute("INSERT INTO \"user\" (login, name, role, active, created_at) VALUES (?, ?, ?, 1, ?)",
                                (login, name, role, at)).lastrowid
            assert user is not None
            cid = self.change_id()
            self.record(cid, "user", user, "create", "login", None, login, bench, at, "cli")
            self.record(cid, "user", user, "create", "role", None, role, bench, at, "cli")
            if role == "rep":
                self.team.append(user)
            self.counts["users"] += 1
        for name in R_PARTNERS:
            partner = conn.execute("INSERT INTO partner (name, email, created_at) VALUES (?, ?, ?)",
                                   (name, f"hello@{_ascii(name.split()[0]).lower()}.example.com", at)).lastrowid
            assert partner is not None
            self.partners.append(partner)
            self.record(self.change_id(), "partner", partner, "create", "name", None, name, bench, at, "cli")
            for month in range(24):
                spent = (self.start + timedelta(days=30 * month + rng.randrange(28))).date().isoformat()
                cents = rng.randrange(200, 5000) * 100
                spend = conn.execute("INSERT INTO partner_spend (partner_id, spent_on, amount_cents, note)"
                                     " VALUES (?, ?, ?, 'co-marketing')", (partner, spent, cents)).lastrowid
                assert spend is not None
                self.record(self.change_id(), "partner_spend", spend, "create", "amount_cents", None, cents, bench,
                            f"{spent}T10:00:00", "cli")
                self.counts["partner_spend"] += 1
            self.counts["partners"] += 1

    # -- one lead -----------------------------------------------------------------------------------
    def contact(self, lead: dict[str, Any]) -> None:
        """Name, company, email, phone and address: the shapes people really type."""
        rng = self.rng
        first, last = rng.choice(R_FIRST), rng.choice(R_LAST)
        company = None
        if rng.random() < 0.85:
            c = rng.randrange(self.companies)
            company = (f"{R_WORDS[c % len(R_WORDS)]} {R_TRADES[(c // len(R_WORDS)) % len(R_TRADES)]}"
                       f"{R_SUFFIXES[(c // 600) % len(R_SUFFIXES)]}")
            if c >= 6000:
                company = f"{company} {c // 6000 + 1}"
        email = None
        if rng.random() < 0.9:
            local = (_ascii(f"{first}.{last}").lower() if rng.random() < 0.6
                     else _ascii(f"{first[0]}{last}").lower() + str(rng.randrange(100)))
            words = company.split() if company else []
            domain = (_ascii(words[0] + words[1]).lower() + ".com" if words and rng.random() < 0.7
                      else rng.choice(R_FREEMAIL))
            email = f"{local}@{domain}"
            if rng.random() < 0.15:
                email = email.capitalize()
        phone = e164 = None
        zipcode = None
        if rng.random() < 0.08:  # abroad
            city, state, country, shape = rng.choice(R_ABROAD)
            a, b = rng.randrange(2000, 9999), rng.randrange(10000)
            phone = shape.format(a=a, b=b, a3=a % 800 + 200)
            e164 = "+" + "".join(ch for ch in phone if ch.isdigit())
        else:
            city, state, area = rng.choice(R_US)
            country = rng.choice(("US", "USA", "", "United States"))
            zipcode = f"{rng.randrange(1000, 99999):05d}"
            if rng.random() < 0.88:
                exchange, line = rng.randrange(200, 1000), rng.randrange(10000)
                phone = rng.choice((f"({area}) {exchange}-{line:04d}", f"{area}-{exchange}-{line:04d}",
                                    f"+1 {area} {exchange} {line:04d}", f"{area}.{exchange}.{line:04d}",
                                    f"{area}{exchange}{line:04d}"))
                e164 = f"+1{area}{exchange}{line:04d}"
        if not (email or phone or company):
            company = f"{last} Household"
        lead.update(
            first_name=first, last_name=last, contact_name=f"{first} {last}", company=company,
            title=company or f"{first} {last}", job_title=rng.choice(R_JOBS) if company else None, email=email,
            email_lower=email.casefold() if email else None, phone=phone, phone_e164=e164,
            street=f"{rng.randrange(1, 9999)} {rng.choice(R_STREETS)}" if rng.random() < 0.6 else None,
            city=city, state=state or None, zip=zipcode, country=country or None,
            website=f"www.{_ascii(company.split()[0]).lower()}.com" if company and rng.random() < 0.4 else None)

    def route(self, k: int) -> list[str]:
        """The statuses lead k went through, from the first open one to where it is now (older: more closed)."""
        rng, opened = self.rng, self.open
        age = 1 - k / self.total  # 1 for the oldest, about 0 for the newest
        if rng.random() < 0.12 + 0.78 * age:
            status = rng.choices((self.qualified, self.won, self.lost), (12, 28, 60))[0]
            reached = len(opened) if status != self.lost else rng.randrange(1, len(opened) + 1)
        else:
            status = rng.choices(opened, [34, 20, 26, 20, 10, 10, 10, 10][:len(opened)])[0]
            reached = opened.index(status) + 1
        route = [opened[0]]
        for name in opened[1:reached]:
            if name == opened[1] and status != name and rng.random() < 0.5:
                continue  # straight from New to Contacted
            route.append(name)
        if status not in opened:
            route.append(status)
        return route

    def kinds(self, route: list[str]) -> list[str]:
        """The activities logged on the way."""
        rng, kinds = self.rng, []
        for name in route[1:]:
            if name == self.open[1]:
                kinds += ["call"] * rng.randrange(1, 3)
            elif name in self.open:
                kinds += rng.choice((["call"], ["email", "call"], ["call", "email"], ["meeting"]))
            elif name in (self.qualified, self.won):
                kinds += rng.choice((["meeting"], ["email", "meeting"], ["call", "email"]))
            else:
                kinds += rng.choice(([], ["call"], ["email"]))
        if rng.random() < 0.3:
            kinds.append("note")
        return kinds

    def lead(self, k: int) -> None:
        """Lead k (0-based) of the bulk part, with everything that happened to it."""
        rng = self.rng
        number, lead_id = self.first_number + k, self.next_lead
        self.next_lead += 1
        created_dt = self.start + timedelta(seconds=self.span * (k + rng.random() * 0.9) / self.total)
        created = _stamp(created_dt)
        source = rng.choices(R_SOURCES, R_SOURCE_WEIGHTS)[0]
        owner = rng.choice(self.team) if rng.random() < 0.96 else None
        imported = rng.random() < 0.7
        lead: dict[str, Any] = {
            "id": lead_id, "number": number, "zone": rng.choice(R_ZONES), "source_id": self.sources[source],
            "campaign": f"{rng.choice(('spring', 'summer', 'fall', 'winter'))}-{created[:4]}"
            if source in ("Advertisement", "Social Media") else None,
            "medium": {"Advertisement": "cpc", "Social Media": "social"}.get(source),
            "type_id": self.types["Inbound" if source in R_INBOUND else "Outbound"],
            "status_id": self.sid[self.open[0]], "priority": rng.choices((0, 1, 2, 3), (60, 20, 14, 6))[0],
            "tags": ",".join(rng.sample(R_TAGS, rng.randrange(1, 3))) if rng.random() < 0.2 else "",
            "description": rng.choice(R_NOTES) if rng.random() < 0.25 else "", "owner_id": owner,
            "partner_id": rng.choice(self.partners) if source == "Partner" else None, "customer_id": None,
            "item_id": self.items[rng.choice(list(self.items))] if rng.random() < 0.3 else None,
            "expected_revenue_cents": None, "probability": None, "expected_close": None, "followup_on": None,
            "followup_time": None, "followup_note": "", "score": rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 10, 20)),
            "bant_budget": "unknown", "bant_authority": "unknown", "bant_need": "unknown", "bant_timeline": "unknown",
            "job_value_cents": None, "lost_reason_id": None, "lost_note": "", "custom": "{}",
            "first_contact_at": None, "created_at": created, "updated_at": created, "version": 1,
            "import_batch_id": None, "_worker": owner or self.bench,
        }
        self.contact(lead)
        if imported:
            self.imported(lead)
        else:
            cid, actor, origin = self.change_id(), lead["_worker"], rng.choice(("tui", "tui", "cli", "intake"))
            for col in R_CREATE_HISTORY:
                if lead[col] not in (None, "", "{}", 0):
                    self.record(cid, "lead", lead_id, "create", col, None, lead[col], actor, created, origin)
        route = self.route(k)
        kinds = self.kinds(route)
        horizon = min(self.span * 0.08, (self.now - created_dt).total_seconds())
        moments = sorted(rng.random() for _ in range(len(route) + len(kinds) + 2))
        times = iter([_stamp(created_dt + timedelta(seconds=horizon * m)) for m in moments])
        last = _stamp(created_dt + timedelta(seconds=horizon))
        todo = iter(kinds)
        for target in route[1:]:
            for _ in range(rng.randrange(0, 3)):  # the calls and emails that led there
                kind = next(todo, None)
                if kind is not None:
                    self.activity(lead, kind, next(times, last))
            at = next(times, last)
            if target in self.open:
                self.change(lead, "status", {"status_id": self.sid[target]}, at)
                self.contacted(lead, at)
            elif target == self.lost:
                self.change(lead, "lost", {"status_id": self.sid[target], "lost_reason_id": rng.choice(self.reasons)},
                            at)
                self.contacted(lead, at)
            else:
                self.deal(lead, at, won=target == self.won, closed=next(times, last))
        for kind in todo:  # what came after the last move
            self.activity(lead, kind, next(times, last))
        self.today(lead, last)
        lead["search_text"] = search_text(lead)
        self.rows["lead"].append(tuple(lead[c] for c in R_LEAD_COLUMNS))

    def imported(self, lead: dict[str, Any]) -> None:
        """The lead came in with an import batch (a few thousand leads each)."""
        if self.batch_left == 0:
            self.batch_left = self.rng.randrange(2000, 20000)
            self.batch_change = self.change_id()
            name = f"leads-{lead['created_at'][:10]}.csv"
            self.batch = self.conn.execute(
                "INSERT INTO import_batch (file, user_id, at, state, options) VALUES (?, ?, ?, 'done', '{}')",
                (name, self.bench, lead["created_at"])).lastrowid
            assert self.batch is not None
            self.record(self.batch_change, "import_batch", self.batch, "create", "file", None, name, self.bench,
                        lead["created_at"], "import")
            self.counts["import_batches"] += 1
        self.batch_left -= 1
        lead["import_batch_id"] = self.batch
        self.record(self.batch_change, "lead", lead["id"], "create", "import_batch_id", None, self.batch, self.bench,
                    lead["created_at"], "import")

    def deal(self, lead: dict[str, Any], at: str, *, won: bool, closed: str) -> None:
        """Qualify: a customer (with a contact person) and a deal; then maybe won, or the deal lost."""
        rng, worker = self.rng, lead["_worker"]
        cid, customer, deal = self.change_id(), self.next_customer, self.next_deal
        self.next_customer += 1
        self.next_deal += 1
        name = lead["company"] or lead["contact_name"]
        self.rows["customer"].append((customer, name, "company" if lead["company"] else "person", lead["phone"],
                                      lead["phone_e164"], lead["email"], lead["email_lower"], lead["street"],
                                      lead["city"], lead["state"], lead["zip"], lead["country"], lead["website"], at))
        if lead["company"]:
            self.rows["contact"].append((customer, lead["first_name"], lead["last_name"], lead["job_title"],
                                         lead["email"], lead["phone"]))
        self.record(cid, "customer", customer, "customer", "name", None, name, worker, at)
        self.record(cid, "deal", deal, "create", "title", None, name, worker, at)
        self.change(lead, "qualify", {"customer_id": customer, "status_id": self.sid[self.qualified]}, at, cid)
        self.contacted(lead, at)
        value = rng.randrange(5, 400) * 10000
        state, stage, reason, closed_at, version = "open", rng.choice(self.stages), None, None, 1
        if won:
            state, stage, closed_at, version = "won", self.stages[-1], closed, 2
            cid = self.change_id()
            self.record(cid, "deal", deal, "won", "state", "open", "won", worker, closed)
            self.record(cid, "deal", deal, "won", "closed_at", None, closed, worker, closed)
            self.change(lead, "convert", {"status_id": self.sid[self.won], "job_value_cents": value}, closed, cid)
        elif rng.random() < 0.2:
            state, reason, closed_at, version = "lost", rng.choice(self.reasons), closed, 2
            cid = self.change_id()
            for col, old, new in (("state", "open", "lost"), ("lost_reason_id", None, reason),
                                  ("closed_at", None, closed)):
                self.record(cid, "deal", deal, "lost", col, old, new, worker, closed)
        close_on = (self.now + timedelta(days=rng.randrange(-60, 90))).date().isoformat()
        self.rows["deal"].append((deal, name, value, close_on, self.pipeline, stage, state, lead["id"], customer,
                                  reason, at, closed_at, version))
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            self.rows["quote_line"].append((deal, rng.choice(list(self.items)), rng.randrange(1, 5),
                                            rng.randrange(10, 500) * 100))

    def today(self, lead: dict[str, Any], at: str) -> None:
        """Today's picture of an open lead: a follow-up (overdue, today or later), a forecast, BANT answers."""
        rng = self.rng
        current = next(n for n, i in self.sid.items() if i == lead["status_id"])
        if current in self.open:
            if rng.random() < 0.55:
                changes: dict[str, Any] = {
                    "followup_on": (self.now + timedelta(days=rng.randrange(-10, 21))).date().isoformat()}
                if rng.random() < 0.3:
                    changes["followup_time"] = f"{rng.randrange(8, 18):02d}:{rng.choice((0, 15, 30, 45)):02d}"
                if rng.random() < 0.2:
                    changes["followup_note"] = rng.choice(("Call back", "Send the quote", "Check the budget"))
                self.change(lead, "followup", changes, at)
            if current != self.open[0] and rng.random() < 0.4:
                self.change(lead, "edit", {"expected_revenue_cents": rng.randrange(5, 300) * 10000,
                                           "probability": rng.choice((10, 25, 50, 75))}, at)
            if current == self.open[-1] and rng.random() < 0.5:
                self.change(lead, "edit", {"bant_budget": rng.choice(("yes", "no", "unknown")),
                                           "bant_need": rng.choice(("yes", "unknown"))}, at)
        if rng.random() < 0.05:
            self.change(lead, "edit", {"description": "Updated after the last call"}, at)

    def flush(self) -> None:
        """Write the chunk's rows."""
        conn, rows = self.conn, self.rows
        marks = ", ".join("?" for _ in R_LEAD_COLUMNS)
        conn.executemany(f"INSERT INTO lead ({', '.join(R_LEAD_COLUMNS)}) VALUES ({marks})", rows["lead"])
        conn.executemany(
            "INSERT INTO customer (id, name, kind, phone, phone_e164, email, email_lower, street, city, state, zip,"
            " country, website, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows["customer"])
        conn.executemany("INSERT INTO contact (customer_id, first_name, last_name, job_title, email, phone)"
                         " VALUES (?, ?, ?, ?, ?, ?)", rows["contact"])
        conn.executemany(
            "INSERT INTO deal (id, title, value_cents, expected_close, pipeline_id, stage_id, state, lead_id,"
            " customer_id, lost_reason_id, created_at, closed_at, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows["deal"])
        conn.executemany("INSERT INTO quote_line (deal_id, description, quantity, unit_price_cents)"
                         " VALUES (?, ?, ?, ?)", rows["quote_line"])
        conn.executemany("INSERT INTO activity (id, lead_id, kind, body, at, user_id, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)", rows["activity"])
        conn.executemany(
            "INSERT INTO history (change_id, entity, entity_id, action, field, old, new, user_id, at, origin)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows["history"])
        for table, key in (("activity", "activities"), ("customer", "customers"), ("deal", "deals"),
                           ("quote_line", "quote_lines"), ("history", "history")):
            self.counts[key] += len(rows[table])
        for batch in rows.values():
            batch.clear()


def _sync_search(conn: sqlite3.Connection) -> None:
    """What the service layer does after writing leads: the search index catches up with the leads its triggers
    queued (`store/search.py`, migration 0005), in the same transaction, when this version has that step."""
    from leaddesk.store import search

    sync = getattr(search, "sync", None)
    if sync is not None:
        from leaddesk.store.db import SqliteTx

        sync(SqliteTx(conn))


def build_realistic(path: Path, leads: int, *, seed: int = 1, today: date | None = None) -> dict[str, Any]:
    """Create `path` with `leads` leads that look like a desk used for two years (see bench/README.md).

    Deterministic: the same `leads`, `seed` and `today` (default: today in UTC) give the same rows, except
    lead 1's timestamps (it is added through the API, at the real time). Every other event lies before `today`
    00:00 UTC; follow-ups fall from 10 days before `today` to 20 days after. The schema, the catalog and lead 1
    come from the real code path (`_seed`); users, partners and their spend, import batches, the other leads
    with their status changes, activities, follow-ups, customers, deals and quote lines are then written in
    bulk, with the history rows the service layer would write, CHUNK leads per executemany and transaction, into
    PATH.building, renamed to PATH when complete.
    """
    if path.exists():
        raise FileExistsError(f"{path} exists; remove it or reuse it")
    if leads < 2:
        raise ValueError("a realistic desk needs at least 2 leads")
    building = path.with_name(path.name + ".building")  # renamed when complete: a crash leaves no half desk
    for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    _seed(building)
    seeded = time.perf_counter()
    day = today or datetime.now(UTC).date()
    conn = sqlite3.connect(building, isolation_level=None)
    try:
        conn.execute("BEGIN")
        desk = _Desk(conn, random.Random(seed), datetime(day.year, day.month, day.day), leads)
        desk.people()
        for k in range(desk.total):
            desk.lead(k)
            if len(desk.rows["lead"]) >= CHUNK:
                desk.flush()
                _sync_search(conn)
                conn.execute("COMMIT")  # a transaction per chunk keeps the WAL small (one grew past 4 GB at 1M)
                conn.execute("BEGIN")
        desk.flush()
        _sync_search(conn)
        conn.execute("UPDATE import_batch SET rows_read = (SELECT count(*) FROM lead l"
                     " WHERE l.import_batch_id = import_batch.id), imported = (SELECT count(*) FROM lead l"
                     " WHERE l.import_batch_id = import_batch.id) WHERE state = 'done'")
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = conn.execute("SELECT count(*) FROM lead").fetchone()[0]
    finally:
        conn.close()
    os.replace(building, path)
    done = time.perf_counter()
    return {"path": str(path), "leads": total, "seed": seed, "today": day.isoformat(), **desk.counts,
            "seed_seconds": round(seeded - started, 2), "bulk_seconds": round(done - seeded, 2)}


def main(argv: list[str] | None = None) -> int:
    """Command line: make_leads.py PATH [--leads N] [--realistic [--seed S] [--today YYYY-MM-DD]]."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="the database file to create (must not exist)")
    parser.add_argument("--leads", type=int, default=100_000, help="how many leads (default 100000)")
    parser.add_argument("--realistic", action="store_true",
                        help="a desk used for two years (history, deals, follow-ups, partners...), as bench/run builds")
    parser.add_argument("--seed", type=int, default=1, help="--realistic: the random seed (default 1)")
    parser.add_argument("--today", type=date.fromisoformat, help="--realistic: the day the data ends (default today)")
    args = parser.parse_args(argv)
    if args.leads < 2:
        parser.error("--leads must be at least 2")
    try:
        if args.realistic:
            summary = build_realistic(args.path, args.leads, seed=args.seed, today=args.today)
        else:
            summary = build_db(args.path, args.leads)
    except FileExistsError as exc:
        print(f"make_leads: {exc}", file=sys.stderr)
        return 1
    print(f"{summary['leads']} leads in {summary['path']} (schema {summary['seed_seconds']} s,"
          f" bulk {summary['bulk_seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
