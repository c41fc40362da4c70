"""Importing leads from CSV and Excel files, in bulk, with the rules of a lead typed by hand.

The pieces, one job each:
- `tabular.open_table()` reads a file's header and streams its rows (CSV in any delimiter and
  encoding, `.xlsx`);
- `mapping.map_columns()` matches the headers to fields;
- `import_checks` checks values like `fields.prepare` (memoised per distinct value), with
  `import_worker`'s helper process on large files; `import_status` lets a row start in a closed
  or qualified status when it carries what that status needs;
- `import_report` keeps the problems and writes the error CSV;
- this module runs the import: `run_import()` validates every row with `leads.new_lead_row()`
  (the same code `add_lead` uses) and writes the good rows in chunks with one `executemany`
  each. Memory stays flat: rows are streamed, duplicates are looked up
  per chunk in the database (where earlier rows of the same file already are), and only the
  first problems are kept for the report; every row that is not imported goes to the error CSV
  with its reason. It also lists and undoes batches.
- All of one import is one transaction: a killed import leaves nothing (no leads, no batch).
  A dry run is the same transaction rolled back by the caller.
- History: one `create` row per imported lead (field `import_batch_id`, the batch), not one row
  per field as `add_lead` writes: the batch row keeps the file and options, the lead its values.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from operator import itemgetter
from pathlib import Path
from typing import Any

from leaddesk.settings import Settings
from leaddesk.store import derived, fields, leads, search  # noqa: F401 - `importing.fields` is used by callers
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.errors import NotFound, RuleError
from leaddesk.store.import_checks import CATALOG_TABLES, CachingTx, FieldError, FieldMemo
from leaddesk.store.import_report import ERROR_COLUMN, ErrorFile, Problem, error_path_for
from leaddesk.store.import_rows import CHUNK, CheckedRow, RowChecker, unpack_cells, with_kept
from leaddesk.store.import_status import NO_CLOSING, Closing, apply, created_at, link_customer, target_status
from leaddesk.store.import_worker import RowWorker, use_worker
from leaddesk.store.mapping import ColumnMap, map_columns, norm, resolve_field
from leaddesk.store.rules import why_not_by_hand
from leaddesk.store.tabular import Table, open_table

__all__ = [  # the public names callers import from here (the pieces live in their own modules)
    "CHUNK", "ERROR_COLUMN", "Candidate", "DryRunDone", "ErrorFile", "FieldMemo", "ImportOptions", "Plan",
    "Problem", "Run", "Table", "assign_owners", "error_path_for", "insert_many", "list_batches", "open_table",
    "plan_import", "preview", "run_import", "undo_batch", "use_worker",
]

SHOWN = 50  # problems kept for the report (all of them go to the error file)
ON_DUPLICATE = ("skip", "update", "create")
UNKNOWN = ("keep", "ignore")
SEED_001 = ("contact_name", "phone", "source", "company_name", "email", "address", "city", "state", "priority",
            "description")
SEED_001_REQUIRED = ("name", "phone", "source")


# -- the import ----------------------------------------------------------------------------------
class DryRunDone(Exception):
    """Raised inside the import transaction of a dry run so that it rolls back."""

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__("dry run")
        self.summary = summary


@dataclass
class ImportOptions:
    """What the user chose for an import."""

    overrides: dict[str, str] = field(default_factory=dict)
    on_duplicate: str = "skip"
    unknown: str = "keep"
    sheet: str | None = None
    require: list[str] | None = None  # None: seed 001's required columns when the file is in its format
    errors_path: Path | None = None  # None: FILE.errors.csv next to the input
    dry_run: bool = False

    def check(self) -> None:
        """Refuse unknown choices."""
        if self.on_duplicate not in ON_DUPLICATE:
            raise RuleError(f"--on-duplicate must be {', '.join(ON_DUPLICATE)}, not '{self.on_duplicate}'")
        if self.unknown not in UNKNOWN:
            raise RuleError(f"--unknown must be keep or ignore, not '{self.unknown}'")


@dataclass
class Plan:
    """A file opened and mapped, ready to import (or to preview)."""

    table: Table
    cmap: ColumnMap
    require: list[str]
    options: ImportOptions
    notes: list[str] = field(default_factory=list)


def plan_import(path: Path, settings: Settings, options: ImportOptions) -> Plan:
    """Open the file and map its columns; refuse a bad mapping before anything is written."""
    options.check()
    table = open_table(path, options.sheet)
    errors = options.errors_path or error_path_for(path)
    if errors.resolve() == path.resolve():
        raise RuleError(f"the error file cannot be the file being imported ({path})")
    overrides = dict(options.overrides)
    if ERROR_COLUMN in table.headers and not any(norm(k) == ERROR_COLUMN for k in overrides):
        overrides[ERROR_COLUMN] = "-"  # a fixed error file: its error column is ours, not data
    cmap = map_columns(table.headers, overrides, settings)
    notes = list(table.warnings)
    if options.require is None:
        seed = set(SEED_001)
        require = list(SEED_001_REQUIRED) if "contact_name" in table.headers and set(table.headers) <= (
            seed | {ERROR_COLUMN}) else []
    else:
        require = []
        for name in options.require:
            target = resolve_field(name, settings)
            if target is not None and target not in require:
                require.append(target)
    mapped = set(cmap.fields.values())
    for target in require:
        if target not in mapped and not (target == "name" and {"first_name", "last_name"} & mapped):
            raise RuleError(f"{path.name} has no column for the required field '{target}'")
    if not mapped - {"number"}:
        raise RuleError(f"{path.name}: no column matches a lead field (columns: {', '.join(table.headers)});"
                        " name them with --map \"Header=field\"")
    numbered = [table.headers[i] for i, t in cmap.fields.items() if t == "number"]
    if numbered:
        notes.append(f"column '{numbered[0]}' is not imported: this desk gives its own lead numbers")
    if cmap.unknown:
        what = "kept in the description" if options.unknown == "keep" else "ignored (--unknown ignore)"
        notes.append(f"columns not matched to a field, {what}: {', '.join(cmap.unknown)}")
    return Plan(table, cmap, require, options, notes)


def preview(plan: Plan, rows: int = 5) -> dict[str, Any]:
    """The mapping and the first rows as they would be read (no database needed)."""
    sample = []
    for count, (line, cells) in enumerate(plan.table.rows()):
        if count >= rows:
            break
        values, extra = plan.cmap.values(cells)
        sample.append({"line": line, "values": values, "unknown": extra})
    return {"file": str(plan.table.path), "kind": plan.table.kind, "encoding": plan.table.encoding,
            "delimiter": plan.table.delimiter, "sheet": plan.table.sheet, "rows": plan.table.total,
            "mapping": [{"column": h, "field": t} for h, t in plan.cmap.describe()], "required": plan.require,
            "notes": plan.notes, "sample": sample}


@dataclass
class Candidate:
    """A valid row waiting for its duplicate check and insert."""

    line: int
    cells: list[str] | str  # see import_rows.unpack_cells
    row: dict[str, Any]
    given: dict[str, Any]  # the row's own values (without the unknown columns; see CheckedRow.given)
    status: str | None = None
    kept: str = ""  # the unknown columns as "Header: value" lines, for the description
    closing: Closing = field(default_factory=Closing)  # customer, created, what a closed status needs
    keys: list[tuple[str, str]] = field(default_factory=list)  # ("phone"/"email", normalised) to find duplicates
    warning: Problem | None = None  # imported, with this said about it


Finished = tuple[Candidate | Problem, list[str] | str]
"""A row finished by `candidate`, with its cells (for the error file)."""


@dataclass
class Run:
    """The state of one import while it runs."""

    ctx: Ctx
    plan: Plan
    batch_id: int
    memo: FieldMemo = field(default_factory=FieldMemo)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("read", "imported", "updated", "duplicates", "rejected", "warnings"), 0))
    problems: list[Problem] = field(default_factory=list)
    next_number: int | None = None
    errors: ErrorFile | None = None
    pending: list[Candidate] = field(default_factory=list)
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (number, line) in this chunk


def assign_owners(ctx: Ctx, rows: list[dict[str, Any]]) -> None:
    """Hook for the assignment rules of the team-desk issue (issue 5): called on every chunk of new lead
    rows before they are inserted, it may set `owner_id` (rows without an owner column default to the
    importing user, as a lead typed by hand does, unless the [assignment] rules are on)."""
    if not ctx.settings.assignment.enabled:
        return
    from leaddesk.store import assignment

    assignment.assign_owners(ctx, rows)


def run_import(ctx: Ctx, plan: Plan, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Import every row of a planned file inside the caller's transaction; return the summary."""
    with _old_objects_frozen():
        return _run(ctx, plan, progress)


