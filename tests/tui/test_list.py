"""The List view: search, sort, filters, cursor, paging, multi-select and bulk changes, checked on screen and in
the database; literal rendering of hostile text; a 20k-lead scale check; snapshots at 80x24 and 120x40.

No asyncio plugin is installed: Pilot tests are sync tests that run their body with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.screens.leads import FilterDialog, ListScreen, PickDialog
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.widgets.lead_table import PAGE, LeadTable, layout

from .conftest import SIZES, settle

Body = Callable[[Pilot[None]], Awaitable[None]]
ROOT = Path(__file__).resolve().parents[2]


def run(app: LeadDeskApp, body: Body, size: tuple[int, int] = (80, 24)) -> None:
    """Start the app, switch to the list, run `body`."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            await body(pilot)

    asyncio.run(main())


async def wait(pilot: Pilot[None]) -> None:
    """Until no worker runs (a worker's answer may start another, e.g. a reload after a write), then a repaint."""
    await pilot.pause()
    while any(not worker.is_finished for worker in pilot.app.workers):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def table_of(pilot: Pilot[None]) -> LeadTable:
    assert isinstance(pilot.app.screen, ListScreen)
    return pilot.app.screen.query_one(LeadTable)


def first_number(table: LeadTable) -> int:
    row = table.row_at(0)
    assert row is not None
    return int(row["number"])


def numbers(desk: Desk, **fields: Any) -> list[int]:
    return [r["number"] for r in desk.list_leads(LeadFilter(limit=None, **fields))]


def messages(pilot: Pilot[None]) -> list[str]:
    return [n.message for n in pilot.app._notifications]


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


# -- showing, searching, sorting, filtering ------------------------------------------------------
def test_list_shows_every_lead_sorts_moves_and_opens(app: LeadDeskApp, desk: Desk) -> None:
    async def body(pilot: Pilot[None]) -> None:
        table = table_of(pilot)
        assert table.total == desk.count_leads(LeadFilter()) == 300
        assert first_number(table) == 1
        assert table.has_focus
        header = table.render_line(0).text
        for title in ("#▲", "Contact", "Company", "Phone", "Email", "Source", "Status", "Pri", "Dl", "Owner",
                      "Follow-up"):
            assert title in header
        first = desk.show("1")
        line = table.render_line(1).text
        assert first["contact_name"] in line and first["status"] in line and first["owner"] in line

        await pilot.press("s")
        await wait(pilot)
        assert table.sort_key == "contact" and "Contact▲" in table.render_line(0).text
        assert first_number(table) == numbers(desk, sort="contact")[0]
        await pilot.press("S")
        await wait(pilot)
        assert "Contact▼" in table.render_line(0).text
        assert first_number(table) == numbers(desk, sort="contact", descending=True)[0]
        await pilot.press("s", "s", "s", "s", "s")  # company, phone, email, source, status
        await wait(pilot)
        assert table.sort_key == "status" and not table.descending
        assert first_number(table) == numbers(desk, sort="status")[0]

        # the cursor
        await pilot.press("s", "s", "s", "s", "s", "s")  # priority, score, deals, owner, follow-up, back to number
        await wait(pilot)
        assert table.sort_key == "number" and first_number(table) == 1
        await pilot.press("down", "down", "j", "k")
        assert table.cursor == 2
        await pilot.press("pagedown")
        visible = table.scrollable_content_region.height - 1
        assert table.cursor == 2 + visible - 1
        assert table.scroll_offset.y > 0
        await pilot.press("G")
        assert table.cursor == 299 and table.scroll_offset.y == 300 + 1 - table.scrollable_content_region.height
        await pilot.press("up", "g")
        assert table.cursor == 0 and table.scroll_offset.y == 0
        await pilot.click(LeadTable, offset=(10, 4))  # the header, then rows 0, 1, 2...
        assert table.cursor == 3
        await pilot.press("end", "home", "up", "down")
        assert table.cursor == 1

        # enter opens the lead's card, with the loaded leads to step through
        await pilot.press("enter")
        await wait(pilot)
        screen = pilot.app.screen
        assert type(screen).__name__ == "LeadCardScreen"
        assert screen.number == 2  # type: ignore[attr-defined]
        assert screen.lead_numbers[:3] == [1, 2, 3]  # type: ignore[attr-defined]

    run(app, body, size=(120, 40))


