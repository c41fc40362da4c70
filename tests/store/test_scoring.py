"""Scoring and BANT (issue 6): the [score] rules (each condition kind, decay on a frozen clock), their one-line
refusals, the automatic score kept up to date on every change (edit, status, activity, captured reply, import
chunk) without history or version bumps, the daily and rules-changed recompute, sort and filter by the total,
the explanation, and the BANT answers cycled through the store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from importfiles import write_csv

from leaddesk import clock
from leaddesk.settings import CustomField, Scoring, Settings, load_settings
from leaddesk.store import importing, scoring
from leaddesk.store.desk import Desk
from leaddesk.store.errors import RuleError
from leaddesk.store.queries import LeadFilter

from .conftest import NOW, DeskFactory

TODAY = NOW.date()
CUSTOM = {"employees": CustomField("employees", "number"), "industry": CustomField("industry", "choice",
                                                                                  choices=("Retail", "Software")),
          "partner_deal": CustomField("partner_deal", "bool")}
RULES = """
[score]
decay_per_day = 2
decay_after = 3
decay_max = 10
[[score.rules]]
points = 10
field = "source"
in = ["referral", "Partner"]
[[score.rules]]
points = 15
bant = "budget"
is = "yes"
[[score.rules]]
points = 5
activity = "call"
per = "each"
max = 12
[[score.rules]]
points = 7
activity = "email_in"
[[score.rules]]
points = 3
field = "company"
present = true
[[score.rules]]
points = 4
field = "employees"
at_least = 50
[[score.rules]]
points = -6
field = "status"
is = "Engaged"
"""
HEAD = """
[custom_fields.employees]
type = "number"
[custom_fields.industry]
type = "choice"
choices = ["Retail", "Software"]
[custom_fields.partner_deal]
type = "bool"
"""


def rules_from(tmp_path: Path, text: str, head: str = HEAD) -> Settings:
    path = tmp_path / "score.toml"
    path.write_text(head + text, encoding="utf-8")
    return load_settings(path)


def rule_set(tmp_path: Path, *rules: str, **decay: int) -> Scoring:
    body = "[score]\n" + "".join(f"{k} = {v}\n" for k, v in decay.items())
    body += "".join(f"[[score.rules]]\n{r}\n" for r in rules)
    return rules_from(tmp_path, body).score


def points(rules: Scoring, lead: dict[str, Any] | None = None, counts: dict[str, int] | None = None,
           last: str | None = None, today: date = TODAY) -> tuple[int, list[str]]:
    total, reasons = scoring.evaluate({"status_category": "open", **(lead or {})}, counts or {}, last, today, rules)
    return total, [scoring.reason_line(r) for r in reasons]


@pytest.fixture
def scored(open_desk: DeskFactory, tmp_path: Path) -> Desk:
    """Ann's sales desk with RULES in its settings."""
    return open_desk(settings=rules_from(tmp_path, RULES), preset="sales")


def stored(desk: Desk, number: int) -> dict[str, Any]:
    with desk.db.read() as tx:
        row = tx.one("SELECT score, auto_score, version FROM lead WHERE number = :n", {"n": number})
    return dict(row)


# -- the rules, one condition kind at a time (pure) ----------------------------------------------------
def test_field_rules_match_names_and_text_regardless_of_case(tmp_path: Path) -> None:
    rules = rule_set(tmp_path, 'points = 10\nfield = "source"\nis = "referral"',
                     'points = 2\nfield = "city"\nin = ["New  York", "Rome"]')
    assert points(rules, {"source": "Referral", "city": "new york"}) == (
        12, ["+10 source is referral", "+2 city is New  York or Rome"])
    assert points(rules, {"source": "Event", "city": None}) == (0, [])


def test_present_absent_and_unanswered_bant(tmp_path: Path) -> None:
    rules = rule_set(tmp_path, 'points = 3\nfield = "company"\npresent = true',
                     'points = -2\nfield = "email"\npresent = false',
                     'points = 1\nfield = "bant_need"\npresent = true')
    assert points(rules, {"company": "Acme", "email": "a@b.example", "bant_need": "unknown"}) == (
        3, ["+3 company given"])
    assert points(rules, {"company": "", "email": None, "bant_need": "no"}) == (-1, ["-2 no email", "+1 need given"])


