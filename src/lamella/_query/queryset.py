"""QuerySet: a lazy, chainable query over one registry, evaluated on iteration or a terminal call."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import func, literal, select
from sqlalchemy.sql import operators

from lamella._instance import state
from lamella._query import keyset, legacy_lookups, page_plans
from lamella._query.compiler import Subqueryable, compile_q, split_lookup, valid_fields
from lamella._query.dataframe import queryset_to_dataframe
from lamella._query.link_counts import count_through_links
from lamella._query.q import Q
from lamella._query.search import search_clauses
from lamella.errors import DoesNotExist, InvalidArgument, MultipleResultsFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lamella._instance.state import Instance

T = TypeVar("T")

# slices of up to this many rows (first(), one(), get()) are read in one statement; longer pages by id
_ROWS_READ_DIRECTLY = 2

# lookups that name one record, or a branch, switch off the default "main branch only" filter
_SEES_ALL_BRANCHES = {"id", "pk", "uid", "branch", "branch_id"}


class QuerySet(Subqueryable, Generic[T]):
    """`ln.Artifact.filter(key__startswith="x/").order_by("-created_at")[:10]`

    A QuerySet reads the connected instance, or the other instance it was made for
    (`ln.Artifact.using("name")`; made while working on a record of another instance, that one).
    """

    def __init__(self, model: type[T], instance: Instance | None = None) -> None:
        self.model: Any = model
        # an other instance (opened read-only by `.using()`), or None: the connected instance
        self._instance: Instance | None = instance if instance is not None else state.reading_other()
        self._where: list[Any] = []
        self._names: set[str] = set()
        self._all_branches = False
        self._order: list[Any] = []
        self._limit: int | None = None
        self._offset: int | None = None
        self._cache: list[T] | None = None

    # --- building -------------------------------------------------------------------------------

    def _clone(self) -> QuerySet[T]:
        clone: QuerySet[T] = QuerySet(self.model, self._instance)
        clone._where = list(self._where)
        clone._names = set(self._names)
        clone._all_branches = self._all_branches
        clone._order = list(self._order)
        clone._limit, clone._offset = self._limit, self._offset
        return clone

    def _add(self, queries: tuple[Any, ...], lookups: dict[str, Any], negate: bool) -> QuerySet[T]:
        if self._limit is not None or self._offset is not None:
            raise InvalidArgument("cannot filter a sliced QuerySet; filter first, then slice")
        clone = self._clone()
        lookups = legacy_lookups.translate(self.model, lookups)
        for branch_key in ("branch_id", "branch"):
            if branch_key in lookups and lookups[branch_key] is None:
                del lookups[branch_key]  # branch_id=None: every branch
                clone._all_branches = True
        q = Q(*queries, **lookups)
        for name in q.lookup_names():
            clone._names.add(split_lookup(name)[0][0])
        if q.children:
            with state.reading(self._instance):  # features named in lookups are the instance's own
                clone._where.append(compile_q(self.model, q, negate))
        return clone

    def filter(self, *queries: Any, **lookups: Any) -> QuerySet[T]:
        return self._add(queries, lookups, negate=False)

    def exclude(self, *queries: Any, **lookups: Any) -> QuerySet[T]:
        return self._add(queries, lookups, negate=True)

    def filter_expression(self, *conditions: Any) -> QuerySet[T]:
        """Add SQLAlchemy conditions directly (used by relation managers and version families)."""
        clone = self._clone()
        clone._where.extend(conditions)
        return clone

    def all(self) -> QuerySet[T]:
        return self._clone()

    def after(self, record: Any) -> QuerySet[T]:
        """The rows after `record` in this query's order: the next page, found by an index range.

        `qs.order_by("-created_at")[:50]`, then `qs.order_by("-created_at").after(last)[:50]` and so on
        stays as fast on the millionth page as on the first, where `[offset:]` walks past every row
        before it. The order's columns must not be NULL (created_at, id, uid, ...).
        """
        if self._limit is not None or self._offset is not None:
            raise InvalidArgument("cannot page a sliced QuerySet; call after() first, then slice")
        columns = self._order_columns()
        if not keyset.pages_by_key(columns):
            nullable = [c.column.key for c in columns if getattr(c.column, "nullable", True)]
            raise InvalidArgument(
                f"after() pages by the order's columns, and {', '.join(map(repr, nullable))} can be NULL; "
                f"order by columns that cannot (created_at, id, uid) or slice with [offset:]"
            )
        if not isinstance(record, self.model):
            raise InvalidArgument(
                f"after() takes a {self.model.__name__} this query returned, not {record!r}"
            )
        return self.filter_expression(keyset.after(columns, record))

    def iterator(self, chunk_size: int = 2000) -> Iterator[T]:
        """Every row, read `chunk_size` at a time (a page after the last row of the one before).

        Holds one chunk in memory, where iterating the QuerySet reads every row at once.
        """
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise InvalidArgument(f"iterator(chunk_size=...) takes a positive integer, not {chunk_size!r}")
        if (
            self._limit is not None
            or self._offset is not None
            or not keyset.pages_by_key(self._order_columns())
        ):
            start = 0
            while True:
                page = self[start : start + chunk_size]._fetch()
                yield from page
                if len(page) < chunk_size:
                    return
                start += chunk_size
        page = self[:chunk_size]._fetch()
        while True:
            yield from page
            if len(page) < chunk_size:
                return
            page = self.after(page[-1])[:chunk_size]._fetch()

    def _order_columns(self) -> list[keyset.OrderColumn]:
        return keyset.order_columns(self._order, self.model.__table__.c.id)

    def order_by(self, *fields: str) -> QuerySet[T]:
        clone = self._clone()
        clone._order = []
        for field in fields:
            if not isinstance(field, str):
                raise InvalidArgument(
                    f"order_by() takes field names such as 'created_at' or '-created_at', not {field!r}"
                )
            descending = field.startswith("-")
            name = field.lstrip("-")
            name = getattr(self.model, "_field_aliases", {}).get(name, name)
            if name not in self.model.__table__.c:
                raise InvalidArgument(
                    f"cannot order {self.model.__name__} by {name!r}; valid fields: "
                    f"{', '.join(valid_fields(self.model))}"
                )
            column = self.model.__table__.c[name]
            clone._order.append(column.desc() if descending else column.asc())
        return clone

    def _conditions(self) -> list[Any]:
        conditions = list(self._where)
        table_columns = self.model.__table__.c
        if "branch_id" in table_columns and not self._all_branches and not (self._names & _SEES_ALL_BRANCHES):
            branch = state.current_branch_id()  # inside a run on a branch: main and that branch
            conditions.append(
                table_columns.branch_id == 1 if branch == 1 else table_columns.branch_id.in_((1, branch))
            )
        default_where = getattr(self.model, "_default_where", None)
        if default_where is not None and not (self._names & {"id", "pk", "uid", "kind"}):
            conditions.extend(default_where())
        return conditions

    def _statement(self, *columns: Any) -> Any:
        id_column = self.model.__table__.c.id
        order = keyset.total_order(self._order, id_column)
        statement = select(*columns) if columns else select(self.model)
        is_page = bool(self._offset) or (self._limit or 0) > _ROWS_READ_DIRECTLY
        if is_page and list(columns) != [id_column]:
            # a page: its ids first, which indexes can find and sort without reading the table, then
            # only its rows (the table sorts whole rows, every column, to find the first 100 of 10,000)
            page = self._clone()
            page._order = order
            return statement.where(id_column.in_(page._statement(id_column).correlate(None))).order_by(*order)
        conditions = self._conditions()
        if self._limit is not None:  # a page: link filters in the shape each database pages fastest
            conditions = page_plans.steer(self._session(), id_column, conditions)
        statement = statement.where(*conditions).order_by(*order)
        if self._limit is not None:
            statement = statement.limit(self._limit)
        if self._offset is not None:
            statement = statement.offset(self._offset)
        return statement

    def id_subquery(self) -> Any:
        statement = select(self.model.__table__.c.id).where(*self._conditions())
        if self._limit is not None or self._offset is not None:
            statement = self._statement(self.model.__table__.c.id)
        return statement

    def _session(self) -> Session:

        return (self._instance or state.current()).db.session()

    def id_subquery_for(self, instance: Instance | None) -> Any:
        """`id_subquery()`, for a query of `instance`: both must read the same database."""
        if self._instance is not instance:
            where = f"instance {self._instance.slug!r}" if self._instance else "the connected instance"
            here = f"instance {instance.slug!r}" if instance else "the connected instance"
            raise InvalidArgument(
                f"a QuerySet of {where} cannot be used in a query of {here}: the ids differ between "
                f"instances; filter by a field both share (uid, key, name) instead"
            )
        return self.id_subquery()

    # --- evaluation -----------------------------------------------------------------------------

    def _fetch(self) -> list[T]:
        if self._cache is None:
            # populate_existing: a record this process loaded before comes back with the values in the
            # database now, which other processes may have changed (as a Django user expects)
            statement = self._statement().execution_options(populate_existing=True)
            self._cache = list(self._session().execute(statement).scalars().all())
        return self._cache

    def __iter__(self) -> Iterator[T]:
        return iter(self._fetch())

    def __len__(self) -> int:
        return len(self._fetch())

    def __bool__(self) -> bool:
        return bool(self._fetch())

    def __getitem__(self, item: int | slice) -> Any:
        if isinstance(item, slice):
            if not all(
                b is None or (isinstance(b, int) and not isinstance(b, bool)) for b in (item.start, item.stop)
            ):
                raise InvalidArgument(f"QuerySet slices take integer bounds, not {item!r}")
            if (
                item.step not in (None, 1)
                or (item.start or 0) < 0
                or (item.stop is not None and item.stop < 0)
            ):
                raise InvalidArgument("QuerySets support slices with non-negative bounds and no step")
            clone = self._clone()
            start = (self._offset or 0) + (item.start or 0)
            stop = None if item.stop is None else (self._offset or 0) + item.stop
            if self._limit is not None:
                end = (self._offset or 0) + self._limit
                stop = end if stop is None else min(stop, end)
            clone._offset = start or None
            clone._limit = None if stop is None else max(stop - start, 0)
            return clone
        if not isinstance(item, int) or isinstance(item, bool):
            raise InvalidArgument(
                f"a QuerySet is indexed by a position (int) or a slice, not {item!r} ({type(item).__name__}); "
                f"use .filter(...) to select by field"
            )
        if item < 0:
            raise InvalidArgument("negative indexing is not supported; order_by('-field') and take [0]")
        rows = self[item : item + 1]._fetch()
        if not rows:
            raise IndexError(f"QuerySet index {item} out of range")
        return rows[0]

    def count(self) -> int:
        if self._cache is not None:
            return len(self._cache)
        if self._limit is not None or self._offset is not None:
            statement = select(func.count()).select_from(
                self._statement(self.model.__table__.c.id).subquery()
            )
        else:
            statement = self._count_through_links()
            if statement is None:
                statement = select(func.count()).select_from(self.model.__table__).where(*self._conditions())
        return int(self._session().execute(statement).scalar_one())

    def _count_through_links(self) -> Any:
        """The count from link indexes alone, when every filter goes through links (`link_counts`)."""
        if self._all_branches or self._names & (_SEES_ALL_BRANCHES | {"kind"}):
            return None  # the links copy the branch of artifacts that default queries show
        if getattr(self.model, "_default_where", None) is None:
            return None
        branch = state.current_branch_id()
        branches = (1,) if branch == 1 else (1, branch)
        return count_through_links(self.model.__table__.c.id, self._where, branches)

    def estimate_count(self) -> int:
        """About how many rows match, at once: PostgreSQL's planner estimate, SQLite's exact count.

        `count()` is exact and reads every matching row's index entry; over ten million rows that
        takes seconds on PostgreSQL. The estimate comes from the table's statistics (ANALYZE, which
        autovacuum runs), so it is close for whole tables and plain filters and can be far off for
        rare combinations. Use it for "about 9.8 M artifacts" in an overview, `count()` for a number
        that must be right.
        """
        session = self._session()
        if session.get_bind().dialect.name != "postgresql" or self._cache is not None:
            return self.count()
        statement = self._statement(self.model.__table__.c.id)
        compiled = statement.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
        )
        plan = session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params)
        rows = plan.scalar_one()
        return int((rows if isinstance(rows, list) else json.loads(rows))[0]["Plan"]["Plan Rows"])

    def exists(self) -> bool:
        statement = select(literal(1)).select_from(self.model.__table__).where(*self._conditions()).limit(1)
        return self._session().execute(statement).first() is not None

    def first(self) -> T | None:
        rows = self[:1]._fetch()
        return rows[0] if rows else None

    def last(self) -> T | None:
        ordered = self if self._order else self.order_by("id")
        flipped = ordered._clone()
        flipped._order = [_reverse(clause) for clause in ordered._order]
        rows = flipped[:1]._fetch()
        return rows[0] if rows else None

    def one(self) -> T:
        rows = self[:2]._fetch()
        if not rows:
            raise DoesNotExist(f"no {self.model.__name__} matches this query")
        if len(rows) > 1:
            raise MultipleResultsFound(
                f"more than one {self.model.__name__} matches this query; add filters or use .first()"
            )
        return rows[0]

    def one_or_none(self) -> T | None:
        rows = self[:2]._fetch()
        if len(rows) > 1:
            raise MultipleResultsFound(f"more than one {self.model.__name__} matches this query")
        return rows[0] if rows else None

    def get(self, idlike: int | str | None = None, **lookups: Any) -> T:
        """One record by id, uid, stem uid (latest version) or lookups (latest version if several)."""
        model = self.model
        if idlike is not None:
            if isinstance(idlike, bool) or not isinstance(idlike, int | str):
                raise InvalidArgument(f"get() takes an id (int) or a uid (str), not {idlike!r}")
            if isinstance(idlike, int):
                return self.filter(id=idlike, **lookups)._get_one(f"id={idlike}")
            uid_length = getattr(model, "_uid_length", None)
            is_versioned = hasattr(model, "is_latest")
            if is_versioned and uid_length and len(idlike) == uid_length - 4:
                family = self.filter(uid__startswith=idlike, **lookups).order_by("-uid")
                latest = family.filter(is_latest=True).first() or family.first()
                if latest is None:
                    raise DoesNotExist(f"no {model.__name__} with uid stem {idlike!r}")
                return latest
            return self.filter(uid=idlike, **lookups)._get_one(f"uid={idlike!r}")
        if not lookups:
            raise InvalidArgument(
                f"get() needs an id, a uid or lookups, e.g. {model.__name__}.get(key='...')"
            )
        described = ", ".join(f"{k}={v!r}" for k, v in lookups.items())
        matches = self.filter(**lookups)
        rows = matches[:2]._fetch()
        if not rows:
            raise DoesNotExist(f"no {model.__name__} matches {described}")
        if len(rows) == 1:
            return rows[0]
        if hasattr(model, "is_latest") and not ({"uid", "id", "is_latest", "version_tag"} & set(lookups)):
            latest = matches.filter(is_latest=True)[:2]._fetch()
            if len(latest) == 1:
                return latest[0]
        raise MultipleResultsFound(
            f"more than one {model.__name__} matches {described}; add lookups to narrow it"
        )

    def _get_one(self, described: str) -> T:
        rows = self[:2]._fetch()
        if not rows:
            raise DoesNotExist(f"no {self.model.__name__} with {described}")
        return rows[0]

    def to_list(self, field: str | None = None) -> list[Any]:
        if field is None:
            return list(self._fetch())
        if field not in self.model.__table__.c:
            raise InvalidArgument(f"{self.model.__name__} has no field {field!r}")
        column = self.model.__table__.c[field]
        return list(self._session().execute(self._statement(column)).scalars().all())

    def values_list(self, field: str, flat: bool = True) -> list[Any]:
        return self.to_list(field)

    def to_dataframe(self, include: str | list[str] | None = None, **kwargs: Any) -> Any:

        with state.reading(self._instance):
            return queryset_to_dataframe(self, include=include, **kwargs)

    df = legacy_lookups.RenamedMethod("to_dataframe")

    def load(self, join: str = "outer", is_run_input: bool | None = None, **kwargs: Any) -> Any:
        """The data of all records as one object (artifacts: DataFrames or AnnData concatenated)."""
        loader = getattr(self.model, "_load_many", None)
        if loader is None:
            raise InvalidArgument(
                f"{self.model.__name__} records hold no data to load; load() works on artifact queries"
            )
        with state.reading(self._instance):
            return loader(self.to_list(), join=join, is_run_input=is_run_input, **kwargs)

    def delete(self, permanent: bool | None = None) -> int:
        records = list(self._fetch())
        for record in records:
            record.delete(permanent=permanent)  # type: ignore[attr-defined]
        self._cache = None
        return len(records)

    # --- search and lookup ----------------------------------------------------------------------

    def search(
        self, text: str, *, field: str | list[str] | None = None, limit: int | None = 20
    ) -> QuerySet[T]:
        """Records matching `text`, best first: exact match, then prefix, then substring, then all words."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidArgument("search() needs a non-empty string")
        table_columns = self.model.__table__.c
        if not (field is None or isinstance(field, str) or _is_list_of_str(field)):
            raise InvalidArgument(f"search(field=...) takes a field name or a list of them, not {field!r}")
        requested = [field] if isinstance(field, str) else list(field or self.model._search_fields)
        fields = [f for f in requested if f in table_columns]
        if not fields:
            raise InvalidArgument(f"{self.model.__name__} has no searchable fields among {requested}")
        query = text.strip().lower()
        words = [w for w in re.split(r"\s+", query) if w]
        condition, order = search_clauses(self.model, fields, query, words, self._instance or state.current())
        clone = self._clone()
        clone._where.append(condition)
        clone._order = order
        if limit is not None:
            clone._limit = limit
        return clone

    def lookup(self, field: str | None = None) -> Lookup:
        """Auto-completable access to records by name: `ln.ULabel.lookup().my_experiment`."""
        table_columns = self.model.__table__.c
        if field is None:
            # `_lookup_field`: what users call a record by when it is not a unique name (a gene's symbol)
            name_field = getattr(self.model, "_lookup_field", None) or getattr(
                self.model, "_name_field", None
            )
            field = name_field or next(
                f for f in ("name", "key", "handle", "root", "uid") if f in table_columns
            )
        return Lookup(
            {getattr(record, field): record for record in self if getattr(record, field) is not None}
        )

    def __repr__(self) -> str:
        rows = self[:10]._fetch() if self._cache is None else self._cache[:10]
        body = "\n".join(f"  {r!r}" for r in rows)
        return f"<QuerySet {self.model.__name__} [\n{body}\n]>"


