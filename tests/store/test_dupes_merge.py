"""Duplicates and merge in the service layer: the warning on create, duplicate groups, merge and its undo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leaddesk.settings import CustomField, Settings
from leaddesk.store import dupes
from leaddesk.store.desk import Desk
from leaddesk.store.errors import Conflict, NotFound, PossibleDuplicate, RuleError

ANN = {"name": "Ann Lee", "company": "Acme", "phone": "+1 212 555 0100", "email": "ann@acme.example.com"}
CUSTOM = {"budget": CustomField("budget", "number"), "industry": CustomField("industry"),
          "size": CustomField("size", "choice", choices=("small", "large"))}


@pytest.fixture
def cdesk(open_desk: Callable[..., Desk]) -> Desk:
    """A sales desk with custom fields."""
    return open_desk(preset="sales", settings=Settings(custom_fields=CUSTOM))


def numbers(groups: list[dict[str, Any]]) -> list[list[int]]:
    return [g["numbers"] for g in groups]


def history_rows(query: Any, desk: Desk, entity_id: int) -> list[dict[str, Any]]:
    return query(desk, "SELECT * FROM history WHERE entity = 'lead' AND entity_id = :i ORDER BY id", {"i": entity_id})


# -- the warning on create -----------------------------------------------------------------------
@pytest.mark.parametrize("phone", ["(212) 555-0100", "212.555.0100", "+12125550100", "1 212 555 0100"])
def test_a_new_lead_with_a_known_phone_in_any_format_is_refused(desk: Desk, snapshot: Any, phone: str) -> None:
    desk.add_lead(ANN)
    before = snapshot(desk)
    with pytest.raises(PossibleDuplicate) as err:
        desk.add_lead({"name": "Someone", "phone": phone})
    assert str(err.value) == "lead #1 Ann Lee (Acme) has this phone; add --force to create it anyway"
    assert err.value.exit_code == 1
    assert [(m["kind"], m["number"], m["matched"]) for m in err.value.matches] == [("lead", 1, ["phone"])]
    assert snapshot(desk) == before
    assert desk.add_lead({"name": "Unrelated"})["number"] == 2  # the refused lead took no number


def test_force_creates_it_anyway(desk: Desk) -> None:
    desk.add_lead(ANN)
    lead = desk.add_lead({"name": "Ann Again", "email": "ANN@Acme.example.com"}, force=True)
    assert (lead["number"], lead["email"]) == (2, "ANN@Acme.example.com")


def test_the_message_names_every_kind_of_match_on_one_line(desk: Desk) -> None:
    desk.add_lead(ANN)
    desk.customer_from_lead("1")
    desk.add_lead({"name": "Bo\nStone", "phone": "(212) 555-0100", "email": "bo@x.example.com"}, force=True)
    desk.add_lead({"company": "Carl Co", "email": "ANN@acme.example.com"}, force=True)
    with pytest.raises(PossibleDuplicate) as err:
        desk.add_lead({"name": "New", "phone": "2125550100", "email": "ann@ACME.example.com"})
    assert str(err.value) == ("lead #1 Ann Lee (Acme) has this phone and email, lead #2 Bo\\nStone has this phone,"
                              " lead #3 Carl Co has this email, and 1 more record; add --force to create it anyway")
    assert [(m["kind"], m["id"], m["matched"]) for m in err.value.matches] == [
        ("lead", 1, ["phone", "email"]), ("lead", 2, ["phone"]), ("lead", 3, ["email"]),
        ("customer", 1, ["phone", "email"])]


def test_a_customer_alone_is_a_match_too(desk: Desk) -> None:
    desk.add_lead(ANN)
    desk.customer_from_lead("1")
    desk.edit_lead("1", {"phone": "+1 212 555 0111", "email": ""})
    with pytest.raises(PossibleDuplicate, match=r"^customer 1 Acme has this phone; add --force"):
        desk.add_lead({"name": "Someone", "phone": "212 555 0100"})


def test_field_refusals_come_before_the_duplicate_warning(desk: Desk) -> None:
    desk.add_lead(ANN)
    with pytest.raises(RuleError) as err:
        desk.add_lead({"phone": "212 555 0100"})
    assert not isinstance(err.value, PossibleDuplicate)
    assert str(err.value) == "a lead needs a contact name or a company"


def test_possible_duplicates_asks_without_writing(desk: Desk, snapshot: Any) -> None:
    desk.add_lead(ANN)
    before = snapshot(desk)
    found = desk.possible_duplicates({"name": "X", "phone": "(212) 555-0100", "email": "not an email"})
    assert found == [{"kind": "lead", "id": 1, "number": 1, "name": "Ann Lee", "company": "Acme",
                      "phone": "+1 212 555 0100", "email": "ann@acme.example.com", "status": "New",
                      "matched": ["phone"]}]
    assert desk.possible_duplicates({"name": "X", "email": " Ann@ACME.example.com "})[0]["matched"] == ["email"]
    assert desk.possible_duplicates({"name": "X", "phone": "555 0100"}) == []  # a local number matches nothing
    assert desk.possible_duplicates({"name": "Ann Lee", "company": "Acme"}) == []
    assert snapshot(desk) == before


def test_a_copy_is_an_intended_duplicate(desk: Desk) -> None:
    desk.add_lead(ANN)
    assert desk.copy_lead("1")["phone"] == ANN["phone"]


# -- duplicate groups ----------------------------------------------------------------------------
def test_exact_groups_by_phone_in_any_format_and_email_in_any_case(desk: Desk) -> None:
    desk.add_lead(ANN)  # 1
    desk.add_lead({"name": "Other", "phone": "(212) 555-0100"}, force=True)  # 2: same phone
    desk.add_lead({"name": "Bob", "email": "bob@x.example.com"})  # 3
    desk.add_lead({"name": "Robert", "email": "BOB@X.example.com"}, force=True)  # 4: same email
    desk.add_lead({"name": "Alone", "phone": "212 555 0199"})  # 5
    groups = desk.duplicate_groups(fuzzy=False)
    assert numbers(groups) == [[1, 2], [3, 4]]
    assert groups[0]["reasons"] == [{"why": "phone", "value": "+12125550100", "score": None, "numbers": [1, 2]}]
    assert groups[1]["reasons"] == [{"why": "email", "value": "bob@x.example.com", "score": None,
                                     "numbers": [3, 4]}]
    assert groups[0]["leads"][1] == {"number": 2, "name": "Other", "company": None, "phone": "(212) 555-0100",
                                     "email": None, "status": "New", "status_category": "open", "owner": "ann",
                                     "updated": "2026-11-26T12:00:00"}


def test_a_chain_of_matches_is_one_group_with_every_reason(desk: Desk) -> None:
    desk.add_lead({"name": "A", "phone": "212 555 0100"})
    desk.add_lead({"name": "B", "phone": "212 555 0100", "email": "b@x.example.com"}, force=True)
    desk.add_lead({"name": "C", "email": "B@x.example.com"}, force=True)
    [group] = desk.duplicate_groups()
    assert group["numbers"] == [1, 2, 3]
    assert [(r["why"], r["numbers"]) for r in group["reasons"]] == [("phone", [1, 2]), ("email", [2, 3])]


def test_similar_names_and_companies_are_grouped(desk: Desk) -> None:
    desk.add_lead({"name": "Ann Lee", "company": "Acme Inc."})  # 1
    desk.add_lead({"name": "Anne Lee", "company": "ACME"})  # 2: a typo and a legal suffix
    desk.add_lead({"name": "Lee, Ann", "company": "acme, inc"})  # 3: words in another order
    desk.add_lead({"name": "Jonathan Smith"})  # 4: no company
    desk.add_lead({"name": "Jonathon Smith"})  # 5
    [acme, smith] = desk.duplicate_groups()
    assert (acme["numbers"], smith["numbers"]) == ([1, 2, 3], [4, 5])
    assert {r["why"] for r in acme["reasons"]} == {"name"}
    assert all(90 <= r["score"] <= 100 for r in acme["reasons"])
    assert len(acme["reasons"]) == 2  # enough to explain the group, not every pair


def test_different_people_at_one_company_are_not_grouped(desk: Desk) -> None:
    for name in ("Ann Lee", "Bob Lee", "Ann Leung", "Carla Rossi"):
        desk.add_lead({"name": name, "company": "Acme Corporation International Holdings"})
    desk.add_lead({"name": "Ann Lee", "company": "Globex"})  # one name at two companies
    desk.add_lead({"name": "Ann Lee"})  # and without a company
    desk.add_lead({"company": "Store 12"})
    desk.add_lead({"company": "Store 13"})  # numbers tell branches apart
    assert desk.duplicate_groups() == []


def test_the_threshold_decides_how_similar(desk: Desk) -> None:
    desk.add_lead({"name": "Ann Lee", "company": "Acme"})
    desk.add_lead({"name": "Ann Lea", "company": "Acme"})
    assert desk.duplicate_groups() == []
    assert numbers(desk.duplicate_groups(threshold=85)) == [[1, 2]]
    for bad in (49, 101):
        with pytest.raises(RuleError, match=rf"^the threshold {bad} must be between 50 and 100$"):
            desk.duplicate_groups(threshold=bad)


def test_big_blocks_are_split_without_losing_matches(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["Ann Lee", "Ann Leee", "Anna Smith", "Anna Smyth", "Anton Berg", "Ana Lopez", "Andre Dupont"]
    for name in names:
        desk.add_lead({"name": name, "company": "Acme"})
    expected = numbers(desk.duplicate_groups())
    assert expected == [[1, 2], [3, 4]]
    monkeypatch.setattr(dupes, "MAX_BLOCK", 2)
    assert numbers(desk.duplicate_groups()) == expected


def test_keys_normalise_case_punctuation_and_legal_suffixes() -> None:
    key = dupes.fuzzy_key(1, "  LEE, Ann-Marie ", "The Acme Co., Ltd. (Store 7)")
    assert (key.name, key.company, key.numbers) == ("ann lee marie", "7 acme store", ("7",))
    assert dupes.similar(key, dupes.fuzzy_key(2, "Ann Marie Lee", "ACME store 7"), 90) == 100
    assert dupes.similar(key, dupes.fuzzy_key(3, "Ann Marie Lee", "ACME store 8"), 50) is None


# -- merge ---------------------------------------------------------------------------------------
@pytest.fixture
def pair(cdesk: Desk) -> Desk:
    """#1 Ann Lee (kept) and #2 her duplicate with more details, activities, a deal and custom fields."""
    cdesk.add_lead({**ANN, "tags": "vip, east", "custom": {"budget": "5000"}, "zone": "North"})
    cdesk.add_activity("1", "note", "first contact")
    cdesk.add_lead({"name": "Anne Lee", "company": "ACME Inc.", "phone": "(212) 555-0100", "city": "Boston",
                    "followup": "2026-12-01", "tags": "East, hot", "zone": "South",
                    "custom": {"budget": "7000", "industry": "Retail"}}, force=True)
    cdesk.add_activity("2", "call", "asked for a quote")
    cdesk.add_activity("2", "email", "sent the brochure")
    cdesk.set_status("2", "contacted")
    cdesk.qualify("2", new_customer=True, value="900")
    return cdesk