def test_priority_numbers_money_and_ranges(tmp_path: Path) -> None:
    rules = rule_set(tmp_path, 'points = 2\nfield = "priority"\nin = ["high", 3]',
                     'points = 4\nfield = "priority"\nat_least = "medium"\nat_most = "high"',
                     'points = 5\nfield = "expected_revenue"\nat_least = 10000',
                     'points = 1\nfield = "probability"\nis = 50')
    total, reasons = points(rules, {"priority": 2, "expected_revenue_cents": 1_000_000, "probability": 50})
    assert (total, reasons) == (12, ["+2 priority is high or 3", "+4 priority between medium and high",
                                     "+5 expected revenue at least 10,000.00", "+1 probability is 50"])
    assert points(rules, {"priority": 3, "expected_revenue_cents": 999_999, "probability": None})[0] == 2
    assert points(rules, {"priority": 0})[0] == 0


def test_tags_status_and_custom_fields(tmp_path: Path) -> None:
    rules = rule_set(tmp_path, 'points = 3\nfield = "tags"\nis = "VIP"',
                     'points = 4\nfield = "status"\nis = "engaged"',
                     'points = 5\nfield = "employees"\nat_least = 50\nat_most = 500',
                     'points = 6\nfield = "custom:industry"\nis = "software"',
                     'points = 7\nfield = "partner_deal"\nis = true', 'points = 8\nfield = "employees"\nis = 60')
    lead = {"tags": "new,vip", "status": "Engaged",
            "custom": {"employees": 60, "industry": "Software", "partner_deal": True}}
    assert points(rules, lead) == (33, ["+3 tagged VIP", "+4 status is engaged", "+5 employees between 50 and 500",
                                        "+6 industry is software", "+7 partner deal is yes",
                                        "+8 employees is 60"])
    assert points(rules, {"tags": "vipx", "custom": {"employees": 10, "partner_deal": False}}) == (0, [])


def test_bant_rules(tmp_path: Path) -> None:
    rules = rule_set(tmp_path, 'points = 15\nbant = "budget"\nis = "yes"',
                     'points = -5\nbant = "authority"\nin = ["no", "unknown"]', 'points = 1\nbant = "need"\nis = "y"')
    assert points(rules, {"bant_budget": "yes", "bant_authority": "unknown", "bant_need": "yes"}) == (
        11, ["+15 budget: yes", "-5 authority: no or unknown", "+1 need: y"])
    assert points(rules, {"bant_budget": "no", "bant_authority": "yes", "bant_need": "no"})[0] == 0


def test_activity_rules_once_each_max_and_direction(tmp_path: Path) -> None:
    rules = rule_set(tmp_path, 'points = 5\nactivity = "call"\nper = "each"\nmax = 12',
                     'points = 7\nactivity = "email_in"', 'points = 1\nactivity = "email"\nper = "each"',
                     'points = 4\nactivity = "meeting"\nat_least = 2', 'points = 2\nactivity = "note"\nlabel = "Notes"')
    assert points(rules, counts={"call": 2}) == (10, ["+10 2 calls × 5"])
    assert points(rules, counts={"call": 3}) == (12, ["+12 3 calls × 5 (max 12)"])
    assert points(rules, counts={"email_out": 2}) == (2, ["+2 2 emails × 1"])  # sent, not a reply
    assert points(rules, counts={"email_in": 1, "email_out": 1}) == (9, ["+7 1 reply", "+2 2 emails × 1"])
    assert points(rules, counts={"meeting": 1})[0] == 0
    assert points(rules, counts={"meeting": 2, "note": 1}) == (6, ["+4 2 meetings", "+2 Notes (1)"])


