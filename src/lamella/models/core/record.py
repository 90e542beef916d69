"""The declarative base and the behaviour every registry shares (save, delete, filter, get, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

from sqlalchemy import (
    ForeignKey,
    Integer,
    MetaData,
    event,
    select,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    declared_attr,
    make_transient_to_detached,
    mapped_column,
    relationship,
)
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.decl_api import DeclarativeAttributeIntercept

from lamella._instance import state
from lamella._instance.hooks import hooks
from lamella._limits import show
from lamella._logging import logger
from lamella._query import legacy_lookups
from lamella._query.queryset import QuerySet
from lamella._query.relations import MODELS
from lamella._uid import base62
from lamella.errors import DoesNotExist, IntegrityError, InvalidArgument, NotConnected
from lamella.models.core import graphs as graph
from lamella.models.core.bulk import type_id_of
from lamella.models.core.columns import BigInt, JSONType, UTCDateTime, utcnow
from lamella.models.core.describe import describe_record, registry_overview
from lamella.models.core.field_checks import check_assignment, check_field
from lamella.models.core.field_checks import install as install_field_checks
from lamella.models.core.other_instances import bind_methods, check_assigned, remember_instance
from lamella.models.core.run_links import link_to_current_project
from lamella.models.core.value_matching import CanCurate

if TYPE_CHECKING:
    from lamella._query.queryset import QuerySet
    from lamella.models.core.instance_records import Branch, Space, User
    from lamella.models.lineage.lineage import Run


_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_PICKLED_INSTANCE = "_lamella_instance_name"


class _Registry(DeclarativeAttributeIntercept):
    """The registries' metaclass: `ln.Artifact` shows its fields (as LaminDB's registries do)."""

    def __repr__(cls) -> str:
        return registry_overview(cls)

    def __str__(cls) -> str:  # messages that name a registry keep it short
        return type.__repr__(cls)


class Base(DeclarativeBase, metaclass=_Registry):
    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map = {dict[str, Any]: JSONType(), Any: JSONType()}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        MODELS[cls.__name__] = cls
        # a record read from another instance works there (models/core/other_instances.py)
        bind_methods(cls)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled, a record of another instance names it; unpickled, it reads there again."""
        values = self.__dict__.copy()
        other = values.pop(state.RECORD_KEY, None)
        if other is not None:
            values[_PICKLED_INSTANCE] = other.config.name
        return values

    def __setstate__(self, values: dict[str, Any]) -> None:
        name = values.pop(_PICKLED_INSTANCE, None)
        self.__dict__.update(values)
        if name is not None:
            self.__dict__[state.RECORD_KEY] = hooks.open_other(name)

    if not TYPE_CHECKING:  # mypy would stop checking attribute names of every registry

        def __setattr__(self, key: str, value: Any) -> None:
            if key == "_sa_instance_state":  # SQLAlchemy's bookkeeping, set on every new object
                object.__setattr__(self, key, value)
                return
            if isinstance(value, Base):  # a relation stays inside one instance
                check_assigned(self, key, value)
            # a bad value fails where it is assigned, naming the field (models/core/field_checks.py)
            super().__setattr__(key, check_assignment(type(self), key, value))


install_field_checks(Base)
event.listen(Base, "load", remember_instance, propagate=True)


