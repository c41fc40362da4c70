"""Every migration upgrades a desk made by the release before it, with data in it, keeping every row (issue 9).

For each step R -> R+1 of the migration chain (`STEPS`, one row per migration: what it adds and the values the
rows it finds get) a desk is made at revision R with Alembic and filled with SQL shaped like that release's
(`ROWS`: every table that exists at R, every column holding a value somewhere, with awkward values: NULLs,
Unicode of every kind, escape sequences and markup, 100 kB of text, boundary dates and integers, a deleted lead
behind the AUTOINCREMENT counter). The desk is then upgraded one step, and (another copy) to the head through
the real open path (`Desk.open`: a backup, then the upgrade), and compared table by table, row by row, column by
column: the old columns keep their values, the new ones hold their documented defaults (or what the migration
derives: the first contact of 0004, the search index of 0005, where a search finds the old leads), and the
schema is the one an empty desk gets. On PostgreSQL too when LEADDESK_TEST_PG_URL is set.

A failed migration: on the real open path, a fault injected into a migration's last statement (after all of
its DDL and data changes) or a real SQL error in the middle of one must leave the desk exactly as it was
(SQLite: its full SQL dump, restored from the backup taken before the upgrade; PostgreSQL: every row, sequence
and schema object, the whole upgrade being one transaction), tell the user in one line naming the backup (CLI
exit 1, no traceback), and let the next open, with the fault gone, upgrade the desk.

A new migration gets its tests by adding a row to `STEPS` (and values for its new columns and tables to `ROWS`:
the tests refuse a column that holds no value anywhere); `test_the_steps_are_the_migration_chain` fails until
it is added.
"""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, event, inspect, text
from sqlalchemy.engine import Engine

from leaddesk.settings import Settings
from leaddesk.store import migrate
from leaddesk.store.desk import Desk
from leaddesk.store.fields import search_text
from leaddesk.store.queries import LeadFilter
from leaddesk.store.schema import SCHEMA_HEAD
from leaddesk.store.unmodelled import is_unmodelled

from .status_times import STATUS_ROWS, STORED, assert_same, expected_status_times, stored_status_times


