"""Assignment rules: who gets a new lead when nobody was named as its owner.

The rules come from the `[assignment]` settings (`leaddesk.settings.Assignment`) and are tried in
order for each lead:

1. `by_zone`: the lead's zone -> a team or a login;
2. `by_source`: the lead's source name -> a team or a login;
3. `default_team`.

A team hands out its leads in turn to its active reps (deactivated users are skipped); with
`balance = "open"` the rep with the fewest open (not won/lost) leads gets it, ties in turn. The
turn of each team is kept in the `setting` table (`assign.turn.<team>` = the login served last),
read and written inside the caller's write transaction, so it survives restarts and is safe with
several writers (SQLite writes begin immediately; on a server the row is locked `FOR UPDATE`).

A rule naming a login that is not an active user does not stop anything: the rule is skipped,
the next one is tried, and the reason is reported (`Choice.problems`, `leaddesk assign`). When no
rule gives an owner, the lead stays unassigned until `leaddesk assign --rerun`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leaddesk.settings import Assignment
from leaddesk.store import leads, permissions
from leaddesk.store.context import Ctx
from leaddesk.store.db import Tx
from leaddesk.store.refs import load_lead
from leaddesk.store.rules import fold_name

TURN_KEY = "assign.turn."


@dataclass
class Choice:
    """The owner the rules picked for one lead (None: nobody), the rule that did, and what went wrong."""

    owner_id: int | None = None
    login: str | None = None
    rule: str = ""
    problems: list[str] = field(default_factory=list)


class Assigner:
    """Applies the rules to leads inside one write transaction (one per chunk of an import).

    Users, sources and open-lead counts are read once; the teams' turns are saved by `save()`.
    """

    def __init__(self, ctx: Ctx, rules: Assignment) -> None:
        self.ctx = ctx
        self.rules = rules
        tx = ctx.tx
        self.users: dict[str, tuple[int, bool]] = {
            r["login"]: (int(r["id"]), bool(r["active"])) for r in tx.all('SELECT id, login, active FROM "user"')}
        self.sources: dict[int, str] = {int(r["id"]): str(r["name"]) for r in tx.all("SELECT id, name FROM source")}
        self.zones = {fold_name(k): v for k, v in rules.by_zone.items()}
        self.by_source = {fold_name(k): v for k, v in rules.by_source.items()}
        self.turns: dict[str, str | None] = {}
        self.changed: set[str] = set()
        self.open_counts: dict[int, int] | None = None

    # -- the rules -------------------------------------------------------------------------------
    def choose(self, row: dict[str, Any]) -> Choice:
        """The owner for a lead's column values (zone, source_id), by the first rule that gives one."""
        choice = Choice()
        zone = fold_name(str(row.get("zone") or ""))
        if zone and zone in self.zones:
            self._try(choice, f"zone {row['zone']}", self.zones[zone])
        source_id = row.get("source_id")
        source = self.sources.get(int(source_id)) if source_id is not None else None
        if choice.owner_id is None and source and fold_name(source) in self.by_source:
            self._try(choice, f"source {source}", self.by_source[fold_name(source)])
        if choice.owner_id is None and self.rules.default_team:
            self._try(choice, "default team", self.rules.default_team)
        return choice

    def _try(self, choice: Choice, rule: str, target: str) -> None:
        if target in self.rules.teams:
            login = self._next_of_team(target)
            if login is None:
                choice.problems.append(f"{rule} -> team {target}: no active rep")
                return
            choice.rule = f"{rule} -> team {target}"
        else:
            known = self.users.get(target)
            if known is None:
                choice.problems.append(f"{rule} -> {target}: no such user or team")
                return
            if not known[1]:
                choice.problems.append(f"{rule} -> {target}: user is not active")
                return
            login, choice.rule = target, f"{rule} -> {target}"
        choice.owner_id, choice.login = self.users[login][0], login
        if self.open_counts is not None:  # later leads of this run see this one
            self.open_counts[choice.owner_id] = self.open_counts.get(choice.owner_id, 0) + 1

    def _next_of_team(self, team: str) -> str | None:
        members = [m for m in self.rules.teams[team] if m in self.users and self.users[m][1]]
        if not members:
            return None
        last = self._turn(team)
        order = list(self.rules.teams[team])
        start = order.index(last) + 1 if last in order else 0
        rotation = sorted(members, key=lambda m: (order.index(m) - start) % len(order))
        if self.rules.balance == "open":
            counts = self._open_counts()
            rotation.sort(key=lambda m: counts.get(self.users[m][0], 0))  # stable: ties keep their turn
        login = rotation[0]
        self.turns[team] = login
        self.changed.add(team)
        return login

    def _open_counts(self) -> dict[int, int]:
        if self.open_counts is None:
            self.open_counts = {int(r["owner_id"]): int(r["n"]) for r in self.ctx.tx.all(
                "SELECT l.owner_id, count(*) AS n FROM lead l JOIN status s ON s.id = l.status_id"
                " WHERE l.owner_id IS NOT NULL AND s.category NOT IN ('won', 'lost') GROUP BY l.owner_id")}
        return self.open_counts

    # -- the teams' turns, in the setting table ------------------------------------------------------
    def _turn(self, team: str) -> str | None:
        if team not in self.turns:
            self.turns[team] = read_turn(self.ctx.tx, team, lock=True)
        return self.turns[team]

    def save(self) -> None:
        """Write the turns that moved (same transaction as the leads)."""
        for team in sorted(self.changed):
            key, value = TURN_KEY + team, self.turns[team] or ""
            if not self.ctx.tx.execute("UPDATE setting SET value = :v WHERE key = :k", {"k": key, "v": value}):
                self.ctx.tx.execute("INSERT INTO setting (key, value) VALUES (:k, :v)", {"k": key, "v": value})
        self.changed.clear()


