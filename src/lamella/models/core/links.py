"""Link tables of the to-many relations. Deleting either side deletes the link.

Each link table has two indexes over its keys: the unique constraint, owner first, which finds an
owner's links, and the reverse index, target first, which finds a target's owners (`filter(ulabels=l)`)
from the index alone. Neither key column has an index of its own, which would only slow every insert;
the feature a label link annotates has one, so deleting a feature finds its links.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Double, ForeignKey, Index, Integer, String, UniqueConstraint, event, select
from sqlalchemy.orm import Mapped, mapped_column

from lamella.models.core import owner_branch
from lamella.models.core.columns import BigInt, JSONType, UTCDateTime, number_of, utcnow
from lamella.models.core.owner_branch import owner_branch_column
from lamella.models.core.record import Base


def link_column(target: str, *, nullable: bool = False, index: bool = False) -> Mapped[int]:
    """A link table's foreign key to `target`; deleting the target deletes the link."""
    return mapped_column(
        BigInt, ForeignKey(f"{target}.id", ondelete="CASCADE"), nullable=nullable, index=index
    )


def feature_column(*, nullable: bool = True) -> Mapped[int]:
    """The feature a link annotates, indexed: deleting a feature deletes its links through the index."""
    return link_column("feature", nullable=nullable, index=True)


def link_keys(table: str, unique: tuple[str, ...], *, reverse: tuple[str, ...]) -> tuple[Any, ...]:
    """The unique constraint of a link table (owner first) and its reverse index (target first)."""
    return (UniqueConstraint(*unique), Index(f"ix_{table}_reverse", *reverse))


def artifact_link_keys(table: str, unique: tuple[str, ...], *, reverse: tuple[str, ...]) -> tuple[Any, ...]:
    """`link_keys` of an `ArtifactLink`: its reverse index ends in the copy of the artifact's branch."""
    return link_keys(table, unique, reverse=(*reverse, owner_branch.COLUMN))


def number_index(table: str, owner_key: str, *extra: str) -> Index:
    """Owners by the number they hold for a feature: `temperature__gt=20` reads one range of it."""
    return Index(f"ix_{table}_number", "feature_id", "value_num", owner_key, *extra)


class LinkTable(Base):
    """Base of the link tables (here and in modules such as bionty): an id and when the link was made."""

    __abstract__ = True
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ArtifactLink(LinkTable):
    """A link of artifacts to labels or values, with a copy of the artifact's branch (`owner_branch`)."""

    __abstract__ = True
    owner_branch_id: Mapped[int | None] = owner_branch_column()


@event.listens_for(ArtifactLink, "after_mapper_constructed", propagate=True)
def _keep_owner_branch(_mapper: Any, link: type) -> None:
    owner_branch.copies_owner_branch(link.__table__)  # type: ignore[attr-defined]


# --- lineage ----------------------------------------------------------------------------------------
class RunInputArtifact(LinkTable):
    __tablename__ = "run_input_artifact"
    __table_args__ = link_keys(
        "run_input_artifact", ("run_id", "artifact_id"), reverse=("artifact_id", "run_id")
    )
    run_id: Mapped[int] = link_column("run")
    artifact_id: Mapped[int] = link_column("artifact")


class RunInputCollection(LinkTable):
    __tablename__ = "run_input_collection"
    __table_args__ = link_keys(
        "run_input_collection", ("run_id", "collection_id"), reverse=("collection_id", "run_id")
    )
    run_id: Mapped[int] = link_column("run")
    collection_id: Mapped[int] = link_column("collection")


class CollectionArtifact(LinkTable):
    __tablename__ = "collection_artifact"
    __table_args__ = link_keys(
        "collection_artifact", ("collection_id", "artifact_id"), reverse=("artifact_id", "collection_id")
    )
    collection_id: Mapped[int] = link_column("collection")
    artifact_id: Mapped[int] = link_column("artifact")
    position: Mapped[int | None] = mapped_column(Integer)