@contextlib.contextmanager
def _old_objects_frozen() -> Iterator[None]:
    """Leave the objects that exist before the import out of the garbage collector's passes while it runs
    (`gc.freeze`; put back at the end). An import makes millions of short-lived objects: each of Python's full
    collections it triggers walked every module, class and function loaded before it (in a process that had
    loaded SQLAlchemy and Alembic, 100k rows: ~0.6 s of the importing process). The helper process, forked
    meanwhile, inherits the freeze. Cyclic garbage among the frozen objects waits for the end of the import."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _run(ctx: Ctx, plan: Plan, progress: Callable[[int, int], None] | None) -> dict[str, Any]:
    options = plan.options
    tx = CachingTx(ctx.tx)
    run_ctx = replace(ctx, tx=tx)
    batch_options = {"mapping": {h: t for h, t in plan.cmap.describe()}, "on_duplicate": options.on_duplicate,
                     "unknown": options.unknown, "sheet": plan.table.sheet, "require": plan.require,
                     "encoding": plan.table.encoding, "delimiter": plan.table.delimiter, "change_id": ctx.change_id}
    batch_id = tx.insert(
        "INSERT INTO import_batch (file, user_id, at, state, options) VALUES (:f, :u, :at, 'running', :o)",
        {"f": str(plan.table.path), "u": ctx.user_id, "at": ctx.at, "o": json.dumps(batch_options)})
    run = Run(run_ctx, plan, batch_id)
    write_errors = options.errors_path is not None or not options.dry_run
    if write_errors:
        run.errors = ErrorFile(options.errors_path or error_path_for(plan.table.path), plan.table.headers)
    checker = RowChecker(plan.cmap, ctx.settings, plan.require, options.unknown == "keep",
                         keep_values=options.on_duplicate == "update")
    worker = RowWorker(checker, plan.table.path, plan.table.sheet, CHUNK, finish=_finisher(run_ctx, plan.cmap)) \
        if use_worker(plan.table.total) else None
    complete = False
    cache: int | None = None
    try:
        cache = _widen_cache(ctx.tx)
        try:
            with search.batch_indexed_at_end(ctx.tx, batch_id):  # see insert_many
                for chunk in (worker.chunks() if worker is not None else checker.chunks(plan.table, CHUNK)):
                    _process(run, chunk, progress)
        except RuleError as exc:  # the file, refused half way through (cut off, a broken line...): all or nothing
            said = str(exc)
            done = said if said.endswith("nothing was imported") else f"{said}; nothing was imported"
            raise RuleError(done) from None
        if progress:
            progress(run.counts["read"], run.counts["read"])  # the total was an estimate: now it is known
        complete = True
    finally:
        if cache is not None:
            ctx.tx.execute(f"PRAGMA cache_size = {int(cache)}")
        if worker is not None:
            worker.close()
        if run.errors is not None:
            run.errors.close(complete)
    notes = list(plan.notes)
    if run.errors is not None and not options.dry_run and run.errors.remove_stale():
        notes.append(f"no row was rejected: removed the old error file {run.errors.path.name}"
                          " an earlier import of this file left")
    if run.next_number is not None:
        tx.execute("UPDATE setting SET value = :n WHERE key = 'last_lead_number'", {"n": str(run.next_number - 1)})
    search.sync(ctx.tx)  # the search index, once for the whole file (see search.sync)
    counts = run.counts
    tx.execute(
        "UPDATE import_batch SET state = 'done', rows_read = :r, imported = :i, updated = :up, duplicates = :d,"
        " rejected = :x WHERE id = :b",
        {"r": counts["read"], "i": counts["imported"], "up": counts["updated"], "d": counts["duplicates"],
         "x": counts["rejected"], "b": batch_id})
    ctx.record("import_batch", batch_id, "create", "file", None, str(plan.table.path))
    return {
        "batch": batch_id, "file": str(plan.table.path), "dry_run": options.dry_run, **counts,
        "on_duplicate": options.on_duplicate, "unknown": options.unknown, "required": plan.require,
        "mapping": [{"column": h, "field": t} for h, t in plan.cmap.describe()], "notes": notes,
        "problems": [p.__dict__ for p in sorted(run.problems, key=lambda p: p.line)], "more_problems": max(
            counts["rejected"] + counts["duplicates"] + counts["warnings"] - len(run.problems), 0),
        "error_file": str(run.errors.path) if run.errors is not None and run.errors.count else None,
    }


IMPORT_CACHE_KIB = 8192
"""SQLite's page cache while an import writes (the connection's is 2 MB): a chunk's rows go into the lead table's
indexes and the search index at scattered places, and with 2 MB many of those pages were written out to the WAL
and read back during the same import (100k rows: ~2.0 s of system time; ~1.5 s with 8 MB, ~1.3 s with 16 MB, which
added 15 MB to the peak). Bounded: the same 8 MB whatever the file's size; given back when the import ends."""