def test_merge_moves_everything_into_the_kept_lead(pair: Desk, query: Any, count: Any) -> None:
    before2 = pair.show("2")
    history2 = history_rows(query, pair, 2)
    outcome = pair.merge("1", ["2"])
    lead = outcome["lead"]
    assert (outcome["merge_id"], outcome["keep"], outcome["merged"]) == (1, 1, [2])
    assert outcome["moved"] == {"activities": 2, "deals": 1, "history": len(history2)}
    # KEEP's values stay; empty ones are filled; tags are combined; custom fields merge key by key
    assert (lead["contact_name"], lead["company"], lead["phone"], lead["zone"]) == (
        "Ann Lee", "Acme", "+1 212 555 0100", "North")
    assert (lead["city"], lead["followup_on"], lead["customer_id"]) == ("Boston", "2026-12-01", 1)
    assert lead["tags"] == "vip,east,hot"
    assert lead["custom"] == {"budget": 5000, "industry": "Retail"}
    assert lead["status"] == "New"  # KEEP's status stays
    assert sorted(outcome["changed"]) == ["city", "customer", "followup", "industry", "tags"]
    # activities (with a note saying what was not kept) and the deal moved
    assert [a["body"] for a in lead["activities"]][1:] == ["sent the brochure", "asked for a quote",
                                                           "first contact"]
    assert lead["activities"][0]["body"] == (
        "merged lead #2 Anne Lee into this lead; its values not kept: contact name Anne Lee; company ACME Inc.;"
        " zone South; status Qualified; budget 7000")
    assert [d["id"] for d in lead["deals"]] == [d["id"] for d in before2["deals"]]
    # the other lead's history is the kept lead's now; the merged lead is gone but findable
    moved = {r["id"] for r in history_rows(query, pair, 1)}
    assert {r["id"] for r in history2} <= moved
    assert count(pair, "lead") == 1
    with pytest.raises(NotFound) as err:
        pair.show("2")
    assert (str(err.value), err.value.exit_code) == ("lead #2 was merged into #1 (merge 1)", 3)
    with pytest.raises(NotFound, match=r"^lead #2 was merged into #1"):
        pair.set_status("#2", "contacted")
    # every change of the merge is recorded under one change id
    changes = query(pair, "SELECT DISTINCT change_id FROM history WHERE action = 'merge'")
    assert len(changes) == 1
    merge_rows = query(pair, "SELECT entity, entity_id, field FROM history WHERE action = 'merge' ORDER BY id")
    assert {(r["entity"], r["field"]) for r in merge_rows} >= {
        ("lead", "city"), ("lead", "tags"), ("lead", "custom"), ("lead", "merged"), ("lead", "merged_into"),
        ("activity", "lead_id"), ("deal", "lead_id")}
    assert pair.merges() == [{"id": 1, "at": "2026-11-26T12:00:00", "user": "ann", "keep": 1, "merged": [2],
                              "undone": False, "moved": outcome["moved"]}]


