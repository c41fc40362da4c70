"""The benchmark suite of issue 8 behind `bench/run`: one database, every figure, one table.

    bench/run [--leads 100000] [--seed 1] [--db PATH] [--only cli,search,tui,bytes,import,reports,memory]
              [--runs N] [--import-rows N] [--today YYYY-MM-DD] [--json] [--quick]

Builds (deterministically, from --seed and the day) a desk of --leads realistic leads with two years of status
changes, activities, follow-ups, customers, deals, partners and their spend (`make_leads.build_realistic`), then
runs the benches of this folder on it and prints one table: figure, value, baseline, ratio, target, pass/FAIL
(--json: the same rows as JSON). Each figure is a median over repeated runs; each comparison runs its baseline
in the same run, interleaved. See bench/README.md for every figure and its target.

--db PATH keeps the database there (built when missing, reused as it is when present: --leads and --seed are
then ignored). --quick is for development and the test: one run of each, fewer keys, a small import, and the
bytes section alongside the others: its figures are rough.
The exit code is 0 when every section ran (whatever the figures), 2 when a section could not run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent

SECTIONS = ("cli", "search", "tui", "bytes", "import", "reports", "memory")
JUDGED_UP_TO = 100_000
"""The targets are set for 100k leads: above that (1M) the figures are reported, not judged."""
RUNS = {"cli": 15, "search": 5, "tui": 5, "bytes": 3, "import": 3, "reports": 3}
QUICK_RUNS = {"cli": 1, "search": 1, "tui": 1, "bytes": 1, "import": 1, "reports": 1}
QUICK_IMPORT_ROWS = 2000
IMPORT_GROWTH = 1.25
"""An import's peak RSS for the whole file may be at most this times the peak for a tenth of it."""


def load(name: str) -> ModuleType:
    """A bench module of this folder by file name (`import.py` cannot be imported by name)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"bench/{name}.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def row(section: str, figure: str, value: float | None, unit: str, *, baseline: float | None = None,
        ratio: float | None = None, target: str | None = None, ok: bool | None = None, note: str = "",
        ) -> dict[str, Any]:
    """One line of the table."""
    return {"section": section, "figure": figure, "value": value, "unit": unit, "baseline": baseline,
            "ratio": ratio, "target": target, "ok": ok, "note": note}


def host_loop_ms() -> float:
    """How fast this host runs Python: the best of three 10-million-step loops, in ms. Printed with the table so
    that runs on different hosts (or on one host on a slow day) can be compared: the millisecond figures scale
    with it."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def log(message: str) -> None:
    print(f"bench/run: {message}", file=sys.stderr, flush=True)


# -- the sections ----------------------------------------------------------------------------------------
def cli_rows(db: Path, scratch: Path, runs: int, quick: bool) -> list[dict[str, Any]]:
    """bench/cli.py in its pyc mode (leaddesk compiled, as installed): each command against `python -c pass`,
    interleaved; the ratio is median / baseline median."""
    cli = load("cli")
    env = cli.base_env(db, scratch)
    cli.compile_package(cli.package_dir(), env)
    _count, ref, phone = cli.reference_lead(db)
    baseline, *commands = cli.rows_of(cli.measure(env, ref, phone, runs, warmups=0 if quick else 2))
    out = [row("cli", baseline["figure"], baseline["median_ms"], "ms", note="baseline")]
    for r in commands:
        out.append(row("cli", r["figure"], r["median_ms"], "ms", baseline=baseline["median_ms"], ratio=r["ratio"],
                       target=None if r["target"] is None else f"<= {r['target']:g}x",
                       ok=None if r["result"] is None else r["result"] == "pass",
                       note=r["note"] if r["note"].startswith("info") else f"p90 {r['p90_ms']:.0f} ms, lead #{ref}"))
    return out


def search_rows(db: Path, runs: int) -> list[dict[str, Any]]:
    """bench/search.py: the list's and the palette's searches, FTS index against the LIKE scan."""
    search = load("search")
    return [row("search", r["figure"], r["value_ms"], "ms", baseline=r["baseline_ms"], ratio=r["ratio"],
                target=f"<= {r['target_ms']:g} ms", ok=bool(r["ok"]), note="baseline: LIKE scan")
            for r in search.run(str(db), runs)]


def reports_rows(db: Path, runs: int) -> list[dict[str, Any]]:
    """bench/reports.py: every report, unfiltered and filtered (30 days, one owner), in-process."""
    reports = load("reports")
    return [row("reports", f"report {r['report']} ({r['case']}, {r['rows']} rows)", r["median_s"] * 1000, "ms",
                target="<= 1000 ms", ok=r["median_s"] <= 1.0, note=f"max {r['max_s'] * 1000:.0f} ms")
            for r in reports.measure(db, runs)]


