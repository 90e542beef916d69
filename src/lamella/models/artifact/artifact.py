"""Artifacts: files, folders and in-memory datasets stored, hashed, versioned and described."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import DDL, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.orm.exc import ObjectDeletedError

from lamella import _storage
from lamella._gc import gc_paused
from lamella._instance import state
from lamella._instance.hooks import hooks
from lamella._logging import logger
from lamella._query import legacy_lookups
from lamella._query.relations import ManyToMany
from lamella._storage import staging
from lamella.errors import DoesNotExist, InvalidArgument, PathNotFound
from lamella.models.artifact import many
from lamella.models.artifact.access import artifact_path, cache_artifact, load_artifact, open_artifact
from lamella.models.artifact.describe import describe_artifact
from lamella.models.artifact.family import check_key_change, reconcile_restored
from lamella.models.artifact.source import artifact_source, describe_source, discard_staged, folder_sources
from lamella.models.artifact.store import delete_artifact_permanently, save_many, save_new_artifact
from lamella.models.artifact.write_once import stage
from lamella.models.core import graphs as graph
from lamella.models.core.columns import BigInt
from lamella.models.core.record import HasCreatedAt, InBranch, SQLRecord, TracksRun, TracksUpdates
from lamella.models.core.run_links import INTERNAL_KIND_PREFIX
from lamella.models.core.versioning import IsVersioned, latest_version_index
from lamella.models.features.has_features import HasFeatures

if TYPE_CHECKING:
    from pathlib import Path

    from lamella.models.artifact.source import Source
    from lamella.models.core.instance_records import Storage
    from lamella.models.lineage.lineage import Transform
    from lamella.models.schema.schema import Schema

ARTIFACT_KINDS = ("dataset", "model")


class Artifact(HasFeatures, IsVersioned, SQLRecord, HasCreatedAt, TracksUpdates, TracksRun, InBranch):
    """A file, folder or in-memory dataset, stored in local or S3 storage, hashed and versioned.

    >>> ln.Artifact("./data/sample.fastq", key="raw/sample.fastq").save()
    >>> ln.Artifact.from_dataframe(df, key="tables/counts.parquet").save()

    A folder is stored with every file inside it. Symlinks that lead to a file or folder inside the
    folder are followed (stored as regular files); symlinks that lead outside it, dangling links and
    link cycles are left out with a warning naming each, and a folder of nothing else is refused.
    `hash`, `size` and `n_files` describe exactly the files stored (see `lamella._storage.tree`).
    """

    __tablename__ = "artifact"
    _uid_length = 20
    _repr_fields = (
        "uid",
        "key",
        "description",
        "suffix",
        "kind",
        "otype",
        "size",
        "hash",
        "n_files",
        "n_observations",
        "version_tag",
        "is_latest",
    )
    _search_fields = ("key", "description")
    _field_aliases: ClassVar[dict[str, str]] = {}
    _legacy_fields: ClassVar[dict[str, str]] = {"name": "description"}  # _query/legacy_lookups.py

    uid: Mapped[str] = mapped_column(String(20), unique=True, index=True)
    key: Mapped[str | None] = mapped_column(String(1024))  # indexed with branch and kind, below
    description: Mapped[str | None] = mapped_column(Text)
    # not indexed: a handful of values; without statistics SQLite would pick it over the key index
    storage_id: Mapped[int] = mapped_column(BigInt, ForeignKey("storage.id"))
    suffix: Mapped[str] = mapped_column(String(30), default="")
    kind: Mapped[str | None] = mapped_column(String(20))
    otype: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger, index=True)
    hash: Mapped[str | None] = mapped_column(String(22), index=True)
    n_files: Mapped[int | None] = mapped_column(Integer)
    n_observations: Mapped[int | None] = mapped_column(BigInteger)
    transform_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("transform.id"), index=True)
    schema_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("schema.id"), index=True)
    _key_is_virtual: Mapped[bool] = mapped_column(Boolean, default=True)
    _hash_type: Mapped[str | None] = mapped_column(String(30))

    storage: Mapped[Storage] = relationship("Storage", foreign_keys=[storage_id], lazy="select")
    transform: Mapped[Transform | None] = relationship(
        "Transform", foreign_keys=[transform_id], lazy="select"
    )
    schema: Mapped[Schema | None] = relationship("Schema", foreign_keys=[schema_id], lazy="select")

    ulabels = ManyToMany("ULabel", "ArtifactULabel", "artifact_id", "ulabel_id")
    records = ManyToMany("Record", "ArtifactRecord", "artifact_id", "record_id")
    projects = ManyToMany("Project", "ArtifactProject", "artifact_id", "project_id")
    references = ManyToMany("Reference", "ArtifactReference", "artifact_id", "reference_id")
    collections = ManyToMany("Collection", "CollectionArtifact", "artifact_id", "collection_id")
    input_of_runs = ManyToMany("Run", "RunInputArtifact", "artifact_id", "run_id")
    feature_sets = ManyToMany("Schema", "ArtifactSchema", "artifact_id", "schema_id")
    schemas = ManyToMany("Schema", "ArtifactSchema", "artifact_id", "schema_id")  # the same, newer name
    _feature_values = ManyToMany("FeatureValue", "ArtifactFeatureValue", "artifact_id", "featurevalue_id")

    # --- construction ---------------------------------------------------------------------------

    def __init__(
        self,
        data: Any = None,
        *,
        key: str | None = None,
        description: str | None = None,
        kind: str | None = None,
        revises: Artifact | None = None,
        run: Any = None,
        format: str | None = None,
        version: str | None = None,
        **kwargs: Any,
    ) -> None:
        if self.__dict__.pop("_lamella_existing", False):
            return
        if kwargs:
            kwargs = legacy_lookups.translate_arguments(Artifact, kwargs)
            description = kwargs.pop("description", None) if description is None else description
            revises = kwargs.pop("revises", None) if revises is None else revises
        if data is None:  # loading from the database or a plain field-by-field construction
            if key is not None:
                kwargs["key"] = key
            if description is not None:
                kwargs["description"] = description
            super().__init__(**kwargs)
            return

        if kind is not None and (
            not isinstance(kind, str)
            or (kind not in ARTIFACT_KINDS and not kind.startswith(INTERNAL_KIND_PREFIX))
        ):
            raise InvalidArgument(f"unknown artifact kind {kind!r}; use one of {', '.join(ARTIFACT_KINDS)}")
        if revises is not None:
            if not isinstance(revises, Artifact):
                raise InvalidArgument(f"revises= takes an Artifact, not {type(revises).__name__}")
            revises._require_saved("revise")
            state.check_same_instance(revises, None, "revises=")
            key = key if key is not None else revises.key
            description = description if description is not None else revises.description
        source = describe_source(data, key=key, format=format)
        if (
            key is None
            and description is None
            and run is None
            and source.in_storage is None
            and state.current_run() is None
        ):
            raise InvalidArgument(
                "an artifact needs a key, a description or a run: pass key='folder/name"
                f"{source.suffix}' or description='...', or call ln.track() first"
            )
        fields: dict[str, Any] = dict(
            key=source.key if source.key is not None else key,
            description=description,
            suffix=source.suffix,
            kind=kind
            if kind is not None
            else ("dataset" if source.otype in ("DataFrame", "AnnData", "MuData") else None),
            otype=source.otype,
            size=source.size,
            hash=source.hash,
            n_files=source.n_files,
            n_observations=source.n_observations,
            version_tag=version,
            is_latest=True,
            _key_is_virtual=source.in_storage is None,
            _hash_type=source.hash_type if source.hash else None,  # an S3 ETag (source.py)
            **kwargs,
        )
        if run is not None:
            fields["run"] = run
        super().__init__(**fields)
        if run is None and not (kind or "").startswith(INTERNAL_KIND_PREFIX):
            _warn_missing_run()
        self.__dict__["_source"] = source
        self.__dict__["_revises"] = revises
        if source.memory is not None:  # every argument is checked: only now are bytes written
            _stage(self, source)

    @classmethod
    def from_dataframe(
        cls,
        df: Any,
        *,
        key: str | None = None,
        description: str | None = None,
        revises: Artifact | None = None,
        run: Any = None,
        schema: Any = None,
        format: str | None = None,
        **kwargs: Any,
    ) -> Artifact:
        """A DataFrame stored as parquet (or `format="csv"`)."""
        if type(df).__name__ != "DataFrame":
            raise InvalidArgument(f"from_dataframe() takes a pandas DataFrame, not {type(df).__name__}")
        curator = _validated("DataFrameCurator", df, schema)  # before the DataFrame is written and hashed
        artifact = cls(
            df, key=key, description=description, revises=revises, run=run, format=format, **kwargs
        )
        with _discard_staged_on_error(artifact):
            return artifact._annotate_on_save(curator)

    from_df = legacy_lookups.RenamedMethod("from_dataframe")

    @classmethod
    def from_anndata(
        cls,
        adata: Any,
        *,
        key: str | None = None,
        description: str | None = None,
        revises: Artifact | None = None,
        run: Any = None,
        schema: Any = None,
        format: str | None = None,
        **kwargs: Any,
    ) -> Artifact:
        """An AnnData stored as h5ad, or as zarr with `format="zarr"`."""
        if type(adata).__name__ != "AnnData":
            raise InvalidArgument(f"from_anndata() takes an AnnData object, not {type(adata).__name__}")
        curator = _validated("AnnDataCurator", adata, schema)  # before the AnnData is written and hashed
        artifact = cls(
            adata, key=key, description=description, revises=revises, run=run, format=format, **kwargs
        )
        with _discard_staged_on_error(artifact):
            return artifact._annotate_on_save(curator)

    @classmethod
    def from_mudata(
        cls,
        mdata: Any,
        *,
        key: str | None = None,
        description: str | None = None,
        revises: Artifact | None = None,
        run: Any = None,
        schema: Any = None,
        **kwargs: Any,
    ) -> Artifact:
        """A MuData stored as h5mu; with `schema=`, validated (each modality) before it is written."""
        if type(mdata).__name__ != "MuData":
            raise InvalidArgument(f"from_mudata() takes a MuData object, not {type(mdata).__name__}")
        curator = _validated("MuDataCurator", mdata, schema)
        artifact = cls(mdata, key=key, description=description, revises=revises, run=run, **kwargs)
        with _discard_staged_on_error(artifact):
            return artifact._annotate_on_save(curator)

    def _annotate_on_save(self, curator: Any) -> Artifact:
        """Link the curator's schema now, its feature sets and labels once the artifact is saved."""
        if curator is not None:
            self.schema = curator.schema
            self.__dict__["_lamella_curator"] = curator
        return self

    @classmethod
    def from_dir(cls, path: Any, *, key: str | None = None, run: Any = None) -> list[Artifact]:
        """One artifact per file in a folder (recursively), from one listing of it.

        Keys are `key/<relative path>` (`key` defaults to the folder's name). Files that lie in a
        storage already (any cloud prefix, a local folder inside a storage) are registered in place
        under their keys there, which `key` cannot change. On S3 nothing is asked per object: sizes
        and ETag hashes come from the listing, so `ln.save()` reads no object whose ETag is an md5.
        """

        root = _storage.to_path(path)
        cloud = _storage.is_cloud(str(root))
        if not cloud:  # a cloud prefix is listed first: no request before the listing
            _require_folder(root)
        with gc_paused():  # many long-lived objects: no collection walks them while they are made
            return _from_listing(cls, root, cloud, key, run)

    # --- writes ---------------------------------------------------------------------------------

    def _lock_names(self) -> tuple[str, ...]:
        return ("lamella:artifact",)

    def _fill_defaults(self, instance: Any) -> None:
        internal = (self.kind or "").startswith(INTERNAL_KIND_PREFIX)
        if internal and self.__dict__.get("run_id") is None and self.__dict__.get("run") is None:
            self.__dict__["_skip_run"] = True
        if internal:  # reports and environments are lineage: on main, whatever branch the run uses
            for field, default in (("branch_id", state.MAIN_BRANCH), ("space_id", state.ALL_SPACE)):
                if self.__dict__.get(field) is None:
                    setattr(self, field, default)
        super()._fill_defaults(instance)

    def save(self, *args: Any, upload: bool | None = None, **kwargs: Any) -> Artifact:
        """Store the bytes (copy or upload into the instance's storage) and insert the record, atomically."""
        if self.__dict__.get("id") is not None:
            return super().save()

        curator = self.__dict__.pop("_lamella_curator", None)  # from_dataframe(..., schema=) or a curator
        try:
            saved = save_new_artifact(self)
        except BaseException:
            if curator is not None:
                self.__dict__["_lamella_curator"] = curator
            raise
        if curator is not None:
            curator._annotate(saved)
        return saved

    @classmethod
    def _save_many(cls, artifacts: list[Artifact]) -> list[Artifact]:
        """`ln.save(artifacts)`: their bytes first, then their records."""
        return save_many(artifacts)

    def _on_trash(self, session: Any) -> None:
        IsVersioned._on_trash(self, session)

    def _on_restore(self, session: Any) -> None:

        IsVersioned._on_restore(self, session)
        reconcile_restored(self, session)

    @validates("key")
    def _validate_key_change(self, _field: str, value: str | None) -> str | None:
        """A saved artifact's new key is checked when assigned (again, with the database, at save)."""
        if self.__dict__.get("id") is not None:
            check_key_change(self, value, None)
        return value

    def delete(self, permanent: bool | None = None, storage: bool | None = None) -> None:
        """Move to the trash; `permanent=True` also deletes the stored bytes Lamella manages."""

        self._require_saved("delete")
        if permanent or self._current_branch() == -1:
            delete_artifact_permanently(self, delete_bytes=storage)
            return
        super().delete()

    def _current_branch(self) -> int | None:
        """The branch, reloaded if an earlier failed write expired it; DoesNotExist if the row is gone."""

        try:
            return self.branch_id
        except ObjectDeletedError as e:
            raise DoesNotExist(
                f"cannot delete Artifact with id {self.__dict__.get('id')}: it was deleted by another "
                f"process after it was loaded; query it again to see the current records"
            ) from e

    # --- access ---------------------------------------------------------------------------------

    @property
    def path(self) -> Any:
        """Where the bytes are: a pathlib.Path for local storage, an `ln.UPath` in the cloud; both with
        `view_tree()` and `download_to()`."""

        return artifact_path(self)

    def cache(self, **kwargs: Any) -> Path:
        """A local path to the bytes; cloud objects are downloaded once into `ln.settings.cache_dir`."""

        return cache_artifact(self, **kwargs)

    def load(self, **kwargs: Any) -> Any:
        """Load into memory (DataFrame, AnnData, dict, str, ...) by suffix."""

        return load_artifact(self, **kwargs)

    def open(self, **kwargs: Any) -> Any:
        """Stream without loading: a pyarrow dataset for parquet/csv, backed AnnData for h5ad/zarr."""

        return open_artifact(self, **kwargs)

    @classmethod
    def _load_many(cls, artifacts: list[Artifact], **kwargs: Any) -> Any:
        """`ln.Artifact.filter(...).load()`: the artifacts of a query as one object."""
        return many.load_many(artifacts, what="the artifacts of the query", **kwargs)

    def replace(self, data: Any) -> None:
        raise InvalidArgument(
            "replace() is not supported; save a new version with ln.Artifact(data, revises=artifact)"
        )

    def describe(self) -> None:

        describe_artifact(self)

    def view_lineage(self, return_graph: bool = False, **kwargs: Any) -> Any:
        """The upstream graph of runs and data that led here; returned, displayed, or written to a file."""

        self._require_saved("view the lineage of")
        digraph = graph.data_lineage(self)
        if return_graph:
            return digraph
        graph.show(digraph, f"lineage_{self.uid}")
        return None

    @property
    def n_objects(self) -> int | None:
        return self.n_files

    @classmethod
    def _default_where(cls) -> list[Any]:
        kind = cls.__table__.c.kind
        return [kind.is_(None) | ~kind.startswith(INTERNAL_KIND_PREFIX, autoescape=True)]

    def _require_saved(self, action: str) -> None:
        if self.__dict__.get("id") is None:
            raise InvalidArgument(f"cannot {action} an artifact that was never saved; call .save() first")


