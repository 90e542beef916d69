"""the instance's own settings; the hash type of instances created before it is md5

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    settings = op.create_table(
        "instance_setting",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_setting")),
    )
    # Every database this runs on was created before the setting existed and hashed its bytes with
    # md5: it keeps md5, so a file saved again still finds its earlier copy. (New instances are
    # created at the head revision with "blake3", never through this migration.)
    op.bulk_insert(settings, [{"name": "hash_type", "value": "md5"}])


def downgrade() -> None:
    op.drop_table("instance_setting")
