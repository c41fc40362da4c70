"""Search through the index (store/search.py, migration 0005): the same leads, in the same order and pages, as the
LIKE scan it replaces, whatever the text (non-ASCII, FTS5 syntax, phones in any format, two letters); the index
kept in step by every path that writes leads; the migration of an existing desk.

On SQLite the reference is the same Desk call with the FTS5 table hidden (the search before 0005: LIKE) and the
index is tried with each of its plans. On PostgreSQL the search is LIKE either way: the reference is the
planner's own choice and the index run forbids sequential scans, so that the pg_trgm GIN indexes answer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from importfiles import write_csv

from leaddesk.settings import Settings
from leaddesk.store import queries, search
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.store.schema import SCHEMA_HEAD

from .conftest import DeskFactory

# Leads whose texts are hard for an index: non-ASCII case folding, FTS5 query syntax, LIKE wildcards, phones.
CORPUS: list[dict[str, str]] = [
    {"name": "Élodie Durand", "company": "Ölwerk GmbH", "email": "Elodie@Oelwerk.de", "phone": "+49 30 901820"},
    {"name": "Jürgen Groß", "company": "STRASSE & Söhne", "email": "j.gross@strasse.example"},
    {"name": "İsmail Yılmaz", "company": "İstanbul Ticaret", "email": "ismail@ticaret.example"},
    {"name": 'Quote "The" Man', "company": "NEAR AND OR NOT", "title": "a*b ^c -d :e (f) {g}"},
    {"name": "Dana O'Neil", "company": "100% Natural_Foods", "phone": "(212) 555-0102"},
    {"name": "Ann Lee", "company": "Acme 512", "phone": "+1 555 010 0000", "email": "Ann.Lee@Acme.com"},
    {"name": "王小明", "company": "北京公司", "phone": "+86 10 6552 9988"},
    {"name": "Zoë Rocket 🚀", "company": "ﬃ Ligatures", "email": "zoe@rocket.io"},
    {"name": "Back\\slash Co", "company": "Σίσυφος ΑΕ", "phone": "020 7946 0958"},
    {"name": "Mia Co", "email": "mia@x.co"},
]
SORTS = (("number", False), ("number", True), ("updated", True), ("updated", False), ("company", False))
TRICKY = list("aAeEiIoOsSßẞéÉİıöÖΣσς王小🚀ﬃ0123456789 .@+#-_%\\\"*^:(){}'&")


def _numbers(rows: list[dict[str, Any]]) -> list[int]:
    return [int(r["number"]) for r in rows]


@contextmanager
def like_only() -> Iterator[None]:
    """The search before migration 0005: LIKE over every lead (the FTS5 table hidden)."""
    with mock.patch.object(search, "has_index", lambda tx: False):
        yield


# Every way store/search.py may run a list query: (plan, with the matches' ids collected first).
PLANS = (("in", False), ("in", True), ("scan", False), ("scan", True), ("walk", False))


@contextmanager
def forced(plan: str, collected: bool) -> Iterator[None]:
    """Every list query takes this plan (store/search.py `plan`), with or without collected ids."""
    def chosen(tx: Any, s: search.Search, *args: Any) -> tuple[str, search.Search]:
        if collected and s.indexed:
            params: dict[str, Any] = {}
            found = search._matched_ids(s, params)
            ids = [r[0] for r in tx.all(" UNION ALL ".join(found), params)] if found else []
            s = replace(s, ids=json.dumps(ids), collected=len(ids))
        return plan, s

    with mock.patch.object(search, "plan", chosen):
        yield


def run(desk: Desk, flt: LeadFilter, *, index: bool, together: bool = False) -> tuple[int, list[int]]:
    """(count, numbers) of a filter: with the index (PostgreSQL: sequential scans forbidden) or the reference;
    `together`: both from one `lead_page` call (the list's query), else from `count_leads` and `list_leads`."""
    if desk.db.dialect != "postgresql" or not index:
        if together:
            total, rows = desk.lead_page(flt)
            return total, _numbers(rows)
        return desk.count_leads(flt), _numbers(desk.list_leads(flt))
    with desk.db.read() as tx:
        tx.execute("SET LOCAL enable_seqscan = off")
        if together:
            total, rows = queries.lead_page(tx, desk.settings, flt, desk.login)
            return total, _numbers(rows)
        return (queries.count_leads(tx, desk.settings, flt, desk.login),
                _numbers(queries.list_leads(tx, desk.settings, flt, desk.login)))


def filters(text: str) -> list[LeadFilter]:
    """The list's query in every indexed order and a few others, whole and paged, and the palette's finder."""
    found = [LeadFilter(search=text, sort=sort, descending=desc, limit=None) for sort, desc in SORTS]
    found += [LeadFilter(search=text, sort=sort, descending=desc, limit=2, offset=1) for sort, desc in SORTS[:3]]
    found.append(LeadFilter(search=text, sort="updated", descending=True, limit=8))
    found.append(LeadFilter(search=text, limit=None, state="open"))  # with another filter: never a special plan
    return found


def assert_same_as_like(desk: Desk, texts: list[str]) -> None:
    for text in texts:
        for flt in filters(text):
            with like_only():
                expected = run(desk, flt, index=False)
            for plan, collected in PLANS if desk.db.dialect == "sqlite" else PLANS[:1]:
                with forced(plan, collected):
                    assert run(desk, flt, index=True) == expected, (text, plan, collected, flt)
                    assert run(desk, flt, index=True, together=True) == expected, (text, plan, collected, flt)
            assert run(desk, flt, index=True) == expected, (text, "chosen plan", flt)
            assert run(desk, flt, index=True, together=True) == expected, (text, "chosen plan, together", flt)


def assert_index_sound(desk: Desk, *, queued: int | None = 0) -> None:
    """SQLite: the FTS5 index is whole (integrity-check) and holds the current text and phone of every lead but
    the queued ones, and nothing else but theirs; `queued` leads are waiting for `search.sync` (None: any)."""
    if desk.db.dialect != "sqlite":
        return
    fts, queue = search.FTS_TABLE, search.QUEUE_TABLE
    with desk.db.read() as tx:
        assert search.has_index(tx)
        tx.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
        waiting = {r[0] for r in tx.all(f"SELECT id FROM {queue}")}
        if queued is not None:
            assert len(waiting) == queued, waiting
        wrong = tx.all(f"SELECT l.id FROM lead l LEFT JOIN {fts} f ON f.rowid = l.id WHERE l.id NOT IN"
                       f" (SELECT id FROM {queue}) AND (f.rowid IS NULL OR f.search_text IS NOT l.search_text || ' '"
                       " OR f.phone_e164 IS NOT l.phone_e164)")
        assert wrong == []
        stray = tx.all(f"SELECT rowid FROM {fts} WHERE rowid NOT IN (SELECT id FROM lead)"
                       f" AND rowid NOT IN (SELECT id FROM {queue})")
        assert stray == []


@pytest.fixture
def corpus(open_desk: DeskFactory) -> Desk:
    desk = open_desk(preset="sales")
    for values in CORPUS:
        desk.add_lead(values, force=True)
    return desk


def parts_of(desk: Desk) -> list[str]:
    """Every field text of every lead: what the searches below cut pieces from."""
    return [str(r[key]) for r in desk.list_leads(LeadFilter(limit=None))
            for key in ("contact_name", "company", "email", "phone") if r[key]]


def piece(draw: st.DrawFn, texts: list[str], size: st.SearchStrategy[int]) -> str:
    """A piece of one of `texts`, its case changed the way users type."""
    text = draw(st.sampled_from(texts))
    start = draw(st.integers(0, max(0, len(text) - 1)))
    cut = text[start:start + draw(size)]
    return str(draw(st.sampled_from([cut, cut.upper(), cut.lower(), cut.swapcase(), cut.title()])))


@st.composite
def search_texts(draw: st.DrawFn, texts: list[str]) -> str:
    kind = draw(st.sampled_from(["piece", "piece", "two", "tricky", "syntax", "phone"]))
    if kind == "piece":
        return piece(draw, texts, st.integers(3, 12))
    if kind == "two":  # through the trigrams that begin with them
        return piece(draw, texts, st.just(2))
    if kind == "tricky":
        return draw(st.text(st.sampled_from(TRICKY), min_size=1, max_size=8))
    if kind == "syntax":
        words = st.sampled_from(['"', '""', "*", "NEAR", "NEAR(", "AND", "OR", "NOT", "-", "^", ":", "(", ")",
                                 "{search_text}", "search_text:", "phone_e164 :", "acme", "lee", "555"])
        return " ".join(draw(st.lists(words, min_size=1, max_size=4)))
    digits = draw(st.text(st.sampled_from("0123456789"), min_size=3, max_size=7))
    shape = draw(st.sampled_from(["{}", "+1 {}", "({}) ", "{}-", "555 {}", "# {}"]))
    return str(shape.format(digits))


def test_every_search_finds_what_like_finds(corpus: Desk) -> None:
    texts = parts_of(corpus)

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(search_texts(texts))
    def check(text: str) -> None:
        assert_same_as_like(corpus, [text])

    check()
    assert_index_sound(corpus)


def test_non_ascii_case_folding_is_the_casefold_of_before(corpus: Desk) -> None:
    """What `str.casefold` makes equal is found (ß and SS, final and medial sigma); what it keeps apart is not
    (é and e; the dotted capital İ folds to i + a combining dot, so "istanbul" does not find "İstanbul")."""
    def found(text: str) -> list[str]:
        return [r["contact_name"] for r in corpus.list_leads(LeadFilter(search=text, limit=None))]

    assert found("GROSS") == found("groß") == found("GROẞ") == ["Jürgen Groß"]
    assert found("strasse & SÖHNE") == ["Jürgen Groß"]
    assert found("ΣΊΣΥΦΟΣ") == found("σίσυφος") == ["Back\\slash Co"]
    assert found("ffi lig") == found("ﬃ LIG") == ["Zoë Rocket 🚀"]
    assert found("İstanbul") == found("i̇stanbul") == ["İsmail Yılmaz"]
    assert found("istanbul") == []
    assert found("elodie") == ["Élodie Durand"]  # the email: Elodie@Oelwerk.de
    assert found("élodie durand") == ["Élodie Durand"] and found("elodie durand") == []
    assert_same_as_like(corpus, ["GROSS", "ΣΊΣΥΦΟΣ", "ffi", "istanbul", "İstanbul", "élodie", "王小", "🚀"])


def test_fts5_syntax_and_like_wildcards_are_plain_text(corpus: Desk) -> None:
    def found(text: str) -> list[int]:
        return _numbers(corpus.list_leads(LeadFilter(search=text, limit=None)))

    assert found('"the"') == [4] and found('quote "') == [4] and found('"') == [4]
    assert found("NEAR AND") == [4] and found("or not") == [4] and found("NEAR") == [4]
    assert found("a*b ^c") == [4] and found("-d :e") == [4] and found("(f) {g}") == [4]
    assert found("l_f") == [5] and found("%") == [5] and found("_") == [5]
    assert found("100%") == [5, 6]  # its digits are a phone fragment too: +15550100000
    assert found("k\\sl") == [9] and found("\\") == [9]
    assert found("*") == [4] and found("NEAR(") == [] and found('search_text : "lee"') == []
    assert_same_as_like(corpus, ['"the"', "NEAR AND", "a*b", "100%", "l_f", "k\\sl", "NEAR(", "{g}"])


def test_phone_fragments_in_any_format(corpus: Desk) -> None:
    def found(text: str) -> list[int]:
        return _numbers(corpus.list_leads(LeadFilter(search=text, limit=None)))

    assert found("555 01") == [5, 6] and found("(555) 010") == [5, 6] and found("+1 555") == [6]
    assert found("212-555") == [5] and found("555.0102") == [5] and found("6552 99") == [7]
    assert_same_as_like(corpus, ["555 01", "(555) 010", "+1 555", "0102", "020 7946 0958", "#5", "5", "99"])


def test_a_whole_national_number_finds_its_e164_phone(open_desk: DeskFactory) -> None:
    """In a desk of region GB "020 7946 0958" is +442079460958: its digits are no part of it, the phone is."""
    desk = open_desk(preset="sales", settings=Settings(default_region="GB"))
    desk.add_lead({"name": "Ann Lee", "phone": "020 7946 0958"})
    desk.add_lead({"name": "Bob Stone", "phone": "+44 20 7946 0000"})
    assert _numbers(desk.list_leads(LeadFilter(search="020 7946 0958"))) == [1]
    assert _numbers(desk.list_leads(LeadFilter(search="20 7946"))) == [1, 2]
    assert_same_as_like(desk, ["020 7946 0958", "(020) 7946-0958", "07946", "#2", "2"])


def test_two_letters_and_one(corpus: Desk) -> None:
    """Two characters go through the trigrams they begin, the last two of a text included (`co` of mia@x.co);
    one character is a LIKE scan."""
    def found(text: str) -> list[int]:
        return _numbers(corpus.list_leads(LeadFilter(search=text, limit=None)))

    assert found("co") == [6, 9, 10] and found(".co") == [6, 10]
    assert found("io") == [8] and found("DE") == [1]  # only at the very end: zoe@rocket.io, elodie@oelwerk.de
    assert found("王小") == [7] and found("zz") == [] and found('"t') == [4]
    assert_same_as_like(corpus, ["co", "CO", "io", "de", "王小", "zz", '"t', "e", "🚀", "#3", "55", "e ", " e"])


def test_a_nul_in_the_text_finds_no_text_but_still_the_number(corpus: Desk) -> None:
    assert corpus.list_leads(LeadFilter(search="lee\x00")) == []
    assert corpus.count_leads(LeadFilter(search="ann\x00lee")) == 0
    assert _numbers(corpus.list_leads(LeadFilter(search="#3\x00"))) == []
    assert corpus.count_leads(LeadFilter(search="99999999999999999999999")) == 0  # no lead number that large


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(leads=st.lists(st.fixed_dictionaries({
    "name": st.text(st.sampled_from(TRICKY), min_size=1, max_size=10).filter(lambda s: s.strip()),
    "company": st.text(st.sampled_from(TRICKY), max_size=10),
    "email": st.from_regex(r"[A-Za-z0-9]{1,6}\.[a-z]{1,4}@[a-z]{2,6}\.(com|de|co)", fullmatch=True),
    "phone": st.from_regex(r"\+1 (212|415|555) [2-9][0-9]{2} [0-9]{4}", fullmatch=True),
}), min_size=1, max_size=3), data=st.data())
def test_generated_leads_are_found_as_like_finds_them(desk: Desk, leads: list[dict[str, str]],
                                                      data: st.DataObject) -> None:
    for values in leads:
        desk.add_lead(values, force=True)
    texts = [v for values in leads for v in values.values() if v.strip()]
    assert_same_as_like(desk, [data.draw(search_texts(texts)) for _ in range(3)])


# --- the index follows every write -----------------------------------------------------------------------------

PROBES = ["ann", "lee", "bob", "stone", "acme", "globex", "555 01", "0142", "+1 212", "@acme", "zed", "new name",
          "co", "gl"]


def test_the_index_follows_edits_deletes_copies_and_undo(desk: Desk) -> None:
    desk.add_lead({"name": "Ann Lee", "company": "Acme", "phone": "+1 212 555 0101", "email": "ann@acme.com"})
    desk.add_lead({"name": "Bob Stone", "company": "Globex", "phone": "+1 212 555 0142"})
    desk.edit_lead("1", {"name": "New Name", "phone": "+1 415 555 0199", "email": "zed@acme.com"})
    assert _numbers(desk.list_leads(LeadFilter(search="ann lee"))) == []
    assert _numbers(desk.list_leads(LeadFilter(search="new name"))) == [1]
    assert _numbers(desk.list_leads(LeadFilter(search="415 555"))) == [1]
    assert_index_sound(desk)
    desk.undo("1")
    assert _numbers(desk.list_leads(LeadFilter(search="ann lee"))) == [1]
    assert _numbers(desk.list_leads(LeadFilter(search="415 555"))) == []
    copy = desk.copy_lead("2")
    assert _numbers(desk.list_leads(LeadFilter(search="bob stone"))) == [2, copy["number"]]
    desk.delete_lead("2", force=True)  # no hook after a delete: the lead waits in the queue, found by nobody
    assert _numbers(desk.list_leads(LeadFilter(search="bob stone"))) == [copy["number"]]
    assert desk.count_leads(LeadFilter(search="bob stone")) == 1
    assert_index_sound(desk, queued=1)
    assert_same_as_like(desk, PROBES)
    desk.add_activity(str(copy["number"]), "note", "the next change syncs the index")
    assert_index_sound(desk)


def test_leads_written_outside_the_service_layer_are_found_before_the_index_is_synced(desk: Desk) -> None:
    desk.add_lead({"name": "Ann Lee", "company": "Acme", "phone": "+1 212 555 0101"})
    desk.add_lead({"name": "Bob Stone", "company": "Globex", "phone": "+1 212 555 0142"})
    with desk.db.write() as tx:  # a script: the triggers queue what it does, nothing syncs
        tx.execute("UPDATE lead SET search_text = 'zed zulu initech', phone_e164 = '+14155550199' WHERE number = 1")
        tx.execute("DELETE FROM lead WHERE number = 2")
        tx.execute("INSERT INTO lead (number, title, contact_name, status_id, search_text, phone_e164)"
                   " SELECT 3, 'Cy', 'Cy Young', status_id, 'cy young acme', '+12125550177' FROM lead")
    assert_index_sound(desk, queued=3)
    for plan, collected in PLANS:
        with forced(plan, collected):
            assert _numbers(desk.list_leads(LeadFilter(search="acme"))) == [3]
            assert _numbers(desk.list_leads(LeadFilter(search="zulu"))) == [1]
            assert _numbers(desk.list_leads(LeadFilter(search="555 01"))) == [1, 3]
            assert _numbers(desk.list_leads(LeadFilter(search="globex"))) == []
    assert desk.count_leads(LeadFilter(search="acme")) == 1 and desk.count_leads(LeadFilter(search="555")) == 2
    assert_same_as_like(desk, [*PROBES, "zulu", "cy", "ze"])
    desk.edit_lead("3", {"company": "Initech"})
    assert_index_sound(desk)
    assert _numbers(desk.list_leads(LeadFilter(search="initech"))) == [1, 3]


def test_the_list_page_and_its_count_ask_the_index_once(open_desk: DeskFactory) -> None:
    """`lead_page` (the list's query when its search text changes) collects the matches once for the page and
    the count, where `count_leads` then `list_leads` ask the index twice."""
    desk = open_desk(preset="sales")
    for i in range(40):  # few matches among many leads: collected from the index (not a walk of the list)
        desk.add_lead({"name": f"Zora Quill {i}" if i % 10 == 3 else f"Other Person {i}"}, force=True)
    conn = desk.db._conn
    if conn is None:
        pytest.skip("the index is SQLite's FTS5 table")
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        total, rows = desk.lead_page(LeadFilter(search="quill", limit=2, offset=1))
    finally:
        conn.set_trace_callback(None)
    assert total == 4 and _numbers(rows) == [14, 24]
    asked = [sql for sql in statements if f"{search.FTS_TABLE} MATCH" in sql]
    assert len(asked) == 1, asked
    assert desk.lead_page(LeadFilter(search="quill", limit=0)) == (4, [])
    assert desk.lead_page(LeadFilter(search="nobody here", limit=10)) == (0, [])


def test_the_index_follows_merges_and_their_undo(desk: Desk) -> None:
    desk.add_lead({"name": "Ann Lee", "phone": "+1 212 555 0101"})
    desk.add_lead({"name": "Ann Leigh", "company": "Globex", "email": "ann@globex.com"})
    desk.merge("1", ["2"])
    assert _numbers(desk.list_leads(LeadFilter(search="ann lei"))) == []
    assert _numbers(desk.list_leads(LeadFilter(search="globex"))) == [1]  # the company came over to lead 1
    assert_index_sound(desk)
    assert_same_as_like(desk, PROBES)
    desk.undo_merge()
    assert _numbers(desk.list_leads(LeadFilter(search="ann lei"))) == [2]
    assert _numbers(desk.list_leads(LeadFilter(search="globex"))) == [2]
    assert_index_sound(desk)
    assert_same_as_like(desk, PROBES)


def test_the_index_follows_an_import_and_its_undo(desk: Desk, tmp_path: Path) -> None:
    desk.add_lead({"name": "Ann Lee", "company": "Acme"})
    rows = [["Name", "Company", "Phone", "Email"]] + [
        [f"Bob Stone {i}", f"Globex {i}", f"+1 212 555 {i:04d}", f"bob{i}@globex.com"] for i in range(140, 160)]
    summary = desk.import_leads(str(write_csv(tmp_path / "in.csv", rows)))
    assert _numbers(desk.list_leads(LeadFilter(search="bob stone 14", limit=None))) == list(range(2, 12))
    assert desk.count_leads(LeadFilter(search="globex")) == 20
    assert_index_sound(desk)
    assert_same_as_like(desk, [*PROBES, "stone 15", "0155"])
    # duplicates update: an earlier lead, a row of this file (in the same chunk); new leads besides
    again = [["Name", "Company", "Phone"], ["Bob Renamed", "Initech", "+1 212 555 0141"],
             ["Cy Young", "Hooli", "+1 212 555 0177"], ["Cy Younger", "Hooli", "+1 212 555 0177"]]
    desk.import_leads(str(write_csv(tmp_path / "again.csv", again)), on_duplicate="update")
    assert _numbers(desk.list_leads(LeadFilter(search="bob renamed"))) == [3]
    assert _numbers(desk.list_leads(LeadFilter(search="cy young"))) == [22]
    assert _numbers(desk.list_leads(LeadFilter(search="younger"))) == [22]
    assert_index_sound(desk)
    assert_same_as_like(desk, [*PROBES, "renamed", "initech", "hooli", "cy"])
    desk.undo_import(summary["batch"])  # lead 3, changed since (its email stays bob141@globex.com), stays
    assert _numbers(desk.list_leads(LeadFilter(search="globex"))) == [3]
    assert desk.count_leads(LeadFilter(search="globex")) == 1
    assert_index_sound(desk)
    assert_same_as_like(desk, [*PROBES, "stone 15", "renamed"])


@pytest.mark.sqlite_only
def test_an_import_writes_the_index_once_at_its_end(desk: Desk, tmp_path: Path) -> None:
    """An import indexes its new leads once, after its last chunk (search.batch_indexed_at_end), not every few
    thousand leads (each FTS5 write makes the next chunks' inserts carry a statement savepoint) nor through the
    queue: 5,500 leads, one statement that writes the index, nothing left queued; then every one is found
    through the index."""
    rows = [["Name", "Company", "Phone"]] + [[f"Dora Quill {i}", f"Zephyr {i}", f"+1 415 555 {i:04d}"]
                                             for i in range(5500)]
    conn = desk.db._conn
    assert conn is not None
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        summary = desk.import_leads(str(write_csv(tmp_path / "many.csv", rows)))
    finally:
        conn.set_trace_callback(None)
    assert summary["imported"] == 5500
    writes = [sql for sql in statements if sql.startswith(f"INSERT INTO {search.FTS_TABLE} ")]
    assert len(writes) == 1, writes
    assert not any(sql.startswith(f"INSERT INTO {search.QUEUE_TABLE}") for sql in statements)
    assert desk.count_leads(LeadFilter(search="zephyr")) == 5500
    assert 5500 in _numbers(desk.list_leads(LeadFilter(search="dora quill 5499", limit=None)))
    assert_index_sound(desk)
    assert_same_as_like(desk, ["dora quill 5499", "zephyr 17", "quill"])


@pytest.mark.sqlite_only
def test_an_import_indexes_its_leads_in_slices(desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The import's leads go into the index `INDEX_SLICE` ids at a time: FTS5 writes its pending terms at each
    statement, so its memory does not grow with the file (100k rows: peak 47 MB -> 38 MB, bench/import.py)."""
    monkeypatch.setattr(search, "INDEX_SLICE", 400)
    rows = [["Name", "Company"]] + [[f"Elke Vorn {i}", f"Tarrow {i}"] for i in range(1000)]
    conn = desk.db._conn
    assert conn is not None
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        assert desk.import_leads(str(write_csv(tmp_path / "in.csv", rows)))["imported"] == 1000
    finally:
        conn.set_trace_callback(None)
    assert len([sql for sql in statements if sql.startswith(f"INSERT INTO {search.FTS_TABLE} ")]) == 3
    assert desk.count_leads(LeadFilter(search="tarrow")) == 1000
    assert_index_sound(desk)


def _insert_trigger(desk: Desk) -> str | None:
    with desk.db.read() as tx:
        return tx.scalar("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n",
                         {"n": search.INSERT_TRIGGER})


@pytest.mark.sqlite_only
def test_an_import_lifts_the_insert_trigger_only_while_it_writes_its_leads(
        desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The import writes its leads with the lead table's insert trigger lifted (each row would carry a statement
    journal: search.batch_indexed_at_end) and queues them itself; the trigger is back, unchanged, after an import,
    a dry run and an import that fails half way (rolled back with it), and keeps queueing the leads added later."""
    from leaddesk.store import derived, importing

    trigger = _insert_trigger(desk)
    assert trigger is not None and "lead_fts_queue" in trigger
    rows = [["Name", "Company"]] + [[f"Ivo Quist {i}", f"Umbra {i}"] for i in range(1200)]
    path = write_csv(tmp_path / "in.csv", rows)
    during: list[str | None] = []
    insert_many = importing.insert_many

    def watched(tx: Any, table: str, chunk: list[dict[str, Any]]) -> None:
        during.append(tx.scalar("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n",
                                {"n": search.INSERT_TRIGGER}))
        insert_many(tx, table, chunk)

    monkeypatch.setattr(importing, "insert_many", watched)
    assert desk.import_leads(str(path))["imported"] == 1200
    assert during and set(during) == {None}
    assert _insert_trigger(desk) == trigger
    assert desk.count_leads(LeadFilter(search="umbra")) == 1200
    assert_index_sound(desk)

    assert desk.import_leads(str(path), dry_run=True, on_duplicate="create")["imported"] == 1200
    assert _insert_trigger(desk) == trigger

    calls: list[int] = []
    imported = derived.leads_imported

    def failing(ctx: Any, low: int, high: int, *rest: Any) -> None:
        calls.append(low)
        if len(calls) == 2:
            raise RuntimeError("the disk went away")
        imported(ctx, low, high, *rest)

    monkeypatch.setattr(derived, "leads_imported", failing)
    with pytest.raises(RuntimeError):
        desk.import_leads(str(path), on_duplicate="create")
    assert len(calls) == 2 and _insert_trigger(desk) == trigger
    assert desk.count_leads(LeadFilter(search="umbra")) == 1200  # nothing of the failed import
    desk.add_lead({"name": "Wendel Umbra"})
    assert desk.count_leads(LeadFilter(search="wendel")) == 1
    assert_index_sound(desk)


# --- the migration ---------------------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_a_desk_of_the_previous_revision_is_indexed_when_it_is_upgraded(desk: Desk, db_file: str) -> None:
    from alembic import command

    from leaddesk.store import migrate

    for values in CORPUS:
        desk.add_lead(values, force=True)
    desk.close()
    command.downgrade(migrate.alembic_config(f"sqlite:///{db_file}"), "0004")
    conn = sqlite3.connect(db_file)
    assert not [r for r in conn.execute("SELECT name FROM sqlite_master") if search.is_search_index(r[0])]
    conn.close()
    old = Desk.open(db_file, login="ann")  # a 0004 desk without the index: upgraded on opening
    try:
        with old.db.read() as tx:
            assert search.has_index(tx)
        assert _numbers(old.list_leads(LeadFilter(search="strasse"))) == [2]
        assert old.count_leads(LeadFilter(search="555 01")) == 2
        assert_index_sound(old)
        assert_same_as_like(old, ["strasse", "555 01", "co", "ann lee", '"the"'])
    finally:
        old.close()


@pytest.mark.sqlite_only
def test_without_the_index_search_scans_and_writes_work(desk: Desk) -> None:
    """A SQLite without the trigram tokenizer gets no index from 0005 (as if these were dropped)."""
    desk.add_lead({"name": "Ann Lee", "phone": "+1 212 555 0101"})
    with desk.db.write() as tx:
        for statement in ("DROP TRIGGER lead_fts_insert", "DROP TRIGGER lead_fts_update",
                          "DROP TRIGGER lead_fts_delete", "DROP TABLE lead_fts_terms", "DROP TABLE lead_fts",
                          "DROP TABLE lead_fts_queue"):
            tx.execute(statement)
    desk.add_lead({"name": "Bob Stone", "phone": "+1 212 555 0142"})
    desk.edit_lead("1", {"name": "Ann Leigh"})
    with desk.db.read() as tx:
        assert not search.has_index(tx)
    assert _numbers(desk.list_leads(LeadFilter(search="555 01"))) == [1, 2]
    assert _numbers(desk.list_leads(LeadFilter(search="ann lei"))) == [1]
    assert desk.count_leads(LeadFilter(search="st")) == 1


def test_postgres_search_uses_the_trigram_indexes(desk: Desk, backend: str) -> None:
    if backend != "pg":
        pytest.skip("PostgreSQL only")
    desk.add_lead({"name": "Ann Lee", "phone": "+1 212 555 0101"})
    with desk.db.read() as tx:
        indexes = {r[0] for r in tx.all("SELECT indexname FROM pg_indexes WHERE tablename = 'lead'")}
        assert set(search.PG_INDEXES) <= indexes
        tx.execute("SET LOCAL enable_seqscan = off")
        params: dict[str, Any] = {}
        where = search.clause(search.prepare(tx, "ann le 555 01", "US"), params)
        plan = "\n".join(r[0] for r in tx.all(f"EXPLAIN SELECT l.id FROM lead l WHERE {where}", params))
    assert "ix_lead_search_trgm" in plan and "ix_lead_phone_trgm" in plan


def test_postgres_without_pg_trgm_still_migrates_and_searches(backend: str, request: pytest.FixtureRequest) -> None:
    if backend != "pg":
        pytest.skip("PostgreSQL only")
    url = request.getfixturevalue("pg_database")()
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:  # CREATE EXTENSION pg_trgm now fails: one of its functions is taken
        conn.execute(text("CREATE FUNCTION public.similarity(text, text) RETURNS real"
                          " LANGUAGE sql AS 'SELECT 0::real'"))
    engine.dispose()
    desk = Desk.open(url, login="ann")
    try:
        desk.init("sales")
        desk.add_lead({"name": "Ann Lee", "phone": "+1 212 555 0101"})
        with desk.db.read() as tx:
            assert not tx.scalar("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            assert tx.scalar("SELECT version_num FROM alembic_version") == SCHEMA_HEAD  # every migration ran
        assert _numbers(desk.list_leads(LeadFilter(search="ann le"))) == [1]
        assert _numbers(desk.list_leads(LeadFilter(search="555 01"))) == [1]
    finally:
        desk.close()
