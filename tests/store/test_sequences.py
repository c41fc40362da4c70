"""Nurture sequences (issue 6): settings, start/step/finish/stop rules with a frozen clock, automatic start on
a status and stop on closing, `followup_done` advancing, templates filled literally, mailto: URLs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from leaddesk import clock
from leaddesk.settings import NurtureSequence, NurtureStep, Settings, load_settings
from leaddesk.store import leads, sequences
from leaddesk.store.desk import Desk
from leaddesk.store.errors import RuleError
from leaddesk.store.refs import load_lead

from .conftest import DeskFactory

NURTURE = NurtureSequence(
    "nurture", "Not ready yet", ("Attempted to contact",),
    (NurtureStep(3, "Call again"),
     NurtureStep(7, "Send the case study", "Hello {first_name},\nthe study for {company}.\n{my_name}",
                 "For {company}"),
     NurtureStep(14, "Last try")))
REVIVE = NurtureSequence("revive", "", ("Engaged",), (NurtureStep(1, "Check in"),))
SEQUENCES = Settings(sequences={"nurture": NURTURE, "revive": REVIVE})


@pytest.fixture
def sdesk(open_desk: DeskFactory) -> Desk:
    """Ann's sales desk with the nurture and revive sequences."""
    return open_desk(settings=SEQUENCES, preset="sales")


def add(desk: Desk, name: str = "Ann Lee", **values: Any) -> str:
    values = {"company": "Acme", "email": "ann@acme.example.com", **values}
    return str(desk.add_lead({"name": name, **values}, force=True)["number"])


def row(desk: Desk, query: Any, ref: str) -> list[dict[str, Any]]:
    """The lead's lead_sequence rows, oldest first."""
    return query(desk, "SELECT s.sequence, s.step, s.state, s.next_at FROM lead_sequence s JOIN lead l"
                       " ON l.id = s.lead_id WHERE l.number = :n ORDER BY s.id", {"n": int(ref)})


def sequence_history(desk: Desk, ref: str) -> list[tuple[str | None, str | None]]:
    return [(h["old"], h["new"]) for h in desk.history(ref) if h["field"] == "sequence"]


# -- settings ------------------------------------------------------------------------------------
def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_read_sequences(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, """
[sequences.nurture]
description = "Not ready yet"
start_on_status = "Attempted to contact"
[[sequences.nurture.steps]]
after_days = 3
note = "  Call again "
[[sequences.nurture.steps]]
after_days = 0
template = "Hi {first_name} {{literal}}"
subject = "For {company}"
[sequences.empty-start]
steps = [{ after_days = 1, note = "ping" }]
"""))
    assert settings.sequences == {
        "nurture": NurtureSequence("nurture", "Not ready yet", ("Attempted to contact",), (
            NurtureStep(3, "Call again"), NurtureStep(0, "", "Hi {first_name} {{literal}}", "For {company}"))),
        "empty-start": NurtureSequence("empty-start", "", (), (NurtureStep(1, "ping"),)),
    }
    assert load_settings(write(tmp_path, "currency = 'EUR'\n")).sequences == {}


