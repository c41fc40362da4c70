"""One headless run of the desk for bench/tui.py: prints one JSON line of figures."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import time

SPAWNED = float(os.environ.get("BENCH_SPAWNED", time.time()))


def main() -> None:
    from leaddesk.app import make_app
    from leaddesk.store.queries import LeadFilter

    db, size = sys.argv[1], sys.argv[2]
    width, height = (int(x) for x in size.split("x"))
    app = make_app(db=db, login="bench")
    figures: dict[str, float] = {}

    async def keys(pilot, key: str, times: int) -> list[float]:  # type: ignore[no-untyped-def]
        spent = []
        for _ in range(times):
            started = time.process_time()
            await pilot.press(key)
            await pilot.pause()
            spent.append((time.process_time() - started) * 1000)
        return spent

    def board_filled() -> bool:
        from leaddesk.widgets.board import BoardColumn

        columns = list(app.screen.query(BoardColumn))
        return bool(columns) and all(
            column.folded or not column.info.count or column.card(column.visible_range().start) is not None
            for column in columns)

    def list_filled() -> bool:
        from leaddesk.widgets.lead_table import LeadTable

        tables = list(app.screen.query(LeadTable))
        return bool(tables) and tables[0].total is not None and (
            not tables[0].total or tables[0].row_at(tables[0].cursor) is not None)

    frames: list[float] = []  # when each frame was composed (the moment it would go to the terminal)
    display = app._display

    def recording_display(screen, renderable) -> None:  # type: ignore[no-untyped-def]
        if renderable is not None:
            frames.append(time.perf_counter())
        display(screen, renderable)

    app._display = recording_display  # type: ignore[method-assign]

    async def filled(ready) -> float:  # type: ignore[no-untyped-def]
        """When the first frame showing the filled view was composed (polling the view every 2 ms)."""
        for _ in range(5000):
            if app.desk is not None and ready():
                seen = time.perf_counter()
                for _ in range(500):
                    later = [t for t in frames if t >= seen]
                    if later:
                        return later[0]
                    await asyncio.sleep(0.002)
            await asyncio.sleep(0.002)
        raise TimeoutError("the view never filled")

    async def settled(pilot) -> None:  # type: ignore[no-untyped-def]
        for _ in range(200):
            await pilot.pause()
            await app.workers.wait_for_complete()
            if not app.workers._workers:
                return

    async def auto_pilot(pilot) -> None:  # type: ignore[no-untyped-def]
        figures["first_frame_ms"] = (time.time() - SPAWNED) * 1000
        started = frames[0] if frames else time.perf_counter()
        figures["board_filled_ms"] = (await filled(board_filled) - started) * 1000
        await asyncio.sleep(1.0)  # the rep reads the board; the other views are built meanwhile
        await settled(pilot)
        for name, key, times in (("board_cursor", "down", 40), ("board_move_column", "right", 6)):
            spent = await keys(pilot, key, times)
            figures[f"{name}_median_ms"] = statistics.median(spent)
            figures[f"{name}_p99_ms"] = max(spent) if len(spent) < 100 else statistics.quantiles(spent, n=100)[98]
        started = time.perf_counter()
        press = asyncio.create_task(pilot.press("2"))
        figures["list_filled_ms"] = (await filled(list_filled) - started) * 1000
        await press
        await settled(pilot)
        for name, key, times in (("list_cursor", "down", 40), ("list_page", "pagedown", 20)):
            spent = await keys(pilot, key, times)
            figures[f"{name}_median_ms"] = statistics.median(spent)
            figures[f"{name}_p99_ms"] = max(spent)
        figures["leads"] = app.desk.count_leads(LeadFilter(limit=None)) if app.desk else 0
        app.exit()

    app.run(headless=True, size=(width, height), auto_pilot=auto_pilot)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
