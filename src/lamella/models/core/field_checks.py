"""Field values checked against their column's type before they are written.

Every registry's constructor checks the fields it is given, and every ORM flush (`save()`, changed
attributes, records written as a side effect) checks the fields of the rows it inserts or updates,
so a bad value fails with a ValidationError naming the field, the value and the limit, on SQLite as
on PostgreSQL, before anything is written. The checkers are derived once per column from its
SQLAlchemy type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, event, inspect
from sqlalchemy.orm import Mapper

from lamella import _limits
from lamella._query.operands import kind_of
from lamella.errors import ValidationError

Checker = Callable[[Any, str], Any]  # (value, "Registry.field") -> the value to store

_CHECKERS: dict[Any, Checker | None] = {}


def _text_checker(max_length: int | None) -> Checker:
    limit = max_length if max_length is not None else float("inf")

    def check(value: Any, where: str) -> str:
        if type(value) is str and len(value) <= limit and value.isascii() and "\x00" not in value:
            return value  # the common case, without the calls below (bulk saves check every field)
        if not isinstance(value, str):
            raise ValidationError(
                f"{where} holds text, got {_limits.show(value)} ({type(value).__name__}); pass a str"
            )
        return _limits.check_text(value, where, max_length=max_length)

    return check


def _int_checker(bounds: tuple[int, int]) -> Checker:
    def check(value: Any, where: str) -> int:
        return _limits.check_int(value, where, bounds=bounds)

    return check


def _float(value: Any, where: str) -> float:
    return _limits.check_float(value, where)


def _checker_for(column: Any) -> Checker | None:
    # what the column holds is decided in one place, shared with the checks of lookup values
    kind = kind_of(column)
    if kind == "text":
        return _text_checker(getattr(_column_type(column), "length", None))
    if kind == "int":
        wide = isinstance(_column_type(column), BigInteger)
        return _int_checker(_limits.INT64 if wide else _limits.INT32)
    return _BY_KIND.get(kind)


def _column_type(column: Any) -> Any:
    return getattr(column.type, "impl_instance", column.type)  # see through TypeDecorators


_BY_KIND: dict[str, Checker] = {
    "json": _limits.check_json,
    "datetime": _limits.check_datetime,
    "date": _limits.check_date,
    "bool": _limits.check_bool,
    "float": _float,
}


def checker(column: Any) -> Checker | None:
    """How values of `column` are checked; None for types stored as they are."""
    try:
        return _CHECKERS[column]
    except KeyError:
        found = _CHECKERS[column] = _checker_for(column)
        return found


_MODEL_CHECKERS: dict[Any, dict[str, tuple[Checker, str]]] = {}


def _model_checkers(model: Any) -> dict[str, tuple[Checker, str]]:
    """Per column key: its checker and the "Registry.field" that messages name."""
    try:
        return _MODEL_CHECKERS[model]
    except KeyError:
        found = {}
        for column in model.__table__.c:
            check = checker(column)
            if check is not None:
                found[column.key] = (check, f"{model.__name__}.{column.key}")
        _MODEL_CHECKERS[model] = found
        return found


def check_field(model: Any, key: str, value: Any) -> Any:
    """`value` as stored in `model.key`, or a ValidationError naming the field and the limit."""
    if value is None:
        return None  # a required field left empty is checked at insert (see _before_insert)
    entry = _model_checkers(model).get(key)
    if entry is None:
        return value
    return entry[0](value, entry[1])


def check_row(model: Any, row: dict[str, Any]) -> None:
    """Check the JSON values of a row in place (the bulk insert path, which bypasses the ORM).

    Every other field was checked when it was assigned (see `check_assignment`); a dict or list
    may have been changed in place since.
    """
    for key, (check, where) in json_checkers(model):
        value = row.get(key)
        if value is not None:
            row[key] = check(value, where)


_JSON_CHECKERS: dict[Any, list[tuple[str, tuple[Checker, str]]]] = {}


def json_checkers(model: Any) -> list[tuple[str, tuple[Checker, str]]]:
    try:
        return _JSON_CHECKERS[model]
    except KeyError:
        found = [
            (key, entry) for key, entry in _model_checkers(model).items() if entry[0] is _limits.check_json
        ]
        _JSON_CHECKERS[model] = found
        return found


def _check_state(mapper: Mapper[Any], target: Any, keys: Any) -> None:
    checkers = _model_checkers(mapper.class_)  # attribute and column keys are the same in these models
    state = target.__dict__
    for attribute in keys:
        value = state.get(attribute)
        if value is None:
            continue
        entry = checkers.get(attribute)
        if entry is None:
            continue
        checked = entry[0](value, entry[1])
        if checked is not value:
            state[attribute] = checked  # read by the flush right after this hook


def _before_insert(mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    _check_state(mapper, target, [prop.key for prop in mapper.column_attrs if prop.key in target.__dict__])
    for key in _required(mapper):
        if target.__dict__.get(key) is None:  # else the database's NOT NULL error, read as a uniqueness one
            raise ValidationError(f"{mapper.class_.__name__}.{key} is required; pass {key}=...")


_REQUIRED: dict[Any, list[str]] = {}


def _required(mapper: Mapper[Any]) -> list[str]:
    """Fields without a default that must be set (foreign keys are left out: relationships fill them)."""
    try:
        return _REQUIRED[mapper]
    except KeyError:
        required = [
            attr.key
            for attr in mapper.column_attrs
            for column in attr.columns[:1]
            if not column.nullable
            and not column.primary_key
            and not column.foreign_keys
            and column.default is None
            and column.server_default is None
        ]
        _REQUIRED[mapper] = required
        return required


def _before_update(mapper: Mapper[Any], _connection: Any, target: Any) -> None:

    changed = inspect(target).committed_state  # the attributes set since the last load or flush
    _check_state(mapper, target, [key for key in changed if key in mapper.column_attrs])


def check_assignment(model: Any, key: str, value: Any) -> Any:
    """A field assigned on a record (in the constructor, or later: `label.name = ...`), checked.

    Called by the registries' `__setattr__`: one dict lookup for attributes without a checker, and
    nothing set up per class, which attribute events would cost at every first use of the models.
    """
    if value is None:
        return None
    try:
        checkers = _MODEL_CHECKERS[model]
    except KeyError:
        checkers = _model_checkers(model)
    entry = checkers.get(key)
    return value if entry is None else entry[0](value, entry[1])


def install(base: type) -> None:
    """Check the fields of every registry (subclasses of `base`) at each ORM flush.

    Assignments are checked by `check_assignment`; the flush hooks see what assignments do not:
    values written into an object's state directly, and JSON changed in place.
    """
    event.listen(base, "before_insert", _before_insert, propagate=True)
    event.listen(base, "before_update", _before_update, propagate=True)
