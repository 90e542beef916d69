"""Features (what was measured), their values, and schemas (sets of features)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamella._query import legacy_lookups
from lamella._query.relations import ManyToMany, ReverseForeignKey
from lamella.models.core.columns import BigInt, JSONType
from lamella.models.core.record import HasCreatedAt, InBranch, SQLRecord, TracksRun, TracksUpdates
from lamella.models.features.definitions import features_from_dataframe, features_from_dict, init_feature
from lamella.models.features.dtypes import parse


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

    def __init__(self, name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:

        init_feature(self, name, dtype, kwargs)

    @classmethod
    def from_dataframe(cls, df: Any, field: Any = None, *, mute: bool = False) -> list[Feature]:
        """One feature per column, dtypes inferred; existing features are returned as they are."""

        return features_from_dataframe(cls, df)

    from_df = legacy_lookups.RenamedMethod("from_dataframe")

    @classmethod
    def from_dict(cls, dictionary: dict[str, Any], *, str_as_cat: bool = False) -> list[Feature]:
        """One feature per key, dtypes inferred from the values."""

        return features_from_dict(cls, dictionary, str_as_cat=str_as_cat)

    def with_config(self, optional: bool = False) -> tuple[Feature, dict[str, Any]]:
        """This feature with its settings in one schema: `ln.Schema([f.with_config(optional=True)])`."""
        return self, {"optional": optional}

    @property
    def parsed_dtype(self) -> Any:

        return parse(self.dtype)


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


# members of a type, and a name looked up within its type, use one composite index
Index("ix_feature_type_id_name", Feature.type_id, Feature.name)
