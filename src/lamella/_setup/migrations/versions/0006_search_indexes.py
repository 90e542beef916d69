"""trigram indexes for search: pg_trgm GIN indexes (PostgreSQL), FTS5 trigram tables (SQLite)

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-12
"""

from __future__ import annotations

from alembic import op

from lamella._setup import search_indexes

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The tables may hold millions of rows: CONCURRENTLY builds each index without blocking
        # writers, which needs autocommit (it commits what ran before in this upgrade).
        with op.get_context().autocommit_block():
            search_indexes.create(op.get_bind(), concurrently=True)
    else:
        # SQLite: the FTS5 tables are filled from the rows already there ('rebuild'), in this transaction
        search_indexes.create(op.get_bind(), existing_rows=True)


def downgrade() -> None:
    search_indexes.drop(op.get_bind())