def _clisupport() -> Any:
    """tests/cli/clisupport.py (the CLI tests' helpers), loaded from here, where tests/cli is not on sys.path."""
    if "clisupport" not in sys.modules:
        spec = importlib.util.spec_from_file_location("clisupport", Path(__file__).parents[1] / "cli" / "clisupport.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["clisupport"] = module
        spec.loader.exec_module(module)
    return sys.modules["clisupport"]


Cli = _clisupport().Cli
assert_one_line_refusal = _clisupport().assert_one_line_refusal


# -- the rows an older release wrote ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One row as the release at `since` (and every later one) wrote it; columns a revision lacks are left out.
    `deleted`: inserted, then deleted (a lead whose id the AUTOINCREMENT counter must not give again)."""

    table: str
    values: dict[str, Any]
    since: str = "0001"
    deleted: bool = False


LONG = ("Zeile \u00fc\u00f1\u00ee\u00e7\u00f8d\u00eb \u2014 \U0001f984 \u202eevil\u202c\t\x1b[2J[bold]markup[/]\n"
        * 3000)[:100_000]
ANN, BOB, EX, PAT = 1, 2, 3, 4


def _lead(id_: int, **values: Any) -> Row:
    """A lead row with its number, and the search text the release computed from it (fields.search_text)."""
    values = {"id": id_, "number": id_, **values}
    values["search_text"] = search_text(values)
    return Row("lead", values)


ROWS: list[Row] = [
    Row("user", {"id": ANN, "login": "ann", "name": "Ann Lee", "role": "admin", "active": True,
                 "created_at": "2026-01-05T09:00:00"}),
    Row("user", {"id": BOB, "login": "bob", "name": "B\u00f8b \"the builder\" O'Brien \U0001f984", "role": "rep",
                 "active": True, "created_at": "2026-01-06T00:00:00"}),
    Row("user", {"id": EX, "login": "ex", "name": "", "role": "rep", "active": False, "created_at": ""}),
    Row("user", {"id": PAT, "login": "pat", "name": "Pat \u00d1\u00fa\u00f1ez", "role": "partner", "active": True,
                 "created_at": "2026-02-01T00:00:00"}),
    *(Row("status", {"id": i, "name": name, "category": category, "position": i - 1, "manual": manual})
      for i, (name, category, manual) in enumerate([
          ("New", "open", True), ("Contacted", "open", True), ("Qualified", "qualified", False),
          ("Converted", "won", False), ("Disqualified", "lost", False),
          ("Wartet auf R\u00fcckruf \u260e", "open", True)], start=1)),
    Row("lead_type", {"id": 1, "name": "Residential"}),
    Row("lead_type", {"id": 2, "name": "\u041a\u043e\u043c\u043c\u0435\u0440\u0447\u0435\u0441\u043a\u0438\u0439"}),
    *(Row("lead_type_status", {"type_id": t, "status_id": s}) for t, s in ((1, 1), (1, 2), (1, 3), (2, 1), (2, 6))),
    Row("source", {"id": 1, "name": "Referral"}),
    Row("source", {"id": 2, "name": "Web \u2013 formul\u00e1rio"}),
    Row("source", {"id": 3, "name": "100% organic \\ _path_"}),
    Row("contact_method", {"id": 1, "name": "Phone"}),
    Row("contact_method", {"id": 2, "name": "E-mail \u2709"}),
    Row("item", {"id": 1, "name": "Roof repair"}),
    Row("item", {"id": 2, "name": "x" * 500}),
    Row("lost_reason", {"id": 1, "name": "Budget"}),
    Row("lost_reason", {"id": 2, "name": "Went in-house; \"no\" thanks"}),
    Row("pipeline", {"id": 1, "name": "Sales", "is_default": True}),
    Row("pipeline", {"id": 2, "name": "\u00dcnterprise", "is_default": False}),
    Row("stage", {"id": 1, "pipeline_id": 1, "name": "Discovery", "position": 0}),
    Row("stage", {"id": 2, "pipeline_id": 1, "name": "Proposal", "position": 1}),
    Row("stage", {"id": 3, "pipeline_id": 2, "name": "Stage \u221e", "position": 2147483647}),
    Row("setting", {"key": "preset", "value": "sales"}),
    Row("setting", {"key": "last_lead_number", "value": "9"}),
    Row("setting", {"key": "weird key \u2713", "value": "value\nwith a newline"}),
    Row("partner", {"id": 1, "name": "Northwind", "email": "nw@example.com", "user_id": PAT,
                    "created_at": "2026-02-01T00:00:00"}),
    Row("partner", {"id": 2, "name": "\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 Partner", "email": None,
                    "user_id": None, "created_at": ""}),
    Row("partner_spend", {"id": 1, "partner_id": 1, "spent_on": "2026-03-01", "amount_cents": 60000,
                          "note": "flyers"}),
    Row("partner_spend", {"id": 2, "partner_id": 1, "spent_on": "0001-01-01", "amount_cents": 2147483647,
                          "note": "max \u2713"}),
    Row("partner_spend", {"id": 3, "partner_id": 2, "spent_on": "", "amount_cents": -2147483648, "note": ""}),
    Row("customer", {"id": 1, "name": "Acme GmbH & Co. KG", "kind": "company", "phone": "+49 (30) 123-4567",
                     "phone_e164": "+49301234567", "email": "Info@Acme.example.com",
                     "email_lower": "info@acme.example.com", "street": "Stra\u00dfe des 17. Juni 1\nHinterhaus",
                     "city": "Berlin", "state": "BE", "zip": "10623", "country": "DE",
                     "website": "https://acme.example.com/?q=%20&x=1", "created_at": "2026-01-12T00:00:00"}),
    Row("customer", {"id": 2, "name": "Zo\u00eb \u00d1\u00fa\u00f1ez", "kind": "person", "phone": None,
                     "phone_e164": None, "email": None, "email_lower": None, "street": None, "city": None,
                     "state": None, "zip": None, "country": None, "website": None, "created_at": ""}),
    Row("contact", {"id": 1, "customer_id": 1, "first_name": "Zo\u00eb", "last_name": "\u00d1\u00fa\u00f1ez",
                    "job_title": "[bold red]CEO[/]", "email": "zoe@acme.example.com", "phone": "+49 30 1234567"}),
    Row("contact", {"id": 2, "customer_id": 2, "first_name": None, "last_name": None, "job_title": None,
                    "email": None, "phone": None}),
    Row("import_batch", {"id": 1, "file": "/home/ann/leads \u2013 M\u00e4rz.csv", "user_id": ANN,
                         "at": "2026-03-01T00:00:00", "state": "done", "rows_read": 2147483647, "imported": 1,
                         "updated": 4, "duplicates": 2, "rejected": 3,
                         "options": '{"on_duplicate": "skip", "sheet": "Blatt 1 \u2713"}'}, since="0003"),
    Row("import_batch", {"id": 2, "file": "", "user_id": None, "at": "", "state": "running", "rows_read": 0,
                         "imported": 0, "updated": 0, "duplicates": 0, "rejected": 0, "options": "{}"},
        since="0003"),
    _lead(1, title="Dach \u2013 Sanierung \"S\u00fcd\"", item_id=1, first_name="Zo\u00eb",
          last_name="\u00d1\u00fa\u00f1ez-O'Brien", contact_name="Zo\u00eb \u00d1\u00fa\u00f1ez-O'Brien",
          company="Acme GmbH & Co. KG \U0001f984", job_title="[bold red]CEO[/]",
          email="Zoe.Nunez@Acme.example.com", email_lower="zoe.nunez@acme.example.com", phone="+49 (30) 123-4567",
          phone_e164="+49301234567", street="Stra\u00dfe des 17. Juni 1\nHinterhaus", city="Berlin", state="BE",
          zip="10623", country="DE", website="https://acme.example.com/?q=%20&x=1", zone="north-east",
          source_id=2, source_detail="form #7", campaign="spring \u2600 2026", medium="cpc", contact_method_id=2,
          type_id=1, status_id=2, priority=2147483647, tags="vip,roof,\u00fcn\u00efcode", description=LONG,
          owner_id=ANN, partner_id=1, customer_id=1, expected_revenue_cents=2147483647, probability=100,
          expected_close="2024-02-29", followup_on="2026-12-31", score=-2147483648, bant_budget="yes",
          bant_budget_note="\u20ac 10k", bant_authority="no", bant_authority_note="asks the board\tfirst",
          bant_need="yes", bant_need_note="leaks \U0001f327", bant_timeline="yes", bant_timeline_note="Q1",
          job_value_cents=0, lost_reason_id=None, lost_note="", import_batch_id=None,
          custom='{"industry": "Software \u2713", "seats": 12}', created_at="2026-01-10T08:00:00",
          updated_at="2026-01-12T00:00:00", version=7, followup_time="14:30", followup_note="send the quote \u2709",
          auto_score=17, first_contact_at="2026-01-11T10:00:00", sla_due_at="2026-01-10T12:00:00"),
    _lead(2, status_id=1),  # what an old script inserted: every other column its server default or NULL
    _lead(3, contact_name="\u0645\u062d\u0645\u062f \u0627\u0644\u0639\u0644\u064a",
          company="evil\u202etxt.exe", phone="+1 212 555 0100", phone_e164="+12125550100", status_id=5,
          lost_reason_id=1, lost_note="went in-house\ttab", owner_id=BOB, type_id=2, job_value_cents=-1,
          created_at="2025-12-31T23:59:59", updated_at="2026-01-01T00:00:00", auto_score=-5,
          sla_due_at="0001-01-01T00:00:00"),
    _lead(4, contact_name="\u674e\u5c0f\u9f99", company="\u5317\u4eac\u6709\u9650\u516c\u53f8",
          title="a\u200db\u200b", status_id=2, owner_id=ANN, created_at="2026-01-20T00:00:00",
          updated_at="2026-02-02T00:00:00", version=3, followup_time=""),
    _lead(5, contact_name="Robert'); DROP TABLE lead;--", company="100% \\ _under_", status_id=6, partner_id=2,
          source_id=3, created_at="2026-03-01T00:00:00", updated_at="2026-03-01T00:00:00", import_batch_id=1),
    _lead(6, contact_name="e\u0301le\u0300ve \U0001f469\u200d\U0001f469\u200d\U0001f467", status_id=4,
          created_at="0001-01-01T00:00:00", updated_at="9999-12-31T23:59:59", expected_close="9999-12-31",
          followup_on="0001-01-01", job_value_cents=2147483647, version=2147483647, priority=-2147483648,
          probability=0),
    Row("lead", {"id": 9, "number": 9, "contact_name": "Deleted Lead", "status_id": 1}, deleted=True),
    Row("lead_merge", {"id": 1, "keep_id": 1, "merged_numbers": "7,8",
                       "snapshot": '{"leads": [{"contact_name": "Zo\u00eb"}]}', "change_id": "m1", "user_id": ANN,
                       "at": "2026-01-15T00:00:00", "undone": True}, since="0003"),
    # first contact (0004): the call on lead 1, not the note, not the captured mail (message_id) before it
    Row("activity", {"id": 1, "lead_id": 1, "kind": "note", "body": "a note: \x1b[31mred\x1b[0m",
                     "at": "2026-01-10T09:00:00", "user_id": ANN, "created_at": "2026-01-10T09:00:01"}),
    Row("activity", {"id": 2, "lead_id": 1, "kind": "call", "body": "talked \U0001f4de", "at": "2026-01-11T10:00:00",
                     "user_id": ANN, "created_at": "2026-01-11T10:00:00", "message_id": None}),
    Row("activity", {"id": 3, "lead_id": 1, "kind": "email", "body": "Subject: Re: Angebot\n\n> quoted",
                     "at": "2026-01-10T12:00:00", "user_id": ANN, "created_at": "2026-01-10T12:00:00",
                     "message_id": "<a1@mail.example>"}, since="0003"),
    Row("activity", {"id": 4, "lead_id": 4, "kind": "call", "body": "", "at": "2026-02-01T00:00:00",
                     "user_id": None, "created_at": ""}),  # by a script (no user): no first contact
    Row("activity", {"id": 5, "lead_id": 5, "kind": "meeting", "body": "met before it was entered",
                     "at": "2026-02-28T23:00:00", "user_id": BOB, "created_at": "2026-03-01T00:00:00"}),
    Row("activity", {"id": 6, "lead_id": 6, "kind": "email", "body": LONG[:10_000], "at": "9999-12-31T23:59:59",
                     "user_id": ANN, "created_at": "0001-01-01T00:00:00"}),
    Row("history", {"id": 1, "change_id": "c1", "entity": "lead", "entity_id": 1, "action": "create",
                    "field": "contact_name", "old": None, "new": "Zo\u00eb \u00d1\u00fa\u00f1ez-O'Brien",
                    "user_id": ANN, "at": "2026-01-10T08:00:00", "origin": "cli", "undone": False}),
    Row("history", {"id": 2, "change_id": "c2", "entity": "lead", "entity_id": 1, "action": "status",
                    "field": "status_id", "old": "1", "new": "2", "user_id": ANN, "at": "2026-01-12T00:00:00",
                    "origin": "cli", "undone": False}),
    Row("history", {"id": 3, "change_id": "c3", "entity": "lead", "entity_id": 4, "action": "qualify",
                    "field": "status_id", "old": "1", "new": "3", "user_id": None, "at": "2026-02-01T12:00:00",
                    "origin": "import", "undone": True}),
    Row("history", {"id": 4, "change_id": "c4", "entity": "lead", "entity_id": 4, "action": "status",
                    "field": "status_id", "old": "3", "new": "2", "user_id": BOB, "at": "2026-02-02T00:00:00",
                    "origin": "tui", "undone": False}),
    Row("history", {"id": 5, "change_id": "c5", "entity": "lead", "entity_id": 5, "action": "status",
                    "field": "status_id", "old": "1", "new": "6", "user_id": None, "at": "2026-03-01T00:00:00",
                    "origin": "import", "undone": False}),
    Row("history", {"id": 6, "change_id": "c6", "entity": "user", "entity_id": BOB, "action": "role",
                    "field": "role", "old": "rep", "new": None, "user_id": ANN, "at": "", "origin": "cli",
                    "undone": False}),
    Row("deal", {"id": 1, "title": "Dach \u2013 S\u00fcd", "value_cents": 1200000, "expected_close": "2026-12-31",
                 "pipeline_id": 1, "stage_id": 2, "state": "open", "lead_id": 1, "customer_id": 1,
                 "lost_reason_id": None, "lost_note": "", "created_at": "2026-01-12T00:00:00", "closed_at": None,
                 "version": 2}),
    Row("deal", {"id": 2, "title": "\u00dcnterprise \u221e", "value_cents": None, "expected_close": None,
                 "pipeline_id": 2, "stage_id": 3, "state": "lost", "lead_id": None, "customer_id": 2,
                 "lost_reason_id": 2, "lost_note": "zu teuer \U0001f4b8", "created_at": "",
                 "closed_at": "9999-12-31T23:59:59", "version": 2147483647}),
    Row("quote_line", {"id": 1, "deal_id": 1, "description": "Ziegel \u2013 rot, 10 m\u00b2", "quantity": 3,
                       "unit_price_cents": 9999}),
    Row("quote_line", {"id": 2, "deal_id": 1, "description": LONG[:5000], "quantity": 2147483647,
                       "unit_price_cents": -2147483648}),
    Row("lead_sequence", {"id": 1, "lead_id": 1, "sequence": "welcome", "step": 2, "state": "running",
                          "next_at": "2026-12-01T09:00:00", "started_at": "2026-11-01T09:00:00",
                          "updated_at": "2026-11-15T09:00:00", "user_id": ANN}, since="0004"),
    Row("lead_sequence", {"id": 2, "lead_id": 3, "sequence": "nurture \u2713", "step": 0, "state": "stopped",
                          "next_at": None, "started_at": "", "updated_at": "", "user_id": None}, since="0004"),
    Row("notice", {"id": 1, "user_id": ANN, "lead_id": 1, "kind": "sla", "text": "\x1b]0;title\x07 late \u23f0",
                   "at": "2026-11-20T00:00:00", "read_at": None}, since="0004"),
    Row("notice", {"id": 2, "user_id": BOB, "lead_id": None, "kind": "assigned", "text": "", "at": "",
                   "read_at": "2026-11-21T00:00:00"}, since="0004"),
]

# What 0004 derives for leads it finds (its docstring): the first call, email or meeting a user logged (not a
# captured mail), or the first status change by hand, whichever came first; a closed lead without either was
# contacted when it was created; never before it was created.
FIRST_CONTACT = {(1,): "2026-01-11T10:00:00", (2,): None, (3,): "2025-12-31T23:59:59",
                 (4,): "2026-02-02T00:00:00", (5,): "2026-03-01T00:00:00", (6,): "9999-12-31T23:59:59"}


# -- the migration chain, one row per migration -------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One migration: the tables and columns it adds, and the value each new column holds in the rows that were
    there (a constant, or {row key: value}); `derived` checks tables it fills from the old rows."""

    source: str
    target: str
    tables: tuple[str, ...] = ()
    columns: dict[tuple[str, str], Any] = field(default_factory=dict)
    derived: Callable[[Connection], None] | None = None

    def __str__(self) -> str:
        return f"{self.source}-{self.target}"


def search_index_holds_the_old_leads(conn: Connection) -> None:
    """0005: the search index covers every lead that was there (SQLite: the FTS5 table, nothing left queued;
    PostgreSQL: the trigram indexes, where pg_trgm exists)."""
    leads = conn.execute(text("SELECT id, search_text, phone_e164 FROM lead ORDER BY id")).all()
    if conn.dialect.name == "sqlite":
        indexed = conn.execute(text("SELECT rowid, search_text, phone_e164 FROM lead_fts ORDER BY rowid")).all()
        assert [tuple(r) for r in indexed] == [(i, f"{s} ", p) for i, s, p in leads]
        assert conn.execute(text("SELECT count(*) FROM lead_fts_queue")).scalar() == 0
        found = conn.execute(text("SELECT rowid FROM lead_fts WHERE lead_fts MATCH :q"),
                             {"q": '"\u00f1\u00fa\u00f1ez"'}).scalars().all()
        assert found == [1]
    elif conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar():
        names = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'lead'")).scalars())
        assert {"ix_lead_search_trgm", "ix_lead_phone_trgm"} <= names


def status_times_sum_the_old_history(conn: Connection) -> None:
    """0006: `lead_status_time` holds, per (lead, status) the old lead status rows name, the Unix times leaving it
    minus those entering it, how many left minus how many entered, how many rows, the first and last entry (worked
    out in Python from the rows, independently of the migration's SQL)."""
    expected = expected_status_times(conn.execute(text(STATUS_ROWS)).all())
    assert len(expected) == 7
    assert_same(stored_status_times(conn.execute(text(STORED)).all()), expected)


STEPS = [
    Step("0001", "0002"),
    Step("0002", "0003", tables=("import_batch", "lead_merge"),
         columns={("lead", "import_batch_id"): None, ("activity", "message_id"): None}),
    Step("0003", "0004", tables=("lead_sequence", "notice"),
         columns={("lead", "followup_time"): None, ("lead", "followup_note"): "", ("lead", "auto_score"): 0,
                  ("lead", "first_contact_at"): FIRST_CONTACT, ("lead", "sla_due_at"): None}),
    Step("0004", "0005", derived=search_index_holds_the_old_leads),
    Step("0005", "0006", derived=status_times_sum_the_old_history),
]
REVISIONS = [STEPS[0].source, *(s.target for s in STEPS)]
KEYS = {"setting": ("key",), "lead_type_status": ("type_id", "status_id"), "sqlite_sequence": ("name",),
        "pg_sequences": ("sequencename",)}


def test_the_steps_are_the_migration_chain() -> None:
    """A new migration must get its row in STEPS (and its values in ROWS)."""
    from alembic.script import ScriptDirectory

    chain = [r.revision for r in ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).walk_revisions()]
    assert chain[::-1] == REVISIONS, "add a Step for each new migration (and values for what it adds to ROWS)"
    assert REVISIONS[-1] == SCHEMA_HEAD


