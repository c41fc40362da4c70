"""Which lead field a column of an imported file (or a web form field) holds.

Headers are matched case-, accent- and punctuation-insensitively against the lead
field names and common synonyms, including the export headers of other CRMs
(Salesforce, HubSpot, Zoho, Pipedrive, Odoo, Frappe CRM, EspoCRM) and seed 001's
format (`contact_name, phone, source, company_name, email, address, city, state,
priority, description`). `--map "Header=field"` overrides (`-` or `ignore` skips).

Mapped values come back keyed by target:
- a lead field name of `fields.FIELDS` (ready for `fields.prepare` / `leads.add_lead`),
- `status` (the status a new lead starts in, `add_lead(status=...)`; a closed one with what it needs:
  `job_value`, `lost_reason`, `lost_note`, `customer` by name, see `import_status`),
- `created` (when the lead was created, as an export writes it),
- `custom.NAME` for a custom field defined in settings,
- `number` for a lead number column (reported, never imported: this desk numbers its leads).
`lead_values()` turns such a dict into `(values for add_lead, status)`.

Pure and light: no database, no third-party imports.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from leaddesk.settings import Settings
from leaddesk.store.errors import RuleError
from leaddesk.store.fields import FIELDS

IGNORE = ("-", "ignore")
CUSTOM = "custom."
# Targets that are not lead fields but are understood by the import.
EXTRA_TARGETS = ("status", "number", "lost_reason", "lost_note", "created")


def norm(text: str) -> str:
    """A header folded for matching: no case, accents, spaces or punctuation ("E-mail " -> "email")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def _syn(target: str, *headers: str) -> dict[str, str]:
    return {norm(h): target for h in headers}


