"""Validation helpers every registry has: validate, inspect, standardize, from_values and synonyms.

`CanCurate` is a mixin of `SQLRecord`. Each helper sends a handful of SQL statements whatever the number
of values: the values are deduplicated, looked up with `field IN (...)` in chunks, and only values that
are not found directly trigger a case-insensitive lookup and one scan of the records that have synonyms.
Only records in the main branch count. numpy and pandas are imported inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from sqlalchemy import Integer, String, func, or_, select

from lamella._instance import state
from lamella._logging import logger
from lamella._query.compiler import escape_like
from lamella.errors import InvalidArgument
from lamella.models.core.bulk import RecordList

_CHUNK = 10_000  # values per `IN (...)`: below every database's limit on bound parameters
_SHOWN = 20  # values quoted in a log message before it says "..."
_SEPARATOR = "|"  # between synonyms in the `synonyms` column


class _NoMatch:
    """A value that cannot equal anything in the column (None, NaN, a non-number for a number field)."""


_NO_MATCH = _NoMatch()


class InspectResult:
    """What `Registry.inspect()` found: validated values, non-validated values, and synonyms among the latter."""

    def __init__(
        self, validated: list[Any], non_validated: list[Any], synonyms_mapper: dict[Any, Any]
    ) -> None:
        self.validated = validated
        self.non_validated = non_validated
        self.synonyms_mapper = synonyms_mapper

    @property
    def frac_validated(self) -> float:
        """The fraction of unique values that were validated (1.0 for no values)."""
        total = len(self.validated) + len(self.non_validated)
        return len(self.validated) / total if total else 1.0

    def __repr__(self) -> str:
        return (
            f"InspectResult(validated={_shorten(self.validated)}, "
            f"non_validated={_shorten(self.non_validated)}, synonyms_mapper={self.synonyms_mapper!r})"
        )


# --- the mixin -------------------------------------------------------------------------------------


class CanCurate:
    """Validation of values against a registry field: `ln.ULabel.validate(["DMSO", "IFNG"])`."""

    @classmethod
    def validate(
        cls,
        values: Any,
        field: Any = None,
        *,
        mute: bool = False,
        organism: Any = None,
        source: Any = None,
    ) -> Any:
        """A numpy boolean array: True where the value exists in `field` of a record in the main branch.

        `organism` and `source` are accepted for compatibility and have no effect.
        """
        import numpy as np

        model: Any = cls
        name = _field_name(model, field)
        items, _ = _as_list(values)
        coerce = _coercer(model.__table__.c[name])
        keys = [coerce(value) for value in items]
        found = {row[0] for row in _select(model, [name], where_in=(name, _unique(keys), False))}
        result = np.fromiter((key in found for key in keys), dtype=bool, count=len(keys))
        if not mute:
            missing = _unique([value for value, ok in zip(items, result.tolist(), strict=True) if not ok])
            if missing:
                logger.warning(_not_validated(missing))
        return result

    @classmethod
    def inspect(
        cls,
        values: Any,
        field: Any = None,
        *,
        mute: bool = False,
        organism: Any = None,
        source: Any = None,
    ) -> InspectResult:
        """Which values are validated, which are not, and which of the latter are synonyms or case variants.

        `organism` and `source` are accepted for compatibility and have no effect.
        """
        model: Any = cls
        name = _field_name(model, field)
        items, _ = _as_list(values)
        unique_items = _unique(items)
        matches = _match(
            model, name, unique_items, case_sensitive=False, synonyms_field=_mappable(model, name)
        )
        validated = [value for value in unique_items if value in matches.exact]
        non_validated = [value for value in unique_items if value not in matches.exact]
        mapper = {value: matches.mapped[value][0][1] for value in non_validated if value in matches.mapped}
        result = InspectResult(validated, non_validated, mapper)
        if not mute:
            if non_validated:
                logger.warning(_inspect_message(model, name, non_validated, mapper))
            elif validated:
                logger.info(f"{_terms(len(validated))} validated for {name}")
        return result

    @classmethod
    def standardize(
        cls,
        values: Any,
        field: Any = None,
        *,
        return_field: Any = None,
        return_mapper: bool = False,
        case_sensitive: bool = False,
        keep: Literal["first", "last", False] = "first",
        synonyms_field: str | None = "synonyms",
        mute: bool = False,
        organism: Any = None,
        source: Any = None,
    ) -> Any:
        """Map synonyms and case variants to the standard value of `field`; unknown values stay as they are.

        Exact matches win; then come synonyms, case variants of `field` (unless `case_sensitive`), and
        synonyms in another case. A value that is a synonym of several records maps
        to the first record's value (`keep="first"`), the last one's (`keep="last"`) or a list of all
        (`keep=False`). Returns the values in the type they came in (a single string for a string), or
        with `return_mapper=True` a dict of only the values that changed.
        """
        if keep not in ("first", "last", False):
            raise InvalidArgument(f"keep must be 'first', 'last' or False, not {keep!r}")
        model: Any = cls
        name = _field_name(model, field)
        out_name = name if return_field is None else _field_name(model, return_field)
        items, kind = _as_list(values)
        matches = _match(
            model,
            name,
            _unique(items),
            case_sensitive=case_sensitive,
            synonyms_field=synonyms_field,
            return_field=out_name,
        )
        mapper: dict[Any, Any] = {}
        for value in _unique(items):
            rows = matches.exact.get(value) if out_name != name else None
            rows = rows or matches.mapped.get(value)
            if not rows:
                continue
            if keep is False:
                targets = _unique([row[2] for row in rows])
                target: Any = targets[0] if len(targets) == 1 else targets
            else:
                target = rows[0][2] if keep == "first" else rows[-1][2]
            if target != value:
                mapper[value] = target
        if not mute and mapper:
            pairs = ", ".join(f"{k!r} → {v!r}" for k, v in list(mapper.items())[:_SHOWN])
            more = ", ..." if len(mapper) > _SHOWN else ""
            logger.info(f"standardized {len(mapper)} of {_terms(len(_unique(items)))}: {pairs}{more}")
        if return_mapper:
            return mapper
        return _same_kind(values, kind, [_lookup(mapper, value) for value in items])

    @classmethod
    def from_values(
        cls,
        values: Any,
        field: Any = None,
        *,
        create: bool = False,
        type: Any = None,
        mute: bool = False,
        organism: Any = None,
        source: Any = None,
    ) -> RecordList:
        """The saved records whose `field` matches a value (synonyms and case variants resolve too).

        Records come in the order of the values, each once. With `type=`, only records of that type match.
        With `create=True`, values that match nothing become new, unsaved records (`ln.save(records)`).
        `organism` and `source` are accepted for compatibility and have no effect.
        """
        model: Any = cls
        name = _field_name(model, field)
        items, _ = _as_list(values)
        wanted = [value for value in _unique(items) if not _is_missing(value)]
        equals: dict[str, Any] = {}
        if type is not None:
            if "type_id" not in model.__table__.c:
                raise InvalidArgument(f"{model.__name__} has no types; call from_values() without type=")
            if type.__dict__.get("id") is None:
                raise InvalidArgument(f"type={type!r} is not saved; save it before from_values(type=...)")
            equals["type_id"] = type.id
        matches = _match(
            model, name, wanted, case_sensitive=False, synonyms_field=_mappable(model, name), equals=equals
        )
        ids: list[int] = []
        not_found: list[Any] = []
        via_synonym: dict[Any, Any] = {}
        for value in wanted:
            exact = matches.exact.get(value)
            if exact:
                ids.extend(row[0] for row in exact)
            elif value in matches.mapped:
                row = matches.mapped[value][0]
                ids.append(row[0])
                via_synonym[value] = row[1]
            else:
                not_found.append(value)
        ids = _unique(ids)
        by_id = _load(model, ids)
        records: list[Any] = [by_id[record_id] for record_id in ids if record_id in by_id]
        if via_synonym and not mute:
            pairs = ", ".join(f"{k!r} → {v!r}" for k, v in list(via_synonym.items())[:_SHOWN])
            logger.info(f"found {len(via_synonym)} {model.__name__} record(s) by synonym: {pairs}")
        if not_found:
            if create:
                extra = {} if type is None else {"type": type}
                records.extend(model(**{name: value}, **extra) for value in not_found)
                if not mute:
                    logger.info(
                        f"created {len(not_found)} new {model.__name__} record(s) for {_quoted(not_found)}; "
                        f"they are not saved yet: records.save()"
                    )
            elif not mute:
                with_type = ", type=type" if type is not None else ""
                logger.warning(
                    f"{_terms(len(not_found))} not found in {model.__name__}.{name}: {_quoted(not_found)}; "
                    f"create them with: records = {model.__name__}.from_values("
                    f"{_values_code(not_found, 'values')}, field={name!r}{with_type}, create=True); ln.save(records)"
                )
        return RecordList(records)

    # --- synonyms and abbreviations of one record -----------------------------------------------

    def add_synonym(
        self, synonym: str | Iterable[str], force: bool = False, save: bool | None = None
    ) -> None:
        """Add one or several synonyms; refuses a synonym that is another record's name or synonym."""
        model: Any = type(self)
        column = _synonyms_column(model, "synonyms")
        if column is None:
            raise InvalidArgument(f"{model.__name__} has no synonyms field; add_synonym() is not available")
        new = _synonym_list(synonym)
        for value in new:
            if _SEPARATOR in value:
                raise InvalidArgument(f"a synonym cannot contain {_SEPARATOR!r}: {value!r}")
        record: Any = self
        name_field = model._name_field or "name"
        own_name = getattr(record, name_field, None)
        current = _split_synonyms(record.synonyms)
        new = [value for value in _unique(new) if value not in current and value != own_name]
        if not new:
            return
        if not force:
            owner = _synonym_owner(model, new, record.__dict__.get("id"))
            if owner is not None:
                value, other = owner
                raise InvalidArgument(
                    f"{value!r} is already a name or synonym of {other!r}; "
                    f"pass force=True to add it to {model.__name__} {own_name!r} anyway"
                )
        record.synonyms = _SEPARATOR.join([*current, *new])
        if save is True or (save is None and record.__dict__.get("id") is not None):
            record.save()

    def remove_synonym(self, synonym: str | Iterable[str], save: bool | None = None) -> None:
        """Remove one or several synonyms (those that are not there are ignored)."""
        model: Any = type(self)
        if _synonyms_column(model, "synonyms") is None:
            raise InvalidArgument(
                f"{model.__name__} has no synonyms field; remove_synonym() is not available"
            )
        record: Any = self
        removed = set(_synonym_list(synonym))
        current = _split_synonyms(record.synonyms)
        kept = [value for value in current if value not in removed]
        if kept == current:
            return
        record.synonyms = _SEPARATOR.join(kept) or None
        if save is True or (save is None and record.__dict__.get("id") is not None):
            record.save()

    def set_abbr(self, value: str) -> None:
        """Set the abbreviation, and add it as a synonym where the registry has synonyms."""
        model: Any = type(self)
        if "abbr" not in model.__table__.c:
            raise InvalidArgument(f"{model.__name__} has no abbr field; set_abbr() is not available")
        record: Any = self
        if _synonyms_column(model, "synonyms") is not None:
            self.add_synonym(value, save=False)  # first: it refuses another record's name or synonym
        record.abbr = value
        if record.__dict__.get("id") is not None:
            record.save()


