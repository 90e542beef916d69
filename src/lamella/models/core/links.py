"""Link tables of the to-many relations. Deleting either side deletes the link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lamella.models.core.columns import BigInt, JSONType, UTCDateTime, utcnow
from lamella.models.core.record import Base


def _fk(target: str, *, nullable: bool = False, index: bool = True) -> Mapped[int]:
    return mapped_column(
        BigInt, ForeignKey(f"{target}.id", ondelete="CASCADE"), nullable=nullable, index=index
    )


class _Link(Base):
    __abstract__ = True
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- lineage ----------------------------------------------------------------------------------------
class RunInputArtifact(_Link):
    __tablename__ = "run_input_artifact"
    __table_args__ = (UniqueConstraint("run_id", "artifact_id"),)
    run_id: Mapped[int] = _fk("run")
    artifact_id: Mapped[int] = _fk("artifact")


class RunInputCollection(_Link):
    __tablename__ = "run_input_collection"
    __table_args__ = (UniqueConstraint("run_id", "collection_id"),)
    run_id: Mapped[int] = _fk("run")
    collection_id: Mapped[int] = _fk("collection")


class CollectionArtifact(_Link):
    __tablename__ = "collection_artifact"
    __table_args__ = (UniqueConstraint("collection_id", "artifact_id"),)
    collection_id: Mapped[int] = _fk("collection")
    artifact_id: Mapped[int] = _fk("artifact")
    position: Mapped[int | None] = mapped_column(Integer)


# --- labels (the artifact links carry the feature they annotate) -------------------------------------
class ArtifactULabel(_Link):
    __tablename__ = "artifact_ulabel"
    __table_args__ = (UniqueConstraint("artifact_id", "ulabel_id", "feature_id"),)
    artifact_id: Mapped[int] = _fk("artifact")
    ulabel_id: Mapped[int] = _fk("ulabel")
    feature_id: Mapped[int | None] = _fk("feature", nullable=True)


class ArtifactRecord(_Link):
    __tablename__ = "artifact_record"
    __table_args__ = (UniqueConstraint("artifact_id", "record_id", "feature_id"),)
    artifact_id: Mapped[int] = _fk("artifact")
    record_id: Mapped[int] = _fk("record")
    feature_id: Mapped[int | None] = _fk("feature", nullable=True)


class ArtifactProject(_Link):
    __tablename__ = "artifact_project"
    __table_args__ = (UniqueConstraint("artifact_id", "project_id"),)
    artifact_id: Mapped[int] = _fk("artifact")
    project_id: Mapped[int] = _fk("project")
    feature_id: Mapped[int | None] = _fk("feature", nullable=True)


class ArtifactReference(_Link):
    __tablename__ = "artifact_reference"
    __table_args__ = (UniqueConstraint("artifact_id", "reference_id"),)
    artifact_id: Mapped[int] = _fk("artifact")
    reference_id: Mapped[int] = _fk("reference")
    feature_id: Mapped[int | None] = _fk("feature", nullable=True)


class CollectionULabel(_Link):
    __tablename__ = "collection_ulabel"
    __table_args__ = (UniqueConstraint("collection_id", "ulabel_id"),)
    collection_id: Mapped[int] = _fk("collection")
    ulabel_id: Mapped[int] = _fk("ulabel")
    feature_id: Mapped[int | None] = _fk("feature", nullable=True)


class CollectionProject(_Link):
    __tablename__ = "collection_project"
    __table_args__ = (UniqueConstraint("collection_id", "project_id"),)
    collection_id: Mapped[int] = _fk("collection")
    project_id: Mapped[int] = _fk("project")


class CollectionReference(_Link):
    __tablename__ = "collection_reference"
    __table_args__ = (UniqueConstraint("collection_id", "reference_id"),)
    collection_id: Mapped[int] = _fk("collection")
    reference_id: Mapped[int] = _fk("reference")


class TransformULabel(_Link):
    __tablename__ = "transform_ulabel"
    __table_args__ = (UniqueConstraint("transform_id", "ulabel_id"),)
    transform_id: Mapped[int] = _fk("transform")
    ulabel_id: Mapped[int] = _fk("ulabel")


class TransformProject(_Link):
    __tablename__ = "transform_project"
    __table_args__ = (UniqueConstraint("transform_id", "project_id"),)
    transform_id: Mapped[int] = _fk("transform")
    project_id: Mapped[int] = _fk("project")


class TransformReference(_Link):
    __tablename__ = "transform_reference"
    __table_args__ = (UniqueConstraint("transform_id", "reference_id"),)
    transform_id: Mapped[int] = _fk("transform")
    reference_id: Mapped[int] = _fk("reference")


class RunULabel(_Link):
    __tablename__ = "run_ulabel"
    __table_args__ = (UniqueConstraint("run_id", "ulabel_id"),)
    run_id: Mapped[int] = _fk("run")
    ulabel_id: Mapped[int] = _fk("ulabel")
    feature_id: Mapped[int | None] = _fk("feature", nullable=True)


class RunProject(_Link):
    __tablename__ = "run_project"
    __table_args__ = (UniqueConstraint("run_id", "project_id"),)
    run_id: Mapped[int] = _fk("run")
    project_id: Mapped[int] = _fk("project")


class ULabelParent(_Link):
    __tablename__ = "ulabel_parent"
    __table_args__ = (UniqueConstraint("child_id", "parent_id"),)
    child_id: Mapped[int] = _fk("ulabel")
    parent_id: Mapped[int] = _fk("ulabel")


class ULabelProject(_Link):
    __tablename__ = "ulabel_project"
    __table_args__ = (UniqueConstraint("ulabel_id", "project_id"),)
    ulabel_id: Mapped[int] = _fk("ulabel")
    project_id: Mapped[int] = _fk("project")


class RecordParent(_Link):
    __tablename__ = "record_parent"
    __table_args__ = (UniqueConstraint("child_id", "parent_id"),)
    child_id: Mapped[int] = _fk("record")
    parent_id: Mapped[int] = _fk("record")


class RecordProject(_Link):
    __tablename__ = "record_project"
    __table_args__ = (UniqueConstraint("record_id", "project_id"),)
    record_id: Mapped[int] = _fk("record")
    project_id: Mapped[int] = _fk("project")


class RecordReference(_Link):
    __tablename__ = "record_reference"
    __table_args__ = (UniqueConstraint("record_id", "reference_id"),)
    record_id: Mapped[int] = _fk("record")
    reference_id: Mapped[int] = _fk("reference")


class RecordRecord(_Link):
    """A record's value for a `cat[Record]` feature: another record."""

    __tablename__ = "record_record"
    __table_args__ = (UniqueConstraint("record_id", "feature_id", "value_id"),)
    record_id: Mapped[int] = _fk("record")
    feature_id: Mapped[int] = _fk("feature")
    value_id: Mapped[int] = _fk("record")


