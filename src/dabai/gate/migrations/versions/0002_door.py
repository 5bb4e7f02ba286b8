"""The door's outcome in the event log: opened, failed, not asked (and why).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("door", sa.String(16), nullable=True))
        batch.add_column(sa.Column("door_detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("door_detail")
        batch.drop_column("door")