# --- lookups -------------------------------------------------------------------------------------


class _Matches:
    """Rows `(id, field value, return value)` per input value: exact matches, and synonyms or case variants."""

    def __init__(self) -> None:
        self.exact: dict[Any, list[tuple[Any, ...]]] = {}
        self.mapped: dict[Any, list[tuple[Any, ...]]] = {}


def _match(
    model: Any,
    name: str,
    values: list[Any],
    *,
    case_sensitive: bool,
    synonyms_field: str | Literal[False] | None,
    return_field: str | None = None,
    equals: dict[str, Any] | None = None,
) -> _Matches:
    """Exact matches first; for the rest, synonyms (exact case), case variants of `field`, synonyms (any case).

    `synonyms_field=False` looks for exact matches only; None skips synonyms but not case variants.

    At most four queries (per 10,000 values): exact values, the records with synonyms, and lowercased values.
    """
    columns = ["id", name, return_field or name]
    coerce = _coercer(model.__table__.c[name])
    keys = {value: coerce(value) for value in values}
    matches = _Matches()
    by_value: dict[Any, list[tuple[Any, ...]]] = {}
    for row in _select(model, columns, where_in=(name, _unique(keys.values()), False), equals=equals):
        by_value.setdefault(row[1], []).append(row)
    for value, key in keys.items():
        if key in by_value:
            matches.exact[value] = by_value[key]
    rest = {value: key for value, key in keys.items() if value not in matches.exact and isinstance(key, str)}
    if not rest or synonyms_field is False:
        return matches
    synonyms = _synonyms_column(model, synonyms_field)
    by_synonym: dict[str, list[tuple[Any, ...]]] = {}
    by_synonym_lower: dict[str, list[tuple[Any, ...]]] = {}
    if synonyms is not None:
        for selected in _select(model, [*columns, synonyms.key], equals=equals, has_text=synonyms.key):
            row = tuple(selected[:-1])
            for synonym in _split_synonyms(selected[-1]):
                by_synonym.setdefault(synonym, []).append(row)
                if not case_sensitive:
                    by_synonym_lower.setdefault(synonym.lower(), []).append(row)
    by_lower: dict[str, list[tuple[Any, ...]]] = {}
    if not case_sensitive:
        lowered = _unique([key.lower() for key in rest.values()])
        if len(lowered) <= _CHUNK:
            rows = _select(model, columns, where_in=(name, lowered, True), equals=equals)
        else:  # one scan of the table is cheaper than one unindexed scan per chunk
            wanted = set(lowered)
            rows = [row for row in _select(model, columns, equals=equals) if _lower(row[1]) in wanted]
        for row in rows:
            if isinstance(row[1], str):
                by_lower.setdefault(row[1].lower(), []).append(row)
    for value, key in rest.items():
        found = by_synonym.get(key) or by_lower.get(key.lower()) or by_synonym_lower.get(key.lower())
        if found:
            matches.mapped[value] = _unique_rows(found)
    return matches


