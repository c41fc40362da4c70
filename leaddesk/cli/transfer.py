"""`leaddesk import` and `leaddesk export`: leads in and out of CSV, JSON and Excel."""

from __future__ import annotations

from leaddesk.cli.app import app  # noqa: F401