@pytest.mark.parametrize(("toml", "message"), [
    ("[sequences]\nx = 1\n", "sequence 'x' must be a table"),
    ("[sequences.a]\ndescription = 'no steps'\n", "sequence 'a' needs steps"),
    ("[sequences.a]\nsteps = []\n", "sequence 'a' needs steps"),
    ("[sequences.a]\nsteps = [{ note = 'x' }]\n", "sequence 'a' step 1 needs after_days"),
    ("[sequences.a]\nsteps = [{ after_days = -1, note = 'x' }]\n", "step 1 needs after_days, a whole number"),
    ("[sequences.a]\nsteps = [{ after_days = true, note = 'x' }]\n", "step 1 needs after_days"),
    ("[sequences.a]\nsteps = [{ after_days = '3', note = 'x' }]\n", "step 1 needs after_days"),
    ("[sequences.a]\nsteps = [{ after_days = 1, note = 'x' }, { after_days = 2 }]\n",
     "step 2 needs a note or a template"),
    ("[sequences.a]\nsteps = [{ after_days = 1, note = 'x', wait = 2 }]\n", "unknown key 'wait'"),
    ("[sequences.a]\nsteps = [{ after_days = 1, template = 'Hi {firstname}' }]\n",
     "template has unknown placeholder {firstname}"),
    ("[sequences.a]\nsteps = [{ after_days = 1, note = 'x', subject = '{__class__}' }]\n",
     "subject has unknown placeholder {__class__}"),
    ("[sequences.a]\nsteps = [{ after_days = 1, note = \"two\\nlines\" }]\n", "note must be one line"),
    ("[sequences.a]\nstart_on_status = [1]\nsteps = [{ after_days = 1, note = 'x' }]\n",
     "start_on_status must be a list of status names"),
    ("[sequences.a]\nstart_on_status = ['New']\nsteps = [{ after_days = 1, note = 'x' }]\n"
     "[sequences.b]\nstart_on_status = ['new']\nsteps = [{ after_days = 1, note = 'x' }]\n",
     "status 'new' already starts sequence 'a'"),
    ("[sequences.a]\nrepeat = true\nsteps = [{ after_days = 1, note = 'x' }]\n", "unknown key 'repeat'"),
    ("[sequences.a]\nsteps = [3]\n", "step 1 must be a table"),
])
def test_settings_refuse_bad_sequences(tmp_path: Path, toml: str, message: str) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(RuleError) as refused:
        load_settings(path)
    text = str(refused.value)
    assert message in text and text.startswith(str(path)) and "\n" not in text


# -- start ---------------------------------------------------------------------------------------
def test_start_schedules_the_first_step(sdesk: Desk, query: Any) -> None:
    ref = add(sdesk)
    before = sdesk.show(ref)
    state = sdesk.start_sequence(ref, "NUR")  # a prefix, any case
    lead = sdesk.show(ref)
    assert (lead["followup_on"], lead["followup_note"], lead["followup_time"]) == ("2026-11-29", "Call again", None)
    assert lead["version"] == before["version"] + 1  # one change, one version
    run = state["current"]
    assert (run["sequence"], run["state"], run["step"], run["steps"], run["next_at"], run["note"]) == (
        "nurture", "running", 1, 3, "2026-11-29", "Call again")
    assert run["started_by"] == "ann" and run["started_at"] == "2026-11-26T12:00:00"
    assert row(sdesk, query, ref) == [{"sequence": "nurture", "step": 1, "state": "running",
                                       "next_at": "2026-11-29"}]
    assert sequence_history(sdesk, ref) == [(None, "nurture: step 1 of 3, due 2026-11-29")]
    actions = {(h["field"], h["action"]) for h in sdesk.history(ref) if h["action"] == "sequence"}
    assert {("followup", "sequence"), ("followup_note", "sequence")} <= actions
    assert sdesk.lead_sequence(ref) == state


def test_start_refusals_change_nothing(sdesk: Desk, snapshot: Any, count: Any) -> None:
    ref, closed = add(sdesk), add(sdesk, "Bo Stone", email="bo@x.example.com")
    sdesk.mark_lost(closed, "Not a fit")
    sdesk.start_sequence(ref, "nurture")
    before = snapshot(sdesk), count(sdesk, "lead_sequence")
    refusals = [
        ((ref, "nope"), "unknown sequence 'nope': choose from nurture, revive"),
        ((closed, "nurture"), "lead 2 is Disqualified: a sequence runs only on an open lead"),
        ((ref, "nurture"), "lead 1 already runs sequence 'nurture' (step 1 of 3)"),
        ((ref, "revive"), "lead 1 already runs sequence 'nurture' (step 1 of 3): stop it first, or replace it"),
    ]
    for args, message in refusals:
        with pytest.raises(RuleError) as refused:
            sdesk.start_sequence(*args)
        assert str(refused.value) == message
    assert (snapshot(sdesk), count(sdesk, "lead_sequence")) == before


def test_no_sequences_defined(desk: Desk) -> None:
    ref = add(desk)
    with pytest.raises(RuleError, match=r"^no sequences are defined: add \[sequences.NAME\]"):
        desk.start_sequence(ref, "nurture")
    assert desk.sequences() == []
    assert desk.lead_sequence(ref)["current"] is None


