"""Labels: ULabels, Records (typed, with feature values), Projects and References."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamella._query import legacy_lookups
from lamella._query.relations import ManyToMany, ReverseForeignKey
from lamella.errors import InvalidArgument
from lamella.models.core.columns import BigInt
from lamella.models.core.record import HasCreatedAt, InBranch, SQLRecord, TracksRun, TracksUpdates
from lamella.models.features.has_features import HasFeatures
from lamella.models.labels.record_sheets import records_from_dataframe


class _NamedRecord(SQLRecord, HasCreatedAt, TracksUpdates, TracksRun, InBranch):
    """Shared by registries whose constructor returns the existing record of the same name and type."""

    __abstract__ = True
    _name_field = "name"
    _repr_fields = ("uid", "name", "description", "is_type")

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        if self.__dict__.pop("_lamella_existing", False):
            return
        if name is not None:
            kwargs["name"] = name
        record_type = kwargs.get("type")
        if record_type is not None and not getattr(record_type, "is_type", False):
            raise InvalidArgument(
                f"type={record_type!r} is not a type; create it with "
                f"{type(self).__name__}(name=..., is_type=True) first"
            )
        super().__init__(**kwargs)

    def _lock_names(self) -> tuple[str, ...]:
        return (f"lamella:{self.__tablename__}",)


class ULabel(_NamedRecord):
    """A universal label: a free-text category, optionally typed and arranged in a hierarchy."""

    __tablename__ = "ulabel"
    _uid_length = 8

    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(150), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    synonyms: Mapped[str | None] = mapped_column(Text)  # separated by '|'
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    reference_type: Mapped[str | None] = mapped_column(String(25))
    is_type: Mapped[bool] = mapped_column(Boolean, default=False)
    type_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("ulabel.id"))
    type: Mapped[ULabel | None] = relationship("ULabel", remote_side="ULabel.id", foreign_keys=[type_id])

    ulabels = ReverseForeignKey("ULabel", "type_id")  # the members of a type
    records = ReverseForeignKey("ULabel", "type_id")
    artifacts = ManyToMany("Artifact", "ArtifactULabel", "ulabel_id", "artifact_id")
    collections = ManyToMany("Collection", "CollectionULabel", "ulabel_id", "collection_id")
    transforms = ManyToMany("Transform", "TransformULabel", "ulabel_id", "transform_id")
    runs = ManyToMany("Run", "RunULabel", "ulabel_id", "run_id")
    parents = ManyToMany("ULabel", "ULabelParent", "child_id", "parent_id")
    children = ManyToMany("ULabel", "ULabelParent", "parent_id", "child_id")
    projects = ManyToMany("Project", "ULabelProject", "ulabel_id", "project_id")


class Record(HasFeatures, _NamedRecord):
    """A metadata record (sample, donor, experiment...): typed, with feature values, in a hierarchy."""

    __tablename__ = "record"
    _uid_length = 16

    uid: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(150), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    synonyms: Mapped[str | None] = mapped_column(Text)  # separated by '|'
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    reference_type: Mapped[str | None] = mapped_column(String(25))
    is_type: Mapped[bool] = mapped_column(Boolean, default=False)
    type_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("record.id"))
    schema_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("schema.id"), index=True)
    type: Mapped[Record | None] = relationship("Record", remote_side="Record.id", foreign_keys=[type_id])

    records = ReverseForeignKey("Record", "type_id")
    artifacts = ManyToMany("Artifact", "ArtifactRecord", "record_id", "artifact_id")
    parents = ManyToMany("Record", "RecordParent", "child_id", "parent_id")
    children = ManyToMany("Record", "RecordParent", "parent_id", "child_id")
    projects = ManyToMany("Project", "RecordProject", "record_id", "project_id")
    references = ManyToMany("Reference", "RecordReference", "record_id", "reference_id")

    @classmethod
    def from_dataframe(cls, df: Any, *, type: Record | None = None, name_field: str = "name") -> list[Record]:
        """One saved record per row of a sample sheet (name from `name_field` or the index), columns as feature values."""

        return records_from_dataframe(cls, df, record_type=type, name_field=name_field)

    from_df = legacy_lookups.RenamedMethod("from_dataframe")


class Project(_NamedRecord):
    """A project that groups transforms, runs, artifacts, collections and records."""

    __tablename__ = "project"
    _uid_length = 12

    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    synonyms: Mapped[str | None] = mapped_column(Text)  # separated by '|'
    abbr: Mapped[str | None] = mapped_column(String(32), index=True)
    url: Mapped[str | None] = mapped_column(String(255))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    is_type: Mapped[bool] = mapped_column(Boolean, default=False)
    type_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("project.id"))
    type: Mapped[Project | None] = relationship("Project", remote_side="Project.id", foreign_keys=[type_id])

    artifacts = ManyToMany("Artifact", "ArtifactProject", "project_id", "artifact_id")
    collections = ManyToMany("Collection", "CollectionProject", "project_id", "collection_id")
    transforms = ManyToMany("Transform", "TransformProject", "project_id", "transform_id")
    runs = ManyToMany("Run", "RunProject", "project_id", "run_id")
    ulabels = ManyToMany("ULabel", "ULabelProject", "project_id", "ulabel_id")
    records = ManyToMany("Record", "RecordProject", "project_id", "record_id")
    parents = ManyToMany("Project", "ProjectParent", "child_id", "parent_id")
    children = ManyToMany("Project", "ProjectParent", "parent_id", "child_id")


class Reference(_NamedRecord):
    """A reference: a publication, a web page, a protocol."""

    __tablename__ = "reference"
    _uid_length = 12

    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    abbr: Mapped[str | None] = mapped_column(String(32), index=True)
    url: Mapped[str | None] = mapped_column(String(500), index=True)
    pubmed_id: Mapped[int | None] = mapped_column(BigInt, index=True)
    doi: Mapped[str | None] = mapped_column(String(255), index=True)
    text: Mapped[str | None] = mapped_column(Text)
    date: Mapped[date | None] = mapped_column(Date)
    is_type: Mapped[bool] = mapped_column(Boolean, default=False)
    type_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("reference.id"))
    type: Mapped[Reference | None] = relationship(
        "Reference", remote_side="Reference.id", foreign_keys=[type_id]
    )

    artifacts = ManyToMany("Artifact", "ArtifactReference", "reference_id", "artifact_id")
    collections = ManyToMany("Collection", "CollectionReference", "reference_id", "collection_id")
    transforms = ManyToMany("Transform", "TransformReference", "reference_id", "transform_id")
    records = ManyToMany("Record", "RecordReference", "reference_id", "record_id")


# members of a type, and a name looked up within its type, use one composite index
for _model in (ULabel, Record, Project, Reference):
    Index(f"ix_{_model.__tablename__}_type_id_name", _model.type_id, _model.name)
