"""Django-style queries compiled to SQLAlchemy: QuerySet, Q and relation managers."""

from __future__ import annotations

# the managers register themselves with the relation descriptors on import
from lamella._query import managers as managers
from lamella._query.q import Q
from lamella._query.queryset import QuerySet

__all__ = ["Q", "QuerySet"]
