"""Alembic environment: migrations run online against the configured URL."""

from typing import Any

from alembic import context
from sqlalchemy import Engine, create_engine, event, pool
from sqlmodel import SQLModel

import leaddesk.store.models  # noqa: F401  (registers the tables)
from leaddesk.store.unmodelled import is_unmodelled

config = context.config
target_metadata = SQLModel.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """What autogenerate compares: not the tables and indexes no model describes (store/unmodelled.py)."""
    return not (name and is_unmodelled(name))


def transactional_ddl_on_sqlite(engine: Engine) -> None:
    """Make each migration one SQLite transaction, its DDL included. Python's sqlite3 opens a transaction only
    before an INSERT, UPDATE or DELETE, so a migration's CREATE and ALTER statements before those committed one
    by one: a process killed in the middle left a revision half applied (the file still saying the old one), and
    every later upgrade failed on what was already there. SQLAlchemy's recipe: sqlite3 leaves transactions
    alone, and each begins with our BEGIN."""

    @event.listens_for(engine, "connect")
    def _no_sqlite3_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def run_migrations_online() -> None:
    """Run migrations in a transaction on the configured database."""
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        transactional_ddl_on_sqlite(engine)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            # SQLite: a transaction per migration (a killed upgrade leaves a whole revision; a failed one is undone
            # from the backup store/migrate.py takes). PostgreSQL, whose DDL is transactional: the whole upgrade
            # is one transaction, so a failed migration leaves the database exactly as it was.
            transaction_per_migration=sqlite,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