def test_every_row_names_tables_and_columns_of_the_models() -> None:
    """A misspelt column in ROWS would be left out silently at every revision (`fill` writes the columns a
    revision has): each must be a column of the head schema (the models, which test_schema keeps in step)."""
    from sqlmodel import SQLModel

    import leaddesk.store.models  # noqa: F401  (registers the tables)

    tables = SQLModel.metadata.tables
    unknown = [f"{row.table}.{column}" for row in ROWS for column in row.values
               if row.table not in tables or column not in tables[row.table].columns]
    assert unknown == []
    assert {row.since for row in ROWS} <= set(REVISIONS)


# -- desks at a revision ------------------------------------------------------------------------------------------
Snapshot = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


def url_of(target: str) -> str:
    """The SQLAlchemy URL of a SQLite path or a server URL."""
    return target if "://" in target else f"sqlite:///{target}"


@contextmanager
def connected(target: str) -> Iterator[Connection]:
    """A connection to a desk (a SQLite path or a server URL), committed on leaving."""
    engine = create_engine(url_of(target))
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def columns_of(conn: Connection) -> dict[str, list[str]]:
    """The desk's tables (not Alembic's, not the search index's own) and their columns; SQLite's AUTOINCREMENT
    counters and PostgreSQL's sequences as a table too."""
    inspector = inspect(conn)
    found = {t: [c["name"] for c in inspector.get_columns(t)] for t in sorted(inspector.get_table_names())
             if t != "alembic_version" and not is_unmodelled(t)}
    if conn.dialect.name == "sqlite":
        found["sqlite_sequence"] = ["name", "seq"]
    else:
        found["pg_sequences"] = ["sequencename", "last_value"]
    return found


