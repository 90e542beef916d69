"""Schemas: sets of features (or of another registry's records) that a dataset should match."""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamella._instance import state
from lamella._logging import logger
from lamella._query.relations import ManyToMany, ReverseForeignKey
from lamella.models.core.columns import BigInt
from lamella.models.core.record import HasCreatedAt, InBranch, SQLRecord, TracksRun, TracksUpdates
from lamella.models.features.feature import Feature
from lamella.models.schema.definitions import (
    build_spec,
    existing_by_hash,
    insert_links,
    member_rows,
    members_queryset,
    slots_of,
)


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

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        if not args and not kwargs:  # loading from the database, or an empty schema built in __init__
            return super().__new__(cls)

        skip = bool(kwargs.get("_skip_existing_check", False))
        spec = build_spec(
            args[0] if args else None, {k: v for k, v in kwargs.items() if k != "_skip_existing_check"}
        )
        if not skip:
            existing = existing_by_hash(cls, spec.fields["hash"])
            if existing is not None:
                name = spec.fields.get("name")
                if name is not None and name != existing.name:
                    logger.info(f"returning the existing schema with the same definition: {existing!r}")
                existing.__dict__["_lamella_existing"] = True
                return existing  # type: ignore[return-value]
        schema = super().__new__(cls)
        schema.__dict__["_lamella_spec"] = spec
        return schema

    def __init__(
        self,
        features: Any = None,
        *,
        name: str | None = None,
        description: str | None = None,
        itype: Any = None,
        otype: str | None = None,
        dtype: Any = None,
        minimal_set: bool = True,
        maximal_set: bool = False,
        ordered_set: bool = False,
        coerce: bool = False,
        flexible: bool | None = None,
        index: Any = None,
        slots: dict[str, Schema] | None = None,
        components: dict[str, Schema] | None = None,
        is_type: bool = False,
        type: Schema | None = None,
        optionals: Any = None,
        **kwargs: Any,
    ) -> None:
        """A schema: `ln.Schema(features=[...], name=...)`, `ln.Schema(itype=ln.ULabel.name)`, or a
        composite `ln.Schema(otype="AnnData", slots={"obs": obs_schema, "var": var_schema})`.

        Members may be given as `(feature, {"optional": True})` or listed in `optionals=`. A schema with
        the same definition as a saved one is that saved schema.
        """
        if self.__dict__.pop("_lamella_existing", False):
            return
        spec = self.__dict__.pop("_lamella_spec", None)
        kwargs.pop("_skip_existing_check", None)
        if spec is None:
            given = dict(
                name=name,
                description=description,
                itype=itype,
                otype=otype,
                dtype=dtype,
                minimal_set=minimal_set,
                maximal_set=maximal_set,
                ordered_set=ordered_set,
                coerce=coerce,
                flexible=flexible,
                index=index,
                slots=slots,
                components=components,
                is_type=is_type,
                type=type,
                optionals=optionals,
                **kwargs,
            )
            spec = build_spec(features, {k: v for k, v in given.items() if v is not None})
        fields = {k: v for k, v in spec.fields.items() if v is not None}
        super().__init__(**fields)
        self.__dict__["_lamella_members"] = spec.members
        self.__dict__["_lamella_components"] = spec.components

    # --- writes ---------------------------------------------------------------------------------

    def _existing_under_lock(self) -> Self | None:

        hash_ = self.__dict__.get("hash")
        return existing_by_hash(type(self), hash_) if hash_ else None  # type: ignore[return-value]

    def save(self, *args: Any, **kwargs: Any) -> Self:
        """Insert the schema with its members and slots in one transaction (or update its fields)."""

        if self.__dict__.get("id") is not None:
            return super().save()
        with state.current().db.write(*self._lock_names()) as session:
            saved = super().save()
            if saved is self:
                insert_links(
                    session,
                    self,
                    self.__dict__.get("_lamella_members") or [],
                    self.__dict__.get("_lamella_components") or {},
                )
        if saved is self:
            self.__dict__.pop("_lamella_members", None)
            self.__dict__.pop("_lamella_components", None)
        return saved

    # --- reads ----------------------------------------------------------------------------------

    @property
    def members(self) -> Any:
        """The members (features, or records of the itype registry) in order: a QuerySet once saved."""
        if self.__dict__.get("id") is None:
            return [record for record, _ in self.__dict__.get("_lamella_members") or []]

        return members_queryset(self)

    @property
    def optionals(self) -> list[Any]:
        """The members a dataset may leave out."""

        return [record for record, optional in member_rows(self) if optional]

    @property
    def slots(self) -> dict[str, Schema]:
        """The component schemas of a composite schema by slot, e.g. {"obs": ..., "var": ...}."""

        return slots_of(self)

    @property
    def index(self) -> Any:
        """The feature the index of a DataFrame is validated against, if any."""
        feature_id = self.__dict__.get("index_feature_id")
        if feature_id is None:
            return None

        return Feature.get(id=feature_id)


# members of a type, and a name looked up within its type, use one composite index
Index("ix_schema_type_id_name", Schema.type_id, Schema.name)
