"""A small desk for the tests that run the real app in another process (pty, browser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from leaddesk.settings import Settings
from leaddesk.store.desk import Desk


def one_lead_desk(path: Path) -> dict[str, Any]:
    """A sales desk at `path` with one lead of ann's: its path, the lead's name and status, and the shortest
    other open status (a column title short enough to show in full)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    desk = Desk.open(str(path), login="ann", settings=Settings())
    desk.init("sales")
    lead = desk.add_lead({"first_name": "Zelda", "last_name": "Quarry", "company": "Quarry & Sons"})
    statuses = [s["name"] for s in desk.statuses() if s["category"] == "open"]
    desk.close()
    return {"path": path, "name": lead["contact_name"], "status": lead["status"],
            "empty": min((s for s in statuses if s != lead["status"]), key=len)}
