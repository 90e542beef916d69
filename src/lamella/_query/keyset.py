"""Keyset pagination: the rows after a given row in a QuerySet's order.

`OFFSET n` makes the database walk past n rows before the page it returns, so a page deep into ten
million rows takes seconds. The rows after a known row are one index range instead: `(created_at,
id) < (:created_at, :id)` for `order_by("-created_at")`. `QuerySet.after(record)` and
`QuerySet.iterator()` page this way; the order always ends in the id, so that it is total and every
row has one place.

Keyset conditions need order columns without NULLs (SQLite sorts NULL first, PostgreSQL last, and a
NULL compares to nothing): orders on nullable columns page with OFFSET.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, literal, or_, tuple_
from sqlalchemy.sql import operators

from lamella.errors import InvalidArgument


@dataclass(frozen=True)
class OrderColumn:
    column: Any
    descending: bool


def order_columns(order: list[Any], id_column: Any) -> list[OrderColumn]:
    """The columns of an ORDER BY, each with its direction, ending in the id (a total order)."""
    columns = []
    for clause in order:
        descending = getattr(clause, "modifier", None) is operators.desc_op
        columns.append(OrderColumn(getattr(clause, "element", clause), descending))
    if not any(c.column is id_column for c in columns):
        columns.append(OrderColumn(id_column, columns[-1].descending if columns else False))
    return columns


def total_order(order: list[Any], id_column: Any) -> list[Any]:
    """`order` with the id appended when it is not in it: rows that tie keep one place between queries."""
    return [c.column.desc() if c.descending else c.column.asc() for c in order_columns(order, id_column)]


def pages_by_key(columns: list[OrderColumn]) -> bool:
    """Whether rows can be paged by key: every order column is a NOT NULL column of the table."""
    return all(
        getattr(c.column, "nullable", True) is False or getattr(c.column, "primary_key", False)
        for c in columns
    )


def after(columns: list[OrderColumn], record: Any) -> Any:
    """The condition "comes after `record`" in the order of `columns`."""
    values = []
    for c in columns:
        value = record.__dict__.get(c.column.key)
        if value is None:
            raise InvalidArgument(
                f"after() needs a saved record with a value for {c.column.key!r}: pass a record this "
                f"query returned"
            )
        values.append(literal(value, c.column.type))  # bound as the column binds it (UTC timestamps)
    if all(c.descending == columns[0].descending for c in columns):
        # one row-value comparison, which both databases read as one index range
        row = tuple_(*(c.column for c in columns))
        bound = tuple_(*values)
        return row < bound if columns[0].descending else row > bound
    # mixed directions: equal on the first i columns and past the record on the next one
    alternatives = []
    for i, c in enumerate(columns):
        equal = [columns[j].column == values[j] for j in range(i)]
        beyond = c.column < values[i] if c.descending else c.column > values[i]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)