def test_take_picks_a_field_from_another_lead(pair: Desk) -> None:
    lead = pair.merge("1", ["2"], take={"phone": "2", "status": "#2", "Zone": "2", "budget": "2",
                                        "first-name": "2"})["lead"]
    assert (lead["phone"], lead["phone_e164"], lead["status"], lead["zone"]) == (
        "(212) 555-0100", "+12125550100", "Qualified", "South")
    assert (lead["contact_name"], lead["first_name"], lead["last_name"]) == ("Anne Lee", "Anne", "Lee")
    assert lead["custom"]["budget"] == 7000
    assert "budget" not in lead["activities"][0]["body"]


def test_take_the_status_brings_its_job_value(desk: Desk) -> None:
    desk.add_lead(ANN)
    desk.add_lead({"name": "Ann", "email": ANN["email"]}, force=True)
    desk.mark_won("2", "1200")
    kept = desk.merge("1", ["2"])["lead"]
    assert (kept["status"], kept["job_value_cents"]) == ("New", None)
    desk.undo_merge()
    taken = desk.merge("1", ["2"], take={"status": "2"})["lead"]
    assert (taken["status"], taken["job_value_cents"]) == ("Converted", 120000)


def test_a_merged_status_must_suit_the_merged_type(desk: Desk, snapshot: Any) -> None:
    desk.catalog_change("types", "statuses", "Outbound", ["Attempted to contact"])
    desk.add_lead({"name": "Ann", "type": "Inbound"})
    desk.add_lead({"name": "Ann L", "type": "Outbound"})
    desk.edit_lead("1", {"type": ""})
    before = snapshot(desk)
    with pytest.raises(RuleError, match=r"^lead type 'Outbound' does not allow status 'New': take the type and"):
        desk.merge("1", ["2"], take={"type": "2"})
    assert snapshot(desk) == before
    lead = desk.merge("1", ["2"])["lead"]  # an empty type is not filled with one that refuses the status
    assert (lead["type"], lead["status"]) == (None, "New")


