"""Widgets the desk removes are freed (issue 9, "load"; found by tests/test_soak.py, which measured the desk
growing 0.7 MB a second of navigation): Textual kept every removed widget that had watched an attribute which
then never changed (Textualize/textual#6666) — each Footer rebuild's keys, each card's Header, each card's
TextArea — until `leaddesk/widgets/watchers.py` made a new watch drop the watchers of removed widgets.

Here the views are switched and cards opened many times: the removed Footer keys and Headers still alive stay
a handful (the last rebuild's), where before they grew with every switch and every card.
"""

from __future__ import annotations

import gc

from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Header
from textual.widgets._footer import FooterKey

from leaddesk.app import LeadDeskApp

from .conftest import calm, drive

ROUNDS = 3


def removed_alive(kind: type[Widget]) -> int:
    """How many widgets of `kind` that are no longer in any screen are still alive."""
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, kind) and not obj.is_attached)


def test_switching_views_and_opening_cards_frees_the_removed_widgets(app: LeadDeskApp) -> None:
    async def scenario(pilot: Pilot[None]) -> None:
        for _ in range(ROUNDS):
            for keys in (("2",), ("1",), ("enter",), ("escape",)):
                await pilot.press(*keys)
                await calm(pilot)
        keys, headers = removed_alive(FooterKey), removed_alive(Header)
        # Leaking, 3 rounds left ~270 keys and 3 Headers (one a card).
        assert keys <= 60, f"{keys} removed footer keys still alive after {ROUNDS} rounds"
        assert headers <= 1, f"{headers} removed headers still alive after {ROUNDS} rounds"  # the last card's

    drive(app, scenario, size=(80, 24))
