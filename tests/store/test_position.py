"""Desk.lead_position: where a lead sits in a sorted, filtered list (the board and the list keep the cursor)."""

from __future__ import annotations

from pathlib import Path

from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter


def _desk(tmp_path: Path) -> Desk:
    desk = Desk.open(str(tmp_path / "p.db"), login="ann", settings=Settings())
    for name, priority in (("Cy", 1), ("Al", 3), ("Bo", 1), ("Di", 0), ("Ed", 3)):
        desk.add_lead({"name": name, "priority": str(priority)})
    return desk


def test_position_matches_the_listed_order_for_every_sort(tmp_path: Path) -> None:
    desk = _desk(tmp_path)
    for sort in ("priority", "contact", "number", "created"):
        for descending in (False, True):
            flt = LeadFilter(sort=sort, descending=descending, limit=None)
            order = [r["number"] for r in desk.list_leads(flt)]
            assert [desk.lead_position(flt, n) for n in order] == list(range(len(order))), (sort, descending)


def test_position_respects_filters_and_is_none_outside_them(tmp_path: Path) -> None:
    desk = _desk(tmp_path)
    desk.set_status("3", "contacted")
    flt = LeadFilter(statuses=["New"], sort="priority", descending=True, limit=None)
    order = [r["number"] for r in desk.list_leads(flt)]
    assert 3 not in order
    assert desk.lead_position(flt, 3) is None
    assert [desk.lead_position(flt, n) for n in order] == list(range(len(order)))