def test_replace_stops_the_running_one(sdesk: Desk, query: Any) -> None:
    ref = add(sdesk)
    sdesk.start_sequence(ref, "nurture")
    state = sdesk.start_sequence(ref, "revive", replace=True)
    assert state["current"]["sequence"] == "revive"
    assert [(r["sequence"], r["state"]) for r in row(sdesk, query, ref)] == [("nurture", "stopped"),
                                                                             ("revive", "running")]
    assert sdesk.show(ref)["followup_on"] == "2026-11-27"
    assert sequence_history(sdesk, ref)[1:] == [("nurture: step 1 of 3", "nurture: stopped (replaced by 'revive')"),
                                                (None, "revive: step 1 of 1, due 2026-11-27")]
    assert [r["sequence"] for r in state["history"]] == ["revive", "nurture"]  # newest first


# -- steps ---------------------------------------------------------------------------------------
def done(desk: Desk, ref: str) -> dict[str, Any]:
    """What the follow-ups code does when a rep marks the follow-up done: clear it, then `followup_done`."""
    with desk._ctx() as ctx:
        lead = desk._lead(ctx, ref)
        lead = leads._apply(ctx, lead, {"followup_on": None, "followup_note": ""}, "followup")
        return sequences.followup_done(ctx, lead)


def test_followup_done_schedules_each_step_then_finishes(sdesk: Desk, query: Any) -> None:
    ref = add(sdesk)
    sdesk.start_sequence(ref, "nurture")
    clock.freeze(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # the rep does it a day late
    version = sdesk.show(ref)["version"]
    lead = done(sdesk, ref)
    assert (lead["followup_on"], lead["followup_note"]) == ("2026-12-07", "Send the case study")
    assert sdesk.show(ref)["version"] == version + 1  # the done and the next step are one change
    assert sdesk.lead_sequence(ref)["current"]["step"] == 2
    clock.freeze(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    assert done(sdesk, ref)["followup_on"] == "2026-12-21"
    clock.freeze(datetime(2026, 12, 22, 9, 0, tzinfo=UTC))
    finished = done(sdesk, ref)
    assert finished["followup_on"] is None  # the last step's follow-up was done: nothing more to do
    assert row(sdesk, query, ref) == [{"sequence": "nurture", "step": 3, "state": "done", "next_at": None}]
    assert sequence_history(sdesk, ref) == [
        (None, "nurture: step 1 of 3, due 2026-11-29"),
        ("nurture: step 1 of 3", "nurture: step 2 of 3, due 2026-12-07"),
        ("nurture: step 2 of 3", "nurture: step 3 of 3, due 2026-12-21"),
        ("nurture: step 3 of 3", "nurture: done")]
    state = sdesk.lead_sequence(ref)
    assert state["current"] is None and state["history"][0]["state"] == "done"


def test_followup_done_without_a_sequence_changes_nothing(sdesk: Desk) -> None:
    ref = add(sdesk)
    with sdesk._ctx() as ctx:
        lead = desk_lead = sdesk._lead(ctx, ref)
        assert sequences.followup_done(ctx, lead) is desk_lead
    assert sequence_history(sdesk, ref) == []


def test_the_follow_up_done_command_advances_the_sequence(sdesk: Desk) -> None:
    ref = add(sdesk)
    sdesk.start_sequence(ref, "nurture")
    version = sdesk.show(ref)["version"]
    lead = sdesk.followup_done(ref)  # the follow-ups code (issue 6) calls sequences.followup_done
    assert (lead["followup_on"], lead["followup_note"], lead["version"]) == (
        "2026-12-03", "Send the case study", version + 1)


def test_a_sequence_no_longer_in_the_settings_stops_at_its_next_step(sdesk: Desk, open_desk: DeskFactory,
                                                                       query: Any) -> None:
    ref = add(sdesk)
    sdesk.start_sequence(ref, "nurture")
    other = open_desk(settings=Settings(sequences={"revive": REVIVE}))
    listed = other.sequences()
    assert [(s["name"], s["defined"], s["running"]) for s in listed] == [("revive", True, 0), ("nurture", False, 1)]
    assert "no longer in the settings" in listed[1]["problems"][0]
    current = other.lead_sequence(ref)["current"]
    assert (current["defined"], current["steps"], current["note"]) == (False, None, "")
    with pytest.raises(RuleError, match="no longer in the settings"):
        other.sequence_text(ref)
    done(other, ref)
    assert row(other, query, ref)[0]["state"] == "stopped"
    assert sequence_history(other, ref)[-1] == ("nurture: step 1", "nurture: stopped (no longer in the settings)")


# -- automatic start and stop --------------------------------------------------------------------
def test_entering_a_status_starts_its_sequence(sdesk: Desk, query: Any) -> None:
    ref = add(sdesk)
    before = sdesk.show(ref)
    lead, action = sdesk.set_status(ref, "attempted to contact")
    assert action == "status" and lead["version"] == before["version"] + 1
    assert (lead["followup_on"], lead["followup_note"]) == ("2026-11-29", "Call again")
    changes = sdesk.lead_changes_since(ref, before["version"])
    assert {"status", "followup"} <= set(changes)
    # back and forth between open statuses: the running sequence goes on (not restarted)
    sdesk.set_status(ref, "New")
    sdesk.set_status(ref, "Attempted to contact")
    assert [(r["sequence"], r["state"]) for r in row(sdesk, query, ref)] == [("nurture", "running")]
    # a status that starts another sequence replaces it
    sdesk.set_status(ref, "Engaged")
    assert [(r["sequence"], r["state"]) for r in row(sdesk, query, ref)] == [("nurture", "stopped"),
                                                                             ("revive", "running")]
    assert sdesk.show(ref)["followup_on"] == "2026-11-27"


def test_the_status_change_and_its_sequence_are_one_change(sdesk: Desk) -> None:
    """Code that goes on with the lead a status change returned (the work queue) keeps a valid version."""
    ref = add(sdesk)
    with sdesk._ctx() as ctx:
        lead, _action = leads.set_status(ctx, sdesk._lead(ctx, ref), "Attempted to contact")
        assert lead["version"] == load_lead(ctx.tx, lead["id"])["version"]
        leads.edit_lead(ctx, lead, {"city": "Rome"})  # no Conflict
    assert sdesk.show(ref)["city"] == "Rome"


def test_creating_or_importing_a_lead_in_the_status_starts_nothing(sdesk: Desk, count: Any) -> None:
    sdesk.add_lead({"name": "Cy Moss", "company": "Moss"}, status="Attempted to contact", force=True)
    assert count(sdesk, "lead_sequence") == 0


def test_closing_a_lead_stops_its_sequence(sdesk: Desk, query: Any) -> None:
    lost, won, qualified = (add(sdesk, n, email=f"{n[:2]}@x.example.com") for n in ("Al One", "Bo Two", "Cy Tri"))
    for ref in (lost, won, qualified):
        sdesk.set_status(ref, "Attempted to contact")
    sdesk.mark_lost(lost, "Not a fit")
    sdesk.mark_won(won, "1200")
    sdesk.qualify(qualified, new_customer=True)
    for ref, why in ((lost, "lost"), (won, "won"), (qualified, "qualified")):
        assert row(sdesk, query, ref)[0]["state"] == "stopped"
        assert sequence_history(sdesk, ref)[-1] == ("nurture: step 1 of 3", f"nurture: stopped (lead {why})")
        assert sdesk.show(ref)["followup_on"] == "2026-11-29"  # the follow-up itself stays
    sdesk.reopen(lost, "Attempted to contact")  # entering the status again starts it again
    assert [r["state"] for r in row(sdesk, query, lost)] == ["stopped", "running"]


def test_stop_by_hand(sdesk: Desk, query: Any) -> None:
    ref = add(sdesk)
    sdesk.start_sequence(ref, "nurture")
    version = sdesk.show(ref)["version"]
    state = sdesk.stop_sequence(ref)
    assert state["current"] is None and state["history"][0]["state"] == "stopped"
    lead = sdesk.show(ref)
    assert (lead["followup_on"], lead["followup_note"], lead["version"]) == ("2026-11-29", "Call again", version + 1)
    assert sequence_history(sdesk, ref)[-1] == ("nurture: step 1 of 3", "nurture: stopped (by ann)")
    with pytest.raises(RuleError, match=r"^lead 1 runs no sequence$"):
        sdesk.stop_sequence(ref)
    assert row(sdesk, query, ref)[0]["next_at"] is None


def test_moving_the_follow_up_by_hand_moves_the_next_date(sdesk: Desk) -> None:
    ref = add(sdesk)
    sdesk.start_sequence(ref, "nurture")
    sdesk.set_followup(ref, "2026-12-02")
    assert sdesk.lead_sequence(ref)["current"]["next_at"] == "2026-12-02"


def test_overview_counts_running_leads_and_names_problems(open_desk: DeskFactory) -> None:
    odd = NurtureSequence("odd", "", ("Converted", "Nope"), (NurtureStep(1, "x"),))
    desk = open_desk(settings=replace(SEQUENCES, sequences={**SEQUENCES.sequences, "odd": odd}), preset="sales")
    for name in ("Al One", "Bo Two"):
        desk.set_status(add(desk, name, email=None), "Attempted to contact")
    listed = {s["name"]: s for s in desk.sequences()}
    assert {n: s["running"] for n, s in listed.items()} == {"nurture": 2, "revive": 0, "odd": 0}
    assert listed["nurture"]["problems"] == []
    assert listed["odd"]["problems"] == [
        "sequence 'odd': 'Converted' is a won status; sequences run only on open leads, so it starts nothing",
        "sequence 'odd': start_on_status 'Nope' is not a status of this desk"]
    assert [s["after_days"] for s in desk.sequence("nurt")["steps"]] == [3, 7, 14]


# -- text to send --------------------------------------------------------------------------------
VALUES = {"first_name": "{company}", "company": "[bold red]Evil[/] \x1b[2J %s {0} \\n", "my_name": "Ann"}


def test_fill_inserts_values_literally() -> None:
    filled = sequences.fill("Hi {first_name} at {company}! {{first_name}} {unknown} {my_name}.", VALUES)
    assert filled == "Hi {company} at [bold red]Evil[/] \x1b[2J %s {0} \\n! {first_name} {unknown} Ann."
    assert sequences.fill("{last_name}|{ company }|{{|}}", VALUES) == "|{ company }|{|}"


def test_step_text_fills_the_current_step(sdesk: Desk) -> None:
    ref = add(sdesk, "Ann Lee", company="Acme & Sons [b]{first_name}\x1b]0;x\x07", email="ann+x@acme.example.com")
    sdesk.start_sequence(ref, "nurture")
    with pytest.raises(RuleError, match=r"^step 1 of sequence 'nurture' has no text to send, only a note: Call"):
        sdesk.sequence_text(ref)
    done(sdesk, ref)
    filled = sdesk.sequence_text(ref)
    company = "Acme & Sons [b]{first_name}\x1b]0;x\x07"
    assert (filled["step"], filled["steps"], filled["to"]) == (2, 3, "ann+x@acme.example.com")
    assert filled["subject"] == f"For {company}"
    assert filled["body"] == f"Hello Ann,\nthe study for {company}.\nann"
    url = urlsplit(filled["mailto"])
    assert url.scheme == "mailto" and unquote(url.path) == "ann+x@acme.example.com"
    query = parse_qs(url.query)
    assert query == {"subject": [f"For {company}"], "body": [filled["body"].replace("\n", "\r\n")]}
    assert not set(filled["mailto"]) & set(" \n\r\x1b\x07&[]{}") - {"&"} and filled["mailto"].count("&") == 1


def test_mailto_needs_an_address(sdesk: Desk) -> None:
    ref = add(sdesk, email=None)
    sdesk.start_sequence(ref, "nurture")
    done(sdesk, ref)
    assert sdesk.sequence_text(ref)["mailto"] is None
    with pytest.raises(RuleError, match=r"^lead 1 has no email address to write to$"):
        sdesk.sequence_text(ref, mailto=True)
    with pytest.raises(RuleError, match="runs no sequence"):
        sdesk.sequence_text(add(sdesk, "Bo Two", email=None))


def test_names_fall_back_to_the_contact_name(sdesk: Desk) -> None:
    with sdesk.db.read() as tx:
        values = sequences.placeholder_values(tx, {"contact_name": "Mary Ann Smith", "owner_id": None}, "ann")
    assert (values["first_name"], values["last_name"], values["owner_name"], values["my_name"]) == (
        "Mary", "Ann Smith", "", "ann")
