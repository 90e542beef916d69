"""Transforms (scripts, notebooks, pipelines, functions) and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamella._query import legacy_lookups
from lamella._query.queryset import QuerySet
from lamella._query.relations import ManyToMany, ReverseForeignKey, model
from lamella.errors import InvalidArgument
from lamella.models.core import graphs as graph
from lamella.models.core.columns import BigInt, JSONType, UTCDateTime, utcnow
from lamella.models.core.record import HasCreatedAt, InBranch, SQLRecord, TracksCreator, TracksUpdates
from lamella.models.core.versioning import IsVersioned, latest_version_index
from lamella.models.features.has_features import HasFeatures

if TYPE_CHECKING:
    from lamella.models.artifact.artifact import Artifact

RUN_STATUSES = ("scheduled", "started", "completed", "errored", "aborted")
TRANSFORM_KINDS = ("script", "notebook", "pipeline", "function", "upload", "linker", "other")


class Transform(IsVersioned, SQLRecord, HasCreatedAt, TracksUpdates, TracksCreator, InBranch):
    """A data transformation: a script, notebook, pipeline or function. Versioned like artifacts."""

    __tablename__ = "transform"
    _uid_length = 16
    _repr_fields = ("uid", "key", "description", "kind", "version_tag", "is_latest")
    _search_fields = ("key", "description")
    _field_aliases = {"name": "key", "type": "kind"}

    uid: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    key: Mapped[str | None] = mapped_column(String(1024), index=True)
    description: Mapped[str | None] = mapped_column(Text, index=False)
    kind: Mapped[str] = mapped_column(String(20), default="pipeline")
    source_code: Mapped[str | None] = mapped_column(Text)
    hash: Mapped[str | None] = mapped_column(String(22), index=True)
    reference: Mapped[str | None] = mapped_column(String(255))
    reference_type: Mapped[str | None] = mapped_column(String(25))
    environment_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("artifact.id", use_alter=True))

    runs = ReverseForeignKey("Run", "transform_id")
    output_artifacts = ReverseForeignKey("Artifact", "transform_id")
    output_collections = ReverseForeignKey("Collection", "transform_id")
    ulabels = ManyToMany("ULabel", "TransformULabel", "transform_id", "ulabel_id")
    projects = ManyToMany("Project", "TransformProject", "transform_id", "project_id")
    references = ManyToMany("Reference", "TransformReference", "transform_id", "reference_id")

    _follows_run_branch = False  # lineage stays on main, whatever branch a run saves its records to

    def __init__(
        self,
        key: str | None = None,
        *,
        revises: Transform | None = None,
        version: str | None = None,
        **kwargs: Any,
    ) -> None:
        """`revises=`: a new version of that transform (same stem uid, next version, it becomes the
        latest at `.save()`); key, kind and description default to the revised transform's."""
        if self.__dict__.pop("_lamella_existing", False):
            return
        if kwargs:
            kwargs = legacy_lookups.translate_arguments(Transform, kwargs)  # is_new_version_of=
            revises = kwargs.pop("revises", None) if revises is None else revises
        if version is not None:
            kwargs["version_tag"] = version
        if revises is not None:
            if not isinstance(revises, Transform):
                raise InvalidArgument(f"revises= takes a Transform, not {type(revises).__name__}")
            revises._require_saved("revise")
            key = key if key is not None else revises.key
            kwargs.setdefault("kind", revises.kind)
            if kwargs.get("description") is None:
                kwargs["description"] = revises.description
        if key is not None:
            kwargs["key"] = key
        if "kind" in kwargs and kwargs["kind"] not in TRANSFORM_KINDS:
            raise InvalidArgument(
                f"unknown transform kind {kwargs['kind']!r}; use one of {', '.join(TRANSFORM_KINDS)}"
            )
        super().__init__(**kwargs)
        if revises is not None:
            self.__dict__["_revises"] = revises

    def _before_insert(self, session: Any) -> None:
        """A revision takes the next version of its family's stem and becomes the latest one."""
        revises = self.__dict__.pop("_revises", None)
        if revises is not None:
            stem = revises.stem_uid
            self.uid = self._next_version_uid(session, stem)
            self._demote_family(session, stem)

    @property
    def name(self) -> str | None:
        return self.description or self.key

    def view_lineage(self, return_graph: bool = False, **kwargs: Any) -> Any:
        """Transforms upstream of this one (whose runs made the data this one's runs read)."""

        self._require_saved("view the lineage of")
        digraph = graph.transform_lineage(self)
        if return_graph:
            return digraph
        graph.show(digraph, f"transforms_{self.uid}")
        return None

    def view_parents(
        self,
        field: str | None = None,
        with_children: bool = False,
        distance: int = 5,
        return_graph: bool = False,
    ) -> Any:
        """A transform's parents are the transforms upstream of it: the same graph as `view_lineage()`."""
        return self.view_lineage(return_graph=return_graph)

    @property
    def latest_run(self) -> Run | None:
        return Run.filter(transform=self).order_by("-started_at").first()

    @property
    def predecessors(self) -> QuerySet[Transform]:
        """Transforms whose runs made the artifacts and collections this transform's runs read."""
        self._require_saved("find the predecessors of")
        runs = Run.filter(transform=self)
        made: set[int] = set()
        for registry in ("Artifact", "Collection"):
            made.update(
                model(registry).filter(input_of_runs__in=runs, branch_id=None).to_list("transform_id")
            )
        made.discard(self.id)
        return Transform.filter(id__in=sorted(i for i in made if i is not None))

    @property
    def successors(self) -> QuerySet[Transform]:
        """Transforms whose runs read the artifacts and collections this transform's runs made."""
        self._require_saved("find the successors of")
        readers: set[int] = set()
        for relation in ("input_artifacts", "input_collections"):
            readers.update(Run.filter(**{f"{relation}__transform": self}).to_list("transform_id"))
        readers.discard(self.id)
        return Transform.filter(id__in=sorted(readers))

    def _lock_names(self) -> tuple[str, ...]:
        return ("lamella:transform",)


