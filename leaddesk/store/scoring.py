"""The automatic score and the BANT checklist (issue 6).

A lead's **score** is its manual score (`lead.score`, edited by hand: `edit --score 20`, `=` on the card) plus
its **automatic score** (`lead.auto_score`), the sum of the [score] rules in settings that hold for it:

- field rules: points when a lead field, its status or a custom field is a value (`is`, `in`), is filled in
  (`present`), or is within bounds (`at_least`, `at_most`);
- BANT rules: points for an answer of the checklist (`bant = "budget", is = "yes"`);
- activity rules: points for a logged call, an email, a reply (an email captured from the lead: inbound), an
  email a rep logged (outbound), a meeting or a note, once or per activity (`per = "each"`, capped by `max`);
- decay: an open (or qualified) lead loses `decay_per_day` points a day without contact (a call, an email
  either way, a meeting; since its creation when there was none), after `decay_after` days, at most
  `decay_max`. Closed leads do not decay.

Manual and automatic add up (a manual score of 0 cannot be told from "not set", so it cannot override; as an
addition it is the rep's own judgement on top of the rules, negative if need be). Lists sort and filter by
the total, `score + auto_score` (`TOTAL_SQL`).

`auto_score` is derived data, written with a plain UPDATE (no version bump, no history) on every change of a
lead (`derived.lead_changed`), in bulk for each import chunk, and for all open leads once a day (decay
depends on the date) or for every lead when the rules change (their fingerprint and the day are kept in the
setting table; `stale` says what is due, `Desk.refresh_scores` runs it when a desk opens, `leaddesk score
--recompute` from cron). No [score] table means no rules: every automatic score is 0 and nothing is computed.

`evaluate` is the one definition of the rules (pure); the bulk paths read only the columns the rules need
and evaluate each distinct combination of them once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
from collections.abc import Mapping
from datetime import date
from typing import Any

from leaddesk.settings import BANT_PARTS, ScoreRule, Scoring, score_fold
from leaddesk.store.db import Tx
from leaddesk.store.errors import RuleError

Reason = tuple[int, str]
TOTAL_SQL = "(l.score + l.auto_score)"
"""The score lists sort and filter by: manual plus automatic."""
OPEN_SCOPE = "s.category IN ('open', 'qualified')"
CONTACT_KINDS = ("call", "email_in", "email_out", "meeting")
RECOMPUTED_ON = "score.recomputed_on"
RULES_KEY = "score.rules"
BANT_CYCLE = {"unknown": "yes", "yes": "no", "no": "unknown"}
NOUNS = {"call": ("call", "calls"), "email": ("email", "emails"), "email_in": ("reply", "replies"),
         "email_out": ("email sent", "emails sent"), "meeting": ("meeting", "meetings"), "note": ("note", "notes")}
# Where a rule's field is in a lead's details (`queries.lead_detail`) and how the bulk paths read it.
REF_SQL = {
    "status": ("s.name", ""),
    "source": ("src.name", " LEFT JOIN source src ON src.id = l.source_id"),
    "type": ("t.name", " LEFT JOIN lead_type t ON t.id = l.type_id"),
    "item": ("i.name", " LEFT JOIN item i ON i.id = l.item_id"),
    "contact_method": ("cm.name", " LEFT JOIN contact_method cm ON cm.id = l.contact_method_id"),
    "partner": ("p.name", " LEFT JOIN partner p ON p.id = l.partner_id"),
    "owner": ("u.login", " LEFT JOIN \"user\" u ON u.id = l.owner_id"),
    "customer": ("c.name", " LEFT JOIN customer c ON c.id = l.customer_id"),
}
CATALOG_OF = {"status": "status", "source": "source", "type": "lead_type", "item": "item",
              "contact_method": "contact_method", "partner": "partner"}


# -- the rules ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def lead_key(target: str) -> str:
    """The key of a rule's field in a lead's details: "source" (the name), "contact_name", "priority", "custom"."""
    if target.startswith("custom:"):
        return "custom"
    if target in REF_SQL:
        return target
    if target == "name":
        return "contact_name"
    from leaddesk.store.fields import FIELDS

    return FIELDS[target].column


def _field_value(lead: Mapping[str, Any], target: str) -> Any:
    if target.startswith("custom:"):
        return (lead.get("custom") or {}).get(target.removeprefix("custom:"))
    return lead.get(lead_key(target))


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _matches(rule: ScoreRule, value: Any) -> bool:
    """Whether a field rule holds for the field's value."""
    if rule.present is not None:
        given = value not in (None, "") and not (rule.value_type == "bant" and value == "unknown")
        return given == rule.present
    if rule.at_least is not None or rule.at_most is not None:
        number = _number(value)
        return number is not None and (rule.at_least is None or number >= rule.at_least) \
            and (rule.at_most is None or number <= rule.at_most)
    if value is None or value == "":
        return False
    kind = rule.value_type
    if kind in ("priority", "money"):
        return _number(value) in rule.values
    if kind == "number":
        return _number(value) in rule.values
    if kind == "bool":
        return isinstance(value, bool) and value in rule.values
    if kind == "bant":
        return value in rule.values
    if kind == "tags":
        return any(score_fold(tag) in rule.values for tag in str(value).split(",") if tag.strip())
    return score_fold(value) in rule.values


