"""The one clock of the application, so tests and demos can fix "now".

`LEADDESK_NOW` (ISO timestamp, read as UTC) freezes the clock for a process.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, tzinfo

_frozen: datetime | None = None


def freeze(moment: datetime | None) -> None:
    """Fix the clock to `moment` (aware or naive UTC); None unfreezes."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    _frozen = moment


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    if _frozen is not None:
        return _frozen
    fixed = os.environ.get("LEADDESK_NOW")
    if fixed:
        moment = datetime.fromisoformat(fixed)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def today() -> date:
    """Today's date where the user is (UTC when the clock is frozen)."""
    if _frozen is not None or os.environ.get("LEADDESK_NOW"):
        return now().date()
    return date.today()


def stamp(moment: datetime | None = None) -> str:
    """An ISO timestamp `YYYY-MM-DDTHH:MM:SS` in UTC, as stored in the database."""
    moment = moment or now()
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def zone(name: str | None = None) -> tzinfo:
    """The time zone `name` (IANA, e.g. "Europe/Rome", as in the `timezone` setting); without a name, the
    system's local zone (UTC while the clock is fixed, as for `today`)."""
    if name:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    if _frozen is not None or os.environ.get("LEADDESK_NOW"):
        return UTC
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else UTC


def local_now(name: str | None = None) -> datetime:
    """Now in the time zone `name` (see `zone`)."""
    return now().astimezone(zone(name))