class SQLRecord(CanCurate, Base):
    """A registry: a table whose rows users create, query, describe and delete."""

    __abstract__ = True

    _uid_length: ClassVar[int] = 12
    _name_field: ClassVar[str | None] = None  # named registries return the existing record for a name
    _search_fields: ClassVar[tuple[str, ...]] = ("name", "description")
    _repr_fields: ClassVar[tuple[str, ...]] = ("uid", "name")
    _relations: ClassVar[dict[str, Any]] = {}
    _field_aliases: ClassVar[dict[str, str]] = {}

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)

    # --- construction ---------------------------------------------------------------------------

    def __init__(self, **kwargs: Any) -> None:
        if self.__dict__.pop("_lamella_existing", False):
            return  # __new__ returned a record that is already in the database
        self._apply_kwargs(kwargs)

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        if (
            cls._name_field is not None
            and not kwargs.get("_skip_existing_check", False)
            and state.process.creation.search_names  # False: `.save()` still finds the saved record
        ):
            name = args[0] if args else kwargs.get(cls._name_field)
            if isinstance(name, str):
                check_field(cls, cls._name_field, name)  # before it is used in the name lookup
                existing = cls._find_existing_by_name(name, kwargs, warn=True)
                if existing is not None:
                    existing.__dict__["_lamella_existing"] = True
                    return existing
        return super().__new__(cls)

    @classmethod
    def _find_existing_by_name(cls, name: str, kwargs: dict[str, Any], warn: bool = False) -> Self | None:
        """The saved record named `name`; with `warn`, says so, and names a record whose name differs
        only in case or surrounding spaces (a likely duplicate in the making)."""

        record_type = kwargs.get("type")
        if (
            record_type is not None
            and "type" in cls.__mapper__.relationships
            and not isinstance(record_type, cls)
        ):
            raise InvalidArgument(
                f"{cls.__name__}(type=...) takes a {cls.__name__} that is a type (is_type=True), not "
                f"{record_type!r} ({type(record_type).__name__})"
            )
        type_id = record_type.id if record_type is not None else kwargs.get("type_id")
        instance = state.current()
        session = instance.db.session()
        record_id, similar = lookup_id_by_name(session, instance.db.dialect, cls, name, type_id)
        if record_id is None:
            if warn and similar is not None:
                logger.warning(
                    f"{cls.__name__} {similar!r} exists, a name like {name!r}: did you mean it? "
                    f"Get it with ln.{cls.__name__}.get({cls._name_field}={similar!r})"
                )
            return None
        if warn:
            logger.warning(f"returning the existing {cls.__name__} named {name!r}")
        return session.get(cls, record_id)

    def _apply_kwargs(self, kwargs: dict[str, Any]) -> None:
        kwargs.pop("_skip_existing_check", None)
        table_columns = self.__table__.c
        relationships = self.__mapper__.relationships
        model = type(self)
        values = self.__dict__
        # A record the ORM does not track yet takes its column values straight into its state,
        # which the INSERT reads: the ORM's attribute events cost more than the check (bulk saves).
        untracked = instance_state(self).key is None
        for key, value in kwargs.items():
            if key not in table_columns and key not in relationships:
                key = self._field_aliases.get(key, key)
            if key in table_columns:
                if untracked:
                    values[key] = check_field(model, key, value)
                else:
                    setattr(self, key, value)  # checked as it is assigned (Base.__setattr__)
            elif key in relationships:
                setattr(self, key, _check_related(type(self), relationships[key], value))
            else:
                valid = sorted({*table_columns.keys(), *relationships.keys()} - {"id"})
                raise InvalidArgument(
                    f"{type(self).__name__}() got an unknown field {key!r}; valid fields: {', '.join(valid)}"
                )
        if "uid" in table_columns:
            if untracked:
                if values.get("uid") is None:
                    values["uid"] = self._new_uid()  # made here, valid by construction
            elif getattr(self, "uid", None) is None:
                self.uid = self._new_uid()

    @classmethod
    def _new_uid(cls) -> str:
        return base62(cls._uid_length)

    # --- identity -------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other):
            return NotImplemented
        mine, theirs = self.__dict__.get("id"), other.__dict__.get("id")
        return mine is not None and mine == theirs and state.instance_of(self) is state.instance_of(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.__dict__.get("uid") or id(self)))

    def __repr__(self) -> str:
        parts = []
        for field in self._repr_fields:
            value = self.__dict__.get(field)
            if value is not None:
                parts.append(f"{field}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # --- queries (class level) ------------------------------------------------------------------

    @classmethod
    def using(cls, instance: str | None = None) -> QuerySet[Self]:
        """The records of another instance registered on this machine, read-only: by name or
        "owner/name" (`lamella list`). Its records load, cache and describe themselves from there;
        `record.save()` copies one into the connected instance. None: the connected instance."""

        if instance is None:
            return QuerySet(cls)
        if not isinstance(instance, str):
            raise InvalidArgument(
                f"using() takes an instance name or 'owner/name', not {instance!r} ({type(instance).__name__})"
            )
        return cls._using(hooks.open_other(instance))

    @classmethod
    def _using(cls, other: state.Instance) -> QuerySet[Self]:
        """A QuerySet of `other`, an instance opened by `hooks.open_other` (or the connected one)."""
        if not other.other:
            return QuerySet(cls)
        table = getattr(cls, "__tablename__", None)
        if table is None:
            raise InvalidArgument(f"{cls.__name__} is not a registry; use a registry such as ln.Artifact")
        if not other.has_table(table):
            module = table.split("_", 1)[0]
            raise NotConnected(
                f"instance {other.slug!r} does not use the module {module!r}, so it has no {cls.__name__} records"
            )
        return QuerySet(cls, other)

    @classmethod
    def filter(cls, *queries: Any, **expressions: Any) -> QuerySet[Self]:

        return QuerySet(cls).filter(*queries, **expressions)

    @classmethod
    def exclude(cls, *queries: Any, **expressions: Any) -> QuerySet[Self]:

        return QuerySet(cls).exclude(*queries, **expressions)

    @classmethod
    def all(cls) -> QuerySet[Self]:

        return QuerySet(cls)

    @classmethod
    def get(cls, idlike: int | str | None = None, **expressions: Any) -> Self:

        return QuerySet(cls).get(idlike, **expressions)

    @classmethod
    def to_dataframe(cls, include: Any = None, **kwargs: Any) -> Any:

        return QuerySet(cls).to_dataframe(include=include, **kwargs)

    df = legacy_lookups.RenamedMethod("to_dataframe")

    @classmethod
    def search(
        cls, text: str, *, field: str | list[str] | None = None, limit: int | None = 20
    ) -> QuerySet[Self]:

        return QuerySet(cls).search(text, field=field, limit=limit)

    @classmethod
    def lookup(cls, field: str | None = None) -> Any:

        return QuerySet(cls).lookup(field)

    # --- writes ---------------------------------------------------------------------------------

    def _fill_defaults(self, instance: Any) -> None:
        """Set created_by and run from the current user and run before the first insert."""
        table_columns = self.__table__.c
        values = self.__dict__
        # a record the ORM does not track yet takes them straight into its state, which its INSERT
        # reads (as in _apply_kwargs): `ln.save` of 100,000 artifacts spent 2 s in attribute events here
        untracked = instance_state(self).key is None

        def put(field: str, value: Any) -> None:
            if untracked:
                values[field] = value
            else:
                setattr(self, field, value)

        if (
            "created_by_id" in table_columns
            and values.get("created_by_id") is None
            and values.get("created_by") is None
        ):
            put("created_by_id", instance.user_id)
        if (
            "run_id" in table_columns
            and values.get("run_id") is None
            and values.get("run") is None
            and not values.get("_skip_run")
        ):
            run = state.current_run()
            if run is not None:
                put("run_id", run.id)
        follows_run = getattr(self, "_follows_run_branch", False)  # ln.track(branch=..., space=...)
        if "branch_id" in table_columns and values.get("branch_id") is None:
            put("branch_id", state.current_branch_id() if follows_run else state.MAIN_BRANCH)
        if "space_id" in table_columns and values.get("space_id") is None:
            put("space_id", state.current_space_id() if follows_run else state.ALL_SPACE)

    def _lock_names(self) -> tuple[str, ...]:
        return (f"lamella:{self.__tablename__}",)

    def save(self, *args: Any, **kwargs: Any) -> Self:
        """Insert or update this record; returns the saved record (an existing one for a known name)."""

        instance = state.current()
        with instance.db.write(*self._lock_names()) as session:
            inserting = self.__dict__.get("id") is None
            if inserting:
                existing = self._existing_under_lock()
                if existing is not None:
                    self._become_saved_as(existing)
                    return existing
                self._fill_defaults(instance)
                self._before_insert(session)
            else:
                self._require_in_database(session, "save")
                if "updated_at" in self.__table__.c:
                    setattr(self, "updated_at", utcnow())
            if instance_state(self).detached:
                session.merge(self)  # a copy of a saved record (see _become_saved_as): update that one
            else:
                session.add(self)
            session.flush()
            if inserting:
                link_to_current_project([self])
        self._after_save()
        return self

    def _become_saved_as(self, existing: SQLRecord) -> None:
        """This unsaved record turned out to be `existing` (same content, or same name): it takes that
        record's identity and fields, so the variable that holds it is saved, as LaminDB users expect.

        The session keeps `existing`; this object becomes a detached copy with every field and to-one
        relation loaded. Reading works as on `existing`; `save()` after a change merges it into the
        session's copy.
        """
        if existing is self or instance_state(self).key is not None:
            return
        mapper = type(self).__mapper__
        values = self.__dict__
        for attribute in mapper.column_attrs:
            values[attribute.key] = getattr(existing, attribute.key)
        for relationship_ in mapper.relationships:
            if not relationship_.uselist:
                set_committed_value(self, relationship_.key, getattr(existing, relationship_.key))
        make_transient_to_detached(self)

    def _existing_under_lock(self) -> Self | None:
        """A concurrent process may have created the same named record since construction."""
        if self._name_field is None:
            return None
        name = self.__dict__.get(self._name_field)
        if not isinstance(name, str):
            return None
        return type(self)._find_existing_by_name(name, {"type_id": type_id_of(self)})

    def _before_insert(self, session: Any) -> None:
        """Hook for registries that compute fields at insert time (versions, hashes)."""

    def _after_save(self) -> None:
        """Hook run after a successful commit."""

    def delete(self, permanent: bool | None = None) -> None:
        """Move to the trash; delete for good if already in the trash or `permanent=True`."""

        self._require_saved("delete")
        in_trash = self.__dict__.get("branch_id") == -1
        if "branch_id" in self.__table__.c and not permanent and not in_trash:
            with state.current().db.write(*self._lock_names()) as session:
                self._require_in_database(session, "move to the trash")
                setattr(self, "branch_id", -1)
                self._on_trash(session)
                session.add(self)
            return
        self._delete_permanently()

    def _on_trash(self, session: Any) -> None:
        """Hook: what else changes when a record moves to the trash (e.g. the latest version)."""

    def _on_delete_permanently(self, session: Any) -> None:
        """Hook: what else changes when a record is deleted for good (e.g. the latest version)."""

    def _delete_permanently(self) -> None:

        described = repr(self)  # a failed write expires the object; name it while we can
        try:
            with state.current().db.write(*self._lock_names()) as session:
                self._require_in_database(session, "delete")
                self._on_delete_permanently(session)
                session.delete(self)
        except IntegrityError as e:
            raise IntegrityError(
                f"cannot delete {described}: other records still point at it "
                f"({getattr(e.__cause__, 'orig', e)}); delete or relink those first"
            ) from e

    def restore(self) -> None:
        """Bring a record back from the trash."""

        self._require_saved("restore")
        with state.current().db.write(*self._lock_names()) as session:
            self._require_in_database(session, "restore")
            setattr(self, "branch_id", 1)
            session.add(self)
            session.flush()
            self._on_restore(session)

    def _on_restore(self, session: Any) -> None:
        """Hook run inside the restore transaction."""

    def _require_saved(self, action: str) -> None:
        if self.__dict__.get("id") is None:
            raise InvalidArgument(
                f"cannot {action} {type(self).__name__} that was never saved; call .save() first"
            )

    def _require_in_database(self, session: Any, action: str) -> None:
        """Inside a write: the row may have been deleted (by another process) since it was loaded."""

        table = self.__table__
        record_id = self.__dict__.get("id")
        uid = self.__dict__.get("uid")  # gone if an earlier failed write expired the record
        same_row = [table.c.id == record_id]
        if uid is not None and "uid" in table.c:  # SQLite hands a deleted last id to the next insert
            same_row.append(table.c.uid == uid)
        if session.execute(select(table.c.id).where(*same_row)).first() is None:
            described = uid if uid is not None else f"with id {record_id}"
            raise DoesNotExist(
                f"cannot {action} {type(self).__name__} {described}: it was deleted by another process "
                f"after it was loaded; query it again to see the current records"
            )

    # --- display --------------------------------------------------------------------------------

    def describe(self) -> None:
        describe_record(self)

    def _describe_sections(self, tree: Any) -> None:
        """Sections `describe()` adds after the general fields; registries with more to show override it."""

    def view_parents(
        self,
        field: str | None = None,
        with_children: bool = False,
        distance: int = 5,
        return_graph: bool = False,
    ) -> Any:
        """The record's ancestors in its hierarchy (registries with `parents`: ULabel, Record, Project,
        the ontology registries), up to `distance` levels; `with_children` adds its direct children."""

        if "parents" not in self._relations:
            raise InvalidArgument(
                f"{type(self).__name__} has no hierarchy; view_parents() works for registries with parents "
                f"(ULabel, Record, Project, ontology terms); transforms and data have view_lineage()"
            )
        self._require_saved("view the parents of")
        digraph = graph.parents_graph(self, field=field, distance=distance, with_children=with_children)
        if return_graph:
            return digraph
        graph.show(digraph, f"parents_{self.uid}")
        return None


def _check_related(model: type, relationship: Any, value: Any) -> Any:
    """A to-one field takes a record of its registry (or None), not an id or a name."""
    if value is None or relationship.uselist:
        return value
    target = relationship.mapper.class_
    if not isinstance(value, target):
        raise InvalidArgument(
            f"{model.__name__}.{relationship.key} takes a {target.__name__} record, got {show(value)} "
            f"({type(value).__name__}); pass the record, or its id as {relationship.key}_id="
        )
    return value


_NAME_LOOKUP_SQL: dict[tuple[str, str], str] = {}


def lookup_id_by_name(
    session: Any, dialect: str, model: Any, name: str, type_id: int | None
) -> tuple[int | None, str | None]:
    """(the id of the record named `name` within `type_id` in the main branch (or the current run's
    branch, `ln.track(branch=...)`), or None; the name of a record whose name differs only in case or
    surrounding spaces, or None).

    Constructors of named registries run this for every new object, so it goes straight to the
    driver with a prepared statement instead of through the ORM: bulk creation of 10,000 labels
    pays microseconds per label, not a full ORM query. The near names are a fixed set of spellings
    (lower, upper, capitalized, stripped), so the name index answers.
    """
    table = model.__table__
    sql = _NAME_LOOKUP_SQL.get((table.name, dialect))
    if sql is None:
        marker = "?" if dialect == "sqlite" else "%s"
        markers = ", ".join([marker] * len(_spellings("x")))
        conditions = [f"{model._name_field} IN ({markers})"]
        if "type_id" in table.c:
            conditions.append(
                f"type_id IS {marker}" if dialect == "sqlite" else f"type_id IS NOT DISTINCT FROM {marker}"
            )
        if "branch_id" in table.c:
            conditions.append(f"branch_id IN (1, {marker})")
        branch = "branch_id" if "branch_id" in table.c else "1"
        # ordered here, not by the database: its sort step costs more than sorting the few rows found
        sql = f'SELECT id, {model._name_field}, {branch} FROM "{table.name}" WHERE {" AND ".join(conditions)}'
        _NAME_LOOKUP_SQL[(table.name, dialect)] = sql
    spellings = _spellings(name)
    params: tuple[Any, ...] = (*spellings, type_id) if "type_id" in table.c else tuple(spellings)
    if "branch_id" in table.c:
        params += (state.current_branch_id() if getattr(model, "_follows_run_branch", False) else 1,)
    connection = session.connection()
    if dialect == "sqlite":
        rows = connection.connection.driver_connection.execute(sql, params).fetchall()
    else:
        rows = connection.exec_driver_sql(sql, params).fetchall()
    if len(rows) > 1:
        rows.sort(key=lambda row: row[2])  # main's record first, then the run's branch
    similar = None
    for row_id, row_name, _branch in rows:
        if row_name == name:
            return int(row_id), None
        similar = row_name
    return None, similar


def _spellings(name: str) -> list[str]:
    stripped = name.strip()
    return [name, stripped.lower(), stripped.upper(), stripped.capitalize(), stripped]


class HasCreatedAt:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class TracksUpdates:
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TracksCreator:
    created_by_id: Mapped[int] = mapped_column(BigInt, ForeignKey("user.id"))  # few values: not indexed

    @declared_attr
    def created_by(cls) -> Mapped[User]:
        return relationship("User", foreign_keys=f"{cls.__name__}.created_by_id", lazy="select")  # type: ignore[attr-defined]


class TracksRun(TracksCreator):
    run_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("run.id"), index=True)

    @declared_attr
    def run(cls) -> Mapped[Run | None]:
        return relationship("Run", foreign_keys=f"{cls.__name__}.run_id", lazy="select")  # type: ignore[attr-defined]


class InBranch:
    # records a run saves go to its branch and space (`ln.track(branch=..., space=...)`); lineage
    # registries (Transform, Run) say False and stay on main, where queries see them
    _follows_run_branch: ClassVar[bool] = True

    branch_id: Mapped[int] = mapped_column(Integer, ForeignKey("branch.id"), default=1)
    space_id: Mapped[int] = mapped_column(Integer, ForeignKey("space.id"), default=1)

    @declared_attr
    def branch(cls) -> Mapped[Branch]:
        """The branch the record is on: main, archive, trash, or one users made (`ln.Branch`)."""
        return relationship("Branch", foreign_keys=f"{cls.__name__}.branch_id", lazy="select")  # type: ignore[attr-defined]

    @declared_attr
    def space(cls) -> Mapped[Space]:
        return relationship("Space", foreign_keys=f"{cls.__name__}.space_id", lazy="select")  # type: ignore[attr-defined]


__all__ = [
    "Base",
    "HasCreatedAt",
    "InBranch",
    "SQLRecord",
    "TracksCreator",
    "TracksRun",
    "TracksUpdates",
    "type_id_of",
]
