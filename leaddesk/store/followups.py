"""Follow-ups (issue 6): a date, an optional time and note on a lead; due, overdue, done; the agenda.

Dates and times are the desk's local time (the `timezone` setting, else the system's zone): `followup_on`
is "YYYY-MM-DD", `followup_time` "HH:MM" or NULL (any time that day), `followup_note` text ('' for none).
A follow-up is **overdue** once its moment has passed: from the day after its date, or, with a time, from the
minute after it on its date (14:30 comes due at 14:30 and is overdue from 14:31).
Only open leads (open and qualified statuses) have follow-ups that are due or overdue.

Setting a follow-up changes what is given and keeps the rest: a new date keeps the time and the note unless
they are given too ("" or "none" clears them). Clearing the date clears all three; `mark_done` logs a note
"follow-up done: NOTE", clears the follow-up and lets a running sequence schedule its next step.

The agenda (the TUI screen and `leaddesk followups`) lists open leads with a follow-up in time order (the
day, then its time, untimed last, then the lead number), filtered, counted and paged in SQL with the list's
`LeadFilter`; `agenda_groups` counts the rows of each day group (Overdue, Today, Tomorrow, the next five
days by name, Later) with one GROUP BY, so a screen can draw group headings over pages it loads later.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from leaddesk import clock
from leaddesk.settings import Settings
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError

TIME_FORMS = "14:30, 9:05, 2pm, 2:30pm, 14h"
CLEAR_WORDS = ("none", "clear", "-")
FOLLOWUP_COLUMNS = ("followup_on", "followup_time", "followup_note")
AGENDA_DAYS = 7
"""Days the agenda names one by one (today, tomorrow and five weekdays); later ones are grouped as Later."""
UNTIMED = "99:99"
"""Sorts a follow-up without a time after the timed ones of its day."""


# -- reading what people type ---------------------------------------------------------------------
def _show(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= 40 else text[:39] + "…")


def parse_time(text: str, label: str = "follow-up time") -> str:
    """A time of day as typed (14:30, 9:05, 1430, 2pm, 2:30 pm, 14h, noon) as "HH:MM"; RuleError otherwise."""
    s = "".join(str(text).split()).casefold().replace(".", ":")
    if s == "noon":
        return "12:00"
    if s == "midnight":
        return "00:00"
    suffix = ""
    for end in ("am", "pm", "a", "p"):
        if s.endswith(end):
            s, suffix = s[: -len(end)], end[0]
            break
    if not suffix and s.endswith("h"):
        s = s[:-1]
    hours, sep, minutes = s.partition(":")
    if not sep and len(s) in (3, 4) and not suffix:
        hours, minutes = s[:-2], s[-2:]
    ok = hours.isascii() and hours.isdigit() and len(hours) <= 2 and (
        minutes == "" or (minutes.isascii() and minutes.isdigit() and len(minutes) == 2))
    if ok and (not sep or minutes):
        hour, minute = int(hours), int(minutes or 0)
        if suffix:
            if not 1 <= hour <= 12:
                ok = False
            hour = hour % 12 + (12 if suffix == "p" else 0)
        if ok and hour <= 23 and minute <= 59:
            return f"{hour:02d}:{minute:02d}"
    raise RuleError(f"{label}: can't read time {_show(str(text))}: use {TIME_FORMS}")


def looks_like_time(word: str) -> bool:
    """Is `word` meant as a time of day (has a colon, or ends in am/pm, or is noon)?"""
    w = word.casefold()
    return ":" in w or w in ("noon", "midnight") or (
        w[:1].isdigit() and (w.endswith(("am", "pm")) or (w.endswith("h") and w[:-1].isdigit())))


def split_when(text: str) -> tuple[str, str | None]:
    """Split a typed follow-up into its date and time: "tomorrow 14:30", "fri at 2pm", "14:30" (today)."""
    words = text.split()
    if not words or not looks_like_time(words[-1]):
        return text, None
    rest = words[:-1]
    if rest and rest[-1].casefold() == "at":
        rest = rest[:-1]
    return " ".join(rest) or "today", words[-1]


# -- time in the desk's zone ----------------------------------------------------------------------
def local_now(settings: Settings) -> datetime:
    """Now in the desk's time zone (the `timezone` setting, else the system's)."""
    return clock.local_now(settings.timezone)


def due_state(followup_on: str | None, followup_time: str | None, now: datetime) -> str | None:
    """Where a follow-up stands at `now` (local): "overdue", "today" (today, not yet past), "upcoming",
    or None without one. Whether the lead is open is the caller's question."""
    if not followup_on:
        return None
    today, now_hm = now.date().isoformat(), now.strftime("%H:%M")
    if followup_on < today or (followup_on == today and followup_time is not None and followup_time < now_hm):
        return "overdue"
    return "today" if followup_on == today else "upcoming"


