"""TUI benchmark: cold start, filling the board and the list, CPU per keypress, peak memory.

    .venv/bin/python bench/tui.py [--leads 100000] [--runs 5] [--db PATH] [--json]

Each figure runs in a fresh subprocess (`_tui_probe.py`) on a generated database, headless at 120x40
and 80x24. Cold start is compared with `python -c "import textual.app"` run in the same way, interleaved.
Targets (issue 3): first frame <= 2x import textual.app; board and list filled <= 200 ms after it;
cursor <= 16 ms and page <= 33 ms CPU per key; peak memory <= 150 MB.
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


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(LEADDESK_USER="bench", LEADDESK_CONFIG=str(Path(tempfile.gettempdir()) / "no-such-leaddesk.toml"))
    return env


def _wall(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=_env(), stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def _probe(db: Path, size: str) -> dict[str, Any]:
    env = _env()
    env["BENCH_SPAWNED"] = repr(time.time())
    out = subprocess.run([sys.executable, str(HERE / "_tui_probe.py"), str(db), size], check=True, env=env,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "leaddesk")], check=True)
    db = args.db or Path(tempfile.mkdtemp(prefix="leaddesk-tui-bench-")) / "bench.db"
    if not db.exists():
        build_db(db, args.leads)
    baseline: list[float] = []
    probes: dict[str, list[dict[str, Any]]] = {"120x40": [], "80x24": []}
    for _ in range(args.runs):
        for size in probes:
            baseline.append(_wall([sys.executable, "-c", "import textual.app"]))
            probes[size].append(_probe(db, size))
    base = statistics.median(baseline)
    rows: list[dict[str, Any]] = [{"figure": "python -c 'import textual.app'", "value": base, "unit": "ms",
                                   "target": "baseline", "ok": None}]
    for size, runs in probes.items():
        def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        first = med("first_frame_ms")
        rows.append({"figure": f"{size} cold start to first frame", "value": first, "unit": "ms",
                     "ratio": first / base, "target": "<= 2x baseline", "ok": first <= 2 * base})
        for key, label in (("board_filled_ms", "board filled after first frame"),
                           ("list_filled_ms", "list filled after switching")):
            value = med(key)
            rows.append({"figure": f"{size} {label}", "value": value, "unit": "ms", "target": "<= 200 ms",
                         "ok": value <= 200})
        for key, target in (("board_cursor", 16), ("board_move_column", 16), ("list_cursor", 16),
                            ("list_page", 33)):
            median = med(f"{key}_median_ms")
            p99 = med(f"{key}_p99_ms")
            rows.append({"figure": f"{size} CPU per key: {key.replace('_', ' ')} (median / p99)",
                         "value": median, "p99": p99, "unit": "ms", "target": f"<= {target} ms (p99 <= 50)",
                         "ok": median <= target and p99 <= 50})
        peak = max(r["peak_rss_mb"] for r in runs)
        rows.append({"figure": f"{size} peak memory", "value": peak, "unit": "MB", "target": "<= 150 MB",
                     "ok": peak <= 150})
    leads = probes["120x40"][0]["leads"]
    if args.json:
        print(json.dumps({"leads": leads, "runs": args.runs, "rows": rows}, indent=2))
        return 0
    print(f"TUI bench on {leads:,} leads, {args.runs} runs per figure (median), python {sys.version.split()[0]}")
    print(f"{'figure':<58} {'value':>9} {'p99':>7} {'ratio':>6}  {'target':<22} result")
    for row in rows:
        p99 = f"{row['p99']:.1f}" if "p99" in row else ""
        ratio = f"{row['ratio']:.2f}x" if "ratio" in row else ""
        result = "" if row["ok"] is None else ("pass" if row["ok"] else "FAIL")
        print(f"{row['figure']:<58} {row['value']:>7.1f}{row['unit']:>2} {p99:>7} {ratio:>6}  {row['target']:<22}"
              f" {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
