"""One headless run of the desk for bench/tui.py: prints one JSON line of figures."""

from __future__ import annotations

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

    async def settled(pilot) -> None:  # type: ignore[no-untyped-def]
        for _ in range(200):
            await pilot.pause()
            await app.workers.wait_for_complete()
            if app.desk is not None and not app.workers._workers:
                await pilot.pause()
                return

    async def auto_pilot(pilot) -> None:  # type: ignore[no-untyped-def]
        figures["first_frame_ms"] = (time.time() - SPAWNED) * 1000
        started = time.perf_counter()
        await settled(pilot)
        figures["board_filled_ms"] = (time.perf_counter() - started) * 1000
        for name, key, times in (("board_cursor", "down", 40), ("board_move_column", "right", 6)):
            spent = await keys(pilot, key, times)
            figures[f"{name}_median_ms"] = statistics.median(spent)
            figures[f"{name}_p99_ms"] = max(spent) if len(spent) < 100 else statistics.quantiles(spent, n=100)[98]
        started = time.perf_counter()
        await pilot.press("2")
        await settled(pilot)
        figures["list_filled_ms"] = (time.perf_counter() - started) * 1000
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
