"""Search at 100k leads: the list's instant search and the palette's lead finder, index against LIKE scan.

    .venv/bin/python bench/search.py [--leads 100000] [--runs 5] [--db PATH] [--json] [--queries]

Builds a database with make_leads.py `build_realistic` (seed 1; or reuses --db, whose schema is upgraded when it
is opened), then runs searches of six kinds (names, companies, phone fragments in several formats, email
fragments, two-letter texts, texts that match nothing), taken from leads spread over the database so that the
same database always gets the same searches (`texts_for`), through the Desk calls the TUI makes:
- list: `lead_page` of the first 100 rows in number order (what the lead list asks for when its search text
  changes: the total and the first page, read together; the table then fetches the next page in the background);
- finder: `list_leads` of 8 rows, most recently updated first (the command palette's lead finder).
Each call runs --runs times with the search index and, interleaved in the same process, with the index hidden so
that the same call scans with LIKE (the baseline: the search before migration 0005). Both must find the same
leads in the same order; a difference is reported and makes `ok` false. Per kind and call: median and p99
(nearest rank) over every run of every text of the kind. Targets (issue 8): median <= 5 ms, p99 <= 25 ms.
Before measuring, the index is brought up to date with what a raw builder wrote (`search.sync`, as the service
layer does after every write). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_leads import build_realistic

from leaddesk.settings import Settings
from leaddesk.store import search
from leaddesk.store.desk import Desk
from leaddesk.store.queries import LeadFilter

MEDIAN_TARGET_MS = 5.0
P99_TARGET_MS = 25.0
LIST_ROWS = 100  # the lead list's first query for a new search: its first page (screens/leads.py)
FINDER_ROWS = 8  # the palette's lead finder (commands.py)

PER_KIND = 8
NO_MATCH = ("nomatchxyz", "qqq", "zzzz zzzz", "+44 20 7946 0000 9", "nobody@nowhere.example")
SAMPLE_SQL = ("SELECT first_name, last_name, contact_name, company, email, phone_e164 FROM lead WHERE number >= :n"
              " AND first_name IS NOT NULL AND last_name IS NOT NULL AND company IS NOT NULL AND email LIKE '%@%'"
              " AND phone_e164 LIKE '+1%' AND length(phone_e164) = 12 ORDER BY number LIMIT 1")


def texts_for(desk: Desk) -> dict[str, list[str]]:
    """The searches of each kind, taken from PER_KIND leads spread over the number range (the first one from
    each 1/PER_KIND of it with a name, company, email and North American phone), each in a different shape as
    users type them: whole or in part, in any case, phones in several formats. Deterministic for a database."""
    with desk.db.read() as tx:
        top = int(tx.scalar("SELECT max(number) FROM lead"))
        leads = [dict(r) for r in (tx.one(SAMPLE_SQL, {"n": top * i // (PER_KIND + 1)})
                                   for i in range(1, PER_KIND + 1)) if r is not None]
    if not leads:
        raise SystemExit("search: no lead with a name, company, email and +1 phone to take searches from")
    names, companies, phones, emails = [], [], [], []
    for i, lead in enumerate(leads * (PER_KIND // len(leads) + 1)):
        if i == PER_KIND:
            break
        first, last, name, company = lead["first_name"], lead["last_name"], lead["contact_name"], lead["company"]
        words = company.split()
        local, _, domain = lead["email"].partition("@")
        area, exchange, line = lead["phone_e164"][2:5], lead["phone_e164"][5:8], lead["phone_e164"][8:]
        names.append((name, last.lower(), first.upper(), name[:len(first) + 4], last, name.lower(), first,
                      last.upper())[i])
        companies.append((company, words[0], company.lower(), " ".join(words[:2])[:len(words[0]) + 4],
                          words[0].upper(), company[:-1], max(words, key=len), company.upper())[i])
        phones.append((f"({area}) {exchange}", f"{area}-{exchange}-{line}", f"+1 {area}", f"{exchange} {line[:2]}",
                       line, f"({area}) {exchange}-{line}", f"+1 {area} {exchange}", f"{exchange}-{line[0]}")[i])
        emails.append((local, "@" + domain, lead["email"], f"{local}@{domain[:3]}", domain, local.upper(),
                       local.split(".")[0] + "." if "." in local else local[:5], lead["email"].lower())[i])
    two = [leads[0]["first_name"][:2].lower(), leads[-1]["last_name"][:2], "@" + emails[1][1],
           companies[0][:2].upper(), "zq", "xj"]
    return {"names": names, "companies": companies, "phones": phones, "emails": emails, "two letters": two,
            "no match": list(NO_MATCH)}


def p99(samples: list[float]) -> float:
    """The 99th percentile by nearest rank."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


@contextmanager
def without_index() -> Iterator[None]:
    """The baseline: the search as if the FTS5 table did not exist (LIKE over every lead, as before 0005)."""
    with mock.patch.object(search, "has_index", lambda tx: False):
        yield


def list_call(desk: Desk, text: str) -> tuple[int, list[int]]:
    """The lead list's query when its search text changes: the total and the first rows."""
    total, rows = desk.lead_page(LeadFilter(search=text, limit=LIST_ROWS))
    return total, [r["number"] for r in rows]


def finder_call(desk: Desk, text: str) -> tuple[int, list[int]]:
    """The palette's lead finder: the most recently updated matches."""
    rows = desk.list_leads(LeadFilter(search=text, limit=FINDER_ROWS, sort="updated", descending=True))
    return len(rows), [r["number"] for r in rows]