# Folded header -> target. Field names themselves (and their labels) match too, see `_target_for`.
SYNONYMS: dict[str, str] = {
    **_syn("name", "Contact Name", "Full Name", "Name", "Lead Name", "Person Name", "Contact", "Contact Person",
           "Person", "Customer Name", "Client Name", "Your Name", "Display Name", "Person - Name"),
    **_syn("first_name", "First Name", "Firstname", "Given Name", "Forename", "First"),
    **_syn("last_name", "Last Name", "Lastname", "Surname", "Family Name", "Last"),
    **_syn("email", "Email", "E-mail", "Email Address", "E-mail Address", "Mail", "Primary Email", "Work Email",
           "Business Email", "Email 1", "Person - Email", "Your Email", "Email (Work)"),
    **_syn("phone", "Phone", "Phone Number", "Telephone", "Tel", "Mobile", "Mobile Phone", "Mobile Number",
           "Mobile No", "Mobile Phone Number", "Cell", "Cell Phone", "Cellphone", "Work Phone", "Business Phone",
           "Primary Phone", "Phone 1", "Contact Number", "Contact No", "Whatsapp", "Person - Phone", "Phone (Work)",
           "Phone (Mobile)", "Your Phone"),
    **_syn("company", "Company", "Company Name", "Organization", "Organisation", "Organization Name",
           "Organisation Name", "Organization - Name", "Account", "Account Name", "Business", "Business Name",
           "Employer", "Firm", "Partner Name"),
    **_syn("job_title", "Title", "Job Title", "Position", "Job Position", "Designation", "Role", "Function"),
    **_syn("title", "Lead Title", "Lead - Title", "Deal Title", "Opportunity", "Opportunity Name", "Subject",
           "Lead Subject"),
    **_syn("source", "Source", "Lead Source", "Original Source", "Source Name", "Lead - Source", "How did you hear",
           "How did you hear about us", "Referral Source"),
    **_syn("source_detail", "Source Detail", "Source Details", "Original Source Drill-Down 1", "Referred By",
           "Referrer"),
    **_syn("campaign", "Campaign", "Campaign Name", "Utm Campaign", "Lead Campaign"),
    **_syn("medium", "Medium", "Utm Medium", "Channel"),
    **_syn("street", "Street", "Address", "Street Address", "Address Street", "Address Line 1", "Address 1",
           "Street 1", "Mailing Street", "Billing Street", "Organization - Address", "Full Address", "Street Line 1"),
    **_syn("city", "City", "Town", "Address City", "Mailing City", "Billing City", "City/Town", "Locality"),
    **_syn("state", "State", "Province", "Region", "State/Province", "State/Region", "State or Province",
           "Address State", "Mailing State", "Billing State", "County", "State Province"),
    **_syn("zip", "Zip", "Zip Code", "Zipcode", "Postal Code", "Postcode", "Post Code", "Zip/Postal Code",
           "Postal", "Address Postal Code", "Mailing Zip", "Billing Zip", "PIN Code", "Pincode"),
    **_syn("country", "Country", "Country/Region", "Address Country", "Mailing Country", "Billing Country",
           "Nation"),
    **_syn("website", "Website", "Web Site", "Website URL", "Web", "URL", "Homepage", "Company Website", "Site"),
    **_syn("zone", "Zone", "Territory", "Area", "Sales Territory", "Sales Zone"),
    **_syn("description", "Description", "Notes", "Note", "Comments", "Comment", "Message", "Remarks", "Details",
           "Internal Notes", "Lead Description", "Your Message", "Additional Information", "Info"),
    **_syn("priority", "Priority", "Lead Priority", "Importance"),
    **_syn("tags", "Tags", "Tag", "Labels", "Label", "Lead - Labels", "Categories", "Keywords"),
    **_syn("status", "Status", "Lead Status", "Stage", "Lead Stage", "Lead - Status"),
    **_syn("owner", "Owner", "Lead Owner", "Assigned To", "Assigned", "Assigned User", "Salesperson",
           "Sales Person", "Sales Rep", "Rep", "Contact Owner", "Lead - Owner", "User", "Responsible", "Agent",
           "Account Owner", "Assigned User Name", "Owner Name"),
    **_syn("partner", "Partner", "Referral Partner", "Partner Name (Referral)", "Affiliate"),
    **_syn("followup", "Follow-up", "Follow Up", "Followup", "Follow-up Date", "Follow Up Date", "Next Follow Up",
           "Next Contact Date", "Next Action Date", "Next Activity Date", "Callback Date", "Follow-up On",
           "Followup On"),
    **_syn("expected_revenue", "Expected Revenue", "Amount", "Revenue", "Value", "Deal Value", "Lead Value",
           "Lead - Value", "Opportunity Amount", "Budget", "Estimated Value", "Potential Value", "Expected Value"),
    **_syn("probability", "Probability", "Probability (%)", "Win Probability", "Chance"),
    **_syn("expected_close", "Expected Close", "Expected Close Date", "Expected Closing", "Close Date",
           "Closing Date", "Lead - Expected Close Date", "Deadline"),
    **_syn("type", "Type", "Lead Type", "Kind"),
    **_syn("item", "Item", "Product", "Service", "Interested In", "Product Interest"),
    **_syn("contact_method", "Contact Method", "Preferred Contact Method", "Preferred Contact"),
    **_syn("score", "Score", "Lead Score", "HubSpot Score"),
    **_syn("number", "Number", "Lead Number", "Lead No", "Lead #"),
    **_syn("lost_reason", "Lost Reason", "Loss Reason", "Reason Lost", "Lost Reason Name", "Disqualify Reason",
           "Disqualification Reason"),
    **_syn("lost_note", "Lost Note", "Lost Reason Note", "Loss Note", "Lost Reason Details"),
    **_syn("created", "Created At"),
    # seed 001's columns (contact_name, phone, source are the required ones)
    **_syn("name", "contact_name"),
    **_syn("company", "company_name"),
    **_syn("street", "address"),
    **_syn("title", "lead_title"),
}

# Prefixes other CRMs put before a field ("Lead - Source", "Person - Email", "Address City", "Mailing Zip").
PREFIXES = tuple(norm(p) for p in ("lead", "person", "contact", "primary", "mailing", "billing", "work",
                                   "business", "address", "your", "customer", "client"))


