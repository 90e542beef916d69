"""`Q` objects: lookups combined with `&`, `|` and `~`."""

from __future__ import annotations

from typing import Any

from lamella.errors import InvalidArgument


class Q:
    """A condition tree, e.g. `Q(key__startswith="a/") | ~Q(suffix=".csv")`."""

    AND = "AND"
    OR = "OR"

    def __init__(self, *children: Q, _connector: str = "AND", _negated: bool = False, **lookups: Any) -> None:
        for child in children:
            if not isinstance(child, Q):
                raise InvalidArgument(f"Q() takes other Q objects and keyword lookups, not {child!r}")
        self.children: list[Q | tuple[str, Any]] = [*children, *sorted(lookups.items())]
        self.connector = _connector
        self.negated = _negated

    def _combine(self, other: Q, connector: str) -> Q:
        if not isinstance(other, Q):
            return NotImplemented
        return Q(self, other, _connector=connector)

    def __and__(self, other: Q) -> Q:
        return self._combine(other, self.AND)

    def __or__(self, other: Q) -> Q:
        return self._combine(other, self.OR)

    def __invert__(self) -> Q:
        return Q(self, _negated=True)

    def lookup_names(self) -> list[str]:
        names: list[str] = []
        for child in self.children:
            if isinstance(child, Q):
                names.extend(child.lookup_names())
            else:
                names.append(child[0])
        return names

    def __repr__(self) -> str:
        inner = f" {self.connector} ".join(
            repr(c) if isinstance(c, Q) else f"{c[0]}={c[1]!r}" for c in self.children
        )
        return f"{'~' if self.negated else ''}Q({inner})"


Q.__module__ = "lamella"  # public as `lamella.Q`: the name reprs show and pickle records
