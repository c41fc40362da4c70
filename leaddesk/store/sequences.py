"""Nurture sequences (issue 6): a named list of follow-up steps from the settings, running on a lead.

The follow-ups code calls `followup_done` when a rep marks a lead's follow-up done; a running sequence then
schedules its next step.
"""

from __future__ import annotations

from typing import Any

from leaddesk.store.context import Ctx


def followup_done(ctx: Ctx, lead: dict[str, Any]) -> dict[str, Any]:
    """A lead's follow-up was done: schedule the next step of its running sequence, if any; the lead as it is
    now (unchanged when no sequence runs)."""
    return lead