@pytest.mark.parametrize(("keep", "others", "take", "message", "error"), [
    ("1", ["1"], {}, "cannot merge lead #1 into itself", RuleError),
    ("1", ["2", "#2"], {}, "lead #2 is named twice", RuleError),
    ("1", [], {}, "name the leads to merge into the kept one: leaddesk merge KEEP OTHER...", RuleError),
    ("1", ["9"], {}, "no lead matches '9'", NotFound),
    ("1", ["2"], {"colour": "2"}, "--take: unknown field 'colour' (fields: name, title,", RuleError),
    ("1", ["2"], {"phone": "3"}, "--take phone=3: name one of the leads being merged by number (#1, #2)",
     RuleError),
])
def test_merge_refusals_are_one_line_and_change_nothing(desk: Desk, snapshot: Any, keep: str, others: list[str],
                                                          take: dict[str, str], message: str,
                                                          error: type[Exception]) -> None:
    for values in (ANN, {"name": "B"}, {"name": "C"}):
        desk.add_lead(values)
    before = snapshot(desk)
    with pytest.raises(error) as err:
        desk.merge(keep, others, take)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    assert snapshot(desk) == before


def test_merge_plan_shows_the_fields_side_by_side_without_writing(pair: Desk, snapshot: Any) -> None:
    before = snapshot(pair)
    plan = pair.merge_plan("1", ["2"], {"zone": "2"})
    assert snapshot(pair) == before
    assert (plan["keep"], plan["others"], [x["number"] for x in plan["leads"]]) == (1, [2], [1, 2])
    fields = {f["field"]: f for f in plan["fields"]}
    assert fields["zone"] == {"field": "zone", "label": "Zone", "values": ["North", "South"], "result": "South",
                              "from": 2, "how": "taken"}
    assert fields["city"] == {"field": "city", "label": "City", "values": [None, "Boston"], "result": "Boston",
                              "from": 2, "how": "filled"}
    assert fields["tags"]["how"] == "union" and fields["tags"]["result"] == "vip, east, hot"
    assert fields["status"]["values"] == ["New", "Qualified"] and fields["status"]["how"] == "kept"
    assert fields["industry"]["result"] == "Retail"
    assert plan["moves"]["activities"] == 2 and plan["moves"]["deals"] == 1


