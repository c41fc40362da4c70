"""Duplicate leads: the warning when a lead is created, and the groups `leaddesk dupes` lists.

Two leads are likely the same when they share a normalised phone (`phone_e164`) or email
(`email_lower`): found with GROUP BY on those indexed columns. Or when their names and their
companies are both similar (rapidfuzz, token-sorted, case-folded, punctuation and legal
suffixes such as "Inc" or "GmbH" ignored, numbers required to agree): compared only within
blocks of leads that share a short prefix of their company or of their name, so a desk of
100k leads never costs n² comparisons. rapidfuzz is imported only when the groups are built.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from leaddesk.settings import Settings
from leaddesk.store.contactinfo import looks_like_email, normalise_phone
from leaddesk.store.db import Tx
from leaddesk.store.errors import PossibleDuplicate, RuleError
from leaddesk.textsafe import safe_line

DEFAULT_THRESHOLD = 90
MAX_MATCHES = 20  # the warning on create names a few records, not a thousand
MAX_BLOCK = 2000  # a bigger block is split by the next character of the key
CHUNK = 500  # ids per IN (...) list

# Words that do not tell two companies apart ("Acme Inc." is "ACME").
LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "llp", "lp", "plc",
    "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "ab", "as", "oy", "pty", "pte", "the",
})
_WORD = re.compile(r"[^\W_]+")


# -- the warning when a lead is created ------------------------------------------------------------
def contact_keys(values: dict[str, Any], settings: Settings) -> tuple[str | None, str | None]:
    """The normalised phone and email of field values typed by a user, as `fields.prepare` would store them
    (an email that is not one, or a phone that cannot be read, gives None rather than an error)."""
    phone = values.get("phone")
    email = values.get("email")
    e164 = normalise_phone(str(phone).strip(), settings.default_region) if phone not in (None, "") else None
    email_text = str(email).strip() if email not in (None, "") else ""
    return e164, (email_text.casefold() if email_text and looks_like_email(email_text) else None)


def find_matches(tx: Tx, phone_e164: str | None, email_lower: str | None,
                 exclude_id: int | None = None) -> list[dict[str, Any]]:
    """Leads, then customers, with this normalised phone or email (indexed look-ups).

    Each match: kind ("lead" or "customer"), id, number (leads), name, company (leads), phone, email,
    status (leads) and matched (["phone"], ["email"] or both).
    """
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for key, value in (("phone", phone_e164), ("email", email_lower)):
        if not value:
            continue
        column = "phone_e164" if key == "phone" else "email_lower"
        leads = tx.all(
            "SELECT l.id, l.number, l.contact_name, l.company, l.phone, l.email, s.name AS status"
            f" FROM lead l JOIN status s ON s.id = l.status_id WHERE l.{column} = :v ORDER BY l.number LIMIT :n",
            {"v": value, "n": MAX_MATCHES + 1})
        for row in leads:
            if row["id"] == exclude_id:
                continue
            entry = found.setdefault(("lead", int(row["id"])), {
                "kind": "lead", "id": int(row["id"]), "number": int(row["number"]), "name": row["contact_name"],
                "company": row["company"], "phone": row["phone"], "email": row["email"], "status": row["status"],
                "matched": []})
            entry["matched"].append(key)
        customers = tx.all(f"SELECT id, name, phone, email FROM customer WHERE {column} = :v ORDER BY id LIMIT :n",
                           {"v": value, "n": MAX_MATCHES})
        for row in customers:
            entry = found.setdefault(("customer", int(row["id"])), {
                "kind": "customer", "id": int(row["id"]), "number": None, "name": row["name"], "company": None,
                "phone": row["phone"], "email": row["email"], "status": None, "matched": []})
            entry["matched"].append(key)
    matches = sorted(found.values(), key=lambda m: (m["kind"] != "lead", m["number"] or m["id"]))
    return matches[:MAX_MATCHES]


def describe(match: dict[str, Any]) -> str:
    """`lead #12 Ann Lee (Acme)` or `customer 3 Acme Ltd`."""
    if match["kind"] == "customer":
        return f"customer {match['id']} {safe_line(match['name'] or '')}".rstrip()
    who = safe_line(match["name"] or match["company"] or "")
    company = f" ({safe_line(match['company'])})" if match["company"] and match["name"] else ""
    return f"lead #{match['number']} {who}{company}".rstrip()


def duplicate_message(matches: Sequence[dict[str, Any]], shown: int = 3) -> str:
    """One line naming the records a new lead would duplicate."""
    parts = [f"{describe(m)} has this {' and '.join(m['matched'])}" for m in matches[:shown]]
    more = len(matches) - shown
    if more > 0:
        parts.append(f"and {more} more record{'s' if more > 1 else ''}")
    return f"{', '.join(parts)}; add --force to create it anyway"


def refuse_duplicate(tx: Tx, lead: dict[str, Any]) -> None:
    """Refuse a just-created lead (the caller's transaction is rolled back) whose phone or email is taken."""
    matches = find_matches(tx, lead.get("phone_e164"), lead.get("email_lower"), exclude_id=lead["id"])
    if matches:
        raise PossibleDuplicate(duplicate_message(matches), matches)


# -- groups of likely duplicates -------------------------------------------------------------------
@dataclass(slots=True)
class _Key:
    """A lead's name and company as the fuzzy match compares them."""

    index: int
    name: str  # case-folded words, sorted
    company: str  # the same, without legal suffixes
    both: str  # name and company words, sorted (token_sort_ratio of "name company")
    numbers: tuple[str, ...]  # "Store 12" is not "Store 13"


def _words(text: str | None) -> list[str]:
    return _WORD.findall((text or "").casefold())


def fuzzy_key(index: int, name: str | None, company: str | None) -> _Key:
    """The comparison key of one lead."""
    name_words = _words(name)
    company_words = [w for w in _words(company) if w not in LEGAL_SUFFIXES]
    both = name_words + company_words
    return _Key(index, " ".join(sorted(name_words)), " ".join(sorted(company_words)), " ".join(sorted(both)),
                tuple(sorted(w for w in both if w.isdigit())))


def similar(a: _Key, b: _Key, threshold: int) -> int | None:
    """The name-and-company score (0-100) of two keys when they match, else None.

    A match needs the numbers to agree, both names similar (or both missing) and both companies
    similar (or both missing): two people at one company are not a match, nor is one name at two
    companies.
    """
    from rapidfuzz.fuzz import ratio

    if a.numbers != b.numbers or bool(a.name) != bool(b.name) or bool(a.company) != bool(b.company):
        return None
    if a.name and ratio(a.name, b.name) < threshold:
        return None
    if a.company and ratio(a.company, b.company) < threshold:
        return None
    score = ratio(a.both, b.both)
    return int(score) if score >= threshold else None


def _blocks(keys: Sequence[_Key]) -> dict[tuple[str, str, str, tuple[str, ...]], list[_Key]]:
    """Each key in up to two blocks: a true duplicate with a typo rarely has it at the start of both
    its company and its name, so it shares at least one block with the other lead. Matches need the
    same numbers, so the numbers are part of every block key (nothing is lost by it)."""
    blocks: dict[tuple[str, str, str, tuple[str, ...]], list[_Key]] = defaultdict(list)
    for key in keys:
        if key.name and key.company:
            blocks[("c", key.company[:3], key.name[:1], key.numbers)].append(key)
            blocks[("n", key.name[:3], key.company[:1], key.numbers)].append(key)
        else:
            text = key.name or key.company
            kind = "N" if key.name else "C"
            blocks[(kind, text[:3], "", key.numbers)].append(key)
            blocks[(kind + "$", text[-3:], "", key.numbers)].append(key)
    return blocks


def _refiner(kind: str) -> tuple[Callable[[_Key], str], int]:
    """How to split a too-big block further: by which string, from which position."""
    if kind == "c":
        return (lambda k: k.name), 1
    if kind == "n":
        return (lambda k: k.company), 1
    if kind.endswith("$"):
        return (lambda k: (k.name or k.company)[::-1]), 3
    return (lambda k: k.name or k.company), 3


def _compare(members: list[_Key], threshold: int, found: Callable[[_Key, _Key], None]) -> None:
    """Pass every pair of a block whose name-and-company text is similar enough to `found` (the loop runs
    inside rapidfuzz)."""
    from rapidfuzz import process
    from rapidfuzz.fuzz import ratio

    texts = [k.both for k in members]
    for i in range(len(members) - 1):
        rest = texts[i + 1:]
        for _text, _score, j in process.extract(texts[i], rest, scorer=ratio, score_cutoff=threshold,
                                                limit=None):
            found(members[i], members[i + 1 + j])


def _compare_block(kind: str, members: list[_Key], threshold: int,
                   found: Callable[[_Key, _Key], None]) -> None:
    text_of, depth = _refiner(kind)
    pending = [(members, depth)]
    while pending:
        block, at = pending.pop()
        if len(block) < 2:
            continue
        if len(block) <= MAX_BLOCK or at > 40:
            _compare(block, threshold, found)
            continue
        parts: dict[str, list[_Key]] = defaultdict(list)
        for key in block:
            parts[text_of(key)[at:at + 1]].append(key)
        pending.extend((part, at + 1) for part in parts.values())


class _Groups:
    """Union-find over lead ids, remembering the match that joined each pair of groups."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.reasons: list[tuple[list[int], dict[str, Any]]] = []

    def find(self, item: int) -> int:
        root = self.parent.setdefault(item, item)
        while root != self.parent[root]:
            root = self.parent[root]
        while item != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def join(self, ids: Iterable[int]) -> bool:
        """Put these ids in one group; True when that joined groups that were apart."""
        roots = {self.find(i) for i in ids}
        if len(roots) < 2:
            return False
        first, *rest = roots
        for root in rest:
            self.parent[root] = first
        return True


def _exact(tx: Tx, groups: _Groups) -> None:
    for why, column in (("phone", "phone_e164"), ("email", "email_lower")):
        rows = tx.all(
            f"SELECT l.id, l.{column} AS v FROM lead l JOIN (SELECT {column} FROM lead WHERE {column} IS NOT NULL"
            f" GROUP BY {column} HAVING count(*) > 1) d ON d.{column} = l.{column} ORDER BY l.{column}, l.id")
        by_value: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            by_value[row["v"]].append(int(row["id"]))
        for value, ids in by_value.items():
            groups.join(ids)
            groups.reasons.append((ids, {"why": why, "value": value, "score": None}))


def _fuzzy(tx: Tx, groups: _Groups, threshold: int) -> None:
    rows = tx.all("SELECT id, contact_name, company FROM lead")
    keys = [fuzzy_key(int(r["id"]), r["contact_name"], r["company"]) for r in rows]
    keys = [k for k in keys if k.both]

    def found(a: _Key, b: _Key) -> None:
        if groups.find(a.index) == groups.find(b.index):
            return
        score = similar(a, b, threshold)
        if score is not None:
            groups.join((a.index, b.index))
            groups.reasons.append(([a.index, b.index], {"why": "name", "value": None, "score": score}))

    for (kind, *_), members in _blocks(keys).items():
        _compare_block(kind, members, threshold, found)


def _lead_rows(tx: Tx, ids: list[int]) -> dict[int, dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        params = {f"i{n}": value for n, value in enumerate(chunk)}
        marks = ", ".join(f":i{n}" for n in range(len(chunk)))
        for row in tx.all(
                "SELECT l.id, l.number, l.contact_name AS name, l.company, l.phone, l.email, s.name AS status,"
                " s.category AS status_category, u.login AS owner, l.updated_at AS updated FROM lead l"
                " JOIN status s ON s.id = l.status_id LEFT JOIN \"user\" u ON u.id = l.owner_id"
                f" WHERE l.id IN ({marks})", params):
            rows[int(row["id"])] = dict(row)
    return rows


def duplicate_groups(tx: Tx, threshold: int = DEFAULT_THRESHOLD, *, fuzzy: bool = True) -> list[dict[str, Any]]:
    """Groups of likely duplicate leads, ordered by their lowest lead number.

    Each group: `numbers` (sorted), `leads` (number, name, company, phone, email, status,
    status_category, owner, updated) and `reasons`, each one `{"why": "phone"|"email"|"name",
    "value": the shared phone/email (None for names), "score": 0-100 for names, "numbers": [...]}`;
    the reasons together explain why every lead of the group is in it.
    """
    if not 50 <= threshold <= 100:
        raise RuleError(f"the threshold {threshold} must be between 50 and 100")
    groups = _Groups()
    _exact(tx, groups)
    if fuzzy:
        _fuzzy(tx, groups, threshold)
    members: dict[int, list[int]] = defaultdict(list)
    for item in list(groups.parent):
        members[groups.find(item)].append(item)
    details = _lead_rows(tx, sorted(groups.parent))
    number_of = {i: int(d["number"]) for i, d in details.items()}
    reasons: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ids, reason in groups.reasons:
        present = [i for i in ids if i in number_of]
        if len(present) > 1:
            reasons[groups.find(present[0])].append(
                {**reason, "numbers": sorted(number_of[i] for i in present)})
    result = []
    for root, ids in members.items():
        leads = sorted((details[i] for i in ids if i in details), key=lambda d: d["number"])
        if len(leads) < 2:
            continue
        for lead in leads:
            del lead["id"]
        result.append({"numbers": [d["number"] for d in leads], "leads": leads,
                       "reasons": sorted(reasons[root], key=lambda r: (r["numbers"], r["why"]))})
    return sorted(result, key=lambda g: g["numbers"][0])
