"""Plain-text and JSON renderings of leads, shared by the quick path and the full CLI.

No Rich here (the quick path cannot afford its import). Every user value goes
through `safe()` so it is shown literally, never as a terminal escape sequence.
"""

from __future__ import annotations

import json
from typing import Any

from leaddesk.store.rules import PRIORITY_NAMES, format_money
from leaddesk.textsafe import safe, safe_json, safe_line


def money(cents: int | None) -> float | None:
    """Cents as a JSON number of currency units."""
    return None if cents is None else round(cents / 100, 2)


def lead_json(d: dict[str, Any]) -> dict[str, Any]:
    """The public JSON form of a lead (`show --json`)."""
    return {
        "number": d["number"], "title": d["title"], "contact_name": d["contact_name"],
        "first_name": d["first_name"], "last_name": d["last_name"], "company": d["company"],
        "job_title": d["job_title"], "email": d["email"], "phone": d["phone"], "phone_e164": d["phone_e164"],
        "phone_normalised": d["phone_e164"] is not None if d["phone"] else None,
        "street": d["street"], "city": d["city"], "state": d["state"], "zip": d["zip"], "country": d["country"],
        "website": d["website"], "zone": d["zone"], "source": d["source"], "source_detail": d["source_detail"],
        "campaign": d["campaign"], "medium": d["medium"], "contact_method": d["contact_method"],
        "item": d["item"], "type": d["type"], "status": d["status"], "status_category": d["status_category"],
        "priority": d["priority"], "tags": [t for t in d["tags"].split(",") if t],
        "description": d["description"], "owner": d["owner"], "partner": d["partner"],
        "customer_id": d["customer_id"], "customer": d["customer"],
        "expected_revenue": money(d["expected_revenue_cents"]), "probability": d["probability"],
        "expected_close": d["expected_close"], "followup": d["followup_on"],
        "followup_time": d.get("followup_time"), "followup_note": d.get("followup_note") or "",
        "followup_due": d.get("followup_due"), "score": d["score"],
        "auto_score": d.get("auto_score", 0), "total_score": d["score"] + d.get("auto_score", 0),
        "bant": {k: {"answer": d[f"bant_{k}"], "note": d[f"bant_{k}_note"]}
                 for k in ("budget", "authority", "need", "timeline")},
        "job_value": money(d["job_value_cents"]), "lost_reason": d["lost_reason"], "lost_note": d["lost_note"],
        "custom": d["custom"], "created_at": d["created_at"], "updated_at": d["updated_at"],
        "version": d["version"],
        "deals": [{"id": x["id"], "title": x["title"], "value": money(x["value_cents"]), "stage": x["stage"],
                   "status": x["status"], "expected_close": x["expected_close"]} for x in d["deals"]],
        "activities": [{"kind": a["kind"], "body": a["body"], "at": a["at"], "user": a["user"]}
                       for a in d["activities"]],
    }


