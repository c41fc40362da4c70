"""Access, method by method (issue 9): every public `Desk` method, called as a partner user and as a deactivated
user, is refused by the store and writes nothing, except the few that show no desk data and, for the partner, the
partner view's own reads. Runs on each backend.

CALLS holds a call with valid arguments (they work for a manager) for every public method; a new method fails
`test_every_public_desk_method_has_an_access_case` until it gets one, and says there what each of the two may do.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from leaddesk.store.desk import Desk
from leaddesk.store.permissions import PARTNER_REFUSAL, Forbidden, PartnerOnly
from leaddesk.store.queries import LeadFilter

from .conftest import DeskFactory

MAIL = Path(__file__).parent.parent / "fixtures" / "mail"
DEACTIVATED_REFUSAL = "user 'dee' is deactivated on this desk: ask a manager to run `leaddesk user activate dee`"


@dataclass(frozen=True)
class Access:
    """A method's call, and whether the partner / the deactivated user may make it (and why)."""

    call: Callable[[Desk, Path], Any]
    partner: str = ""
    """Empty: refused (PartnerOnly, in PARTNER_REFUSAL's words). Otherwise why a partner may call it."""
    deactivated: str = ""
    """Empty: refused (Forbidden, the deactivated words). Otherwise why a deactivated user may call it."""


def refused(call: Callable[[Desk, Path], Any]) -> Access:
    return Access(call)


def no_desk_data(call: Callable[[Desk, Path], Any], why: str) -> Access:
    return Access(call, partner=why, deactivated=why)


def mail() -> bytes:
    return (MAIL / "plain.eml").read_bytes()


