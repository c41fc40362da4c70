"""Live refresh on a PostgreSQL desk (LISTEN/NOTIFY): the app (headless, in this process) shows what another OS
process commits within 1.5 s, keeping the selected card; with nothing committed, and for its own writes, the poll
sees no change. Runs only when LEADDESK_TEST_PG_URL names a server (see tests/pgsupport.py).

The demo desk of the other TUI tests (SQLite) is copied into the session's emptied PostgreSQL database with
`db copy`'s own code, so both backends show the same leads.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pgsupport import PG_URL

from leaddesk.app import LeadDeskApp, make_app
from leaddesk.screens.board import BoardScreen, card_filter
from leaddesk.settings import Settings
from leaddesk.store.db import Database
from leaddesk.store.dbcopy import copy_database
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter

from .conftest import settle
from .test_live_refresh import ROOT, count_calls, shows

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs LEADDESK_TEST_PG_URL (a PostgreSQL server)")


@pytest.fixture
def pg_desk(demo_db: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Desk]]:
    """The demo desk copied to PostgreSQL, opened as ann (made a manager, as in the SQLite fixture)."""
    url = request.getfixturevalue("pg_reused").reset()
    source = Database.open(str(demo_db))
    try:
        copy_database(source, url, "kim", Settings())
    finally:
        source.close()
    manager = Desk.open(url, login="kim", origin="cli", settings=Settings())
    manager.set_user_role("ann", "manager")
    manager.close()
    opened = Desk.open(url, login="ann", origin="tui", settings=Settings())
    yield url, opened
    opened.close()


async def other_process(url: str, *args: str) -> None:
    """`leaddesk --db URL --user kim ARGS` in its own OS process, without blocking the app's event loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "leaddesk", "--db", url, "--user", "kim", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, (out, err)


def test_a_pg_board_shows_another_process_move_and_ignores_its_own_writes(
        pg_desk: tuple[str, Desk], monkeypatch: Any) -> None:
    url, desk = pg_desk
    assert desk.db.dialect == "postgresql"
    contacted = desk.list_leads(card_filter(LeadFilter(), "Contacted"))
    selected = contacted[1]

    def ahead(row: dict[str, Any]) -> bool:  # sorts before the selected card in the Contacted column
        return (row["priority"], row["number"]) > (selected["priority"], selected["number"])

    mover = next(r for r in desk.list_leads(card_filter(LeadFilter(), "New"))
                 if ahead(r) and "Contacted" in [c["name"] for c in desk.status_choices(str(r["number"]))])
    app: LeadDeskApp = make_app(Settings(), desk=desk)  # looks every second, as in use

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            board = app.screen
            assert isinstance(board, BoardScreen)
            reloads = count_calls(monkeypatch, board, "reload")
            await pilot.pause(1.1)  # a look (one a second) with nothing committed: nothing reloads
            assert reloads == []
            desk.add_activity(str(selected["number"]), "note", "written by this desk")  # our own write
            await pilot.pause(1.1)
            assert reloads == []  # (the app reloads after its own writes itself; the poll does not count them)

            cards = board.board
            assert cards.select("Contacted", 1)
            await shows(pilot, lambda: cards.selected_card is not None)
            assert cards.selected_card is not None and cards.selected_card.number == selected["number"]
            column = cards.column("Contacted")
            assert column is not None
            count = column.info.count

            await other_process(url, "status", str(mover["number"]), "contacted")
            await shows(pilot, lambda: column.info.count == count + 1 and cards.selected_card is not None
                        and mover["number"] in column.loaded_numbers())
            card = cards.selected_card
            assert card is not None and card.number == selected["number"]  # the same lead, one row lower
            assert column.cursor == 2 and cards.selected_column is column
            assert len(reloads) == 1

    asyncio.run(run())
