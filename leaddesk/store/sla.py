"""The first-contact SLA (issue 6): a new lead must be contacted within N working hours.

Working time (pure, no database): a `Calendar` is the working days and hours in a time zone; `due_at` adds
working hours to an instant and `working_seconds` measures the working time between two instants. Both walk
the local days and convert each day's window to UTC on its own, so a daylight-saving change moves the window
with the wall clock (09:00-17:00 stays 09:00-17:00) and a window that spans the change is as long as it
really is.

The lead's derived columns (written by `derived.lead_changed` / `derived.leads_importing`, no version bump):

- `sla_due_at`: set when a lead is created in its initial status (the first open status its type allows)
  while an SLA is configured: `due_at(created_at)`. NULL: no SLA (created before the SLA existed, or in
  a later status). `leaddesk sla --recompute` fills it for open, uncontacted leads.
- `first_contact_at`: set once, at the first of: a call, email or meeting logged by a user (an email
  captured from the lead's mailbox, `activity.message_id` set, is the lead writing to us and does not count;
  a logged email is an outgoing contact), a move by a user from the initial status to another open status,
  or the lead reaching a qualified, won or lost status. A lead created in any other status was contacted
  before it was entered: its first contact is its creation.

A lead is in breach while `first_contact_at IS NULL AND sla_due_at < now` (both columns indexed). Each breach
is escalated once, as one `notice` row per recipient (`store/notices.py`): `escalate` handles the breaches
whose due time lies in [watermark, now), the watermark (setting `sla_escalated_through`) then moves to now.
Writers take turns (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so two desks never escalate
the same breach; the paths that set a due time already behind the watermark (an import of old leads, the
recompute) escalate those leads themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from leaddesk import clock
from leaddesk.settings import WEEKDAYS, Settings, Sla
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError

STAMP = "%Y-%m-%dT%H:%M:%S"
CONTACT_KINDS = ("call", "email", "meeting")
"""Activities that are a contact when a user logs them (a note is not)."""
CLOSING_CATEGORIES = ("qualified", "won", "lost")
WATERMARK = "sla_escalated_through"
"""The `setting` row: every breach with a due time before it has been escalated."""
STALE_WATERMARK = timedelta(hours=1)
"""With nothing to escalate, the watermark still moves up when it is older than this (keeps the look cheap)."""
FILTERS = ("breached", "pending", "met", "missed")
BREACHED = "l.first_contact_at IS NULL AND l.sla_due_at < :sla_now"
"""The breach condition in SQL (bind `sla_now`); `is_breached` is the same for a loaded row."""
FILTER_SQL = {
    "breached": BREACHED,
    "pending": "l.first_contact_at IS NULL AND l.sla_due_at >= :sla_now",
    "met": "l.first_contact_at IS NOT NULL AND l.first_contact_at <= l.sla_due_at",
    "missed": "l.first_contact_at > l.sla_due_at",
}


# -- working time (pure) -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Calendar:
    """Working days (0 = Monday) and hours (minutes after midnight, end up to 24:00) in a time zone
    (None: the system's local zone, with its daylight-saving rules)."""

    days: frozenset[int]
    start: int
    end: int
    zone: tzinfo | None = UTC

    @classmethod
    def of(cls, sla: Sla, timezone: str | None = None) -> Calendar:
        """The calendar of the [sla] settings in the desk's `timezone` (see `zone_of`)."""
        start, end = sla.minutes
        return cls(frozenset(WEEKDAYS.index(d) for d in sla.working_days), start, end, zone_of(timezone))

    def local(self, moment: datetime) -> datetime:
        """A naive UTC instant as naive local time."""
        return moment.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None)

    def utc(self, local: datetime) -> datetime:
        """A naive local time as a naive UTC instant (a time skipped by a clock change reads as before it)."""
        aware = local.astimezone(UTC) if self.zone is None else local.replace(tzinfo=self.zone).astimezone(UTC)
        return aware.replace(tzinfo=None)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of a local day as naive UTC instants; None on a day off."""
        return _window(self, day)


@lru_cache(maxsize=4096)
def _window(cal: Calendar, day: date) -> tuple[datetime, datetime] | None:
    if day.weekday() not in cal.days:
        return None
    midnight = datetime(day.year, day.month, day.day)
    return cal.utc(midnight + timedelta(minutes=cal.start)), cal.utc(midnight + timedelta(minutes=cal.end))


def zone_of(name: str | None) -> tzinfo | None:
    """The time zone `name`; without one the system's local zone (None), UTC while the clock is fixed."""
    if name:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    found = clock.zone(None)
    return found if found is UTC else None