CALLS: dict[str, Access] = {
    # -- what shows no desk data: anyone may
    "open": no_desk_data(lambda d, _p: Desk.open(str(d.db.target), login=d.login, settings=d.settings).close(),
                         "opens the database; every call on it is checked"),
    "close": no_desk_data(lambda d, _p: None, "closes the connection (not called here: the test needs it)"),
    "period_of": no_desk_data(lambda d, _p: d.period_of("2026-11-01", "2026-11-30"), "parses two dates"),
    "report_names": no_desk_data(lambda d, _p: d.report_names(), "the fixed names of the reports"),
    "work_outcomes": no_desk_data(lambda d, _p: d.work_outcomes(), "the fixed list of outcomes"),
    "sla_policy": no_desk_data(lambda d, _p: d.sla_policy(), "the settings' SLA in words"),
    "workbook_sheets": no_desk_data(lambda d, p: d.workbook_sheets(str(p / "leads.csv")),
                                    "the sheets of the caller's own file"),
    "preview_import": no_desk_data(lambda d, p: d.preview_import(str(p / "leads.csv")),
                                   "reads the caller's own file, never the desk"),
    # -- the partner view: the partner's own reads; a deactivated user (partner or not) gets nothing
    "my_partner_view": Access(lambda d, _p: d.my_partner_view(), partner="the partner view itself"),
    "partner_report_for": Access(lambda d, _p: d.partner_report_for(), partner="gives a partner their own view"),
    # -- everything else: refused to both
    "init": refused(lambda d, _p: d.init("sales")),
    "add_activity": refused(lambda d, _p: d.add_activity("1", "note", "hi")),
    "add_lead": refused(lambda d, _p: d.add_lead({"name": "Zed"})),
    "add_partner": refused(lambda d, _p: d.add_partner("Eastwind")),
    "add_partner_spend": refused(lambda d, _p: d.add_partner_spend("Northwind", "10")),
    "add_user": refused(lambda d, _p: d.add_user("zed")),
    "agenda": refused(lambda d, _p: d.agenda(LeadFilter())),
    "agenda_groups": refused(lambda d, _p: d.agenda_groups(LeadFilter())),
    "assign_rerun": refused(lambda d, _p: d.assign_rerun(dry_run=True)),
    "assignment_rules": refused(lambda d, _p: d.assignment_rules()),
    "board": refused(lambda d, _p: d.board(LeadFilter())),
    "board_view": refused(lambda d, _p: d.board_view(LeadFilter(), lambda _c: {})),
    "capture_email": refused(lambda d, _p: d.capture_email(mail())),  # captured before: would name its lead
    "capture_mailbox": refused(lambda d, _p: list(d.capture_mailbox([("one", mail())]))),
    "catalog_change": refused(lambda d, _p: d.catalog_change("sources", "add", "Radio")),
    "catalog_list": refused(lambda d, _p: d.catalog_list("sources")),
    "comarketing": refused(lambda d, _p: d.comarketing()),
    "copy_lead": refused(lambda d, _p: d.copy_lead("1")),
    "copy_to": refused(lambda d, p: d.copy_to(str(p / "copy.db"))),
    "count_leads": refused(lambda d, _p: d.count_leads(LeadFilter())),
    "lead_page": refused(lambda d, _p: d.lead_page(LeadFilter(search="a"))),
    "customer": refused(lambda d, _p: d.customer(1)),
    "customer_from_lead": refused(lambda d, _p: d.customer_from_lead("2")),
    "customers": refused(lambda d, _p: d.customers()),
    "cycle_bant": refused(lambda d, _p: d.cycle_bant("1", "budget")),
    "deal": refused(lambda d, _p: d.deal(1)),
    "deal_action": refused(lambda d, _p: d.deal_action(1, "stage", stage="Proposal")),
    "deal_board": refused(lambda d, _p: d.deal_board()),
    "deals": refused(lambda d, _p: d.deals()),
    "delete_lead": refused(lambda d, _p: d.delete_lead("2", force=True)),
    "duplicate_groups": refused(lambda d, _p: d.duplicate_groups()),
    "edit_lead": refused(lambda d, _p: d.edit_lead("2", {"company": "Changed"})),
    "edit_partner": refused(lambda d, _p: d.edit_partner("Northwind", name="Renamed")),
    "explain_score": refused(lambda d, _p: d.explain_score("1")),
    "export_leads": refused(lambda d, p: d.export_leads(LeadFilter(), str(p / "out.csv"))),
    "followup_done": refused(lambda d, _p: d.followup_done("1")),
    "followup_reminders": refused(lambda d, _p: d.followup_reminders()),
    "history": refused(lambda d, _p: d.history("1")),
    "import_batches": refused(lambda d, _p: d.import_batches()),
    "import_leads": refused(lambda d, p: d.import_leads(str(p / "leads.csv"))),
    "intake_lead": refused(lambda d, _p: d.intake_lead({"name": "Zed", "email": "zed@x.example.com"})),
    "lead_changes_since": refused(lambda d, _p: d.lead_changes_since("1", 1)),
    "lead_position": refused(lambda d, _p: d.lead_position(LeadFilter(), 1)),
    "lead_sequence": refused(lambda d, _p: d.lead_sequence("1")),
    "list_leads": refused(lambda d, _p: d.list_leads(LeadFilter())),
    "lookup": refused(lambda d, _p: d.lookup("ann@acme.example.com")),
    "mark_lost": refused(lambda d, _p: d.mark_lost("2", "Budget")),
    "mark_notices_read": refused(lambda d, _p: d.mark_notices_read()),
    "mark_won": refused(lambda d, _p: d.mark_won("2", "100")),
    "matching_customers": refused(lambda d, _p: d.matching_customers("1")),
    "merge": refused(lambda d, _p: d.merge("3", ["4"])),
    "merge_plan": refused(lambda d, _p: d.merge_plan("3", ["4"])),
    "merges": refused(lambda d, _p: d.merges()),
    "next_in_queue": refused(lambda d, _p: d.next_in_queue()),
    "notices": refused(lambda d, _p: d.notices()),
    "partner_metrics": refused(lambda d, _p: d.partner_metrics("Northwind")),
    "partner_overview": refused(lambda d, _p: d.partner_overview()),
    "partner_report": refused(lambda d, _p: d.partner_report("Northwind")),
    "partners": refused(lambda d, _p: d.partners()),
    "possible_duplicates": refused(lambda d, _p: d.possible_duplicates({"email": "ann@acme.example.com"})),
    "qualify": refused(lambda d, _p: d.qualify("2", new_customer=True)),
    "queue_count": refused(lambda d, _p: d.queue_count()),
    "recompute_scores": refused(lambda d, _p: d.recompute_scores()),
    "referred_leads": refused(lambda d, _p: d.referred_leads()),
    "refresh_scores": refused(lambda d, _p: d.refresh_scores()),
    "reopen": refused(lambda d, _p: d.reopen("1")),
    "report": refused(lambda d, _p: d.report("volume")),
    "score_rules": refused(lambda d, _p: d.score_rules()),
    "sequence": refused(lambda d, _p: d.sequence("nurture")),
    "sequence_text": refused(lambda d, _p: d.sequence_text("1")),
    "sequences": refused(lambda d, _p: d.sequences()),
    "set_followup": refused(lambda d, _p: d.set_followup("1", "tomorrow")),
    "set_status": refused(lambda d, _p: d.set_status("2", "contacted")),
    "set_user_active": refused(lambda d, _p: d.set_user_active("cy", False)),
    "set_user_role": refused(lambda d, _p: d.set_user_role("cy", "manager")),
    "show": refused(lambda d, _p: d.show("1")),
    "sla_breaches": refused(lambda d, _p: d.sla_breaches()),
    "sla_escalate": refused(lambda d, _p: d.sla_escalate()),
    "sla_poll": refused(lambda d, _p: d.sla_poll()),
    "sla_recompute": refused(lambda d, _p: d.sla_recompute()),
    "sla_report": refused(lambda d, _p: d.sla_report()),
    "start_sequence": refused(lambda d, _p: d.start_sequence("2", "nurture")),
    "status_choices": refused(lambda d, _p: d.status_choices("1")),
    "statuses": refused(lambda d, _p: d.statuses()),
    "stop_sequence": refused(lambda d, _p: d.stop_sequence("1")),
    "undo": refused(lambda d, _p: d.undo("1")),
    "undo_import": refused(lambda d, _p: d.undo_import(1)),
    "undo_merge": refused(lambda d, _p: d.undo_merge()),
    "user_history": refused(lambda d, _p: d.user_history("cy")),
    "user_overview": refused(lambda d, _p: d.user_overview()),
    "users": refused(lambda d, _p: d.users()),
    "whoami": refused(lambda d, _p: d.whoami()),
    "work_outcome": refused(lambda d, _p: d.work_outcome("1", "reached")),
    "work_queue": refused(lambda d, _p: d.work_queue()),
}