def describe(followup_on: str | None, followup_time: str | None, now: datetime, *, with_time: bool = True) -> str:
    """A follow-up in words: "tomorrow at 14:30", "in 3 days", "2 days overdue", "today at 09:00, overdue"
    (without the time when `with_time` is off: "today, overdue")."""
    if not followup_on:
        return "no follow-up"
    from leaddesk.dates import format_relative

    words = format_relative(date.fromisoformat(followup_on), now.date())
    if followup_time and with_time:
        words += f" at {followup_time}"
    if followup_on == now.date().isoformat() and due_state(followup_on, followup_time, now) == "overdue":
        words += ", overdue"
    return words


def day_label(bucket: str, today: date) -> str:
    """An agenda group's heading: Overdue, Today, Tomorrow, "Monday 30 Nov", Later."""
    if bucket == "overdue":
        return "Overdue"
    if bucket == "later":
        return "Later"
    day = date.fromisoformat(bucket)
    if day == today:
        return "Today"
    if day == today + timedelta(days=1):
        return "Tomorrow"
    return f"{day:%A} {day.day} {day:%b}"


# -- writing ----------------------------------------------------------------------------------------
def _cleared(value: str | None) -> bool:
    return value is not None and value.strip().casefold() in ("", *CLEAR_WORDS)


def set_followup(ctx: Ctx, lead: dict[str, Any], when: Any, *, at: str | None = None, note: str | None = None,
                 expected_version: int | None = None) -> dict[str, Any]:
    """Set a lead's follow-up: `when` a date as typed (relative to today in the desk's zone), possibly with a
    time ("tomorrow 14:30"); `at` the time, `note` the note (None keeps them, "" or "none" clears them).
    `when` None, "" or none/clear/- clears the follow-up (date, time and note). A past date is accepted."""
    from leaddesk.store.fields import parse_date
    from leaddesk.store.leads import _apply, check_version

    check_version(ctx, lead, expected_version)
    text = when.isoformat() if isinstance(when, date) else ("" if when is None else str(when))
    if _cleared(text):
        if (at is not None and not _cleared(at)) or (note is not None and note.strip()):
            raise RuleError("a follow-up time or note needs a follow-up date")
        return _apply(ctx, lead, dict.fromkeys(FOLLOWUP_COLUMNS[:2]) | {"followup_note": ""}, "followup")
    day_text, time_text = split_when(text)
    if time_text is not None and at is not None:
        raise RuleError(f"give the follow-up time once: {_show(time_text)} in the date, or --at")
    changes: dict[str, Any] = {"followup_on": parse_date(day_text, "follow-up", local_now(ctx.settings).date())}
    time_given = time_text if time_text is not None else at
    if time_given is not None:
        changes["followup_time"] = None if _cleared(time_given) else parse_time(time_given)
    if note is not None:
        changes["followup_note"] = _note(note)
    return _apply(ctx, lead, changes, "followup")


def _note(text: str) -> str:
    if "\x00" in text:
        raise RuleError("the follow-up note contains a NUL character")
    note = text.strip()
    if note.casefold() in CLEAR_WORDS:
        return ""
    if len(note) > 1000:
        raise RuleError(f"the follow-up note is too long ({len(note)} characters; the limit is 1000)")
    return note


def mark_done(ctx: Ctx, lead: dict[str, Any], note: str | None = None,
              expected_version: int | None = None) -> dict[str, Any]:
    """A follow-up was done: log a note "follow-up done: NOTE" (the note given, else the follow-up's own),
    clear the follow-up and let a running sequence schedule its next step. Refused without a follow-up."""
    from leaddesk.store import sequences
    from leaddesk.store.leads import _apply, add_activity, check_version

    check_version(ctx, lead, expected_version)
    if not lead.get("followup_on"):
        raise RuleError(f"lead {lead['number']} has no follow-up to mark done")
    said = _note(note) if note is not None else ""
    said = said or (lead.get("followup_note") or "")
    add_activity(ctx, lead, "note", "follow-up done" + (f": {said}" if said else ""))
    lead = _apply(ctx, lead, dict.fromkeys(FOLLOWUP_COLUMNS[:2]) | {"followup_note": ""}, "followup")
    return sequences.followup_done(ctx, lead)


def settle_edit(lead: dict[str, Any], changes: dict[str, Any]) -> None:
    """The follow-up rules for a field edit (`edit_lead`, the card's form): without a date there is no time
    or note (clearing the date clears them; giving one without a date is refused)."""
    if not any(column in changes for column in FOLLOWUP_COLUMNS):
        return
    if changes.get("followup_on", lead.get("followup_on")) is None:
        if changes.get("followup_time") or changes.get("followup_note"):
            raise RuleError("a follow-up time or note needs a follow-up date")
        if lead.get("followup_time") is not None or "followup_time" in changes:
            changes["followup_time"] = None
        if lead.get("followup_note") or "followup_note" in changes:
            changes["followup_note"] = ""


# -- the agenda -------------------------------------------------------------------------------------
def agenda_filter(flt: Any) -> Any:
    """The agenda's version of a lead filter: open leads with a follow-up (in its `due` window, if any)."""
    return replace(flt, state="open", due=flt.due or "any")


