"""One headless run of the desk for bench/tui.py and bench/run: prints one JSON line of figures.

    _tui_probe.py DB WIDTHxHEIGHT [--quick]

Cold start (from BENCH_SPAWNED, the parent's clock when it spawned this process) to the first frame; the
board filled; CPU per key on the board; the list filled; CPU per key on the list; opening a lead's card
(enter) and applying a filter (`o`: open leads only) until the first frame that shows the result; peak RSS.
--quick presses fewer keys and waits 0.6 s instead of 1 s on the board before the keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import statistics
import sys
import time
from typing import Any

SPAWNED = float(os.environ.get("BENCH_SPAWNED", time.time()))
KEY_WAIT = 0.5  # seconds a key's CPU is measured for when it draws no frame (e.g. the cursor already at the end)


def peak_rss_kib() -> int:
    """This process's peak RSS. Linux: VmHWM, since `ru_maxrss` starts at the parent's peak (a child inherits it
    at fork and keeps it across exec), which is bench/run's own when it spawns the probe."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    from leaddesk.app import make_app
    from leaddesk.store.queries import LeadFilter

    db, size = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv[3:]
    presses = 4 if quick else 40
    width, height = (int(x) for x in size.split("x"))
    app = make_app(db=db, login="bench")
    figures: dict[str, float] = {}
    every_key: list[float] = []  # CPU of every key pressed, for the overall p99

    async def key_cpu(key: str) -> float:
        """CPU (ms) from a key delivered as the terminal driver delivers it until the app is idle after the frame
        it caused (or KEY_WAIT without one). Not through `Pilot.press` + `pause`: each of those walks every widget
        of the screen with a callback (with its own signature inspection), twice per key; measured that way
        (`pilot_cpu`, printed for comparison) a board key cost 22-29 ms, of which the app's was 10-12 ms."""
        from textual import events
        from textual._wait import wait_for_idle

        shown = len(frames)
        new_frame.clear()
        started = time.process_time()
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        app._driver.send_message(event)  # what the driver does with a key read from the terminal
        if len(frames) == shown:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(new_frame.wait(), KEY_WAIT)
        await wait_for_idle(0)
        return (time.process_time() - started) * 1000

    async def keys(pilot, key: str, times: int) -> list[float]:  # type: ignore[no-untyped-def]
        spent = [await key_cpu(key) for _ in range(times)]
        every_key.extend(spent)
        return spent

    async def pilot_cpu(pilot, key: str, times: int) -> list[float]:  # type: ignore[no-untyped-def]
        spent = []
        for _ in range(times):
            started = time.process_time()
            await pilot.press(key)
            await pilot.pause()
            spent.append((time.process_time() - started) * 1000)
        return spent

    def p99(spent: list[float]) -> float:
        return max(spent) if len(spent) < 100 else statistics.quantiles(spent, n=100)[98]

    def board_filled() -> bool:
        from leaddesk.widgets.board import BoardColumn

        columns = list(app.screen.query(BoardColumn))
        return bool(columns) and all(
            column.folded or not column.info.count or not column.visible_range()
            or column.card(column.visible_range().start) is not None
            for column in columns)

    def list_filled() -> bool:
        from leaddesk.widgets.lead_table import LeadTable

        tables = list(app.screen.query(LeadTable))
        return bool(tables) and tables[0].total is not None and (
            not tables[0].total or tables[0].row_at(tables[0].cursor) is not None)

    def card_filled() -> bool:
        from leaddesk.screens.lead_card import LeadCardScreen

        return isinstance(app.screen, LeadCardScreen) and app.screen.detail is not None

    frames: list[float] = []  # when each frame was composed (the moment it would go to the terminal)
    awaited: dict[str, Any] = {"ready": None, "at": None}  # what `filled` waits for; the first frame that shows it
    display = app._display

    new_frame = asyncio.Event()  # set as each frame is composed (key_cpu waits for it)

    def recording_display(screen, renderable) -> None:  # type: ignore[no-untyped-def]
        if renderable is not None:
            frames.append(time.perf_counter())
            new_frame.set()
            ready = awaited["ready"]
            if ready is not None and awaited["at"] is None and app.desk is not None and ready():
                awaited["at"] = frames[-1]  # this frame shows it (a view filled and painted in one turn of the loop)
        display(screen, renderable)

    app._display = recording_display  # type: ignore[method-assign]

    async def filled(ready) -> float:  # type: ignore[no-untyped-def]
        """When the first frame showing the filled view was composed: checked as each frame is composed, else
        (the view was filled before this was called) the first frame after polling (every 2 ms) saw it."""
        awaited.update(ready=ready, at=None)
        try:
            for _ in range(5000):
                if awaited["at"] is not None:
                    return float(awaited["at"])
                if app.desk is not None and ready():
                    seen = time.perf_counter()
                    for _ in range(500):
                        later = [t for t in frames if t >= seen]
                        if awaited["at"] is not None or later:
                            return float(awaited["at"] if awaited["at"] is not None else later[0])
                        await asyncio.sleep(0.002)
                await asyncio.sleep(0.002)
            raise TimeoutError("the view never filled")
        finally:
            awaited["ready"] = None

    async def settled(pilot) -> None:  # type: ignore[no-untyped-def]
        for _ in range(200):
            await pilot.pause()
            await app.workers.wait_for_complete()
            if not app.workers._workers:
                return

    async def shown_after(pilot, key: str, ready) -> float:  # type: ignore[no-untyped-def]
        """Milliseconds from pressing `key` to the first frame that shows what `ready` waits for."""
        started = time.perf_counter()
        press = asyncio.create_task(pilot.press(key))
        shown = (await filled(ready) - started) * 1000
        await press
        await settled(pilot)
        return shown

    async def auto_pilot(pilot) -> None:  # type: ignore[no-untyped-def]
        figures["first_frame_ms"] = (time.time() - SPAWNED) * 1000
        started = frames[0] if frames else time.perf_counter()
        figures["board_filled_ms"] = (await filled(board_filled) - started) * 1000
        await asyncio.sleep(0.6 if quick else 1.0)  # the rep reads the board; the other views are built meanwhile
        for _ in range(1500):  # keys are timed once the warm-up is over (its work is not a key's)
            if app.warmed_up:
                break
            await asyncio.sleep(0.01)
        figures["warm_up_ms"] = (time.perf_counter() - started) * 1000 if app.warmed_up else float("nan")
        await settled(pilot)
        for name, key, times in (("board_cursor", "down", presses), ("board_move_column", "right", 6)):
            spent = await keys(pilot, key, times)
            figures[f"{name}_median_ms"] = statistics.median(spent)
            figures[f"{name}_p99_ms"] = p99(spent)
        figures["board_cursor_pilot_median_ms"] = statistics.median(await pilot_cpu(pilot, "down", presses // 2))
        figures["list_filled_ms"] = await shown_after(pilot, "2", list_filled)
        for name, key, times in (("list_cursor", "down", presses), ("list_page", "pagedown", presses // 2)):
            spent = await keys(pilot, key, times)
            figures[f"{name}_median_ms"] = statistics.median(spent)
            figures[f"{name}_p99_ms"] = p99(spent)
        figures["card_open_ms"] = await shown_after(pilot, "enter", card_filled)
        await pilot.press("escape")
        await settled(pilot)
        from leaddesk.widgets.lead_table import LeadTable

        table = app.screen.query_one(LeadTable)
        generation = table.generation

        def filtered() -> bool:
            return table.generation != generation and list_filled()

        figures["filter_ms"] = await shown_after(pilot, "o", filtered)
        figures["filtered_leads"] = table.total or 0
        figures["keys_p99_ms"] = p99(every_key)
        figures["keys"] = len(every_key)
        figures["leads"] = app.desk.count_leads(LeadFilter(limit=None)) if app.desk else 0
        app.exit()

    app.run(headless=True, size=(width, height), auto_pilot=auto_pilot)
    figures["peak_rss_mb"] = peak_rss_kib() / 1024
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
