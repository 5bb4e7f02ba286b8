"""Residents carry a reading: how their name is said (tone-numbered pinyin, e.g. "zeng1 xiao3 yan4").

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("residents") as batch:  # batch: SQLite alters by copying the table
        batch.add_column(sa.Column("reading", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("reading")