def _agenda_where(tx: Tx, settings: Settings, flt: Any, login: str) -> tuple[str, dict[str, Any]]:
    from leaddesk.store.queries import _where

    return _where(tx, settings, agenda_filter(flt), login)


def agenda(tx: Tx, settings: Settings, flt: Any, login: str) -> list[dict[str, Any]]:
    """A page of the agenda (`flt.limit`, `flt.offset`): the list's columns plus followup_time,
    followup_note, `due` (see `due_state`), `bucket` (the day group's key: "overdue", a date, "later") and
    `day` (its heading)."""
    from leaddesk.store.queries import LIST_COLUMNS, LIST_JOINS

    where, params = _agenda_where(tx, settings, flt, login)
    sql = (f"SELECT {LIST_COLUMNS}, l.followup_time, l.followup_note{LIST_JOINS}{where}"
           f" ORDER BY l.followup_on, coalesce(l.followup_time, '{UNTIMED}'), l.number")
    if flt.limit is not None:
        sql += " LIMIT :limit OFFSET :offset"
        params.update(limit=flt.limit, offset=flt.offset)
    now = local_now(settings)
    later = (now.date() + timedelta(days=AGENDA_DAYS)).isoformat()
    rows = [dict(r) for r in tx.all(sql, params)]
    for row in rows:
        row["due"] = due_state(row["followup_on"], row["followup_time"], now)
        row["bucket"] = "overdue" if row["due"] == "overdue" else (
            "later" if row["followup_on"] >= later else row["followup_on"])
        row["day"] = day_label(row["bucket"], now.date())
    return rows


def agenda_groups(tx: Tx, settings: Settings, flt: Any, login: str) -> list[dict[str, Any]]:
    """The agenda's day groups in order, each {"bucket", "label", "count", "offset"} (offset: its first row's
    position in the agenda), counted in one query; empty groups are left out."""
    from leaddesk.store.queries import _from

    where, params = _agenda_where(tx, settings, flt, login)
    now = local_now(settings)
    params.update(g_today=now.date().isoformat(), g_now=now.strftime("%H:%M"),
                  g_later=(now.date() + timedelta(days=AGENDA_DAYS)).isoformat())
    bucket = ("CASE WHEN l.followup_on < :g_today OR (l.followup_on = :g_today AND l.followup_time < :g_now)"
              " THEN '0' WHEN l.followup_on >= :g_later THEN '9' ELSE l.followup_on END")
    rows = tx.all(f"SELECT {bucket} AS bucket, count(*) AS n{_from('s.', where)}{where} GROUP BY {bucket}",
                  params)
    groups, offset = [], 0
    for key, count in sorted((str(r[0]), int(r[1])) for r in rows):
        name = {"0": "overdue", "9": "later"}.get(key, key)
        groups.append({"bucket": name, "label": day_label(name, now.date()), "count": count, "offset": offset})
        offset += count
    return groups


# -- reminders --------------------------------------------------------------------------------------
def reminders(tx: Tx, settings: Settings, login: str, since: str | None) -> dict[str, Any]:
    """The acting user's follow-ups (open leads they own) for the desk's reminders: `overdue` and `today`
    (due later today) counts, and `coming`, the timed ones that came due after local time `since`
    ("YYYY-MM-DDTHH:MM", exclusive) up to now (inclusive), none when `since` is None. `until` is now's
    minute: pass it back as the next `since`."""
    now = local_now(settings)
    today, now_hm = now.date().isoformat(), now.strftime("%H:%M")
    user = tx.scalar("SELECT id FROM \"user\" WHERE login = :l", {"l": login})
    result: dict[str, Any] = {"overdue": 0, "today": 0, "coming": [], "until": f"{today}T{now_hm}"}
    if user is None:
        return result
    params = {"u": user, "today": today, "now_hm": now_hm}
    open_ = ("l.status_id IN (SELECT id FROM status WHERE category IN ('open', 'qualified'))")
    counts = tx.one(
        "SELECT sum(CASE WHEN l.followup_on < :today OR l.followup_time < :now_hm THEN 1 ELSE 0 END) AS overdue,"
        " count(*) AS due FROM lead l"
        f" WHERE l.owner_id = :u AND l.followup_on <= :today AND {open_}", params)
    if counts is not None:
        result["overdue"] = int(counts["overdue"] or 0)
        result["today"] = int(counts["due"] or 0) - result["overdue"]
    if since:
        start_day, _, start_hm = since.partition("T")
        params.update(d0=start_day, t0=start_hm)
        rows = tx.all(
            "SELECT l.number, l.contact_name, l.company, l.followup_on, l.followup_time, l.followup_note"
            " FROM lead l WHERE l.owner_id = :u AND l.followup_time IS NOT NULL"
            " AND l.followup_on >= :d0 AND l.followup_on <= :today"
            " AND (l.followup_on > :d0 OR l.followup_time > :t0)"
            " AND (l.followup_on < :today OR l.followup_time <= :now_hm)"
            f" AND {open_} ORDER BY l.followup_on, l.followup_time, l.number LIMIT 20", params)
        result["coming"] = [dict(r) for r in rows]
    return result