latest_version_index("transform", 16)(Transform)


class Run(HasFeatures, SQLRecord, HasCreatedAt, TracksCreator, InBranch):
    """One execution of a transform, with its parameters, inputs, outputs, report and environment."""

    _follows_run_branch = False  # lineage stays on main, whatever branch a run saves its records to

    __tablename__ = "run"
    _uid_length = 16
    _repr_fields = ("uid", "name", "status", "started_at", "finished_at")
    _search_fields = ("name", "uid")

    uid: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(150), index=True)
    transform_id: Mapped[int] = mapped_column(
        BigInt, ForeignKey("transform.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(12), default="started")
    params: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    reference: Mapped[str | None] = mapped_column(String(255))
    reference_type: Mapped[str | None] = mapped_column(String(25))
    report_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("artifact.id", use_alter=True))
    environment_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("artifact.id", use_alter=True))
    initiated_by_run_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("run.id"), index=True)
    is_consecutive: Mapped[bool | None] = mapped_column(Boolean)

    transform: Mapped[Transform] = relationship("Transform", foreign_keys=[transform_id], lazy="joined")
    report: Mapped[Artifact | None] = relationship("Artifact", foreign_keys=[report_id], lazy="select")
    environment: Mapped[Artifact | None] = relationship(
        "Artifact", foreign_keys=[environment_id], lazy="select"
    )
    initiated_by_run: Mapped[Run | None] = relationship(
        "Run", foreign_keys=[initiated_by_run_id], remote_side="Run.id", lazy="select"
    )

    output_artifacts = ReverseForeignKey("Artifact", "run_id")
    output_collections = ReverseForeignKey("Collection", "run_id")
    input_artifacts = ManyToMany("Artifact", "RunInputArtifact", "run_id", "artifact_id")
    input_collections = ManyToMany("Collection", "RunInputCollection", "run_id", "collection_id")
    initiated_runs = ReverseForeignKey("Run", "initiated_by_run_id")
    ulabels = ManyToMany("ULabel", "RunULabel", "run_id", "ulabel_id")
    projects = ManyToMany("Project", "RunProject", "run_id", "project_id")
    _field_aliases = {"inputs": "input_artifacts", "outputs": "output_artifacts"}

    def __init__(self, transform: Transform | None = None, **kwargs: Any) -> None:
        if self.__dict__.pop("_lamella_existing", False):
            return
        if transform is not None:
            kwargs["transform"] = transform
        super().__init__(**kwargs)

    @property
    def inputs(self) -> Any:
        return self.input_artifacts

    @property
    def outputs(self) -> Any:
        return self.output_artifacts

    def _lock_names(self) -> tuple[str, ...]:
        return ()  # runs are never looked up by name, so inserts need no lock

    def view_lineage(self, return_graph: bool = False, **kwargs: Any) -> Any:
        """The runs and data that led to this run, and what it made; returned, displayed, or written
        to a file."""

        self._require_saved("view the lineage of")
        digraph = graph.data_lineage(self)
        if return_graph:
            return digraph
        graph.show(digraph, f"lineage_{self.uid}")
        return None
