"""The demo desk: every status, realistic outcomes, deterministic, and it never overwrites data."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.settings import Settings
from leaddesk.store.demo import build_demo
from leaddesk.store.desk import Desk
from leaddesk.store.errors import RuleError
from leaddesk.store.queries import LeadFilter

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TODAY = NOW.date().isoformat()
ALL = LeadFilter(limit=None)


def _open(path: Path) -> Desk:
    return Desk.open(str(path), login="kim", origin="test", settings=Settings())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One full-size demo per preset, built once for the module with the clock frozen."""
    out: dict[str, Any] = {}
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEADDESK_CONFIG", str(folder / "missing.toml"))
        clock.freeze(NOW)
        try:
            for preset in ("sales", "services"):
                started = time.perf_counter()
                counts = build_demo(folder / f"{preset}.db", preset=preset)
                out[preset] = {"counts": counts, "seconds": time.perf_counter() - started,
                               "desk": _open(folder / f"{preset}.db")}
        finally:
            clock.freeze(None)
    yield out
    for entry in out.values():
        entry["desk"].close()


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEADDESK_CONFIG", str(tmp_path / "no-such-config.toml"))
    clock.freeze(NOW)  # conftest unfreezes after each test


@pytest.mark.parametrize("preset", ["sales", "services"])
def test_builds_every_status_quickly(built: dict[str, Any], preset: str) -> None:
    entry = built[preset]
    counts, desk = entry["counts"], entry["desk"]
    assert entry["seconds"] < 10
    assert counts["leads"] == 300 == desk.count_leads(ALL)
    assert counts["users"] == 6 and counts["partners"] == 4
    assert counts["customers"] > 20 and counts["deals"] > 40 and counts["activities"] > counts["leads"]
    empty = [s["name"] for s in desk.statuses() if s["leads"] == 0]
    assert empty == []
    rows = desk.list_leads(ALL)
    assert {r["zone"] for r in rows} == {"North", "South", "East", "West", "Central"}
    assert {r["priority"] for r in rows} == {0, 1, 2, 3}
    assert len({r["owner"] for r in rows}) == 6
    assert len({r["source"] for r in rows}) >= 6
    assert len({r["type"] for r in rows}) == 2
    assert any(r["partner"] for r in rows) and any(r["tags"] for r in rows)
    assert any(r["expected_revenue_cents"] for r in rows)
    names = {u["login"]: u["name"] for u in desk.users()}
    assert names["ann"] == "Ann Carter" and names["kim"] != "kim"


@pytest.mark.parametrize("preset", ["sales", "services"])
def test_followups_overdue_today_and_later(built: dict[str, Any], preset: str) -> None:
    desk = built[preset]["desk"]
    assert desk.count_leads(LeadFilter(due="overdue")) > 0
    assert desk.count_leads(LeadFilter(due="today")) > 0
    assert any((r["followup_on"] or "") > TODAY for r in desk.list_leads(ALL))


def test_sales_outcomes(built: dict[str, Any]) -> None:
    desk = built["sales"]["desk"]
    details = [desk.show(str(r["number"])) for r in desk.list_leads(ALL)]
    won = [d for d in details if d["status_category"] == "won"]
    assert won and all(d["job_value_cents"] and d["job_value_cents"] > 0 for d in won)
    assert any(any(deal["status"] == "won" for deal in d["deals"]) for d in won)  # converted by a won deal
    assert any(not d["deals"] for d in won)  # marked won directly
    lost = [d for d in details if d["status_category"] == "lost"]
    assert lost and all(d["lost_reason"] for d in lost)
    assert any(any(deal["status"] == "lost" for deal in d["deals"]) for d in lost)
    qualified = [d for d in details if d["status_category"] == "qualified"]
    assert any(any(deal["status"] == "open" for deal in d["deals"]) for d in qualified)
    assert len({deal["stage"] for d in qualified for deal in d["deals"]}) >= 3
    assert any(d["bant_budget"] == "yes" for d in details)


def test_services_outcomes(built: dict[str, Any]) -> None:
    desk = built["services"]["desk"]
    details = [desk.show(str(r["number"])) for r in desk.list_leads(ALL)]
    won = [d for d in details if d["status"] == "Won"]
    assert won and all(d["job_value_cents"] > 0 for d in won)
    assert any(d["deals"] for d in won) and any(not d["deals"] for d in won)
    assert all(d["lost_reason"] for d in details if d["status"] == "Lost")
    # no qualified status: qualifying leaves the lead open with its deal
    open_deals = [d for d in details if any(x["status"] == "open" for x in d["deals"])]
    assert any(d["status_category"] == "open" for d in open_deals)


