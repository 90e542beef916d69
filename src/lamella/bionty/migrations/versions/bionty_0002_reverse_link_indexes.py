"""reverse indexes on the bionty link tables, as on the core ones (core revision 0005)

Revision ID: bionty_0002
Revises: bionty_0001
Create Date: 2026-11-30

Each link table gets an index target first (`bionty_artifact_celltype (celltype_id, artifact_id,
feature_id)`), which finds a term's artifacts from the index alone; the one-column indexes of its two
keys go, since the unique constraint and the reverse index cover them.
"""

from __future__ import annotations

from lamella._setup.index_migrations import IndexSpec, create_indexes, drop_indexes

revision = "bionty_0002"
down_revision = "bionty_0001"
branch_labels = None
depends_on = None

_TERMS = (
    "celltype",
    "cellline",
    "tissue",
    "disease",
    "phenotype",
    "pathway",
    "experimentalfactor",
    "developmentalstage",
    "ethnicity",
)
_REGISTRIES = ("organism", "gene", "protein", "cellmarker", *_TERMS)


def _links() -> dict[str, tuple[str, ...]]:
    """{table: reverse index columns} of every bionty link table."""
    links: dict[str, tuple[str, ...]] = {}
    for term in _TERMS:
        links[f"bionty_{term}_parent"] = ("parent_id", "child_id")
    for registry in _REGISTRIES:
        key = f"{registry}_id"
        links[f"bionty_artifact_{registry}"] = (key, "artifact_id", "feature_id")
        links[f"bionty_schema_{registry}"] = (key, "schema_id")
        links[f"bionty_record_{registry}"] = (key, "record_id", "feature_id")
        links[f"bionty_run_{registry}"] = (key, "run_id", "feature_id")
    return links


def _reverse() -> list[IndexSpec]:
    return [IndexSpec(f"ix_{table}_reverse", table, columns) for table, columns in _links().items()]


def _old() -> list[IndexSpec]:
    return [
        IndexSpec(f"ix_{table}_{column}", table, (column,))
        for table, columns in _links().items()
        for column in columns[:2]
    ]


def upgrade() -> None:
    create_indexes(_reverse())
    drop_indexes(_old())


def downgrade() -> None:
    create_indexes(_old())
    drop_indexes(_reverse())
