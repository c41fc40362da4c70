"""Several processes writing one lead at once: no update is lost, nobody sees "database is locked".

On SQLite, and on PostgreSQL too when LEADDESK_TEST_PG_URL is set (the `fresh_db` fixture)."""

from __future__ import annotations

import multiprocessing

from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.errors import Conflict

WORKERS = 4
ROUNDS = 15


def _bump_score(path: str, login: str, rounds: int) -> int:
    """Read the lead, then write score+1 with the version read; retry on a conflict. Returns conflicts seen."""
    desk = Desk.open(path, login=login, settings=Settings())
    conflicts = 0
    for _ in range(rounds):
        while True:
            lead = desk.show("1")
            try:
                desk.edit_lead("1", {"score": str(lead["score"] + 1)}, expected_version=lead["version"])
                break
            except Conflict:
                conflicts += 1
    desk.close()
    return conflicts


def test_concurrent_read_then_write_loses_no_update(fresh_db: str) -> None:
    path = fresh_db
    desk = Desk.open(path, login="ann", settings=Settings())
    desk.add_lead({"name": "Shared Lead"})
    for i in range(WORKERS):
        desk.add_user(f"rep{i}")
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        results = [pool.apply_async(_bump_score, (path, f"rep{i}", ROUNDS)) for i in range(WORKERS)]
        [r.get(timeout=120) for r in results]
    final = desk.show("1")
    assert final["score"] == WORKERS * ROUNDS
    assert final["version"] == 1 + WORKERS * ROUNDS
    history = desk.history("1")
    assert sum(1 for h in history if h["field"] == "score") == WORKERS * ROUNDS