def _from_listing(cls: type[Artifact], root: Any, cloud: bool, key: str | None, run: Any) -> list[Artifact]:
    listed = folder_sources(root)
    if not listed:
        if cloud:
            _require_folder(root)
        return []
    first_rel, first = listed[0]
    if first.in_storage is not None and key is not None:
        folder_key = first.in_storage.key[: -len(first_rel) - 1]
        if key.rstrip("/") != folder_key:
            raise InvalidArgument(
                f"{root} lies in storage {first.in_storage.root} under key {folder_key!r}: its files "
                f"are registered in place under that key; drop key={key!r}"
            )
    prefix = key.rstrip("/") if key else root.name
    return [
        cls(source, key=None if source.in_storage is not None else f"{prefix}/{rel}", run=run)
        for rel, source in listed
    ]


def _require_folder(root: Any) -> None:
    if not _storage.exists(root):
        raise PathNotFound(f"no folder at {root}; from_dir() takes an existing folder")
    if not _storage.is_dir(root):
        raise InvalidArgument(f"from_dir() takes a folder, but {root} is a file; use ln.Artifact(path)")


def _warn_missing_run() -> None:
    """Once per process: an artifact made outside a run has no lineage (LaminDB warns at each one)."""
    process = state.process
    if process.warned_missing_run or process.creation.artifact_silence_missing_run_warning:
        return
    if state.current_run() is not None:
        return
    process.warned_missing_run = True
    logger.warning(
        "no run & transform got linked: call ln.track() (or run the code in an @ln.flow() function) to "
        "record where artifacts come from; silence this with "
        "ln.settings.creation.artifact_silence_missing_run_warning = True"
    )