def _widen_cache(tx: Tx) -> int | None:
    """On SQLite, raise the connection's page cache to `IMPORT_CACHE_KIB` for the import; the old setting (for
    the caller to put back), or None when nothing changed."""
    if tx.dialect != "sqlite":
        return None
    old = tx.scalar("PRAGMA cache_size")
    tx.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    return int(old)


def _report(run: Run, problem: Problem, cells: list[str] | str | None = None) -> None:
    if len(run.problems) < SHOWN:
        run.problems.append(problem)
    if cells is not None and run.errors is not None:
        reason = problem.text() if problem.kind == "rejected" else f"{problem.kind}: {problem.text()}"
        run.errors.write(unpack_cells(cells), reason)


def _headers_of(cmap: ColumnMap, target: str) -> str:
    names = [cmap.headers[i] for i, t in cmap.fields.items() if t == target]
    return " / ".join(names) if names else target


def _process(run: Run, chunk: list[CheckedRow] | list[Finished],
             progress: Callable[[int, int], None] | None) -> None:
    """Finish, de-duplicate and write one chunk (its rows as read and checked, or already finished by the
    helper process: `import_worker`)."""
    plan = run.plan
    for item in chunk:
        run.counts["read"] += 1
        if isinstance(item, CheckedRow):
            _count(run, candidate(run.ctx, run.memo, plan.cmap, item), item.cells)
        else:
            _count(run, *item)
    _flush(run)
    if progress:
        progress(run.counts["read"], plan.table.total)


