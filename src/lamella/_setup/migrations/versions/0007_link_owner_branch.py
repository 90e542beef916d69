"""artifact links copy their artifact's branch: counts by label or feature read one index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

Each artifact link table gets `owner_branch_id`, the artifact's branch (NULL for internal kinds),
kept by triggers, and its reverse index (and the feature values' number index) ends in it, so
`Artifact.filter(ulabels__name="x").count()` and `filter(temperature__gt=20).count()` are answered
from the link index without a lookup per artifact (`models/core/owner_branch.py`).
"""

from __future__ import annotations

from lamella._setup import owner_branch_migration
from lamella._setup.index_migrations import IndexSpec

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# table -> its reverse index columns before this revision
_REVERSE = {
    "artifact_featurevalue": ("featurevalue_id", "artifact_id"),
    "artifact_project": ("project_id", "artifact_id"),
    "artifact_record": ("record_id", "artifact_id", "feature_id"),
    "artifact_reference": ("reference_id", "artifact_id"),
    "artifact_schema": ("schema_id", "artifact_id"),
    "artifact_ulabel": ("ulabel_id", "artifact_id", "feature_id"),
}
_NUMBER = ("feature_id", "value_num", "artifact_id")


def _indexes(*extra: str) -> dict[str, list[IndexSpec]]:
    indexes = {
        table: [IndexSpec(f"ix_{table}_reverse", table, (*columns, *extra))]
        for table, columns in _REVERSE.items()
    }
    number = IndexSpec("ix_artifact_featurevalue_number", "artifact_featurevalue", (*_NUMBER, *extra))
    indexes["artifact_featurevalue"].append(number)
    return indexes


def upgrade() -> None:
    owner_branch_migration.add(_indexes("owner_branch_id"))


def downgrade() -> None:
    owner_branch_migration.remove(_indexes())
