"""Lookup values checked and coerced to the type of what they are compared with.

`filter(key=1.5)`, `created_at__gt=[1, 2]`, `is_latest__gt=None` or `id=2**64` would otherwise
reach SQLAlchemy or the driver and fail there in a different way on each database (or, on SQLite,
quietly match nothing). Every condition the compiler builds passes through `operand()`, which
returns the value to bind or raises an InvalidArgument naming the lookup, the value and what fits.
"""

from __future__ import annotations

import numbers
import re
from datetime import date
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, Numeric, String
from sqlalchemy.sql import Select

from lamella import _limits
from lamella.errors import InvalidArgument

ORDER_OPS = frozenset({"gt", "gte", "lt", "lte"})
TEXT_OPS = frozenset(
    {
        "iexact",
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "regex",
        "iregex",
    }
)
_KIND_NAMES = {
    "text": "text",
    "int": "integers",
    "float": "numbers",
    "bool": "True/False",
    "datetime": "date-times",
    "date": "dates",
    "json": "JSON",
}


def kind_of(column: Any) -> str:
    """What a column or expression holds: text, int, float, bool, datetime, date, json or any."""
    column_type = getattr(column, "type", None)
    column_type = getattr(column_type, "impl_instance", column_type)  # see through TypeDecorators
    if isinstance(column_type, JSON):
        return "json"
    if isinstance(column_type, DateTime):
        return "datetime"
    if isinstance(column_type, Date):
        return "date"
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, Integer):
        return "int"
    if isinstance(column_type, Float | Numeric):
        return "float"
    if isinstance(column_type, String):
        return "text"
    return "any"


def describe(column: Any) -> str:
    owner = getattr(column, "class_", None)
    key = getattr(column, "key", None)
    if owner is not None and key is not None:
        return f"{owner.__name__}.{key}"
    return str(key) if key else "the value"


def operand(column: Any, op: str, value: Any, lookup: str | None = None) -> Any:
    """`value` ready to compare with `column` under `op`, or an InvalidArgument.

    `lookup` is the lookup as the user wrote it (`"created_at__gt"`), for the message.
    """
    lookup = lookup or describe(column)
    if op != "exact" and not lookup.endswith(f"__{op}"):
        lookup = f"{lookup}__{op}"
    kind = kind_of(column)
    if op == "isnull":
        if isinstance(value, bool) or (isinstance(value, numbers.Integral) and value in (0, 1)):
            return bool(value)
        raise _invalid(lookup, value, "takes True or False")
    if isinstance(value, Select):
        if op in ("exact", "in"):
            return value  # a QuerySet of records, compared by id
        raise _invalid(lookup, value, "cannot compare with a QuerySet; use __in")
    if kind == "bool" and op not in ("exact", "in"):
        raise _invalid(lookup, value, "does not apply: True/False fields take exact, __in and __isnull")
    if op == "in":
        if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
            raise _invalid(lookup, value, "takes a list or a QuerySet")
        return [None if item is None else _scalar(kind, lookup, op, item) for item in value]
    if op == "range":
        try:
            low, high = value
        except (TypeError, ValueError):
            raise _invalid(lookup, value, "takes (low, high)") from None
        return (_required(kind, lookup, op, low), _required(kind, lookup, op, high))
    if op in ORDER_OPS:
        return _required(kind, lookup, op, value)
    if op in TEXT_OPS:
        if kind not in ("text", "any"):
            raise _invalid(lookup, value, f"works on text fields, and this one holds {_KIND_NAMES[kind]}")
        if not isinstance(value, str):
            raise _invalid(lookup, value, "takes a string")
        _limits.check_text(value, f"lookup {lookup}", error=InvalidArgument)
        if op in ("regex", "iregex"):
            check_pattern(value, lookup)
        return value
    if value is None:
        return None  # exact: IS NULL
    return _scalar(kind, lookup, op, value)


def check_pattern(pattern: str, lookup: str) -> None:
    """Python's `re` is the regex engine on SQLite; PostgreSQL's rejects a few more (see database.py)."""
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as e:
        raise InvalidArgument(
            f"lookup {lookup}: {_limits.show(pattern)} is not a valid regular expression ({e}); "
            "escape special characters with re.escape() or fix the pattern"
        ) from None


def _invalid(lookup: str, value: Any, what: str) -> InvalidArgument:
    return InvalidArgument(f"lookup {lookup} {what}, not {_limits.show(value)} ({type(value).__name__})")


def _required(kind: str, lookup: str, op: str, value: Any) -> Any:
    if value is None:
        raise InvalidArgument(
            f"lookup {lookup}=None: needs a value to compare with; use __isnull=True to find empty fields"
        )
    return _scalar(kind, lookup, op, value)


def _scalar(kind: str, lookup: str, op: str, value: Any) -> Any:
    where = f"lookup {lookup}"
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()
    if kind == "text":
        if not isinstance(value, str):
            raise InvalidArgument(
                f"{where} compares with text, not {_limits.show(value)} ({type(value).__name__}); pass a str"
            )
        return _limits.check_text(value, where, error=InvalidArgument)
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidArgument(
                f"{where} compares with numbers, not {_limits.show(value)} ({type(value).__name__}); pass a number"
            )
        return _limits.check_float(value, where, allow_inf=True, error=InvalidArgument)
    if kind == "bool":
        if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value in (0, 1):
            return bool(value)
        return _limits.check_bool(value, where, error=InvalidArgument)
    if kind == "datetime":
        return _limits.check_datetime(value, where, error=InvalidArgument)
    if kind == "date":
        return _limits.check_date(value, where, error=InvalidArgument)
    if kind == "json":
        if op not in ("exact", "in"):
            raise InvalidArgument(
                f"{where}: a JSON field is compared as a whole only with exact and __in; "
                "compare one of its keys instead, e.g. params__learning_rate__gt=0.1"
            )
        return _limits.check_json(value, where, error=InvalidArgument)
    # an expression of unknown type: whatever the drivers bind alike
    if isinstance(value, str):
        return _limits.check_text(value, where, error=InvalidArgument)
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real):
        return _limits.check_float(value, where, allow_inf=True, error=InvalidArgument)

    if isinstance(value, date):
        return value
    raise InvalidArgument(
        f"{where} cannot compare with {_limits.show(value)} ({type(value).__name__}); "
        "pass a str, a number, a bool or a date"
    )