def _naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def due_at(created: datetime, within_hours: float, cal: Calendar) -> datetime:
    """The instant (naive UTC) at which `within_hours` working hours have passed since `created` (naive UTC or
    aware): a lead created after hours or on a day off starts its clock at the next working window."""
    if within_hours <= 0:
        raise ValueError("within_hours must be positive")
    moment = _naive_utc(created)
    remaining = within_hours * 3600.0
    day = cal.local(moment).date()
    per_week = len(cal.days) * (cal.end - cal.start) * 60
    for _ in range(int(7 * (remaining / per_week + 2)) + 14):
        window = cal.window(day)
        if window is not None:
            start, end = max(window[0], moment), window[1]
            if end > start:
                available = (end - start).total_seconds()
                if remaining <= available:
                    return start + timedelta(seconds=remaining)
                remaining -= available
        day += timedelta(days=1)
    raise ValueError("no working time in the calendar")  # pragma: no cover - a calendar always has some


def working_seconds(start: datetime, end: datetime, cal: Calendar) -> float:
    """Working time between two instants (naive UTC or aware), in seconds; 0 when `end` is not after `start`."""
    a, b = _naive_utc(start), _naive_utc(end)
    if b <= a:
        return 0.0
    total = 0.0
    day, last = cal.local(a).date(), cal.local(b).date()
    while day <= last:
        window = cal.window(day)
        if window is not None:
            lo, hi = max(window[0], a), min(window[1], b)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def parse_stamp(text: str) -> datetime:
    """A stored timestamp as a naive UTC datetime."""
    return datetime.fromisoformat(text[:19])


@lru_cache(maxsize=8192)
def due_stamp(created_at: str, within_hours: float, cal: Calendar) -> str:
    """`due_at` on stored timestamps (memoised: an import chunk's leads share a few creation times)."""
    return due_at(parse_stamp(created_at), within_hours, cal).strftime(STAMP)


def working_hours(start: str, end: str, cal: Calendar) -> float:
    """Working hours between two stored timestamps."""
    return working_seconds(parse_stamp(start), parse_stamp(end), cal) / 3600.0


def calendar(settings: Settings) -> Calendar:
    """The settings' SLA calendar."""
    return Calendar.of(settings.sla, settings.timezone)


def local_text(stamp: str | None, settings: Settings) -> str | None:
    """A stored timestamp as "YYYY-MM-DD HH:MM" in the desk's time zone (for people; JSON keeps UTC)."""
    if not stamp:
        return None
    return calendar(settings).local(parse_stamp(stamp)).strftime("%Y-%m-%d %H:%M")


def hours_text(hours: float | None) -> str:
    """Working hours for people: "4h 30m"."""
    if hours is None:
        return ""
    minutes = round(hours * 60)
    return f"{minutes // 60}h {minutes % 60:02d}m"


def describe(settings: Settings) -> str:
    """The SLA in words, e.g. "first contact within 4 working hours (mon-fri 09:00-17:00, Europe/Rome)"."""
    sla = settings.sla
    if not sla.enabled:
        return "no SLA: set contact_within_hours in the [sla] table of the settings"
    days = sla.working_days
    span = f"{days[0]}-{days[-1]}" if _consecutive(days) and len(days) > 2 else ",".join(days)
    hours = f"{sla.contact_within_hours:g} working hour{'' if sla.contact_within_hours == 1 else 's'}"
    return f"first contact within {hours} ({span} {sla.working_hours}, {settings.timezone or 'local time'})"


def _consecutive(days: tuple[str, ...]) -> bool:
    numbers = [WEEKDAYS.index(d) for d in days]
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def is_breached(row: dict[str, Any], now: str) -> bool:
    """The breach condition (`BREACHED`) on a loaded row with `first_contact_at` and `sla_due_at`."""
    due = row.get("sla_due_at")
    return row.get("first_contact_at") is None and due is not None and due < now


def filter_clause(name: str, params: dict[str, Any]) -> str:
    """The list filter `--sla NAME` as SQL on `lead l` (binds `sla_now`)."""
    if name not in FILTER_SQL:
        raise RuleError(f"sla '{name}' must be one of {', '.join(FILTERS)}")
    params["sla_now"] = clock.stamp()
    return "(" + FILTER_SQL[name] + ")"