def _reverse(clause: Any) -> Any:
    modifier = getattr(clause, "modifier", None)
    element = getattr(clause, "element", clause)

    return element.asc() if modifier is operators.desc_op else element.desc()


class Lookup:
    """Records by a normalized name (`"My experiment"` → `.my_experiment`), also by the raw name."""

    def __init__(self, records: dict[str, Any]) -> None:
        self._by_raw = records
        self._by_attr: dict[str, Any] = {}
        for raw, record in records.items():
            self._by_attr.setdefault(normalize_name(str(raw)), record)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_by_attr"][name]
        except KeyError:
            raise AttributeError(
                f"no record named like {name!r}; available: {', '.join(sorted(self._by_attr)[:20])}"
            ) from None

    def __getitem__(self, raw: str) -> Any:
        return self._by_raw[raw]

    def __dir__(self) -> list[str]:
        return sorted(self._by_attr)

    def dict(self) -> dict[str, Any]:
        return dict(self._by_raw)

    def __len__(self) -> int:
        return len(self._by_raw)

    def __iter__(self) -> Iterator[Any]:
        """The records (as a namedtuple of LaminDB's lookups iterates its values)."""
        return iter(self._by_raw.values())

    def __contains__(self, raw: object) -> bool:
        return raw in self._by_raw

    def __repr__(self) -> str:
        names = ", ".join(sorted(self._by_attr)[:10]) + (" …" if len(self._by_attr) > 10 else "")
        return f"<Lookup of {len(self)} records: {names}>"


def normalize_name(raw: str) -> str:
    name = re.sub(r"\W+", "_", raw.strip().lower()).strip("_")
    if not name:
        return "_"
    return f"_{name}" if name[0].isdigit() else name


def _is_list_of_str(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


QuerySet.__module__ = "lamella"  # public as `lamella.QuerySet`: the name reprs show and pickle records
