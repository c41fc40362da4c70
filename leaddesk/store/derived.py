"""What follows from a change to a lead, in the same transaction: the columns derived from the lead and its
timeline (the automatic score, the SLA's due time and first contact) and what a change starts (a nurture
sequence). `leads.py` and the import call these hooks; each capability of issue 6 adds its call here, so
that every path that changes a lead (CLI, TUI, import, capture, intake) keeps them up to date.

Derived columns are written with a plain UPDATE: no version bump and no history row (like `search_text`),
since they are not anybody's edit.
"""

from __future__ import annotations

from typing import Any

from leaddesk import clock
from leaddesk.store.context import Ctx


def lead_changed(ctx: Ctx, lead_id: int, what: str, changes: dict[str, Any] | None = None) -> None:
    """After a lead was created (`what` = "create"), edited or changed status ("edit", "status", ... the history
    action), or got an activity ("activity:KIND"); `changes` holds the columns written, when known."""
    if ctx.origin != "import":  # the search index: the leads the triggers queued (this one, a merged one, ...)
        from leaddesk.store import search

        search.sync(ctx.tx)  # (an import syncs once at its end: see search.sync)
    if changes and what != "create" and ("status_id" in changes or "followup_on" in changes):
        from leaddesk.store import sequences  # a status change starts or stops a nurture sequence

        sequences.lead_changed(ctx, lead_id, what, changes)
    if what == "create" or what.startswith("activity:") or (changes and "status_id" in changes):
        from leaddesk.store import sla  # the SLA's due time, the first contact

        sla.lead_changed(ctx, lead_id, what, changes)
    if ctx.settings.score.enabled:  # last: the other hooks may change what the rules read
        from leaddesk.store import scoring

        scoring.lead_changed(ctx.tx, ctx.settings.score, lead_id, clock.today())


def leads_importing(ctx: Ctx, rows: list[dict[str, Any]]) -> str | None:
    """Before an import inserts a chunk of new lead rows: what `lead_changed(..., "create")` would write that
    can go in the rows themselves (the SLA's due time, the first contact). Returns what `leads_imported` needs
    back (the earliest due time set)."""
    from leaddesk.store import sla

    return sla.stamp_imported(ctx, rows)


def leads_imported(ctx: Ctx, first_number: int, last_number: int, earliest_due: str | None) -> None:
    """After an import inserted the leads numbered first..last (one chunk, stamped by `leads_importing`): the
    rest of `lead_changed(..., "create")` for each of them, in bulk. The search index: once, at the end of the
    import (importing.run_import; see search.sync)."""
    from leaddesk.store import sla

    sla.leads_imported(ctx, first_number, last_number, earliest_due)
    if ctx.settings.score.enabled:
        from leaddesk.store import scoring

        scoring.leads_imported(ctx.tx, ctx.settings.score, first_number, last_number, clock.today())