def test_search_narrows_rows_as_you_type_and_shows_text_literally(app: LeadDeskApp, desk: Desk) -> None:
    markup = desk.add_lead({"name": "[bold red]x[/]", "company": "Markup Ltd"})["number"]
    escape = desk.add_lead({"name": "\x1b[2J Sue", "company": "Clear Co"})["number"]

    async def body(pilot: Pilot[None]) -> None:
        table = table_of(pilot)
        search = pilot.app.screen.query_one("#search")
        await pilot.press("slash")
        await type_text(pilot, "davis")
        await pilot.pause(0.4)  # no enter: the search runs after a short pause in typing
        await wait(pilot)
        assert table.total == desk.count_leads(LeadFilter(search="davis")) < 302
        assert pilot.app.focused is search

        await pilot.press("ctrl+u")
        await type_text(pilot, "robert")
        await pilot.press("enter")
        await wait(pilot)
        expected = numbers(desk, search="robert")
        assert 0 < table.total == len(expected) == desk.count_leads(LeadFilter(search="robert")) < 302  # type: ignore[operator]
        assert first_number(table) == expected[0]
        assert table.has_focus
        await pilot.press("escape")
        await wait(pilot)
        assert table.total == 302

        # text from the database is shown literally: never read as markup, control characters made visible
        for text, shown, number in (("markup", "[bold red]x[/]", markup), ("sue", "\\x1b[2J Sue", escape)):
            await pilot.press("slash")
            pilot.app.screen.query_one("#search", Input).value = text
            await pilot.press("enter")
            await wait(pilot)
            assert table.total == 1 and first_number(table) == number
            strip = table.render_line(1)
            assert shown[:11] in strip.text  # at 80 columns the contact column may cut the end ("…")
            assert all("\x1b" not in seg.text for seg in strip)
            assert not any(seg.style and seg.style.color and seg.style.color.name == "red" for seg in strip)

    run(app, body)


def burst(pilot: Pilot[None], keys: str) -> None:
    """Keys arriving together, as a fast typist's or a slow SSH link's do: all queued before any is handled."""
    for key in keys.split():
        char = {"slash": "/", "space": " "}.get(key, key if len(key) == 1 else None)
        pilot.app.post_message(events.Key(key, char))


def test_keys_typed_before_slash_do_not_pull_the_focus_out_of_the_search(app: LeadDeskApp, desk: Desk) -> None:
    """`/` is handled as it arrives (so the text after it lands in the box), before the arrows queued ahead of it
    reach the table: an arrow meant for the table must not move the focus back to it mid-word (the rest of the word
    then ran as commands: space marked a lead, `a` marked them all, `f` opened the filters)."""
    async def body(pilot: Pilot[None]) -> None:
        table, search = table_of(pilot), pilot.app.screen.query_one("#search", Input)
        burst(pilot, "down down up slash d a v i s")
        await pilot.pause(0.4)
        await wait(pilot)
        assert search.value == "davis" and pilot.app.focused is search
        assert table.marked == set() and not isinstance(pilot.app.screen, FilterDialog)
        assert table.total == desk.count_leads(LeadFilter(search="davis"))

    run(app, body)


