"""The app shell: opening, help with binding ids, the palette's lead finder, theme and keymap from settings."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.commands import LeadFinder
from leaddesk.settings import Settings, load_settings
from leaddesk.store.desk import Desk
from tests.tui.conftest import SIZES, settle


def test_the_desk_opens_after_the_first_frame_and_names_user_and_database(app) -> None:  # type: ignore[no-untyped-def]
    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.desk is not None
            assert app.sub_title == "ann · desk.db"
            assert type(app.screen).__name__ == "BoardScreen"

    asyncio.run(run())


def test_number_keys_switch_views(app) -> None:  # type: ignore[no-untyped-def]
    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            assert type(app.screen).__name__ == "ListScreen"
            await pilot.press("3")
            assert type(app.screen).__name__ == "DealsScreen"
            await pilot.press("1")
            assert type(app.screen).__name__ == "BoardScreen"

    asyncio.run(run())


def test_help_lists_every_app_key_with_its_id(app) -> None:  # type: ignore[no-untyped-def]
    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("question_mark")
            await pilot.pause()
            assert type(app.screen).__name__ == "HelpScreen"
            ids = {row[3] for row in app.screen.key_rows()}  # type: ignore[attr-defined]
            assert {"app.board", "app.list", "app.deals", "app.help", "app.quit"} <= ids
            await pilot.press("escape")
            assert type(app.screen).__name__ == "BoardScreen"

    asyncio.run(run())


def test_a_missing_database_is_a_notification_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    app = make_app(Settings(), db=str(folder), login="ann")

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.desk is None
            assert any("is a folder" in str(n.message) for n in app._notifications)

    asyncio.run(run())


def test_the_palette_finds_leads_by_name_phone_and_email(app, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    lead = desk.add_lead({"name": "Zelda Quint", "company": "Quintessence", "phone": "(415) 555-0199",
                          "email": "zelda@quint.example.com"})

    async def hits(query: str) -> list[str]:
        finder = LeadFinder(app.screen)
        return [str(hit.text) async for hit in finder.search(query)]

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for query in ("zelda", "quintess", "415 555 0199", "zelda@quint"):
                found = await hits(query)
                assert any(f"#{lead['number']} Zelda Quint" in h for h in found), (query, found)

    asyncio.run(run())


def test_keymap_and_theme_come_from_settings_and_a_theme_change_is_saved(desk: Desk, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('theme = "nord"\n[keymap]\n"app.list" = "f2"\n')
    settings = load_settings(config)
    app = make_app(settings, desk=desk)

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.theme == "nord"
            await pilot.press("f2")
            assert type(app.screen).__name__ == "ListScreen"
            app.theme = "gruvbox"
            await pilot.pause()

    asyncio.run(run())
    assert 'theme = "gruvbox"' in config.read_text()
    assert '"app.list" = "f2"' in config.read_text()


def test_opening_the_app_module_does_not_load_the_orm() -> None:
    code = ("import sys, leaddesk.app, leaddesk.cli; "
            "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'alembic', 'pydantic', 'typer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert out.stdout.strip() == "[]"


def test_a_change_by_another_process_shows_within_a_second(app, demo_db: Path) -> None:  # type: ignore[no-untyped-def]
    other = Desk.open(str(demo_db), login="raj", settings=Settings())

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            screen = app.screen
            before = screen.query_one("LeadTable").total  # type: ignore[attr-defined]
            other.add_lead({"name": "Written Elsewhere"})
            for _ in range(30):
                await pilot.pause(0.1)
                if screen.query_one("LeadTable").total == before + 1:  # type: ignore[attr-defined]
                    break
            assert screen.query_one("LeadTable").total == before + 1  # type: ignore[attr-defined]

    asyncio.run(run())
    other.close()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_snapshot_help_on_the_board(snap_compare: Any, app_factory: Callable[[], LeadDeskApp],
                                    size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


def test_the_first_view_queries_as_soon_as_the_desk_is_open(app: LeadDeskApp, desk: Desk,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The board asks for its data as it mounts; its worker waits for the desk and runs the moment the opening
    thread has it, while the main thread is still busy (here: held in `_desk_opened`). It used to be asked for
    only from `_desk_opened`, a turn of the main thread later (~25 ms of the board's first fill at 100k)."""
    import threading

    queried = threading.Event()
    board_view = desk.board_view

    def recording(*args: Any) -> Any:
        queried.set()
        return board_view(*args)

    monkeypatch.setattr(desk, "board_view", recording)
    desk_opened = LeadDeskApp._desk_opened
    seen: list[bool] = []

    def held(self: LeadDeskApp, opened: Desk) -> None:
        seen.append(queried.wait(timeout=5))  # the main thread is busy: the query must not need it
        desk_opened(self, opened)

    monkeypatch.setattr(LeadDeskApp, "_desk_opened", held)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert seen == [True]
            from leaddesk.widgets.board import BoardColumn

            first = pilot.app.screen.query(BoardColumn).first()
            assert first.info.count and first.card(0) is not None  # and the board shows what it read

    asyncio.run(main())
