"""The command palette's lead finder: type a number, name, company, phone or email."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from leaddesk.store.queries import LeadFilter
from leaddesk.textsafe import safe_line

if TYPE_CHECKING:
    from leaddesk.app import LeadDeskApp


class LeadFinder(Provider):
    """Finds leads through the same search as the list (SQL, first page only)."""

    async def search(self, query: str) -> Hits:
        app: LeadDeskApp = self.app  # type: ignore[assignment]
        if app.desk is None or app.is_partner or len(query.strip()) < 2:  # a partner finds no leads
            return
        desk = app.desk
        flt = LeadFilter(search=query.strip(), limit=8, sort="updated", descending=True)
        rows = await asyncio.to_thread(desk.list_leads, flt)
        for row in rows:
            label = f"#{row['number']} {safe_line(row['contact_name'] or row['company'] or '')}"
            if row["company"] and row["contact_name"]:
                label += f" · {safe_line(row['company'])}"
            yield Hit(1.0, Text(label), partial(app.open_lead, row["number"]),
                      text=label, help=f"{row['status']} · {safe_line(row['email'] or row['phone'] or '')}")

    async def discover(self) -> Hits:
        if getattr(self.app, "is_partner", False):
            return
        yield DiscoveryHit("lead: new", self.app.new_lead, help="Add a lead")  # type: ignore[attr-defined]
