"""Alembic environment: migrations run online against the configured URL."""

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import leaddesk.store.models  # noqa: F401  (registers the tables)
from leaddesk.store.search import is_search_index

config = context.config
target_metadata = SQLModel.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """What autogenerate compares: not the search index (FTS5 tables, GIN indexes; migration 0005)."""
    return not (name and is_search_index(name))


def run_migrations_online() -> None:
    """Run migrations in a transaction on the configured database."""
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            transaction_per_migration=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
