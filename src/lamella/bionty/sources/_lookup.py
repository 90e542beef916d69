"""`public.lookup()`: the terms as attributes, for tab completion (`lookup.gamma_delta_t_cell`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from lamella.errors import DoesNotExist

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def attribute_name(value: str) -> str:
    """ "gamma-delta T cell" -> "gamma_delta_t_cell"; "3'UTR" -> "_3_utr" (attributes start with no digit)."""
    key = _NOT_ALNUM.sub("_", value.lower()).strip("_")
    return f"_{key}" if key[:1].isdigit() else key


class Lookup(Mapping[str, Any]):
    """Rows by normalized name: `lookup.neuron`, `lookup["neuron"]`, `dict(lookup)`, `for key in lookup`.

    Rows are built on access (a namedtuple with the table's columns), so a lookup of 575 k proteins
    costs one dict of keys, not 575 k rows. When two values normalize to one key, the first row wins.
    """

    def __init__(self, positions: dict[str, int], row: Callable[[int], Any], what: str) -> None:
        self._positions = positions
        self._row = row
        self._what = what

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        position = self.__dict__.get("_positions", {}).get(key)
        if position is None:
            raise AttributeError(f"{self._what} has no term {key!r}; see dir(lookup) or lookup.keys()")
        return self._row(position)

    def __getitem__(self, key: str) -> Any:
        position = self._positions.get(key)
        if position is None and isinstance(key, str):
            position = self._positions.get(attribute_name(key))
        if position is None:
            raise DoesNotExist(f"{self._what} has no term {key!r}; search it with .search({key!r})")
        return self._row(position)

    def __contains__(self, key: object) -> bool:
        return key in self._positions or (isinstance(key, str) and attribute_name(key) in self._positions)

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self:
            return default
        return self[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)

    def __dir__(self) -> list[str]:
        return list(self._positions)

    def dict(self) -> dict[str, Any]:
        """Every row by its key (LaminDB's `lookup().dict()`)."""
        return {key: self._row(position) for key, position in self._positions.items()}

    def __repr__(self) -> str:
        return f"Lookup of {self._what}: {len(self._positions)} terms, e.g. {', '.join(list(self._positions)[:3])}"