latest_version_index("artifact", 20)(Artifact)
# key lookups and prefix counts with the default filters (main branch, no internal kinds) read only this
# index, never the table: `filter(key__startswith=...).count()` over 1,000,000 rows stays in milliseconds;
# with created_at, the newest page under a prefix is sorted from the index too
Index("ix_artifact_key_listing", Artifact.key, Artifact.branch_id, Artifact.kind, Artifact.created_at)
# PostgreSQL ranges `key LIKE 'x/%'` over an index only with the pattern operator class (or when the
# database's collation is "C", which few servers use); SQLite does over the index above, since every
# connection turns on case_sensitive_like. Emitted as DDL rather than declared: an operator class in
# the model would import SQLAlchemy's PostgreSQL dialect in every process, SQLite ones included.
KEY_PATTERN_INDEX = "ix_artifact_key_pattern"
event.listen(
    Artifact.__table__,
    "after_create",
    DDL(
        f"CREATE INDEX {KEY_PATTERN_INDEX} ON artifact (key varchar_pattern_ops, branch_id, kind, created_at) "
        "INCLUDE (id)"  # the ids of a prefix in the index itself, as SQLite's indexes hold their rowid
    ).execute_if(dialect="postgresql"),
)


@event.listens_for(Artifact, "before_update")
def _check_key_on_update(_mapper: Any, connection: Any, target: Artifact) -> None:
    """Every write of a changed key validates it, whatever set it (the last line of defence)."""

    check_key_change(target, target.key, connection)