def _select(
    model: Any,
    columns: list[str],
    *,
    where_in: tuple[str, list[Any], bool] | None = None,
    equals: dict[str, Any] | None = None,
    has_text: str | None = None,
) -> list[tuple[Any, ...]]:
    """Rows of `columns` from the main branch, ordered by id when "id" is selected.

    `where_in=(column, keys, lowercase)` keeps rows whose column (lowercased) is one of `keys`, in chunks
    of 10,000; `equals` adds `column = value` conditions; `has_text` keeps rows where that column is not
    empty. The SQL goes straight to the driver when the registry has no extra default filters and the
    columns need no conversion (names, uids, numbers): validating 100,000 values then takes a fraction
    of a second.
    """
    table = model.__table__
    equals = equals or {}
    if where_in is not None:
        keys = [key for key in where_in[1] if key is not _NO_MATCH]
        if not keys:
            return []
        chunks = [keys[start : start + _CHUNK] for start in range(0, len(keys), _CHUNK)]
    else:
        chunks = [[]]
    ordered = "id" in columns
    raw = getattr(model, "_default_where", None) is None and all(
        isinstance(table.c[column].type, String | Integer) for column in [*columns, *equals]
    )
    rows: list[tuple[Any, ...]] = []
    for chunk in chunks:
        if raw:
            rows.extend(_select_raw(model, columns, where_in, chunk, equals, has_text))
            continue
        conditions = [table.c[column] == value for column, value in equals.items()]
        if where_in is not None:
            target_column = table.c[where_in[0]]
            conditions.append((func.lower(target_column) if where_in[2] else target_column).in_(chunk))
        if has_text is not None:
            conditions.extend([table.c[has_text].is_not(None), table.c[has_text] != ""])
        statement = select(*(table.c[column] for column in columns)).where(*conditions, *_main_branch(model))
        rows.extend(tuple(row) for row in _session().execute(statement))
    if ordered:  # sorted here: ORDER BY would make SQLite scan the table instead of using the index
        position = columns.index("id")
        rows.sort(key=lambda row: row[position])
    return rows


