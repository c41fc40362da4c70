"""Lead search: what the list's instant search and the palette's lead finder match, and how it is found fast.

What a search text matches, on every database and with or without an index (`LeadFilter.search`):
- its case-folded form (`str.casefold`, so "STRASSE" finds "Straße") as a substring of `lead.search_text`
  (name, company, title and email, case-folded by `fields.search_text`);
- with three digits or more, unless it is an email: the digits as a substring of the E.164 phone (so "555 01",
  "(555) 0123" and "+1 555" find "+15550123"), or the phone equal to the text read as a phone number;
- a lead number: "12" or "#12".
A text holding a NUL character matches no lead's text (none holds one); its digits and number still count.

How it is found:
- SQLite with the `lead_fts` table (migration 0005: FTS5, trigram tokenizer): a text of three characters or more
  is one FTS5 string (quoted, so no FTS5 query syntax gets through) matched in the search_text column, the digits
  one in the phone_e164 column. The index answers exactly the substrings LIKE would: both sides are case-folded
  before they get there and the table is case-sensitive. A two-character text is the trigrams that begin with
  it (`lead_fts_terms`; the index has a space after each text, so that the last two characters begin one too).
  Triggers queue every lead inserted, deleted or whose text or phone changed (`lead_fts_queue`) and `sync`
  brings the index up to date from the queue; until then the queued leads are compared with LIKE, so a search
  is never stale, whoever wrote the leads.
- One character, SQLite without the table, PostgreSQL: LIKE, as before 0005 (PostgreSQL's pg_trgm GIN indexes
  from 0005, where the extension exists, serve the same LIKE).

The list's first page (`plan`): by default the matches are collected from the index, looked up and sorted
(`in`), cheapest when few leads match. When the search is the list's only filter and its order is an index's
order (number, or last update), a text that matches many leads is cheaper to find by walking that index and
keeping the matches (`scan`: the matches' ids are collected from the index once), and one that matches so many
that the page fills within a few thousand leads by walking it and comparing each lead's text with LIKE until the
page is full (`walk`: the index is not read at all). All three give the same rows in the same order; `plan`
picks one from the share of matches among the first leads of the order and the number of matches.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from leaddesk.store.contactinfo import looks_like_email, normalise_phone
from leaddesk.store.db import Tx

FTS_TABLE = "lead_fts"
TERMS_TABLE = "lead_fts_terms"  # fts5vocab over lead_fts: one row per trigram
QUEUE_TABLE = "lead_fts_queue"  # ids of the leads whose index entry is stale (filled by triggers)
INSERT_TRIGGER = "lead_fts_insert"  # the trigger that queues every lead inserted
INDEX_SLICE = 10_000
PG_INDEXES = ("ix_lead_search_trgm", "ix_lead_phone_trgm")  # pg_trgm GIN indexes (0005)
MIN_INDEXED = 2  # the shortest text the index answers (two characters: through the trigrams they begin)
MAX_TERMS = 200  # a two-character text beginning more trigrams than this is left to LIKE
PLANS = ("in", "scan", "walk")
PROBE = 200  # the first leads of the list's order: their share of matches tells how far a walk goes
WALK_SURE = 3000  # walk, without collecting the matches, when the page should be full within this many leads
PROBE_HITS = 5  # ... by at least this many matches among the PROBE leads (one recent match says little)
COLLECT = 4000  # collect up to this many matches' ids while counting them (`in` and `scan` then reuse them)
# What each plan costs, in µs on a 2-core machine at 100k leads (bench/search.py): `walk` reads and compares a
# lead; `in` looks a match up in the lead table; `scan` steps along the order's index and collects a match.
WALK_US, LOOKUP_US, STEP_US, COLLECT_US = 1.5, 2.5, 0.3, 0.3
# Sort keys (queries.SORTABLE) whose order, with the number as tie-break, is an index's order.
INDEXED_SORTS = frozenset({"number", "updated"})
MAX_NUMBER = 2**63 - 1


def is_search_index(name: str) -> bool:
    """The FTS5 table, its shadow tables, vocabulary and queue, and the GIN indexes: no model describes them
    (Alembic's comparison leaves them out; `db copy` copies the models' tables, and the target's triggers and
    `sync` build its own index)."""
    return name == FTS_TABLE or name.startswith(FTS_TABLE + "_") or name in PG_INDEXES


@dataclass(frozen=True)
class Terms:
    """A search text taken apart: what each part of the match compares."""

    folded: str | None  # the case-folded text; None when it holds a NUL (it matches no lead's text)
    digits: str | None  # three digits or more, not an email: a phone fragment
    e164: str | None  # the text read as a whole phone number
    number: int | None  # "12" or "#12"


def terms(text: str, default_region: str) -> Terms:
    """Take a search text apart (`text` as the user typed it; surrounding spaces do not count)."""
    text = text.strip()
    folded = text.casefold()
    digits = "".join(ch for ch in text if ch in "0123456789")
    phone = len(digits) >= 3 and not looks_like_email(text)
    bare = text.lstrip("#")
    number = int(bare) if bare.isascii() and bare.isdigit() and int(bare) <= MAX_NUMBER else None
    return Terms(folded=None if "\x00" in folded else folded, digits=digits if phone else None,
                 e164=(normalise_phone(text, default_region) or None) if phone else None, number=number)


@dataclass(frozen=True)
class Search:
    """A search ready to run in one transaction: its terms and, when the FTS5 table answers it, its query."""

    terms: Terms
    indexed: bool  # answered by the FTS5 table (else LIKE)
    match: str | None = None  # the FTS5 query; None: no part of the text is in the index
    ids: str | None = None  # the ids of the text's matches as a JSON array, when `plan` has collected them
    collected: int = 0  # ... and how many there are


def has_index(tx: Tx) -> bool:
    """Whether this database has the FTS5 table (SQLite at 0005 with a trigram tokenizer)."""
    if tx.dialect != "sqlite":
        return False
    found = tx.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (:f, :q)",
                      {"f": FTS_TABLE, "q": QUEUE_TABLE})
    return found == 2


def sync(tx: Tx) -> int:
    """Bring the index up to date with the leads the queue names (in the caller's write transaction): their
    entries out, the current text of those that still exist in, the queue emptied. Returns how many queue rows
    there were. A reader never needs it (queued leads are searched with LIKE): it keeps that share small.

    Called by the service layer after every change to a lead (derived.lead_changed), at the end of an import,
    after undoing one and at the end of `db copy`. An import indexes its new leads once, at its end
    (`batch_indexed_at_end`), then syncs what its updates of duplicates queued: FTS5 indexes many leads at once
    much faster than a few at a time, and once the FTS5 table has been written in a transaction, every later
    statement that fires a trigger on lead makes SQLite open a statement savepoint on it, at which FTS5 writes
    its pending index. Syncing every 5,000 leads cost the importing process ~10% more CPU at 100k rows."""
    if not has_index(tx) or tx.scalar(f"SELECT 1 FROM {QUEUE_TABLE} LIMIT 1") is None:
        return 0
    queued = f"(SELECT id FROM {QUEUE_TABLE})"
    tx.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN {queued}")
    _index(tx, f"id IN {queued}")
    return tx.execute(f"DELETE FROM {QUEUE_TABLE}")


def _index(tx: Tx, where: str, params: dict[str, Any] | None = None) -> None:
    """Add the index entries of the leads `where` picks (they must have none)."""
    tx.execute(f"INSERT INTO {FTS_TABLE} (rowid, search_text, phone_e164)"
               f" SELECT id, search_text || ' ', phone_e164 FROM lead WHERE {where}", params)


@contextlib.contextmanager
def batch_indexed_at_end(tx: Tx, batch_id: int) -> Iterator[None]:
    """Within the caller's write transaction: the leads import batch `batch_id` inserts in the block go into the
    index by one statement at its end, not through the queue row by row by the insert trigger, which is lifted
    meanwhile and put back as it was (its SQL read from the schema). A trigger makes every INSERT carry a
    statement journal (the original of each page the statement changes: ~8 MB for a chunk of 500 leads with the
    lead table's indexes) or, one row per statement, a journal per row; without it `executemany` writes a row
    with none. 100k rows: the importing process's writes 1.0 GB -> 0.13 GB (/proc/self/io), its system time
    1.1 s -> 0.5 s (bench/import.py). Leads the block changed otherwise (an import that updates duplicates) are
    queued by the other triggers as always: `sync` after the block.

    Safe because SQLite's schema changes are part of the transaction: a failed or killed import rolls the
    lifted trigger back with everything else, and no other connection can write a lead while this one holds
    the write lock. Leads inserted in the block by anything but the batch would not be indexed: the import
    inserts only its own. Elsewhere (PostgreSQL, a database without the index) the block runs as it is."""
    sql = (tx.scalar("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n", {"n": INSERT_TRIGGER})
           if tx.dialect == "sqlite" else None)
    if sql is None:
        yield
        return
    tx.execute(f"DROP TRIGGER {INSERT_TRIGGER}")
    try:
        yield
    except BaseException:
        # the transaction is about to be rolled back (the trigger with it); put it back all the same, in case
        # the caller keeps the transaction (a savepoint), unless SQLite has already rolled it back
        with contextlib.suppress(sqlite3.Error):
            tx.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
        raise
    span = tx.one("SELECT min(id) AS low, max(id) AS high FROM lead WHERE import_batch_id = :b", {"b": batch_id})
    if span is not None and span["low"] is not None:
        for start in range(int(span["low"]), int(span["high"]) + 1, INDEX_SLICE):
            _index(tx, "import_batch_id = :b AND id >= :lo AND id < :hi",
                   {"b": batch_id, "lo": start, "hi": start + INDEX_SLICE})
    tx.execute(sql)


def _quoted(text: str) -> str:
    """`text` as one FTS5 string: every character literal, double quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def prepare(tx: Tx, text: str, default_region: str) -> Search:
    """Take `text` apart and, when the index can answer it, write its FTS5 query (reading the trigrams a
    two-character text begins)."""
    t = terms(text, default_region)
    if (t.folded is not None and len(t.folded) < MIN_INDEXED) or not has_index(tx):
        return Search(t, indexed=False)
    parts = []
    if t.folded is not None and len(t.folded) >= 3:
        parts.append(f"search_text : {_quoted(t.folded)}")
    elif t.folded is not None:  # two characters: every trigram they begin (a space ends every text)
        found = [r[0] for r in tx.all(f"SELECT term FROM {TERMS_TABLE} WHERE term >= :lo AND term <= :hi",
                                      {"lo": t.folded, "hi": t.folded + "\U0010ffff"})]
        found = [term for term in found if term.startswith(t.folded)]
        if len(found) > MAX_TERMS:
            return Search(t, indexed=False)
        if found:
            parts.append(f"search_text : ({' OR '.join(_quoted(term) for term in found)})")
    if t.digits:
        parts.append(f"phone_e164 : {_quoted(t.digits)}")
    return Search(t, indexed=True, match=" OR ".join(parts) or None)


def clause(s: Search, params: dict[str, Any], plan: str = "in") -> str:
    """The WHERE condition (on `lead l`) for a search; adds its parameters to `params`."""
    if plan not in PLANS:
        raise ValueError(f"unknown search plan {plan!r}")
    if not s.indexed or plan == "walk":
        return _like(s.terms, params, "l", exact=True)
    exact = _exact(s.terms, params, "l")
    if s.ids is not None:  # collected already: not asked of the index twice
        params["fts_ids"] = s.ids
        ids = ["SELECT value FROM json_each(:fts_ids)"]
    else:
        ids = _matched_ids(s, params)
    ids += [f"SELECT id FROM lead WHERE {part.removeprefix('l.')}" for part in exact]
    return f"{'+' if plan == 'scan' else ''}l.id IN ({' UNION ALL '.join(ids)})" if ids else "0 = 1"


def _matched_ids(s: Search, params: dict[str, Any]) -> list[str]:
    """SELECTs of the ids of the leads whose text or phone matches: the index's answer for the leads it is up to
    date for, LIKE for the queued ones (it holds their old text, or none)."""
    found = []
    if s.match is not None:
        params["fts"] = s.match
        found.append(f"SELECT rowid AS id FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts"
                     f" AND rowid NOT IN (SELECT id FROM {QUEUE_TABLE})")
    like = _like(s.terms, params, "q", exact=False)
    if like != "0 = 1":
        found.append(f"SELECT q.id FROM lead q WHERE q.id IN (SELECT id FROM {QUEUE_TABLE}) AND {like}")
    return found


def _exact(t: Terms, params: dict[str, Any], alias: str) -> list[str]:
    """The parts of a search that lead's own indexes answer: the whole phone, the number."""
    parts = []
    if t.e164:
        params["qe"] = t.e164
        parts.append(f"{alias}.phone_e164 = :qe")
    if t.number is not None:
        params["qn"] = t.number
        parts.append(f"{alias}.number = :qn")
    return parts


def _any(parts: list[str]) -> str:
    return "(" + " OR ".join(parts) + ")" if parts else "0 = 1"


def _like(t: Terms, params: dict[str, Any], alias: str, *, exact: bool) -> str:
    """The search as LIKE on lead `alias` (with or without its exact parts): one character, SQLite without the
    FTS5 table, PostgreSQL (where pg_trgm serves it), queued leads, walks."""
    parts = []
    if t.folded is not None:
        params["q"] = "%" + t.folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts.append(f"{alias}.search_text LIKE :q ESCAPE '\\'")
    if t.digits:
        params["qd"] = f"%{t.digits}%"
        parts.append(f"{alias}.phone_e164 LIKE :qd")
    return _any(parts + (_exact(t, params, alias) if exact else []))


def count(tx: Tx, s: Search) -> int | None:
    """How many leads match when the search is the only filter, from the FTS5 table (None: it does not answer
    this search, count the usual way): the index's matches among the leads it is up to date for, the queued
    leads LIKE finds, and the leads only the whole phone or the number finds."""
    if not s.indexed:
        return None
    params: dict[str, Any] = {}
    if s.ids is not None:  # collected by `plan` in this transaction
        found = s.collected
    else:
        found = sum(int(tx.scalar(f"SELECT count(*) FROM ({sql})", params)) for sql in _matched_ids(s, params))
    exact = _exact(s.terms, params, "l")
    if exact:  # the few leads with that phone or number: the text parts compared directly
        found += int(tx.scalar(f"SELECT count(*) FROM lead l WHERE {_any(exact)}"
                               f" AND NOT {_like(s.terms, params, 'l', exact=False)}", params))
    return found


def plan(tx: Tx, s: Search, sort: str, order: str, need: int | None) -> tuple[str, Search]:
    """The cheapest way to the first `need` matches in the list's `order` (its ORDER BY on `lead l`, by the
    SORTABLE key `sort`) when the search is the only filter (see the module's docstring), and the search to run
    with it (carrying the matches' ids when they were collected).

    The share of matches among the first PROBE leads of the order tells how far a walk would go; when that is
    far, the matches are collected (up to COLLECT of them) and the cheapest plan by the costs above is taken."""
    if need is None or sort not in INDEXED_SORTS or not s.indexed or s.match is None:
        return "in", s
    params: dict[str, Any] = {}
    like = _like(s.terms, params, "l", exact=True)
    hits = int(tx.scalar(f"SELECT count(*) FROM (SELECT l.search_text, l.phone_e164, l.number FROM lead l"
                         f" ORDER BY {order} LIMIT {PROBE}) l WHERE {like}", params))
    walked = need * PROBE / hits if hits else float("inf")  # leads a walk reads to fill the page
    if walked <= WALK_SURE and hits >= PROBE_HITS:
        return "walk", s
    params = {}
    # Gathered in SQL: a row per match handed to Python and back as JSON cost twice as much (~1 µs a match).
    gathered = tx.one(f"SELECT json_group_array(id), count(*) FROM ({' UNION ALL '.join(_matched_ids(s, params))}"
                      f" LIMIT {COLLECT + 1})", params)
    assert gathered is not None  # an aggregate always has a row
    ids, collected = str(gathered[0]), int(gathered[1])
    leads = int(tx.scalar("SELECT coalesce((SELECT max(id) FROM lead), 0) - coalesce((SELECT min(id) FROM lead), 1)"
                          " + 1"))  # about how many: two index probes, where count(*) reads a whole index
    matches = collected if collected <= COLLECT else max(collected, leads * hits // PROBE)
    costs = {"in": matches * LOOKUP_US, "walk": min(walked, leads) * WALK_US,
             "scan": min(leads, need * leads / max(matches, 1)) * STEP_US + matches * COLLECT_US}
    chosen = min(costs, key=lambda name: costs[name])
    return chosen, replace(s, ids=ids, collected=collected) if collected <= COLLECT else s
