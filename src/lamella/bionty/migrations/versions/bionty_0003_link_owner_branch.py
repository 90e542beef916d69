"""bionty's artifact links copy their artifact's branch, as the core ones (core revision 0007)

Revision ID: bionty_0003
Revises: bionty_0002
Create Date: 2026-11-30

`Artifact.filter(cell_types__name="T cell").count()` is then answered from the link's reverse index.
"""

from __future__ import annotations

from lamella._setup import owner_branch_migration
from lamella._setup.index_migrations import IndexSpec

revision = "bionty_0003"
down_revision = "bionty_0002"
branch_labels = None
depends_on = None

_REGISTRIES = (
    "organism",
    "gene",
    "protein",
    "cellmarker",
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


def _indexes(*extra: str) -> dict[str, list[IndexSpec]]:
    return {
        f"bionty_artifact_{registry}": [
            IndexSpec(
                f"ix_bionty_artifact_{registry}_reverse",
                f"bionty_artifact_{registry}",
                (f"{registry}_id", "artifact_id", "feature_id", *extra),
            )
        ]
        for registry in _REGISTRIES
    }


def upgrade() -> None:
    owner_branch_migration.add(_indexes("owner_branch_id"))


def downgrade() -> None:
    owner_branch_migration.remove(_indexes())
