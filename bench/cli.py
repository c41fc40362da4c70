"""How long the quick commands take, against the cost of starting Python.

    .venv/bin/python bench/cli.py [--leads 100000] [--runs 20] [--db PATH] [--json] [--mode both|pyc|source]

Each figure is the median (and p90) wall time of --runs subprocess runs of the
installed `leaddesk` script on a database of --leads leads, interleaved with runs
of `python -c pass` (the baseline) so machine noise hits both alike. The issue's
target: status, show, note and followup at most 8x the baseline (stretch 4x).

Two modes (see bench/README.md):
  pyc     leaddesk compiled once with compileall, as a real install is; the reported mode.
  source  no .pyc for leaddesk (stdlib and dependencies still compiled): what a checkout
          run with PYTHONDONTWRITEBYTECODE=1 pays, every leaddesk module compiled each run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_leads import build_db

TARGET = 8.0
STRETCH = 4.0


@dataclass
class Figure:
    """One measured command: its label, how to build its argv for run i, and its target."""

    name: str
    argv: Callable[[int], list[str]]
    target: float | None
    note: str = ""
    samples: list[float] = field(default_factory=list)


def p90(samples: list[float]) -> float:
    """The 90th percentile by nearest rank."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def package_dir() -> Path:
    """The folder of the installed leaddesk package (the editable checkout)."""
    spec = importlib.util.find_spec("leaddesk")
    if spec is None or spec.origin is None:
        raise SystemExit("bench: leaddesk is not installed in this interpreter")
    return Path(spec.origin).resolve().parent


def leaddesk_command() -> list[str]:
    """The installed console script next to this interpreter (as users run it)."""
    script = Path(sys.executable).with_name("leaddesk")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "leaddesk"]


def base_env(db: Path, scratch: Path) -> dict[str, str]:
    """The environment of every run: the bench database, user `bench`, no settings file."""
    env = dict(os.environ)
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "LEADDESK_NOW", "PYTHONPROFILEIMPORTTIME"):
        env.pop(name, None)
    env.update(LEADDESK_DB=str(db), LEADDESK_USER="bench", LEADDESK_CONFIG=str(scratch / "missing.toml"),
               LEADDESK_CONFIG_DIR=str(scratch / "config"), LEADDESK_DATA_DIR=str(scratch / "data"))
    return env