def tui_rows(db: Path, runs: int, quick: bool, want: set[str]) -> list[dict[str, Any]]:
    """bench/tui.py: headless at 120x40 and 80x24, a fresh process per run; its peak RSS is the memory figure."""
    tui = load("tui")
    if "tui" in want:
        timing, memory = tui.run(db, runs, quick=quick)
    else:  # only the memory figure: one run of the big size
        _baseline, found = tui.probes(db, 1, sizes=("120x40",), quick=quick)
        timing, memory = [], tui.memory_rows(found)
    out = [row("tui", r["figure"], r["value"], r["unit"], baseline=r["baseline"], ratio=r["ratio"],
               target=r["target"], ok=r["ok"], note=r["note"]) for r in timing]
    if "memory" in want:
        out += [row("memory", r["figure"], r["value"], r["unit"], target=r["target"], ok=r["ok"]) for r in memory]
    return out


def bytes_rows(db: Path, runs: int, quick: bool) -> list[dict[str, Any]]:
    """bench/terminal.py: what the desk writes to a real pty at 120x40 (what SSH carries)."""
    terminal = load("terminal")
    return [row("bytes", r["figure"], r["value"], r["unit"], target=r["target"], ok=r["ok"], note=r["note"])
            for r in terminal.run(db, runs, size="120x40", quick=quick)]


def import_rows(rows: int, scratch: Path, runs: int, want: set[str]) -> list[dict[str, Any]]:
    """bench/import.py: the CRM-shaped file into a desk vs sqlite-utils and raw executemany; peak RSS of a tenth
    of the file and of all of it in fresh processes."""
    imp = load("import")
    directory = scratch / "import"
    directory.mkdir(exist_ok=True)
    result = imp.measure(rows, "crm", directory, runs=runs, memory="memory" in want, speed="import" in want)
    out = []
    if "import" in want:
        ours, su, raw = result["leaddesk"], result["sqlite_utils"], result["executemany"]
        out += [
            row("import", f"import {rows:,} rows: leaddesk, every row checked", ours["rows_per_s"], "rows/s",
                baseline=su["rows_per_s"], ratio=result["ratio"], target=">= 2x", ok=result["ratio"] >= 2.0,
                note=f"imported {ours['imported']}, duplicates {ours['duplicates']}, rejected {ours['rejected']};"
                     " baseline: sqlite-utils"),
            row("import", "import: sqlite-utils insert --csv (no checks)", su["rows_per_s"], "rows/s",
                note="info: the baseline"),
            row("import", "import: raw sqlite3 executemany (no checks, no index)", raw["rows_per_s"], "rows/s",
                ratio=round(ours["rows_per_s"] / raw["rows_per_s"], 3), note="info: the floor; ratio = ours/this"),
        ]
    if "memory" in want:
        tenth, whole = result["rss"]["tenth"]["peak_mib"], result["rss"]["all"]["peak_mib"]
        out += [
            row("memory", f"import peak RSS, a tenth of the file ({max(rows // 10, 1):,} rows)", tenth, "MB",
                note="info: the baseline"),
            row("memory", f"import peak RSS, the whole file ({rows:,} rows)", whole, "MB", baseline=tenth,
                ratio=round(whole / tenth, 2), target=f"<= {IMPORT_GROWTH:g}x", ok=whole <= IMPORT_GROWTH * tenth,
                note="bounded: not growing with the file"),
        ]
    return out


def section(name: str, measure: Callable[[], list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], bool]:
    """Run one section: (its rows, whether it ran); a broken section is one error row (and its traceback on
    stderr), the others still run."""
    log(f"{name} ...")
    began = time.perf_counter()
    try:
        rows, ok = measure(), True
    except Exception as exc:
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        rows, ok = [row(name, f"{name}: could not run", None, "", note=f"error: {detail}")], False
        traceback.print_exc()
    log(f"{name} done in {time.perf_counter() - began:.1f} s")
    return rows, ok


