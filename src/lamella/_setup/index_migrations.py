"""Index changes for migrations of tables that may already hold millions of rows.

On PostgreSQL an index is built with `CREATE INDEX CONCURRENTLY`, which keeps the table open for
reads and writes while it builds but cannot run inside a transaction: the statements run in an
autocommit block, so the migration must be the last step of its revision or be safe to run again
(env.py runs one transaction per revision). A build that was interrupted leaves an invalid index
behind; it is dropped and built again. SQLite builds indexes in the revision's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alembic import op


@dataclass(frozen=True)
class IndexSpec:
    name: str
    table: str
    columns: tuple[str, ...]
    # PostgreSQL operator classes by column (`{"key": "varchar_pattern_ops"}`)
    postgresql_ops: tuple[tuple[str, str], ...] = ()
    postgresql_only: bool = False
    postgresql_include: tuple[str, ...] = ()  # columns stored in the index for index-only scans


def create_indexes(specs: Iterable[IndexSpec]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        for spec in specs:
            if not spec.postgresql_only:  # replaces an index of the same name, as on PostgreSQL
                op.drop_index(spec.name, table_name=spec.table, if_exists=True)
                op.create_index(spec.name, spec.table, list(spec.columns))
        return
    with op.get_context().autocommit_block():
        for spec in specs:
            op.drop_index(spec.name, table_name=spec.table, postgresql_concurrently=True, if_exists=True)
            op.create_index(
                spec.name,
                spec.table,
                list(spec.columns),
                postgresql_concurrently=True,
                postgresql_ops=dict(spec.postgresql_ops),
                postgresql_include=list(spec.postgresql_include),
            )


def drop_indexes(specs: Iterable[IndexSpec]) -> None:
    concurrently = op.get_bind().dialect.name == "postgresql"
    if not concurrently:
        for spec in specs:
            op.drop_index(spec.name, table_name=spec.table, if_exists=True)
        return
    with op.get_context().autocommit_block():
        for spec in specs:
            op.drop_index(spec.name, table_name=spec.table, postgresql_concurrently=True, if_exists=True)
