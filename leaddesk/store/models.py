"""The schema, declared with SQLModel.

These classes are the single source of truth for the tables: Alembic migrations
are generated from them and a test checks the migrated database matches them.
The service layer reads and writes with portable SQL (see `ops`), so that the
quick command-line path never pays for importing an ORM.

Conventions: money is integer cents (`*_cents`); dates are ISO `YYYY-MM-DD`
text and timestamps ISO `YYYY-MM-DDTHH:MM:SS` UTC text, which sort correctly
and behave the same on SQLite and PostgreSQL; JSON is stored as text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, false, text, true
from sqlmodel import Field, SQLModel


def dflt(value: str | int | bool, **kwargs: Any) -> Any:
    """A field with a default that the database applies too (so plain INSERTs may omit it)."""
    if isinstance(value, bool):
        server: Any = true() if value else false()
    else:
        server = str(value)
    return Field(default=value, sa_column_kwargs={"server_default": server}, **kwargs)


class User(SQLModel, table=True):
    """Someone who acts on the desk (a rep, manager, partner or admin)."""

    __tablename__ = "user"
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, index=True)
    name: str = dflt("")
    role: str = dflt("rep")
    active: bool = dflt(True)
    created_at: str = dflt("")


class Status(SQLModel, table=True):
    """A lead status: a category (open/qualified/won/lost), an order, and whether a rep may pick it."""

    __tablename__ = "status"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    category: str = dflt("open")
    position: int = dflt(0)
    manual: bool = dflt(True)


class LeadType(SQLModel, table=True):
    """A kind of lead; it may restrict the statuses a lead of this kind can have."""

    __tablename__ = "lead_type"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class LeadTypeStatus(SQLModel, table=True):
    """A status allowed for a lead type (a type with no rows allows every status)."""

    __tablename__ = "lead_type_status"
    type_id: int = Field(foreign_key="lead_type.id", primary_key=True, ondelete="CASCADE")
    status_id: int = Field(foreign_key="status.id", primary_key=True, ondelete="CASCADE")


class LostReason(SQLModel, table=True):
    """Why a lead was lost or disqualified."""

    __tablename__ = "lost_reason"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class Source(SQLModel, table=True):
    """Where leads come from."""

    __tablename__ = "source"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class ContactMethod(SQLModel, table=True):
    """A preferred way to reach a lead (email, phone, LinkedIn, in person)."""

    __tablename__ = "contact_method"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class Item(SQLModel, table=True):
    """A product or service a lead can ask about (the small catalog)."""

    __tablename__ = "item"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class Partner(SQLModel, table=True):
    """A co-marketing partner who refers leads."""

    __tablename__ = "partner"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    email: str | None = None
    user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: str = dflt("")


class PartnerSpend(SQLModel, table=True):
    """Money spent on a partner (co-marketing), for ROCS and CAC."""

    __tablename__ = "partner_spend"
    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", index=True, ondelete="CASCADE")
    spent_on: str = dflt("")
    amount_cents: int = dflt(0)
    note: str = dflt("")


class Customer(SQLModel, table=True):
    """A company or person the business sells to."""

    __tablename__ = "customer"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused: history refers to them
    id: int | None = Field(default=None, primary_key=True)
    name: str
    kind: str = dflt("company")
    phone: str | None = None
    phone_e164: str | None = Field(default=None, index=True)
    email: str | None = None
    email_lower: str | None = Field(default=None, index=True)
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    website: str | None = None
    created_at: str = dflt("")


class Contact(SQLModel, table=True):
    """A person at a customer."""

    __tablename__ = "contact"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    email: str | None = None
    phone: str | None = None


class Pipeline(SQLModel, table=True):
    """A sales pipeline of ordered stages; exactly one is the default."""

    __tablename__ = "pipeline"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    is_default: bool = dflt(False)


class Stage(SQLModel, table=True):
    """A stage of a pipeline."""

    __tablename__ = "stage"
    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: int = Field(foreign_key="pipeline.id", index=True, ondelete="CASCADE")
    name: str
    position: int = dflt(0)


class Lead(SQLModel, table=True):
    """A prospect: someone who showed interest and has not been qualified into a deal yet."""

    __tablename__ = "lead"
    __table_args__ = (
        Index("ix_lead_board", "status_id", "priority", "number"),  # a board column's page and positions
        # the board's header sums read this index alone, not 100k wide rows (migration 0002)
        Index("ix_lead_board_sums", "status_id", "expected_revenue_cents", "job_value_cents"),
        Index("ix_lead_updated", "updated_at", "number"),  # the lead finder's order, most recent first (0005)
        {"sqlite_autoincrement": True},  # ids are never reused: history refers to them
    )
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True, index=True)
    title: str = dflt("")
    item_id: int | None = Field(default=None, foreign_key="item.id")
    first_name: str | None = None
    last_name: str | None = None
    contact_name: str = dflt("")
    company: str | None = None
    job_title: str | None = None
    email: str | None = None
    email_lower: str | None = Field(default=None, index=True)
    phone: str | None = None
    phone_e164: str | None = Field(default=None, index=True)
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    website: str | None = None
    zone: str | None = Field(default=None, index=True)
    source_id: int | None = Field(default=None, foreign_key="source.id", index=True)
    source_detail: str | None = None
    campaign: str | None = None
    medium: str | None = None
    contact_method_id: int | None = Field(default=None, foreign_key="contact_method.id")
    type_id: int | None = Field(default=None, foreign_key="lead_type.id", index=True)
    status_id: int = Field(foreign_key="status.id", index=True)
    priority: int = dflt(0)
    tags: str = dflt("")
    description: str = dflt("")
    owner_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    partner_id: int | None = Field(default=None, foreign_key="partner.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    expected_revenue_cents: int | None = None
    probability: int | None = None
    expected_close: str | None = None
    followup_on: str | None = Field(default=None, index=True)
    followup_time: str | None = None  # "HH:MM" on followup_on, in the desk's time zone (migration 0004)
    followup_note: str = dflt("")
    score: int = dflt(0)  # the manual score
    auto_score: int = dflt(0, index=True)  # from the score rules in settings, recomputed on every change
    first_contact_at: str | None = Field(default=None, index=True)  # the first call/email/meeting or contacted status
    sla_due_at: str | None = Field(default=None, index=True)  # first contact due by (working hours); None: no SLA
    bant_budget: str = dflt("unknown")
    bant_budget_note: str = dflt("")
    bant_authority: str = dflt("unknown")
    bant_authority_note: str = dflt("")
    bant_need: str = dflt("unknown")
    bant_need_note: str = dflt("")
    bant_timeline: str = dflt("unknown")
    bant_timeline_note: str = dflt("")
    job_value_cents: int | None = None
    lost_reason_id: int | None = Field(default=None, foreign_key="lost_reason.id")
    lost_note: str = dflt("")
    custom: str = dflt("{}")
    search_text: str = dflt("")
    created_at: str = dflt("", index=True)
    updated_at: str = dflt("")
    version: int = dflt(1)
    import_batch_id: int | None = Field(default=None, foreign_key="import_batch.id", index=True)


class Deal(SQLModel, table=True):
    """An opportunity in a pipeline, usually opened by qualifying a lead."""

    __tablename__ = "deal"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused: history refers to them
    id: int | None = Field(default=None, primary_key=True)
    title: str
    value_cents: int | None = None
    expected_close: str | None = None
    pipeline_id: int = Field(foreign_key="pipeline.id")
    stage_id: int = Field(foreign_key="stage.id", index=True)
    state: str = dflt("open")
    lead_id: int | None = Field(default=None, foreign_key="lead.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    lost_reason_id: int | None = Field(default=None, foreign_key="lost_reason.id")
    lost_note: str = dflt("")
    created_at: str = dflt("")
    closed_at: str | None = None
    version: int = dflt(1)


class QuoteLine(SQLModel, table=True):
    """A line of a deal's simple quotation."""

    __tablename__ = "quote_line"
    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", index=True, ondelete="CASCADE")
    description: str
    quantity: int = dflt(1)
    unit_price_cents: int = dflt(0)


