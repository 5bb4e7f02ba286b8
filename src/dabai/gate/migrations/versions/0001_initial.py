"""Initial schema: residents, passes, revocations, pass uses, events, console users.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("unit", sa.String(40), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_residents_name", "residents", ["name"])
    op.create_table(
        "passes",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("resident_id", sa.Integer(), sa.ForeignKey("residents.id"), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("single_use", sa.Boolean(), nullable=False),
        sa.Column("key_id", sa.String(8), nullable=False),
    )
    op.create_index("ix_passes_resident_id", "passes", ["resident_id"])
    op.create_table(
        "revocations",
        sa.Column("pass_id", sa.String(16), primary_key=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
    )
    op.create_table(
        "pass_uses",
        sa.Column("pass_id", sa.String(16), primary_key=True),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("pass_id", sa.String(16), nullable=True),
        sa.Column("mask_label", sa.String(32), nullable=True),
        sa.Column("mask_score", sa.Float(), nullable=True),
        sa.Column("intent", sa.String(32), nullable=True),
        sa.Column("allow", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Text(), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=True),
    )
    op.create_index("ix_events_time", "events", ["time"])
    op.create_index("ix_events_resident_id", "events", ["resident_id"])
    op.create_table(
        "console_users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("console_users", "events", "pass_uses", "revocations", "passes", "residents"):
        op.drop_table(table)