def public_methods() -> set[str]:
    return {name for name, member in inspect.getmembers(Desk) if not name.startswith("_") and callable(member)}


def test_every_public_desk_method_has_an_access_case() -> None:
    missing = sorted(public_methods() - set(CALLS))
    assert not missing, f"say what a partner and a deactivated user get from these (CALLS above): {missing}"
    assert not sorted(set(CALLS) - public_methods()), "CALLS names methods Desk no longer has"


@pytest.fixture
def world(open_desk: DeskFactory, tmp_path: Path) -> dict[str, Any]:
    """ann (admin) runs a sales desk where every call in CALLS would work for her: leads (one referred by
    Northwind, with a running sequence), duplicates, a deal, a captured email, an import batch, users cy (rep),
    pat (Northwind's partner user) and dee (deactivated)."""
    from leaddesk.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text('[sequences.nurture]\nsteps = [{ after_days = 3, note = "call again" }]\n'
                      '[sla]\ncontact_within_hours = 4\n', encoding="utf-8")
    settings = load_settings(config)
    (tmp_path / "leads.csv").write_text("name,email\nZed,zed@x.example.com\n", encoding="utf-8")
    ann = open_desk(settings=settings, preset="sales", auto_create=False)
    for login, role in (("cy", "rep"), ("dee", "rep")):
        ann.add_user(login, role=role)
    ann.add_partner("Northwind", "nw@example.com", "pat")
    ann.add_lead({"name": "Ann Lee", "company": "Acme", "email": "ann@acme.example.com", "partner": "Northwind"})
    ann.add_lead({"name": "Bob Stone", "company": "Bolt"})
    ann.add_lead({"name": "Cy Dup", "email": "dup@x.example.com"})
    ann.add_lead({"name": "Cy Dup", "email": "dup@x.example.com"}, force=True)
    ann.add_lead({"name": "Di Qual", "email": "di@qual.example.com"})
    ann.qualify("5", new_customer=True, value="100")  # customer 1, deal 1
    ann.start_sequence("1", "nurture")
    ann.capture_email(mail())
    ann.import_leads(str(tmp_path / "leads.csv"), on_duplicate="create")  # batch 1
    ann.set_user_active("dee", False)
    return {"ann": ann, "pat": open_desk(login="pat", settings=settings, auto_create=False),
            "dee": open_desk(login="dee", settings=settings, auto_create=False)}


