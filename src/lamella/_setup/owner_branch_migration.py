"""Adding the copy of the artifact's branch to artifact link tables that may hold millions of rows.

Shared by core revision 0007 and bionty revision bionty_0003 (`models/core/owner_branch.py` says why
the copy exists). Safe to run again after an interruption: the column is added if missing, the
triggers are made before the backfill (a link made meanwhile is filled by them), the backfill only
touches rows still without a copy, and the indexes that end in the copy are then built CONCURRENTLY
on PostgreSQL, replacing those of the same name.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lamella._setup.index_migrations import IndexSpec, create_indexes
from lamella.models.core import owner_branch


def add(indexes: dict[str, list[IndexSpec]]) -> None:
    """Give each table (key) the copy, its triggers and its indexes (value), which end in the copy."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    inspector = sa.inspect(bind)
    for table in indexes:
        if owner_branch.COLUMN not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, sa.Column(owner_branch.COLUMN, sa.Integer(), nullable=True))
        for statement in [
            *owner_branch.drop_statements(table, dialect),
            *owner_branch.create_statements(table, dialect),
        ]:
            op.execute(statement)
        op.execute(owner_branch.backfill_statement(table, dialect) + _still_empty(table, dialect))
    create_indexes(spec for specs in indexes.values() for spec in specs)
    if dialect == "postgresql":
        with op.get_context().autocommit_block():
            for table in indexes:
                # the backfill rewrote every row: index-only scans need the visibility map VACUUM
                # sets, and the planner statistics of the new column
                op.execute(f"VACUUM (ANALYZE) {table}")


def remove(indexes: dict[str, list[IndexSpec]]) -> None:
    """Undo `add`: each table's indexes as they were (value), without triggers and column."""
    dialect = op.get_bind().dialect.name
    create_indexes(spec for specs in indexes.values() for spec in specs)
    for table in indexes:
        for statement in owner_branch.drop_statements(table, dialect):
            op.execute(statement)
        with op.batch_alter_table(table) as batch:
            batch.drop_column(owner_branch.COLUMN)


def _still_empty(table: str, dialect: str) -> str:
    # the copy is NULL for internal kinds too: those few rows are simply computed again
    return (
        f" AND {table}.{owner_branch.COLUMN} IS NULL"
        if dialect == "postgresql"
        else (f" WHERE {owner_branch.COLUMN} IS NULL")
    )