def _count(run: Run, result: Candidate | Problem, cells: list[str] | str) -> None:
    """Count a finished row: a rejected one is reported, a good one waits in `pending` (its warning reported)."""
    if isinstance(result, Problem):
        run.counts["rejected"] += 1
        _report(run, result, cells)
        return
    if result.warning is not None:
        run.counts["warnings"] += 1
        _report(run, result.warning)
    run.pending.append(result)


def _finisher(ctx: Ctx, cmap: ColumnMap) -> Callable[[], Callable[[CheckedRow], Finished] | None] | None:
    """On SQLite, how the helper process finishes rows itself (`candidate` on a connection of its own to the
    database file, opened in the helper: the catalog as committed, which the import does not change), so that
    the importing process only looks for duplicates and writes. 100k rows: ~0.9 s of the importing process's
    ~5.5 s moved to the helper, which had time to spare. None elsewhere (PostgreSQL, a database in memory, a
    file without WAL): the importing process finishes them; so it does when the helper sees another catalog.
    (Updates of catalog rows in the import's own transaction before it would go unseen: none makes any.)"""
    inner = ctx.tx.inner if isinstance(ctx.tx, CachingTx) else ctx.tx
    conn = getattr(inner, "conn", None)
    if inner.dialect != "sqlite" or conn is None or conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        return None  # (without WAL a reader would wait for this transaction)
    file = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    if not file:
        return None
    seen_here = _catalog_counts(conn)

    def start() -> Callable[[CheckedRow], Finished] | None:
        import sqlite3

        from leaddesk.store.db import SqliteTx

        reader = sqlite3.connect(file, isolation_level=None)
        reader.row_factory = sqlite3.Row
        reader.execute("PRAGMA query_only = ON")
        if _catalog_counts(reader) != seen_here:
            # this transaction wrote the catalog before the import (a new desk's preset, the acting user's row),
            # which the helper cannot see: the importing process finishes the rows
            reader.close()
            return None
        here = replace(ctx, tx=CachingTx(SqliteTx(reader)))
        memo = FieldMemo()
        return lambda checked: (candidate(here, memo, cmap, checked), checked.cells)

    return start


