"""Collections: versioned, ordered sets of artifacts, loaded as one or fed to data loaders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamella._query.relations import ManyToMany
from lamella.models._base import BigInt, HasCreatedAt, InBranch, SQLRecord, TracksRun, TracksUpdates
from lamella.models._versioning import IsVersioned, latest_version_index

if TYPE_CHECKING:
    from lamella.models.artifact import Artifact
    from lamella.models.lineage import Transform


class Collection(IsVersioned, SQLRecord, HasCreatedAt, TracksUpdates, TracksRun, InBranch):
    """An ordered set of artifacts with a key, versioned like an artifact."""

    __tablename__ = "collection"
    _uid_length = 20
    _repr_fields = ("uid", "key", "description", "hash", "version_tag", "is_latest")
    _search_fields = ("key", "description")

    uid: Mapped[str] = mapped_column(String(20), unique=True, index=True)
    key: Mapped[str | None] = mapped_column(String(1024), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    hash: Mapped[str | None] = mapped_column(String(22), index=True)
    reference: Mapped[str | None] = mapped_column(String(255))
    reference_type: Mapped[str | None] = mapped_column(String(25))
    meta_artifact_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("artifact.id"))
    transform_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("transform.id"), index=True)

    meta_artifact: Mapped[Artifact | None] = relationship("Artifact", foreign_keys=[meta_artifact_id])
    transform: Mapped[Transform | None] = relationship("Transform", foreign_keys=[transform_id])

    artifacts = ManyToMany("Artifact", "CollectionArtifact", "collection_id", "artifact_id")
    ulabels = ManyToMany("ULabel", "CollectionULabel", "collection_id", "ulabel_id")
    projects = ManyToMany("Project", "CollectionProject", "collection_id", "project_id")
    references = ManyToMany("Reference", "CollectionReference", "collection_id", "reference_id")
    input_of_runs = ManyToMany("Run", "RunInputCollection", "collection_id", "run_id")

    def __init__(self, artifacts: Any = None, *, key: str | None = None, **kwargs: Any) -> None:
        if self.__dict__.pop("_lamella_existing", False):
            return
        if key is not None:
            kwargs["key"] = key
        super().__init__(**kwargs)
        if artifacts is not None:
            self.__dict__["_pending_artifacts"] = list(artifacts)

    def _lock_names(self) -> tuple[str, ...]:
        return ("lamella:collection",)

    def view_lineage(self, return_graph: bool = False, **kwargs: Any) -> Any:
        """The upstream graph of runs and data that led here; returned, displayed, or written to a file."""
        from lamella._tracking import graph

        self._require_saved("view the lineage of")
        digraph = graph.data_lineage(self)
        if return_graph:
            return digraph
        graph.show(digraph, f"lineage_{self.uid}")
        return None


latest_version_index("collection", 20)(Collection)