# -- undo ----------------------------------------------------------------------------------------
def test_undo_restores_exactly(pair: Desk, query: Any) -> None:
    pair.add_lead({"name": "Third", "company": "Acme", "email": "third@acme.example.com"})
    pair.add_activity("3", "meeting", "met at the fair")
    shown = {n: pair.show(n) for n in ("1", "2", "3")}
    history = {n: history_rows(query, pair, n) for n in (1, 2, 3)}
    deals = query(pair, "SELECT * FROM deal ORDER BY id")
    pair.merge("1", ["2", "3"], take={"email": "3"})
    outcome = pair.undo_merge()
    assert (outcome["merge_id"], outcome["keep"], outcome["restored"]) == (1, 1, [2, 3])
    assert outcome["gone"] == {}
    for n in ("2", "3"):
        assert pair.show(n) == shown[n]
    kept = pair.show("1")
    assert {k: v for k, v in kept.items() if k not in ("version", "updated_at")} == {
        k: v for k, v in shown["1"].items() if k not in ("version", "updated_at")}
    assert kept["version"] > shown["1"]["version"]
    for n in (2, 3):  # their own history is back, with the merge and the undo recorded
        rows = history_rows(query, pair, n)
        assert rows[:len(history[n])] == history[n]
        assert [(r["action"], r["field"], r["undone"]) for r in rows[len(history[n]):]] == [
            ("merge", "merged_into", 1), ("unmerge", "merged_into", 0)]
    assert query(pair, "SELECT * FROM deal ORDER BY id") == deals
    assert pair.merges()[0]["undone"] is True
    with pytest.raises(RuleError, match=r"^you have no merge to undo \(leaddesk merge --list shows every merge\)$"):
        pair.undo_merge()
    with pytest.raises(RuleError, match=r"^merge 1 was already undone$"):
        pair.undo_merge(1)
    with pytest.raises(NotFound, match=r"^there is no merge 7$"):
        pair.undo_merge(7)