_HELPER_READS = tuple(sorted(CATALOG_TABLES - {"customer", "user"}))  # (customers are linked in `_insert`)


def _catalog_counts(conn: Any) -> tuple[int, ...]:
    """How many rows each catalog table the helper reads holds, as `conn` sees them."""
    return tuple(int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for table in _HELPER_READS)


def candidate(ctx: Ctx, memo: FieldMemo, cmap: ColumnMap, checked: CheckedRow) -> Candidate | Problem:
    """Finish checking one row (the fields that need the database): the new lead's row, or why it is rejected.
    Reads the catalog only (sources, users, statuses...), which an import does not change: it runs in the
    importing process or, on SQLite, in the helper process on its own connection (`import_worker`)."""
    line = checked.line
    if checked.missing is not None:
        target = checked.missing
        return Problem(line, "rejected", _headers_of(cmap, target), f"{target} is required")
    given, status, kept = checked.given, checked.status, checked.kept
    closing = checked.closing or NO_CLOSING  # one object for all such rows: it crosses the pipe once per chunk
    try:
        memo.check_custom(ctx.settings, given.get("custom") or {})
        closed = memo.target_status(ctx, status)
        columns = memo.finish(ctx.tx, ctx.settings, checked)
        row = leads.new_lead_row(ctx, given, status=None if closed else status,
                                 prepare_values=lambda _tx, _settings, _values: columns,
                                 initial_status=memo.initial_status)
        apply(ctx, row, closed, closing)
        if closing.created:
            closing = replace(closing, created=created_at(ctx, closing.created) or "")
    except FieldError as exc:
        return Problem(line, "rejected", _headers_of(cmap, exc.target), str(exc))
    except RuleError as exc:
        message = str(exc)
        if message.startswith("a lead needs"):
            column = _headers_of(cmap, "name") + " / " + _headers_of(cmap, "company")
        elif status is not None:
            column = _headers_of(cmap, "status")
        else:
            column = ""
        return Problem(line, "rejected", column, message)
    warning = None
    if row.get("phone") and not row.get("phone_e164"):
        warning = Problem(line, "warning", _headers_of(cmap, "phone"),
                          f"phone '{row['phone']}' is not a full number: imported as typed, not used to find"
                          " duplicates")
    return Candidate(line, checked.cells, row, given, status, kept, closing, _keys(row), warning)


def _keys(row: dict[str, Any]) -> list[tuple[str, str]]:
    keys = []
    if row.get("phone_e164"):
        keys.append(("phone", row["phone_e164"]))
    if row.get("email_lower"):
        keys.append(("email", row["email_lower"]))
    return keys


