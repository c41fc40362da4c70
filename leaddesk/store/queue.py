"""Work-the-queue mode (issue 6): the next lead a rep should work, and the outcome of working it in one step.

**The queue** is the acting user's leads (everyone's with `everyone`, for managers) that need work now, in
this order (one SQL query, ORDER BY computed keys, paged by a keyset cursor):

0. overdue follow-ups, oldest first;
1. follow-ups due today, by time (untimed ones last);
2. SLA breaches (never contacted, `sla_due_at` passed), the oldest due first;
3. never-contacted leads, the oldest first;
4. the rest, by total score (`auto_score + score`) descending.

Buckets 2-4 hold open leads with no follow-up at all: a lead whose follow-up is later than today is planned
and stays out of the queue until that day. Qualified leads (they have a deal) come only with a follow-up due.
Every item carries its `cursor` ([bucket, key, score key, number]); `page(..., after=cursor)` continues after
it, so a screen moves on even when the lead it just worked left the queue.

**Outcomes** (`OUTCOMES`, a table: change it there) each log an activity (`leads.add_activity`), apply a status
found by name in the catalog (never by id) with the checks of a hand-picked status (`rules.check_pick`, the lead
type's allowed statuses; when the desk has no such status, the type does not allow it or it is not "later",
the status stays and the outcome says so), schedule the next follow-up (read as `followups` reads it; a running
nurture sequence moves on through `sequences.followup_done`) and say what they did. All in the caller's one
transaction, as one change of the lead (one version bump, history rows with one change id: `leaddesk undo`
reverts it whole; the derived hooks run as for any change). "lost" goes through `leads.mark_lost` (a reason from
the lost-reasons list); "qualify" is the qualify wizard (`Desk.qualify`); "skip" changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leaddesk import clock
from leaddesk.settings import Settings
from leaddesk.store import catalog, sla
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError
from leaddesk.store.rules import StatusInfo, first_of, fold_name, resolve_name

BUCKETS = ("overdue", "today", "sla", "new", "score")
UNTIMED = "99:99"  # an untimed follow-up sorts after the timed ones of its day (as in the agenda)


@dataclass(frozen=True)
class Outcome:
    """One way a piece of work can end; the table `OUTCOMES` lists them in key order."""

    name: str
    """The id scripts use: `leaddesk work no-answer 42`."""
    key: str
    """The key in the queue screen."""
    label: str
    action: str = "log"
    """"log" (activity, status, follow-up), "lost" (mark lost with a reason), "qualify", "skip"."""
    activity: str | None = None
    """The activity kind logged (call, email, meeting), if any."""
    text: str = ""
    """The activity's text; "{date}" is the date given; the rep's note is added after a colon."""
    status: str | None = None
    """A status to move to, by name (folded: case, spaces, hyphens alike), when the desk has it."""
    status_when: str = "later"
    """"first": only from the lead's first open status; "later": only when later in order than the current."""
    followup: str | None = None
    """"+Nd" (days) or "+Nwd" (working days) from today; "date": the date the rep gives (may include a time);
    None: no new follow-up."""
    followup_note: str = ""
    asks: tuple[str, ...] = ()
    """What the rep is asked for: "date", "reason", "note"."""
    needs: tuple[str, ...] = ()
    """What must be given ("date" for a meeting, "reason" for lost)."""
    completes: bool = False
    """It is the due follow-up done: cleared when no new date is given; a running nurture sequence moves on."""

    def public(self) -> dict[str, Any]:
        """The outcome as plain data (for screens and --json)."""
        return {"name": self.name, "key": self.key, "label": self.label, "asks": list(self.asks),
                "needs": list(self.needs), "action": self.action}


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("no-answer", "1", "Called, no answer", activity="call", text="no answer",
            status="Attempted to contact", status_when="first", followup="+1wd", followup_note="call again",
            asks=("note",)),
    Outcome("reached", "2", "Called, reached", activity="call", text="reached", status="Contacted",
            status_when="later", followup="date", asks=("date", "note"), completes=True),
    Outcome("emailed", "3", "Emailed", activity="email", text="emailed", followup="+2wd",
            followup_note="check for a reply", asks=("note",), completes=True),
    Outcome("meeting", "4", "Meeting booked", activity="meeting", text="meeting booked for {date}",
            followup="date", followup_note="meeting", asks=("date", "note"), needs=("date",), completes=True),
    Outcome("lost", "5", "Not interested: lost", action="lost", asks=("reason", "note"), needs=("reason",)),
    Outcome("qualify", "6", "Qualify", action="qualify"),
    Outcome("skip", "7", "Skip", action="skip"),
)