def test_undo_after_a_later_change_to_a_merged_field_is_refused(pair: Desk, open_desk: Any,
                                                                 snapshot: Any) -> None:
    pair.merge("1", ["2"])
    open_desk(login="bob", settings=Settings(custom_fields=CUSTOM)).edit_lead("1", {"city": "Denver"})
    before = snapshot(pair)
    with pytest.raises(Conflict) as err:
        pair.undo_merge()
    assert str(err.value) == ("cannot undo merge 1: the city of lead #1 was changed since by bob at"
                              " 2026-11-26 12:00:00; change it back first, or fix the leads by hand")
    assert err.value.exit_code == 4
    assert snapshot(pair) == before
    pair.edit_lead("1", {"city": "Boston"})  # back as the merge left it: the undo is safe again
    pair.undo_merge()
    assert pair.show("1")["city"] is None and pair.show("2")["city"] == "Boston"


def test_undo_keeps_later_unrelated_work_on_the_kept_lead(pair: Desk) -> None:
    pair.merge("1", ["2"])
    pair.set_status("1", "engaged")
    pair.add_activity("1", "note", "after the merge")
    pair.undo_merge()
    kept = pair.show("1")
    assert kept["status"] == "Engaged"
    assert [a["body"] for a in kept["activities"]] == ["after the merge", "first contact"]
    assert [a["body"] for a in pair.show("2")["activities"]] == ["sent the brochure", "asked for a quote"]


def test_undo_defaults_to_your_own_latest_merge(desk: Desk, open_desk: Any) -> None:
    for n in range(4):
        desk.add_lead({"name": f"Person {n}"})
    desk.add_user("bob", role="manager")  # merging away a lead someone else owns takes a manager
    bob = open_desk(login="bob")
    desk.merge("1", ["2"])
    bob.merge("3", ["4"])
    with pytest.raises(RuleError, match=r"^you have no merge to undo"):
        open_desk(login="cy").undo_merge()
    assert desk.undo_merge()["merge_id"] == 1
    assert bob.undo_merge()["merge_id"] == 2


def test_merges_chain_and_undo_in_reverse_order(desk: Desk) -> None:
    for n in range(3):
        desk.add_lead({"name": f"Person {n}", "tags": f"t{n}"})
    first = desk.merge("1", ["2"])["merge_id"]
    second = desk.merge("3", ["1"])["merge_id"]
    assert desk.show("3")["tags"] == "t2,t0,t1"
    with pytest.raises(NotFound, match=r"^lead #2 was merged into #3 \(merge 1\)$"):
        desk.show("2")
    with pytest.raises(Conflict, match=rf"^cannot undo merge {first}: lead #1 was merged into #3 since"
                                       rf" \(merge {second}\); undo that merge first$"):
        desk.undo_merge(first)
    desk.undo_merge(second)
    with pytest.raises(NotFound, match=r"^lead #2 was merged into #1 \(merge 1\)$"):
        desk.show("2")
    desk.undo_merge(first)
    assert [desk.show(n)["tags"] for n in ("1", "2", "3")] == ["t0", "t1", "t2"]