def _existing(tx: Tx, pending: list[Candidate]) -> dict[tuple[str, str], dict[str, Any]]:
    """Leads already in the database (earlier rows of this file included) with a chunk's phones or emails."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, column in (("phone", "phone_e164"), ("email", "email_lower")):
        wanted = sorted({value for c in pending for k, value in c.keys if k == kind})
        for start in range(0, len(wanted), 400):
            part = wanted[start:start + 400]
            params = {f"k{i}": v for i, v in enumerate(part)}
            marks = ", ".join(f":k{i}" for i in range(len(part)))
            for r in tx.all(f"SELECT id, number, import_batch_id, {column} AS k FROM lead WHERE {column} IN ({marks})"
                            " ORDER BY number", params):
                found.setdefault((kind, r["k"]), dict(r))
    return found


def _flush(run: Run) -> None:
    """Check a chunk's rows for duplicates, then insert the new ones (or update the matches)."""
    if not run.pending:
        return
    ctx, plan = run.ctx, run.plan
    mode = plan.options.on_duplicate
    existing = _existing(ctx.tx, run.pending)
    run.seen = {}
    inserts: list[Candidate] = []
    for cand in run.pending:
        match = None
        for key in cand.keys:
            if key in existing:
                lead = existing[key]
                same_file = lead["import_batch_id"] == run.batch_id
                match = (key[0], int(lead["number"]), "an earlier row of this file" if same_file else "")
                break
            if f"{key[0]}:{key[1]}" in run.seen:
                number, line = run.seen[f"{key[0]}:{key[1]}"]
                match = (key[0], number, f"line {line} of this file")
                break
        if match is not None and mode != "create":
            kind, number, where = match
            run.counts["duplicates"] += 1
            if mode == "skip":
                what = f"lead {number}" + (f", {where}" if where else "")
                _report(run, Problem(cand.line, "duplicate", _headers_of(plan.cmap, kind),
                                     f"same {kind} as {what}: skipped (--on-duplicate skip)"), cand.cells)
                continue
            if where.startswith("line"):  # the match is a row of this chunk: write it first
                _insert(run, inserts)
                inserts = []
            _update(run, cand, number)
            continue
        if match is not None:
            run.counts["duplicates"] += 1
        if run.next_number is None:
            run.next_number = leads.next_number(ctx)
        cand.row["number"] = run.next_number
        run.next_number += 1
        for kind, value in cand.keys:
            run.seen.setdefault(f"{kind}:{value}", (cand.row["number"], cand.line))
        inserts.append(cand)
    _insert(run, inserts)
    run.pending = []


def _update(run: Run, cand: Candidate, number: int) -> None:
    """--on-duplicate update: the row's non-empty fields go into the existing lead (as an edit would)."""
    ctx = run.ctx
    lead_id = ctx.tx.scalar("SELECT id FROM lead WHERE number = :n", {"n": number})
    from leaddesk.store.refs import load_lead

    lead = load_lead(ctx.tx, int(lead_id))
    given = {k: v for k, v in cand.given.items() if v not in (None, "")}
    if cand.kept:  # the unknown columns are added to the description, never replace it
        given["description"] = with_kept(given.get("description") or lead["description"], cand.kept)
    ctx.tx.execute("SAVEPOINT import_update")  # an update is all of the row or nothing
    column = ""
    try:
        lead = leads.edit_lead(ctx, lead, given)
        if cand.status:
            column = _headers_of(run.plan.cmap, "status")
            lead = _update_status(ctx, lead, cand)
        if cand.closing.customer and not lead.get("customer_id"):
            column = _headers_of(run.plan.cmap, "customer")
            customer = link_customer(ctx, lead, cand.closing.customer)
            lead = leads._apply(ctx, lead, {"customer_id": customer}, "customer")
    except RuleError as exc:
        ctx.tx.execute("ROLLBACK TO SAVEPOINT import_update")
        run.counts["rejected"] += 1
        run.counts["duplicates"] -= 1
        _report(run, Problem(cand.line, "rejected", column, f"cannot update lead {number}: {exc}"), cand.cells)
        return
    finally:
        ctx.tx.execute("RELEASE SAVEPOINT import_update")
    run.counts["updated"] += 1


def _update_status(ctx: Ctx, lead: dict[str, Any], cand: Candidate) -> dict[str, Any]:
    """--on-duplicate update of the status: picked (open statuses), won or lost by the lead actions."""
    assert cand.status is not None
    target = target_status(ctx, cand.status)
    closing = cand.closing
    if target is None:
        return leads.set_status(ctx, lead, cand.status, reopen=False)[0]
    if lead["status_id"] == target.id:
        return lead
    if target.category == "won" and closing.job_value:
        return leads.mark_won(ctx, lead, closing.job_value)
    if target.category == "lost":
        return leads.mark_lost(ctx, lead, closing.lost_reason or None, closing.lost_note)
    raise RuleError(why_not_by_hand(target))


