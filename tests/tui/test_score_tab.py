"""The lead card's Score tab (issue 6): the BANT checklist answered with keys and saved through the store, the
manual score, the score's explanation, the total in the card's head and the list; snapshots at 80x24 and
120x40.

No asyncio plugin is installed: Pilot tests are sync tests that run their body with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.screens.dialogs import TextDialog
from leaddesk.screens.lead_card import LeadCardScreen
from leaddesk.screens.leads import FilterDialog, ListScreen
from leaddesk.settings import Settings, load_settings
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter
from leaddesk.widgets.bant import BantChecklist
from leaddesk.widgets.lead_table import LeadTable
from leaddesk.widgets.score_panel import ScorePanel

from .conftest import SIZES, calm, on_card, settle

RULES = """
[score]
decay_per_day = 1
decay_after = 14
decay_max = 10
[[score.rules]]
points = 10
field = "source"
in = ["Referral", "Partner"]
[[score.rules]]
points = 15
bant = "budget"
is = "yes"
[[score.rules]]
points = 5
bant = "authority"
is = "yes"
[[score.rules]]
points = 4
activity = "call"
per = "each"
max = 12
[[score.rules]]
points = 3
field = "company"
present = true
"""
LEAD = 54  # ann's: qualified, a customer, a deal, three activities (the card snapshots' lead)


@pytest.fixture
def rules(tmp_path: Path) -> Settings:
    path = tmp_path / "rules.toml"
    path.write_text(RULES, encoding="utf-8")
    return load_settings(path)


@pytest.fixture
def scored(demo_db: Path, rules: Settings) -> Iterator[Desk]:
    """Ann (a manager, as in the other TUI tests) on the demo desk, with score rules in her settings."""
    manager = Desk.open(str(demo_db), login="kim", origin="cli", settings=Settings())
    manager.set_user_role("ann", "manager")
    manager.close()
    opened = Desk.open(str(demo_db), login="ann", origin="tui", settings=rules)
    yield opened
    opened.close()


@pytest.fixture
def app(scored: Desk, rules: Settings) -> LeadDeskApp:
    return make_app(rules, desk=scored)


Body = Callable[[Pilot[None], LeadCardScreen], Awaitable[None]]


def on_score_tab(app: LeadDeskApp, number: int, body: Body, size: tuple[int, int] = (80, 24)) -> None:
    """Start the app, open lead `number` on its Score tab, run `body`."""

    async def on_tab(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        await show_score_tab(pilot, screen)
        await body(pilot, screen)

    on_card(app, number, on_tab, size)


async def show_score_tab(pilot: Pilot[None], screen: LeadCardScreen) -> None:
    screen.query_one("TabbedContent").active = "score"  # type: ignore[attr-defined]
    screen.query_one("ContentTabs").focus()
    await calm(pilot)
    await pilot.press("tab")  # from the tab bar to the checklist
    await calm(pilot)


def panel_text(screen: LeadCardScreen) -> str:
    visual = screen.query_one(ScorePanel).visual
    return str(getattr(visual, "plain", visual))


def open_lead_without_answers(desk: Desk) -> int:
    for row in desk.list_leads(LeadFilter(limit=None, mine=True, state="open")):
        lead = desk.show(str(row["number"]))
        if all(lead[f"bant_{p}"] == "unknown" and not lead[f"bant_{p}_note"]
               for p in ("budget", "authority", "need", "timeline")):
            return int(row["number"])
    raise AssertionError("no open demo lead of ann's without BANT answers")


def test_opening_the_desk_scores_every_lead(app: LeadDeskApp, scored: Desk) -> None:
    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)

    asyncio.run(main())
    rows = scored.list_leads(LeadFilter(limit=None))
    assert any(r["auto_score"] for r in rows)
    assert all(r["auto_score"] == scored.explain_score(str(r["number"]))["auto"] for r in rows[:40])
    assert scored.score_rules()["stale"] is None


def test_the_checklist_answers_notes_and_manual_score(app: LeadDeskApp, scored: Desk) -> None:
    number = open_lead_without_answers(scored)
    ref = str(number)

    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        checklist = screen.query_one(BantChecklist)
        assert screen.focused is checklist
        keys = {b.id for _k, b, _e, _t in screen.active_bindings.values()}
        assert {"bant.answer", "bant.note", "bant.score"} <= keys
        before = scored.explain_score(ref)
        await pilot.press("space")  # budget: unknown → yes
        await calm(pilot)
        lead = scored.show(ref)
        assert lead["bant_budget"] == "yes"
        assert lead["auto_score"] == before["auto"] + 15
        assert "+15  budget: yes" in panel_text(screen)
        await pilot.press("down", "space", "space")  # authority: unknown → yes → no (the store cycles each press)
        await calm(pilot)
        assert scored.show(ref)["bant_authority"] == "no"
        assert checklist.answers["authority"] == "no"
        await pilot.press("enter")  # the authority's note
        await calm(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, TextDialog)
        dialog.query_one("#text", Input).value = "the CFO signs [bold]off[/]"
        await pilot.press("enter")
        await calm(pilot)
        assert scored.show(ref)["bant_authority_note"] == "the CFO signs [bold]off[/]"
        assert "the CFO signs [bold]off[/]" in str(checklist.render())  # shown literally
        await pilot.press("equals_sign")  # the manual score
        await calm(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, TextDialog)
        dialog.query_one("#text", Input).value = "20"
        await pilot.press("enter")
        await calm(pilot)
        found = scored.explain_score(ref)
        assert found["manual"] == 20
        assert panel_text(screen).startswith(f"Score {found['total']} = manual 20 + rules {found['auto']}")
        facts = str(getattr(screen.query_one("#card-facts").visual, "plain", ""))  # type: ignore[attr-defined]
        assert f"score {found['total']}" in facts
        history = [(h["field"], h["new"]) for h in scored.history(ref)]
        assert ("bant_budget", "yes") in history and ("score", "20") in history

    on_score_tab(app, number, body)


def test_the_explanation_matches_the_store_and_a_refused_score_changes_nothing(app: LeadDeskApp,
                                                                             scored: Desk) -> None:
    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        found = scored.explain_score(str(LEAD))
        lines = panel_text(screen).splitlines()
        assert lines[0] == f"Score {found['total']} = manual {found['manual']} + rules {found['auto']}"
        assert [line.split(None, 1)[1] for line in lines[1:]] == [r["text"] for r in found["reasons"]]
        assert [int(line.split()[0]) for line in lines[1:]] == [r["points"] for r in found["reasons"]]
        before = scored.show(str(LEAD))
        await pilot.press("equals_sign")
        await calm(pilot)
        pilot.app.screen.query_one("#text", Input).value = "lots"
        await pilot.press("enter")
        await calm(pilot)
        assert any("Score must be a whole number, not 'lots'" in str(n.message) for n in pilot.app._notifications)
        assert scored.show(str(LEAD))["version"] == before["version"]

    on_score_tab(app, LEAD, body)


def test_without_rules_the_tab_says_so(app_factory: Callable[[], LeadDeskApp]) -> None:
    async def body(pilot: Pilot[None], screen: LeadCardScreen) -> None:
        text = panel_text(screen)
        assert "No score rules in the settings ([score])" in text and "+ rules 0" in text

    on_score_tab(app_factory(), LEAD, body)


def test_the_list_sorts_by_score_best_first_and_filters_by_a_minimum(app: LeadDeskApp, scored: Desk) -> None:
    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            screen = pilot.app.screen
            assert isinstance(screen, ListScreen)
            table = screen.query_one(LeadTable)
            assert "score" in table.column_keys
            while screen.flt.sort != "score":
                await pilot.press("s")
                await settle(pilot)
            assert screen.flt.descending
            best = scored.list_leads(LeadFilter(sort="score", descending=True, limit=3))
            first = table.row_at(0)
            assert first is not None and first["number"] == best[0]["number"]
            assert first["total_score"] == best[0]["score"] + best[0]["auto_score"]

            await pilot.press("f")
            await settle(pilot)
            dialog = pilot.app.screen
            assert isinstance(dialog, FilterDialog)
            dialog.query_one("#min_score", Input).value = "25"
            await pilot.press("ctrl+s")
            await settle(pilot)
            expected = scored.count_leads(LeadFilter(min_score=25))
            assert 0 < expected < 300
            assert screen.flt.min_score == 25 and table.total == expected
            assert "score ≥ 25" in str(getattr(screen.query_one("#filters").visual, "plain", ""))  # type: ignore[attr-defined]
            await pilot.press("f")
            await settle(pilot)
            assert pilot.app.screen.query_one("#min_score", Input).value == "25"
            await pilot.press("ctrl+r", "ctrl+s")
            await settle(pilot)
            assert screen.flt.min_score is None

    asyncio.run(main())


# -- snapshots ---------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_snapshot_score_tab(snap_compare: Any, app: LeadDeskApp, scored: Desk, size: tuple[int, int]) -> None:
    scored.edit_lead(str(LEAD), {"bant_budget": "yes", "bant_budget_note": "20k approved for Q1",
                                 "bant_authority": "no", "bant_need_note": "their vendor drops support in March"})

    async def run_before(pilot: Pilot[None]) -> None:
        await calm(pilot)
        pilot.app.open_lead(LEAD, [LEAD])  # type: ignore[attr-defined]
        await calm(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, LeadCardScreen)
        await show_score_tab(pilot, screen)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