def run_once(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one subprocess run, in seconds; abort the bench if it fails."""
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace")
        raise SystemExit(f"bench: {' '.join(argv)} exited {done.returncode}:\n{detail}")
    return elapsed


def figures(ref: str, phone: str | None) -> list[Figure]:
    """What is measured. Writes alternate their value so every run really changes the lead."""
    cli = leaddesk_command()
    py = sys.executable
    figs = [
        Figure("python -c pass", lambda i: [py, "-c", "pass"], None, "baseline"),
        Figure("leaddesk status", lambda i: [*cli, "status", ref, ("contacted", "engaged")[i % 2]], TARGET),
        Figure("leaddesk show", lambda i: [*cli, "show", ref], TARGET),
        Figure("leaddesk note", lambda i: [*cli, "note", ref, f"bench note {i}"], TARGET),
        Figure("leaddesk followup", lambda i: [*cli, "followup", ref, ("+3d", "+4d")[i % 2]], TARGET),
        Figure("leaddesk --help", lambda i: [*cli, "--help"], TARGET, "issue 8"),
        Figure("leaddesk show PHONE", lambda i: [*cli, "show", str(phone)], None, "info: phone ref"),
        Figure("python -c 'import sqlite3'", lambda i: [py, "-c", "import sqlite3"], None, "info"),
    ]
    return [f for f in figs if phone is not None or f.name != "leaddesk show PHONE"]


def measure(env: dict[str, str], ref: str, phone: str | None, runs: int, warmups: int = 2) -> list[Figure]:
    """Warm up, then `runs` rounds of baseline, cmd, baseline, cmd, ... (command order rotated per round)."""
    figs = figures(ref, phone)
    baseline, commands = figs[0], figs[1:]
    for fig in figs:  # warm-up: page cache, and .pyc of stdlib/dependencies where they may be written
        for i in range(warmups):
            run_once(fig.argv(i), env)
    for r in range(runs):
        for k in range(len(commands)):
            fig = commands[(k + r) % len(commands)]
            baseline.samples.append(run_once(baseline.argv(r), env))
            fig.samples.append(run_once(fig.argv(r), env))
    return figs


def rows_of(figs: list[Figure]) -> list[dict[str, object]]:
    """Median, p90, ratio to the baseline median, target and verdict for each figure."""
    base = statistics.median(figs[0].samples)
    rows = []
    for fig in figs:
        median = statistics.median(fig.samples)
        ratio = median / base
        verdict = None if fig.target is None else ("pass" if ratio <= fig.target else "FAIL")
        rows.append({"figure": fig.name, "median_ms": round(median * 1000, 1),
                     "p90_ms": round(p90(fig.samples) * 1000, 1), "ratio": round(ratio, 2),
                     "target": fig.target, "result": verdict, "note": fig.note, "samples": len(fig.samples)})
    return rows


def compile_package(pkg: Path, env: dict[str, str]) -> None:
    """Write leaddesk's .pyc files once, as installing a wheel does."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(pkg)], env=env, check=True)


def source_env(env: dict[str, str], pkg: Path, scratch: Path, ref: str, phone: str | None) -> dict[str, str]:
    """An environment where leaddesk has no .pyc but everything else does.

    A private PYTHONPYCACHEPREFIX is filled by one run of each command (writes allowed),
    then leaddesk's part of it is removed and writing is turned off.
    """
    prefix = scratch / "pycache-source"
    warm = {**env, "PYTHONPYCACHEPREFIX": str(prefix)}
    for fig in figures(ref, phone):
        run_once(fig.argv(0), warm)
    shutil.rmtree(prefix / pkg.relative_to(pkg.anchor), ignore_errors=True)
    return {**warm, "PYTHONDONTWRITEBYTECODE": "1"}


def leaddesk_pyc_count(root: Path) -> int:
    """How many leaddesk .pyc files exist under a folder."""
    return sum(1 for _ in root.rglob("*.pyc")) if root.exists() else 0


def format_table(title: str, rows: list[dict[str, object]]) -> str:
    """The rows as a plain-text table."""
    lines = [title, f"{'figure':<28} {'median ms':>9} {'p90 ms':>8} {'ratio':>7}  {'target':<18} result"]
    for row in rows:
        target = "—" if row["target"] is None else f"≤ {row['target']:g}×"
        if row["note"] and row["note"] != "baseline":
            target += f" ({row['note']})" if row["target"] is not None else f" {row['note']}"
        lines.append(f"{row['figure']:<28} {row['median_ms']:>9.1f} {row['p90_ms']:>8.1f}"
                     f" {row['ratio']:>6.2f}×  {target:<18} {row['result'] or ''}")
    return "\n".join(lines)


def reference_lead(db: Path) -> tuple[int, str, str | None]:
    """How many leads there are, and the number and phone of an open lead in the middle of the table.

    The phone is None when the lead has none or shares it with another lead (then it is not a unique ref).
    """
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        count, low, high = conn.execute("SELECT count(*), min(number), max(number) FROM lead").fetchone()
        row = conn.execute(
            "SELECT l.number, l.phone, l.phone_e164 FROM lead l JOIN status s ON s.id = l.status_id"
            " WHERE s.category = 'open' AND l.number >= ? ORDER BY l.number LIMIT 1",
            ((low + high) // 2 if count else 0,)).fetchone()
        if row is None:
            raise SystemExit(f"bench: {db} has no open lead from the middle of the table on")
        number, phone, e164 = row
        shared = conn.execute("SELECT count(*) FROM lead WHERE phone_e164 = ?", (e164,)).fetchone()[0]
    finally:
        conn.close()
    return count, str(number), phone if phone and e164 and shared == 1 else None


def changes_recorded(db: Path, ref: str) -> dict[str, int]:
    """How many status, follow-up and note changes the history holds for the reference lead."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        lead_id = conn.execute("SELECT id FROM lead WHERE number = ?", (int(ref),)).fetchone()[0]
        counts = dict(conn.execute(
            "SELECT action, count(*) FROM history WHERE origin = 'cli'"
            " AND ((entity = 'lead' AND entity_id = ?)"
            " OR (entity = 'activity' AND field = 'lead_id' AND new = ?))"
            " GROUP BY action",
            (lead_id, str(lead_id))).fetchall())
    finally:
        conn.close()
    return {action: int(counts.get(action, 0)) for action in ("status", "followup", "note")}


def main(argv: list[str] | None = None) -> int:
    """Build or reuse the database, measure, print."""
    parser = argparse.ArgumentParser(description="Time leaddesk's quick commands against `python -c pass`.")
    parser.add_argument("--leads", type=int, default=100_000, help="leads in a new database (default 100000)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per figure (default 20)")
    parser.add_argument("--db", type=Path, help="database to reuse if it exists, else to build and keep")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--mode", choices=("both", "pyc", "source"), default="both",
                        help="pyc: leaddesk compiled, as installed; source: no leaddesk .pyc (default: both)")
    args = parser.parse_args(argv)
    if args.leads < 2 or args.runs < 1:
        parser.error("--leads must be at least 2 and --runs at least 1")

    scratch = Path(tempfile.mkdtemp(prefix="leaddesk-bench-"))
    try:
        db = args.db.resolve() if args.db else scratch / "bench.db"
        built = None
        if db.exists():
            log = f"reusing {db}"
        else:
            built = build_db(db, args.leads)
            log = f"built {db} in {built['seed_seconds'] + built['bulk_seconds']:.1f} s"
        count, ref, phone = reference_lead(db)
        if not args.json:
            print(f"{log}: {count} leads; reference lead #{ref} (phone {phone or 'none usable'})", flush=True)

        pkg = package_dir()
        env = base_env(db, scratch)
        results: dict[str, dict[str, Any]] = {}
        for mode in ("source", "pyc"):
            if args.mode not in ("both", mode):
                continue
            if mode == "source":
                menv = source_env(env, pkg, scratch, ref, phone)
                pyc_root = Path(menv["PYTHONPYCACHEPREFIX"]) / pkg.relative_to(pkg.anchor)
            else:
                compile_package(pkg, env)
                menv, pyc_root = env, pkg
            before = changes_recorded(db, ref)
            rows = rows_of(measure(menv, ref, phone, args.runs))
            after = changes_recorded(db, ref)
            results[mode] = {"rows": rows, "leaddesk_pyc_files": leaddesk_pyc_count(pyc_root),
                             "changes_written": {k: after[k] - before[k] for k in after}}

        info = {"python": sys.version.split()[0], "executable": sys.executable, "host": platform.node(),
                "machine": platform.machine(), "cpus": os.cpu_count(), "leaddesk": leaddesk_command(),
                "db": str(db), "leads": count, "reference": ref, "phone": phone, "runs": args.runs,
                "build": built, "target": TARGET, "stretch": STRETCH}
        if args.json:
            print(json.dumps({**info, "modes": results}, indent=2))
            return 0
        titles = {
            "pyc": "mode pyc: leaddesk compiled once (compileall), no PYTHONDONTWRITEBYTECODE; as installed",
            "source": "mode source: no leaddesk .pyc, PYTHONDONTWRITEBYTECODE=1 (stdlib/deps compiled)",
        }
        print(f"python {info['python']} on {info['host']} ({info['machine']}, {info['cpus']} cpus);"
              f" {args.runs} runs per figure, a baseline run before each;"
              " ratio = median / baseline median")
        for mode in ("pyc", "source"):
            if mode in results:
                written = ", ".join(f"{k} {v}" for k, v in results[mode]["changes_written"].items())
                print()
                print(format_table(titles[mode], results[mode]["rows"]))
                print(f"(leaddesk .pyc files available: {results[mode]['leaddesk_pyc_files']};"
                      f" changes written to #{ref} during the timed and warm-up runs: {written})")
        if "pyc" in results:
            quick = [r for r in results["pyc"]["rows"] if r["figure"] in
                     ("leaddesk status", "leaddesk show", "leaddesk note", "leaddesk followup")]
            worst = max(r["ratio"] for r in quick)
            verdict = "meets" if worst <= TARGET else "MISSES"
            stretch = "meets" if worst <= STRETCH else "misses"
            print(f"\nquick commands (pyc mode): worst {worst:.2f}× — {verdict} the {TARGET:g}× target,"
                  f" {stretch} the {STRETCH:g}× stretch")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
