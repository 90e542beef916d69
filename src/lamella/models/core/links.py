"""Link tables of the to-many relations. Deleting either side deletes the link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lamella.models.core.columns import BigInt, JSONType, UTCDateTime, utcnow
from lamella.models.core.record import Base


def link_column(target: str, *, nullable: bool = False, index: bool = True) -> Mapped[int]:
    """A link table's foreign key to `target`; deleting the target deletes the link."""
    return mapped_column(
        BigInt, ForeignKey(f"{target}.id", ondelete="CASCADE"), nullable=nullable, index=index
    )


class LinkTable(Base):
    """Base of the link tables (here and in modules such as bionty): an id and when the link was made."""

    __abstract__ = True
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- lineage ----------------------------------------------------------------------------------------
class RunInputArtifact(LinkTable):
    __tablename__ = "run_input_artifact"
    __table_args__ = (UniqueConstraint("run_id", "artifact_id"),)
    run_id: Mapped[int] = link_column("run")
    artifact_id: Mapped[int] = link_column("artifact")


class RunInputCollection(LinkTable):
    __tablename__ = "run_input_collection"
    __table_args__ = (UniqueConstraint("run_id", "collection_id"),)
    run_id: Mapped[int] = link_column("run")
    collection_id: Mapped[int] = link_column("collection")


class CollectionArtifact(LinkTable):
    __tablename__ = "collection_artifact"
    __table_args__ = (UniqueConstraint("collection_id", "artifact_id"),)
    collection_id: Mapped[int] = link_column("collection")
    artifact_id: Mapped[int] = link_column("artifact")
    position: Mapped[int | None] = mapped_column(Integer)


# --- labels (the artifact links carry the feature they annotate) -------------------------------------
class ArtifactULabel(LinkTable):
    __tablename__ = "artifact_ulabel"
    __table_args__ = (UniqueConstraint("artifact_id", "ulabel_id", "feature_id"),)
    artifact_id: Mapped[int] = link_column("artifact")
    ulabel_id: Mapped[int] = link_column("ulabel")
    feature_id: Mapped[int | None] = link_column("feature", nullable=True)


class ArtifactRecord(LinkTable):
    __tablename__ = "artifact_record"
    __table_args__ = (UniqueConstraint("artifact_id", "record_id", "feature_id"),)
    artifact_id: Mapped[int] = link_column("artifact")
    record_id: Mapped[int] = link_column("record")
    feature_id: Mapped[int | None] = link_column("feature", nullable=True)


class ArtifactProject(LinkTable):
    __tablename__ = "artifact_project"
    __table_args__ = (UniqueConstraint("artifact_id", "project_id"),)
    artifact_id: Mapped[int] = link_column("artifact")
    project_id: Mapped[int] = link_column("project")
    feature_id: Mapped[int | None] = link_column("feature", nullable=True)


class ArtifactReference(LinkTable):
    __tablename__ = "artifact_reference"
    __table_args__ = (UniqueConstraint("artifact_id", "reference_id"),)
    artifact_id: Mapped[int] = link_column("artifact")
    reference_id: Mapped[int] = link_column("reference")
    feature_id: Mapped[int | None] = link_column("feature", nullable=True)


class CollectionULabel(LinkTable):
    __tablename__ = "collection_ulabel"
    __table_args__ = (UniqueConstraint("collection_id", "ulabel_id"),)
    collection_id: Mapped[int] = link_column("collection")
    ulabel_id: Mapped[int] = link_column("ulabel")
    feature_id: Mapped[int | None] = link_column("feature", nullable=True)


class CollectionProject(LinkTable):
    __tablename__ = "collection_project"
    __table_args__ = (UniqueConstraint("collection_id", "project_id"),)
    collection_id: Mapped[int] = link_column("collection")
    project_id: Mapped[int] = link_column("project")


class CollectionReference(LinkTable):
    __tablename__ = "collection_reference"
    __table_args__ = (UniqueConstraint("collection_id", "reference_id"),)
    collection_id: Mapped[int] = link_column("collection")
    reference_id: Mapped[int] = link_column("reference")


class TransformULabel(LinkTable):
    __tablename__ = "transform_ulabel"
    __table_args__ = (UniqueConstraint("transform_id", "ulabel_id"),)
    transform_id: Mapped[int] = link_column("transform")
    ulabel_id: Mapped[int] = link_column("ulabel")


class TransformProject(LinkTable):
    __tablename__ = "transform_project"
    __table_args__ = (UniqueConstraint("transform_id", "project_id"),)
    transform_id: Mapped[int] = link_column("transform")
    project_id: Mapped[int] = link_column("project")


class TransformReference(LinkTable):
    __tablename__ = "transform_reference"
    __table_args__ = (UniqueConstraint("transform_id", "reference_id"),)
    transform_id: Mapped[int] = link_column("transform")
    reference_id: Mapped[int] = link_column("reference")


