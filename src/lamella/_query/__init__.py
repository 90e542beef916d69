"""Django-style queries compiled to SQLAlchemy: QuerySet, Q and relation managers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lamella._query.q import Q

__all__ = ["Q", "QuerySet"]

if TYPE_CHECKING:
    from lamella._query.queryset import QuerySet


def __getattr__(name: str) -> Any:
    if name == "QuerySet":
        from lamella._query.queryset import QuerySet

        return QuerySet
    raise AttributeError(name)
