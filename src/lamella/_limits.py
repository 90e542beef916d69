"""The limits every stored or compared value obeys, identical on SQLite and PostgreSQL.

SQLite would store almost anything (a 10,000-character name in a VARCHAR(150), NUL bytes, NaN in
JSON); PostgreSQL refuses those, and each driver fails in its own way on values it cannot bind at
all (ints past 64 bits, lone surrogates). Checking here, before a value reaches a driver, gives one
error naming the value and the limit on both databases, and keeps every SQLite instance movable to
PostgreSQL. Only the standard library is used: this runs on every write and every lookup.
"""

from __future__ import annotations

import math
import numbers
from datetime import UTC, date, datetime
from typing import Any

from lamella.errors import LamellaError, ValidationError

INT32 = (-(2**31), 2**31 - 1)  # PostgreSQL INTEGER
INT64 = (-(2**63), 2**63 - 1)  # PostgreSQL BIGINT, SQLite INTEGER
MAX_JSON_DEPTH = 64  # nesting of dicts and lists; far below what recursion in any layer can take

Error = type[LamellaError]


def show(value: Any, limit: int = 60) -> str:
    """A short repr for messages: a 100,000-character value must not become a 100,000-character error."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the actual problem
        text = f"<{type(value).__name__} object>"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if isinstance(value, str | bytes | list | tuple | dict) and len(value) > 20:
        text += f" ({len(value)} {'characters' if isinstance(value, str) else 'items'})"
    return text


def check_text(
    value: str, where: str, *, max_length: int | None = None, error: Error = ValidationError
) -> str:
    """`value` if PostgreSQL can store it as text and it fits `max_length` characters."""
    if max_length is not None and len(value) > max_length:
        raise error(
            f"{where}: {show(value)} has {len(value)} characters, more than the limit of {max_length}; "
            "shorten it"
        )
    if "\x00" in value:
        raise error(
            f"{where}: {show(value)} contains a NUL character (\\x00) at position {value.index(chr(0))}, "
            "which text fields cannot hold; remove it"
        )
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise error(
                f"{where}: {show(value)} contains {value[e.start]!r} at position {e.start}, a lone surrogate "
                "that is not valid Unicode text; decode the source bytes with errors='replace' or drop it"
            ) from None
    return value


def check_int(
    value: Any, where: str, *, bounds: tuple[int, int] = INT64, error: Error = ValidationError
) -> int:
    """`value` as an int within `bounds` (a bool is not an int here: PostgreSQL keeps them apart)."""
    if type(value) is int and bounds[0] <= value <= bounds[1]:
        return value  # the common case first: ids and sizes on every write
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise error(f"{where}: expected an integer, got {show(value)} ({type(value).__name__})")
    number = int(value)
    low, high = bounds
    if not low <= number <= high:
        bits = 32 if bounds == INT32 else 64
        raise error(
            f"{where}: {show(number)} is outside the {bits}-bit integer range [{low}, {high}]; "
            "store larger numbers as a float or a string"
        )
    return number


def check_float(value: Any, where: str, *, allow_inf: bool = False, error: Error = ValidationError) -> float:
    """`value` as a number that is not NaN (and finite unless `allow_inf`)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(f"{where}: expected a number, got {show(value)} ({type(value).__name__})")
    if isinstance(value, numbers.Integral):
        return check_int(value, where, error=error)
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise error(
            f"{where}: {number!r} is not a finite number; SQLite and PostgreSQL do not store or compare "
            "NaN and infinities alike, so use None for a missing value"
        )
    return number


def check_bool(value: Any, where: str, *, error: Error = ValidationError) -> bool:
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_":  # numpy.bool_
        return bool(value)
    raise error(f"{where}: expected True or False, got {show(value)} ({type(value).__name__})")


def check_datetime(value: Any, where: str, *, error: Error = ValidationError) -> datetime:
    """A datetime; an ISO string is parsed, a date means its midnight (UTC)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        check_text(value, where, error=error)
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise error(
        f"{where}: expected a datetime or an ISO string like '2025-01-31T12:00', got {show(value)} "
        f"({type(value).__name__})"
    )


def check_date(value: Any, where: str, *, error: Error = ValidationError) -> date:
    """A date; an ISO string is parsed."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        check_text(value, where, error=error)
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise error(
        f"{where}: expected a date or an ISO string like '2025-01-31', got {show(value)} ({type(value).__name__})"
    )


def check_json(value: Any, where: str, *, error: Error = ValidationError) -> Any:
    """`value` as the plain JSON both databases store alike; numpy scalars become Python numbers.

    Refused: NaN and infinities (PostgreSQL's JSON has no token for them), ints past 64 bits (SQLite
    would turn them into lossy floats), text PostgreSQL cannot hold, types JSON has no form for, and
    nesting deeper than MAX_JSON_DEPTH (encoders and PostgreSQL recurse per level).
    """
    return _json(value, where, 0, error)


def _json(value: Any, where: str, depth: int, error: Error) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return check_text(value, where, error=error)
    if isinstance(value, int):
        return check_int(value, where, error=error)
    if isinstance(value, float):
        return check_float(value, where, error=error)
    if isinstance(value, dict | list | tuple):
        if depth >= MAX_JSON_DEPTH:
            raise error(
                f"{where}: the value is nested more than {MAX_JSON_DEPTH} levels deep; flatten it "
                "(e.g. join nested keys into one key like 'a.b.c')"
            )
        if isinstance(value, dict):
            checked = {}
            for key, item in value.items():
                if isinstance(key, str):
                    check_text(key, f"{where} (a key)", error=error)
                elif not (key is None or isinstance(key, int | float)):  # JSON writes these as strings
                    raise error(
                        f"{where}: the key {show(key)} ({type(key).__name__}) cannot be a JSON key; "
                        "use strings as keys"
                    )
                checked[key] = _json(item, where, depth + 1, error)
            return checked
        return [_json(item, where, depth + 1, error) for item in value]
    module = type(value).__module__
    if module == "numpy" and hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return _json(value.item(), where, depth, error)
    raise error(
        f"{where}: {show(value)} ({type(value).__name__}) cannot be stored as JSON; use None, bool, "
        "int, float, str, list or dict"
    )