def field_name(target: str) -> str:
    """A rule's field as the explanation names it: "source", "lead type", "budget", "industry"."""
    if target.startswith("bant_"):
        return target.removeprefix("bant_")
    if target.startswith("custom:"):
        return target.removeprefix("custom:").replace("_", " ")
    if target == "type":
        return "lead type"
    return target.replace("_", " ")


def _bound(rule: ScoreRule, value: float | None) -> str:
    if value is None:
        return ""
    if rule.value_type == "priority":
        from leaddesk.store.rules import PRIORITY_NAMES

        return PRIORITY_NAMES.get(int(value), str(int(value)))
    if rule.value_type == "money":
        from leaddesk.store.rules import format_money

        return format_money(int(value))
    return f"{value:g}"


@functools.lru_cache(maxsize=1024)
def describe(rule: ScoreRule) -> str:
    """A rule's condition in words: "source is Referral or Partner", "budget: yes", "calls (each, max 15)"."""
    if rule.kind == "activity":
        one, many = NOUNS[rule.target]
        if rule.per == "each":
            return (rule.label or f"each {one}") + (f" (max {rule.most})" if rule.most is not None else "")
        count = int(rule.at_least or 1)
        return rule.label or (f"any {one}" if count == 1 else f"at least {count} {many}")
    if rule.label:
        return rule.label
    name = field_name(rule.target)
    if rule.present is not None:
        return f"{name} given" if rule.present else f"no {name}"
    if rule.at_least is not None and rule.at_most is not None:
        return f"{name} between {_bound(rule, rule.at_least)} and {_bound(rule, rule.at_most)}"
    if rule.at_least is not None:
        return f"{name} at least {_bound(rule, rule.at_least)}"
    if rule.at_most is not None:
        return f"{name} at most {_bound(rule, rule.at_most)}"
    shown = " or ".join(rule.shown)
    if rule.value_type == "bant":
        return f"{name}: {shown}"
    if rule.value_type == "tags":
        return f"tagged {shown}"
    return f"{name} is {shown}"


def _activity_points(rule: ScoreRule, counts: Mapping[str, int]) -> Reason | None:
    count = counts.get(rule.target, 0)
    if rule.target == "email" and "email" not in counts:
        count = counts.get("email_in", 0) + counts.get("email_out", 0)
    noun = NOUNS[rule.target][0 if count == 1 else 1]
    if rule.per == "each":
        if count <= 0:
            return None
        points = rule.points * count
        capped = rule.most is not None and abs(points) > rule.most
        if rule.most is not None and capped:
            points = rule.most if points > 0 else -rule.most
        what = f"{rule.label} ({count})" if rule.label else f"{count} {noun}"
        return points, f"{what} × {rule.points}" + (f" (max {rule.most})" if capped else "")
    if count < (rule.at_least or 1):
        return None
    what = f"{rule.label} ({count})" if rule.label else f"{count} {noun}"
    return rule.points, what


