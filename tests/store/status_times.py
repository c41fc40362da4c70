"""What `lead_status_time` (migration 0006) must hold, worked out in Python from the history's rows, and what it
holds: shared by the migration's test and the triggers' tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

STATUS_ROWS = "SELECT entity_id, old, new, at FROM history WHERE entity = 'lead' AND field = 'status_id'"
STORED = "SELECT lead_id, status, seconds, balance, moves, first_in, last_in FROM lead_status_time"


def unix(at: str) -> float:
    """A history time (ISO text, UTC when it names no zone) as Unix seconds; 0 when unreadable."""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return 0.0
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def expected_status_times(rows: Iterable[tuple[Any, ...]]) -> dict[tuple[int, str], list[Any]]:
    """{(lead, status): [seconds, balance, moves, first_in, last_in]} from (lead, old, new, at) status rows:
    seconds = the times leaving the status minus the times entering it, balance = leaving minus entering, moves =
    how many rows name it, first_in / last_in = the first and last time entering it (None when never)."""
    expected: dict[tuple[int, str], list[Any]] = {}
    for lead, old, new, at in rows:
        for status, way in ((old, 1), (new, -1)):
            if status is not None:
                row = expected.setdefault((int(lead), str(status)), [0.0, 0, 0, None, None])
                row[0] += way * unix(at)
                row[1] += way
                row[2] += 1
                if way < 0:
                    row[3] = min(at, row[3] or at)
                    row[4] = max(at, row[4] or at)
    return expected


def stored_status_times(rows: Iterable[tuple[Any, ...]]) -> dict[tuple[int, str], list[Any]]:
    """The table's rows (from `STORED`) in the shape of `expected_status_times`."""
    return {(int(r[0]), str(r[1])): [r[2], r[3], r[4], r[5], r[6]] for r in rows}


def assert_same(found: dict[tuple[int, str], list[Any]], expected: dict[tuple[int, str], list[Any]]) -> None:
    """The table holds exactly the expected rows (seconds within a millisecond: float sums in another order)."""
    assert sorted(found) == sorted(expected)
    for key, row in expected.items():
        assert found[key] == [pytest.approx(row[0], abs=1e-3), *row[1:]], key
