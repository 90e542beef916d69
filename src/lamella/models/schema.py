"""Schemas: sets of features (or of another registry's records) that a dataset should match."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamella._query.relations import ManyToMany, ReverseForeignKey
from lamella.models._base import BigInt, HasCreatedAt, InBranch, SQLRecord, TracksRun, TracksUpdates


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
Index("ix_schema_type_id_name", Schema.type_id, Schema.name)
