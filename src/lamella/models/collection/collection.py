"""Collections: versioned, ordered sets of artifacts, loaded as one or fed to data loaders."""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamella._instance import state
from lamella._query import legacy_lookups
from lamella._query.relations import ManyToMany, model
from lamella.errors import InvalidArgument
from lamella.models.artifact import many
from lamella.models.artifact.artifact import Artifact
from lamella.models.core import graphs as graph
from lamella.models.core.columns import BigInt
from lamella.models.core.describe import escape
from lamella.models.core.record import HasCreatedAt, InBranch, SQLRecord, TracksRun, TracksUpdates
from lamella.models.core.run_links import link_collection_input, link_input, link_to_current_project
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
    _legacy_fields: ClassVar[dict[str, str]] = {"name": "key"}  # _query/legacy_lookups.py

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
        version: str | None = None,
        _save_artifacts: bool = False,
        **kwargs: Any,
    ) -> None:
        if self.__dict__.pop("_lamella_existing", False):
            return
        if version is not None:
            kwargs["version_tag"] = version
        if kwargs:
            kwargs = legacy_lookups.translate_arguments(Collection, kwargs)
            key = kwargs.pop("key", None) if key is None else key
            revises = kwargs.pop("revises", None) if revises is None else revises
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
            if not _save_artifacts:  # the old `ln.Dataset(df)` saves its data artifact with itself
                member._require_saved("collect")
            state.check_same_instance(member, None, "a collection")
        repeated = sorted(uid for uid, n in Counter(m.uid for m in members).items() if n > 1)
        if repeated:
            raise InvalidArgument(
                f"artifact {', '.join(repeated)} is given twice; a collection holds each artifact once"
            )
        if revises is not None:
            state.check_same_instance(revises, None, "revises=")
            key = key if key is not None else revises.key
            description = description if description is not None else revises.description
        if key is None and description is None:
            raise InvalidArgument(
                "a collection needs a key or a description: Collection(artifacts, key='...')"
            )
        super().__init__(key=key, description=description, hash=_content_hash(members), **kwargs)
        self.__dict__["_members"] = members
        self.__dict__["_revises"] = revises
        self.__dict__["_save_artifacts"] = _save_artifacts

    def _lock_names(self) -> tuple[str, ...]:
        return ("lamella:collection",)

    def save(self, *args: Any, **kwargs: Any) -> Collection:
        """Insert the collection and link its artifacts in order; the same artifacts return the existing one."""
        if self.__dict__.get("id") is not None or "_members" not in self.__dict__:
            return super().save()

        meta = self.__dict__.get("meta_artifact")
        if meta is not None and meta.__dict__.get("id") is None:
            if not self.__dict__.get("_save_artifacts"):
                raise InvalidArgument(f"save the meta artifact first: {meta!r}.save()")
            self.meta_artifact = meta.save()
        members = self.__dict__["_members"]
        if any(m.__dict__.get("id") is None for m in members):
            # a saved artifact may turn out to be an existing one (same content): collect that one
            members = self.__dict__["_members"] = [m if m.__dict__.get("id") else m.save() for m in members]
            self.hash = _content_hash(members)
        instance = state.current()
        table = Collection.__table__.c
        with instance.db.write(*self._lock_names()) as session:
            same = session.execute(
                select(table.id).where(table.hash == self.hash, table.branch_id != -1)
            ).first()
            if same is not None:
                existing = session.get(Collection, same[0], populate_existing=True)
                assert existing is not None
                self._become_saved_as(existing)
                _link_what_it_collects(members, self.__dict__.get("_revises"))
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
            link = model("CollectionArtifact")
            session.add_all(
                link(collection_id=self.id, artifact_id=member.id, position=position)
                for position, member in enumerate(self.__dict__["_members"])
            )
            session.flush()
            link_to_current_project([self])
            _link_what_it_collects(self.__dict__["_members"], self.__dict__.get("_revises"))
        return self

    @property
    def ordered_artifacts(self) -> list[Any]:
        """The artifacts in the order they were given."""

        members = self.__dict__.get("_members")
        if self.__dict__.get("id") is None and members is not None:
            return list(members)
        session = state.current().db.session()
        link = model("CollectionArtifact")
        statement = (
            select(Artifact)
            .join(link, link.artifact_id == Artifact.id)
            .where(link.collection_id == self.id)
            .order_by(link.position)
        )
        return list(session.execute(statement).scalars())

    @property
    def data_artifact(self) -> Artifact | None:
        """The artifact of a collection of one (its data; `meta_artifact` holds its metadata)."""
        members = self.ordered_artifacts
        return members[0] if len(members) == 1 else None

    # the names of `ln.Dataset`, LaminDB 0.x (lamella/_legacy.py lists them all)
    @property
    def file(self) -> Artifact | None:
        legacy_lookups.warn_legacy("dataset.file", "collection.data_artifact")
        return self.data_artifact

    @property
    def files(self) -> Any:
        legacy_lookups.warn_legacy("dataset.files", "collection.artifacts")
        return self.artifacts

    def backed(self, is_run_input: bool | None = None) -> Any:
        """The data artifact opened without loading it (old name of `data_artifact.open()`)."""
        legacy_lookups.warn_legacy("dataset.backed()", "collection.data_artifact.open()")
        artifact = self.data_artifact
        if artifact is None:
            raise InvalidArgument(
                f"{self._what()} holds several artifacts; open each one, or use .open() for table shards"
            )
        link_collection_input(self, is_run_input)
        return artifact.open(is_run_input=is_run_input)

    def append(self, artifact: Artifact) -> Collection:
        """A new version of this collection with `artifact` added at the end; save it to keep it."""
        if not isinstance(artifact, Artifact):
            raise InvalidArgument(f"append() takes an Artifact, not {type(artifact).__name__}")
        self._require_saved("append to")
        return Collection(
            [*self.ordered_artifacts, artifact],
            key=self.key,
            description=self.description,
            meta_artifact=self.meta_artifact,
            revises=self,
        )

    # --- reading ----------------------------------------------------------------------------------

    def _shards(self, action: str, is_run_input: bool | None) -> list[Any]:
        self._require_saved(action)
        artifacts = self.ordered_artifacts  # read before a run's input link may turn self into a copy
        link_collection_input(self, is_run_input)
        return artifacts

    def _what(self) -> str:
        return f"collection {self.key or self.description!r} ({self.uid})"

    def load(self, join: str = "outer", is_run_input: bool | None = None, **kwargs: Any) -> Any:
        """All artifacts as one object: DataFrames concatenated by pandas, AnnData and MuData with
        their own `concat` (an `artifact_uid` column names each observation's artifact)."""
        artifacts = self._shards("load", is_run_input)
        return many.load_many(artifacts, join=join, what=self._what(), is_run_input=is_run_input, **kwargs)

    def open(self, engine: str = "pyarrow", is_run_input: bool | None = None, **kwargs: Any) -> Any:
        """The table shards as one `pyarrow.dataset.Dataset` (engine="polars": a `LazyFrame`), for
        queries with DuckDB, polars or pyarrow that never load the whole collection."""
        artifacts = self._shards("open", is_run_input)
        return many.open_many(
            artifacts, engine=engine, what=self._what(), is_run_input=is_run_input, **kwargs
        )

    def cache(self, is_run_input: bool | None = None) -> list[Path]:
        """Local paths of the artifacts, in order; cloud ones are downloaded once into the cache."""
        return many.cache_many(self._shards("cache", is_run_input), is_run_input=is_run_input)

    def mapped(
        self,
        layers_keys: str | list[str] | None = None,
        obs_keys: str | list[str] | None = None,
        obsm_keys: str | list[str] | None = None,
        obs_filter: dict[str, Any] | None = None,
        join: str | None = "inner",
        encode_labels: bool | list[str] = True,
        unknown_label: str | dict[str, str] | None = None,
        cache_categories: bool = True,
        parallel: bool = False,
        dtype: str | None = None,
        stream: bool = False,
        is_run_input: bool | None = None,
        **legacy: Any,
    ) -> Any:
        """A map-style dataset over the AnnData shards (h5ad, zarr) that a PyTorch `DataLoader` takes.

        Rows are read from the shards on demand (one sorted read per shard for a batch); variables
        are joined virtually (`join="inner"|"outer"`); obs labels are encoded as integers.

        Shards in the cloud are downloaded into the cache first, and then read from local disk. With
        `stream=True` they are read in place instead (h5ad through h5py over fsspec, zarr through
        zarr's fsspec store), nothing is cached, and each `DataLoader` worker opens them itself;
        every read of a row then waits on requests to the store, so random reads are far slower
        than from the cache: stream to train on collections too large for the local disk.
        """
        if "label_keys" in legacy:  # LaminDB 0.x's names
            legacy_lookups.warn_legacy("mapped(label_keys=...)", "mapped(obs_keys=...)")
            obs_keys = legacy.pop("label_keys") if obs_keys is None else obs_keys
        if "join_vars" in legacy:
            legacy_lookups.warn_legacy("mapped(join_vars=...)", "mapped(join='inner'|'outer'|None)")
            join_vars = legacy.pop("join_vars")
            join = "inner" if join_vars == "auto" else join_vars
        if legacy:
            raise InvalidArgument(f"mapped() got unknown arguments: {', '.join(sorted(legacy))}")
        artifacts = self._shards("map", is_run_input)
        return many.mapped_many(
            artifacts,
            what=self._what(),
            stream=stream,
            is_run_input=is_run_input,
            layers_keys=layers_keys,
            obs_keys=obs_keys,
            obsm_keys=obsm_keys,
            obs_filter=obs_filter,
            join=join,
            encode_labels=encode_labels,
            unknown_label=unknown_label,
            cache_categories=cache_categories,
            parallel=parallel,
            dtype=dtype,
        )

    def _describe_sections(self, tree: Any) -> None:
        members = self.ordered_artifacts
        branch = tree.add(f"[bold]Artifacts[/bold] ({len(members)})")
        for position, artifact in enumerate(members[:50]):
            name = artifact.key or artifact.description or ""
            branch.add(f"{position}: {artifact.uid} {escape(repr(name))} ({artifact.suffix or 'folder'})")
        if len(members) > 50:
            branch.add(f"… {len(members) - 50} more")
        if self.meta_artifact is not None:
            tree.add(
                f"[bold]Meta artifact[/bold] {self.meta_artifact.uid} {escape(repr(self.meta_artifact.key))}"
            )

    def view_lineage(self, return_graph: bool = False, **kwargs: Any) -> Any:
        """The upstream graph of runs and data that led here; returned, displayed, or written to a file."""

        self._require_saved("view the lineage of")
        digraph = graph.data_lineage(self)
        if return_graph:
            return digraph
        graph.show(digraph, f"lineage_{self.uid}")
        return None


latest_version_index("collection", 20)(Collection)


def _content_hash(members: list[Artifact]) -> str:
    """The same artifacts in the same order are the same collection."""
    digest = hashlib.md5("".join(m.hash or m.uid for m in members).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def _link_what_it_collects(members: list[Artifact], revises: Collection | None) -> None:
    """As in LaminDB: a run that collects artifacts (and revises a collection) read them; those the
    run made itself are not its inputs."""
    for member in members:
        link_input(member, None)
    if revises is not None:
        link_collection_input(revises, None)