class RecordULabel(_Link):
    __tablename__ = "record_ulabel"
    __table_args__ = (UniqueConstraint("record_id", "feature_id", "ulabel_id"),)
    record_id: Mapped[int] = _fk("record")
    feature_id: Mapped[int] = _fk("feature")
    ulabel_id: Mapped[int] = _fk("ulabel")


class RecordJson(_Link):
    """A record's value for a non-categorical feature."""

    __tablename__ = "record_json"
    __table_args__ = (UniqueConstraint("record_id", "feature_id"),)
    record_id: Mapped[int] = _fk("record")
    feature_id: Mapped[int] = _fk("feature")
    value: Mapped[object] = mapped_column(JSONType)


class ProjectParent(_Link):
    __tablename__ = "project_parent"
    __table_args__ = (UniqueConstraint("child_id", "parent_id"),)
    child_id: Mapped[int] = _fk("project")
    parent_id: Mapped[int] = _fk("project")


# --- features --------------------------------------------------------------------------------------
class ArtifactFeatureValue(_Link):
    __tablename__ = "artifact_featurevalue"
    __table_args__ = (UniqueConstraint("artifact_id", "featurevalue_id"),)
    artifact_id: Mapped[int] = _fk("artifact")
    featurevalue_id: Mapped[int] = _fk("featurevalue")


class RunFeatureValue(_Link):
    __tablename__ = "run_featurevalue"
    __table_args__ = (UniqueConstraint("run_id", "featurevalue_id"),)
    run_id: Mapped[int] = _fk("run")
    featurevalue_id: Mapped[int] = _fk("featurevalue")


class ArtifactSchema(_Link):
    """A feature set of an artifact, one per slot ("obs", "var", "columns", ...)."""

    __tablename__ = "artifact_schema"
    __table_args__ = (UniqueConstraint("artifact_id", "slot"),)
    artifact_id: Mapped[int] = _fk("artifact")
    schema_id: Mapped[int] = _fk("schema")
    slot: Mapped[str | None] = mapped_column(String(40))


class SchemaFeature(_Link):
    """Members of a schema, in order."""

    __tablename__ = "schema_feature"
    __table_args__ = (UniqueConstraint("schema_id", "feature_id"),)
    schema_id: Mapped[int] = _fk("schema")
    feature_id: Mapped[int] = _fk("feature")
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_optional: Mapped[bool] = mapped_column(default=False)


class SchemaComponent(_Link):
    """Components of a composite schema (e.g. an AnnData schema's "obs" and "var"), by slot."""

    __tablename__ = "schema_component"
    __table_args__ = (UniqueConstraint("composite_id", "slot"),)
    composite_id: Mapped[int] = _fk("schema")
    component_id: Mapped[int] = _fk("schema")
    slot: Mapped[str] = mapped_column(String(40))