def test_forget_kept_merges_lets_a_kept_lead_be_deleted(desk: Desk, count: Any) -> None:
    from leaddesk.store import leads, merge
    from leaddesk.store.refs import load_lead

    for name in ("A", "B", "C"):
        desk.add_lead({"name": name})
    desk.merge("1", ["2"])
    desk.merge("1", ["3"])
    with desk._ctx() as ctx:  # what deleting lead 1 has to do first (lead_merge.keep_id references it)
        lead = load_lead(ctx.tx, 1)
        assert merge.forget_kept_merges(ctx, lead) == [1, 2]
        leads.delete_lead(ctx, lead, force=True)
    assert (count(desk, "lead"), count(desk, "lead_merge")) == (0, 0)
    with pytest.raises(NotFound, match=r"^no lead matches '2'$"):
        desk.show("2")


# -- speed ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_dupes_on_100k_leads_is_quick(tmp_path: Any) -> None:
    """100k bulk leads plus 300 planted duplicates (phone, email, name typo): found in a few seconds."""
    import importlib.util
    import sqlite3
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("make_leads", root / "bench" / "make_leads.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "big.db"
    module.build_db(path, 100_000, activity_every=1_000)
    conn = sqlite3.connect(path)
    columns = [d[0] for d in conn.execute("SELECT * FROM lead LIMIT 1").description]
    rows = conn.execute("SELECT * FROM lead WHERE number % 331 = 7 ORDER BY number LIMIT 300").fetchall()
    top = conn.execute("SELECT max(number) FROM lead").fetchone()[0]
    planted: dict[int, int] = {}
    with conn:
        for k, row in enumerate(rows):
            lead = dict(zip(columns, row, strict=True))
            lead.pop("id")
            top += 1
            planted[top] = lead["number"]
            lead["number"] = top
            if k % 3 == 0:  # the same phone, no email
                lead["email"] = lead["email_lower"] = None
            elif k % 3 == 1:  # the same email, no phone
                lead["phone"] = lead["phone_e164"] = None
            else:  # a typo in the name, a legal suffix, nothing else in common
                lead["contact_name"] = lead["contact_name"].replace(" ", "e ", 1)
                lead["company"] = f"{lead['company']} Ltd"
                lead["phone"] = lead["phone_e164"] = lead["email"] = lead["email_lower"] = None
            conn.execute(f"INSERT INTO lead ({', '.join(lead)}) VALUES ({', '.join('?' for _ in lead)})",
                         list(lead.values()))
    conn.close()
    desk = Desk.open(str(path), settings=Settings())
    try:
        started = time.perf_counter()
        groups = desk.duplicate_groups()
        elapsed = time.perf_counter() - started
    finally:
        desk.close()
    together = {n: set(g["numbers"]) for g in groups for n in g["numbers"]}
    assert all(original in together.get(copy, set()) for copy, original in planted.items())
    assert elapsed < 15, f"dupes took {elapsed:.1f} s on 100k leads"


def test_deleting_a_lead_that_others_were_merged_into_takes_its_merge_records_with_it(desk: Desk) -> None:
    keep = desk.add_lead({"name": "Ann Lee", "phone": "+1 212 555 0100"})
    other = desk.add_lead({"name": "Ann Lee", "company": "Acme"}, force=True)
    desk.merge(str(keep["number"]), [str(other["number"])])
    desk.delete_lead(str(keep["number"]), force=True)
    assert desk.merges() == []
    with pytest.raises(NotFound):
        desk.show(str(other["number"]))
