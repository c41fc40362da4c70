"""`leaddesk dupes` and `leaddesk merge`: find likely duplicate leads and merge them."""

from __future__ import annotations

from leaddesk.cli.app import app  # noqa: F401