def _select_raw(
    model: Any,
    columns: list[str],
    where_in: tuple[str, list[Any], bool] | None,
    chunk: list[Any],
    equals: dict[str, Any],
    has_text: str | None,
) -> list[tuple[Any, ...]]:

    instance = state.current()
    dialect = instance.db.dialect
    marker = "?" if dialect == "sqlite" else "%s"
    table = model.__table__
    conditions = ['"branch_id" = 1'] if "branch_id" in table.c else []
    params: list[Any] = []
    for column, value in equals.items():
        conditions.append(f'"{column}" = {marker}')
        params.append(value)
    if has_text is not None:
        conditions.append(f'"{has_text}" IS NOT NULL AND "{has_text}" != \'\'')
    if where_in is not None:
        target = f'lower("{where_in[0]}")' if where_in[2] else f'"{where_in[0]}"'
        conditions.append(f"{target} IN ({', '.join([marker] * len(chunk))})")
        params.extend(chunk)
    sql = f'SELECT {", ".join(f"{chr(34)}{column}{chr(34)}" for column in columns)} FROM "{table.name}"'
    if conditions:
        sql += f" WHERE {' AND '.join(conditions)}"
    connection: Any = instance.db.session().connection()
    if dialect == "sqlite":
        return list(connection.connection.driver_connection.execute(sql, params).fetchall())
    return [tuple(row) for row in connection.exec_driver_sql(sql, tuple(params))]