def custom_target(name: str) -> str:
    """The target naming a custom field."""
    return CUSTOM + name


def _known_targets(settings: Settings | None) -> dict[str, str]:
    """Folded field names, labels and custom fields -> target (exact names, before synonyms)."""
    known: dict[str, str] = {}
    if settings is not None:
        for name, custom in settings.custom_fields.items():
            known.setdefault(norm(custom.title), custom_target(name))
            known[norm(name)] = custom_target(name)
    for spec in FIELDS.values():
        known[norm(spec.label)] = spec.name
    for spec in FIELDS.values():
        known[norm(spec.name)] = spec.name
    for extra in EXTRA_TARGETS:
        known[extra] = extra
    return known


def _target_for(header: str, known: dict[str, str]) -> str | None:
    key = norm(header)
    if not key:
        return None
    if known.get(key, "").startswith(CUSTOM):  # a custom field's own name wins over a synonym ("notes")
        return known[key]
    if key in SYNONYMS:
        return SYNONYMS[key]
    if key in known:
        return known[key]
    for prefix in PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            rest = key[len(prefix):]
            if rest in SYNONYMS:
                return SYNONYMS[rest]
            if rest in known:
                return known[rest]
    return None


def resolve_field(text: str, settings: Settings | None = None) -> str | None:
    """The target an override names (a field name, label or synonym); None for `-`/`ignore`."""
    if text.strip().casefold() in IGNORE:
        return None
    raw = text.strip()
    if raw.startswith(CUSTOM) and settings is not None and raw[len(CUSTOM):] in settings.custom_fields:
        return raw
    if raw in FIELDS or raw in EXTRA_TARGETS:  # a field's own name first: "title" is the lead title here
        return raw
    if settings is not None and raw in settings.custom_fields:
        return custom_target(raw)
    target = _target_for(raw, _known_targets(settings))
    if target is None:
        names = ", ".join(sorted([*FIELDS, *EXTRA_TARGETS[:1], *EXTRA_TARGETS[2:]]))
        raise RuleError(f"--map: unknown field '{raw}' (use one of {names}, a custom field, or '-' to skip)")
    return target


