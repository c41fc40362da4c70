"""import batches, lead merges, captured email ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file", sqlmodel.sql.sqltypes.AutoString(), server_default="", nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.AutoString(), server_default="", nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), server_default="running", nullable=False),
        sa.Column("rows_read", sa.Integer(), server_default="0", nullable=False),
        sa.Column("imported", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("duplicates", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("options", sqlmodel.sql.sqltypes.AutoString(), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "lead_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("keep_id", sa.Integer(), nullable=False),
        sa.Column("merged_numbers", sqlmodel.sql.sqltypes.AutoString(), server_default="", nullable=False),
        sa.Column("snapshot", sqlmodel.sql.sqltypes.AutoString(), server_default="{}", nullable=False),
        sa.Column("change_id", sqlmodel.sql.sqltypes.AutoString(), server_default="", nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.AutoString(), server_default="", nullable=False),
        sa.Column("undone", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["keep_id"], ["lead.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_merge_keep_id", "lead_merge", ["keep_id"])
    # Plain ADD COLUMN (no table rebuild on SQLite: the lead table keeps its AUTOINCREMENT and its rows in place).
    if op.get_bind().dialect.name == "sqlite":  # SQLite takes a REFERENCES clause in ADD COLUMN; Alembic won't
        op.execute("ALTER TABLE lead ADD COLUMN import_batch_id INTEGER REFERENCES import_batch (id)")
    else:
        op.add_column("lead", sa.Column("import_batch_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_lead_import_batch_id", "lead", "import_batch", ["import_batch_id"], ["id"])
    op.create_index("ix_lead_import_batch_id", "lead", ["import_batch_id"])
    op.add_column("activity", sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_index("ix_activity_message_id", "activity", ["message_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_activity_message_id", table_name="activity")
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("message_id")
    op.drop_index("ix_lead_import_batch_id", table_name="lead")
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("import_batch_id")
    op.drop_index("ix_lead_merge_keep_id", table_name="lead_merge")
    op.drop_table("lead_merge")
    op.drop_table("import_batch")