# -- the hooks (called by derived.py in the writer's transaction) --------------------------------------------
def initial_status(tx: Tx, type_id: int | None) -> int | None:
    """The status a new lead of this type starts in (the first open one it allows), as `leads` picks it."""
    from leaddesk.store import catalog

    pool = catalog.allowed_statuses(tx, type_id) or catalog.statuses(tx)
    return next((s.id for s in pool if s.category == "open"), None)


def _at_creation(ctx: Ctx, row: dict[str, Any], initial: int | None, cal: Calendar | None,
                 ) -> tuple[str | None, str | None]:
    """(sla_due_at, first_contact_at) of a new lead's `row`, whose type starts in status `initial`: created in a
    later status, it was contacted before it was entered; in its initial status, it is due by the SLA's calendar
    `cal` (None: no SLA)."""
    created = row.get("created_at") or ctx.at
    if row.get("status_id") != initial:
        return None, created
    if cal is None:
        return None, None
    return due_stamp(created, ctx.settings.sla.contact_within_hours, cal), None


def _calendar_in_use(settings: Settings) -> Calendar | None:
    return calendar(settings) if settings.sla.enabled else None


def lead_created(ctx: Ctx, lead_id: int, row: dict[str, Any]) -> None:
    """A new lead: its due time (initial status, SLA on), or its first contact at creation (a later status)."""
    due, contact = _at_creation(ctx, row, initial_status(ctx.tx, row.get("type_id")), _calendar_in_use(ctx.settings))
    if contact is not None:
        ctx.tx.execute("UPDATE lead SET first_contact_at = :c, sla_due_at = NULL WHERE id = :i",
                       {"c": contact, "i": lead_id})
        return
    if due is None:
        return
    ctx.tx.execute("UPDATE lead SET sla_due_at = :d WHERE id = :i", {"d": due, "i": lead_id})
    if due < ctx.at:  # created in the past (a back-dated lead): maybe already behind the watermark
        _catch_up(ctx, "l.id = :i", {"i": lead_id})


def lead_changed(ctx: Ctx, lead_id: int, what: str, changes: dict[str, Any] | None) -> None:
    """Record the first contact (see the module's doc) after an activity or a status change."""
    if what == "create":
        lead_created(ctx, lead_id, changes or {})
        return
    contact = None
    if what.startswith("activity:"):
        if what.partition(":")[2] in CONTACT_KINDS:
            contact = _contact_activity(ctx, lead_id)
    elif changes and "status_id" in changes:
        category = ctx.tx.scalar("SELECT category FROM status WHERE id = :s", {"s": changes["status_id"]})
        if category in CLOSING_CATEGORIES or (category == "open" and what == "status" and ctx.origin != "import"):
            contact = ctx.at
    if contact is not None:
        ctx.tx.execute(
            "UPDATE lead SET first_contact_at = CASE WHEN created_at > :at THEN created_at ELSE :at END"
            " WHERE id = :i AND first_contact_at IS NULL", {"at": contact, "i": lead_id})


def _contact_activity(ctx: Ctx, lead_id: int) -> str | None:
    """When the activity just logged happened, if it is a contact by a user (not a captured email)."""
    row = ctx.tx.one("SELECT at, user_id, message_id FROM activity WHERE lead_id = :i ORDER BY id DESC LIMIT 1",
                     {"i": lead_id})
    if row is None or row["user_id"] is None or row["message_id"] is not None:
        return None
    return min(str(row["at"] or ctx.at), ctx.at)  # a meeting logged ahead counts from when it was arranged


def stamp_imported(ctx: Ctx, rows: list[dict[str, Any]]) -> str | None:
    """`lead_created` for an import chunk's new rows, before they are inserted: each row gets its due time and
    first contact in its own values (the initial status looked up once per lead type), so the insert writes them
    (an UPDATE of the chunk afterwards cost 100k rows ~0.35 s). Returns the earliest due time set (for
    `leads_imported`), or None."""
    starts: dict[int | None, int | None] = {}
    cal = _calendar_in_use(ctx.settings)
    earliest: str | None = None
    for row in rows:
        type_id = row.get("type_id")
        if type_id not in starts:
            starts[type_id] = initial_status(ctx.tx, type_id)
        due, contact = _at_creation(ctx, row, starts[type_id], cal)
        row["sla_due_at"], row["first_contact_at"] = due, contact
        if due is not None and (earliest is None or due < earliest):
            earliest = due
    return earliest