def decay_days(last_contact: date | str | None, today: date) -> int:
    """Whole days since the last contact (0 without one)."""
    if last_contact is None:
        return 0
    day = date.fromisoformat(last_contact[:10]) if isinstance(last_contact, str) else last_contact
    return max(0, (today - day).days)


def evaluate(lead: Mapping[str, Any], activity_counts: Mapping[str, int], last_contact: date | str | None,
             today: date, rules: Scoring) -> tuple[int, list[Reason]]:
    """The automatic score of a lead and its reasons: (points, [(points, why), ...]), one reason per rule that
    gave points, in the rules' order, then the decay.

    `lead` has the fields by their keys in a lead's details (`lead_key`: names for lists, `custom` as a dict,
    `status_category`); `activity_counts` counts activities by kind (call, email_in, email_out, meeting,
    note; "email" is both directions); `last_contact` is when the lead was last contacted (or created)."""
    reasons = rule_reasons(lead, activity_counts, rules)
    decay = decay_reason(lead.get("status_category"), last_contact, today, rules)
    if decay is not None:
        reasons.append(decay)
    return sum(p for p, _ in reasons), reasons


def rule_reasons(lead: Mapping[str, Any], activity_counts: Mapping[str, int], rules: Scoring) -> list[Reason]:
    """The rules' part of `evaluate` (everything but the decay)."""
    reasons: list[Reason] = []
    for rule in rules.rules:
        if rule.kind == "activity":
            got = _activity_points(rule, activity_counts)
            if got is not None and got[0]:
                reasons.append(got)
        elif rule.points and _matches(rule, _field_value(lead, rule.target)):
            reasons.append((rule.points, describe(rule)))
    return reasons


def decay_reason(category: str | None, last_contact: date | str | None, today: date,
                 rules: Scoring) -> Reason | None:
    """The decay's part of `evaluate`: the points an open or qualified lead loses, None when it loses none."""
    if not rules.decay_per_day or category not in ("open", "qualified"):
        return None
    days = decay_days(last_contact, today)
    counted = days - rules.decay_after
    if counted <= 0:
        return None
    lost = counted * rules.decay_per_day
    capped = rules.decay_max is not None and lost > rules.decay_max
    lost = min(lost, rules.decay_max) if rules.decay_max is not None else lost
    if not lost:
        return None
    free = f", the first {rules.decay_after} free" if rules.decay_after else ""
    most = f", max {rules.decay_max}" if capped else ""
    return -lost, f"decay: {days} days without contact{free}{most}"


def reason_line(reason: Reason) -> str:
    """"+10 source is Referral"."""
    points, text = reason
    return f"{points:+d} {text}"


def fingerprint(rules: Scoring) -> str:
    """A short digest of the rules: when it changes, every lead is recomputed."""
    return hashlib.sha1(repr(rules).encode()).hexdigest()[:16]


