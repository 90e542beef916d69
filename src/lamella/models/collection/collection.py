"""Collections: versioned, ordered sets of artifacts, loaded as one or fed to data loaders."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamella._instance import state
from lamella._query.relations import ManyToMany
from lamella.errors import InvalidArgument
from lamella.models.artifact.artifact import Artifact
from lamella.models.core import graphs as graph
from lamella.models.core.columns import BigInt
from lamella.models.core.links import CollectionArtifact
from lamella.models.core.record import HasCreatedAt, InBranch, SQLRecord, TracksRun, TracksUpdates
from lamella.models.core.run_links import link_to_current_project
from lamella.models.core.versioning import IsVersioned, latest_version_index
from lamella.models.lineage.lineage import Run

if TYPE_CHECKING:
    from lamella.models.artifact.artifact import Artifact
    from lamella.models.lineage.lineage import Transform


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

    def __init__(
        self,
        artifacts: Any = None,
        *,
        key: str | None = None,
        description: str | None = None,
        revises: Collection | None = None,
        **kwargs: Any,
    ) -> None:
        if self.__dict__.pop("_lamella_existing", False):
            return
        if artifacts is None:  # loading from the database or a plain field-by-field construction
            super().__init__(**({"key": key, "description": description} | kwargs))
            return

        if not isinstance(artifacts, Artifact) and not hasattr(artifacts, "__iter__"):
            raise InvalidArgument(
                f"a collection holds artifacts: pass an Artifact or a list of them, not {artifacts!r}"
            )
        members = [artifacts] if isinstance(artifacts, Artifact) else list(artifacts)
        if not members:
            raise InvalidArgument("a collection needs at least one artifact")
        for member in members:
            if not isinstance(member, Artifact):
                raise InvalidArgument(f"a collection holds artifacts, not {type(member).__name__}")
            member._require_saved("collect")
        if revises is not None:
            key = key if key is not None else revises.key
            description = description if description is not None else revises.description
        if key is None and description is None:
            raise InvalidArgument(
                "a collection needs a key or a description: Collection(artifacts, key='...')"
            )
        # the same artifacts in the same order are the same collection
        digest = hashlib.md5("".join(m.hash or m.uid for m in members).encode()).digest()
        content_hash = base64.urlsafe_b64encode(digest).decode()[:22]
        super().__init__(key=key, description=description, hash=content_hash, **kwargs)
        self.__dict__["_members"] = members
        self.__dict__["_revises"] = revises

    def _lock_names(self) -> tuple[str, ...]:
        return ("lamella:collection",)

    def save(self, *args: Any, **kwargs: Any) -> Collection:
        """Insert the collection and link its artifacts in order; the same artifacts return the existing one."""
        if self.__dict__.get("id") is not None or "_members" not in self.__dict__:
            return super().save()

        instance = state.current()
        table = Collection.__table__.c
        with instance.db.write(*self._lock_names()) as session:
            same = session.execute(
                select(table.id).where(table.hash == self.hash, table.branch_id != -1)
            ).first()
            if same is not None:
                existing = session.get(Collection, same[0], populate_existing=True)
                assert existing is not None
                return existing
            family = self.__dict__.get("_revises")
            if family is None and self.key is not None:
                latest = session.execute(
                    select(table.id).where(
                        table.key == self.key, table.is_latest.is_(True), table.branch_id != -1
                    )
                ).first()
                family = session.get(Collection, latest[0]) if latest is not None else None
            if family is not None:
                self.uid = self._next_version_uid(session, family.stem_uid)
                self._demote_family(session, family.stem_uid)
            self._fill_defaults(instance)
            if self.run_id is not None and self.transform_id is None:
                run = session.get(Run, self.run_id)
                self.transform_id = run.transform_id if run is not None else None
            session.add(self)
            session.flush()
            session.add_all(
                CollectionArtifact(collection_id=self.id, artifact_id=member.id, position=position)
                for position, member in enumerate(self.__dict__["_members"])
            )
            session.flush()
            link_to_current_project([self])
        return self

    @property
    def ordered_artifacts(self) -> list[Any]:
        """The artifacts in the order they were given."""

        session = state.current().db.session()
        statement = (
            select(Artifact)
            .join(CollectionArtifact, CollectionArtifact.artifact_id == Artifact.id)
            .where(CollectionArtifact.collection_id == self.id)
            .order_by(CollectionArtifact.position)
        )
        return list(session.execute(statement).scalars())

    def view_lineage(self, return_graph: bool = False, **kwargs: Any) -> Any:
        """The upstream graph of runs and data that led here; returned, displayed, or written to a file."""

        self._require_saved("view the lineage of")
        digraph = graph.data_lineage(self)
        if return_graph:
            return digraph
        graph.show(digraph, f"lineage_{self.uid}")
        return None


latest_version_index("collection", 20)(Collection)