def test_decay_counts_days_without_contact_on_open_leads_only(tmp_path: Path) -> None:
    rules = rule_set(tmp_path, 'points = 20\nfield = "company"\npresent = true', decay_per_day=2, decay_after=3,
                     decay_max=10)
    lead = {"company": "Acme"}
    assert points(rules, lead, last="2026-11-24T09:00:00") == (20, ["+20 company given"])  # 2 days: within 3
    assert points(rules, lead, last="2026-11-21T09:00:00") == (16, [
        "+20 company given", "-4 decay: 5 days without contact, the first 3 free"])
    assert points(rules, lead, last="2026-10-01") == (10, [
        "+20 company given", "-10 decay: 56 days without contact, the first 3 free, max 10"])
    assert points(rules, {**lead, "status_category": "won"}, last="2026-10-01")[0] == 20
    assert points(rules, {**lead, "status_category": "qualified"}, last="2026-10-01")[0] == 10
    later = TODAY + timedelta(days=2)  # the same lead two days on: the clock is the only input that moved
    assert points(rules, lead, last="2026-11-21T09:00:00", today=later)[0] == 12


def test_no_rules_score_nothing() -> None:
    assert scoring.evaluate({"company": "Acme", "status_category": "open"}, {"call": 9}, "2020-01-01", TODAY,
                            Scoring()) == (0, [])
    assert not Scoring().enabled and Scoring(decay_per_day=1).enabled


# -- settings: every mistake is one line naming the rule ------------------------------------------------
@pytest.mark.parametrize(("rule", "message"), [
    ('points = 1\nfield = "source"\nis = "x"\nwhat = 1', "rule 1 has unknown key 'what'"),
    ('field = "source"\nis = "x"', "rule 1 has no points"),
    ('points = "ten"\nfield = "source"\nis = "x"', "rule 1 points must be a whole number"),
    ('points = 1\nfield = "source"\nbant = "need"\nis = "yes"', "needs exactly one of field, bant or activity"),
    ('points = 1\nfield = "sauce"\nis = "x"', "unknown field 'sauce'"),
    ('points = 1\nfield = "score"\nat_least = 5', "the manual score is added to the total"),
    ('points = 1\nfield = "source"', "needs one condition: is, in, present, or at_least/at_most"),
    ('points = 1\nfield = "source"\nis = "x"\nin = ["y"]', "needs one condition"),
    ('points = 1\nfield = "source"\nin = "x"', "in takes a non-empty list"),
    ('points = 1\nfield = "source"\nis = ["x"]', "is takes one value"),
    ('points = 1\nfield = "company"\nat_least = 3', "at_least/at_most go with number fields, not company"),
    ('points = 1\nfield = "priority"\nis = "huge"', "priority 'huge' must be 0-3"),
    ('points = 1\nfield = "industry"\nis = "Mining"', "'Mining' is not one of Retail, Software"),
    ('points = 1\nfield = "partner_deal"\nis = "yes"', "a yes/no field takes `is = true`"),
    ('points = 1\nfield = "employees"\nis = "many"', "a number field takes numbers"),
    ('points = 1\nfield = "company"\npresent = "yes"', "present must be true or false"),
    ('points = 1\nbant = "money"\nis = "yes"', "bant 'money' must be one of budget, authority, need, timeline"),
    ('points = 1\nbant = "budget"\nis = "maybe"', "must be yes, no or unknown"),
    ('points = 1\nbant = "budget"\npresent = true', "a bant rule takes is"),
    ('points = 1\nactivity = "fax"', "activity 'fax' must be one of call, email, email_in"),
    ('points = 1\nactivity = "call"\nmax = 5', "max goes with per = \"each\""),
    ('points = 1\nactivity = "call"\nper = "daily"', "per must be \"once\" or \"each\""),
    ('points = 1\nactivity = "call"\nis = "x"', "an activity rule takes per, max and at_least"),
    ('points = 1\nactivity = "call"\nper = "each"\nat_least = 2', "at_least goes with per = \"once\""),
    ('points = 1\nfield = "source"\nis = "x"\nper = "each"', "per and max go with activity rules"),
])
def test_a_wrong_rule_is_refused_in_one_line(tmp_path: Path, rule: str, message: str) -> None:
    with pytest.raises(RuleError) as refused:
        rules_from(tmp_path, f"[score]\n[[score.rules]]\n{rule}\n")
    text = str(refused.value)
    assert message in text and "\n" not in text and str(tmp_path / "score.toml") in text
    assert "[score] rule 1" in text or "[score]" in text