def _load(model: Any, ids: list[int]) -> dict[int, Any]:
    """The records with these ids, one query per 10,000."""
    session = _session()
    by_id: dict[int, Any] = {}
    for start in range(0, len(ids), _CHUNK):
        statement = (
            select(model)
            .where(model.__table__.c.id.in_(ids[start : start + _CHUNK]))
            .execution_options(populate_existing=True)
        )
        for record in session.execute(statement).scalars():
            by_id[record.id] = record
    return by_id


def _synonym_owner(model: Any, synonyms: list[str], own_id: int | None) -> tuple[str, Any] | None:
    """The first (synonym, record) where another record in the main branch has that name or synonym."""

    table = model.__table__
    name_column = table.c[model._name_field or "name"]
    synonyms_column = table.c.synonyms
    candidates = or_(
        name_column.in_(synonyms),
        *(synonyms_column.like(f"%{escape_like(value)}%", escape="\\") for value in synonyms),
    )
    conditions = [candidates, *_main_branch(model)]
    if own_id is not None:
        conditions.append(table.c.id != own_id)
    statement = select(model).where(*conditions).order_by(table.c.id)
    others = list(_session().execute(statement).scalars())
    for value in synonyms:
        for other in others:
            taken = {other.__dict__.get(name_column.key), *_split_synonyms(other.__dict__.get("synonyms"))}
            if value in taken:
                return value, other
    return None


def _main_branch(model: Any) -> list[Any]:
    """The conditions a plain `Registry.filter()` adds: main branch, no internal records."""
    table = model.__table__
    conditions = [table.c.branch_id == 1] if "branch_id" in table.c else []
    default_where = getattr(model, "_default_where", None)
    if default_where is not None:
        conditions.extend(default_where())
    return conditions


def _session() -> Any:

    return state.current().db.session()


# --- fields and values ---------------------------------------------------------------------------


def _field_name(model: Any, field: Any) -> str:
    """The column name for `field`: a name, a class attribute (`ln.ULabel.name`), or the registry's default."""
    table_columns = model.__table__.c
    if field is None:
        name = model._name_field or "name"
        name = model._field_aliases.get(name, name)
        if name not in table_columns:
            raise InvalidArgument(f"{model.__name__} has no name field; pass field=, e.g. field='uid'")
        return str(name)
    if not isinstance(field, str):
        owner = getattr(field, "class_", None)
        key = getattr(field, "key", None)
        if not isinstance(key, str):
            raise InvalidArgument(f"field must be a field name or a registry attribute, not {field!r}")
        if isinstance(owner, type) and not (issubclass(model, owner) or issubclass(owner, model)):
            raise InvalidArgument(f"field {owner.__name__}.{key} is not a field of {model.__name__}")
        field = key
    name = model._field_aliases.get(field, field)
    if name not in table_columns:
        valid = ", ".join(sorted(set(table_columns.keys()) - {"id"}))
        raise InvalidArgument(f"{model.__name__} has no field {field!r}; valid fields: {valid}")
    return str(name)


def _mappable(model: Any, name: str) -> str | Literal[False]:
    """What `inspect()` and `from_values()` resolve beyond exact matches.

    For the name field: synonyms and case variants ("synonyms"); for other fields (uids, references...)
    nothing (False): a uid in another case is another uid.
    """
    default = model._name_field or "name"
    return "synonyms" if name == model._field_aliases.get(default, default) else False


def _synonyms_column(model: Any, synonyms_field: str | None) -> Any:
    if synonyms_field is None:
        return None
    table_columns = model.__table__.c
    if synonyms_field in table_columns:
        return table_columns[synonyms_field]
    if synonyms_field != "synonyms":
        raise InvalidArgument(f"{model.__name__} has no field {synonyms_field!r} to read synonyms from")
    return None


def _as_list(values: Any) -> tuple[list[Any], str]:
    """The values as a list, and what they were: "str", "series", "index", "array", "scalar" or "list"."""
    if isinstance(values, str):
        return [values], "str"
    module = type(values).__module__
    if module.startswith("pandas"):
        import pandas as pd  # already imported: the values are pandas objects

        if isinstance(values, pd.Series):
            return list(values.to_list()), "series"
        if isinstance(values, pd.Index):
            return list(values.to_list()), "index"
        if isinstance(values, pd.DataFrame):
            raise InvalidArgument("pass one column of values (a Series), not a DataFrame")
        return list(values), "list"  # a Categorical, an array extension type
    if module == "numpy" and hasattr(values, "ndim"):
        if values.ndim != 1:
            raise InvalidArgument(f"pass a one-dimensional array of values, not one of shape {values.shape}")
        return list(values.tolist()), "array"
    if isinstance(values, dict):
        return list(values), "list"
    if isinstance(values, Iterable):
        return list(values), "list"
    return [values], "scalar"


