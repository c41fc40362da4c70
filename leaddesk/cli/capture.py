"""`leaddesk capture-email` and `leaddesk intake`: leads from email and from web forms."""

from __future__ import annotations

from leaddesk.cli.app import app  # noqa: F401