@pytest.mark.parametrize(("table", "message"), [
    ("[score]\ndecay_per_day = -1\n", "decay_per_day must be a whole number of at least 0"),
    ("[score]\ndecay = 1\n", "[score] has unknown key 'decay'"),
    ("[score]\nrules = 3\n", "rules must be a list of tables"),
    ("score = 3\n", "[score] must be a table"),
])
def test_a_wrong_score_table_is_refused_in_one_line(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(RuleError, match=None) as refused:
        rules_from(tmp_path, table, head="")
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_no_score_table_means_no_rules(tmp_path: Path) -> None:
    assert rules_from(tmp_path, "").score == Scoring()
    assert Settings().score == Scoring()


# -- kept up to date on every change -------------------------------------------------------------------
def test_create_edit_status_and_activities_update_the_automatic_score(scored: Desk, query: Any) -> None:
    lead = scored.add_lead({"name": "Ann Lee", "source": "Referral"})
    assert lead["auto_score"] == 10
    assert stored(scored, 1) == {"score": 0, "auto_score": 10, "version": 1}
    scored.edit_lead("1", {"company": "Acme", "bant_budget": "yes", "custom": {"employees": "80"}})
    assert stored(scored, 1)["auto_score"] == 10 + 3 + 15 + 4
    scored.set_status("1", "Engaged")
    assert stored(scored, 1)["auto_score"] == 32 - 6
    scored.set_status("1", "Contacted")
    for text in ("one", "two", "three"):
        scored.add_activity("1", "call", text)
    assert stored(scored, 1)["auto_score"] == 32 + 12  # three calls: 15, capped at 12
    scored.add_activity("1", "email", "sent them the deck")  # an email a rep logs is outbound: no reply points
    assert stored(scored, 1)["auto_score"] == 44
    history = [h["field"] for h in scored.history("1")]
    assert "auto_score" not in history  # derived data: never in the history, never a version of its own
    assert stored(scored, 1)["version"] == 4  # add, edit, two status changes: activities and scores bump none


def test_a_captured_email_counts_as_a_reply(scored: Desk) -> None:
    scored.add_lead({"name": "Sam Reed", "email": "sam@reed.example"})
    raw = (b"From: Sam Reed <sam@reed.example>\r\nTo: sales@us.example\r\nSubject: Re: quote\r\n"
           b"Message-ID: <r1@reed.example>\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nYes, let's talk.\r\n")
    assert scored.capture_email(raw)["result"] == "added"
    assert stored(scored, 1)["auto_score"] == 7
    assert scored.explain_score("1")["reasons"] == [{"points": 7, "text": "1 reply"}]


def test_undoing_a_call_and_merging_leads_rescore_the_lead(scored: Desk) -> None:
    scored.add_lead({"name": "Ann Lee", "phone": "+1 212 555 0100"})
    scored.add_activity("1", "call", "hello")
    assert stored(scored, 1)["auto_score"] == 5
    scored.undo("1")
    assert stored(scored, 1)["auto_score"] == 0
    scored.add_lead({"name": "Ann L.", "phone": "+1 212 555 0101"}, force=True)
    scored.add_activity("2", "call", "one")
    scored.add_activity("2", "call", "two")
    scored.merge("1", ["2"])
    assert stored(scored, 1)["auto_score"] == 10  # the merged lead's two calls count on the kept one


def test_no_rules_write_nothing(desk: Desk) -> None:
    desk.add_lead({"name": "Ann Lee", "source": "Referral", "company": "Acme"})
    desk.add_activity("1", "call", "hello")
    assert stored(desk, 1)["auto_score"] == 0
    assert desk.explain_score("1") == {"number": 1, "name": "Ann Lee", "manual": 0, "auto": 0, "stored_auto": 0,
                                       "total": 0, "reasons": [], "last_contact": None, "rules": 0,
                                       "decay_per_day": 0}


def test_an_import_scores_its_chunks_in_bulk(scored: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "CHUNK", 2)  # several chunks, each scored by the import hook
    rows = [["Name", "Company", "Source", "Employees", "Created"]]
    rows += [[f"Lead {i}", "Acme" if i % 2 else "", "Referral" if i % 3 == 0 else "Event",
              str(i * 20), "2026-11-01"] for i in range(1, 8)]
    summary = scored.import_leads(str(write_csv(tmp_path / "leads.csv", rows)))
    assert summary["imported"] == 7
    got = [stored(scored, n)["auto_score"] for n in range(1, 8)]
    expected = [scored.explain_score(str(n))["auto"] for n in range(1, 8)]
    assert got == expected
    # e.g. lead 3: Acme (+3), Referral (+10), 60 employees (+4), 25 days since it was created: -10 (max)
    assert got[2] == 3 + 10 + 4 - 10
    assert got[1] == 0 - 10 + 0  # no company, Event, 40 employees; decayed
    assert [r["text"] for r in scored.explain_score("3")["reasons"]][-1] == \
        "decay: 25 days without contact, the first 3 free, max 10"


# -- recompute: the day's decay, changed rules -------------------------------------------------------------
def test_refresh_recomputes_once_a_day_and_after_the_rules_change(scored: Desk, open_desk: DeskFactory,
                                                                  tmp_path: Path) -> None:
    scored.add_lead({"name": "Ann Lee", "company": "Acme"})
    scored.add_activity("1", "call", "hello")
    assert stored(scored, 1)["auto_score"] == 8
    assert scored.refresh_scores() == {"leads": 1, "changed": 0, "scope": "all"}  # the rules were never seen
    assert scored.refresh_scores() is None
    clock.freeze(NOW + timedelta(days=5))
    assert scored.score_rules()["stale"] == "open"
    assert scored.explain_score("1")["auto"] == 4 and scored.explain_score("1")["stored_auto"] == 8
    assert scored.refresh_scores() == {"leads": 1, "changed": 1, "scope": "open"}
    assert stored(scored, 1)["auto_score"] == 4
    assert scored.refresh_scores() is None
    changed = open_desk(settings=rules_from(tmp_path, RULES.replace("points = 3\n", "points = 30\n")))
    assert changed.refresh_scores() == {"leads": 1, "changed": 1, "scope": "all"}
    assert stored(scored, 1)["auto_score"] == 31
    bare = open_desk(settings=Settings())  # rules removed: the automatic scores go back to 0
    assert bare.refresh_scores() == {"leads": 1, "changed": 1, "scope": "all"}
    assert stored(scored, 1)["auto_score"] == 0
    assert bare.refresh_scores() is None


def test_a_refresh_with_nothing_stale_only_reads(desk: Desk) -> None:
    desk.add_lead({"name": "Ann Lee"})
    before = desk.db.data_version()
    assert desk.refresh_scores() is None
    assert desk.db.data_version() == before


def test_recompute_all_covers_closed_leads(scored: Desk, open_desk: DeskFactory, tmp_path: Path) -> None:
    scored.add_lead({"name": "Ann Lee", "company": "Acme"})
    scored.mark_lost("1", scored.catalog_list("reasons")[0]["name"])
    more = open_desk(settings=rules_from(tmp_path, RULES.replace("points = 3\n", "points = 9\n")))
    assert more.recompute_scores(open_only=True)["leads"] == 0
    assert more.recompute_scores() == {"leads": 1, "changed": 1, "scope": "all"}
    assert stored(scored, 1)["auto_score"] == 9  # a closed lead does not decay


# -- sort, filter, explain ----------------------------------------------------------------------------
def test_lists_sort_and_filter_by_the_total(scored: Desk) -> None:
    scored.add_lead({"name": "Low"})                                    # 0 + 0, decays from today: 0
    scored.add_lead({"name": "Rules", "source": "Referral"})           # 0 + 10
    scored.add_lead({"name": "Manual", "score": "12"})                 # 12 + 0
    scored.add_lead({"name": "Both", "company": "Acme", "score": "-1"})  # -1 + 3
    order = [r["contact_name"] for r in scored.list_leads(LeadFilter(sort="score", descending=True))]
    assert order == ["Manual", "Rules", "Both", "Low"]
    rows = scored.list_leads(LeadFilter(min_score=2, sort="score"))
    assert [(r["contact_name"], r["score"], r["auto_score"], r["total_score"]) for r in rows] == [
        ("Both", -1, 3, 2), ("Rules", 0, 10, 10), ("Manual", 12, 0, 12)]
    assert scored.count_leads(LeadFilter(min_score=11)) == 1
    assert scored.lead_position(LeadFilter(sort="score", descending=True), 4) == 2


def test_the_explanation_lists_every_rule_that_gave_points(scored: Desk) -> None:
    scored.add_lead({"name": "Ann Lee", "source": "Partner", "bant_budget": "yes", "score": "5"})
    scored.add_activity("1", "call", "hi", at="-6d")
    found = scored.explain_score("1")
    assert (found["manual"], found["auto"], found["total"], found["stored_auto"]) == (5, 30, 35, 30)
    assert [scoring.reason_line((r["points"], r["text"])) for r in found["reasons"]] == [
        "+10 source is referral or Partner", "+15 budget: yes", "+5 1 call × 5"]
    assert found["last_contact"] == NOW.strftime("%Y-%m-%dT%H:%M:%S")  # created after the (back-dated) call


def test_rules_naming_what_the_desk_lacks_are_warned_about(scored: Desk, open_desk: DeskFactory,
                                                           tmp_path: Path) -> None:
    described = scored.score_rules()
    assert described["warnings"] == []
    assert described["rules"][0] == {"n": 1, "points": 10, "kind": "field", "what": "source is referral or Partner"}
    assert described["rules"][-1] == {"n": None, "points": -2, "kind": "decay",
                                      "what": "per day without contact after 3 days, at most 10 (open leads)"}
    typo = rules_from(tmp_path, '[score]\n[[score.rules]]\npoints = 1\nfield = "source"\nin = ["Referal", "Event"]\n'
                                '[[score.rules]]\npoints = 1\nfield = "owner"\nis = "zed"\n')
    assert open_desk(settings=typo).score_rules()["warnings"] == [
        "rule 1: there is no source named 'Referal'", "rule 2: there is no owner named 'zed'"]


# -- BANT ----------------------------------------------------------------------------------------------
def test_bant_answers_cycle_in_the_store_and_are_recorded(scored: Desk) -> None:
    scored.add_lead({"name": "Ann Lee"})
    answers = [scored.cycle_bant("1", "budget")["bant_budget"] for _ in range(4)]
    assert answers == ["yes", "no", "unknown", "yes"]
    assert stored(scored, 1)["auto_score"] == 15
    assert scored.cycle_bant("1", "TIME")["bant_timeline"] == "yes"  # a prefix, any case
    assert [(h["field"], h["old"], h["new"]) for h in scored.history("1") if h["field"] == "bant_budget"][:2] == [
        ("bant_budget", "unknown", "yes"), ("bant_budget", "yes", "no")]
    with pytest.raises(RuleError, match="BANT question 'money' must be one of budget, authority, need, timeline"):
        scored.cycle_bant("1", "money")


def test_evaluate_is_pure_of_the_clock(tmp_path: Path) -> None:
    rules = rule_set(tmp_path, 'points = 1\nfield = "company"\npresent = true', decay_per_day=1)
    clock.freeze(datetime(2030, 1, 1, tzinfo=UTC))
    assert points(rules, {"company": "A"}, last="2026-11-20")[0] == 1 - 6  # `today` is the argument, not the clock
    assert scoring.fingerprint(rules) == scoring.fingerprint(replace(rules))
    assert scoring.fingerprint(rules) != scoring.fingerprint(replace(rules, decay_per_day=2))