def find_outcome(text: str) -> Outcome:
    """The outcome named (or keyed) by `text`: exactly, by a unique prefix, or by its key."""
    by_key = {o.key: o for o in OUTCOMES}
    if text.strip() in by_key:
        return by_key[text.strip()]
    name = resolve_name(text, [o.name for o in OUTCOMES], "outcome")
    return next(o for o in OUTCOMES if o.name == name)


# -- the queue ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Moment:
    """"Now" as the queue sees it: the local date and minute (follow-ups) and the UTC stamp (SLA)."""

    today: str
    minute: str
    stamp: str
    local: datetime

    @classmethod
    def now(cls, settings: Settings) -> Moment:
        local = clock.local_now(settings.timezone)
        return cls(local.date().isoformat(), local.strftime("%H:%M"), clock.stamp(), local)


def _ids(values: list[int]) -> str:
    return ", ".join(str(int(v)) for v in values) or "NULL"


def _queue_sql(tx: Tx, owner: int | None, everyone: bool, extra: str = "") -> tuple[str, dict[str, Any]]:
    """The queue as a subquery with columns id, number, qb (bucket), qk (text key), qs (score key); `extra` is
    one more condition on `lead l`.

    At 100k leads this reads every queued lead once (the score order has no index), in about 40 ms on SQLite:
    `+l.status_id` keeps SQLite from reaching 85k rows through the status index one by one (a plain scan is
    faster), and the subquery is not flattened into the outer query (LIMIT -1 / OFFSET 0), which would
    evaluate the CASE keys again for each comparison with the cursor."""
    statuses = catalog.statuses(tx)
    open_ids = _ids([s.id for s in statuses if s.category == "open"])
    qualified_ids = _ids([s.id for s in statuses if s.category == "qualified"])
    overdue = "(l.followup_on < :q_today OR (l.followup_on = :q_today AND l.followup_time < :q_minute))"
    due = "l.followup_on = :q_today"
    breach = f"({sla.BREACHED})"  # binds sla_now
    bucket = (f"CASE WHEN {overdue} THEN 0 WHEN {due} THEN 1 WHEN {breach} THEN 2"
              " WHEN l.first_contact_at IS NULL THEN 3 ELSE 4 END")
    key = (f"CASE WHEN {overdue} OR {due} THEN l.followup_on || ' ' || coalesce(l.followup_time, '{UNTIMED}')"
           f" WHEN {breach} THEN l.sla_due_at WHEN l.first_contact_at IS NULL THEN l.created_at ELSE '' END")
    score = (f"CASE WHEN l.followup_on IS NULL AND NOT {breach} AND l.first_contact_at IS NOT NULL"
             " THEN -(coalesce(l.auto_score, 0) + coalesce(l.score, 0)) ELSE 0 END")
    where = [f"((+l.status_id IN ({open_ids}) AND (l.followup_on IS NULL OR l.followup_on <= :q_today))"
             f" OR (+l.status_id IN ({qualified_ids}) AND l.followup_on <= :q_today))"]
    params: dict[str, Any] = {}
    if not everyone:
        where.append("l.owner_id = :q_owner")
        params["q_owner"] = owner if owner is not None else -1
    if extra:
        where.append(extra)
    fence = " LIMIT -1" if tx.dialect == "sqlite" else " OFFSET 0"
    sql = (f"SELECT l.id, l.number, {bucket} AS qb, {key} AS qk, {score} AS qs FROM lead l"
           f" WHERE {' AND '.join(where)}{fence}")
    return sql, params


def _moment_params(moment: Moment) -> dict[str, Any]:
    return {"q_today": moment.today, "q_minute": moment.minute, "sla_now": moment.stamp}


def _cursor_params(cursor: list[Any] | tuple[Any, ...]) -> dict[str, Any]:
    if len(cursor) != 4:
        raise RuleError("a queue cursor is [bucket, key, score, number]")
    try:
        return {"c_b": int(cursor[0]), "c_k": str(cursor[1]), "c_s": int(cursor[2]), "c_n": int(cursor[3])}
    except (TypeError, ValueError):
        raise RuleError("a queue cursor is [bucket, key, score, number]") from None


