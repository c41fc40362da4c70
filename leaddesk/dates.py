"""Read the dates and times people type, and describe dates relative to today.

``parse_when`` reads follow-up dates, ``parse_datetime`` reads activity times
(``--at``) and ``format_relative`` turns a date into "tomorrow", "3 days overdue"...

This module is on the CLI hot path: ``re`` is imported only when a regex is needed
and patterns are compiled (and cached by ``re``) on first use.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs milliseconds
if TYPE_CHECKING:
    import re

__all__ = ["format_relative", "parse_datetime", "parse_when"]

DATE_FORMS = "YYYY-MM-DD, today, tomorrow, +3d, +2w, +1m, monday, next week, next month, eow"
DATETIME_FORMS = f"YYYY-MM-DD HH:MM, HH:MM, now, -2h, -30m, -1d, yesterday 15:00, or a date ({DATE_FORMS})"

_DEFAULT_TIME = time(9, 0)

_WEEKDAYS: dict[str, int] = {}
for _i, _name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")):
    _WEEKDAYS[_name] = _WEEKDAYS[_name[:3]] = _i

_DAY_UNITS = {"d": "days", "day": "days", "days": "days"}
_WEEK_UNITS = {"w": "weeks", "wk": "weeks", "wks": "weeks", "week": "weeks", "weeks": "weeks"}
_MONTH_UNITS = {"mo": "months", "mos": "months", "month": "months", "months": "months"}
# For dates a bare "m" is months (+1m); for times it is minutes (-30m).
_DATE_UNITS = {**_DAY_UNITS, **_WEEK_UNITS, **_MONTH_UNITS, "m": "months"}
_TIME_UNITS = {
    **_DAY_UNITS,
    **_WEEK_UNITS,
    **_MONTH_UNITS,
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
}

# ASCII digits only: \d would also accept Arabic-Indic and other Unicode digits.
_ISO_DATE = r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
_RELATIVE = r"(?P<in>in )?(?P<sign>[+-])?(?P<n>[0-9]{1,9}) ?(?P<unit>[a-z]+)(?P<ago> ago)?"
_WITH_TIME = (
    r"(?:at |(?P<date>.+?)(?: at | |(?<=[0-9])t))?"
    r"(?P<hh>[0-9]{1,2}):(?P<mm>[0-9]{2})(?::(?P<ss>[0-9]{2}))?"
)


def _fullmatch(pattern: str, s: str) -> re.Match[str] | None:
    import re  # deferred: keywords like "tomorrow" never need it

    return re.fullmatch(pattern, s)


def _show(text: str) -> str:
    """Quote user text for an error message: one line, escaped, not too long."""
    text = text.strip()
    if len(text) > 40:
        text = text[:39] + "…"
    return repr(text)


def _norm(text: str) -> str:
    """Lower-case and collapse all runs of whitespace to single spaces."""
    return " ".join(text.split()).lower()


def _add_months(d: date, months: int) -> date:
    """Shift ``d`` by whole months, clamping the day to the end of the target month."""
    year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
    month = month0 + 1
    last = 31 if month == 12 else (date(year, month + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


def _relative(s: str, units: dict[str, str]) -> tuple[int, str] | None:
    """Read ``+3d`` / ``-2w`` / ``3d`` / ``in 3 days`` / ``3 days ago`` as (signed amount, unit)."""
    m = _fullmatch(_RELATIVE, s)
    if m is None or m["unit"] not in units:
        return None
    # "in" and "ago" carry their own direction: don't mix them with a sign or each other.
    if sum(bool(g) for g in (m["in"], m["sign"], m["ago"])) > 1:
        return None
    n = int(m["n"])
    if m["sign"] == "-" or m["ago"]:
        n = -n
    return n, units[m["unit"]]


def _parse_date(s: str, today: date, original: str) -> date | None:
    """Parse normalised text ``s``; None if it isn't a date form, ValueError if it's an impossible one."""
    if s == "today":
        return today
    if s == "tomorrow":
        return today + timedelta(days=1)
    if s == "yesterday":
        return today - timedelta(days=1)
    if s in _WEEKDAYS:
        return today + timedelta(days=(_WEEKDAYS[s] - today.weekday() - 1) % 7 + 1)
    if s == "next week":
        return today + timedelta(days=(-today.weekday() - 1) % 7 + 1)
    if s == "next month":
        return _add_months(today.replace(day=1), 1)
    if s in ("eow", "end of week"):
        return today + timedelta(days=(4 - today.weekday()) % 7)

    m = _fullmatch(_ISO_DATE, s)
    if m is not None:
        try:
            return date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError as exc:
            raise ValueError(f"no such date {_show(original)}: {exc}") from None

    rel = _relative(s, _DATE_UNITS)
    if rel is None:
        return None
    n, unit = rel
    try:
        if unit == "months":
            return _add_months(today, n)
        return today + timedelta(**{unit: n})
    except (OverflowError, ValueError):
        raise ValueError(f"date {_show(original)} is out of range") from None


def parse_when(text: str, today: date) -> date:
    """Parse a typed follow-up date (``2026-12-01``, ``tomorrow``, ``+3d``, ``fri``, ``next week``...).

    Weekday names mean the next such day strictly after ``today``; ``+Nm`` is months,
    clamped to the end of shorter months. Raises ValueError with a one-line message.
    """
    s = _norm(text)
    if not s:
        raise ValueError(f"empty date: use {DATE_FORMS}")
    result = _parse_date(s, today, text)
    if result is None:
        raise ValueError(f"can't read date {_show(text)}: use {DATE_FORMS}")
    return result


def _shift(now: datetime, n: int, unit: str, original: str) -> datetime:
    """``now`` moved by a relative amount; hours/minutes are elapsed time, days and longer keep the clock."""
    try:
        if unit == "months":
            return datetime.combine(_add_months(now.date(), n), now.timetz())
        if unit in ("hours", "minutes") and now.tzinfo is not None:
            # Real elapsed time, correct across DST changes.
            utc = now.astimezone(UTC) + timedelta(**{unit: n})
            return utc.astimezone(now.tzinfo)
        return now + timedelta(**{unit: n})
    except (OverflowError, ValueError):
        raise ValueError(f"time {_show(original)} is out of range") from None


def _match_tz(value: datetime, now: datetime) -> datetime:
    """Give ``value`` the same tz-awareness (and zone) as ``now``."""
    if now.tzinfo is None:
        # An explicit offset on a naive clock: convert to local time, as naive ``now`` is.
        return value if value.tzinfo is None else value.astimezone().replace(tzinfo=None)
    if value.tzinfo is None:
        return value.replace(tzinfo=now.tzinfo)
    return value.astimezone(now.tzinfo)


def parse_datetime(text: str, now: datetime) -> datetime:
    """Parse a typed activity time (``now``, ``-2h``, ``-30m``, ``14:30``, ``yesterday 15:00``, ISO...).

    Relative amounts (``-2h``, ``-30m``, ``-1d``, ``+1mo``) move ``now``; note ``m`` means
    minutes here. Any ``parse_when`` date is accepted too, at 09:00 unless a time is given.
    The result is naive if ``now`` is naive, else aware in ``now``'s zone.
    """
    s = _norm(text)
    if not s:
        raise ValueError(f"empty time: use {DATETIME_FORMS}")
    if s == "now":
        return now

    rel = _relative(s, _TIME_UNITS)
    if rel is not None:
        return _shift(now, *rel, text)

    m = _fullmatch(_WITH_TIME, s)
    if m is not None:
        hh, mm, ss = int(m["hh"]), int(m["mm"]), int(m["ss"] or 0)
        if hh > 23 or mm > 59 or ss > 59:
            raise ValueError(f"no such time {_show(text)}: use 00:00 to 23:59")
        day = now.date() if m["date"] is None else parse_when(m["date"], now.date())
        return datetime.combine(day, time(hh, mm, ss), tzinfo=now.tzinfo)

    date_only = _parse_date(s, now.date(), text)
    if date_only is not None:
        return datetime.combine(date_only, _DEFAULT_TIME, tzinfo=now.tzinfo)

    # Full ISO 8601 with seconds fractions or a UTC offset, e.g. 2026-12-01T14:30:00.5+01:00.
    if _fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[t ].*", s):
        try:
            return _match_tz(datetime.fromisoformat(text.strip()), now)
        except (OverflowError, ValueError):
            pass
    raise ValueError(f"can't read time {_show(text)}: use {DATETIME_FORMS}")


def format_relative(d: date, today: date, *, overdue: bool = True) -> str:
    """Describe ``d`` relative to ``today``: "today", "tomorrow", "in 3 days", "2 days overdue".

    Past dates read "1 day overdue" / "N days overdue" (follow-ups); with
    ``overdue=False`` they read "yesterday" / "N days ago" instead (activities).
    """
    if isinstance(d, datetime):
        d = d.date()
    if isinstance(today, datetime):
        today = today.date()
    days = (d - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days > 1:
        return f"in {days} days"
    if not overdue:
        return "yesterday" if days == -1 else f"{-days} days ago"
    return "1 day overdue" if days == -1 else f"{-days} days overdue"