def test_an_arrow_bubbling_up_while_slash_moves_the_focus_stays_with_the_table(app: LeadDeskApp, desk: Desk) -> None:
    """The other order of the same burst (CI's soak of 8bd77ef): the table handles an arrow while it still has the
    focus, and `/` reaches the app while that arrow bubbles up to it. The app resolved the arrow against the search
    box then (its "down" goes back to the table, mid-word, and the rest of the word ran as list commands): the table
    runs it where it gets it."""
    async def body(pilot: Pilot[None]) -> None:
        table, search = table_of(pilot), pilot.app.screen.query_one("#search", Input)
        assert pilot.app.focused is table and table.cursor == 0
        moves: list[int] = []  # the table's cursor actions (its cursor itself goes back to the top once the
        cursor = table.action_cursor  # search applies, which on a loaded machine may come before the end)
        table.action_cursor = lambda delta: (moves.append(delta), cursor(delta))  # type: ignore[method-assign]
        # As the app sends a key to the focused widget (Textual 8.2.8's private `_forward_event`): the table gets
        # it before the `/` below reaches the app, and handles it while it still has the focus.
        table._forward_event(events.Key("down", None))
        burst(pilot, "slash d a v")
        await pilot.pause(0.2)
        await pilot.press("i", "space", "a")
        await wait(pilot)
        assert search.value == "davi a" and pilot.app.focused is search
        assert table.marked == set() and isinstance(pilot.app.screen, ListScreen)
        assert moves == [1]  # the arrow moved the table's cursor, once

    run(app, body)


def test_a_stale_hide_does_not_take_the_focus_out_of_the_search(app: LeadDeskApp, desk: Desk) -> None:
    """Textual blurs a focused widget on a Hide event, and the screen then focuses the table: a Hide posted by an
    earlier layout and handled while the box is on screen must not (the rest of a word would run as commands)."""
    async def body(pilot: Pilot[None]) -> None:
        table, search = table_of(pilot), pilot.app.screen.query_one("#search", Input)
        await pilot.press("slash", "d", "a")
        search.post_message(events.Hide())  # stale: the box is laid out on the screen
        await pilot.press("v", "space", "a", "b")
        await pilot.pause(0.4)
        await wait(pilot)
        assert search.value == "dav ab" and pilot.app.focused is search
        assert table.marked == set() and isinstance(pilot.app.screen, ListScreen)
        search.display = False  # really hidden: Textual blurs it, as before
        await pilot.pause(0.1)
        assert pilot.app.focused is not search

    run(app, body)


def test_quick_filters_and_the_filter_dialog(app: LeadDeskApp, desk: Desk) -> None:
    async def body(pilot: Pilot[None]) -> None:
        table = table_of(pilot)
        bar = pilot.app.screen.query_one("#filters")
        await pilot.press("m")
        await wait(pilot)
        assert table.total == desk.count_leads(LeadFilter(mine=True)) == len(numbers(desk, owner="ann"))
        for state in ("open", "closed"):
            await pilot.press("o")
            await wait(pilot)
            assert table.total == desk.count_leads(LeadFilter(mine=True, state=state))
            assert first_number(table) == numbers(desk, mine=True, state=state)[0]
            assert f"{table.total} leads · {state} · mine" in str(bar.render())
        await pilot.press("o", "m")
        await wait(pilot)
        assert table.total == 300

        await pilot.press("f")
        await wait(pilot)
        assert isinstance(pilot.app.screen, FilterDialog)
        # the status Select has focus: open it, pick the third status (Contacted), apply
        await pilot.press("enter", "down", "down", "down", "enter", "ctrl+s")
        await wait(pilot)
        assert table.total == desk.count_leads(LeadFilter(statuses=["Contacted"])) > 0
        assert {desk.show(str(n))["status"] for n in table.loaded_numbers()} == {"Contacted"}
        assert "Contacted" in str(bar.render())

        await pilot.press("f")
        await wait(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, FilterDialog)
        assert dialog.query_one("#status").value == "Contacted"  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")  # clear all
        dialog.query_one("#due").value = "overdue"  # type: ignore[attr-defined]
        await pilot.click("#apply")
        await wait(pilot)
        overdue = numbers(desk, due="overdue")
        assert table.total == len(overdue) > 0 and table.loaded_numbers() == overdue
        line = table.render_line(2)  # row 1: not under the cursor
        assert any(seg.style is not None and seg.style.bold for seg in line if seg.text.startswith("2026-"))

    run(app, body)


