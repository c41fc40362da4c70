"""The lead store: schema, workflow rules and the service API.

Nothing here imports Textual. The quick CLI path imports only `leaddesk.store.db`,
`leaddesk.store.ops` and the pure rule modules, never SQLAlchemy or SQLModel
(those are needed only to migrate, and for PostgreSQL).
"""