CALLS: dict[str, Callable[[Desk, str], tuple[int, list[int]]]] = {"list": list_call, "finder": finder_call}


def _timed(call: Callable[[Desk, str], Any], desk: Desk, text: str) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call(desk, text)
    return (time.perf_counter() - started) * 1000, result


def measure(desk: Desk, runs: int) -> dict[str, Any]:
    """Every text of every kind through both calls, with and without the index, `runs` times each (after one
    warm-up of each); returns per (call, kind) the samples and any text whose results differ."""
    queries = texts_for(desk)
    samples: dict[tuple[str, str], dict[str, list[float]]] = {}
    per_text: dict[tuple[str, str], dict[str, Any]] = {}
    differ: list[tuple[str, str, str]] = []  # (call, kind, text)
    for call_name, call in CALLS.items():
        for kind, texts in queries.items():
            got = samples.setdefault((call_name, kind), {"index": [], "like": []})
            for text in texts:
                _, found = _timed(call, desk, text)
                with without_index():
                    _, expected = _timed(call, desk, text)
                if found != expected:
                    differ.append((call_name, kind, text))
                mine: list[float] = []
                for run in range(runs):
                    for mode in (("index", "like") if run % 2 == 0 else ("like", "index")):
                        if mode == "index":
                            ms, _ = _timed(call, desk, text)
                            mine.append(ms)
                        else:
                            with without_index():
                                ms, _ = _timed(call, desk, text)
                        got[mode].append(ms)
                per_text[(call_name, text)] = {"kind": kind, "matches": found[0], "median_ms": statistics.median(mine)}
    return {"samples": samples, "per_text": per_text, "differ": differ, "queries": queries}


def figures(measured: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows {figure, value_ms, baseline_ms, ratio, target_ms, ok}: median and p99 per call and kind."""
    rows = []
    for (call_name, kind), got in measured["samples"].items():
        same = not any(d[:2] == (call_name, kind) for d in measured["differ"])
        for stat, fn, target in (("median", statistics.median, MEDIAN_TARGET_MS), ("p99", p99, P99_TARGET_MS)):
            value, baseline = fn(got["index"]), fn(got["like"])
            rows.append({"figure": f"search {call_name}: {kind} {stat}", "value_ms": round(value, 3),
                         "baseline_ms": round(baseline, 3), "ratio": round(value / baseline, 3) if baseline else None,
                         "target_ms": target, "ok": bool(value <= target and same)})
    return rows


def settle(desk: Desk) -> int:
    """Bring the search index up to date with what the builder wrote (raw SQL: its leads are in the index's
    queue, as after any write outside the service layer, until the next change through it); how many were
    queued. Every write through the service layer leaves the queue empty (store/search.py `sync`)."""
    with desk.db.write() as tx:
        return search.sync(tx)


def run(db_path: str, runs: int) -> list[dict[str, Any]]:
    """Measure on an existing database (see the module's docstring); the rows of the table."""
    desk = Desk.open(db_path, login="bench", settings=Settings())
    try:
        settle(desk)
        return figures(measure(desk, runs))
    finally:
        desk.close()


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000, help="leads in a new database (default 100000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each text and call (default 5)")
    parser.add_argument("--db", type=Path, help="reuse this database (built there first if missing)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--queries", action="store_true", help="also show each text's matches and median")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="leaddesk-search-") as scratch:
        db = args.db or Path(scratch) / "bench.db"
        if not db.exists():
            print(f"building {args.leads} leads in {db} ...", file=sys.stderr)
            build_realistic(db, args.leads, seed=1)
        started = time.perf_counter()
        desk = Desk.open(str(db), login="bench", settings=Settings())  # upgrades an older schema
        opened = time.perf_counter() - started
        try:
            started = time.perf_counter()
            queued = settle(desk)
            settled = time.perf_counter() - started
            leads = desk.count_leads(LeadFilter(limit=None))
            with desk.db.read() as tx:
                indexed = search.has_index(tx)
            measured = measure(desk, args.runs)
        finally:
            desk.close()
        rows = figures(measured)
    if args.json:
        differ = [f"{call} {text!r}" for call, _kind, text in measured["differ"]]
        print(json.dumps({"leads": leads, "runs": args.runs, "index": indexed, "differ": differ,
                          "open_seconds": round(opened, 2), "queued": queued, "sync_seconds": round(settled, 2),
                          "machine": platform.platform(), "figures": rows}, indent=2))
        return 0
    print(f"search: {leads} leads, {args.runs} runs per text and call, FTS5 index: {'yes' if indexed else 'NO'}"
          f" (open {opened:.2f} s; {queued} queued leads indexed in {settled:.2f} s)")
    print(f"{'figure':38} {'value ms':>9} {'LIKE ms':>9} {'ratio':>7} {'target':>7}  result")
    for row in rows:
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.3f}"
        print(f"{row['figure']:38} {row['value_ms']:9.2f} {row['baseline_ms']:9.2f} {ratio:>7}"
              f" {row['target_ms']:7.0f}  {'pass' if row['ok'] else 'FAIL'}")
    if args.queries:
        print(f"\n{'call':7} {'kind':12} {'text':22} {'matches':>8} {'median ms':>10}")
        for (call_name, text), info in measured["per_text"].items():
            print(f"{call_name:7} {info['kind']:12} {text!r:22} {info['matches']:8} {info['median_ms']:10.2f}")
    differ = [f"{call} {text!r}" for call, _kind, text in measured["differ"]]
    print("same leads, same order as the LIKE scan: " + ("yes" if not differ else "NO: " + ", ".join(differ)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