def snapshot(conn: Connection) -> Snapshot:
    """Every row of every table, by key."""
    rows: Snapshot = {}
    for table, columns in columns_of(conn).items():
        sql = (f'SELECT * FROM "{table}"' if table != "pg_sequences" else
               "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
        key = KEYS.get(table, ("id",))
        rows[table] = {}
        for row in conn.execute(text(sql)).mappings():
            rows[table][tuple(row[k] for k in key)] = {c: row[c] for c in columns}
    return rows


def schema_of(conn: Connection) -> list[tuple[Any, ...]]:
    """What a revision's schema is made of: SQLite's CREATE statements; PostgreSQL's columns, indexes and
    constraints."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        return sorted(tuple(r) for r in conn.execute(text(sql)))
    return sorted([
        *(("column", *r) for r in conn.execute(text(
            "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
            " WHERE table_schema = 'public'"))),
        *(("index", *r) for r in conn.execute(text(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"))),
        *(("constraint", *r) for r in conn.execute(text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE connamespace = 'public'::regnamespace")))], key=repr)


def fill(target: str, revision: str) -> Snapshot:
    """Write ROWS as the release at `revision` did (its tables and columns only); the desk's rows."""
    with connected(target) as conn:
        tables = columns_of(conn)
        highest: dict[str, int] = {}
        for row in ROWS:
            if row.since > revision:
                continue
            values = {c: v for c, v in row.values.items() if c in tables[row.table]}
            names = ", ".join(f'"{c}"' for c in values)
            conn.execute(text(f'INSERT INTO "{row.table}" ({names}) VALUES ({", ".join(f":{c}" for c in values)})'),
                         values)
            if "id" in values:
                highest[row.table] = max(highest.get(row.table, 0), values["id"])
            if row.deleted:
                conn.execute(text(f'DELETE FROM "{row.table}" WHERE id = :id'), values)
        if conn.dialect.name == "postgresql":  # as if the release's inserts had drawn the ids
            for table, number in highest.items():
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), {number})"))
        rows = snapshot(conn)
    unfilled = [f"{table}.{column}" for table, columns in tables.items() for column in columns
                if not any(r[column] is not None for r in rows[table].values())]
    assert unfilled == [], f"no row of ROWS holds a value for these columns at {revision}: add some"
    return rows