def dumps(value: Any) -> str:
    """JSON text for machines, safe on a terminal too (non-ASCII kept, control characters escaped)."""
    return safe_json(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def one_line(d: dict[str, Any]) -> str:
    """`#42 Ann Lee (Acme) · Contacted` for confirmations."""
    who = safe_line(d["contact_name"] or d["company"] or d["title"])
    company = f" ({safe_line(d['company'])})" if d["company"] and d["contact_name"] else ""
    return f"#{d['number']} {who}{company} · {safe_line(d['status'])}"


def followup_text(d: dict[str, Any]) -> str | None:
    """`2026-12-01 at 14:30 (tomorrow)`: the follow-up's date, time and how it stands."""
    if not d["followup_on"]:
        return None
    text = d["followup_on"] + (f" at {d['followup_time']}" if d.get("followup_time") else "")
    return text + (f" ({d['followup_words']})" if d.get("followup_words") else "")


def lead_text(d: dict[str, Any], activities: int = 10) -> str:
    """A readable card of a lead for `show`."""
    lines = [f"#{d['number']}  {safe_line(d['title'])}", ""]

    def row(label: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            lines.append(f"  {label:<15} {safe_line(str(value))}")

    row("Contact", d["contact_name"])
    row("Job title", d["job_title"])
    row("Company", d["company"])
    row("Email", d["email"])
    phone = d["phone"]
    if phone and d["phone_e164"] and d["phone_e164"] != phone:
        phone = f"{phone}  ({d['phone_e164']})"
    elif phone and not d["phone_e164"]:
        phone = f"{phone}  (not normalised)"
    row("Phone", phone)
    address = ", ".join(x for x in (d["street"], d["city"], d["state"], d["zip"], d["country"]) if x)
    row("Address", address)
    row("Website", d["website"])
    lines.append("")
    status = d["status"]
    if d["status_category"] == "lost" and d["lost_reason"]:
        status += f" — {d['lost_reason']}" + (f": {d['lost_note']}" if d["lost_note"] else "")
    row("Status", status)
    row("Job value", format_money(d["job_value_cents"]))
    row("Type", d["type"])
    row("Priority", f"{d['priority']} ({PRIORITY_NAMES.get(d['priority'], '?')})")
    row("Owner", d["owner"])
    row("Follow-up", followup_text(d))
    row("Follow-up note", d.get("followup_note"))
    row("Source", " / ".join(x for x in (d["source"], d["source_detail"]) if x))
    row("Campaign", " / ".join(x for x in (d["campaign"], d["medium"]) if x))
    row("Zone", d["zone"])
    row("Item", d["item"])
    row("Partner", d["partner"])
    row("Customer", f"{d['customer']} (id {d['customer_id']})" if d["customer_id"] else None)
    row("Tags", d["tags"].replace(",", ", "))
    revenue = format_money(d["expected_revenue_cents"])
    if revenue:
        revenue += f"  ({d['probability']}%)" if d["probability"] is not None else ""
    row("Expected", revenue)
    row("Expected close", d["expected_close"])
    bant = [f"{k} {d[f'bant_{k}']}" + (f" ({d[f'bant_{k}_note']})" if d[f"bant_{k}_note"] else "")
            for k in ("budget", "authority", "need", "timeline")]
    row("BANT", " · ".join(bant) if any(d[f"bant_{k}"] != "unknown" or d[f"bant_{k}_note"]
                                        for k in ("budget", "authority", "need", "timeline")) else None)
    auto = d.get("auto_score") or 0
    row("Score", f"{d['score'] + auto}  (manual {d['score']} + rules {auto}: leaddesk score {d['number']})"
        if auto else d["score"] or None)
    row("Contact method", d["contact_method"])
    for name, value in sorted(d["custom"].items()):
        row(name.replace("_", " ").capitalize(), value)
    if d["description"]:
        lines += ["", "  Description", *(f"    {safe(x)}" for x in d["description"].splitlines())]
    if d["deals"]:
        lines += ["", "  Deals"]
        for deal in d["deals"]:
            value = format_money(deal["value_cents"])
            lines.append(f"    {deal['id']:>5}  {safe_line(deal['title'])}  {deal['stage']}  {deal['status']}"
                         + (f"  {value}" if value else ""))
    if d["activities"]:
        shown = d["activities"][:activities]
        lines += ["", f"  Timeline ({len(d['activities'])})"]
        for a in shown:
            lines.append(f"    {a['at'][:16].replace('T', ' ')}  {a['kind']:<7} {safe_line(a['user'] or '')}:"
                         f" {safe_line(a['body'])}")
        if len(d["activities"]) > len(shown):
            lines.append(f"    … {len(d['activities']) - len(shown)} more (leaddesk show --json)")
    lines += ["", f"  created {d['created_at'].replace('T', ' ')} · updated {d['updated_at'].replace('T', ' ')}"
              f" · version {d['version']}"]
    return "\n".join(lines)