def leads_imported(ctx: Ctx, first_number: int, last_number: int, earliest_due: str | None) -> None:
    """After an import inserted the chunk `stamp_imported` stamped (leads numbered first..last): leads created
    long ago may be due before the watermark; those are escalated now."""
    if earliest_due is not None and earliest_due < ctx.at:
        _catch_up(ctx, "l.number >= :lo AND l.number <= :hi", {"lo": first_number, "hi": last_number})


# -- escalation ----------------------------------------------------------------------------------------------
def watermark(tx: Tx) -> str | None:
    """Every breach due before this has been escalated (None: nothing was ever escalated)."""
    value = tx.scalar("SELECT value FROM setting WHERE key = :k", {"k": WATERMARK})
    return None if value is None else str(value)


def _set_watermark(tx: Tx, value: str) -> None:
    if tx.execute("UPDATE setting SET value = :v WHERE key = :k", {"k": WATERMARK, "v": value}) == 0:
        tx.execute("INSERT INTO setting (key, value) VALUES (:k, :v)", {"k": WATERMARK, "v": value})


BREACH_COLUMNS = (
    "l.id, l.number, l.contact_name, l.company, l.created_at, l.sla_due_at, u.login AS owner, s.name AS status"
    " FROM lead l JOIN status s ON s.id = l.status_id LEFT JOIN \"user\" u ON u.id = l.owner_id"
)


def needs_escalation(tx: Tx, now: str) -> bool:
    """The desk's cheap look (a range on the indexed due time): is there a breach to escalate, or a watermark
    to move up? A desk where no lead has a due time never writes."""
    mark = watermark(tx)
    if mark is None:  # never escalated: a breach, or the SLA in use (set the watermark: later looks stay cheap)
        return tx.one(f"SELECT 1 FROM lead l WHERE {BREACHED} LIMIT 1", {"sla_now": now}) is not None or \
            tx.one("SELECT 1 FROM lead l WHERE l.sla_due_at IS NOT NULL LIMIT 1") is not None
    if parse_stamp(mark) < parse_stamp(now) - STALE_WATERMARK:
        return True
    return tx.one(f"SELECT 1 FROM lead l WHERE {_new_breaches(tx)} LIMIT 1", {"w": mark, "sla_now": now}) is not None


def _new_breaches(tx: Tx) -> str:
    """Breaches due in [:w, :sla_now), read along the due time's index: SQLite would otherwise pick the index on
    first_contact_at (an equality beats a range for its planner), which holds every uncontacted lead; the unary
    + keeps it off that index (PostgreSQL's planner reads its statistics)."""
    uncontacted = "+l.first_contact_at IS NULL" if tx.dialect == "sqlite" else "l.first_contact_at IS NULL"
    return f"l.sla_due_at >= :w AND l.sla_due_at < :sla_now AND {uncontacted}"


def escalate(ctx: Ctx, *, everything: bool = False) -> dict[str, int]:
    """Tell the recipients of every new breach (due in [watermark, now)); with `everything`, or on the first
    run, of every breach nobody was told of. Moves the watermark to now; returns {"breaches": how many leads
    were escalated, "notices": how many notices were written}."""
    from leaddesk.store import notices

    tx, now = ctx.tx, ctx.at
    mark = watermark(tx)
    if mark is None or everything:
        rows = tx.all(f"SELECT {BREACH_COLUMNS} WHERE {BREACHED} ORDER BY l.sla_due_at, l.number", {"sla_now": now})
        told = notices.told(tx, "sla")
    else:
        rows = tx.all(f"SELECT {BREACH_COLUMNS} WHERE {_new_breaches(tx)} ORDER BY l.sla_due_at, l.number",
                      {"w": mark, "sla_now": now})
        told = set()
    written = _notify(ctx, [dict(r) for r in rows], told)
    if mark is None or mark < now:
        _set_watermark(tx, now)
    return {"breaches": len(rows), "notices": written}


def _catch_up(ctx: Ctx, where: str, params: dict[str, Any]) -> None:
    """Escalate the matching breaches due before the watermark (the regular escalation will not see them)."""
    mark = watermark(ctx.tx)
    if mark is None:
        return  # the first escalation takes every breach
    rows = ctx.tx.all(f"SELECT {BREACH_COLUMNS} WHERE {where} AND {BREACHED} AND l.sla_due_at < :w",
                      {**params, "sla_now": ctx.at, "w": mark})
    if rows:
        from leaddesk.store import notices

        _notify(ctx, [dict(r) for r in rows], notices.told(ctx.tx, "sla"))