@pytest.fixture(scope="module")
def sqlite_desks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An empty SQLite desk at each revision of the chain (each test fills a copy)."""
    from alembic import command

    folder = tmp_path_factory.mktemp("revisions")
    work = folder / "work.db"
    desks = {}
    for revision in REVISIONS:
        command.upgrade(migrate.alembic_config(url_of(str(work))), revision)
        desks[revision] = folder / f"{revision}.db"
        shutil.copyfile(work, desks[revision])
    return desks


def pg_copy(server: Any, template: str) -> str:
    """A new PostgreSQL database copied from `template` (no one may be connected to it); its name, one the session
    drops (`PgServer.create` gives it)."""
    name = str(server.create())
    server.drop(name)
    server.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    server.admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return name


@pytest.fixture(scope="module")
def pg_revisions(pg_server: Any) -> Iterator[dict[str, tuple[str, list[tuple[Any, ...]]]]]:
    """An empty PostgreSQL desk at each revision of the chain (a database each test copies) and its schema."""
    from alembic import command

    work = pg_server.create()
    url = pg_server.url_of(work)
    made = {}
    try:
        for revision in REVISIONS:
            command.upgrade(migrate.alembic_config(url), revision)
            with connected(url) as conn:
                schema = schema_of(conn)
            made[revision] = (pg_copy(pg_server, work), schema)
        yield made
    finally:
        for name, _ in made.values():
            pg_server.drop(name)
        pg_server.drop(work)


@dataclass
class Desks:
    """Makes desks at a revision for this test's backend, and knows the schema an empty one has."""

    backend: str
    folder: Path
    sqlite_desks: dict[str, Path]
    request: pytest.FixtureRequest

    def at(self, revision: str) -> str:
        """A new, empty desk at `revision`: a SQLite path or a PostgreSQL URL."""
        if self.backend == "pg":
            server = self.request.getfixturevalue("pg_server")
            name = pg_copy(server, self.request.getfixturevalue("pg_revisions")[revision][0])
            self.request.addfinalizer(lambda: server.drop(name))
            return str(server.url_of(name))
        path = self.folder / "desk" / "desk.db"  # a folder of its own: the backups go beside it
        path.parent.mkdir()
        shutil.copyfile(self.sqlite_desks[revision], path)
        return str(path)

    def schema(self, revision: str) -> list[tuple[Any, ...]]:
        """The schema of an empty desk at `revision`."""
        if self.backend == "pg":
            return self.request.getfixturevalue("pg_revisions")[revision][1]  # type: ignore[no-any-return]
        with connected(str(self.sqlite_desks[revision])) as conn:
            return schema_of(conn)


