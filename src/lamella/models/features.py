"""Features (what was measured), their values, and schemas (sets of features)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamella._query.relations import ManyToMany, ReverseForeignKey
from lamella.models._base import (
    BigInt,
    HasCreatedAt,
    InBranch,
    JSONType,
    SQLRecord,
    TracksRun,
    TracksUpdates,
)


class Feature(SQLRecord, HasCreatedAt, TracksUpdates, TracksRun, InBranch):
    """A dimension of data: a column name, a metadata key, with a dtype and optional unit."""

    __tablename__ = "feature"
    _uid_length = 12
    _name_field = "name"
    _repr_fields = ("uid", "name", "dtype", "unit", "is_type")

    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(150), index=True)
    dtype: Mapped[str | None] = mapped_column(String(255), index=True)
    unit: Mapped[str | None] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(Text)
    synonyms: Mapped[str | None] = mapped_column(Text)
    array_rank: Mapped[int] = mapped_column(Integer, default=0)
    array_size: Mapped[int] = mapped_column(Integer, default=0)
    array_shape: Mapped[Any | None] = mapped_column(JSONType)
    nullable: Mapped[bool] = mapped_column(Boolean, default=True)
    coerce: Mapped[bool] = mapped_column(Boolean, default=False)
    default_value: Mapped[Any | None] = mapped_column(JSONType)
    is_type: Mapped[bool] = mapped_column(Boolean, default=False)
    type_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("feature.id"))
    type: Mapped[Feature | None] = relationship("Feature", remote_side="Feature.id", foreign_keys=[type_id])

    values = ReverseForeignKey("FeatureValue", "feature_id")
    schemas = ManyToMany("Schema", "SchemaFeature", "feature_id", "schema_id")
    features = ReverseForeignKey("Feature", "type_id")


class FeatureValue(SQLRecord, HasCreatedAt, TracksRun):
    """A value of a feature, stored once per (feature, value) and linked to artifacts and runs."""

    __tablename__ = "featurevalue"
    __table_args__ = (UniqueConstraint("feature_id", "hash"),)
    _repr_fields = ("feature_id", "value")
    _search_fields = ()

    feature_id: Mapped[int] = mapped_column(BigInt, ForeignKey("feature.id", ondelete="CASCADE"), index=True)
    value: Mapped[Any] = mapped_column(JSONType)
    hash: Mapped[str] = mapped_column(String(22), index=True)
    feature: Mapped[Feature] = relationship("Feature", foreign_keys=[feature_id])

    artifacts = ManyToMany("Artifact", "ArtifactFeatureValue", "featurevalue_id", "artifact_id")
    runs = ManyToMany("Run", "RunFeatureValue", "featurevalue_id", "run_id")

    def __hash__(self) -> int:
        return hash(("FeatureValue", self.__dict__.get("feature_id"), self.__dict__.get("hash")))


class Schema(SQLRecord, HasCreatedAt, TracksUpdates, TracksRun, InBranch):
    """A set of features (or of another registry's records) that a dataset should match."""

    __tablename__ = "schema"
    _uid_length = 16
    _repr_fields = ("uid", "name", "n", "itype", "otype", "dtype", "is_type")

    uid: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(150), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    n: Mapped[int] = mapped_column(Integer, default=0)
    dtype: Mapped[str | None] = mapped_column(String(64))
    itype: Mapped[str | None] = mapped_column(String(120))
    otype: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(22), index=True)
    minimal_set: Mapped[bool] = mapped_column(Boolean, default=True)
    ordered_set: Mapped[bool] = mapped_column(Boolean, default=False)
    maximal_set: Mapped[bool] = mapped_column(Boolean, default=False)
    coerce: Mapped[bool] = mapped_column(Boolean, default=False)
    flexible: Mapped[bool | None] = mapped_column(Boolean)
    index_feature_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("feature.id"))
    is_type: Mapped[bool] = mapped_column(Boolean, default=False)
    type_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("schema.id"))
    type: Mapped[Schema | None] = relationship("Schema", remote_side="Schema.id", foreign_keys=[type_id])

    features = ManyToMany("Feature", "SchemaFeature", "schema_id", "feature_id")
    components = ManyToMany("Schema", "SchemaComponent", "composite_id", "component_id")
    artifacts = ManyToMany("Artifact", "ArtifactSchema", "schema_id", "artifact_id")
    validated_artifacts = ReverseForeignKey("Artifact", "schema_id")

    @property
    def members(self) -> Any:
        return self.features.all()


# members of a type, and a name looked up within its type, use one composite index
for _model in (Feature, Schema):
    Index(f"ix_{_model.__tablename__}_type_id_name", _model.type_id, _model.name)