@dataclass
class ColumnMap:
    """How the columns of a file map to lead fields."""

    headers: list[str]
    fields: dict[int, str] = field(default_factory=dict)
    """column index -> target (a lead field name, `status`, `custom.NAME` or `number`)"""
    unknown: list[str] = field(default_factory=list)
    """headers not mapped to any field (their values are kept in the description or ignored by choice)"""
    ignored: list[str] = field(default_factory=list)
    """headers skipped on purpose (`--map "Header=-"`)"""
    _unknown_key: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)
    _unknown_at: list[tuple[int, str]] = field(default_factory=list, init=False, repr=False, compare=False)

    def values(self, row: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """(values by target, {header: value} for the non-empty cells no field takes).

        Several columns for one field (Phone and Mobile): the first non-empty one is the value, the
        other different values come back with the unknown cells so that nothing is lost. First and
        last name are combined into the name when the file has no name column.
        """
        out, extra = self.cells(row)
        return _combine_name(out), extra

    def cells(self, row: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """`values()` without combining first and last name (the import does that as it splits a row)."""
        out: dict[str, str] = {}
        extra: dict[str, str] = {}
        width = len(row)
        for index, target in self.fields.items():
            cell = row[index].strip() if index < width and row[index] is not None else ""
            if not cell:
                continue
            if target not in out:
                out[target] = cell
            elif cell != out[target]:
                _put(extra, self.headers[index], index, cell)
        for index, header in self._unknown_columns():
            if index < width:
                cell = (row[index] or "").strip()
                if cell:
                    _put(extra, header, index, cell)
        for index in range(len(self.headers), width):
            cell = (row[index] or "").strip()
            if cell:
                extra[f"column {index + 1}"] = cell
        return out, extra

    def _unknown_columns(self) -> list[tuple[int, str]]:
        """(index, header) of the columns no field takes, worked out once per list of unknown headers."""
        key = tuple(self.unknown)
        if self._unknown_key != key:
            unknown = set(key)
            self._unknown_at = [(i, h) for i, h in enumerate(self.headers) if h in unknown]
            self._unknown_key = key
        return self._unknown_at

    def describe(self) -> list[tuple[str, str]]:
        """(header, target or '' for unknown / '-' for ignored) in column order, for showing the mapping."""
        ignored = set(self.ignored)
        return [(h, self.fields.get(i, "-" if h in ignored else "")) for i, h in enumerate(self.headers)]


def _put(extra: dict[str, str], header: str, index: int, value: str) -> None:
    """Keep a cell under its header (made unique when two columns share a header)."""
    key = header if header not in extra else f"{header} (column {index + 1})"
    extra[key] = value


def _combine_name(values: dict[str, str]) -> dict[str, str]:
    """The name first (so explicit first/last names, applied after it, win), from First + Last if need be."""
    name = values.get("name")
    if name is None and ("first_name" in values or "last_name" in values):
        name = " ".join(values[k] for k in ("first_name", "last_name") if k in values)
    if name is None:
        return values
    return {"name": name, **{k: v for k, v in values.items() if k != "name"}}


def map_columns(headers: list[str], overrides: dict[str, str] | None = None,
                settings: Settings | None = None) -> ColumnMap:
    """Match a file's headers to lead fields; `overrides` is {"Header": "field"} (`-`/`ignore` skips)."""
    known = _known_targets(settings)
    forced: dict[int, str | None] = {}
    for header, wanted in (overrides or {}).items():
        forced[_find_header(headers, header)] = resolve_field(wanted, settings)
    cmap = ColumnMap(headers=list(headers))
    for index, header in enumerate(headers):
        target = forced[index] if index in forced else _target_for(header, known)
        if target is not None:
            cmap.fields[index] = target
        elif index in forced:
            cmap.ignored.append(header)
        else:
            if not (header or "").strip():
                cmap.headers[index] = f"column {index + 1}"
            cmap.unknown.append(cmap.headers[index])
    return cmap


def unknown_note(columns: list[str], unknown: str = "keep") -> str | None:
    """The note naming the columns no field takes, for the `--unknown` choice (None when there are none)."""
    if not columns:
        return None
    what = "kept in the description" if unknown == "keep" else "ignored (--unknown ignore)"
    return f"columns not matched to a field, {what}: {', '.join(columns)}"


def _find_header(headers: list[str], wanted: str) -> int:
    for index, header in enumerate(headers):
        if header == wanted:
            return index
    key = norm(wanted)
    matches = [i for i, h in enumerate(headers) if norm(h) == key]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RuleError(f"--map: the file has no column '{wanted}'")
    raise RuleError(f"--map: several columns match '{wanted}'; name it exactly")


def map_record(record: dict[str, Any], overrides: dict[str, str] | None = None,
               settings: Settings | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Map one record (a web form post): (values by target, {key: value} for keys no field takes)."""
    keys = list(record)
    row = ["" if record[k] is None else str(record[k]) for k in keys]
    return map_columns([str(k) for k in keys], overrides, settings).values(row)


def lead_values(values: dict[str, str]) -> tuple[dict[str, Any], str | None]:
    """Mapped values as `add_lead(given, status=...)` takes them: custom fields gathered under
    `custom`, the status apart; a `number` is dropped (a desk numbers its own leads)."""
    given: dict[str, Any] = {}
    custom: dict[str, str] = {}
    status = None
    for target, value in values.items():
        if target == "status":
            status = value
        elif target == "number":
            continue
        elif target.startswith(CUSTOM):
            custom[target[len(CUSTOM):]] = value
        else:
            given[target] = value
    if custom:
        given["custom"] = custom
    return given, status