class RunULabel(LinkTable):
    __tablename__ = "run_ulabel"
    __table_args__ = (UniqueConstraint("run_id", "ulabel_id"),)
    run_id: Mapped[int] = link_column("run")
    ulabel_id: Mapped[int] = link_column("ulabel")
    feature_id: Mapped[int | None] = link_column("feature", nullable=True)


class RunProject(LinkTable):
    __tablename__ = "run_project"
    __table_args__ = (UniqueConstraint("run_id", "project_id"),)
    run_id: Mapped[int] = link_column("run")
    project_id: Mapped[int] = link_column("project")


class ULabelParent(LinkTable):
    __tablename__ = "ulabel_parent"
    __table_args__ = (UniqueConstraint("child_id", "parent_id"),)
    child_id: Mapped[int] = link_column("ulabel")
    parent_id: Mapped[int] = link_column("ulabel")


class ULabelProject(LinkTable):
    __tablename__ = "ulabel_project"
    __table_args__ = (UniqueConstraint("ulabel_id", "project_id"),)
    ulabel_id: Mapped[int] = link_column("ulabel")
    project_id: Mapped[int] = link_column("project")


class RecordParent(LinkTable):
    __tablename__ = "record_parent"
    __table_args__ = (UniqueConstraint("child_id", "parent_id"),)
    child_id: Mapped[int] = link_column("record")
    parent_id: Mapped[int] = link_column("record")


class RecordProject(LinkTable):
    __tablename__ = "record_project"
    __table_args__ = (UniqueConstraint("record_id", "project_id"),)
    record_id: Mapped[int] = link_column("record")
    project_id: Mapped[int] = link_column("project")


class RecordReference(LinkTable):
    __tablename__ = "record_reference"
    __table_args__ = (UniqueConstraint("record_id", "reference_id"),)
    record_id: Mapped[int] = link_column("record")
    reference_id: Mapped[int] = link_column("reference")


class RecordRecord(LinkTable):
    """A record's value for a `cat[Record]` feature: another record."""

    __tablename__ = "record_record"
    __table_args__ = (UniqueConstraint("record_id", "feature_id", "value_id"),)
    record_id: Mapped[int] = link_column("record")
    feature_id: Mapped[int] = link_column("feature")
    value_id: Mapped[int] = link_column("record")


class RecordULabel(LinkTable):
    __tablename__ = "record_ulabel"
    __table_args__ = (UniqueConstraint("record_id", "feature_id", "ulabel_id"),)
    record_id: Mapped[int] = link_column("record")
    feature_id: Mapped[int] = link_column("feature")
    ulabel_id: Mapped[int] = link_column("ulabel")


class RecordJson(LinkTable):
    """A record's value for a non-categorical feature."""

    __tablename__ = "record_json"
    __table_args__ = (UniqueConstraint("record_id", "feature_id"),)
    record_id: Mapped[int] = link_column("record")
    feature_id: Mapped[int] = link_column("feature")
    value: Mapped[object] = mapped_column(JSONType)


class ProjectParent(LinkTable):
    __tablename__ = "project_parent"
    __table_args__ = (UniqueConstraint("child_id", "parent_id"),)
    child_id: Mapped[int] = link_column("project")
    parent_id: Mapped[int] = link_column("project")


# --- features --------------------------------------------------------------------------------------
class ArtifactFeatureValue(LinkTable):
    __tablename__ = "artifact_featurevalue"
    __table_args__ = (UniqueConstraint("artifact_id", "featurevalue_id"),)
    artifact_id: Mapped[int] = link_column("artifact")
    featurevalue_id: Mapped[int] = link_column("featurevalue")


class RunFeatureValue(LinkTable):
    __tablename__ = "run_featurevalue"
    __table_args__ = (UniqueConstraint("run_id", "featurevalue_id"),)
    run_id: Mapped[int] = link_column("run")
    featurevalue_id: Mapped[int] = link_column("featurevalue")


class ArtifactSchema(LinkTable):
    """A feature set of an artifact, one per slot ("obs", "var", "columns", ...)."""

    __tablename__ = "artifact_schema"
    __table_args__ = (UniqueConstraint("artifact_id", "slot"),)
    artifact_id: Mapped[int] = link_column("artifact")
    schema_id: Mapped[int] = link_column("schema")
    slot: Mapped[str | None] = mapped_column(String(40))


class SchemaFeature(LinkTable):
    """Members of a schema, in order."""

    __tablename__ = "schema_feature"
    __table_args__ = (UniqueConstraint("schema_id", "feature_id"),)
    schema_id: Mapped[int] = link_column("schema")
    feature_id: Mapped[int] = link_column("feature")
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_optional: Mapped[bool] = mapped_column(default=False)


class SchemaComponent(LinkTable):
    """Components of a composite schema (e.g. an AnnData schema's "obs" and "var"), by slot."""

    __tablename__ = "schema_component"
    __table_args__ = (UniqueConstraint("composite_id", "slot"),)
    composite_id: Mapped[int] = link_column("schema")
    component_id: Mapped[int] = link_column("schema")
    slot: Mapped[str] = mapped_column(String(40))