def _notify(ctx: Ctx, breaches: list[dict[str, Any]], told: set[tuple[int, int]]) -> int:
    from leaddesk.store import notices

    if not breaches:
        return 0
    recipients = notices.recipients(ctx.tx, ctx.settings.sla.escalate_to)
    cal = calendar(ctx.settings)
    rows: list[dict[str, Any]] = []
    for lead in breaches:
        text = notice_text(lead, cal)
        rows.extend({"u": user, "l": lead["id"], "k": "sla", "t": text, "at": ctx.at}
                    for user in recipients if (user, lead["id"]) not in told)
    notices.add(ctx.tx, rows)
    return len(rows)


def notice_text(lead: dict[str, Any], cal: Calendar) -> str:
    """One line for a manager: which lead, whose, due when (local time)."""
    name = lead.get("contact_name") or lead.get("company") or ""
    due = cal.local(parse_stamp(lead["sla_due_at"])).strftime("%a %Y-%m-%d %H:%M")
    return (f"SLA breached: #{lead['number']} {name} (owner {lead.get('owner') or 'nobody'})"
            f" was not contacted by {due}")


# -- reading: breaches, the report, the recompute ------------------------------------------------------------
def breaches(tx: Tx, settings: Settings, owner: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Leads in breach, longest overdue first: number, name, owner, status, created_at, sla_due_at (stored
    UTC), `overdue_hours` (the working time since the due time), and for people `created`, `due` (local time)
    and `overdue` ("4h 30m")."""
    now = clock.stamp()
    params: dict[str, Any] = {"sla_now": now}
    sql = f"SELECT {BREACH_COLUMNS} WHERE {BREACHED}"
    if owner:
        sql += " AND u.login = :owner"
        params["owner"] = owner
    sql += " ORDER BY l.sla_due_at, l.number"
    if limit:
        sql += " LIMIT :n"
        params["n"] = limit
    cal = calendar(settings)
    found = []
    for r in tx.all(sql, params):
        overdue = working_hours(r["sla_due_at"], now, cal)
        found.append({"number": r["number"], "name": r["contact_name"] or r["company"] or "", "owner": r["owner"],
                      "status": r["status"], "created_at": r["created_at"], "sla_due_at": r["sla_due_at"],
                      "overdue_hours": round(overdue, 2), "created": local_text(r["created_at"], settings),
                      "due": local_text(r["sla_due_at"], settings), "overdue": hours_text(overdue)})
    return found


def report(tx: Tx, settings: Settings, since: str | None = None) -> dict[str, Any]:
    """Time to first contact (working hours) of the leads under an SLA that were contacted: count, median,
    p90, how many within their due time and the share; overall and per owner. Plus the open breaches and the
    uncontacted leads not yet due. `since` (a date) keeps the leads created from then on."""
    now = clock.stamp()
    params: dict[str, Any] = {"sla_now": now}
    created = ""
    if since:
        created = " AND l.created_at >= :since"
        params["since"] = since
    cal = calendar(settings)
    per_owner: dict[str, list[tuple[float, bool]]] = {}
    everyone: list[tuple[float, bool]] = []
    for r in tx.all("SELECT l.created_at, l.first_contact_at, l.sla_due_at, u.login AS owner FROM lead l"
                    " LEFT JOIN \"user\" u ON u.id = l.owner_id WHERE l.first_contact_at IS NOT NULL"
                    f" AND l.sla_due_at IS NOT NULL{created}", params):
        entry = (working_hours(r["created_at"], r["first_contact_at"], cal), r["first_contact_at"] <= r["sla_due_at"])
        everyone.append(entry)
        per_owner.setdefault(r["owner"] or "", []).append(entry)
    open_rows = tx.all("SELECT u.login AS owner, CASE WHEN l.sla_due_at < :sla_now THEN 1 ELSE 0 END AS late,"
                       " count(*) AS n FROM lead l LEFT JOIN \"user\" u ON u.id = l.owner_id"
                       f" WHERE l.first_contact_at IS NULL AND l.sla_due_at IS NOT NULL{created}"
                       " GROUP BY u.login, CASE WHEN l.sla_due_at < :sla_now THEN 1 ELSE 0 END", params)
    waiting: dict[str, dict[str, int]] = {}
    for r in open_rows:
        counts = waiting.setdefault(r["owner"] or "", {"breached": 0, "pending": 0})
        counts["breached" if r["late"] else "pending"] += int(r["n"])
    owners = sorted(set(per_owner) | set(waiting))
    return {
        "sla": describe(settings), "since": since,
        **_stats(everyone),
        "breached": sum(c["breached"] for c in waiting.values()),
        "pending": sum(c["pending"] for c in waiting.values()),
        "owners": [{"owner": o or None, **_stats(per_owner.get(o, [])),
                    **waiting.get(o, {"breached": 0, "pending": 0})} for o in owners],
    }


def _stats(entries: list[tuple[float, bool]]) -> dict[str, Any]:
    hours = sorted(h for h, _ in entries)
    within = sum(1 for _, ok in entries if ok)
    return {"contacted": len(hours), "median_hours": round(_percentile(hours, 50), 2) if hours else None,
            "p90_hours": round(_percentile(hours, 90), 2) if hours else None, "within_sla": within,
            "share_within": round(within / len(hours), 4) if hours else None}


def _percentile(ordered: list[float], p: float) -> float:
    """The p-th percentile of sorted values (linear between the closest ranks; the median for p = 50)."""
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def recompute(ctx: Ctx) -> dict[str, int]:
    """Give open, uncontacted leads (e.g. created before the SLA existed) the due time of the current settings.
    First each lead without a first contact gets it from its timeline, where there is one (the first call,
    email or meeting a user logged; the first status change by hand); a lead in a later open status without
    one was contacted before it was entered (its creation). Then escalates the breaches nobody was told of.
    Returns {"contacted", "due", "breached", "notices"}."""
    if not ctx.settings.sla.enabled:
        raise RuleError("no SLA is set: give contact_within_hours in the [sla] table of the settings first")
    tx = ctx.tx
    contacted = _backfill_first_contact(ctx)
    hours, cal = ctx.settings.sla.contact_within_hours, calendar(ctx.settings)
    rows = tx.all("SELECT l.id, l.created_at, l.type_id, l.status_id FROM lead l JOIN status s ON s.id = l.status_id"
                  " WHERE s.category = 'open' AND l.first_contact_at IS NULL")
    initial: dict[int | None, int | None] = {}
    due_rows, later = [], []
    for r in rows:
        if r["type_id"] not in initial:
            initial[r["type_id"]] = initial_status(tx, r["type_id"])
        if r["status_id"] == initial[r["type_id"]]:
            due_rows.append({"i": r["id"], "d": due_stamp(r["created_at"] or ctx.at, hours, cal)})
        else:
            later.append({"i": r["id"]})
    if due_rows:
        tx.many("UPDATE lead SET sla_due_at = :d WHERE id = :i", due_rows)
    if later:
        tx.many("UPDATE lead SET first_contact_at = created_at, sla_due_at = NULL WHERE id = :i", later)
    breached = int(tx.scalar(f"SELECT count(*) FROM lead l WHERE {BREACHED}", {"sla_now": ctx.at}))
    written = escalate(ctx, everything=True)["notices"]
    return {"contacted": contacted + len(later), "due": len(due_rows), "breached": breached, "notices": written}


def _backfill_first_contact(ctx: Ctx) -> int:
    """First contacts from the timeline of the leads that have none: the earliest logged call/email/meeting
    by a user (not a captured email) or status change by hand."""
    found = ctx.tx.all(
        "SELECT x.lead_id, min(x.at) AS at FROM ("
        " SELECT a.lead_id, a.at FROM activity a JOIN lead l ON l.id = a.lead_id"
        " WHERE l.first_contact_at IS NULL AND a.kind IN ('call', 'email', 'meeting') AND a.user_id IS NOT NULL"
        " AND a.message_id IS NULL"
        " UNION ALL SELECT h.entity_id, h.at FROM history h JOIN lead l ON l.id = h.entity_id"
        " WHERE h.entity = 'lead' AND l.first_contact_at IS NULL AND h.field = 'status_id'"
        " AND h.action IN ('status', 'qualify', 'won', 'lost') AND h.origin <> 'import'"
        ") x GROUP BY x.lead_id")
    rows = [{"i": r["lead_id"], "at": r["at"]} for r in found]
    if rows:
        ctx.tx.many("UPDATE lead SET first_contact_at = CASE WHEN created_at > :at THEN created_at ELSE :at END"
                    " WHERE id = :i", rows)
    return len(rows)