AFTER = ("(q.qb > :c_b OR (q.qb = :c_b AND (q.qk > :c_k OR (q.qk = :c_k AND (q.qs > :c_s"
         " OR (q.qs = :c_s AND q.number > :c_n))))))")
BEFORE = ("(q.qb < :c_b OR (q.qb = :c_b AND (q.qk < :c_k OR (q.qk = :c_k AND (q.qs < :c_s"
          " OR (q.qs = :c_s AND q.number < :c_n))))))")


def owner_id(tx: Tx, login: str) -> int | None:
    """The acting user's id (None: not a user yet, who owns nothing)."""
    found = tx.scalar("SELECT id FROM \"user\" WHERE login = :l", {"l": login})
    return None if found is None else int(found)


def page(tx: Tx, settings: Settings, owner: int | None, *, everyone: bool = False, limit: int = 50,
         after: list[Any] | tuple[Any, ...] | None = None, back: bool = False,
         moment: Moment | None = None) -> list[dict[str, Any]]:
    """Up to `limit` queue rows after `cursor` (before it, nearest first, with `back`): each {id, number,
    bucket, cursor}."""
    moment = moment or Moment.now(settings)
    inner, params = _queue_sql(tx, owner, everyone)
    params.update(_moment_params(moment), q_limit=max(1, int(limit)))
    where = ""
    if after is not None:
        params.update(_cursor_params(after))
        where = f" WHERE {BEFORE if back else AFTER}"
    order = "DESC" if back else "ASC"
    rows = tx.all(f"SELECT q.id, q.number, q.qb, q.qk, q.qs FROM ({inner}) q{where}"
                  f" ORDER BY q.qb {order}, q.qk {order}, q.qs {order}, q.number {order} LIMIT :q_limit", params)
    return [{"id": int(r["id"]), "number": int(r["number"]), "bucket": BUCKETS[int(r["qb"])],
             "cursor": [int(r["qb"]), str(r["qk"]), int(r["qs"]), int(r["number"])]} for r in rows]


def cursor_of(tx: Tx, settings: Settings, lead_id: int, owner: int | None, *, everyone: bool = False,
              moment: Moment | None = None) -> list[Any] | None:
    """Where a lead sits in the queue now (its cursor), or None when it is not in it."""
    moment = moment or Moment.now(settings)
    inner, params = _queue_sql(tx, owner, everyone, "l.id = :q_id")
    params.update(_moment_params(moment), q_id=lead_id)
    row = tx.one(f"SELECT q.qb, q.qk, q.qs, q.number FROM ({inner}) q", params)
    if row is None:
        return None
    return [int(row["qb"]), str(row["qk"]), int(row["qs"]), int(row["number"])]


def position(tx: Tx, settings: Settings, owner: int | None, cursor: list[Any] | tuple[Any, ...], *,
             everyone: bool = False, moment: Moment | None = None) -> tuple[int, int]:
    """(1-based position of the lead at `cursor`, how many leads the queue holds), in one query."""
    moment = moment or Moment.now(settings)
    inner, params = _queue_sql(tx, owner, everyone)
    params.update(_moment_params(moment))
    params.update(_cursor_params(cursor))
    row = tx.one(f"SELECT count(*) AS total, sum(CASE WHEN {BEFORE} THEN 1 ELSE 0 END) AS ahead"
                 f" FROM ({inner}) q", params)
    assert row is not None
    return int(row["ahead"] or 0) + 1, int(row["total"] or 0)


def count(tx: Tx, settings: Settings, owner: int | None, *, everyone: bool = False) -> int:
    """How many leads the queue holds."""
    inner, params = _queue_sql(tx, owner, everyone)
    params.update(_moment_params(Moment.now(settings)))
    return int(tx.scalar(f"SELECT count(*) FROM ({inner}) q", params) or 0)


