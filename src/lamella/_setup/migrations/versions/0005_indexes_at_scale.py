"""indexes for instances of millions of rows: link tables found from either side, numbers by range

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

- Every link table gets a reverse index, target first (`artifact_ulabel (ulabel_id, artifact_id,
  feature_id)`), which answers `filter(ulabels=...)` from the index alone; the one-column indexes of
  its keys go: the unique constraint (owner first) and the reverse index cover them.
- Feature-value links copy their value's feature and number (`feature_id`, `value_num`), and records'
  own values their number, with an index `(feature_id, value_num, owner)`: a range of a number
  feature is one index range.
- Artifact keys are indexed with created_at (the newest page under a prefix is sorted in the index),
  and on PostgreSQL also with the pattern operator class, which turns `key LIKE 'x/%'` into an index
  range under any collation.

Indexes are built with CREATE INDEX CONCURRENTLY on PostgreSQL (the tables may be large and in use).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lamella._setup.index_migrations import IndexSpec, create_indexes, drop_indexes

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# (table, reverse index columns): the link tables' new reverse indexes
REVERSE = {
    "artifact_featurevalue": ("featurevalue_id", "artifact_id"),
    "artifact_project": ("project_id", "artifact_id"),
    "artifact_record": ("record_id", "artifact_id", "feature_id"),
    "artifact_reference": ("reference_id", "artifact_id"),
    "artifact_schema": ("schema_id", "artifact_id"),
    "artifact_ulabel": ("ulabel_id", "artifact_id", "feature_id"),
    "collection_artifact": ("artifact_id", "collection_id"),
    "collection_project": ("project_id", "collection_id"),
    "collection_reference": ("reference_id", "collection_id"),
    "collection_ulabel": ("ulabel_id", "collection_id"),
    "project_parent": ("parent_id", "child_id"),
    "record_parent": ("parent_id", "child_id"),
    "record_project": ("project_id", "record_id"),
    "record_record": ("value_id", "record_id", "feature_id"),
    "record_reference": ("reference_id", "record_id"),
    "record_ulabel": ("ulabel_id", "record_id", "feature_id"),
    "run_featurevalue": ("featurevalue_id", "run_id"),
    "run_input_artifact": ("artifact_id", "run_id"),
    "run_input_collection": ("collection_id", "run_id"),
    "run_project": ("project_id", "run_id"),
    "run_ulabel": ("ulabel_id", "run_id"),
    "schema_component": ("component_id", "composite_id"),
    "schema_feature": ("feature_id", "schema_id"),
    "transform_project": ("project_id", "transform_id"),
    "transform_reference": ("reference_id", "transform_id"),
    "transform_ulabel": ("ulabel_id", "transform_id"),
    "ulabel_parent": ("parent_id", "child_id"),
    "ulabel_project": ("project_id", "ulabel_id"),
}

# the tables whose rows hold a number per feature, by their owner column
NUMBERS = {"artifact_featurevalue": "artifact_id", "run_featurevalue": "run_id", "record_json": "record_id"}

# one-column indexes of link keys, now covered by the unique constraints and the reverse indexes: the
# two keys of each link table, and record values' keys (covered by their unique and number indexes)
OLD_KEY_INDEXES = {table: columns[:2] for table, columns in REVERSE.items()}
OLD_KEY_INDEXES["record_json"] = ("record_id", "feature_id")

KEY_LISTING = IndexSpec("ix_artifact_key_listing", "artifact", ("key", "branch_id", "kind", "created_at"))
KEY_PATTERN = IndexSpec(
    "ix_artifact_key_pattern",
    "artifact",
    ("key", "branch_id", "kind", "created_at"),
    postgresql_ops=(("key", "varchar_pattern_ops"),),
    postgresql_only=True,
    postgresql_include=("id",),
)


def _new_indexes() -> list[IndexSpec]:
    specs = [IndexSpec(f"ix_{table}_reverse", table, columns) for table, columns in REVERSE.items()]
    specs += [
        IndexSpec(f"ix_{table}_number", table, ("feature_id", "value_num", owner))
        for table, owner in NUMBERS.items()
    ]
    return [*specs, KEY_LISTING, KEY_PATTERN]


def _old_indexes() -> list[IndexSpec]:
    return [
        *(
            IndexSpec(f"ix_{table}_{column}", table, (column,))
            for table, columns in OLD_KEY_INDEXES.items()
            for column in columns
        ),
        IndexSpec("ix_artifact_key_branch_kind", "artifact", ("key", "branch_id", "kind")),
    ]


def _number_of(column: str, dialect: str) -> str:
    """SQL for the number a JSON value is, else NULL (booleans are not numbers)."""
    if dialect == "postgresql":
        return f"CASE WHEN jsonb_typeof({column}) = 'number' THEN ({column} #>> '{{}}')::double precision END"
    # SQLite stores JSON numbers as numbers (the column has NUMERIC affinity)
    return f"CASE WHEN typeof({column}) IN ('integer', 'real') THEN {column} END"


def _add_value_columns() -> None:
    """The copied feature and number; safe to run again after an interrupted index build."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    inspector = sa.inspect(bind)
    for table in ("artifact_featurevalue", "run_featurevalue"):
        present = {c["name"] for c in inspector.get_columns(table)}
        if "feature_id" not in present:
            op.add_column(table, sa.Column("feature_id", _BIGINT, nullable=True))
        if "value_num" not in present:
            op.add_column(table, sa.Column("value_num", sa.Double(), nullable=True))
        if dialect == "postgresql":
            op.execute(
                f"UPDATE {table} AS link SET feature_id = v.feature_id, value_num = {_number_of('v.value', dialect)} "
                f"FROM featurevalue AS v WHERE v.id = link.featurevalue_id AND link.feature_id IS NULL"
            )
        else:
            op.execute(
                f"UPDATE {table} SET feature_id = v.feature_id, value_num = {_number_of('v.value', dialect)} "
                f"FROM featurevalue AS v WHERE v.id = {table}.featurevalue_id AND {table}.feature_id IS NULL"
            )
        if not any(fk["referred_table"] == "feature" for fk in inspector.get_foreign_keys(table)):
            with op.batch_alter_table(table) as batch:
                batch.alter_column("feature_id", existing_type=_BIGINT, nullable=False)
                batch.create_foreign_key(
                    op.f(f"fk_{table}_feature_id_feature"),
                    "feature",
                    ["feature_id"],
                    ["id"],
                    ondelete="CASCADE",
                )
    if "value_num" not in {c["name"] for c in inspector.get_columns("record_json")}:
        op.add_column("record_json", sa.Column("value_num", sa.Double(), nullable=True))
    op.execute(f"UPDATE record_json SET value_num = {_number_of('value', dialect)} WHERE value_num IS NULL")


def upgrade() -> None:
    _add_value_columns()
    create_indexes(_new_indexes())
    drop_indexes(_old_indexes())
    if op.get_bind().dialect.name == "postgresql":
        # the planner's statistics still say every copied number is NULL: without them it estimates a
        # range at a few rows and picks plans for that (autovacuum later also sets the visibility map
        # that index-only scans need, after this rewrite of every link row)
        op.execute("ANALYZE artifact_featurevalue, run_featurevalue, record_json")


def downgrade() -> None:
    create_indexes(_old_indexes())
    drop_indexes(_new_indexes())
    for table in ("artifact_featurevalue", "run_featurevalue"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"fk_{table}_feature_id_feature"), type_="foreignkey")
            batch.drop_column("value_num")
            batch.drop_column("feature_id")
    with op.batch_alter_table("record_json") as batch:
        batch.drop_column("value_num")
