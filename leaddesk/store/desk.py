"""The service API: the one way in and out of the data for the CLI, the TUI and imports.

    desk = Desk.open(db="leads.db", login="ann", origin="cli")
    desk.set_status("42", "contacted")

Each method is one transaction. Methods take what a user typed (a lead
reference, a status name, field values as text) and return plain dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from leaddesk import clock
from leaddesk.settings import Settings, load_settings
from leaddesk.store import catalog, leads, permissions, qualify, queries
from leaddesk.store.context import Ctx
from leaddesk.store.db import Database, Tx, resolve_target
from leaddesk.store.errors import LeadDeskError, NotFound, RuleError
from leaddesk.store.refs import resolve_lead

if TYPE_CHECKING:
    from leaddesk.store.reports import Report, ReportFilters


def acting_login(explicit: str | None = None) -> str:
    """Who acts: --user, else LEADDESK_USER, else the OS login name."""
    import os

    if explicit:
        return explicit
    env = os.environ.get("LEADDESK_USER")
    if env:
        return env
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Desk:
    """A lead desk bound to a database, the acting user and where the actions come from."""

    def __init__(self, db: Database, settings: Settings, login: str, origin: str = "cli") -> None:
        self.db = db
        self.settings = settings
        self.login = login
        self.origin = origin
        self._user_id: int | None = None

    @classmethod
    def open(cls, db: str | None = None, *, login: str | None = None, origin: str = "cli",
             settings: Settings | None = None, migrate: bool = True, create: bool = True) -> Desk:
        """Open the desk on a database (see `resolve_target`), migrating it if needed.

        With `create` off (read-only commands) a missing SQLite file is refused instead of created.
        """
        settings = settings or load_settings()
        database = Database.open(resolve_target(db, settings.database), migrate=migrate, create=create,
                                 files=settings.files)
        return cls(database, settings, acting_login(login), origin)

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # -- transactions -------------------------------------------------------------------------
    @contextmanager
    def _ctx(self) -> Iterator[Ctx]:
        with self.db.write() as tx:
            if not catalog.is_initialised(tx):
                catalog.seed_preset(tx, "sales")
            actor, created = permissions.acting_user(tx, self.login, self.settings, clock.stamp())
            assert actor.id is not None
            ctx = Ctx(tx=tx, user_id=actor.id, login=self.login, origin=self.origin, settings=self.settings,
                      role=actor.role)
            if created:
                ctx.record("user", actor.id, "create", "login", None, self.login)
                ctx.record("user", actor.id, "create", "role", None, actor.role)
            yield ctx

    @contextmanager
    def _read(self, *, beside: bool = False) -> Iterator[Tx]:
        with self.db.read(beside=beside) as tx:
            permissions.reader(tx, self.login, self.settings)
            yield tx

    def _lead(self, ctx: Ctx, ref: str) -> dict[str, Any]:
        return resolve_lead(ctx.tx, str(ref), self.settings.default_region, lock=True)

    # -- setup ---------------------------------------------------------------------------------
    def init(self, preset: str = "sales") -> str:
        """Initialise a new desk with a preset and make the acting user an admin; return what happened."""
        with self.db.write() as tx:
            if catalog.is_initialised(tx):
                permissions.reader(tx, self.login, self.settings)  # a set-up desk says so only to its users
                current = catalog.preset_of(tx) or "custom"
                if current != preset:
                    raise RuleError(f"this desk is already set up with the '{current}' preset;"
                                    " a preset is chosen once, on a new database")
                message = f"already initialised with the '{current}' preset"
            else:
                catalog.seed_preset(tx, preset)
                message = f"initialised with the '{preset}' preset"
                user = catalog.user_id(tx, self.login, create=True, at=clock.stamp())
                tx.execute("UPDATE \"user\" SET role = 'admin' WHERE id = :i", {"i": user})
        return message

    # -- leads ---------------------------------------------------------------------------------
    def lead_changes_since(self, ref: str, version: int) -> dict[str, dict[str, Any]]:
        """What changed on a lead after `version`, per field: {field: {from, to, by, at, action}} (see
        `queries.lead_changes_since`; a Conflict's `.fields` has the same shape). {} when nothing did."""
        with self._read() as tx:
            lead = resolve_lead(tx, str(ref), self.settings.default_region)
            return queries.lead_changes_since(tx, lead["id"], int(version), int(lead["version"]))

    def add_lead(self, values: dict[str, Any], status: str | None = None, *, force: bool = False) -> dict[str, Any]:
        """Create a lead; returns its details. A lead whose phone or email is already on a lead or customer
        is refused with PossibleDuplicate (its `.matches` name them) unless `force` (see `possible_duplicates`)."""
        from leaddesk.store import dupes

        with self._ctx() as ctx:
            lead = leads.add_lead(ctx, values, status=status)
            if not force:
                dupes.refuse_duplicate(ctx.tx, lead)  # after the field checks, so their refusals come first
            return queries.lead_detail(ctx.tx, lead["id"])

    def edit_lead(self, ref: str, values: dict[str, Any], expected_version: int | None = None) -> dict[str, Any]:
        """Change fields of a lead."""
        with self._ctx() as ctx:
            before = self._lead(ctx, ref)
            lead = leads.edit_lead(ctx, before, values, expected_version)
            owner = ctx.tx.scalar("SELECT owner_id FROM lead WHERE id = :i", {"i": before["id"]})
            permissions.check_reassign(ctx.role, ctx.user_id, before["owner_id"], owner)
            return queries.lead_detail(ctx.tx, lead["id"])

    def set_status(self, ref: str, status: str, expected_version: int | None = None, *,
                   reopen: bool = True) -> tuple[dict[str, Any], str]:
        """Pick an open status by hand (a reopen when the lead is closed, unless `reopen` is off);
        returns (lead, action)."""
        with self._ctx() as ctx:
            lead, action = leads.set_status(ctx, self._lead(ctx, ref), status, expected_version, reopen=reopen)
            return queries.lead_detail(ctx.tx, lead["id"]), action

    def mark_won(self, ref: str, value: Any, expected_version: int | None = None) -> dict[str, Any]:
        """Mark a lead won with its job value."""
        with self._ctx() as ctx:
            lead = leads.mark_won(ctx, self._lead(ctx, ref), value, expected_version)
            return queries.lead_detail(ctx.tx, lead["id"])

    def mark_lost(self, ref: str, reason: str, note: str | None = None,
                  expected_version: int | None = None) -> dict[str, Any]:
        """Mark a lead lost/disqualified with a reason."""
        with self._ctx() as ctx:
            lead = leads.mark_lost(ctx, self._lead(ctx, ref), reason, note, expected_version)
            return queries.lead_detail(ctx.tx, lead["id"])

    def reopen(self, ref: str, status: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
        """Reopen a lead to an open status."""
        with self._ctx() as ctx:
            lead = leads.reopen(ctx, self._lead(ctx, ref), status, expected_version)
            return queries.lead_detail(ctx.tx, lead["id"])

    def set_followup(self, ref: str, when: Any, expected_version: int | None = None, *, at: str | None = None,
                     note: str | None = None) -> dict[str, Any]:
        """Set or clear a lead's follow-up: date (relative to today in the desk's zone, may end with a time),
        time `at` and `note` (None keeps them); see `followups.set_followup`. The details say how it stands:
        `followup_due` (overdue, today, upcoming) and `followup_words`."""
        with self._ctx() as ctx:
            lead = leads.set_followup(ctx, self._lead(ctx, ref), when, expected_version, at=at, note=note)
            return self._with_due(queries.lead_detail(ctx.tx, lead["id"]))

    def add_activity(self, ref: str, kind: str, body: str, at: str | None = None) -> dict[str, Any]:
        """Log a note, call, email or meeting; `at` is user text (e.g. "-2h", "yesterday 15:00")."""
        when = None
        if at:
            from leaddesk.dates import parse_datetime

            try:
                when = clock.stamp(parse_datetime(at, clock.now()))
            except ValueError as exc:
                raise RuleError(f"--at: {exc}") from None
        with self._ctx() as ctx:
            lead = self._lead(ctx, ref)
            leads.add_activity(ctx, lead, kind, body, when)
            return queries.lead_detail(ctx.tx, lead["id"])

    def copy_lead(self, ref: str) -> dict[str, Any]:
        """Copy a lead's main fields into a new lead."""
        with self._ctx() as ctx:
            lead = leads.copy_lead(ctx, self._lead(ctx, ref))
            return queries.lead_detail(ctx.tx, lead["id"])

    def delete_lead(self, ref: str, force: bool = False) -> int:
        """Delete a lead; returns its number."""
        with self._ctx() as ctx:
            lead = self._lead(ctx, ref)
            permissions.check_delete(ctx.role, ctx.user_id, lead["owner_id"], int(lead["number"]))
            leads.delete_lead(ctx, lead, force)
            return int(lead["number"])

    def undo(self, ref: str) -> dict[str, Any]:
        """Revert the acting user's last change to a lead."""
        with self._ctx() as ctx:
            lead = leads.undo_last(ctx, self._lead(ctx, ref))
            return queries.lead_detail(ctx.tx, lead["id"])

    def customer_from_lead(self, ref: str) -> dict[str, Any]:
        """Create and link a customer from a lead, without a deal."""
        with self._ctx() as ctx:
            lead, _customer = qualify.customer_from_lead(ctx, self._lead(ctx, ref))
            return queries.lead_detail(ctx.tx, lead["id"])

    def qualify(self, ref: str, **options: Any) -> dict[str, Any]:
        """Qualify a lead (see `qualify.qualify`); returns the outcome with the lead's details."""
        with self._ctx() as ctx:
            outcome = qualify.qualify(ctx, self._lead(ctx, ref), **options)
            outcome["lead"] = queries.lead_detail(ctx.tx, outcome["lead"]["id"])
            return outcome

    def matching_customers(self, ref: str) -> list[dict[str, Any]]:
        """Customers matching a lead's phone or email (the qualify wizard's first step)."""
        with self._read() as tx:
            return qualify.matching_customers(tx, resolve_lead(tx, str(ref), self.settings.default_region))

    def show(self, ref: str) -> dict[str, Any]:
        """Everything about a lead."""
        with self._read() as tx:
            lead = resolve_lead(tx, str(ref), self.settings.default_region)
            return self._with_due(queries.lead_detail(tx, lead["id"]))

    def list_leads(self, flt: queries.LeadFilter) -> list[dict[str, Any]]:
        """A page of leads."""
        with self._read() as tx:
            return queries.list_leads(tx, self.settings, flt, self.login)

    def board(self, flt: queries.LeadFilter) -> list[dict[str, Any]]:
        """The kanban columns (statuses in order) with counts and value sums for a filter."""
        with self._read() as tx:
            return queries.board_columns(tx, self.settings, flt, self.login)

    def board_view(self, flt: queries.LeadFilter,
                   pages_for: Callable[[list[dict[str, Any]]], Mapping[str, queries.LeadFilter]],
                   ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
        """The kanban columns (as `board`) and the pages `pages_for(columns)` names (by status), read together:
        a page agrees with its column's count even while others write (a page shorter than its count left a
        key typed ahead on the board waiting for a card that never came). An empty column's page is not read."""
        with self._read() as tx:
            columns = queries.board_columns(tx, self.settings, flt, self.login)
            counts = {column["name"]: column["count"] for column in columns}
            pages = {name: queries.list_leads(tx, self.settings, page, self.login) if counts.get(name) else []
                     for name, page in pages_for(columns).items()}
        return columns, pages

    def status_choices(self, ref: str) -> list[dict[str, Any]]:
        """The statuses a rep may pick by hand for this lead (open ones its type allows), current first marked."""
        with self._read() as tx:
            lead = resolve_lead(tx, str(ref), self.settings.default_region)
            allowed = catalog.allowed_statuses(tx, lead["type_id"]) or catalog.statuses(tx)
            return [{"name": s.name, "category": s.category, "current": s.id == lead["status_id"]}
                    for s in allowed if s.manual and s.category == "open"]

    def lead_position(self, flt: queries.LeadFilter, number: int) -> int | None:
        """Where a lead sits (0-based) in a filtered, sorted list or board column; None if it is not in it."""
        with self._read() as tx:
            return queries.lead_position(tx, self.settings, flt, self.login, number)

    def count_leads(self, flt: queries.LeadFilter) -> int:
        """How many leads match."""
        with self._read() as tx:
            return queries.count_leads(tx, self.settings, flt, self.login)

    def lead_page(self, flt: queries.LeadFilter) -> tuple[int, list[dict[str, Any]]]:
        """How many leads match and a page of them (`flt.limit` rows from `flt.offset`), read together."""
        with self._read() as tx:
            return queries.lead_page(tx, self.settings, flt, self.login)

    def lookup(self, text: str) -> dict[str, list[dict[str, Any]]]:
        """Leads and customers by phone or email."""
        with self._read() as tx:
            return queries.lookup(tx, self.settings, text)

    def history(self, ref: str) -> list[dict[str, Any]]:
        """A lead's history, oldest first."""
        with self._read() as tx:
            lead = resolve_lead(tx, str(ref), self.settings.default_region)
            return queries.history_of(tx, "lead", lead["id"])

    # -- deals and customers -------------------------------------------------------------------
    def deal_action(self, deal_id: int, action: str, **options: Any) -> dict[str, Any]:
        """stage / won / lost / reopen / quote on a deal; returns the deal's details."""
        with self._ctx() as ctx:
            deal = qualify.load_deal(ctx, deal_id)
            if action == "stage":
                qualify.set_stage(ctx, deal, options["stage"])
            elif action == "won":
                qualify.win_deal(ctx, deal, options.get("value"))
            elif action == "lost":
                qualify.lose_deal(ctx, deal, options.get("reason") or "", options.get("note"))
            elif action == "reopen":
                qualify.reopen_deal(ctx, deal)
            elif action == "quote":
                qualify.add_quote_line(ctx, deal, options["description"], options.get("quantity", 1),
                                       options.get("price"))
            else:
                raise RuleError(f"unknown deal action '{action}'")
            return self._deal_detail(ctx.tx, deal_id)

    def deals(self, state: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Deals, newest first."""
        with self._read() as tx:
            where = " WHERE d.state = :s" if state else ""
            sql = (DEAL_SELECT + where + " ORDER BY d.id DESC") + (" LIMIT :n" if limit else "")
            return [dict(r) for r in tx.all(sql, {"s": state, "n": limit})]

    def deal_board(self, per_stage: int = 200) -> dict[str, Any]:
        """The default pipeline's stages with their open deals (at most `per_stage` each, soonest close first),
        each stage's count and value, and the pipeline's won/lost counts."""
        with self._read() as tx:
            pipeline = tx.one("SELECT id, name FROM pipeline WHERE is_default ORDER BY id LIMIT 1")
            if pipeline is None:
                return {"pipeline": None, "columns": [], "won": 0, "lost": 0}
            columns = []
            for stage in tx.all("SELECT id, name FROM stage WHERE pipeline_id = :p ORDER BY position, id",
                                {"p": pipeline["id"]}):
                totals: Any = tx.one("SELECT count(*) AS n, coalesce(sum(value_cents), 0) AS v FROM deal"
                                " WHERE stage_id = :s AND state = 'open'", {"s": stage["id"]})
                rows = tx.all(DEAL_SELECT + " WHERE d.stage_id = :s AND d.state = 'open'"
                              " ORDER BY d.expected_close IS NULL, d.expected_close, d.id LIMIT :n",
                              {"s": stage["id"], "n": per_stage})
                columns.append({"stage": stage["name"], "count": int(totals["n"]), "value_cents": int(totals["v"]),
                                "deals": [dict(r) for r in rows]})
            closed = {r["state"]: int(r["n"]) for r in tx.all(
                "SELECT state, count(*) AS n FROM deal WHERE pipeline_id = :p AND state <> 'open' GROUP BY state",
                {"p": pipeline["id"]})}
            return {"pipeline": pipeline["name"], "columns": columns, "won": closed.get("won", 0),
                    "lost": closed.get("lost", 0)}

    def deal(self, deal_id: int) -> dict[str, Any]:
        """A deal with its quote lines."""
        with self._read() as tx:
            return self._deal_detail(tx, deal_id)

    @staticmethod
    def _deal_detail(tx: Tx, deal_id: int) -> dict[str, Any]:
        row = tx.one(DEAL_SELECT + " WHERE d.id = :i", {"i": deal_id})
        if row is None:
            raise NotFound(f"there is no deal {deal_id}")
        detail = dict(row)
        lines = [dict(r) for r in tx.all(
            "SELECT id, description, quantity, unit_price_cents FROM quote_line WHERE deal_id = :i ORDER BY id",
            {"i": deal_id})]
        detail["quote_lines"] = lines
        detail["quote_total_cents"] = sum(line["quantity"] * line["unit_price_cents"] for line in lines)
        detail["stages"] = [r[0] for r in tx.all(
            "SELECT name FROM stage WHERE pipeline_id = :p ORDER BY position, id", {"p": detail["pipeline_id"]})]
        return detail

    def customers(self, search: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Customers, with how many leads and deals each has."""
        with self._read() as tx:
            where = " WHERE lower(c.name) LIKE :q" if search else ""
            sql = ("SELECT c.id, c.name, c.kind, c.phone, c.email, c.city,"
                   " (SELECT count(*) FROM lead l WHERE l.customer_id = c.id) AS leads,"
                   " (SELECT count(*) FROM deal d WHERE d.customer_id = c.id) AS deals"
                   f" FROM customer c{where} ORDER BY c.name, c.id") + (" LIMIT :n" if limit else "")
            return [dict(r) for r in tx.all(sql, {"q": f"%{(search or '').casefold()}%", "n": limit})]

    def customer(self, customer_id: int) -> dict[str, Any]:
        """A customer with contacts, leads and deals."""
        with self._read() as tx:
            row = tx.one("SELECT * FROM customer WHERE id = :i", {"i": customer_id})
            if row is None:
                raise NotFound(f"there is no customer {customer_id}")
            detail = dict(row)
            detail["contacts"] = [dict(r) for r in tx.all(
                "SELECT first_name, last_name, job_title, email, phone FROM contact WHERE customer_id = :i",
                {"i": customer_id})]
            detail["leads"] = [dict(r) for r in tx.all(
                "SELECT l.number, l.contact_name, s.name AS status FROM lead l JOIN status s ON s.id = l.status_id"
                " WHERE l.customer_id = :i ORDER BY l.number", {"i": customer_id})]
            detail["deals"] = [dict(r) for r in tx.all(
                DEAL_SELECT + " WHERE d.customer_id = :i ORDER BY d.id", {"i": customer_id})]
            return detail

    # -- lists ---------------------------------------------------------------------------------
    def statuses(self) -> list[dict[str, Any]]:
        """The workflow's statuses with how many leads each holds."""
        with self._read() as tx:
            rows = tx.all("SELECT s.id, s.name, s.category, s.position, s.manual,"
                              " (SELECT count(*) FROM lead l WHERE l.status_id = s.id) AS leads"
                              " FROM status s ORDER BY s.position, s.id")
            return [{**dict(r), "manual": bool(r["manual"])} for r in rows]

    def catalog_list(self, kind: str, *, counts: bool = False) -> list[dict[str, Any]]:
        """Entries of a list (sources, reasons, types, methods, items), as a form offers them; with `counts`,
        each one's usage count (`leads`), which walks every lead (84 ms for the sources at 100k leads)."""
        with self._read() as tx:
            return catalog.list_entries(tx, kind, counts=counts)

    def catalog_change(self, kind: str, action: str, *args: Any) -> Any:
        """add / rename / remove (and for types: statuses) on a list, or on statuses."""
        handler: Callable[..., Any]
        with self._ctx() as ctx:
            permissions.check_manager(ctx.role, f"change the {kind}")
            if kind == "statuses":
                handlers: dict[str, Callable[..., Any]] = {
                    "add": catalog.add_status, "rename": catalog.rename_status, "remove": catalog.remove_status}
                handler = handlers[action]
            elif action == "statuses":
                chosen = catalog.set_type_statuses(ctx.tx, *args)
                ctx.record("catalog", 0, "statuses", f"types:{args[0]}", None, ", ".join(chosen) or "all")
                return chosen
            else:
                entry_handlers: dict[str, Callable[..., Any]] = {
                    "add": catalog.add_entry, "rename": catalog.rename_entry, "remove": catalog.remove_entry}
                handler = entry_handlers[action]
                args = (kind, *args)
            result = handler(ctx.tx, *args)
            if action == "rename":
                ctx.record("catalog", 0, action, kind, result[0], result[1])
            elif action == "remove":
                ctx.record("catalog", 0, action, kind, result, None)
            else:
                ctx.record("catalog", 0, action, kind, None, args[-3] if kind == "statuses" else args[-1])
            return result

    def partners(self) -> list[dict[str, Any]]:
        """Partners with how many leads each referred."""
        with self._read() as tx:
            return [dict(r) for r in tx.all(
                "SELECT p.id, p.name, p.email, (SELECT count(*) FROM lead l WHERE l.partner_id = p.id) AS leads"
                " FROM partner p ORDER BY p.name")]

    def add_partner(self, name: str, email: str | None = None, user: str | None = None) -> dict[str, Any]:
        """Add a partner (managers), linked to the login `user` if given (created as a partner user when unknown;
        a rep is given the partner role), in one transaction; see `partners.add` for what it returns."""
        from leaddesk.store import partners

        with self._ctx() as ctx:
            return partners.add(ctx, name, email, user)

    def users(self) -> list[dict[str, Any]]:
        """Every user."""
        with self._read() as tx:
            return [dict(r) for r in tx.all(
                "SELECT id, login, name, role, active, created_at FROM \"user\" ORDER BY login")]

    # -- copying the desk to another database (issue 5; store/dbcopy.py) ----------------------------
    def copy_to(self, target: str, progress: Callable[[str, int], None] | None = None) -> dict[str, Any]:
        """Copy every row into another, empty database (a SQLite path or a server URL), in one transaction on
        it, checking every table's row count; managers and admins. See `dbcopy.copy_database`."""
        from leaddesk.store import dbcopy

        return dbcopy.copy_database(self.db, target, self.login, self.settings, progress=progress)

    # -- users and roles (issue 5; store/users.py, store/permissions.py) -----------------------------
    def whoami(self) -> dict[str, Any]:
        """The acting user (see `users.describe_actor`): login, name, role, known, and `manage_users`, the
        refusal they would get managing users (None: they may). An unknown login (unless the desk may create
        it), a deactivated user or a partner is refused (Forbidden) as on any read: opening the desk checks it."""
        from leaddesk.store import users

        with self.db.read() as tx:
            return users.describe_actor(tx, permissions.reader(tx, self.login, self.settings))

    def user_overview(self) -> list[dict[str, Any]]:
        """Every user by login (id, login, name, role, active, created_at) with `open_leads`, how many open
        leads they own."""
        from leaddesk.store import users

        with self._read() as tx:
            return users.overview(tx)

    def add_user(self, login: str, name: str | None = None, role: str = "rep") -> int:
        """Add a user (managers and admins; an admin to add an admin); returns their id."""
        from leaddesk.store import users

        catalog.check_login(login.strip())
        permissions.check_role(role)
        with self._ctx() as ctx:
            return users.add(ctx, login, name, role)

    def set_user_active(self, login: str, active: bool) -> tuple[dict[str, Any], bool]:
        """Deactivate or activate a user; returns (user, changed). The last active admin cannot be deactivated."""
        from leaddesk.store import users

        with self._ctx() as ctx:
            return users.set_active(ctx, login, active)

    def set_user_role(self, login: str, role: str) -> tuple[dict[str, Any], bool]:
        """Change a user's role; returns (user, changed). The last active admin cannot be demoted."""
        from leaddesk.store import users

        with self._ctx() as ctx:
            return users.set_role(ctx, login, role)

    def user_history(self, login: str) -> list[dict[str, Any]]:
        """A user's history (created, role changes, deactivations), oldest first."""
        with self._read() as tx:
            user = tx.scalar("SELECT id FROM \"user\" WHERE login = :l", {"l": login.strip()})
            if user is None:
                raise NotFound(f"there is no user '{login.strip()}'")
            return queries.history_of(tx, "user", int(user))

    # -- import and export (issue 4; store/importing.py, store/exporting.py) -------------------------
    def preview_import(self, path: str, overrides: dict[str, str] | None = None, sheet: str | None = None,
                       rows: int = 5) -> dict[str, Any]:
        """How a file would be read: its column mapping, notes and first rows (nothing is written).
        `unknown_columns` lists the headers no field takes; what becomes of them depends on the import's
        `unknown` choice, so the notes do not say it."""
        from pathlib import Path

        from leaddesk.store import importing
        from leaddesk.store.mapping import unknown_note

        options = importing.ImportOptions(overrides=overrides or {}, sheet=sheet)
        plan = importing.plan_import(Path(path), self.settings, options)
        shown, unknown = importing.preview(plan, rows), list(plan.cmap.unknown)
        note = unknown_note(unknown, options.unknown)
        return {**shown, "unknown_columns": unknown, "notes": [n for n in shown["notes"] if n != note]}

    def workbook_sheets(self, path: str) -> list[str]:
        """The sheets of an .xlsx file in workbook order ([] for a CSV): the import reads the first unless
        told `sheet`."""
        from pathlib import Path

        from leaddesk.store.tabular import sheet_names

        return sheet_names(Path(path))

    def import_leads(self, path: str, *, overrides: dict[str, str] | None = None, on_duplicate: str = "skip",
                     unknown: str = "keep", sheet: str | None = None, require: list[str] | None = None,
                     errors_path: str | None = None, dry_run: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Import a CSV/XLSX file as one batch, all or nothing (see `importing`); returns the summary.
        A dry run does everything in a transaction that is rolled back."""
        from pathlib import Path

        from leaddesk.store import importing

        options = importing.ImportOptions(overrides=overrides or {}, on_duplicate=on_duplicate, unknown=unknown,
                                          sheet=sheet, require=require, dry_run=dry_run,
                                          errors_path=Path(errors_path) if errors_path else None)
        plan = importing.plan_import(Path(path), self.settings, options)
        try:
            with self._ctx() as ctx:
                ctx.origin = "import"
                summary = importing.run_import(ctx, plan, progress)
                if dry_run:
                    raise importing.DryRunDone(summary)
        except importing.DryRunDone as done:
            return {**done.summary, "batch": None}
        return summary

    def import_batches(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest import batches, newest first."""
        from leaddesk.store import importing

        with self._read() as tx:
            return importing.list_batches(tx, limit)

    def undo_import(self, batch_id: int) -> dict[str, Any]:
        """Remove the leads an import batch created that are untouched since; report the rest."""
        from leaddesk.store import importing

        with self._ctx() as ctx:
            done = ctx.tx.one("SELECT user_id FROM import_batch WHERE id = :b", {"b": batch_id})
            if done is not None:
                permissions.check_own_or_manager(ctx.role, ctx.user_id, done["user_id"], f"import batch {batch_id}")
            return importing.undo_batch(ctx, batch_id)

    def export_leads(self, flt: queries.LeadFilter, target: Any, fmt: str | None = None) -> int:
        """Write the leads matching a filter to a file path (format by extension) or a text stream
        (csv/json); returns how many. One consistent snapshot, read a page at a time."""
        from leaddesk.store import exporting

        kind = exporting.format_for(target if isinstance(target, str) else "-", fmt)
        with self._read() as tx:
            rows = exporting.lead_rows(tx, self.settings, flt, self.login)
            return exporting.write_export(rows, exporting.headers(self.settings), kind, target)


    # -- duplicates and merge (issue 4; store/dupes.py, store/merge.py) ------------------------------
    def possible_duplicates(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Leads, then customers, that a new lead with these field values would duplicate (same normalised phone
        or email), without writing: each {kind, id, number, name, company, phone, email, status, matched}."""
        from leaddesk.store import dupes

        phone, email = dupes.contact_keys(values, self.settings)
        with self._read() as tx:
            return dupes.find_matches(tx, phone, email)

    def duplicate_groups(self, threshold: int = 90, *, fuzzy: bool = True) -> list[dict[str, Any]]:
        """Groups of likely duplicate leads (same phone or email; similar name and company at `threshold`);
        see `dupes.duplicate_groups` for their shape."""
        from leaddesk.store import dupes

        with self._read() as tx:
            return dupes.duplicate_groups(tx, threshold, fuzzy=fuzzy)

    def merge_plan(self, keep: str, others: list[str], take: dict[str, str] | None = None) -> dict[str, Any]:
        """What merging `others` into `keep` would do, field by field, without writing (a merge screen's
        side-by-side view); `take` maps a field to the number of the lead to take it from."""
        from leaddesk.store import merge

        with self._read() as tx:
            region = self.settings.default_region
            kept = resolve_lead(tx, str(keep), region)
            plan = merge.plan_merge(tx, self.settings, kept, [resolve_lead(tx, str(o), region) for o in others],
                                    take)
            return plan.public(tx)

    def merge(self, keep: str, others: list[str], take: dict[str, str] | None = None,
              expected_version: int | None = None) -> dict[str, Any]:
        """Merge `others` into `keep` in one transaction (see `merge.merge_leads`); returns the merge's id,
        the merged numbers, what moved, the fields that changed, and the kept lead's details as "lead"."""
        from leaddesk.store import merge

        with self._ctx() as ctx:
            kept = self._lead(ctx, keep)
            merged = [self._lead(ctx, o) for o in others]
            for other in merged:  # merging a lead away deletes it
                permissions.check_delete(ctx.role, ctx.user_id, other["owner_id"], int(other["number"]))
            outcome = merge.merge_leads(ctx, kept, merged, take, expected_version)
            owner = ctx.tx.scalar("SELECT owner_id FROM lead WHERE id = :i", {"i": kept["id"]})
            permissions.check_reassign(ctx.role, ctx.user_id, kept["owner_id"], owner)
            outcome["lead"] = queries.lead_detail(ctx.tx, kept["id"])
            return outcome

    def undo_merge(self, merge_id: int | None = None) -> dict[str, Any]:
        """Undo a merge (default: the acting user's latest one not undone); see `merge.undo_merge`.
        Returns the merge's id, the kept lead's number, the restored numbers and what moved back."""
        from leaddesk.store import merge

        with self._ctx() as ctx:
            if merge_id is not None:
                done = ctx.tx.one("SELECT user_id FROM lead_merge WHERE id = :i", {"i": merge_id})
                if done is not None:
                    permissions.check_own_or_manager(ctx.role, ctx.user_id, done["user_id"], f"merge {merge_id}")
            return merge.undo_merge(ctx, merge_id)

    def merges(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Merges, newest first (id, at, user, keep, merged, undone, moved)."""
        from leaddesk.store import merge

        with self._read() as tx:
            return merge.list_merges(tx, limit)

    # -- capture: email and web forms (issue 4; store/capture.py) ------------------------------------
    def capture_email(self, raw: bytes, *, known_only: bool = False, automated: bool = False) -> dict[str, Any]:
        """Capture one RFC 822 message (see `capture.capture_message`); one transaction. RuleError if malformed."""
        from leaddesk.store import capture
        from leaddesk.store.mail import parse_message, quick_message_id

        known_id = quick_message_id(raw)
        if known_id:  # captured before: answered from the headers, without a full parse or a write transaction
            with self._read() as tx:
                before = capture.captured(tx, known_id)
            if before is not None:
                return capture.duplicate(known_id, before)
        record = parse_message(raw)
        try:
            with self._ctx() as ctx:
                ctx.origin = "email"
                return capture.capture_message(ctx, record, known_only=known_only, automated=automated)
        except Exception as exc:  # another process captured it between our check and insert (unique index)
            if "IntegrityError" not in type(exc).__name__:
                raise
            with self._read() as tx:
                before = capture.captured(tx, record.message_id)
            if before is None:
                raise
            return capture.duplicate(record.message_id, before)

    def capture_mailbox(self, messages: Iterable[tuple[str, bytes | LeadDeskError]], *, known_only: bool = False,
                        automated: bool = False) -> Iterator[dict[str, Any]]:
        """Capture each (label, raw message) in turn, each in its own transaction; yield each outcome.
        A message that cannot be read or captured gives result "failed" with the reason; the rest go on.
        An acting user who may not act at all is refused once (Forbidden), before the first message."""
        self.whoami()
        for label, raw in messages:
            try:
                if isinstance(raw, LeadDeskError):
                    raise raw
                outcome = self.capture_email(raw, known_only=known_only, automated=automated)
            except LeadDeskError as exc:
                outcome = {"result": "failed", "error": str(exc), "number": None}
            yield {"label": label, **outcome}

    def intake_lead(self, record: dict[str, str]) -> dict[str, Any]:
        """Create a lead from a web-form post (fields mapped like an import's columns); returns its details, with
        `intake` "created", or "added" when the post went on the sender's open lead as a note.
        Raises `capture.FormRejected` listing every reason when the post cannot become a lead."""
        from leaddesk.store import capture

        with self._ctx() as ctx:
            ctx.origin = "web"
            lead = capture.intake_lead(ctx, record)
            return {**queries.lead_detail(ctx.tx, lead["id"]), "intake": lead["intake"]}

    # -- assignment (issue 5; store/assignment.py) ---------------------------------------------------
    def assignment_rules(self) -> dict[str, Any]:
        """The [assignment] rules, each team's last served rep and what is wrong with the rules (one line each)."""
        from leaddesk.store import assignment

        with self._read() as tx:
            return assignment.describe(tx, self.settings.assignment)

    def assign_rerun(self, *, dry_run: bool = False) -> list[dict[str, Any]]:
        """Apply the assignment rules to unassigned open leads, one transaction (rolled back on a dry run);
        one row per lead: number, name, owner (None if no rule gave one), rule, problems.
        Managers and admins only; anyone may do a dry run."""
        from leaddesk.store import assignment

        try:
            with self._ctx() as ctx:
                done = assignment.rerun(ctx, dry_run=dry_run)
                if dry_run:
                    raise assignment.DryRunDone(done)
        except assignment.DryRunDone as rolled_back:
            return rolled_back.result
        return done

    # -- scoring and BANT (issue 6; store/scoring.py) -------------------------------------------------
    def explain_score(self, ref: str) -> dict[str, Any]:
        """Why a lead has its score (see `scoring.explain`): number, manual, auto (computed now), stored_auto
        (what lists sort by), total (manual + auto), reasons [{points, text}], last_contact, rules."""
        from leaddesk.store import scoring

        with self._read() as tx:
            lead = resolve_lead(tx, str(ref), self.settings.default_region)
            return scoring.explain(tx, self.settings.score, lead, clock.today())

    def score_rules(self) -> dict[str, Any]:
        """The [score] rules in words ({n, points, kind, what}, then the decay), `warnings` (rules naming a
        source, status... this desk does not have), `recomputed_on` and `stale` (all, open or None)."""
        from leaddesk.store import scoring

        rules = self.settings.score
        with self._read() as tx:
            return {"rules": scoring.describe_rules(rules), "warnings": scoring.warnings(tx, rules),
                    "recomputed_on": tx.scalar("SELECT value FROM setting WHERE key = :k",
                                               {"k": scoring.RECOMPUTED_ON}),
                    "stale": scoring.stale(tx, rules, clock.today())}

    def recompute_scores(self, *, open_only: bool = False) -> dict[str, Any]:
        """Recompute and store every lead's automatic score (only open and qualified leads with `open_only`), in
        one transaction without history (derived data); {leads, changed, scope}."""
        from leaddesk.store import scoring

        with self._ctx() as ctx:
            return scoring.recompute(ctx.tx, self.settings.score, clock.today(), open_only=open_only)

    def refresh_scores(self) -> dict[str, Any] | None:
        """Recompute what is stale (see `scoring.stale`): every lead after the rules changed, the open ones once a
        day when they decay. None when nothing was: then this only read (opening a desk writes nothing)."""
        from leaddesk.store import scoring

        rules, today = self.settings.score, clock.today()
        with self._read() as tx:
            if scoring.stale(tx, rules, today) is None:
                return None
        with self._ctx() as ctx:
            scope = scoring.stale(ctx.tx, rules, today)  # another desk may have done it meanwhile
            return None if scope is None else scoring.recompute(ctx.tx, rules, today, open_only=scope == "open")

    def cycle_bant(self, ref: str, part: str) -> dict[str, Any]:
        """Step one BANT answer of a lead (budget, authority, need, timeline): unknown → yes → no → unknown, from
        the stored answer (an edit, in the lead's history); returns the lead's details."""
        from leaddesk.store import scoring

        with self._ctx() as ctx:
            lead = self._lead(ctx, ref)
            column = f"bant_{scoring.bant_part(part)}"
            lead = leads.edit_lead(ctx, lead, {column: scoring.next_answer(lead[column])})
            return queries.lead_detail(ctx.tx, lead["id"])

    # -- follow-ups (issue 6; store/followups.py) ------------------------------------------------------
    def followup_done(self, ref: str, note: str | None = None,
                      expected_version: int | None = None) -> dict[str, Any]:
        """Mark a lead's follow-up done: a note "follow-up done: NOTE" on its timeline, the follow-up cleared,
        a running sequence's next step scheduled (see `followups.mark_done`); returns the lead's details."""
        from leaddesk.store import followups

        with self._ctx() as ctx:
            lead = followups.mark_done(ctx, self._lead(ctx, ref), note, expected_version)
            return self._with_due(queries.lead_detail(ctx.tx, lead["id"]))

    def agenda(self, flt: queries.LeadFilter) -> list[dict[str, Any]]:
        """A page of the agenda: open leads with a follow-up in time order, in `flt`'s due window (see
        `followups.agenda` for the row's extra keys: followup_time, followup_note, due, bucket, day)."""
        from leaddesk.store import followups

        with self._read() as tx:
            return followups.agenda(tx, self.settings, flt, self.login)

    def agenda_groups(self, flt: queries.LeadFilter) -> list[dict[str, Any]]:
        """The agenda's day groups with their counts and first rows' offsets (see `followups.agenda_groups`)."""
        from leaddesk.store import followups

        with self._read() as tx:
            return followups.agenda_groups(tx, self.settings, flt, self.login)

    def followup_reminders(self, since: str | None = None) -> dict[str, Any]:
        """The acting user's overdue and due-today counts, and their timed follow-ups that came due after
        `since` (see `followups.reminders`)."""
        from leaddesk.store import followups

        with self._read() as tx:
            return followups.reminders(tx, self.settings, self.login, since)

    def _with_due(self, detail: dict[str, Any]) -> dict[str, Any]:
        """A lead's details with `followup_due` (overdue, today, upcoming or None; None on a closed lead) and
        `followup_words` ("tomorrow", "2 days overdue", "today, overdue") in the desk's time zone."""
        from leaddesk.store import followups

        now = followups.local_now(self.settings)
        state = followups.due_state(detail["followup_on"], detail["followup_time"], now)
        detail["followup_due"] = state if detail["status_category"] in ("open", "qualified") else None
        detail["followup_words"] = followups.describe(detail["followup_on"], detail["followup_time"], now,
                                                      with_time=False)
        return detail


    # -- sequences (issue 6; store/sequences.py) -----------------------------------------------------
    def sequences(self) -> list[dict[str, Any]]:
        """The nurture sequences of the settings (name, description, start_on_status, steps) with `running`,
        how many leads run each, and `problems` (one line each); then sequences leads still run that the
        settings no longer define (`defined` false)."""
        from leaddesk.store import sequences

        with self._read() as tx:
            return sequences.overview(tx, self.settings)

    def sequence(self, name: str) -> dict[str, Any]:
        """One sequence (as in `sequences`), named exactly or by a unique prefix."""
        from leaddesk.store import sequences

        with self._read() as tx:
            return sequences.definition(tx, self.settings, name)

    def lead_sequence(self, ref: str) -> dict[str, Any]:
        """A lead's sequences (see `sequences.lead_status`): `current` (running or None) with step k of
        `steps`, next_at and the step's note; `history`, newest first; `open`; `available` names."""
        from leaddesk.store import sequences

        with self._read() as tx:
            lead = resolve_lead(tx, str(ref), self.settings.default_region)
            return sequences.lead_status(tx, self.settings, lead)

    def start_sequence(self, ref: str, name: str, *, replace: bool = False) -> dict[str, Any]:
        """Start a sequence on an open lead: its first step becomes the follow-up. A running sequence is refused
        unless `replace` (which stops it). Returns the lead's sequences (as `lead_sequence`)."""
        from leaddesk.store import sequences

        with self._ctx() as ctx:
            chosen = sequences.find(self.settings, name)
            sequences.start(ctx, self._lead(ctx, ref), chosen, replace=replace)
            return sequences.lead_status(ctx.tx, self.settings, self._lead(ctx, ref))

    def stop_sequence(self, ref: str) -> dict[str, Any]:
        """Stop the lead's running sequence (its follow-up stays); returns the lead's sequences."""
        from leaddesk.store import sequences

        with self._ctx() as ctx:
            sequences.stop(ctx, self._lead(ctx, ref))
            return sequences.lead_status(ctx.tx, self.settings, self._lead(ctx, ref))

    def sequence_text(self, ref: str, *, mailto: bool = False) -> dict[str, Any]:
        """The running sequence's current step text, filled for the lead: number, sequence, step, steps, to,
        subject, body, mailto (None without an email address; refused then when `mailto` is asked for)."""
        from leaddesk.store import sequences

        with self._read() as tx:
            lead = resolve_lead(tx, str(ref), self.settings.default_region)
            return sequences.step_text(tx, self.settings, lead, self.login, need_address=mailto)

    # -- SLA (issue 6; store/sla.py, store/notices.py) ----------------------------------------------------
    def sla_policy(self) -> str:
        """The first-contact SLA of the settings in words (or how to set one)."""
        from leaddesk.store import sla

        return sla.describe(self.settings)

    def sla_escalate(self) -> int:
        """Tell the [sla] escalate_to users of the breaches nobody was told of yet (one notice per user per lead,
        never twice; see `sla.escalate`). A cheap indexed read when there is nothing to do, and then no write.
        Returns how many notices were written."""
        return self._sla_escalate()["notices"]

    def _sla_escalate(self) -> dict[str, int]:
        from leaddesk.store import sla

        with self._read() as tx:
            if not sla.needs_escalation(tx, clock.stamp()):
                return {"breaches": 0, "notices": 0}
        with self._ctx() as ctx:
            return sla.escalate(ctx)

    def sla_breaches(self, owner: str | None = None, *, mine: bool = False,
                     limit: int | None = None) -> list[dict[str, Any]]:
        """Leads past their first-contact due time, longest overdue first (see `sla.breaches`: number, name,
        owner, status, created_at, sla_due_at, overdue_hours in working time), escalating new breaches first."""
        from leaddesk.store import sla

        self.sla_escalate()
        with self._read() as tx:
            return sla.breaches(tx, self.settings, self.login if mine else owner, limit)

    def sla_report(self, since: str | None = None) -> dict[str, Any]:
        """Time to first contact in working hours (count, median, p90, share within the SLA), overall and per
        owner, with the open breaches and pending leads (see `sla.report`); `since` is a date (user text)."""
        from leaddesk.store import sla
        from leaddesk.store.fields import parse_date

        day = parse_date(since, "--since") if since else None
        with self._read() as tx:
            return sla.report(tx, self.settings, day)

    def sla_recompute(self) -> dict[str, int]:
        """Managers: give open, uncontacted leads the due time of the current [sla] settings (first contacts taken
        from their timelines first), then escalate what is in breach (see `sla.recompute`)."""
        from leaddesk.store import sla

        with self._ctx() as ctx:
            permissions.check_manager(ctx.role, "recompute the SLA due times")
            return sla.recompute(ctx)

    def sla_poll(self, after: int = 0) -> dict[str, Any]:
        """The desk's periodic look: escalate new breaches (as `sla_escalate`), then the acting user's unread
        notices with an id above `after`: {"breaches" (newly escalated leads: the views' markers changed),
        "escalated" (notices written), "notices" (oldest first, at most 50), "unread" (how many in all, counted
        only when there are new ones; else 0)}."""
        from leaddesk.store import notices

        done = self._sla_escalate()
        with self.db.read() as tx:
            user = permissions.reader(tx, self.login, self.settings).id
            fresh = notices.of_user(tx, user, after=after, limit=50)
            return {"breaches": done["breaches"], "escalated": done["notices"], "notices": fresh,
                    "unread": notices.unread_count(tx, user) if fresh else 0}

    def notices(self, *, include_read: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
        """The acting user's notices, oldest first (unread ones only unless `include_read`): id, kind, text, at,
        read_at, lead (number), and `when` (at, in the desk's time zone)."""
        from leaddesk.store import notices, sla

        with self.db.read() as tx:
            user = permissions.reader(tx, self.login, self.settings).id
            found = notices.of_user(tx, user, unread_only=not include_read, limit=limit)
        return [{**n, "when": sla.local_text(n["at"], self.settings)} for n in found]

    def mark_notices_read(self, up_to: int | None = None) -> int:
        """Mark the acting user's unread notices read (those with an id up to `up_to`, when given); how many."""
        from leaddesk.store import notices

        with self._ctx() as ctx:
            return notices.mark_read(ctx.tx, ctx.user_id, ctx.at, up_to)
    # -- work queue (issue 6; store/queue.py) ---------------------------------------------------------------
    def work_outcomes(self) -> list[dict[str, Any]]:
        """The outcomes of working a lead, in key order: name, key, label, asks, needs, action (`queue.OUTCOMES`)."""
        from leaddesk.store import queue

        return [o.public() for o in queue.OUTCOMES]

    def _queue_owner(self, tx: Tx, everyone: bool) -> int | None:
        actor = permissions.reader(tx, self.login, self.settings)
        if everyone:
            permissions.check_manager(actor.role, "work everyone's queue")
        return actor.id

    def _queue_cursor(self, tx: Tx, owner: int | None, after: Any, everyone: bool) -> list[Any] | None:
        """A cursor as given, or the cursor of the lead a reference names (refused when it is not queued)."""
        from leaddesk.store import queue

        if after is None or isinstance(after, list | tuple):
            return None if after is None else list(after)
        lead = resolve_lead(tx, str(after), self.settings.default_region)
        cursor = queue.cursor_of(tx, self.settings, lead["id"], owner, everyone=everyone)
        if cursor is None:
            raise RuleError(f"lead {lead['number']} is not in {'the' if everyone else 'your'} work queue")
        return cursor

    def work_queue(self, *, everyone: bool = False, limit: int = 50, after: Any = None) -> list[dict[str, Any]]:
        """A page of the work queue (the acting user's; everyone's with `everyone`, managers only) after `after`
        (a cursor or a lead reference): items as `next_in_queue` gives them, without position, total and
        activities."""
        from leaddesk.store import queue

        with self._read() as tx:
            owner = self._queue_owner(tx, everyone)
            moment = queue.Moment.now(self.settings)
            rows = queue.page(tx, self.settings, owner, everyone=everyone, limit=limit,
                              after=self._queue_cursor(tx, owner, after, everyone), moment=moment)
            return [queue.item(tx, self.settings, r, moment, activities=0) for r in rows]

    def next_in_queue(self, after: Any = None, *, everyone: bool = False, back: bool = False,
                      wrap: bool = False) -> dict[str, Any] | None:
        """The next lead to work: the first (`after` None), the one after `after` (the `cursor` of an item, or a
        lead reference), or with `back` the one before it; None when there is none (with `wrap`, past the end
        it starts again from the top: the leads skipped on the way). The item is the lead's compact
        card (number, contact_name, company, phone, email, status, owner, followup_on/_time/_note, `followup` in
        words, `sla` in words, score, auto_score, total_score, the last 3 `activities`), `bucket` (overdue, today,
        sla, new, score), `reasons` (why it is here, e.g. "follow-up overdue since Nov 24"), `cursor`,
        `position` (1-based) and `total`."""
        from leaddesk.store import queue

        with self._read() as tx:
            owner = self._queue_owner(tx, everyone)
            moment = queue.Moment.now(self.settings)
            cursor = self._queue_cursor(tx, owner, after, everyone)
            rows = queue.page(tx, self.settings, owner, everyone=everyone, limit=1, after=cursor, back=back,
                              moment=moment)
            if not rows and wrap and cursor is not None and not back:
                rows = queue.page(tx, self.settings, owner, everyone=everyone, limit=1, moment=moment)
            if not rows:
                return None
            found = queue.item(tx, self.settings, rows[0], moment)
            found["position"], found["total"] = queue.position(tx, self.settings, owner, rows[0]["cursor"],
                                                               everyone=everyone, moment=moment)
            return found

    def queue_count(self, *, everyone: bool = False) -> int:
        """How many leads the work queue holds."""
        from leaddesk.store import queue

        with self._read() as tx:
            return queue.count(tx, self.settings, self._queue_owner(tx, everyone), everyone=everyone)

    def work_outcome(self, ref: str, outcome: str, *, note: str | None = None, date: str | None = None,
                     reason: str | None = None, expected_version: int | None = None,
                     everyone: bool = False) -> dict[str, Any]:
        """Record the outcome of working a lead (a name or key of `work_outcomes`; see `queue.record`) in one
        transaction: {outcome, label, number, activity, status {from, to}, followup {on, time, note}, notes,
        lead (details), cursor (where the lead was in the queue before: `next_in_queue(after=cursor)` is the
        next one; None when it was not queued)}. "skip" writes nothing; "qualify" is `qualify`."""
        from leaddesk.store import queue

        chosen = queue.find_outcome(outcome)
        if chosen.action == "skip":
            with self._read() as tx:
                lead = resolve_lead(tx, str(ref), self.settings.default_region)
                cursor = queue.cursor_of(tx, self.settings, lead["id"], self._queue_owner(tx, everyone),
                                         everyone=everyone)
                return {"outcome": chosen.name, "label": chosen.label, "number": lead["number"], "activity": None,
                        "status": None, "followup": None, "notes": [], "cursor": cursor,
                        "lead": queries.lead_detail(tx, lead["id"])}
        with self._ctx() as ctx:
            lead = self._lead(ctx, ref)
            if everyone:
                permissions.check_manager(ctx.role, "work everyone's queue")
            owner = None if everyone else ctx.user_id
            cursor = queue.cursor_of(ctx.tx, self.settings, lead["id"], owner, everyone=everyone)
            done = queue.record(ctx, lead, chosen, note=note, when=date, reason=reason,
                                expected_version=expected_version)
            return {**done, "cursor": cursor, "lead": queries.lead_detail(ctx.tx, lead["id"])}

    # -- reports (issue 7; store/reports.py) -------------------------------------------------------
    @staticmethod
    def report_names() -> dict[str, str]:
        """The reports, name -> title, in display order (see store/reports.py)."""
        from leaddesk.store.reports import REPORTS

        return dict(REPORTS)

    def report(self, name: str, filters: ReportFilters | None = None) -> Report:
        """Compute a report (a name or a unique prefix of one) under the filters, in one read; partners are
        refused; an unknown name or a bad filter is a one-line RuleError. See store/reports.py."""
        from leaddesk.store import reports

        with self._read(beside=reports.runs_beside(name)) as tx:
            return reports.build(tx, name, filters)

    # -- the partner view and comarketing (issue 7; store/partners.py) ------------------------------
    def my_partner_view(self, since: Any = None, until: Any = None, *, name: str | None = None) -> dict[str, Any]:
        """The partner view, the one read a partner user may make: {partner {name}, since, until, metrics
        {leads, won, won_value, spend, rocs, cac, why}, leads [{number, name, status, job_value}]} of the partner
        their login is linked to (`name`, if given, must name that one). Anyone else is refused."""
        from leaddesk.store import partners

        first, last = partners.period(since, until)
        with self.db.read() as tx:
            own = partners.own_partner(tx, permissions.reader(tx, self.login, self.settings, partner_ok=True))
            partners.check_own_name(own, name)
            return partners.view(tx, own, first, last)

    def partner_report_for(self, name: str | None = None, since: Any = None, until: Any = None) -> dict[str, Any]:
        """A partner's report as the acting user may see it: a partner user their own (`my_partner_view`; the
        name is optional), anyone else the named partner's (`partner_report`)."""
        with self.db.read() as tx:
            actor = permissions.reader(tx, self.login, self.settings, partner_ok=True)
        if actor.role == "partner":
            return self.my_partner_view(since, until, name=name)
        if name is None or not name.strip():
            raise RuleError("which partner? `leaddesk partner report NAME` (see `leaddesk partner list`)")
        return self.partner_report(name, since, until)

    def edit_partner(self, partner: str, *, name: str | None = None, email: str | None = None,
                     user: str | None = None, unlink: bool = False) -> dict[str, Any]:
        """Rename a partner, change its email ("" clears it), link a login (`user`) or `unlink` it (managers);
        one transaction, each change in the partner's history (see `partners.edit`)."""
        from leaddesk.store import partners

        with self._ctx() as ctx:
            return partners.edit(ctx, partner, name=name, email=email, user=user, unlink=unlink)

    def comarketing(self, since: Any = None, until: Any = None) -> dict[str, Any]:
        """Comarketing mode's head in one read: {since, until, partners [each with its metrics], total (the
        metrics over all partners; its `leads` is how many `referred_leads` has)}."""
        from leaddesk.store import partners

        first, last = partners.period(since, until)
        with self._read() as tx:
            return partners.comarketing(tx, first, last)

    def referred_leads(self, since: Any = None, until: Any = None, offset: int = 0,
                       limit: int | None = 100) -> list[dict[str, Any]]:
        """A page of the leads partners referred in the period, newest first: {number, name, partner, status,
        job_value}."""
        from leaddesk.store import partners

        first, last = partners.period(since, until)
        with self._read() as tx:
            return partners.referred_leads(tx, first, last, offset, limit)

    @staticmethod
    def period_of(since: Any = None, until: Any = None) -> tuple[str | None, str | None]:
        """A period typed by a user (dates, ISO or relative: monday, -30d) as ISO days, checked; reads nothing."""
        from leaddesk.store import partners

        return partners.period(since, until)

    # -- partners (issue 7; store/partners.py) ------------------------------------------------------
    def add_partner_spend(self, partner: str, amount: Any, on: Any = None, note: str = "") -> dict[str, Any]:
        """Record money spent on a partner (managers): {id, partner, amount_cents, spent_on, note}."""
        from leaddesk.store import partners

        with self._ctx() as ctx:
            return partners.add_spend(ctx, partner, amount, on, note)

    def partner_metrics(self, name: str | None = None, since: Any = None, until: Any = None) -> dict[str, Any]:
        """One partner's metrics over the period (all partners without a name); see `partners.metrics`."""
        from leaddesk.store import partners

        first, last = partners.period(since, until)
        with self._read() as tx:
            partner_id = partners.find(tx, name)["id"] if name is not None else None
            return partners.metrics(tx, partner_id, first, last)

    def partner_overview(self, since: Any = None, until: Any = None) -> list[dict[str, Any]]:
        """Every partner with its metrics over the period: [{id, name, email, leads, won, ..., why}]."""
        from leaddesk.store import partners

        first, last = partners.period(since, until)
        with self._read() as tx:
            return partners.overview(tx, first, last)

    def partner_report(self, name: str, since: Any = None, until: Any = None) -> dict[str, Any]:
        """{partner {name, email}, since, until, metrics, leads (the status-only table)} in one read."""
        from leaddesk.store import partners

        first, last = partners.period(since, until)
        with self._read() as tx:
            found = partners.find(tx, name)
            return {"partner": {"name": found["name"], "email": found["email"]}, "since": first, "until": last,
                    "metrics": partners.metrics(tx, found["id"], first, last),
                    "leads": partners.status_table(tx, found["id"], first, last)}


DEAL_SELECT = (
    "SELECT d.id, d.title, d.value_cents, d.expected_close, d.state, d.pipeline_id, p.name AS pipeline,"
    " st.name AS stage, d.lead_id, l.number AS lead_number, d.customer_id, c.name AS customer,"
    " lr.name AS lost_reason, d.lost_note, d.created_at, d.closed_at, d.version"
    " FROM deal d JOIN stage st ON st.id = d.stage_id JOIN pipeline p ON p.id = d.pipeline_id"
    " LEFT JOIN lead l ON l.id = d.lead_id LEFT JOIN customer c ON c.id = d.customer_id"
    " LEFT JOIN lost_reason lr ON lr.id = d.lost_reason_id"
)