# -- describing an item ---------------------------------------------------------------------------------
ITEM_SQL = (
    "SELECT l.id, l.number, l.title, l.contact_name, l.company, l.phone, l.email, l.followup_on, l.followup_time,"
    " l.followup_note, l.score, l.auto_score, l.first_contact_at, l.sla_due_at, l.created_at, l.version,"
    " l.priority, s.name AS status, s.category AS status_category, u.login AS owner, src.name AS source"
    " FROM lead l JOIN status s ON s.id = l.status_id LEFT JOIN \"user\" u ON u.id = l.owner_id"
    " LEFT JOIN source src ON src.id = l.source_id WHERE l.id = :i"
)


def short_day(day: date) -> str:
    """"Nov 24"."""
    return f"{day:%b} {day.day}"


def _parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ago(seconds: float) -> str:
    """A duration for people: "5 min", "2h", "3d"."""
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // (24 * 60)}d"


def sla_state(first_contact_at: str | None, sla_due_at: str | None, moment: Moment) -> str:
    """The SLA in words: "breached 2h ago", "due in 3h", "met", "late (contacted 1h after)" or "" (no SLA)."""
    if not sla_due_at:
        return ""
    if first_contact_at:
        if first_contact_at > sla_due_at:
            late = (_parse_stamp(first_contact_at) - _parse_stamp(sla_due_at)).total_seconds()
            return f"late (contacted {ago(late)} after)"
        return "met"
    delta = (_parse_stamp(moment.stamp) - _parse_stamp(sla_due_at)).total_seconds()
    return f"breached {ago(delta)} ago" if delta > 0 else f"due in {ago(-delta)}"


def reasons(row: dict[str, Any], bucket: str, moment: Moment) -> list[str]:
    """Why a lead is in the queue, the reason that placed it first: "follow-up overdue since Nov 24",
    "SLA breached 2h ago", "never contacted (added Nov 20)", "nothing planned, score 42"."""
    out: list[str] = []
    when = row["followup_on"]
    if bucket == "overdue" and when:
        day = date.fromisoformat(when)
        at = f" {row['followup_time']}" if row["followup_time"] else ""
        since = at.strip() if when == moment.today else short_day(day) + at
        out.append(f"follow-up overdue since {since}")
    elif bucket == "today":
        out.append("follow-up due today" + (f" at {row['followup_time']}" if row["followup_time"] else ""))
    state = sla_state(row["first_contact_at"], row["sla_due_at"], moment)
    if state.startswith("breached"):
        out.append(f"SLA {state}")
    if not row["first_contact_at"]:
        added = short_day(date.fromisoformat(row["created_at"][:10])) if row["created_at"] else "?"
        out.append(f"never contacted (added {added})")
    if bucket == "score":
        out.append(f"nothing planned, score {total_score(row)}")
    return out


def total_score(row: dict[str, Any]) -> int:
    """The automatic score plus the manual one."""
    return int(row.get("auto_score") or 0) + int(row.get("score") or 0)


def item(tx: Tx, settings: Settings, found: dict[str, Any], moment: Moment, *, activities: int = 3
         ) -> dict[str, Any]:
    """A queue row (from `page`) as the screen shows it: the lead's compact card, why it is here, its last
    activities."""
    row = tx.one(ITEM_SQL, {"i": found["id"]})
    assert row is not None
    lead = dict(row)
    from leaddesk.store.followups import describe

    lead["followup"] = describe(lead["followup_on"], lead["followup_time"], moment.local)
    lead["sla"] = sla_state(lead["first_contact_at"], lead["sla_due_at"], moment)
    lead["total_score"] = total_score(lead)
    lead["bucket"] = found["bucket"]
    lead["cursor"] = found["cursor"]
    lead["reasons"] = reasons(lead, found["bucket"], moment)
    lead["activities"] = [] if activities <= 0 else [dict(a) for a in tx.all(
        "SELECT a.kind, a.body, a.at, u.login AS user FROM activity a LEFT JOIN \"user\" u ON u.id = a.user_id"
        " WHERE a.lead_id = :i ORDER BY a.at DESC, a.id DESC LIMIT :n", {"i": found["id"], "n": activities})]
    return lead


# -- outcomes -------------------------------------------------------------------------------------------
def workdays(settings: Settings) -> tuple[int, ...]:
    """The working days (0 = Monday) of the [sla] settings (Monday..Friday unless set)."""
    from leaddesk.settings import WEEKDAYS

    return tuple(WEEKDAYS.index(d) for d in settings.sla.working_days)


