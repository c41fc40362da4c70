"""follow-up time and note, SLA and first contact, automatic score, nurture sequences, notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 13:40:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild on SQLite: the lead table keeps its AUTOINCREMENT and its rows in place).
    op.add_column("lead", sa.Column("followup_time", TEXT(), nullable=True))
    op.add_column("lead", sa.Column("followup_note", TEXT(), server_default="", nullable=False))
    op.add_column("lead", sa.Column("auto_score", sa.Integer(), server_default="0", nullable=False))
    op.add_column("lead", sa.Column("first_contact_at", TEXT(), nullable=True))
    op.add_column("lead", sa.Column("sla_due_at", TEXT(), nullable=True))
    _backfill_first_contact()
    op.create_index("ix_lead_auto_score", "lead", ["auto_score"])
    op.create_index("ix_lead_first_contact_at", "lead", ["first_contact_at"])
    op.create_index("ix_lead_sla_due_at", "lead", ["sla_due_at"])
    op.create_table(
        "lead_sequence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("sequence", TEXT(), nullable=False),
        sa.Column("step", sa.Integer(), server_default="0", nullable=False),
        sa.Column("state", TEXT(), server_default="running", nullable=False),
        sa.Column("next_at", TEXT(), nullable=True),
        sa.Column("started_at", TEXT(), server_default="", nullable=False),
        sa.Column("updated_at", TEXT(), server_default="", nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_sequence_lead_id", "lead_sequence", ["lead_id"])
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("kind", TEXT(), nullable=False),
        sa.Column("text", TEXT(), server_default="", nullable=False),
        sa.Column("at", TEXT(), server_default="", nullable=False),
        sa.Column("read_at", TEXT(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notice_user_read", "notice", ["user_id", "read_at"])


CONTACT = ("SELECT min(a.at) FROM activity a WHERE a.lead_id = lead.id AND a.kind IN ('call', 'email', 'meeting')"
           " AND a.user_id IS NOT NULL AND a.message_id IS NULL")
PICKED = ("SELECT min(h.at) FROM history h WHERE h.entity = 'lead' AND h.entity_id = lead.id AND h.field = 'status_id'"
          " AND h.action IN ('status', 'qualify', 'won', 'lost') AND h.origin <> 'import'")


def _backfill_first_contact() -> None:
    """Leads of an existing desk were contacted before the column existed: the first call, email or meeting a user
    logged, or the first status change by hand, whichever came first (what store/sla.py records from now on);
    a lead already qualified, won or lost without either was contacted when it was created."""
    op.execute(f"UPDATE lead SET first_contact_at = ({CONTACT})")
    op.execute(f"UPDATE lead SET first_contact_at = ({PICKED}) WHERE first_contact_at IS NULL"
               f" OR first_contact_at > ({PICKED})")
    op.execute("UPDATE lead SET first_contact_at = created_at WHERE (first_contact_at IS NULL AND status_id IN"
               " (SELECT id FROM status WHERE category <> 'open')) OR first_contact_at < created_at")


def downgrade() -> None:
    op.drop_index("ix_notice_user_read", table_name="notice")
    op.drop_table("notice")
    op.drop_index("ix_lead_sequence_lead_id", table_name="lead_sequence")
    op.drop_table("lead_sequence")
    for index in ("ix_lead_sla_due_at", "ix_lead_first_contact_at", "ix_lead_auto_score"):
        op.drop_index(index, table_name="lead")
    with op.batch_alter_table("lead") as batch:
        for column in ("sla_due_at", "first_contact_at", "auto_score", "followup_note", "followup_time"):
            batch.drop_column(column)
