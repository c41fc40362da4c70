"""search index: FTS5 trigram table over the leads (SQLite) or pg_trgm GIN indexes (PostgreSQL); lead list by update

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 16:00:00

SQLite: `lead_fts`, an FTS5 table with the trigram tokenizer over each lead's `search_text` (with a space after
it, so that every two characters of it begin a trigram: two-letter searches use the index through the trigrams
they begin, listed by `lead_fts_terms`) and `phone_e164`; its rowid is the lead's id. `case_sensitive 1`: both
sides are already case-folded by Python (`fields.search_text` and the search), so the index matches exactly the
substrings `LIKE` matches.

Triggers on the lead table note every lead inserted, deleted or whose text or phone changed in
`lead_fts_queue`, whatever the path (the service layer, the import's executemany, a merge, undo, `db copy`, a
script); `store/search.py` `sync` brings the index up to date from the queue in a few statements (the service
layer's hooks call it in the writer's transaction, the import once per chunk), and a search answers the queued
leads with LIKE, so the index is never stale for a reader. (Triggers writing to the FTS5 table itself would make
every INSERT statement on lead carry it, and FTS5 then writes its pending index at each statement: that doubled
the import's time.) When this SQLite has no FTS5 or no trigram tokenizer (before 3.34) nothing is created and
search scans with LIKE as before (`store/search.py` looks for the table).

PostgreSQL: GIN trigram indexes on the same two columns, which the unchanged `LIKE '%...%'` search uses, when
the pg_trgm extension is there or may be created (it is "trusted": a database owner may); without it the
migration still succeeds and search scans.

Both: an index on (updated_at, number), the order of the palette's lead finder (most recently updated first), and
a partial index on the leads' status history for the reports (velocity, qualified ever: store/reports*.py);
`field` leads it because SQLite ignores a partial index whose first column nothing constrains.
"""

import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

QUEUE = "INSERT INTO lead_fts_queue (id) VALUES"
SQLITE_UP = (
    "CREATE VIRTUAL TABLE lead_fts USING fts5(search_text, phone_e164, tokenize='trigram case_sensitive 1',"
    " columnsize=0)",
    "CREATE VIRTUAL TABLE lead_fts_terms USING fts5vocab(lead_fts, 'row')",
    "CREATE TABLE lead_fts_queue (id INTEGER NOT NULL)",  # a lead may be noted twice: no constraint to trip
    f"CREATE TRIGGER lead_fts_insert AFTER INSERT ON lead BEGIN {QUEUE} (new.id); END",
    f"CREATE TRIGGER lead_fts_update AFTER UPDATE OF search_text, phone_e164 ON lead BEGIN {QUEUE} (new.id); END",
    f"CREATE TRIGGER lead_fts_delete AFTER DELETE ON lead BEGIN {QUEUE} (old.id); END",
    # FTS5 writes its pending index every 8 MB rather than 1: fewer, larger segments when many leads are indexed
    # at once (an import, a copy), less merging
    "INSERT INTO lead_fts (lead_fts, rank) VALUES ('hashsize', 8388608)",
    # the leads already there, then one segment (queries read fewer b-trees)
    "INSERT INTO lead_fts (rowid, search_text, phone_e164) SELECT id, search_text || ' ', phone_e164 FROM lead",
    "INSERT INTO lead_fts (lead_fts) VALUES ('optimize')",
)
SQLITE_DOWN = ("DROP TRIGGER IF EXISTS lead_fts_update", "DROP TRIGGER IF EXISTS lead_fts_delete",
               "DROP TRIGGER IF EXISTS lead_fts_insert", "DROP TABLE IF EXISTS lead_fts_queue",
               "DROP TABLE IF EXISTS lead_fts_terms", "DROP TABLE IF EXISTS lead_fts")
PG_INDEXES = {"ix_lead_search_trgm": "search_text", "ix_lead_phone_trgm": "phone_e164"}


def _sqlite_has_trigram() -> bool:
    """Whether this SQLite library (the one sqlite3 and SQLAlchemy share) has FTS5 with the trigram tokenizer."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram case_sensitive 1')")
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _pg_trgm(bind: sa.engine.Connection) -> bool:
    """Whether pg_trgm is installed in this database, installing it when it is available and we may."""
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar():
        return True
    if not bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar():
        return False
    try:
        with bind.begin_nested():  # a refusal (no CREATE right on the database) must not end the migration
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return False
    return True


STATUS_HISTORY = sa.text("entity = 'lead' AND field = 'status_id'")


def upgrade() -> None:
    op.create_index("ix_lead_updated", "lead", ["updated_at", "number"])
    op.create_index("ix_history_lead_status", "history", ["field", "entity_id", "old", "new", "at"],
                    sqlite_where=STATUS_HISTORY, postgresql_where=STATUS_HISTORY)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if _sqlite_has_trigram():
            for statement in SQLITE_UP:
                op.execute(statement)
    elif bind.dialect.name == "postgresql" and _pg_trgm(bind):
        for name, column in PG_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON lead USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        for name in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_history_lead_status", table_name="history")
    op.drop_index("ix_lead_updated", table_name="lead")
