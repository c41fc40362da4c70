"""Text the database cannot store, on every backend (issue 9): a lone surrogate (what bytes that are not UTF-8
become in a command-line argument, or a JSON `\\udXXX` escape) and a NUL character.

SQLite's driver cannot encode a lone surrogate; PostgreSQL's cannot either, and PostgreSQL cannot hold a NUL in
text at all (SQLite could, so the store refuses it itself). Either way the answer must be the store's one-line
refusal (`RuleError`), never the driver's exception, and nothing is written. Reading with such text (a search, a
filter, a reference) answers normally (nothing found) or with the same kind of refusal.

The SQLite side of these refusals is also held through the command line by tests/test_hostile_properties.py;
here every case runs on SQLite and, with LEADDESK_TEST_PG_URL set, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leaddesk.store.desk import Desk
from leaddesk.store.errors import LeadDeskError, NotFound, RuleError
from leaddesk.store.queries import LeadFilter

SURROGATE, NUL = "Ann \udcff Lee", "Ann \x00 Lee"
UNICODE_REASON = "not valid Unicode"
NUL_REASON = "contains a NUL character"
REASONS = {SURROGATE: UNICODE_REASON, NUL: NUL_REASON}

Write = Callable[[Desk, str], Any]
WRITES: dict[str, Write] = {
    "add: name": lambda desk, text: desk.add_lead({"name": text}),
    "add: company": lambda desk, text: desk.add_lead({"name": "Ann Lee", "company": text}),
    "add: description": lambda desk, text: desk.add_lead({"name": "Ann Lee", "description": text}),
    "add: tags": lambda desk, text: desk.add_lead({"name": "Ann Lee", "tags": text}),
    "edit: city": lambda desk, text: desk.edit_lead("1", {"city": text}),
    "edit: job title": lambda desk, text: desk.edit_lead("1", {"job_title": text}),
    "note": lambda desk, text: desk.add_activity("1", "note", text),
    "call": lambda desk, text: desk.add_activity("1", "call", text),
    "lost note": lambda desk, text: desk.mark_lost("1", "Not a fit", text),
    "follow-up note": lambda desk, text: desk.set_followup("1", "tomorrow", note=text),
    "source: add": lambda desk, text: desk.catalog_change("sources", "add", text),
    "source: rename": lambda desk, text: desk.catalog_change("sources", "rename", "Referral", text),
    "lost reason: add": lambda desk, text: desk.catalog_change("reasons", "add", text),
    "status: add": lambda desk, text: desk.catalog_change("statuses", "add", text, "open", None),
    "status: rename": lambda desk, text: desk.catalog_change("statuses", "rename", "Engaged", text),
    "partner": lambda desk, text: desk.add_partner(text),
    "web form": lambda desk, text: desk.intake_lead({"name": text, "email": "ann@form.example"}),
}


@pytest.mark.parametrize("text", [SURROGATE, NUL], ids=["surrogate", "nul"])
@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_unstorable_text_is_refused_and_nothing_is_written(desk: Desk, snapshot: Callable[[Desk], Any],
                                                          count: Callable[..., int], write: Write,
                                                          text: str) -> None:
    desk.add_lead({"name": "Base Lead"})
    before = snapshot(desk)
    catalogs = {kind: desk.catalog_list(kind) for kind in ("sources", "reasons")}
    partners = count(desk, "partner")
    with pytest.raises(RuleError) as refused:
        write(desk, text)
    assert REASONS[text] in str(refused.value), str(refused.value)
    assert "\x00" not in str(refused.value) and "\udcff" not in str(refused.value)  # shown visibly
    assert snapshot(desk) == before
    assert {kind: desk.catalog_list(kind) for kind in catalogs} == catalogs
    assert count(desk, "partner") == partners


Read = Callable[[Desk, str], Any]
READS: dict[str, Read] = {
    "show": lambda desk, text: desk.show(text),
    "lookup": lambda desk, text: desk.lookup(text),
    "list: search": lambda desk, text: desk.list_leads(LeadFilter(search=text)),
    "count: search": lambda desk, text: desk.count_leads(LeadFilter(search=text)),
    "list: owner": lambda desk, text: desk.list_leads(LeadFilter(owner=text)),
    "list: source": lambda desk, text: desk.list_leads(LeadFilter(source=text)),
    "customers: search": lambda desk, text: desk.customers(search=text),
    "possible duplicates": lambda desk, text: desk.possible_duplicates({"name": text, "email": text}),
    "status by name": lambda desk, text: desk.set_status("1", text),
}


@pytest.mark.parametrize("text", [SURROGATE, NUL], ids=["surrogate", "nul"])
@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_reading_with_unstorable_text_finds_nothing_or_refuses(desk: Desk, snapshot: Callable[[Desk], Any],
                                                               read: Read, text: str) -> None:
    desk.add_lead({"name": "Ann Lee", "email": "ann@lee.example", "city": "Rome"})
    before = snapshot(desk)
    try:
        found = read(desk, text)
    except (RuleError, NotFound) as refused:
        assert "\x00" not in str(refused) and "\udcff" not in str(refused)
    except LeadDeskError as other:
        pytest.fail(f"an unexpected refusal: {other!r}")
    else:
        assert not found, found  # nothing holds such text
    assert snapshot(desk) == before
    assert desk.show("1")["contact_name"] == "Ann Lee"  # the desk goes on working