@pytest.fixture
def desks(backend: str, tmp_path: Path, sqlite_desks: dict[str, Path], request: pytest.FixtureRequest) -> Desks:
    """Desks at a revision on this test's backend."""
    return Desks(backend, tmp_path, sqlite_desks, request)


# -- what an upgrade must keep ------------------------------------------------------------------------------------
def steps_between(source: str, target: str) -> list[Step]:
    """The migrations that take a desk from `source` to `target`."""
    return STEPS[REVISIONS.index(source):REVISIONS.index(target)]


def differences(before: Snapshot, after: Snapshot, steps: list[Step]) -> list[str]:
    """How the upgraded rows differ from the old ones: a lost, added or changed row or value, a new column whose
    value is not what the migration documents, a table or column nobody declared."""
    added = {col: value for step in steps for col, value in step.columns.items()}
    new_tables = {t for step in steps for t in step.tables}
    found = []
    for table in sorted(set(before) | set(after)):
        if table not in after:
            found.append(f"table {table} is gone")
            continue
        if table not in before:
            if table not in new_tables:
                found.append(f"table {table} is new but no Step declares it")
            elif after[table]:
                found.append(f"new table {table} holds rows: {list(after[table])}")
            continue
        changed = set(before[table]) ^ set(after[table])
        if table in ("sqlite_sequence", "pg_sequences"):  # the new tables' counters are new
            changed -= {(name,) for t in new_tables for name in (t, f"{t}_id_seq")} - set(before[table])
        if changed:
            found.append(f"{table}: rows {sorted(changed, key=repr)} lost or added")
            continue
        for key, old in before[table].items():
            new = after[table][key]
            for column in old.keys() | new.keys():
                if column not in new:
                    found.append(f"{table}.{column} is gone")
                elif column in old:
                    if new[column] != old[column]:
                        found.append(f"{table} {key} {column}: {old[column]!r:.80} became {new[column]!r:.80}")
                elif (table, column) not in added:
                    found.append(f"{table}.{column} is new but no Step declares it")
                else:
                    expected = added[(table, column)]
                    expected = expected[key] if isinstance(expected, dict) else expected
                    if new[column] != expected:
                        found.append(f"{table} {key} new column {column}: {new[column]!r} instead of {expected!r}")
    return sorted(set(found))


