"""Tables and indexes no model describes: derived from the models' rows and kept by triggers (the search index of
migration 0005, the time in each status of 0006). Alembic's comparison leaves them out, and `db copy` copies
only the models' tables: the target's triggers build its own."""

from __future__ import annotations

from leaddesk.store.search import is_search_index

STATUS_TIME = "lead_status_time"  # migration 0006; read by the velocity report


def is_unmodelled(name: str) -> bool:
    """Whether `name` is such a table or index (or one of the search index's shadow tables)."""
    return name == STATUS_TIME or is_search_index(name)
