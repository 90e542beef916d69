"""the host a local storage location lives on

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("storage") as batch_op:
        batch_op.add_column(sa.Column("host", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("storage") as batch_op:
        batch_op.drop_column("host")