# -- marks and bulk changes ----------------------------------------------------------------------
async def pick(pilot: Pilot[None], value: str) -> None:
    """In a PickDialog, move to the option `value` and choose it."""
    dialog = pilot.app.screen
    assert isinstance(dialog, PickDialog)
    values = [value for value, _label in dialog.options]
    for _ in range(values.index(value)):
        await pilot.press("down")
    await pilot.press("enter")
    await wait(pilot)


def test_select_all_and_bulk_status_through_the_rules(app: LeadDeskApp, desk: Desk) -> None:
    async def body(pilot: Pilot[None]) -> None:
        table = table_of(pilot)
        bar = pilot.app.screen.query_one("#filters")
        await pilot.press("m", "a")
        await wait(pilot)
        assert table.marked == set(numbers(desk, mine=True))
        assert f"{len(table.marked)} selected" in str(bar.render())
        await pilot.press("a", "m", "S")  # unmark all; everyone's leads, newest (open) first
        await wait(pilot)
        assert table.marked == set()

        await pilot.press("space", "down", "space")
        assert table.marked == {300, 299}
        assert [desk.show(n)["status"] for n in ("300", "299")] == ["New", "New"]
        before = desk.show("298")["status"]
        await pilot.press("b")
        await wait(pilot)
        assert isinstance(pilot.app.screen, PickDialog)
        await pilot.press("s")
        await wait(pilot)
        await pick(pilot, "Contacted")
        assert [desk.show(n)["status"] for n in ("300", "299")] == ["Contacted", "Contacted"]
        assert desk.show("298")["status"] == before
        assert "2 changed" in messages(pilot)
        assert "Contacted" in table.render_line(1).text  # reloaded
        assert table.marked == {300, 299}  # kept for another change

        # the same rules as one by one: refusals are reported and change nothing
        await pilot.press("escape", "G", "k", "space")  # unmark all; lead 2 (Converted)
        assert table.marked == {2}
        table.mark([inbound_new, outbound_new])
        await pilot.press("b", "s")
        await wait(pilot)
        await pick(pilot, "Attempted to contact")  # not a status of the Inbound type
        assert desk.show("2")["status"] == "Converted"
        assert desk.show(str(inbound_new))["status"] == "New"
        assert desk.show(str(outbound_new))["status"] == "Attempted to contact"
        [note] = [m for m in messages(pilot) if "refused" in m]
        assert note.startswith("1 changed, 2 refused: #2: lead 2 is Converted: reopen it first")

    inbound_new = numbers(desk, statuses=["New"], type="Inbound")[0]
    outbound_new = numbers(desk, statuses=["New"], type="Outbound")[0]
    run(app, body)


def test_bulk_owner_and_follow_up(app: LeadDeskApp, desk: Desk) -> None:
    async def body(pilot: Pilot[None]) -> None:
        await pilot.press("space", "down", "down", "space", "b", "o")
        await wait(pilot)
        await pick(pilot, "kim")
        assert desk.show("1")["owner"] == desk.show("3")["owner"] == "kim"
        assert desk.show("2")["owner"] == "lee"
        assert "2 changed" in messages(pilot)

        await pilot.press("b", "f")
        await wait(pilot)
        await type_text(pilot, "tomorrow")
        await pilot.press("enter")
        await wait(pilot)
        assert desk.show("1")["followup_on"] == desk.show("3")["followup_on"] == "2026-11-27"
        assert desk.show("2")["followup_on"] is None

        await pilot.press("b", "f")
        await wait(pilot)
        pilot.app.screen.query_one(Input).value = "someday"
        await pilot.press("enter")
        await wait(pilot)
        assert desk.show("1")["followup_on"] == "2026-11-27"
        assert any(m.startswith("0 changed, 2 refused: #1: follow-up:") for m in messages(pilot))

    run(app, body)