# --- labels (the artifact links carry the feature they annotate) -------------------------------------
class ArtifactULabel(ArtifactLink):
    __tablename__ = "artifact_ulabel"
    __table_args__ = artifact_link_keys(
        "artifact_ulabel",
        ("artifact_id", "ulabel_id", "feature_id"),
        reverse=("ulabel_id", "artifact_id", "feature_id"),
    )
    artifact_id: Mapped[int] = link_column("artifact")
    ulabel_id: Mapped[int] = link_column("ulabel")
    feature_id: Mapped[int | None] = feature_column()


class ArtifactRecord(ArtifactLink):
    __tablename__ = "artifact_record"
    __table_args__ = artifact_link_keys(
        "artifact_record",
        ("artifact_id", "record_id", "feature_id"),
        reverse=("record_id", "artifact_id", "feature_id"),
    )
    artifact_id: Mapped[int] = link_column("artifact")
    record_id: Mapped[int] = link_column("record")
    feature_id: Mapped[int | None] = feature_column()


class ArtifactProject(ArtifactLink):
    __tablename__ = "artifact_project"
    __table_args__ = artifact_link_keys(
        "artifact_project", ("artifact_id", "project_id"), reverse=("project_id", "artifact_id")
    )
    artifact_id: Mapped[int] = link_column("artifact")
    project_id: Mapped[int] = link_column("project")
    feature_id: Mapped[int | None] = feature_column()


class ArtifactReference(ArtifactLink):
    __tablename__ = "artifact_reference"
    __table_args__ = artifact_link_keys(
        "artifact_reference", ("artifact_id", "reference_id"), reverse=("reference_id", "artifact_id")
    )
    artifact_id: Mapped[int] = link_column("artifact")
    reference_id: Mapped[int] = link_column("reference")
    feature_id: Mapped[int | None] = feature_column()


class CollectionULabel(LinkTable):
    __tablename__ = "collection_ulabel"
    __table_args__ = link_keys(
        "collection_ulabel", ("collection_id", "ulabel_id"), reverse=("ulabel_id", "collection_id")
    )
    collection_id: Mapped[int] = link_column("collection")
    ulabel_id: Mapped[int] = link_column("ulabel")
    feature_id: Mapped[int | None] = feature_column()


class CollectionProject(LinkTable):
    __tablename__ = "collection_project"
    __table_args__ = link_keys(
        "collection_project", ("collection_id", "project_id"), reverse=("project_id", "collection_id")
    )
    collection_id: Mapped[int] = link_column("collection")
    project_id: Mapped[int] = link_column("project")


class CollectionReference(LinkTable):
    __tablename__ = "collection_reference"
    __table_args__ = link_keys(
        "collection_reference", ("collection_id", "reference_id"), reverse=("reference_id", "collection_id")
    )
    collection_id: Mapped[int] = link_column("collection")
    reference_id: Mapped[int] = link_column("reference")


class TransformULabel(LinkTable):
    __tablename__ = "transform_ulabel"
    __table_args__ = link_keys(
        "transform_ulabel", ("transform_id", "ulabel_id"), reverse=("ulabel_id", "transform_id")
    )
    transform_id: Mapped[int] = link_column("transform")
    ulabel_id: Mapped[int] = link_column("ulabel")


class TransformProject(LinkTable):
    __tablename__ = "transform_project"
    __table_args__ = link_keys(
        "transform_project", ("transform_id", "project_id"), reverse=("project_id", "transform_id")
    )
    transform_id: Mapped[int] = link_column("transform")
    project_id: Mapped[int] = link_column("project")


class TransformReference(LinkTable):
    __tablename__ = "transform_reference"
    __table_args__ = link_keys(
        "transform_reference", ("transform_id", "reference_id"), reverse=("reference_id", "transform_id")
    )
    transform_id: Mapped[int] = link_column("transform")
    reference_id: Mapped[int] = link_column("reference")