def _insert(run: Run, cands: list[Candidate]) -> None:
    if not cands:
        return
    ctx = run.ctx
    linked = []
    for cand in cands:
        if cand.closing.customer:
            try:
                cand.row["customer_id"] = link_customer(ctx, cand.row, cand.closing.customer)
            except FieldError as exc:
                run.counts["rejected"] += 1
                _report(run, Problem(cand.line, "rejected", _headers_of(run.plan.cmap, exc.target), str(exc)),
                        cand.cells)
                continue
        linked.append(cand)
    if not linked:
        return
    rows = [c.row for c in linked]
    assign_owners(ctx, rows)
    for cand in linked:
        cand.row["customer_id"] = cand.row.get("customer_id")  # every row has the same columns: one statement
        cand.row["created_at"] = cand.closing.created or ctx.at
        cand.row["updated_at"] = ctx.at
        cand.row["import_batch_id"] = run.batch_id
    earliest_due = derived.leads_importing(ctx, rows)
    insert_many(ctx.tx, "lead", rows)
    ctx.tx.inner.execute(  # type: ignore[attr-defined]
        "INSERT INTO history (change_id, entity, entity_id, action, field, old, new, user_id, at, origin)"
        " SELECT :c, 'lead', id, 'create', 'import_batch_id', NULL, :b, :u, :at, :o FROM lead"
        " WHERE number >= :lo AND number <= :hi",
        {"c": ctx.change_id, "b": str(run.batch_id), "u": ctx.user_id, "at": ctx.at, "o": ctx.origin,
         "lo": rows[0]["number"], "hi": rows[-1]["number"]})
    derived.leads_imported(ctx, rows[0]["number"], rows[-1]["number"], earliest_due)
    run.counts["imported"] += len(rows)


