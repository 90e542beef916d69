"""Artifact links keep a copy of their artifact's branch, so a count by label or feature reads one index.

`Artifact.filter(ulabels__name="x").count()` over ten million artifacts finds the label's 76,000
links in its reverse index in milliseconds, but the default filters (main branch, no internal kinds)
then cost one lookup in the artifact table per link: 350 ms, and 2 s for a feature range of 266,000.
With the branch on the link, the count reads the link index alone (`_query/link_counts.py`).

`owner_branch_id` is the artifact's branch when default queries show the artifact, and NULL for the
internal kinds (run reports, environments) that they never show. Triggers keep it, so every way of
writing keeps it right, SQL included: one fills it when a link is made (or moved to another
artifact), and one on `artifact` rewrites it when the artifact's branch or kind changes (trash,
restore, merging a branch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, Table, event
from sqlalchemy.orm import Mapped, mapped_column

from lamella._query.link_counts import OWNER_BRANCH_INFO
from lamella.models.core.run_links import INTERNAL_KIND_PREFIX

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

COLUMN = "owner_branch_id"
OWNER_TABLE = "artifact"
OWNER_KEY = "artifact_id"
_FILL_FUNCTION = "lamella_link_owner_branch"


def owner_branch_column() -> Mapped[int | None]:
    """The copy of the artifact's branch (NULL for internal kinds), kept by the triggers below."""
    return mapped_column(COLUMN, Integer, nullable=True)


def shown_branch(row: str) -> str:
    """SQL: the branch in which default queries show the artifact `row`, NULL if they never do.

    `substr` rather than LIKE: the statements run as driver SQL, where a % would be a placeholder.
    """
    prefix = f"substr({row}.kind, 1, {len(INTERNAL_KIND_PREFIX)}) = '{INTERNAL_KIND_PREFIX}'"
    return f"CASE WHEN {prefix} THEN NULL ELSE {row}.branch_id END"


def trigger_names(table: str) -> tuple[str, str]:
    """The trigger on the link table that fills the copy, and the one on `artifact` that follows it."""
    return f"{table}_owner_branch", f"{table}_follows_artifact"


def create_statements(table: str, dialect: str) -> list[str]:
    """The functions (PostgreSQL) and triggers that keep `table.owner_branch_id` right."""
    fill, follow = trigger_names(table)
    changed = "OLD.branch_id IS DISTINCT FROM NEW.branch_id OR OLD.kind IS DISTINCT FROM NEW.kind"
    if dialect == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {_FILL_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN NEW.{COLUMN} := (SELECT {shown_branch('a')} FROM {OWNER_TABLE} AS a "
            f"WHERE a.id = NEW.{OWNER_KEY}); RETURN NEW; END $$",
            f"CREATE TRIGGER {fill} BEFORE INSERT OR UPDATE OF {OWNER_KEY} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {_FILL_FUNCTION}()",
            f"CREATE OR REPLACE FUNCTION {follow}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN UPDATE {table} SET {COLUMN} = {shown_branch('NEW')} WHERE {OWNER_KEY} = NEW.id; "
            f"RETURN NULL; END $$",
            f"CREATE TRIGGER {follow} AFTER UPDATE OF branch_id, kind ON {OWNER_TABLE} FOR EACH ROW "
            f"WHEN ({changed}) EXECUTE FUNCTION {follow}()",
        ]
    refill = (
        f"BEGIN UPDATE {table} SET {COLUMN} = (SELECT {shown_branch('a')} FROM {OWNER_TABLE} AS a "
        f"WHERE a.id = NEW.{OWNER_KEY}) WHERE id = NEW.id; END"
    )
    return [
        f"CREATE TRIGGER {fill} AFTER INSERT ON {table} FOR EACH ROW {refill}",
        f"CREATE TRIGGER {fill}_moved AFTER UPDATE OF {OWNER_KEY} ON {table} FOR EACH ROW {refill}",
        f"CREATE TRIGGER {follow} AFTER UPDATE OF branch_id, kind ON {OWNER_TABLE} FOR EACH ROW "
        f"WHEN {changed.replace('IS DISTINCT FROM', 'IS NOT')} "
        f"BEGIN UPDATE {table} SET {COLUMN} = {shown_branch('NEW')} WHERE {OWNER_KEY} = NEW.id; END",
    ]


def drop_statements(table: str, dialect: str) -> list[str]:
    fill, follow = trigger_names(table)
    if dialect == "postgresql":
        # the fill function is shared by every such table: it stays
        return [
            f"DROP TRIGGER IF EXISTS {fill} ON {table}",
            f"DROP TRIGGER IF EXISTS {follow} ON {OWNER_TABLE}",
            f"DROP FUNCTION IF EXISTS {follow}()",
        ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in (fill, f"{fill}_moved", follow)]


def backfill_statement(table: str, dialect: str) -> str:
    """Fill the copy on the rows a table already has (the migration that adds the column)."""
    if dialect == "postgresql":
        return (
            f"UPDATE {table} SET {COLUMN} = {shown_branch('a')} FROM {OWNER_TABLE} AS a "
            f"WHERE a.id = {table}.{OWNER_KEY}"
        )
    return (
        f"UPDATE {table} SET {COLUMN} = (SELECT {shown_branch('a')} FROM {OWNER_TABLE} AS a "
        f"WHERE a.id = {table}.{OWNER_KEY})"
    )


def create_triggers(connection: Connection, table: str) -> None:
    for statement in create_statements(table, connection.dialect.name):
        connection.exec_driver_sql(statement)


def copies_owner_branch(table: Table) -> None:
    """Declare that `table` (an artifact link with an `owner_branch_id`) gets the triggers when created."""

    def create(target: Table, connection: Connection, **_: Any) -> None:
        create_triggers(connection, target.name)

    event.listen(table, "after_create", create)
    table.info[OWNER_BRANCH_INFO] = COLUMN  # how counts find the copy


def is_trigger_function(name: str) -> bool:
    return name == _FILL_FUNCTION or name.endswith("_follows_artifact")
