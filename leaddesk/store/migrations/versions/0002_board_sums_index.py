"""board sums index: the board's column counts and values read one covering index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:40:00
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lead_board_sums", "lead", ["status_id", "expected_revenue_cents", "job_value_cents"])


def downgrade() -> None:
    op.drop_index("ix_lead_board_sums", table_name="lead")