def add_working_days(day: date, n: int, days: tuple[int, ...]) -> date:
    """`n` working days after `day`."""
    if not days:
        return day + timedelta(days=n)
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() in days:
            n -= 1
    return day


def scheduled_day(spec: str, today: date, days: tuple[int, ...]) -> date:
    """The day an outcome's automatic follow-up ("+1d", "+2wd": working days) falls on."""
    match = re.fullmatch(r"\+(\d+)(wd|d)", spec)
    if match is None:
        raise RuleError(f"outcome follow-up '{spec}' must be +Nd or +Nwd")
    n = int(match.group(1))
    return add_working_days(today, n, days) if match.group(2) == "wd" else today + timedelta(days=n)


def _find_status(all_statuses: list[StatusInfo], name: str) -> StatusInfo | None:
    wanted = fold_name(name)
    return next((s for s in all_statuses if fold_name(s.name) == wanted), None)


def _status_move(ctx: Ctx, lead: dict[str, Any], outcome: Outcome) -> tuple[StatusInfo | None, str | None]:
    """The status the outcome moves the lead to (None: it stays), and a note when it stays for a reason
    the rep should hear (no such status, the type does not allow it)."""
    if outcome.status is None:
        return None, None
    all_statuses = catalog.statuses(ctx.tx)
    current = catalog.status_by_id(all_statuses, lead["status_id"])
    target = _find_status(all_statuses, outcome.status)
    if target is None:
        return None, f"this desk has no '{outcome.status}' status: the status stays {current.name}"
    if target.id == current.id or current.category != "open":
        return None, None
    allowed = catalog.allowed_statuses(ctx.tx, lead["type_id"])
    if outcome.status_when == "first":
        first = first_of("open", allowed or all_statuses)
        if first is None or current.id != first.id:
            return None, None
    elif target.position <= current.position:
        return None, None
    if target.category != "open" or not target.manual:
        return None, f"'{target.name}' cannot be picked by hand: the status stays {current.name}"
    if allowed and target.id not in {s.id for s in allowed}:
        kind = catalog.name_of(ctx.tx, "lead_type", lead["type_id"])
        return None, f"lead type '{kind}' does not allow '{target.name}': the status stays {current.name}"
    return target, None


def _followup_given(ctx: Ctx, when: str, note: str, today: date) -> dict[str, Any]:
    """The follow-up columns for a date the rep typed ("friday 10:00", "2026-12-01", "+3d")."""
    from leaddesk.store import followups
    from leaddesk.store.fields import parse_date

    day_text, time_text = followups.split_when(when)
    return {"followup_on": parse_date(day_text, "follow-up", today),
            "followup_time": followups.parse_time(time_text) if time_text is not None else None,
            "followup_note": followups._note(note)}


def _write(ctx: Ctx, lead: dict[str, Any], changes: dict[str, Any], action: str, bumped: bool) -> dict[str, Any]:
    """Write lead columns with history rows under `action`: through `leads._apply` when this change has not
    written the lead yet, else riding along in its version bump (one bump per change, as `lead_changes_since`
    expects; the same history rows and derived hooks)."""
    from leaddesk.store import derived, leads
    from leaddesk.store.context import as_text

    if not bumped:
        return leads._apply(ctx, lead, changes, action)
    diff = {k: v for k, v in changes.items() if as_text(lead.get(k)) != as_text(v)}
    if not diff:
        return lead
    sets = ", ".join(f"{col} = :{col}" for col in diff)
    ctx.tx.execute(f"UPDATE lead SET {sets}, updated_at = :_at WHERE id = :_id", {**diff, "_at": ctx.at,
                                                                                   "_id": lead["id"]})
    for col, value in diff.items():
        ctx.record("lead", lead["id"], action, col, lead.get(col), value)
    derived.lead_changed(ctx, lead["id"], action, diff)
    return {**lead, **diff, "updated_at": ctx.at}