class RunULabel(LinkTable):
    __tablename__ = "run_ulabel"
    __table_args__ = link_keys("run_ulabel", ("run_id", "ulabel_id"), reverse=("ulabel_id", "run_id"))
    run_id: Mapped[int] = link_column("run")
    ulabel_id: Mapped[int] = link_column("ulabel")
    feature_id: Mapped[int | None] = feature_column()


class RunProject(LinkTable):
    __tablename__ = "run_project"
    __table_args__ = link_keys("run_project", ("run_id", "project_id"), reverse=("project_id", "run_id"))
    run_id: Mapped[int] = link_column("run")
    project_id: Mapped[int] = link_column("project")


class ULabelParent(LinkTable):
    __tablename__ = "ulabel_parent"
    __table_args__ = link_keys("ulabel_parent", ("child_id", "parent_id"), reverse=("parent_id", "child_id"))
    child_id: Mapped[int] = link_column("ulabel")
    parent_id: Mapped[int] = link_column("ulabel")


class ULabelProject(LinkTable):
    __tablename__ = "ulabel_project"
    __table_args__ = link_keys(
        "ulabel_project", ("ulabel_id", "project_id"), reverse=("project_id", "ulabel_id")
    )
    ulabel_id: Mapped[int] = link_column("ulabel")
    project_id: Mapped[int] = link_column("project")


class RecordParent(LinkTable):
    __tablename__ = "record_parent"
    __table_args__ = link_keys("record_parent", ("child_id", "parent_id"), reverse=("parent_id", "child_id"))
    child_id: Mapped[int] = link_column("record")
    parent_id: Mapped[int] = link_column("record")


class RecordProject(LinkTable):
    __tablename__ = "record_project"
    __table_args__ = link_keys(
        "record_project", ("record_id", "project_id"), reverse=("project_id", "record_id")
    )
    record_id: Mapped[int] = link_column("record")
    project_id: Mapped[int] = link_column("project")


class RecordReference(LinkTable):
    __tablename__ = "record_reference"
    __table_args__ = link_keys(
        "record_reference", ("record_id", "reference_id"), reverse=("reference_id", "record_id")
    )
    record_id: Mapped[int] = link_column("record")
    reference_id: Mapped[int] = link_column("reference")


class RecordRecord(LinkTable):
    """A record's value for a `cat[Record]` feature: another record."""

    __tablename__ = "record_record"
    __table_args__ = link_keys(
        "record_record",
        ("record_id", "feature_id", "value_id"),
        reverse=("value_id", "record_id", "feature_id"),
    )
    record_id: Mapped[int] = link_column("record")
    feature_id: Mapped[int] = feature_column(nullable=False)
    value_id: Mapped[int] = link_column("record")


class RecordULabel(LinkTable):
    __tablename__ = "record_ulabel"
    __table_args__ = link_keys(
        "record_ulabel",
        ("record_id", "feature_id", "ulabel_id"),
        reverse=("ulabel_id", "record_id", "feature_id"),
    )
    record_id: Mapped[int] = link_column("record")
    feature_id: Mapped[int] = feature_column(nullable=False)
    ulabel_id: Mapped[int] = link_column("ulabel")


class RecordJson(LinkTable):
    """A record's value for a non-categorical feature."""

    __tablename__ = "record_json"
    __table_args__ = (UniqueConstraint("record_id", "feature_id"), number_index("record_json", "record_id"))
    record_id: Mapped[int] = link_column("record")
    feature_id: Mapped[int] = link_column("feature")  # indexed first in the number index
    value: Mapped[object] = mapped_column(JSONType)
    value_num: Mapped[float | None] = mapped_column(Double)  # the value when it is a number


class ProjectParent(LinkTable):
    __tablename__ = "project_parent"
    __table_args__ = link_keys("project_parent", ("child_id", "parent_id"), reverse=("parent_id", "child_id"))
    child_id: Mapped[int] = link_column("project")
    parent_id: Mapped[int] = link_column("project")