# -- reading what the rules need, in bulk --------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _needed(rules: Scoring) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """(the keys of the rules' fields, the SQL reading each, the joins they need). A field only `present` rules
    read is read as 'x' or NULL, so that leads differing only in its text share one evaluation."""
    exprs: dict[str, str] = {}
    joins: list[str] = []
    present_only: dict[str, bool] = {}
    for rule in rules.rules:
        if rule.kind != "field":
            continue
        key = lead_key(rule.target)
        if key in REF_SQL:
            expr, join = REF_SQL[key]
            if join and join not in joins:
                joins.append(join)
        else:
            expr = f"l.{key}"
        exprs[key] = expr
        only = rule.present is not None and rule.value_type != "bant" and key != "custom"
        present_only[key] = present_only.get(key, True) and only
    sql = tuple(f"CASE WHEN {e} IS NULL OR CAST({e} AS TEXT) = '' THEN NULL ELSE 'x' END" if present_only[k] else e
                for k, e in exprs.items())
    return tuple(exprs), sql, "".join(joins)


def _uses_activities(rules: Scoring) -> bool:
    return rules.decay_per_day > 0 or any(r.kind == "activity" for r in rules.rules)


def _activities(tx: Tx, where: str, params: Mapping[str, Any]) -> dict[int, tuple[dict[str, int], str | None]]:
    """Per lead id in scope: (activity counts by kind, the last contact's timestamp)."""
    captured = "CASE WHEN a.message_id IS NULL THEN 0 ELSE 1 END"
    scope = "" if where == "1 = 1" else (
        f" WHERE a.lead_id IN (SELECT l.id FROM lead l JOIN status s ON s.id = l.status_id WHERE {where})")
    found: dict[int, tuple[dict[str, int], str | None]] = {}
    for row in tx.all(f"SELECT a.lead_id, a.kind, {captured} AS captured, count(*) AS n, max(a.at) AS last"
                      f" FROM activity a{scope} GROUP BY a.lead_id, a.kind, {captured}", params):
        counts, last = found.setdefault(int(row[0]), ({}, None))
        kind = row[1]
        if kind == "email":
            kind = "email_in" if row[2] else "email_out"
        counts[kind] = counts.get(kind, 0) + int(row[3])
        if kind in CONTACT_KINDS and row[4] and (last is None or row[4] > last):
            found[int(row[0])] = (counts, row[4])
    return found


def _rows(tx: Tx, rules: Scoring, where: str, params: Mapping[str, Any]) -> tuple[list[Any], tuple[str, ...]]:
    keys, exprs, joins = _needed(rules)
    extra = "".join(f", {expr} AS f_{i}" for i, expr in enumerate(exprs))
    sql = (f"SELECT l.id, l.auto_score, l.score, l.created_at, s.category{extra}"
           f" FROM lead l JOIN status s ON s.id = l.status_id{joins} WHERE {where}")
    return tx.all(sql, params), keys


class _Memo:
    """Each distinct combination of what the rules read is evaluated once (the rules' part by the row's relevant
    values and activity counts, the decay by the day of the last contact), across the chunks of an import."""

    MOST = 50_000

    def __init__(self) -> None:
        self.key: tuple[Scoring, date] | None = None
        self.rules: dict[tuple[Any, ...], tuple[int, list[Reason]]] = {}
        self.decay: dict[tuple[str | None, str | None], Reason | None] = {}

    def ready(self, rules: Scoring, today: date) -> _Memo:
        if self.key != (rules, today) or len(self.rules) + len(self.decay) > self.MOST:
            self.key, self.rules, self.decay = (rules, today), {}, {}
        return self


_MEMO = _Memo()


def compute(tx: Tx, rules: Scoring, where: str, params: Mapping[str, Any], today: date,
            *, explain: bool = False) -> list[dict[str, Any]]:
    """The automatic score of every lead in scope (`where` on `lead l` and `status s`):
    [{id, auto (new), stored (auto_score now), manual, reasons (with `explain`), last_contact}]."""
    return [{"id": i, "auto": auto, "stored": stored, "manual": manual, "reasons": reasons, "last_contact": last}
            for i, auto, stored, manual, reasons, last in _scores(tx, rules, where, params, today, explain)]


Scored = tuple[int, int, int, int, list[Reason] | None, str | None]


def _scores(tx: Tx, rules: Scoring, where: str, params: Mapping[str, Any], today: date,
            explain: bool) -> list[Scored]:
    """`compute` as tuples (id, auto, stored, manual, reasons, last_contact): the bulk paths make 100k of them."""
    rows, keys = _rows(tx, rules, where, params)
    if not rows:
        return []
    activity = _activities(tx, where, params) if _uses_activities(rules) else {}
    positions = [(k, 5 + i) for i, k in enumerate(keys)]
    values_of = operator.itemgetter(*range(5, 5 + len(keys))) if keys else (lambda _row: ())
    decays = rules.decay_per_day > 0
    memo = _MEMO.ready(rules, today)
    static, decayed = memo.rules, memo.decay
    nothing: tuple[dict[str, int], str | None] = ({}, None)
    out: list[Scored] = []
    for row in rows:
        counts, last = activity.get(row[0], nothing) if activity else nothing
        created = row[3]
        if last is None or (created and created > last):
            last = created or None
        key = (values_of(row), tuple(sorted(counts.items())) if counts else ())
        got = static.get(key)
        if got is None:
            lead: dict[str, Any] = {k: _custom(row[i]) if k == "custom" else row[i] for k, i in positions}
            found = rule_reasons(lead, counts, rules)
            got = static[key] = (sum(p for p, _ in found), found)
        auto, reasons = got
        decay = None
        if decays:
            when = (row[4], last[:10] if last else None)
            decay = decayed[when] if when in decayed else decayed.setdefault(
                when, decay_reason(row[4], when[1], today, rules))
            if decay is not None:
                auto += decay[0]
        shown = ([*reasons, decay] if decay else list(reasons)) if explain else None
        out.append((row[0], auto, row[1] or 0, row[2] or 0, shown, last))
    return out


def _custom(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _write(tx: Tx, scored: list[Scored]) -> int:
    changed = [{"s": auto, "i": i} for i, auto, stored, *_rest in scored if auto != stored]
    if changed:
        tx.many("UPDATE lead SET auto_score = :s WHERE id = :i", changed)
    return len(changed)


def update(tx: Tx, rules: Scoring, where: str, params: Mapping[str, Any], today: date) -> tuple[int, int]:
    """Recompute and store the automatic score of the leads in scope; (leads looked at, leads changed)."""
    if not rules.enabled:
        return 0, 0
    scored = _scores(tx, rules, where, params, today, False)
    return len(scored), _write(tx, scored)


def lead_changed(tx: Tx, rules: Scoring, lead_id: int, today: date) -> None:
    """One lead changed (a field, its status, an activity): store its automatic score."""
    if rules.enabled:
        update(tx, rules, "l.id = :score_lead", {"score_lead": lead_id}, today)


def leads_imported(tx: Tx, rules: Scoring, first_number: int, last_number: int, today: date) -> None:
    """An import chunk inserted the leads numbered first..last: their automatic scores, in bulk."""
    if rules.enabled:
        update(tx, rules, "l.number >= :score_lo AND l.number <= :score_hi",
               {"score_lo": first_number, "score_hi": last_number}, today)


# -- recompute when stale ----------------------------------------------------------------------------
def _stored(tx: Tx) -> dict[str, str]:
    return {r[0]: r[1] for r in tx.all("SELECT key, value FROM setting WHERE key IN (:a, :b)",
                                       {"a": RECOMPUTED_ON, "b": RULES_KEY})}


def _put(tx: Tx, key: str, value: str) -> None:
    if not tx.execute("UPDATE setting SET value = :v WHERE key = :k", {"k": key, "v": value}):
        tx.execute("INSERT INTO setting (key, value) VALUES (:k, :v)", {"k": key, "v": value})


def stale(tx: Tx, rules: Scoring, today: date) -> str | None:
    """What a refresh must recompute: "all" (the rules changed, or none are left and some lead still has an
    automatic score), "open" (decay, and not yet today), or None."""
    if not rules.enabled:
        return "all" if tx.scalar("SELECT 1 FROM lead WHERE auto_score <> 0 LIMIT 1") is not None else None
    stored = _stored(tx)
    if stored.get(RULES_KEY) != fingerprint(rules):
        return "all"
    if rules.decay_per_day and stored.get(RECOMPUTED_ON) != today.isoformat():
        return "open"
    return None


def recompute(tx: Tx, rules: Scoring, today: date, *, open_only: bool = False) -> dict[str, Any]:
    """Recompute every lead's automatic score (only open and qualified leads with `open_only`), store it and
    remember the day and the rules; {"leads": looked at, "changed": stored anew, "scope": "all"|"open"}."""
    scope = "open" if open_only else "all"
    if not rules.enabled:
        changed = tx.execute("UPDATE lead SET auto_score = 0 WHERE auto_score <> 0"
                             + (" AND status_id IN (SELECT id FROM status s WHERE s.category IN ('open',"
                                " 'qualified'))" if open_only else ""))
        return {"leads": changed, "changed": changed, "scope": scope}
    looked, changed = update(tx, rules, OPEN_SCOPE if open_only else "1 = 1", {}, today)
    _put(tx, RECOMPUTED_ON, today.isoformat())
    if not open_only:
        _put(tx, RULES_KEY, fingerprint(rules))
    return {"leads": looked, "changed": changed, "scope": scope}


# -- explaining --------------------------------------------------------------------------------------
def explain(tx: Tx, rules: Scoring, lead: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Why a lead has its score: {number, name, manual, auto, stored_auto, total, reasons: [{points, text}],
    last_contact, rules (how many)}. `auto` is computed now; `stored_auto` is what lists sort by (they differ
    only until the day's recompute)."""
    manual = int(lead["score"] or 0)
    stored = int(tx.scalar("SELECT auto_score FROM lead WHERE id = :i", {"i": lead["id"]}) or 0)
    auto, last = 0, None
    reasons: list[Reason] = []
    if rules.enabled:
        found = compute(tx, rules, "l.id = :score_lead", {"score_lead": lead["id"]}, today, explain=True)
        if found:
            auto, reasons, last = found[0]["auto"], found[0]["reasons"] or [], found[0]["last_contact"]
    name = lead.get("contact_name") or lead.get("company") or lead.get("title") or ""
    return {"number": lead["number"], "name": name, "manual": manual, "auto": auto, "stored_auto": stored,
            "total": manual + auto,
            "reasons": [{"points": p, "text": t} for p, t in reasons], "last_contact": last,
            "rules": len(rules.rules), "decay_per_day": rules.decay_per_day}


def warnings(tx: Tx, rules: Scoring) -> list[str]:
    """Rules that can never hold on this desk: a source, status, type... name it does not have."""
    found = []
    for i, rule in enumerate(rules.rules, 1):
        if rule.kind != "field" or rule.value_type != "name" or not rule.values:
            continue
        if rule.target == "owner":
            names = [r[0] for r in tx.all("SELECT login FROM \"user\"")]
        elif rule.target in CATALOG_OF:
            names = [r[0] for r in tx.all(f"SELECT name FROM {CATALOG_OF[rule.target]}")]
        else:
            continue
        known = {score_fold(n) for n in names}
        for value, shown in zip(rule.values, rule.shown, strict=True):
            if value not in known:
                found.append(f"rule {i}: there is no {field_name(rule.target)} named '{shown}'")
    return found


def describe_rules(rules: Scoring) -> list[dict[str, Any]]:
    """The rules in words, in order: [{n, points, kind, what}], then the decay."""
    shown: list[dict[str, Any]] = [{"n": i, "points": r.points, "kind": "bant" if r.value_type == "bant" else r.kind,
                                    "what": describe(r)} for i, r in enumerate(rules.rules, 1)]
    if rules.decay_per_day:
        after = f" after {rules.decay_after} days" if rules.decay_after else ""
        most = f", at most {rules.decay_max}" if rules.decay_max is not None else ""
        shown.append({"n": None, "points": -rules.decay_per_day, "kind": "decay",
                      "what": f"per day without contact{after}{most} (open leads)"})
    return shown


# -- BANT --------------------------------------------------------------------------------------------
def bant_part(text: str) -> str:
    """budget, authority, need or timeline (a unique prefix will do)."""
    folded = text.strip().casefold().removeprefix("bant_")
    found = [p for p in BANT_PARTS if p.startswith(folded)] if folded else []
    if len(found) != 1:
        raise RuleError(f"BANT question '{text}' must be one of {', '.join(BANT_PARTS)}")
    return found[0]


def next_answer(answer: str | None) -> str:
    """The BANT answer after this one when cycling: unknown → yes → no → unknown."""
    return BANT_CYCLE.get(answer or "unknown", "yes")