def _same_kind(original: Any, kind: str, result: list[Any]) -> Any:
    if kind in ("str", "scalar"):
        return result[0]
    if kind == "series":  # a Series came in: pandas is imported already
        return type(original)(result, index=original.index, name=original.name)
    if kind == "index":
        import pandas as pd  # not type(original): a RangeIndex or MultiIndex cannot hold the result

        return pd.Index(result, name=original.name)
    if kind == "array":
        import numpy as np

        return np.array(result, dtype=original.dtype if original.dtype == object else None)
    return result


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    return type(value).__name__ in ("NAType", "NaTType")


def _coercer(column: Any) -> Callable[[Any], Any]:
    """A function giving a value as the column stores it, or `_NO_MATCH` if it cannot equal anything there."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = None

    def to_str(value: Any) -> Any:
        if type(value) is str:
            return value
        return _NO_MATCH if _is_missing(value) else str(value)

    def to_int(value: Any) -> Any:
        if type(value) is int:
            return value
        if _is_missing(value) or isinstance(value, bool):
            return _NO_MATCH
        try:
            as_int = int(value)
        except (TypeError, ValueError):
            return _NO_MATCH
        return as_int if as_int == value or str(as_int) == value else _NO_MATCH

    def as_is(value: Any) -> Any:
        return _NO_MATCH if _is_missing(value) else value

    if python_type is str:
        return to_str
    if python_type is int:
        return to_int
    return as_is


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _unique(values: Iterable[Any]) -> list[Any]:
    """The values once each, in their first order (unhashable values are kept as they come)."""
    seen: set[Any] = set()
    result = []
    for value in values:
        try:
            if value in seen:
                continue
            seen.add(value)
        except TypeError:
            pass
        result.append(value)
    return result


def _unique_rows(rows: list[Any]) -> list[Any]:
    seen: set[int] = set()
    result = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            result.append(row)
    return result


def _lookup(mapper: dict[Any, Any], value: Any) -> Any:
    try:
        return mapper.get(value, value)
    except TypeError:
        return value


def _split_synonyms(raw: str | None) -> list[str]:
    if not raw:
        return []
    return [part.strip() for part in raw.split(_SEPARATOR) if part.strip()]


def _synonym_list(synonym: str | Iterable[str]) -> list[str]:
    items = [synonym] if isinstance(synonym, str) else list(synonym)
    result = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidArgument(f"a synonym must be a string, not {item!r}")
        if item.strip():
            result.append(item.strip())
    return result


# --- messages ------------------------------------------------------------------------------------


def _terms(n: int) -> str:
    return f"{n} term" if n == 1 else f"{n} terms"


def _quoted(values: list[Any]) -> str:
    shown = ", ".join(repr(value) for value in values[:_SHOWN])
    return shown + (", ..." if len(values) > _SHOWN else "")


def _shorten(values: list[Any]) -> str:
    if len(values) <= _SHOWN:
        return repr(values)
    return repr(values[:_SHOWN])[:-1] + f", ... ({len(values)} in all)]"


def _values_code(values: list[Any], placeholder: str) -> str:
    """The values as Python code when few, else a placeholder."""
    return repr(list(values)) if len(values) <= 10 else placeholder


def _not_validated(values: list[Any]) -> str:
    return f"{_terms(len(values))} not validated: {_quoted(values)}"


def _inspect_message(model: Any, name: str, non_validated: list[Any], mapper: dict[Any, Any]) -> str:
    registry = model.__name__
    message = _not_validated(non_validated)
    rest = [value for value in non_validated if value not in mapper]
    if mapper:
        n = len(mapper)
        message += (
            f"; {n} {'is a synonym' if n == 1 else 'are synonyms'}, "
            f"standardize with: {registry}.standardize(values)"
        )
    if rest:
        what = "the rest" if mapper else "them"
        code = _values_code(rest, "non_validated_values")
        message += (
            f"; create {what} with: records = {registry}.from_values({code}, field={name!r}, create=True); "
            "ln.save(records)"
        )
    return message