def _validated(curator_name: str, data: Any, schema: Any) -> Any:
    """A curator of `data` that has validated against `schema` (raises ValidationError), or None."""
    if schema is None:
        return None
    curator = hooks.curator(curator_name)(data, schema)
    curator.validate()
    return curator


def _stage(artifact: Artifact, source: Source) -> None:
    """Write the in-memory data to its staged file, removed again when the artifact object goes away."""

    stage(source, artifact.uid)
    if source.staged is not None:  # None: written at the save, straight into cloud storage
        # garbage collection or interpreter exit; the save removes it or moves it into place earlier
        weakref.finalize(artifact, staging.discard, source.staged)
    artifact.size = source.size
    artifact.n_observations = source.n_observations
    if source.hash is not None:  # hashed as it was written (local storage)
        assert source.hash_type is not None
        recorded = _storage.folder_hash_type(source.hash_type) if source.is_dir else source.hash_type
        artifact.hash, artifact._hash_type = source.hash, recorded
    if source.n_files is not None:
        artifact.n_files = source.n_files


@contextmanager
def _discard_staged_on_error(artifact: Artifact) -> Iterator[None]:
    """A construction step that fails after the data is written: the caller never gets the artifact."""
    try:
        yield
    except BaseException:
        discard_staged(artifact_source(artifact))
        raise