# -- the table -------------------------------------------------------------------------------------------
def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"
    return f"{text} {unit}".rstrip()


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'figure':<60} {'value':>13} {'baseline':>13} {'ratio':>7}  {'target':<12} result"]
    section = None
    for r in rows:
        if r["section"] != section:
            section = r["section"]
            lines.append(f"-- {section}")
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        result = "" if r["ok"] is None else ("pass" if r["ok"] else "FAIL")
        if r["value"] is None:
            result = "ERROR" if r["note"].startswith("error") else "MISSING"
        elif r["target"] and r["ok"] is None:
            result = "(info)"
        baseline = "" if r["baseline"] is None else fmt(r["baseline"], r["unit"])
        note = f"  {r['note']}" if r["note"] and r["note"] != "baseline" else ""
        lines.append(f"{r['figure'][:60]:<60} {fmt(r['value'], r['unit']):>13} {baseline:>13} {ratio:>7}"
                     f"  {r['target'] or '':<12} {result}{note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000, help="leads in the generated desk (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed (default 1)")
    parser.add_argument("--today", type=date.fromisoformat, help="the day the generated data ends (default today)")
    parser.add_argument("--db", type=Path, help="keep the desk here (built when missing, reused when present)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default all: {','.join(SECTIONS)})")
    parser.add_argument("--runs", type=int, help="runs per figure for every section (default: per section)")
    parser.add_argument("--import-rows", type=int, help="rows of the import bench (default --leads)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of the table")
    parser.add_argument("--quick", action="store_true", help="one run of each, fewer keys, a small import")
    args = parser.parse_args(argv)
    want = {s.strip() for s in args.only.split(",") if s.strip()}
    if not want or want - set(SECTIONS):
        parser.error(f"--only takes some of {','.join(SECTIONS)}")
    if args.leads < 2:
        parser.error("--leads must be at least 2")
    runs = {k: args.runs or (QUICK_RUNS if args.quick else RUNS)[k] for k in RUNS}
    import_rows_n = args.import_rows or (min(args.leads, QUICK_IMPORT_ROWS) if args.quick else args.leads)

    make_leads = load("make_leads")
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="leaddesk-bench-run-"))
    rows: list[dict[str, Any]] = []
    failed = False
    try:
        db = args.db.resolve() if args.db else scratch / "bench.db"
        if db.exists():
            built: dict[str, Any] | str = f"reused {db}"
            log(f"reusing {db}")
        else:
            log(f"building {args.leads:,} leads (seed {args.seed}) in {db}")
            built = make_leads.build_realistic(db, args.leads, seed=args.seed, today=args.today)
            log(f"built in {built['seed_seconds'] + built['bulk_seconds']:.1f} s")
        with sqlite3.connect(db) as conn:
            leads = conn.execute("SELECT count(*) FROM lead").fetchone()[0]
        load_before = os.getloadavg()  # the build is over: what else runs on the machine

        plan: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = []
        if "cli" in want:
            plan.append(("cli", lambda: cli_rows(db, scratch, runs["cli"], args.quick)))
        if "search" in want:
            plan.append(("search", lambda: search_rows(db, runs["search"])))
        if "reports" in want:
            plan.append(("reports", lambda: reports_rows(db, runs["reports"])))
        if want & {"tui", "memory"}:
            plan.append(("tui", lambda: tui_rows(db, runs["tui"], args.quick, want)))
        if "bytes" in want:
            plan.append(("bytes", lambda: bytes_rows(db, runs["bytes"], args.quick)))
        if want & {"import", "memory"}:
            plan.append(("import", lambda: import_rows(import_rows_n, scratch, runs["import"], want)))
        # --quick overlaps the bytes section (mostly waiting for the desk to be quiet) with the others
        aside = [(name, measure) for name, measure in plan if args.quick and name == "bytes"]
        with ThreadPoolExecutor(max_workers=1) as pool:
            later = {name: pool.submit(section, name, measure) for name, measure in aside}
            results = {name: section(name, measure) for name, measure in plan if name not in later}
            results.update({name: future.result() for name, future in later.items()})
        for name, _measure in plan:
            done, ok = results[name]
            rows += done
            failed = failed or not ok
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    judged = leads <= JUDGED_UP_TO
    if not judged:
        for r in rows:
            if r["ok"] is not None:
                r["ok"] = None
    info = {"leads": leads, "seed": args.seed, "db": str(args.db) if args.db else None, "built": built,
            "quick": args.quick, "runs": runs, "import_rows": import_rows_n, "judged": judged,
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "python": platform.python_version(),
            "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cpus, {platform.system()})",
            "load_average": {"before": [round(x, 2) for x in load_before],
                             "after": [round(x, 2) for x in os.getloadavg()]},
            "seconds": round(time.perf_counter() - started, 1), "host_loop_ms": host_loop_ms()}
    if args.json:
        print(json.dumps({**info, "rows": rows}, indent=2))
    else:
        print(f"leaddesk bench/run: {leads:,} leads (seed {args.seed}), {info['date']}, python {info['python']} on"
              f" {info['machine']}; load average {info['load_average']['before'][0]} before,"
              f" {info['load_average']['after'][0]} after; {info['seconds']} s;"
              f" host speed: a 10M-step Python loop in {info['host_loop_ms']:.0f} ms")
        if not judged:
            print(f"above {JUDGED_UP_TO:,} leads the targets are shown, not judged")
        print(table(rows))
        verdicts = [r["ok"] for r in rows if r["ok"] is not None]
        print(f"{sum(verdicts)} of {len(verdicts)} judged figures pass" if verdicts else "no figure judged")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
