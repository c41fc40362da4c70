"""time in each status and when it was entered, kept on write: `lead_status_time`, kept by triggers on history

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 01:00:00

The velocity report (store/reports_velocity.py) read every status row of `history` (~330k at 100k leads) and took
1.3-2 s. `lead_status_time` keeps what it needs, one row per (lead, status) the lead status rows name:
- `seconds`: the sum of the Unix times of the rows leaving the status (`old`) minus those entering it (`new`);
- `balance`: how many rows left it minus how many entered it;
- `moves`: how many rows count in it (a row whose `old` and `new` are both the status counts twice); a (lead,
  status) that no row names any more has no row;
- `first_in`, `last_in`: the first and last `at` of the rows entering it (text, as history has it; NULL if none).
`status` is the status id as `history` writes it (text). Times are Unix seconds on both databases (SQLite's
`julianday` shifted, PostgreSQL's epoch), an empty or unreadable time counting 0 as the report's sums did.

Triggers on `history` keep it, whatever writes (the service layer, an import, undo, a merge moving rows from one
lead to another, `db copy`, a script): a lead status row inserted adds its part, one deleted takes it back (and
its entering times are read again from the history, through `ix_history_lead_status`), one updated (its lead,
status or time) does both. SQLite: three triggers with the statements inline; PostgreSQL: a plpgsql function they
call (`INSERT ... ON CONFLICT` on both). No model describes the table (store/unmodelled.py): `db copy` copies the
history and the target's triggers fill it. The rows already there are summed up here.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

IS_STATUS = "{r}.entity = 'lead' AND {r}.field = 'status_id'"
SQLITE_EPOCH = "coalesce((julianday({at}) - 2440587.5) * 86400.0, 0)"
PG_EPOCH = ("coalesce(CASE WHEN {at} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' THEN"
            " date_part('epoch', CAST({at} AS timestamp)) END, 0)")
COLUMNS = "(lead_id, status, seconds, balance, moves, first_in, last_in)"
MERGE = {  # the smaller / larger of the row's and the new value, either NULL (SQLite's min() is NULL then)
    "sqlite": ("coalesce(min(lead_status_time.{c}, excluded.{c}), lead_status_time.{c}, excluded.{c})",
               "coalesce(max(lead_status_time.{c}, excluded.{c}), lead_status_time.{c}, excluded.{c})"),
    "postgresql": ("LEAST(lead_status_time.{c}, excluded.{c})", "GREATEST(lead_status_time.{c}, excluded.{c})"),
}
CREATE_TABLE = ("CREATE TABLE lead_status_time (lead_id INTEGER NOT NULL, status VARCHAR NOT NULL,"
                " seconds {real} NOT NULL, balance INTEGER NOT NULL, moves INTEGER NOT NULL,"
                " first_in VARCHAR, last_in VARCHAR, PRIMARY KEY (lead_id, status)){extra}")
BACKFILL = (
    f"INSERT INTO lead_status_time {COLUMNS}"
    " SELECT lead_id, status, sum(v), sum(b), count(*), min(came), max(came) FROM ("
    " SELECT h.entity_id AS lead_id, h.old AS status, {epoch} AS v, 1 AS b, NULL AS came FROM {history}"
    " WHERE h.entity = 'lead' AND h.field = 'status_id' AND h.old IS NOT NULL"
    " UNION ALL SELECT h.entity_id, h.new, -{epoch}, -1, h.at FROM {history}"
    " WHERE h.entity = 'lead' AND h.field = 'status_id' AND h.new IS NOT NULL) m"
    " GROUP BY lead_id, status")
ENTERED = ("SELECT {agg}(h.at) FROM history h WHERE h.entity = 'lead' AND h.field = 'status_id'"
           " AND h.entity_id = {lead} AND h.new = {status}")


def _upsert(dialect: str, values: str) -> str:
    """Add `values` (a VALUES or SELECT of the columns) to the row of its (lead, status), creating it."""
    least, greatest = MERGE[dialect]
    return (f"INSERT INTO lead_status_time {COLUMNS} {values} ON CONFLICT (lead_id, status) DO UPDATE SET"
            " seconds = lead_status_time.seconds + excluded.seconds,"
            " balance = lead_status_time.balance + excluded.balance, moves = lead_status_time.moves + excluded.moves,"
            f" first_in = {least.format(c='first_in')}, last_in = {greatest.format(c='last_in')}")


def _sqlite_statements(row: str, sign: int) -> list[str]:
    """SQLite trigger statements adding (sign 1) or taking back (-1) history row `row`'s part (`new` / `old`),
    each only when that row is a lead status row (an update may change one that is not into one that is)."""
    epoch, guard = SQLITE_EPOCH.format(at=f"{row}.at"), IS_STATUS.format(r=row)
    came = f"{row}.at" if sign > 0 else "NULL"  # taken back: worked out again below
    out = [_upsert("sqlite", f"SELECT {row}.entity_id, {row}.old, {sign} * {epoch}, {sign}, {sign}, NULL, NULL"
                             f" WHERE {row}.old IS NOT NULL AND {guard}"),  # SQLite needs a WHERE before ON CONFLICT
           _upsert("sqlite", f"SELECT {row}.entity_id, {row}.new, {-sign} * {epoch}, {-sign}, {sign}, {came}, {came}"
                             f" WHERE {row}.new IS NOT NULL AND {guard}")]
    if sign < 0:
        where = f"lead_id = {row}.entity_id AND status = {row}.new AND {guard}"
        entered = {agg: ENTERED.format(agg=agg, lead=f"{row}.entity_id", status=f"{row}.new") for agg in ("min", "max")}
        out.append(f"UPDATE lead_status_time SET first_in = ({entered['min']}), last_in = ({entered['max']})"
                   f" WHERE {where}")
        out.append(f"DELETE FROM lead_status_time WHERE lead_id = {row}.entity_id AND moves = 0 AND {guard}")
    return [statement + ";" for statement in out]


def _sqlite_triggers() -> list[str]:
    """AFTER INSERT / DELETE / UPDATE triggers on history, each only for lead status rows."""
    new, old = IS_STATUS.format(r="new"), IS_STATUS.format(r="old")
    return [
        f"CREATE TRIGGER lead_status_time_insert AFTER INSERT ON history WHEN {new} BEGIN"
        f" {' '.join(_sqlite_statements('new', 1))} END",
        f"CREATE TRIGGER lead_status_time_delete AFTER DELETE ON history WHEN {old} BEGIN"
        f" {' '.join(_sqlite_statements('old', -1))} END",
        "CREATE TRIGGER lead_status_time_update AFTER UPDATE OF entity, entity_id, field, old, new, at ON history"
        f" WHEN ({old}) OR ({new}) BEGIN"
        f" {' '.join(_sqlite_statements('old', -1) + _sqlite_statements('new', 1))} END",
    ]


_PG_ENTERED = {agg: ENTERED.format(agg=agg, lead="p_lead", status="p_new") for agg in ("min", "max")}
PG_FUNCTIONS = (
    "CREATE FUNCTION lead_status_time_add(p_lead integer, p_old text, p_new text, p_at text, p_sign integer)"
    " RETURNS void LANGUAGE plpgsql AS $$"
    f" DECLARE moment double precision := {PG_EPOCH.format(at='p_at')};"
    " came text := CASE WHEN p_sign > 0 THEN p_at END;"
    " BEGIN"
    " IF p_old IS NOT NULL THEN"
    f" {_upsert('postgresql', 'VALUES (p_lead, p_old, p_sign * moment, p_sign, p_sign, NULL, NULL)')}; END IF;"
    " IF p_new IS NOT NULL THEN"
    f" {_upsert('postgresql', 'VALUES (p_lead, p_new, -p_sign * moment, -p_sign, p_sign, came, came)')}; END IF;"
    " IF p_sign < 0 THEN"
    f" UPDATE lead_status_time SET first_in = ({_PG_ENTERED['min']}), last_in = ({_PG_ENTERED['max']})"
    " WHERE lead_id = p_lead AND status = p_new;"
    " DELETE FROM lead_status_time WHERE lead_id = p_lead AND moves = 0; END IF;"
    " END $$",
    "CREATE FUNCTION lead_status_time_note() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    " IF TG_OP <> 'INSERT' THEN IF OLD.entity = 'lead' AND OLD.field = 'status_id' THEN"
    " PERFORM lead_status_time_add(OLD.entity_id, OLD.old, OLD.new, OLD.at, -1); END IF; END IF;"
    " IF TG_OP <> 'DELETE' THEN IF NEW.entity = 'lead' AND NEW.field = 'status_id' THEN"
    " PERFORM lead_status_time_add(NEW.entity_id, NEW.old, NEW.new, NEW.at, 1); END IF; END IF;"
    " RETURN NULL;"
    " END $$",
)
PG_TRIGGERS = (
    "CREATE TRIGGER lead_status_time_insert AFTER INSERT ON history FOR EACH ROW"
    f" WHEN ({IS_STATUS.format(r='NEW')}) EXECUTE FUNCTION lead_status_time_note()",
    "CREATE TRIGGER lead_status_time_delete AFTER DELETE ON history FOR EACH ROW"
    f" WHEN ({IS_STATUS.format(r='OLD')}) EXECUTE FUNCTION lead_status_time_note()",
    "CREATE TRIGGER lead_status_time_update AFTER UPDATE OF entity, entity_id, field, old, new, at ON history"
    f" FOR EACH ROW WHEN (({IS_STATUS.format(r='OLD')}) OR ({IS_STATUS.format(r='NEW')}))"
    " EXECUTE FUNCTION lead_status_time_note()",
)
TRIGGERS = ("lead_status_time_insert", "lead_status_time_delete", "lead_status_time_update")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(CREATE_TABLE.format(real="REAL", extra=" WITHOUT ROWID"))
        op.execute(BACKFILL.format(epoch=SQLITE_EPOCH.format(at="h.at"),
                                   history="history h INDEXED BY ix_history_lead_status"))
        for statement in _sqlite_triggers():
            op.execute(statement)
    else:
        op.execute(CREATE_TABLE.format(real="DOUBLE PRECISION", extra=""))
        op.execute(BACKFILL.format(epoch=PG_EPOCH.format(at="h.at"), history="history h"))
        for statement in (*PG_FUNCTIONS, *PG_TRIGGERS):
            op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name != "sqlite"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON history" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS lead_status_time_note()")
        op.execute("DROP FUNCTION IF EXISTS lead_status_time_add(integer, text, text, text, integer)")
    op.execute("DROP TABLE IF EXISTS lead_status_time")