def record(ctx: Ctx, lead: dict[str, Any], outcome: Outcome, *, note: str | None = None, when: str | None = None,
           reason: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
    """Record `outcome` on `lead` (a locked `load_lead` dict) in the caller's transaction, as one change (one
    version bump); returns what was done: {outcome, label, number, activity, status: {from, to} | None,
    followup: {on, time, note} | None, notes}.

    The follow-up: a date the rep gives (reached, meeting) replaces the current one; an automatic one (+1 working
    day after no answer, +2 after an email) too, except that an outcome that `completes` a due follow-up of a lead
    running a nurture sequence lets the sequence schedule its next step instead. An outcome that completes a
    due follow-up without giving a new date clears it."""
    from leaddesk.store import followups, leads, sequences
    from leaddesk.store.rules import check_allowed_for_type, check_pick

    leads.check_version(ctx, lead, expected_version)
    note = (note or "").strip() or None
    when = (when or "").strip() or None
    done: dict[str, Any] = {"outcome": outcome.name, "label": outcome.label, "number": lead["number"],
                            "activity": None, "status": None, "followup": None, "notes": []}
    if outcome.action in ("skip", "qualify"):
        raise RuleError(f"'{outcome.name}' is not recorded: skip changes nothing, and qualify is"
                        f" `leaddesk qualify {lead['number']}` (the wizard in the desk)")
    all_statuses = catalog.statuses(ctx.tx)
    current = catalog.status_by_id(all_statuses, lead["status_id"])
    if current.closed:
        raise RuleError(f"lead {lead['number']} is {current.name}: reopen it before working it")
    for need in outcome.needs:
        if need == "date" and not when:
            raise RuleError(f"'{outcome.label}' needs a date (e.g. tomorrow 10:00, friday, 2026-12-01)")
        if need == "reason" and not reason:
            names = ", ".join(catalog.names(ctx.tx, "lost_reason"))
            raise RuleError(f"'{outcome.label}' needs a reason: {names}")
    if when and "date" not in outcome.asks:
        raise RuleError(f"'{outcome.label}' takes no date: it schedules its own follow-up")
    if outcome.action == "lost":
        lead = leads.mark_lost(ctx, lead, reason, note)
        done["status"] = {"from": current.name, "to": catalog.status_by_id(all_statuses, lead["status_id"]).name}
        return done

    today = followups.local_now(ctx.settings).date()
    given = _followup_given(ctx, when, outcome.followup_note or note or "", today) if when else None
    if outcome.activity:  # after reading the date: a typo refuses the whole outcome before anything is written
        body = outcome.text.replace("{date}", when or "") + (f": {note}" if note else "")
        leads.add_activity(ctx, lead, outcome.activity, body)
        done["activity"] = f"{outcome.activity}: {body}"
    target, why = _status_move(ctx, lead, outcome)
    if why:
        done["notes"].append(why)
    bumped = False
    if target is not None:
        check_pick(current, target)
        check_allowed_for_type(target, None, catalog.allowed_statuses(ctx.tx, lead["type_id"]))
        lead = _write(ctx, lead, {"status_id": target.id}, "status", bumped)
        bumped = True
        done["status"] = {"from": current.name, "to": target.name}
    due = bool(lead.get("followup_on")) and str(lead["followup_on"]) <= today.isoformat()
    running = sequences.current(ctx.tx, lead["id"]) if outcome.completes and due else None
    cleared = {"followup_on": None, "followup_time": None, "followup_note": ""}
    if given is not None:
        lead = _write(ctx, lead, given, "followup", bumped)
        bumped = True
        if given["followup_on"] < today.isoformat():
            done["notes"].append(f"the follow-up {given['followup_on']} is in the past: it is overdue")
    elif outcome.followup not in (None, "date") and running is None:
        day = scheduled_day(outcome.followup, today, workdays(ctx.settings)).isoformat()
        lead = _write(ctx, lead, {"followup_on": day, "followup_time": None,
                                  "followup_note": outcome.followup_note}, "followup", bumped)
        bumped = True
    elif outcome.completes and due:
        lead = _write(ctx, lead, cleared, "followup", bumped)
        bumped = True
        if running is not None:
            lead = sequences.followup_done(ctx, lead)
            if lead.get("followup_on"):
                done["notes"].append(f"sequence '{running['sequence']}' scheduled its next step")
    if bumped:
        from leaddesk.store.refs import load_lead

        lead = load_lead(ctx.tx, lead["id"])
    if lead.get("followup_on"):
        done["followup"] = {"on": lead["followup_on"], "time": lead.get("followup_time"),
                            "note": lead.get("followup_note") or ""}
    elif outcome.completes:
        done["notes"].append("no follow-up planned")
    return done