def insert_many(tx: Tx, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows with one `executemany` per set of columns (on SQLite a column some rows lack gets its declared
    default, as the database would give it, so that the rows share one statement), one statement per row
    elsewhere (the portable path).

    On SQLite the lead table's insert trigger must be lifted meanwhile (`search.batch_indexed_at_end`): with a
    trigger every row carries a statement journal (100k rows: ~7 s instead of ~2 s). Without one, executemany is
    also cheaper than multi-row INSERTs, which need a statement journal of their own (a chunk's ~8 MB of original
    pages; 100k rows: 0.5 GB written to temporary files)."""
    if not rows:
        return
    inner = tx.inner if isinstance(tx, CachingTx) else tx
    conn = getattr(inner, "conn", None)
    if inner.dialect != "sqlite" or conn is None or not hasattr(conn, "executemany"):
        same: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            same.setdefault(tuple(row), []).append(row)
        for names, group in same.items():
            inner.many(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + c for c in names)})", group)
        return
    defaults = _literal_defaults(conn, table)
    first = rows[0].keys()
    columns = dict.fromkeys(first)
    for row in rows:
        if row.keys() != first:  # rare: a row with other columns than the first's
            columns.update(dict.fromkeys(row))
    if all(c in defaults for c in columns):
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {tuple(columns): rows}
    else:
        groups = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
    for names, group in groups.items():
        pick = itemgetter(*names) if len(names) > 1 else lambda row, name=names[0]: (row[name],)
        missing = {c: defaults.get(c) for c in names}
        width = len(names)  # a row with as many columns has them all (its columns are among `names`)
        values = [pick(row) if len(row) == width else pick({**missing, **row}) for row in group]  # positional
        conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                         values)


_DEFAULTS: dict[tuple[int, str], dict[str, Any]] = {}


def _literal_defaults(conn: Any, table: str) -> dict[str, Any]:
    """{column: its declared default} for the columns whose default is a literal (SQLite's table_info)."""
    key = (id(conn), table)
    if key not in _DEFAULTS:
        found: dict[str, Any] = {}
        for _cid, name, _type, _notnull, default, _pk in conn.execute(f"PRAGMA table_info({table})"):
            if default is None or default.upper() == "NULL":
                found[name] = None
            elif len(default) >= 2 and default[0] == default[-1] == "'":
                found[name] = default[1:-1].replace("''", "'")
            else:
                try:
                    found[name] = int(default)
                except ValueError:
                    continue  # an expression: rows without this column are inserted apart
        _DEFAULTS[key] = found
    return _DEFAULTS[key]


# -- batches -------------------------------------------------------------------------------------
def list_batches(tx: Tx, limit: int = 50) -> list[dict[str, Any]]:
    """The latest imports, newest first, with how many of their leads are still there."""
    rows = tx.all(
        "SELECT b.id, b.file, b.at, b.state, b.rows_read, b.imported, b.updated, b.duplicates, b.rejected,"
        " b.options, u.login AS user, (SELECT count(*) FROM lead l WHERE l.import_batch_id = b.id) AS leads"
        " FROM import_batch b LEFT JOIN \"user\" u ON u.id = b.user_id ORDER BY b.id DESC LIMIT :n", {"n": limit})
    out = []
    for r in rows:
        item = dict(r)
        try:
            item["options"] = json.loads(item["options"] or "{}")
        except ValueError:
            item["options"] = {}
        out.append(item)
    return out


UNTOUCHED = (
    "l.import_batch_id = :b AND l.version = 1"  # every change bumps the version (created_at may be the file's)
    " AND NOT EXISTS (SELECT 1 FROM activity a WHERE a.lead_id = l.id)"
    " AND NOT EXISTS (SELECT 1 FROM deal d WHERE d.lead_id = l.id)"
    " AND NOT EXISTS (SELECT 1 FROM lead_merge m WHERE m.keep_id = l.id)"
    " AND NOT EXISTS (SELECT 1 FROM history h WHERE h.entity = 'lead' AND h.entity_id = l.id"
    " AND h.change_id <> :c AND h.change_id <> :cid)"  # :cid, the undo itself (its delete rows come first)
)


def undo_batch(ctx: Ctx, batch_id: int) -> dict[str, Any]:
    """Remove the leads an import created that nobody touched since; report the others."""
    batch = ctx.tx.one("SELECT id, file, state, options, updated FROM import_batch WHERE id = :b", {"b": batch_id})
    if batch is None:
        raise NotFound(f"there is no import batch {batch_id} (see `leaddesk import --list`)")
    try:
        change = json.loads(batch["options"] or "{}").get("change_id", "")
    except ValueError:
        change = ""
    params = {"b": batch_id, "c": change, "cid": ctx.change_id}
    total = int(ctx.tx.scalar("SELECT count(*) FROM lead WHERE import_batch_id = :b", params))
    if batch["state"] == "undone" and total == 0:
        raise RuleError(f"import batch {batch_id} is already undone")
    ctx.tx.execute(
        "INSERT INTO history (change_id, entity, entity_id, action, field, old, new, user_id, at, origin)"
        " SELECT CAST(:cid AS VARCHAR), 'lead', l.id, 'delete', 'number', CAST(l.number AS TEXT), NULL, :u, :at, :o"
        f" FROM lead l WHERE {UNTOUCHED}",
        {**params, "u": ctx.user_id, "at": ctx.at, "o": ctx.origin})
    removed = ctx.tx.execute(f"DELETE FROM lead WHERE id IN (SELECT l.id FROM lead l WHERE {UNTOUCHED})", params)
    search.sync(ctx.tx)  # the search index: the removed leads out
    kept = [int(r["number"]) for r in ctx.tx.all(
        "SELECT number FROM lead WHERE import_batch_id = :b ORDER BY number LIMIT 20", params)]
    kept_count = total - removed
    ctx.tx.execute("UPDATE import_batch SET state = 'undone' WHERE id = :b", params)
    ctx.record("import_batch", batch_id, "undo", "state", batch["state"], "undone")
    return {"batch": batch_id, "file": batch["file"], "removed": removed, "kept": kept_count, "kept_numbers": kept,
            "updated": int(batch["updated"] or 0)}