# --- features (FeatureValue rows are shared; links copy the number: a range needs no join) ------
class ValueLink(LinkTable):
    """A link to a shared `FeatureValue` that copies the value's feature and number."""

    __abstract__ = True

    @classmethod
    def complete_rows(cls, connection: Any, rows: list[dict[str, Any]]) -> None:
        """Fill in the feature and number of rows that name only their value (relation managers')."""
        missing = [row for row in rows if row.get("feature_id") is None]
        if not missing:
            return
        values = Base.metadata.tables["featurevalue"]
        wanted = {row["featurevalue_id"] for row in missing}
        found = {
            value_id: (feature_id, value)
            for value_id, feature_id, value in connection.execute(
                select(values.c.id, values.c.feature_id, values.c.value).where(values.c.id.in_(wanted))
            )
        }
        for row in missing:
            # an id of no value stays without a feature: the foreign key refuses the row, naming it
            feature_id, value = found.get(row["featurevalue_id"], (None, None))
            row["feature_id"], row["value_num"] = feature_id, number_of(value)


@event.listens_for(ValueLink, "before_insert", propagate=True)
def _copy_value(_mapper: Any, connection: Any, link: Any) -> None:
    if link.feature_id is None:
        row = {"featurevalue_id": link.featurevalue_id}
        ValueLink.complete_rows(connection, [row])
        link.feature_id, link.value_num = row["feature_id"], row["value_num"]


class ArtifactFeatureValue(ValueLink, ArtifactLink):
    __tablename__ = "artifact_featurevalue"
    __table_args__ = (
        *artifact_link_keys(
            "artifact_featurevalue",
            ("artifact_id", "featurevalue_id"),
            reverse=("featurevalue_id", "artifact_id"),
        ),
        number_index("artifact_featurevalue", "artifact_id", owner_branch.COLUMN),
    )
    artifact_id: Mapped[int] = link_column("artifact")
    featurevalue_id: Mapped[int] = link_column("featurevalue")
    # copies of the value's feature and number, so a range of a feature is one index range
    feature_id: Mapped[int] = link_column("feature")
    value_num: Mapped[float | None] = mapped_column(Double)


class RunFeatureValue(ValueLink):
    __tablename__ = "run_featurevalue"
    __table_args__ = (
        *link_keys("run_featurevalue", ("run_id", "featurevalue_id"), reverse=("featurevalue_id", "run_id")),
        number_index("run_featurevalue", "run_id"),
    )
    run_id: Mapped[int] = link_column("run")
    featurevalue_id: Mapped[int] = link_column("featurevalue")
    # copies of the value's feature and number, so a range of a feature is one index range
    feature_id: Mapped[int] = link_column("feature")
    value_num: Mapped[float | None] = mapped_column(Double)


class ArtifactSchema(ArtifactLink):
    """A feature set of an artifact, one per slot ("obs", "var", "columns", ...)."""

    __tablename__ = "artifact_schema"
    __table_args__ = artifact_link_keys(
        "artifact_schema", ("artifact_id", "slot"), reverse=("schema_id", "artifact_id")
    )
    artifact_id: Mapped[int] = link_column("artifact")
    schema_id: Mapped[int] = link_column("schema")
    slot: Mapped[str | None] = mapped_column(String(40))


class SchemaFeature(LinkTable):
    """Members of a schema, in order."""

    __tablename__ = "schema_feature"
    __table_args__ = link_keys(
        "schema_feature", ("schema_id", "feature_id"), reverse=("feature_id", "schema_id")
    )
    schema_id: Mapped[int] = link_column("schema")
    feature_id: Mapped[int] = link_column("feature")
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_optional: Mapped[bool] = mapped_column(default=False)


class SchemaComponent(LinkTable):
    """Components of a composite schema (e.g. an AnnData schema's "obs" and "var"), by slot."""

    __tablename__ = "schema_component"
    __table_args__ = link_keys(
        "schema_component", ("composite_id", "slot"), reverse=("component_id", "composite_id")
    )
    composite_id: Mapped[int] = link_column("schema")
    component_id: Mapped[int] = link_column("schema")
    slot: Mapped[str] = mapped_column(String(40))