class DryRunDone(Exception):
    """Raised inside a dry run's transaction to roll it back; carries what would have been done."""

    def __init__(self, result: list[dict[str, Any]]) -> None:
        super().__init__("dry run")
        self.result = result


def read_turn(tx: Tx, team: str, *, lock: bool = False) -> str | None:
    """The login a team gave its last lead to (None before its first)."""
    value = tx.scalar("SELECT value FROM setting WHERE key = :k" + (tx.lock_suffix if lock else ""),
                      {"k": TURN_KEY + team})
    return str(value) if value else None


def assign_owners(ctx: Ctx, rows: list[dict[str, Any]]) -> list[Choice]:
    """Give each new lead row whose `owner_id` is None an owner by the rules (no-op when assignment is off).

    Called on creation (`leads.add_lead`) and on every chunk of an import, before the rows are inserted.
    Returns one Choice per row (an empty one for rows that already had an owner).
    """
    rules = ctx.settings.assignment
    if not rules.enabled or not any(row.get("owner_id") is None for row in rows):
        return [Choice() for _ in rows]
    assigner = Assigner(ctx, rules)
    choices = []
    for row in rows:
        if row.get("owner_id") is not None:
            choices.append(Choice())
            continue
        choice = assigner.choose(row)
        row["owner_id"] = choice.owner_id
        choices.append(choice)
    assigner.save()
    return choices


def rerun(ctx: Ctx, *, dry_run: bool = False) -> list[dict[str, Any]]:
    """Apply the rules to every unassigned lead that is not won or lost, oldest first; each new owner is an
    "assign" change in the lead's history (field owner_id). Returns one row per lead looked at:
    number, name, owner (login or None), rule, problems. Managers and admins only, unless `dry_run` (the
    caller then rolls the transaction back)."""
    permissions.check_assign_rerun(ctx.role, dry_run)
    rules = ctx.settings.assignment
    if not rules.enabled:
        from leaddesk.store.errors import RuleError

        raise RuleError("assignment is off: add an [assignment] table with enabled = true to the settings")
    ids = [int(r["id"]) for r in ctx.tx.all(
        "SELECT l.id FROM lead l JOIN status s ON s.id = l.status_id"
        " WHERE l.owner_id IS NULL AND s.category NOT IN ('won', 'lost') ORDER BY l.number")]
    assigner = Assigner(ctx, rules)
    done = []
    for lead_id in ids:
        lead = load_lead(ctx.tx, lead_id)
        if lead.get("owner_id") is not None:  # assigned meanwhile (cannot happen inside one write transaction)
            continue
        choice = assigner.choose(lead)
        if choice.owner_id is not None:
            leads._apply(ctx, lead, {"owner_id": choice.owner_id}, "assign")
        done.append({"number": lead["number"], "name": lead.get("contact_name") or lead.get("company") or "",
                     "owner": choice.login, "rule": choice.rule, "problems": choice.problems})
    assigner.save()
    return done


def problems(tx: Tx, rules: Assignment) -> list[str]:
    """What is wrong with the rules against today's users (unknown or inactive logins, teams with no
    active rep), one line each; empty when all is well."""
    users = {r["login"]: bool(r["active"]) for r in tx.all('SELECT login, active FROM "user"')}
    found: list[str] = []
    for team, members in rules.teams.items():
        for login in members:
            if login not in users:
                found.append(f"team {team}: '{login}' is not a user")
            elif not users[login]:
                found.append(f"team {team}: '{login}' is not active (skipped)")
        if not any(users.get(m) for m in members):
            found.append(f"team {team} has no active rep")
    for kind, table in (("zone", rules.by_zone), ("source", rules.by_source)):
        for key, target in table.items():
            if target in rules.teams:
                continue
            if target not in users:
                found.append(f"{kind} {key} -> '{target}': no such user or team")
            elif not users[target]:
                found.append(f"{kind} {key} -> '{target}': user is not active")
    known_sources = {fold_name(str(r["name"])) for r in tx.all("SELECT name FROM source")}
    for key in rules.by_source:
        if fold_name(key) not in known_sources:
            found.append(f"source {key} is not in the sources list (the rule never applies)")
    return found


def describe(tx: Tx, rules: Assignment) -> dict[str, Any]:
    """The rules, each team's turn and the problems, for `leaddesk assign`."""
    return {
        "enabled": rules.enabled, "balance": rules.balance, "default_team": rules.default_team,
        "teams": {team: {"members": list(members), "last": read_turn(tx, team)}
                  for team, members in rules.teams.items()},
        "by_zone": dict(rules.by_zone), "by_source": dict(rules.by_source),
        "problems": problems(tx, rules),
    }