class Activity(SQLModel, table=True):
    """Something that happened with a lead: a note, call, email or meeting."""

    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_lead_at", "lead_id", "at"), {"sqlite_autoincrement": True})
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True, ondelete="CASCADE")
    kind: str
    body: str = dflt("")
    at: str = dflt("")
    user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: str = dflt("")
    message_id: str | None = Field(default=None, index=True, unique=True)  # an email's Message-ID: captured once only


class LeadSequence(SQLModel, table=True):
    """A nurture sequence (defined in settings) running on a lead: which step comes next (migration 0004)."""

    __tablename__ = "lead_sequence"
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True, ondelete="CASCADE")
    sequence: str  # the sequence's name in settings
    step: int = dflt(0)  # the index of the next step to schedule
    state: str = dflt("running")  # running, done, stopped
    next_at: str | None = None  # when the current step's follow-up is due
    started_at: str = dflt("")
    updated_at: str = dflt("")
    user_id: int | None = Field(default=None, foreign_key="user.id")


class Notice(SQLModel, table=True):
    """A message for one user's desk (an SLA escalation for a manager...), until they read it (migration 0004)."""

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_user_read", "user_id", "read_at"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    lead_id: int | None = Field(default=None, foreign_key="lead.id", ondelete="CASCADE")
    kind: str  # sla, reminder, ...
    text: str = dflt("")
    at: str = dflt("")
    read_at: str | None = None