@pytest.mark.parametrize("preset", ["sales", "services"])
def test_times_history_and_contacts(built: dict[str, Any], preset: str) -> None:
    desk = built[preset]["desk"]
    now = clock.stamp(NOW)
    with desk.db.read() as tx:
        first, last = tx.one("SELECT min(created_at), max(created_at) FROM lead")
        assert first < clock.stamp(NOW - timedelta(days=100)) and last <= now
        assert tx.scalar("SELECT count(*) FROM activity a JOIN lead l ON l.id = a.lead_id"
                         " WHERE a.at < l.created_at OR a.at > :n", {"n": now}) == 0
        assert {r[0] for r in tx.all("SELECT kind FROM activity")} == {"note", "call", "email", "meeting"}
        assert tx.scalar("SELECT max(at) FROM history") <= now
        assert {r[0] for r in tx.all("SELECT DISTINCT origin FROM history")} == {"demo"}
        assert tx.scalar("SELECT count(*) FROM partner_spend") >= 8
        odd = {r[0] for r in tx.all("SELECT phone FROM lead WHERE phone IS NOT NULL AND phone_e164 IS NULL")}
        assert {"n/a", "ext. 12"} <= odd
        emails = [r[0] for r in tx.all("SELECT email_lower FROM lead WHERE email_lower IS NOT NULL")]
        assert all(e.endswith((".example.com", "@example.org")) for e in emails)
        # returning customers: leads sharing a phone or an email are linked to the same customer
        shared = tx.scalar(
            "SELECT count(*) FROM lead a JOIN lead b ON a.id < b.id AND a.customer_id = b.customer_id"
            " AND (a.phone_e164 = b.phone_e164 OR a.email_lower = b.email_lower)")
        assert shared > 0
    types = desk.catalog_list("types")
    restricted = [t for t in types if t["statuses"]]
    assert len(restricted) == 1
    allowed = set(restricted[0]["statuses"])
    assert allowed < {s["name"] for s in desk.statuses()}
    of_type = desk.list_leads(LeadFilter(type=restricted[0]["name"], limit=None))
    assert of_type and all(r["status"] in allowed for r in of_type)


def _snapshot(path: Path) -> list[tuple[Any, ...]]:
    desk = _open(path)
    try:
        return [(r["number"], r["contact_name"], r["company"], r["status"], r["owner"], r["created_at"],
                 r["updated_at"], r["followup_on"], r["phone"], r["email"]) for r in desk.list_leads(ALL)]
    finally:
        desk.close()


def test_deterministic(tmp_path: Path) -> None:
    build_demo(tmp_path / "a.db", seed=11, leads=60)
    build_demo(tmp_path / "b.db", seed=11, leads=60)
    build_demo(tmp_path / "c.db", seed=12, leads=60)
    assert _snapshot(tmp_path / "a.db") == _snapshot(tmp_path / "b.db")
    assert _snapshot(tmp_path / "a.db") != _snapshot(tmp_path / "c.db")
    assert clock._frozen == NOW  # the caller's frozen clock is restored


@pytest.mark.parametrize("preset", ["sales", "services"])
def test_small_build_still_covers_every_status(tmp_path: Path, preset: str) -> None:
    clock.freeze(None)
    counts = build_demo(tmp_path / "small.db", leads=12, preset=preset)
    assert clock._frozen is None
    assert counts["leads"] == 12
    desk = _open(tmp_path / "small.db")
    try:
        assert all(s["leads"] > 0 for s in desk.statuses())
    finally:
        desk.close()


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    build_demo(path, leads=10)
    with pytest.raises(RuleError, match="already holds"):
        build_demo(path, leads=10)
    assert path.exists() and len(_snapshot(path)) == 10
    other = tmp_path / "notes.txt"
    other.write_text("my precious notes\n")
    with pytest.raises(RuleError, match="not a leaddesk database"):
        build_demo(other)
    assert other.read_text() == "my precious notes\n"
    with pytest.raises(RuleError, match="preset"):
        build_demo(tmp_path / "new.db", preset="nope")
    assert not (tmp_path / "new.db").exists()
