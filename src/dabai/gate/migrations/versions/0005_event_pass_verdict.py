"""The pass verdict in the event log (valid, or why not), so a logged event reads back as the same result
`gate check` printed.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("pass_valid", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("pass_reason", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("pass_reason")
        batch.drop_column("pass_valid")
