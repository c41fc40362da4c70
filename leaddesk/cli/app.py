"""The full `leaddesk` command line (Typer). Commands only parse, call the service API and print."""

import functools
import inspect
import sys
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.render import lead_json, lead_text, money, one_line
from leaddesk.store.errors import LeadDeskError, NeedsChoice
from leaddesk.store.fields import FIELDS
from leaddesk.store.queries import LeadFilter
from leaddesk.store.rules import format_money
from leaddesk.textsafe import safe_line

app = typer.Typer(
    name="leaddesk",
    help="A keyboard-driven lead desk for the terminal. Global options --db PATH|URL and --user LOGIN "
         "go anywhere on the line.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
_globals: dict[str, str | None] = {"db": None, "user": None}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def desk(*, create: bool = True) -> Any:
    """The service API on the chosen database, as the acting user (`create=False` for read-only commands)."""
    from leaddesk.store.desk import Desk

    return Desk.open(_globals["db"], login=_globals["user"], origin="cli", create=create)


def reader() -> Any:
    """The service API for a command that only reads: a missing database is refused, not created."""
    return desk(create=False)


# -- lead field options, generated from the one field registry -----------------------------------
def with_fields(*, job_value: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command an option per lead field (`--company`, `--followup`, ...) and `--field NAME=VALUE`."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        extra = []
        for spec in FIELDS.values():
            if spec.name == "job_value" and not job_value:
                continue
            flag = "--" + spec.name.replace("_", "-")
            extra.append(inspect.Parameter(
                spec.name, inspect.Parameter.KEYWORD_ONLY, default=None,
                annotation=Annotated[str | None, typer.Option(flag, help=spec.label, rich_help_panel="Fields")]))
        extra.append(inspect.Parameter(
            "custom_field", inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[list[str] | None, typer.Option(
                "--field", help="A custom field from settings, as NAME=VALUE (repeatable).",
                rich_help_panel="Fields")]))
        signature = inspect.signature(func, eval_str=True)
        params = [p for p in signature.parameters.values() if p.name != "values"]

        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in list(kwargs) if name in FIELDS}
            values = {k: v for k, v in values.items() if v is not None}
            custom: dict[str, str] = {}
            for pair in kwargs.pop("custom_field") or []:
                name, eq, value = pair.partition("=")
                if not eq or not name.strip():
                    raise LeadDeskError(f"--field takes NAME=VALUE, not '{pair}'")
                custom[name.strip()] = value
            if custom:
                values["custom"] = custom
            return func(values=values, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
        return wrapper

    return decorate


# -- setup ---------------------------------------------------------------------------------------
class Preset(StrEnum):
    sales = "sales"
    services = "services"


@app.command()
def init(preset: Annotated[Preset, typer.Option(help="Workflow preset.")] = Preset.sales) -> None:
    """Set up a new desk with a status preset; the acting user becomes an admin."""
    from leaddesk.store.db import shown_target

    d = desk()
    output.say(f"{d.init(preset.value)} at {shown_target(d.db.target)}")


@app.command()
def demo(
    db: Annotated[str | None, typer.Option("--db", help="Where to build it (default: demo.db in the data dir).")
                  ] = None,
    open_: Annotated[bool, typer.Option("--open", help="Then open the desk on it.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same desk.")] = 7,
    leads: Annotated[int, typer.Option(help="How many leads.")] = 300,
    preset: Annotated[Preset, typer.Option(help="Workflow preset.")] = Preset.sales,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing demo database.")] = False,
) -> None:
    """Build a realistic demo database (relative to today) and print its path."""
    from leaddesk.paths import data_dir
    from leaddesk.store.demo import build_demo, is_demo_database, welcome
    from leaddesk.store.desk import acting_login

    target = Path(db or _globals["db"] or data_dir() / "demo.db").expanduser()
    if target.exists() and not force:
        output.note(f"demo database already at {target} (use --force to rebuild it)")
    else:
        if force and target.exists():
            if not is_demo_database(target):
                raise LeadDeskError(f"{target} is not a demo database; --force replaces only demo databases")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
        counts = build_demo(target, seed=seed, leads=leads, preset=preset.value)
        summary = ", ".join(f"{v} {k}" for k, v in counts.items())
        output.note(f"built {target}: {summary}")
    if is_demo_database(target):
        visitor = acting_login(_globals["user"])
        if welcome(target, visitor):
            output.note(f"{visitor} is an admin of this demo desk")
    print(target)
    if open_:
        _globals["db"] = str(target)
        open_desk()


def open_desk() -> None:
    """Open the full-screen desk on a terminal; elsewhere (a pipe, a script) print the open leads."""
    from leaddesk.cli import on_terminal
    from leaddesk.cli import open_desk as run_desk

    if not on_terminal():
        list_(open_=True)
        return
    code = run_desk(db=_globals["db"], user=_globals["user"])
    if code:
        raise typer.Exit(code)


# -- leads ---------------------------------------------------------------------------------------
@app.command()
@with_fields(job_value=False)
def add(values: dict[str, Any],
        status: Annotated[str | None, typer.Option(help="An open status to start in.")] = None,
        force: Annotated[bool, typer.Option(
            "--force", help="Create it even if its phone or email is already on a lead or customer.")] = False,
        json_: JsonOpt = False) -> None:
    """Add a lead (a contact name or a company is required; the owner defaults to you).

    A lead whose phone or email (in any format) is already on a lead or customer is refused, naming them;
    --force creates it anyway.
    """
    from leaddesk.store.errors import PossibleDuplicate

    try:
        detail = desk().add_lead(values, status=status, force=force)
    except PossibleDuplicate as exc:
        if json_:
            output.emit_json({"error": str(exc), "matches": exc.matches})
        raise
    output.emit_json(lead_json(detail)) if json_ else output.say(f"added {one_line(detail)}")


@app.command()
@with_fields(job_value=True)
def edit(values: dict[str, Any],
         ref: Annotated[str, typer.Argument(help="Lead number, email or phone.")],
         if_version: Annotated[int | None, typer.Option(
             "--if-version", help="Refuse (exit 4) if the lead changed since this version, naming who changed"
             " what (with --json, also as JSON on stdout: error, by, at, fields).")] = None,
         json_: JsonOpt = False) -> None:
    """Change fields of a lead (an empty value clears a field)."""
    from leaddesk.store.errors import Conflict

    if not values:
        raise LeadDeskError("nothing to change: give field options such as --company or --followup")
    try:
        detail = desk().edit_lead(ref, values, expected_version=if_version)
    except Conflict as exc:
        if json_:
            output.emit_json({"error": str(exc), "by": exc.by, "at": exc.at, "fields": exc.fields})
        raise
    output.emit_json(lead_json(detail)) if json_ else output.say(f"saved {one_line(detail)}")


def build_filter(*, status: list[str] | None, open_: bool, closed: bool, state: str | None,
                 custom_field: list[str] | None, type_: str | None, **options: Any) -> LeadFilter:
    """The LeadFilter of the list options (`--field NAME=VALUE`, `--open`, ...)."""
    custom = {}
    for pair in custom_field or []:
        name, eq, value = pair.partition("=")
        if not eq:
            raise LeadDeskError(f"--field takes NAME=VALUE, not '{pair}'")
        custom[name.strip()] = value
    if open_ and closed:
        raise LeadDeskError("--open and --closed exclude each other")
    return LeadFilter(statuses=status or [], type=type_, state="open" if open_ else "closed" if closed else state,
                      custom=custom, **options)


def _filter_options(
    status: Annotated[list[str] | None, typer.Option(help="Status (repeatable).")] = None,
    source: Annotated[str | None, typer.Option()] = None,
    zone: Annotated[str | None, typer.Option()] = None,
    type_: Annotated[str | None, typer.Option("--type", help="Lead type.")] = None,
    owner: Annotated[str | None, typer.Option(help="Owner's login.")] = None,
    partner: Annotated[str | None, typer.Option(help="Referring partner.")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only my leads.")] = False,
    state: Annotated[str | None, typer.Option(help="open or closed.")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Only open leads.")] = False,
    closed: Annotated[bool, typer.Option("--closed", help="Only closed leads.")] = False,
    search: Annotated[str | None, typer.Option(help="Name, company, phone or email fragment.")] = None,
    due: Annotated[str | None, typer.Option(
        help="Follow-up due: today, week (to Sunday), overdue, by-today or by-week (overdue ones too), any.")] = None,
    min_score: Annotated[int | None, typer.Option(
        "--min-score", help="Only leads scoring at least this (manual + automatic; see `leaddesk score`).")] = None,
    sla: Annotated[str | None, typer.Option(
        help="First-contact SLA: breached, pending (not contacted, not yet due), met or missed.")] = None,
    custom_field: Annotated[list[str] | None, typer.Option("--field", help="Custom field NAME=VALUE.")] = None,
) -> None:
    """Only its signature is used: the lead filters that `list` and `export` share."""


FILTER_PARAMETERS = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
                     for p in inspect.signature(_filter_options, eval_str=True).parameters.values()]


def with_filters(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the lead filter options; it receives them as one `flt: LeadFilter`."""
    signature = inspect.signature(func, eval_str=True)
    params = [p for p in signature.parameters.values() if p.name != "flt"]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        options = {p.name: kwargs.pop(p.name, p.default) for p in FILTER_PARAMETERS}
        return func(flt=build_filter(**options), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*params, *FILTER_PARAMETERS])  # type: ignore[attr-defined]
    return wrapper


@app.command("list")
@with_filters
def list_(
    flt: LeadFilter,
    sort: Annotated[str, typer.Option(help="Sort column (number, contact, company, status, score, ...).")] = "number",
    desc: Annotated[bool, typer.Option("--desc", help="Sort descending.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many (0: all).")] = 100,
    json_: JsonOpt = False,
    csv_: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """List leads with filters, search and sort."""
    flt = replace(flt, sort=sort, descending=desc, limit=limit or None)
    d = reader()
    if flt.min_score is not None or "score".startswith(sort.strip().casefold() or "-"):
        d.refresh_scores()  # the day's decay, or new rules: at most once a day, a read otherwise
    rows = d.list_leads(flt)
    columns = ["number", "contact", "company", "phone", "email", "source", "status", "priority", "score", "deals",
               "owner", "followup"]
    values = [[r["number"], r["contact_name"], r["company"], r["phone"], r["email"], r["source"], r["status"],
               r["priority"], r["total_score"], r["deals"], r["owner"], r["followup_on"]] for r in rows]
    if json_:
        output.emit_json([{**dict(zip(columns, v, strict=True)), "status_category": r["status_category"],
                           "type": r["type"], "zone": r["zone"], "version": r["version"]}
                          for v, r in zip(values, rows, strict=True)])
    elif csv_:
        output.emit_csv(columns, values)
    else:
        total = d.count_leads(flt)
        output.table(None, columns, values)
        if total > len(rows):
            output.say(f"{len(rows)} of {total} leads (use --limit 0 for all)")


@app.command()
def show(ref: str, json_: JsonOpt = False) -> None:
    """Show a lead."""
    detail = reader().show(ref)
    output.emit_json(lead_json(detail)) if json_ else print(lead_text(detail))


@app.command()
def status(ref: str, status: str, json_: JsonOpt = False) -> None:
    """Pick a status by hand (open statuses; from a closed one this reopens the lead)."""
    detail, _action = desk().set_status(ref, status)
    output.emit_json(lead_json(detail)) if json_ else output.say(one_line(detail))


@app.command()
def won(ref: str, value: Annotated[str, typer.Option("--value", help="Job value (> 0).")],
        json_: JsonOpt = False) -> None:
    """Mark a lead won with its job value."""
    detail = desk().mark_won(ref, value)
    output.emit_json(lead_json(detail)) if json_ else output.say(
        f"{one_line(detail)} · job value {format_money(detail['job_value_cents'])}")


@app.command()
def lost(ref: str, reason: Annotated[str, typer.Option("--reason", help="A reason from `leaddesk reasons`.")],
         note: Annotated[str | None, typer.Option(help="Optional note.")] = None, json_: JsonOpt = False) -> None:
    """Mark a lead lost / disqualified with a reason."""
    detail = desk().mark_lost(ref, reason, note)
    output.emit_json(lead_json(detail)) if json_ else output.say(f"{one_line(detail)} · {detail['lost_reason']}")


@app.command()
def reopen(ref: str, status: Annotated[str | None, typer.Argument(help="Open status (default: the first).")] = None,
           json_: JsonOpt = False) -> None:
    """Reopen a lead to an open status (allowed at any time; recorded)."""
    detail = desk().reopen(ref, status)
    output.emit_json(lead_json(detail)) if json_ else output.say(f"reopened {one_line(detail)}")


@app.command()
def note(ref: str, text: list[str]) -> None:
    """Add a note to a lead's timeline."""
    output.say(f"{one_line(desk().add_activity(ref, 'note', ' '.join(text)))} · note added")


class Kind(StrEnum):
    call = "call"
    email = "email"
    meeting = "meeting"
    note = "note"


@app.command()
def log(ref: str, kind: Kind, text: list[str],
        at: Annotated[str | None, typer.Option(help="When: 2026-12-01 14:30, -2h, yesterday 15:00.")] = None) -> None:
    """Log a call, email or meeting on a lead's timeline."""
    output.say(f"{one_line(desk().add_activity(ref, kind.value, ' '.join(text), at))} · {kind.value} logged")


@app.command()
def qualify(
    ref: str,
    customer: Annotated[int | None, typer.Option("--customer", help="Link this existing customer id.")] = None,
    new_customer: Annotated[bool, typer.Option("--new-customer", help="Create a new customer.")] = False,
    title: Annotated[str | None, typer.Option(help="Deal title (default: the company).")] = None,
    value: Annotated[str | None, typer.Option(help="Deal value.")] = None,
    close: Annotated[str | None, typer.Option(help="Expected close date.")] = None,
    no_deal: Annotated[bool, typer.Option("--no-deal", help="Person only: convert without a deal.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Qualify a lead: link or create its customer and open a deal in the default pipeline."""
    if customer is not None and new_customer:
        raise LeadDeskError("choose either --customer ID or --new-customer")
    try:
        outcome = desk().qualify(ref, customer_id=customer, new_customer=new_customer, title=title, value=value,
                                 close=close, create_deal=not no_deal)
    except NeedsChoice as exc:
        if json_:
            output.emit_json({"error": str(exc), "matches": exc.choices})
        else:
            output.table(f"Customers matching lead {ref}", ["id", "name", "phone", "email", "matched"],
                         [[c["id"], c["name"], c["phone"], c["email"], ", ".join(c["matched"])] for c in exc.choices])
        raise LeadDeskError(f"{exc}: rerun with --customer ID or --new-customer") from None
    lead = outcome["lead"]
    if json_:
        output.emit_json({"lead": lead_json(lead), "customer_id": outcome["customer_id"],
                          "customer_created": outcome["customer_created"], "deal_id": outcome["deal_id"]})
        return
    made = "created" if outcome["customer_created"] else "linked"
    deal = f", deal {outcome['deal_id']} opened" if outcome["deal_id"] else ", no deal"
    output.say(f"{one_line(lead)} · customer {outcome['customer_id']} {made}{deal}")


@app.command("customer-from-lead")
def customer_from_lead(ref: str) -> None:
    """Create a customer from a lead (no deal) and link it."""
    detail = desk().customer_from_lead(ref)
    output.say(f"{one_line(detail)} · customer {detail['customer_id']} created")


@app.command()
def copy(ref: str, json_: JsonOpt = False) -> None:
    """Copy a lead's main fields into a new lead."""
    detail = desk().copy_lead(ref)
    output.emit_json(lead_json(detail)) if json_ else output.say(f"copied into {one_line(detail)}")


@app.command()
def delete(ref: str, force: Annotated[bool, typer.Option("--force", help="Also when it has deals/activities.")] = False
           ) -> None:
    """Delete a lead created by mistake (closing it as lost is usually better)."""
    output.say(f"deleted lead {desk().delete_lead(ref, force)}")


@app.command()
def lookup(text: str, json_: JsonOpt = False) -> None:
    """Find leads and customers by phone (any format) or email."""
    found = reader().lookup(text)
    if json_:
        output.emit_json(found)
        return
    output.table("Leads", ["number", "contact", "company", "phone", "email", "status"],
                 [[r["number"], r["contact_name"], r["company"], r["phone"], r["email"], r["status"]]
                  for r in found["leads"]])
    output.table("Customers", ["id", "name", "phone", "email"],
                 [[r["id"], r["name"], r["phone"], r["email"]] for r in found["customers"]])


@app.command()
def history(ref: str, json_: JsonOpt = False) -> None:
    """Who changed what on a lead, and when."""
    rows = reader().history(ref)
    if json_:
        output.emit_json(rows)
        return
    output.table(None, ["at", "user", "action", "field", "old", "new", "from"],
                 [[r["at"].replace("T", " "), r["user"], r["action"] + (" (undone)" if r["undone"] else ""),
                   r["field"], r["old"], r["new"], r["origin"]] for r in rows])


@app.command()
def undo(ref: str) -> None:
    """Revert your last change to a lead (itself recorded)."""
    output.say(f"undone: {one_line(desk().undo(ref))}")


# -- deals and customers ---------------------------------------------------------------------------
deal_app = typer.Typer(help="Deals opened by qualifying leads.", no_args_is_help=True)
app.add_typer(deal_app, name="deal")


def _deal_out(deal: dict[str, Any], json_: bool) -> None:
    if json_:
        output.emit_json({**deal, "value": money(deal["value_cents"])})
        return
    lines = [f"deal {deal['id']}  {safe_line(deal['title'])}",
             f"  stage {deal['stage']} ({' → '.join(deal['stages'])}) · {deal['state']}"
             + (f" · {format_money(deal['value_cents'])}" if deal["value_cents"] else ""),
             f"  lead {deal['lead_number'] or '-'} · customer {safe_line(deal['customer'] or '-')}"]
    if deal["lost_reason"]:
        lines.append(f"  lost: {safe_line(deal['lost_reason'])} {safe_line(deal['lost_note'])}")
    for line in deal["quote_lines"]:
        lines.append(f"  {line['quantity']} × {safe_line(line['description'])} @ "
                     f"{format_money(line['unit_price_cents'])}")
    if deal["quote_lines"]:
        lines.append(f"  quote total {format_money(deal['quote_total_cents'])}")
    print("\n".join(lines))


@deal_app.command("list")
def deal_list(state: Annotated[str | None, typer.Option(help="open, won or lost.")] = None,
              limit: int = 100, json_: JsonOpt = False) -> None:
    """List deals, newest first."""
    rows = reader().deals(state, limit or None)
    if json_:
        output.emit_json([{**r, "value": money(r["value_cents"])} for r in rows])
        return
    output.table(None, ["id", "title", "stage", "state", "value", "lead", "customer"],
                 [[r["id"], r["title"], r["stage"], r["state"], format_money(r["value_cents"]), r["lead_number"],
                   r["customer"]] for r in rows])


@deal_app.command("show")
def deal_show(deal_id: int, json_: JsonOpt = False) -> None:
    """Show a deal with its quotation."""
    _deal_out(reader().deal(deal_id), json_)


@deal_app.command("stage")
def deal_stage(deal_id: int, stage: str, json_: JsonOpt = False) -> None:
    """Move a deal to another stage."""
    _deal_out(desk().deal_action(deal_id, "stage", stage=stage), json_)


@deal_app.command("won")
def deal_won(deal_id: int, value: Annotated[str | None, typer.Option(help="Final value.")] = None,
             json_: JsonOpt = False) -> None:
    """Win a deal: its lead becomes converted."""
    _deal_out(desk().deal_action(deal_id, "won", value=value), json_)


@deal_app.command("lost")
def deal_lost(deal_id: int, reason: Annotated[str, typer.Option("--reason")],
              note: Annotated[str | None, typer.Option()] = None, json_: JsonOpt = False) -> None:
    """Lose a deal with a reason."""
    _deal_out(desk().deal_action(deal_id, "lost", reason=reason, note=note), json_)


@deal_app.command("reopen")
def deal_reopen(deal_id: int, json_: JsonOpt = False) -> None:
    """Reopen a closed deal."""
    _deal_out(desk().deal_action(deal_id, "reopen"), json_)


@deal_app.command("quote")
def deal_quote(deal_id: int, description: str, price: Annotated[str, typer.Option("--price")],
               quantity: Annotated[int, typer.Option("--qty")] = 1, json_: JsonOpt = False) -> None:
    """Add a line to a deal's quotation."""
    _deal_out(desk().deal_action(deal_id, "quote", description=description, quantity=quantity, price=price), json_)


customer_app = typer.Typer(help="Customers (companies and people).", no_args_is_help=True)
app.add_typer(customer_app, name="customer")


@customer_app.command("list")
def customer_list(search: Annotated[str | None, typer.Option()] = None, limit: int = 100,
                  json_: JsonOpt = False) -> None:
    """List customers."""
    rows = reader().customers(search, limit or None)
    if json_:
        output.emit_json(rows)
        return
    output.table(None, ["id", "name", "kind", "phone", "email", "city", "leads", "deals"],
                 [[r["id"], r["name"], r["kind"], r["phone"], r["email"], r["city"], r["leads"], r["deals"]]
                  for r in rows])


@customer_app.command("show")
def customer_show(customer_id: int, json_: JsonOpt = False) -> None:
    """Show a customer with contacts, leads and deals."""
    c = reader().customer(customer_id)
    if json_:
        output.emit_json(c)
        return
    print(f"customer {c['id']}  {safe_line(c['name'])} ({c['kind']})")
    for label in ("phone", "email", "website", "city"):
        if c[label]:
            print(f"  {label:<8} {safe_line(c[label])}")
    output.table("Contacts", ["first", "last", "title", "email", "phone"],
                 [[x["first_name"], x["last_name"], x["job_title"], x["email"], x["phone"]] for x in c["contacts"]])
    output.table("Leads", ["number", "contact", "status"],
                 [[x["number"], x["contact_name"], x["status"]] for x in c["leads"]])
    output.table("Deals", ["id", "title", "stage", "state", "value"],
                 [[x["id"], x["title"], x["stage"], x["state"], format_money(x["value_cents"])] for x in c["deals"]])


# -- lists: statuses, types, reasons, sources, methods, items ---------------------------------------
class Category(StrEnum):
    open = "open"
    qualified = "qualified"
    won = "won"
    lost = "lost"


statuses_app = typer.Typer(help="The workflow's statuses.", invoke_without_command=True)
app.add_typer(statuses_app, name="statuses")


@statuses_app.callback()
def statuses_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List statuses (or add, rename, remove them)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = reader().statuses()
    if json_:
        output.emit_json(rows)
        return
    output.table(None, ["name", "category", "by hand", "leads"],
                 [[r["name"], r["category"], r["manual"], r["leads"]] for r in rows])


@statuses_app.command("add")
def statuses_add(name: str, category: Annotated[Category, typer.Option()] = Category.open) -> None:
    """Add a status (open ones are picked by hand; others are reached by actions)."""
    desk().catalog_change("statuses", "add", name, category.value, None)
    output.say(f"status '{safe_line(name)}' added")


@statuses_app.command("rename")
def statuses_rename(old: str, new: str) -> None:
    """Rename a status."""
    before, after = desk().catalog_change("statuses", "rename", old, new)
    output.say(f"status '{safe_line(before)}' renamed to '{safe_line(after)}'")


@statuses_app.command("remove")
def statuses_remove(name: str) -> None:
    """Remove a status no lead uses."""
    output.say(f"status '{safe_line(desk().catalog_change('statuses', 'remove', name))}' removed")


def _list_app(kind: str, what: str) -> typer.Typer:
    sub = typer.Typer(help=f"The {what} list.", invoke_without_command=True)

    @sub.callback()
    def show_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
        if ctx.invoked_subcommand is not None:
            return
        rows = reader().catalog_list(kind, counts=True)
        if json_:
            output.emit_json(rows)
            return
        columns = ["name", "leads", *(["allowed statuses"] if kind == "types" else [])]
        output.table(None, columns, [[r["name"], r["leads"], *([", ".join(r["statuses"]) or "all"]
                                                               if kind == "types" else [])] for r in rows])

    show_list.__doc__ = f"List {what}s (or add, rename, remove them)."

    @sub.command("add")
    def add_entry(name: str) -> None:
        desk().catalog_change(kind, "add", name)
        output.say(f"{what} '{safe_line(name)}' added")

    add_entry.__doc__ = f"Add a {what}."

    @sub.command("rename")
    def rename_entry(old: str, new: str) -> None:
        before, after = desk().catalog_change(kind, "rename", old, new)
        output.say(f"{what} '{safe_line(before)}' renamed to '{safe_line(after)}'")

    rename_entry.__doc__ = f"Rename a {what}."

    @sub.command("remove")
    def remove_entry(name: str) -> None:
        output.say(f"{what} '{safe_line(desk().catalog_change(kind, 'remove', name))}' removed")

    remove_entry.__doc__ = f"Remove a {what} nothing uses."
    return sub


types_app = _list_app("types", "lead type")


@types_app.command("statuses")
def types_statuses(type_name: str, statuses: Annotated[list[str] | None, typer.Argument()] = None) -> None:
    """Set the statuses a lead type allows (none: all)."""
    chosen = desk().catalog_change("types", "statuses", type_name, statuses or [])
    output.say(f"lead type '{safe_line(type_name)}' allows {', '.join(chosen) or 'every status'}")


app.add_typer(types_app, name="types")
app.add_typer(_list_app("reasons", "lost reason"), name="reasons")
app.add_typer(_list_app("sources", "source"), name="sources")
app.add_typer(_list_app("methods", "contact method"), name="methods")
app.add_typer(_list_app("items", "item"), name="items")

# -- partners ---------------------------------------------------------------------------------------
partner_app = typer.Typer(help="Partners who refer leads.", invoke_without_command=True)
app.add_typer(partner_app, name="partner")


@partner_app.callback()
def partner_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List partners with leads, won, spend, ROCS and CAC (or add one, record spend, report)."""
    if ctx.invoked_subcommand is not None:
        return
    from leaddesk.cli.partners import list_partners

    list_partners(json_)


@partner_app.command("add")
def partner_add(name: str, email: Annotated[str | None, typer.Option(help="Contact email.")] = None,
                login: Annotated[str | None, typer.Option(
                    "--user", "--login", help="The partner's login: it sees only the partner view (created if"
                    " unknown). The global --user (who acts) goes before `partner` here.")] = None) -> None:
    """Add a partner who refers leads (managers); --user LOGIN links the login that sees the partner view."""
    from leaddesk.cli.partners import say_linked

    created = desk().add_partner(name, email, login)
    output.say(f"partner '{safe_line(created['name'])}' added")
    say_linked(created)


# -- users, database, config -----------------------------------------------------------------------
user_app = typer.Typer(help="The people who use the desk.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(login: str, name: Annotated[str | None, typer.Option()] = None,
             role: Annotated[str, typer.Option(help="rep, manager, partner or admin.")] = "rep") -> None:
    """Add a user (managers and admins; an admin to add an admin)."""
    desk().add_user(login, name, role)
    output.say(f"user '{safe_line(login)}' added as {safe_line(role)}")


@user_app.command("deactivate")
def user_deactivate(login: str) -> None:
    """Stop a user from using the desk (their leads and history stay); the last active admin stays."""
    user, changed = desk().set_user_active(login, False)
    output.say(f"user '{safe_line(user['login'])}' {'deactivated' if changed else 'was already inactive'}")


@user_app.command("activate")
def user_activate(login: str) -> None:
    """Let a deactivated user use the desk again."""
    user, changed = desk().set_user_active(login, True)
    output.say(f"user '{safe_line(user['login'])}' {'activated' if changed else 'was already active'}")


@user_app.command("role")
def user_role(login: str, role: Annotated[str, typer.Argument(help="rep, manager, partner or admin.")]) -> None:
    """Change a user's role (an admin to promote or demote an admin; the last active admin stays one)."""
    user, changed = desk().set_user_role(login, role)
    state = "is now" if changed else "is already"
    output.say(f"user '{safe_line(user['login'])}' {state} {safe_line(user['role'])}")


@user_app.command("list")
def user_list(json_: JsonOpt = False) -> None:
    """List users with how many open leads each owns."""
    rows = reader().user_overview()
    if json_:
        output.emit_json(rows)
        return
    output.table(None, ["login", "name", "role", "active", "open leads"],
                 [[r["login"], r["name"], r["role"], r["active"], r["open_leads"]] for r in rows])


@user_app.command("history")
def user_history(login: str, json_: JsonOpt = False) -> None:
    """Who created a user, changed their role, deactivated or activated them, and when."""
    rows = reader().user_history(login)
    if json_:
        output.emit_json(rows)
        return
    def shown(row: dict[str, Any], side: str) -> Any:
        return {"1": "yes", "0": "no"}.get(row[side], row[side]) if row["field"] == "active" else row[side]

    output.table(None, ["at", "by", "action", "field", "old", "new", "from"],
                 [[r["at"].replace("T", " "), r["user"], r["action"], r["field"], shown(r, "old"), shown(r, "new"),
                   r["origin"]] for r in rows])


db_app = typer.Typer(help="The database: where it is, backups, upgrades.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("path")
def db_path() -> None:
    """Print the database in use."""
    from leaddesk.settings import load_settings
    from leaddesk.store.db import resolve_target

    print(resolve_target(_globals["db"], load_settings().database))


@db_app.command("backup")
def db_backup(dest: Annotated[Path | None, typer.Argument(help="Backup file (default: beside it).")] = None) -> None:
    """Copy the SQLite database with the online backup API (safe while others write)."""
    from leaddesk import clock
    from leaddesk.store.migrate import backup_sqlite

    d = desk()
    if d.db.path is None:
        raise LeadDeskError("backup is for SQLite databases; use your server's tools (pg_dump) for others")
    d.whoami()  # a copy of the desk is a read of all of it: refused to whoever may not read it
    target = dest or d.db.path.with_name(f"{d.db.path.name}.{clock.now().strftime('%Y%m%d-%H%M%S')}.bak")
    if target.exists():
        raise LeadDeskError(f"{target} already exists")
    print(backup_sqlite(d.db.path, target, d.settings.files))


@db_app.command("restore")
def db_restore(
    backup: Annotated[Path, typer.Argument(help="The backup file to restore.")],
    force: Annotated[bool, typer.Option("--force", help="Restore over newer changes (desk kept aside).")] = False,
) -> None:
    """Write a backup over the desk (refused over newer changes without --force; the old desk is kept aside)."""
    from leaddesk import clock
    from leaddesk.settings import load_settings
    from leaddesk.store.backups import restore
    from leaddesk.store.db import resolve_target, sqlite_path_of
    from leaddesk.store.desk import acting_login

    settings = load_settings()
    target = resolve_target(_globals["db"], settings.database)
    path = sqlite_path_of(target)
    if path is None:
        raise LeadDeskError("restore is for SQLite databases; use your server's tools (pg_restore) for others")
    saved = restore(backup.expanduser(), path, force=force, stamp=clock.now().strftime("%Y%m%d-%H%M%S"),
                    login=acting_login(_globals["user"]), settings=settings)
    output.say(f"restored {path} from {backup}" + (f"; the replaced desk is kept as {saved}" if saved else ""))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date (opening the desk does this too)."""
    from leaddesk.store.db import shown_target
    from leaddesk.store.schema import SCHEMA_HEAD

    d = desk()
    d.whoami()  # opening upgraded it; who may not use the desk is told so, as by every other command
    output.say(f"{shown_target(d.db.target)} is at schema revision {SCHEMA_HEAD}")


config_app = typer.Typer(help="The settings file.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("path")
def config_path() -> None:
    """Print where the settings file is (it may not exist yet)."""
    from leaddesk.paths import config_path as path

    print(path())


@app.callback(invoke_without_command=True)
def root(ctx: typer.Context) -> None:
    """Open the desk when no command is given."""
    if ctx.invoked_subcommand is None:
        open_desk()


def run_app(argv: list[str], *, db: str | None = None, user: str | None = None) -> int:
    """Run the Typer app; turn refusals into one-line messages and exit codes."""
    from typer._click.exceptions import NoArgsIsHelpError, UsageError  # Typer 0.29 vendors Click (pinned)

    _globals.update(db=db, user=user)
    command = typer.main.get_command(app)
    try:
        outcome = command.main(args=argv, prog_name="leaddesk", standalone_mode=False)
    except LeadDeskError as exc:
        output.error(str(exc))
        return exc.exit_code
    except NoArgsIsHelpError as exc:
        print(exc.format_message())
        return 0
    except UsageError as exc:
        path = exc.ctx.command_path if exc.ctx else "leaddesk"
        hint = f" (see {path} --help)"
        output.error(f"{exc.format_message()}{hint}")
        return 1
    except (typer.Abort, KeyboardInterrupt):
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    # Not standalone, Click returns the code of a `typer.Exit(code)` instead of exiting (and None otherwise).
    return outcome if isinstance(outcome, int) else 0


# Commands that live in their own modules register themselves on `app` (imported last: they use it).
from leaddesk.cli import (  # noqa: E402,F401
    assign,
    capture,
    dbcopy,
    dupes,
    followups,
    partners,
    reports,
    score,
    sequences,
    transfer,
    web,
    work,
)
from leaddesk.cli import sla as sla_commands  # noqa: E402,F401