class ImportBatch(SQLModel, table=True):
    """One run of `leaddesk import`: who, when, which file, what became of its rows; undo works on it."""

    __tablename__ = "import_batch"
    id: int | None = Field(default=None, primary_key=True)
    file: str = dflt("")
    user_id: int | None = Field(default=None, foreign_key="user.id")
    at: str = dflt("")
    state: str = dflt("running")  # running, done, undone
    rows_read: int = dflt(0)
    imported: int = dflt(0)
    updated: int = dflt(0)
    duplicates: int = dflt(0)
    rejected: int = dflt(0)
    options: str = dflt("{}")  # JSON: mapping, on-duplicate, sheet, ...


class LeadMerge(SQLModel, table=True):
    """Leads merged into another: a snapshot of each merged lead and of what moved, so a merge can be undone."""

    __tablename__ = "lead_merge"
    id: int | None = Field(default=None, primary_key=True)
    keep_id: int = Field(foreign_key="lead.id", index=True)
    merged_numbers: str = dflt("")  # "12,40": the numbers of the leads merged in (for `show 12`)
    snapshot: str = dflt("{}")  # JSON: the merged leads' rows, the ids of what moved, the kept lead's old fields
    change_id: str = dflt("")
    user_id: int | None = Field(default=None, foreign_key="user.id")
    at: str = dflt("")
    undone: bool = dflt(False)


class History(SQLModel, table=True):
    """One field changed on one record, by whom, when and from where.

    Rows written by one action share a `change_id`; undo works on whole changes.
    """

    __tablename__ = "history"
    __table_args__ = (
        Index("ix_history_entity", "entity", "entity_id"),
        # the leads' status history, for the reports (migration 0005; `field` first: see there)
        Index("ix_history_lead_status", "field", "entity_id", "old", "new", "at",
              sqlite_where=text("entity = 'lead' AND field = 'status_id'"),
              postgresql_where=text("entity = 'lead' AND field = 'status_id'")),
    )
    id: int | None = Field(default=None, primary_key=True)
    change_id: str = Field(index=True)
    entity: str
    entity_id: int
    action: str
    field: str
    old: str | None = None
    new: str | None = None
    user_id: int | None = Field(default=None, foreign_key="user.id")
    at: str = dflt("")
    origin: str = dflt("cli")
    undone: bool = dflt(False)


class Setting(SQLModel, table=True):
    """Desk-wide settings kept in the database (e.g. the preset chosen at init)."""

    __tablename__ = "setting"
    key: str = Field(primary_key=True)
    value: str = dflt("")
