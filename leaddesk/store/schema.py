"""The schema revision this code expects (the Alembic head); a test keeps them in step."""

SCHEMA_HEAD = "0006"
