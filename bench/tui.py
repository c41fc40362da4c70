"""TUI benchmark: cold start, filling the board and the list, CPU per keypress, a card, a filter, peak memory.

    .venv/bin/python bench/tui.py [--leads 100000] [--runs 5] [--db PATH] [--json]

Each figure runs in a fresh subprocess (`_tui_probe.py`) on a generated database, headless at 120x40
and 80x24. Cold start is compared with `python -c "import textual.app"` run in the same way, interleaved.
Targets (issues 3 and 8): first frame <= 2x import textual.app; board and list filled <= 200 ms after it;
cursor <= 16 ms and page <= 33 ms CPU per key, p99 <= 50 ms; opening a card and applying a filter <= 100 ms;
peak memory <= 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_leads import build_db  # noqa: E402

SIZES = ("120x40", "80x24")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(LEADDESK_USER="bench", LEADDESK_CONFIG=str(Path(tempfile.gettempdir()) / "no-such-leaddesk.toml"))
    return env


def _wall(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=_env(), stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def _probe(db: Path, size: str, quick: bool = False) -> dict[str, Any]:
    env = _env()
    env["BENCH_SPAWNED"] = repr(time.time())
    command = [sys.executable, str(HERE / "_tui_probe.py"), str(db), size] + (["--quick"] if quick else [])
    out = subprocess.run(command, check=True, env=env, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def probes(db: Path, runs: int, sizes: tuple[str, ...] = SIZES, quick: bool = False,
           ) -> tuple[list[float], dict[str, list[dict[str, Any]]]]:
    """`runs` rounds of (import textual.app, probe) per size: the baseline times and each size's probes."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "leaddesk")], check=True)
    baseline: list[float] = []
    found: dict[str, list[dict[str, Any]]] = {size: [] for size in sizes}
    for _ in range(runs):
        for size in sizes:
            baseline.append(_wall([sys.executable, "-c", "import textual.app"]))
            found[size].append(_probe(db, size, quick))
    return baseline, found


def rows_of(baseline: list[float], found: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The table rows: {figure, value, unit, baseline, ratio, target, ok, note} (medians over the runs)."""
    base = statistics.median(baseline)
    rows: list[dict[str, Any]] = [{"figure": "python -c 'import textual.app'", "value": base, "unit": "ms",
                                   "baseline": None, "ratio": None, "target": None, "ok": None,
                                   "note": "baseline of the cold starts"}]
    for size, runs in found.items():
        def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        def row(figure: str, value: float, limit: float, size: str = size) -> None:
            rows.append({"figure": f"{size} {figure}", "value": value, "unit": "ms", "baseline": None,
                         "ratio": None, "target": f"<= {limit:g} ms", "ok": value <= limit, "note": ""})

        first = med("first_frame_ms")
        rows.append({"figure": f"{size} cold start to first frame", "value": first, "unit": "ms", "baseline": base,
                     "ratio": first / base, "target": "<= 2x", "ok": first <= 2 * base, "note": ""})
        row("board filled after first frame", med("board_filled_ms"), 200)
        rows.append({"figure": f"{size} warm-up over (other views built) after first frame",
                     "value": med("warm_up_ms"), "unit": "ms", "baseline": None, "ratio": None, "target": None,
                     "ok": None, "note": "info: background work; keys below are timed after it"})
        row("list filled after pressing 2", med("list_filled_ms"), 200)
        row("card shown after enter (list)", med("card_open_ms"), 100)
        row("filter applied after o (list: open leads)", med("filter_ms"), 100)
        for key, label, target in (("board_cursor", "board cursor", 16), ("board_move_column", "board column", 16),
                                   ("list_cursor", "list cursor", 16), ("list_page", "list page down", 33)):
            row(f"CPU per key: {label} (median)", med(f"{key}_median_ms"), target)
            row(f"CPU per key: {label} (p99)", med(f"{key}_p99_ms"), 50)
        row("CPU per key: every key (p99)", med("keys_p99_ms"), 50)
        rows.append({"figure": f"{size} CPU per key: board cursor through Pilot.press + pause",
                     "value": med("board_cursor_pilot_median_ms"), "unit": "ms", "baseline": None, "ratio": None,
                     "target": None, "ok": None, "note": "info: the test harness's own walk of every widget counted"})
    return rows


def memory_rows(found: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Peak RSS of the desk process per size (the largest of the runs), after board, list, card and filter."""
    return [{"figure": f"{size} desk peak RSS (board, list, card, filter)", "value": peak, "unit": "MB",
             "baseline": None, "ratio": None, "target": "<= 150 MB", "ok": peak <= 150, "note": ""}
            for size, runs in found.items() if runs for peak in [max(r["peak_rss_mb"] for r in runs)]]


def run(db: Path, runs: int = 5, *, quick: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(timing rows, memory rows) for both sizes."""
    baseline, found = probes(db, runs, quick=quick)
    return rows_of(baseline, found), memory_rows(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    db = args.db or Path(tempfile.mkdtemp(prefix="leaddesk-tui-bench-")) / "bench.db"
    if not db.exists():
        build_db(db, args.leads)
    baseline, found = probes(db, args.runs)
    rows = rows_of(baseline, found) + memory_rows(found)
    leads = found[SIZES[0]][0]["leads"]
    if args.json:
        print(json.dumps({"leads": leads, "runs": args.runs, "rows": rows}, indent=2))
        return 0
    print(f"TUI bench on {leads:,} leads, {args.runs} runs per figure (median), python {sys.version.split()[0]}")
    print(f"{'figure':<58} {'value':>9} {'ratio':>6}  {'target':<10} result")
    for row in rows:
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else ""
        result = "" if row["ok"] is None else ("pass" if row["ok"] else "FAIL")
        print(f"{row['figure']:<58} {row['value']:>7.1f}{row['unit']:>2} {ratio:>6}  {row['target'] or '':<10}"
              f" {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