# -- one step, and to the head ------------------------------------------------------------------------------------
@pytest.mark.parametrize("step", STEPS, ids=str)
def test_one_migration_keeps_every_row_of_the_release_before_it(step: Step, desks: Desks) -> None:
    from alembic import command

    target = desks.at(step.source)
    before = fill(target, step.source)
    command.upgrade(migrate.alembic_config(url_of(target)), step.target)
    with connected(target) as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == step.target
        after = snapshot(conn)
        schema = schema_of(conn)
        if step.derived:
            step.derived(conn)
    assert differences(before, after, [step]) == []
    assert schema == desks.schema(step.target), "the data changed the schema the migration makes"


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_opening_a_desk_of_an_older_release_upgrades_it_to_the_head_keeping_every_row(
        revision: str, desks: Desks, backend: str) -> None:
    target = desks.at(revision)
    before = fill(target, revision)
    desk = Desk.open(target, login="ann", settings=Settings())  # the real path: backup (SQLite), then upgrade
    try:
        with connected(target) as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
            after = snapshot(conn)
            schema = schema_of(conn)
            for step in steps_between(revision, SCHEMA_HEAD):
                if step.derived:
                    step.derived(conn)
        assert differences(before, after, steps_between(revision, SCHEMA_HEAD)) == []
        assert schema == desks.schema(SCHEMA_HEAD)
        found = {text_: [r["number"] for r in desk.list_leads(LeadFilter(search=text_, limit=None))]
                 for text_ in ("\u00d1\u00fa\u00f1ez", "\u674e\u5c0f", "555 0100", "drop table", "% \\ _")}
        assert found == {"\u00d1\u00fa\u00f1ez": [1], "\u674e\u5c0f": [4], "555 0100": [3], "drop table": [5],
                         "% \\ _": [5]}
        assert desk.show("1")["description"] == LONG
        added = desk.add_lead({"name": "After The Upgrade"}, force=True)
        assert added["number"] == 10  # the desk's counters kept: no number, no id given twice
        with connected(target) as conn:
            assert conn.execute(text("SELECT id FROM lead WHERE number = 10")).scalar() == 10
    finally:
        desk.close()
    if backend == "sqlite":
        backups = list(Path(target).parent.glob(f"desk.db.{revision}-*.bak"))
        assert len(backups) == 1
        assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
        with connected(str(backups[0])) as conn:
            assert snapshot(conn) == before  # the backup is the desk as it was
        with connected(target) as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"