# -- scale ---------------------------------------------------------------------------------------
def _build_db(path: Path, leads: int) -> None:
    spec = importlib.util.spec_from_file_location("make_leads", ROOT / "bench" / "make_leads.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build_db(path, leads)


def test_20k_leads_page_down_fetches_only_the_pages_it_shows(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    _build_db(path, 20_000)
    desk = Desk.open(str(path), login="bench", origin="tui", settings=Settings())
    calls: list[tuple[int, int | None]] = []
    firsts: list[tuple[int, int | None]] = []
    list_leads, lead_page = desk.list_leads, desk.lead_page

    def counted(flt: LeadFilter) -> list[dict[str, Any]]:
        calls.append((flt.offset, flt.limit))
        return list_leads(flt)

    def first(flt: LeadFilter) -> tuple[int, list[dict[str, Any]]]:
        firsts.append((flt.offset, flt.limit))
        return lead_page(flt)

    desk.list_leads = counted  # type: ignore[method-assign]
    desk.lead_page = first  # type: ignore[method-assign]
    app = make_app(Settings(), desk=desk)

    async def body(pilot: Pilot[None]) -> None:
        table = table_of(pilot)
        assert table.total == 20_000
        assert firsts == [(0, PAGE)]  # the first screen: the count and the first page, in one query
        assert all(limit != PAGE or offset == 0 for offset, limit in calls)  # nothing more until it is near
        calls.clear()
        step = table.scrollable_content_region.height - 2  # a page down keeps one row of context
        for _ in range(10):  # one at a time: every screen on the way is drawn, and its pages loaded
            await pilot.press("pagedown")
        await wait(pilot)
        assert table.cursor == 10 * step
        pages = [offset for offset, _limit in calls]
        assert len(pages) == len(set(pages)) <= table.cursor // PAGE + 2  # each page once, none twice
        assert all(limit == PAGE and offset % PAGE == 0 for offset, limit in calls)

        calls.clear()
        for _ in range(40):  # a held key: the terminal repeats faster than we draw
            pilot.app.post_message(events.Key("pagedown", None))
        await wait(pilot)
        assert table.cursor == 50 * step
        assert table.cursor_lead is not None and table.cursor_lead["number"] == table.cursor + 1
        assert len(calls) <= 4  # the screen it stops on (and a neighbour), not the 8 pages it went past
        assert table.cursor // PAGE * PAGE in table.page_offsets()
        calls.clear()
        await pilot.press("G")
        await wait(pilot)
        assert table.cursor_lead is not None and table.cursor_lead["number"] == 20_000
        assert len(calls) <= 2  # the last page (and perhaps the one before it)

    try:
        run(app, body)
    finally:
        desk.close()


def test_layout_keeps_every_column_when_wide_and_drops_contact_details_when_narrow() -> None:
    wide = [c.key for c, _w in layout(117)]
    assert wide == ["number", "contact", "company", "phone", "email", "source", "status", "priority", "score",
                    "deals", "owner", "followup"]
    narrow = layout(77)
    assert [c.key for c, _w in narrow] == ["number", "contact", "company", "status", "priority", "score", "deals",
                                           "owner", "followup"]
    assert sum(w for _c, w in narrow) + len(narrow) - 1 == 77
    middle = [c.key for c, _w in layout(95)]  # about 100 columns: the phone stays longest
    assert "phone" in middle and "email" not in middle and "source" not in middle


# -- snapshots -----------------------------------------------------------------------------------
async def _to_list(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_snapshot_list(snap_compare: Any, app_factory: Callable[[], LeadDeskApp], size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _to_list(pilot)
        await pilot.press("down", "down", "space", "down")

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_snapshot_filter_dialog(snap_compare: Any, app_factory: Callable[[], LeadDeskApp],
                                size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _to_list(pilot)
        await pilot.press("m", "f")
        await settle(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_snapshot_bulk_menu(snap_compare: Any, app_factory: Callable[[], LeadDeskApp], size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _to_list(pilot)
        await pilot.press("space", "down", "space", "b")
        await settle(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)
