"""Desk.lead_position: where a lead sits in a sorted, filtered list (the board and the list keep the cursor)."""

from __future__ import annotations

from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter

from .conftest import DeskFactory


def _desk(open_desk: DeskFactory) -> Desk:
    desk = open_desk(auto_create=False)
    for name, priority in (("Cy", 1), ("Al", 3), ("Bo", 1), ("Di", 0), ("Ed", 3)):
        desk.add_lead({"name": name, "priority": str(priority)})
    return desk


def test_position_matches_the_listed_order_for_every_sort(open_desk: DeskFactory) -> None:
    desk = _desk(open_desk)
    for sort in ("priority", "contact", "number", "created"):
        for descending in (False, True):
            flt = LeadFilter(sort=sort, descending=descending, limit=None)
            order = [r["number"] for r in desk.list_leads(flt)]
            assert [desk.lead_position(flt, n) for n in order] == list(range(len(order))), (sort, descending)


def test_position_respects_filters_and_is_none_outside_them(open_desk: DeskFactory) -> None:
    desk = _desk(open_desk)
    desk.set_status("3", "contacted")
    flt = LeadFilter(statuses=["New"], sort="priority", descending=True, limit=None)
    order = [r["number"] for r in desk.list_leads(flt)]
    assert 3 not in order
    assert desk.lead_position(flt, 3) is None
    assert [desk.lead_position(flt, n) for n in order] == list(range(len(order)))