def fingerprint(desk: Desk, folder: Path) -> tuple[Any, ...]:
    """What a refused call must leave as it was, in one query: every table's row count, the last history id and
    the sum of the leads' versions; and the files in `folder`."""
    from leaddesk.store.dbcopy import tables

    counts = ", ".join(f'(SELECT count(*) FROM "{t.name}") AS "{t.name}"' for t in tables())
    with desk.db.read() as tx:
        row = tx.one(f"SELECT {counts}, (SELECT max(id) FROM history) AS history_id,"
                     " (SELECT coalesce(sum(version), 0) FROM lead) AS versions")
    return tuple(row), sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(("login", "refusal", "kind"), [("pat", PARTNER_REFUSAL, PartnerOnly),
                                                        ("dee", DEACTIVATED_REFUSAL, Forbidden)],
                         ids=["partner", "deactivated"])
def test_a_partner_and_a_deactivated_user_are_refused_every_method_that_shows_desk_data(
        world: dict[str, Any], login: str, refusal: str, kind: type[Forbidden], tmp_path: Path) -> None:
    """One desk for every method (a desk per method costs seconds on PostgreSQL): each call is refused with the
    exact words, or (where CALLS says why it may) works; either way every table stays as it was and no file is
    written. The failures are listed by method."""
    ann, who = world["ann"], world[login]

    def state() -> Any:
        return fingerprint(ann, tmp_path)

    before = state()
    wrong: dict[str, str] = {}
    for method in sorted(CALLS):
        access = CALLS[method]
        allowed = access.partner if login == "pat" else access.deactivated
        try:
            access.call(who, tmp_path)
        except Forbidden as exc:
            if allowed:
                wrong[method] = f"refused, but it may ({allowed}): {exc}"
            elif type(exc) is not kind or str(exc) != refusal:
                wrong[method] = f"refused in other words: {type(exc).__name__}: {exc}"
        except Exception as exc:
            wrong[method] = f"{type(exc).__name__}: {exc}"
        else:
            if not allowed:
                wrong[method] = "allowed"
        if state() != before:
            wrong[method] = wrong.get(method, "") + " and it changed the desk or wrote a file"
    assert wrong == {}


def test_the_methods_they_may_call_are_exactly_these() -> None:
    shows_nothing = {"open", "close", "period_of", "report_names", "work_outcomes", "sla_policy", "workbook_sheets",
                     "preview_import"}
    assert {m for m, a in CALLS.items() if a.partner} == shows_nothing | {"my_partner_view", "partner_report_for"}
    assert {m for m, a in CALLS.items() if a.deactivated} == shows_nothing
