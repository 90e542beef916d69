"""Column types every registry uses: JSON, UTC timestamps, big integer keys; and the current time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, TypeDecorator

from lamella.errors import ValidationError


class JSONType(TypeDecorator[Any]):
    """JSON on SQLite, JSONB on PostgreSQL (indexable, with containment operators).

    Choosing the PostgreSQL type only when that dialect asks for it keeps
    `sqlalchemy.dialects.postgresql` out of `import lamella.models` on SQLite instances.
    """

    impl = JSON
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(none_as_null=True)  # Python None is SQL NULL, so `params__isnull=True` finds it

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(JSON(none_as_null=True))


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC and always returned timezone-aware (UTC).

    SQLite has no time zones: without this, 12:00+02:00 would be stored as 12:00 and compare wrong.
    Naive datetimes from users are taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValidationError(
                f"expected a datetime, not {value!r} ({type(value).__name__}); pass a datetime"
            )
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


BigInt = BigInteger().with_variant(Integer(), "sqlite")  # SQLite only autoincrements INTEGER keys


def utcnow() -> datetime:
    return datetime.now(UTC)


def number_of(stored: Any) -> float | None:
    """The number a value is, as value links and record values copy it for range queries.

    Whole numbers beyond 2**53 do not fit a double exactly; queries compare those through the JSON value.
    """
    if isinstance(stored, int | float) and not isinstance(stored, bool):
        return float(stored)
    return None