# -- a migration that fails ---------------------------------------------------------------------------------------
@contextmanager
def failing_migration(revision: str) -> Iterator[None]:
    """Make the migration to `revision` raise at its last statement (Alembic recording the new revision): after
    all of its DDL and data changes, in its transaction."""

    recorded = (f"SET version_num='{revision}'", f"VALUES ('{revision}')")  # Alembic writes it as a literal

    def fail(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if "alembic_version" in statement and any(what in statement for what in recorded):
            raise RuntimeError(f"injected fault in migration {revision}\nwith a second line")

    event.listen(Engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", fail)


def dump(target: str) -> list[str]:
    """The whole desk as SQL (SQLite: `iterdump`) or every row and sequence (PostgreSQL)."""
    if "://" not in target:
        conn = sqlite3.connect(target)
        try:
            return list(conn.iterdump())
        finally:
            conn.close()
    with connected(target) as alchemy:
        return [repr(item) for item in [*sorted(snapshot(alchemy).items()), *schema_of(alchemy)]]


def revision_of(target: str) -> str:
    with connected(target) as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())


@pytest.fixture
def old_desk(desks: Desks) -> str:
    """A desk of release 0001 with data in every table."""
    target = desks.at("0001")
    fill(target, "0001")
    return target


def open_with_cli(target: str, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    """Run `leaddesk --db TARGET ARGS` through the real entry point."""
    return Cli(target, capsys)(*args)


@pytest.mark.parametrize("revision", REVISIONS[1:])
def test_a_failed_migration_leaves_the_desk_as_it_was_and_says_so_in_one_line(
        revision: str, old_desk: str, backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = dump(old_desk)
    with failing_migration(revision):
        result = open_with_cli(old_desk, capsys, "list")
    line = assert_one_line_refusal(result)
    assert f"injected fault in migration {revision}" in line and "second line" not in line
    assert dump(old_desk) == before
    assert revision_of(old_desk) == "0001"
    if backend == "sqlite":
        folder = Path(old_desk).parent
        backups = list(folder.glob("desk.db.0001-*.bak"))
        assert len(backups) == 1 and f"restored, unchanged, from the backup {backups[0]}" in line
        assert dump(str(backups[0])) == before
        assert sorted(p.name for p in folder.iterdir()) == sorted(["desk.db", backups[0].name])  # no -wal, .part
        with connected(old_desk) as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    else:
        assert "rolled back: the database is as it was" in line
    # a leaddesk without the fault opens it
    listed = open_with_cli(old_desk, capsys, "list", "--json")
    assert listed.code == 0, str(listed)
    assert sorted(lead["number"] for lead in listed.json()) == [1, 2, 3, 4, 5, 6]
    assert revision_of(old_desk) == SCHEMA_HEAD


@pytest.mark.sqlite_only
def test_a_real_sql_error_midway_names_the_reason_without_the_statement(
        old_desk: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An index of 0005 already in a desk that says 0001 (what an autocommitted CREATE once left): 0002 to 0004
    commit, 0005 fails on its first statement; the desk is put back to 0001 as it was."""
    with connected(old_desk) as conn:
        conn.execute(text("CREATE INDEX ix_lead_updated ON lead (updated_at, number)"))
    before = dump(old_desk)
    line = assert_one_line_refusal(open_with_cli(old_desk, capsys, "status", "1", "new"))  # the quick path too
    assert "from schema 0001 to 0006 failed (index ix_lead_updated already exists)" in line
    assert "[SQL" not in line and "\\n" not in line and "sqlalche.me" not in line
    assert dump(old_desk) == before


@pytest.mark.sqlite_only
def test_when_the_backup_cannot_be_written_back_the_line_says_how_to_restore_it(
        old_desk: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    before = dump(old_desk)

    def locked(backup: Path, dest: Path) -> None:
        raise sqlite3.OperationalError("database is locked")

    restore_sqlite = migrate.restore_sqlite
    monkeypatch.setattr(migrate, "restore_sqlite", locked)
    with failing_migration("0004"):
        line = assert_one_line_refusal(open_with_cli(old_desk, capsys, "list"))
    monkeypatch.setattr(migrate, "restore_sqlite", restore_sqlite)
    backup = next(Path(old_desk).parent.glob("desk.db.0001-*.bak"))
    assert f"writing its backup back failed too (database is locked): the desk as it was is {backup}" in line
    assert revision_of(old_desk) == "0003"  # 0002 and 0003 committed, 0004 did not
    command = line.split("`")[1].split()
    assert command == ["leaddesk", "db", "restore", str(backup), "--force"]
    restored = open_with_cli(old_desk, capsys, *command[1:])
    assert restored.code == 0, str(restored)
    assert dump(old_desk) == before
    assert open_with_cli(old_desk, capsys, "list").code == 0
    assert revision_of(old_desk) == SCHEMA_HEAD


def test_a_new_desk_whose_setup_fails_says_so_and_the_next_run_finishes_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "new.db")
    with failing_migration("0003"):
        line = assert_one_line_refusal(open_with_cli(path, capsys, "add", "--name", "Ann Lee"))
    assert line == (f"leaddesk: setting up the new desk {path} failed (injected fault in migration 0003)")
    assert revision_of(path) == "0002"  # whole revisions only
    assert not list(tmp_path.glob("*.bak"))
    added = open_with_cli(path, capsys, "add", "--name", "Ann Lee")
    assert added.code == 0, str(added)
    assert revision_of(path) == SCHEMA_HEAD
