"""`PublicOntology`: one public source as a table, with search, validate, standardize and lookup.

The object is shared by every `public()` call of a process for the same source, version and
organism, so what it computes once (lowercase names for search, value sets for validate, synonym
maps for standardize) it keeps: a search over 79 k human genes is one pass over a list of strings.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from lamella._logging import logger
from lamella.bionty.sources._lookup import Lookup, attribute_name
from lamella.errors import DoesNotExist, InvalidArgument

Keep = Literal["first", "last", False]
# search ranks, best first
_EXACT, _PREFIX, _SYNONYM, _SYNONYM_PREFIX, _CONTAINS, _OTHER = range(6)
_NONE = 99


@dataclass
class InspectResult:
    """What `inspect()` found: the values in the source and the ones not in it (unique, in order)."""

    validated: list[str]
    non_validated: list[str]
    synonyms_mapper: dict[str, str] = field(default_factory=dict)  # non-validated value -> standard one

    def __repr__(self) -> str:
        return f"InspectResult(validated={len(self.validated)}, non_validated={self.non_validated[:10]!r})"


class PublicOntology:
    """A public source (ontology, gene or organism table), read offline. Made by `public()`."""

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        entity: str,
        source: str,
        version: str,
        organism: str | None = None,
        name_field: str = "name",
    ) -> None:
        self.entity = entity
        self.source = source
        self.version = version
        self.organism = organism
        self._frame = frame
        self._id_field = str(frame.index.name)
        self._name_field = name_field
        self._lists: dict[str, list[Any]] = {}
        self._lower_lists: dict[str, list[str]] = {}
        self._sets: dict[str, frozenset[Any]] = {}
        self._positions: dict[str, dict[Any, int]] = {}
        self._maps: dict[tuple[str, str, bool, Keep], tuple[tuple[dict[str, Any], bool], ...]] = {}
        self._lengths: np.ndarray | None = None

    def __repr__(self) -> str:
        organism = f", organism={self.organism!r}" if self.organism else ""
        return (
            f"PublicOntology(entity={self.entity!r}, source={self.source!r}, version={self.version!r}"
            f"{organism}, {len(self._frame):,} terms)"
        )

    def __len__(self) -> int:
        return len(self._frame)

    @property
    def fields(self) -> list[str]:
        return [self._id_field, *map(str, self._frame.columns)]

    # --- the table -------------------------------------------------------------------------------

    def to_dataframe(self) -> pd.DataFrame:
        """Every (non-deprecated) term, indexed by the id field; a copy, safe to change."""
        return self._frame.copy()

    df = to_dataframe  # LaminDB's older name

    # --- columns, computed once -----------------------------------------------------------------

    def _field(self, field: Any) -> str:
        """The column `field` names (a str, or a registry field such as `bt.Gene.symbol`)."""
        if field is None:
            return self._name_field
        name = (
            getattr(field, "key", None) or getattr(field, "name", None)
            if not isinstance(field, str)
            else field
        )
        if name in ("ontology_id", self._id_field):
            return self._id_field
        if name in self._frame.columns:
            return str(name)
        raise InvalidArgument(
            f"{self.source} {self.version} has no field {field!r}; fields: {', '.join(self.fields)}"
        )

    def _values(self, column: str) -> list[Any]:
        values = self._lists.get(column)
        if values is None:
            series = self._frame.index if column == self._id_field else self._frame[column]
            values = self._lists[column] = series.tolist()
        return values

    def _lower(self, column: str) -> list[str]:
        lower = self._lower_lists.get(column)
        if lower is None:
            lower = self._lower_lists[column] = [
                v.lower() if isinstance(v, str) else "" for v in self._values(column)
            ]
        return lower

    def _set(self, column: str) -> frozenset[Any]:
        values = self._sets.get(column)
        if values is None:
            values = self._sets[column] = frozenset(v for v in self._values(column) if v is not None)
        return values

    def _position(self, column: str) -> dict[Any, int]:
        """value -> the row of its first occurrence."""
        positions = self._positions.get(column)
        if positions is None:
            positions = {}
            for index, value in enumerate(self._values(column)):
                if value is not None:
                    positions.setdefault(value, index)
            self._positions[column] = positions
        return positions

    def _row(self, position: int) -> dict[str, Any]:
        row = {name: self._values(name)[position] for name in self.fields}
        parents = row.get("parents")
        if parents is not None and not isinstance(parents, list):
            row["parents"] = list(parents)
        return row

    # --- search ----------------------------------------------------------------------------------

    def search(self, text: str, field: Any = None, limit: int | None = 20) -> pd.DataFrame:
        """Terms matching `text` (case-insensitive), best first.

        Order: exact name, name prefix, exact synonym, synonym prefix, name contains, synonym or
        description contains; ties go to the shorter name. With `field`, only that column is searched.
        """
        if not isinstance(text, str) or not text.strip():
            raise InvalidArgument(f"search() takes a non-empty string, not {text!r}")
        query = text.strip().lower()
        rank = np.full(len(self._frame), _NONE, dtype=np.int8)
        if field is None:
            self._rank_column(rank, self._name_field, query, (_EXACT, _PREFIX, _CONTAINS))
            if "synonyms" in self._frame.columns:
                self._rank_synonyms(rank, query)
            if "description" in self._frame.columns:
                self._rank_column(rank, "description", query, (_OTHER, _OTHER, _OTHER))
            exact_id = self._position(self._id_field).get(text.strip())
            if exact_id is not None:
                rank[exact_id] = _EXACT
        elif self._field(field) == "synonyms":
            self._rank_synonyms(rank, query)
        else:
            self._rank_column(rank, self._field(field), query, (_EXACT, _PREFIX, _CONTAINS))
        found = np.flatnonzero(rank != _NONE)
        # np.lexsort is stable: among equal rank and length the source's order stays
        order = found[np.lexsort((self._name_lengths()[found], rank[found]))]
        if limit is not None:
            order = order[:limit]
        return self._frame.iloc[order].copy()

    def _name_lengths(self) -> np.ndarray:
        if self._lengths is None:
            self._lengths = np.fromiter((len(v) for v in self._lower(self._name_field)), np.int32)
        return self._lengths

    def _rank_column(self, rank: np.ndarray, column: str, query: str, ranks: tuple[int, int, int]) -> None:
        exact, prefix, contains = ranks
        lower = self._lower(column)
        for index in [i for i, value in enumerate(lower) if query in value]:
            value = lower[index]
            best = exact if value == query else prefix if value.startswith(query) else contains
            if best < rank[index]:
                rank[index] = best

    def _rank_synonyms(self, rank: np.ndarray, query: str) -> None:
        lower = self._lower("synonyms")
        for index in [i for i, value in enumerate(lower) if query in value]:
            synonyms = lower[index].split("|")
            if query in synonyms:
                best = _SYNONYM
            elif any(s.startswith(query) for s in synonyms):
                best = _SYNONYM_PREFIX
            else:
                best = _OTHER
            if best < rank[index]:
                rank[index] = best

    # --- validation ------------------------------------------------------------------------------

    def validate(self, values: Any, field: Any = None) -> np.ndarray:
        """For each value, whether it is a value of `field` (default: the name; genes: the symbol)."""
        known = self._set(self._field(field))
        items, _ = _as_list(values)
        return np.fromiter((_hashable(v) and v in known for v in items), dtype=bool, count=len(items))

    def inspect(self, values: Any, field: Any = None) -> InspectResult:
        """The values in the source and those not; logs how many of the others synonyms would fix."""
        column = self._field(field)
        items, _ = _as_list(values)
        flags = self.validate(items, column)
        validated = _unique(v for v, ok in zip(items, flags, strict=True) if ok)
        non_validated = _unique(v for v, ok in zip(items, flags, strict=True) if not ok)
        mapper: dict[str, str] = {}
        if non_validated:
            standardized = self.standardize(non_validated, field=column)
            mapper = {
                old: new
                for old, new in zip(non_validated, standardized, strict=True)
                if new != old and new in self._set(column)
            }
            shown = ", ".join(repr(v) for v in non_validated[:10]) + (
                ", ..." if len(non_validated) > 10 else ""
            )
            logger.warning(f"{len(non_validated)} value(s) not in {self.source} {self.version}: {shown}")
            if mapper:
                logger.info(
                    f"{len(mapper)} of them can be standardized via synonyms: "
                    f"use .standardize(values, field={column!r})"
                )
        return InspectResult(validated, non_validated, mapper)

    def standardize(
        self,
        values: Any,
        field: Any = None,
        return_field: Any = None,
        case_sensitive: bool = True,
        keep: Keep = "first",
    ) -> Any:
        """Values mapped to their standard form: synonyms (and with `case_sensitive=False` case
        variants) of `field` become the `return_field` value of their term; others stay as they are.

        `keep`: when a value maps to several terms, "first" or "last" picks one, False leaves it as is.
        A str in gives a str out, anything else a list.
        """
        if keep not in ("first", "last", False):
            raise InvalidArgument(f"keep must be 'first', 'last' or False, not {keep!r}")
        column = self._field(field)
        target = self._field(return_field) if return_field is not None else column
        items, single = _as_list(values)
        maps = self._standard_maps(column, target, bool(case_sensitive), keep)
        out: list[Any] = []
        for value in items:
            found = None
            if isinstance(value, str):
                lower = value.lower()
                for mapping, by_lowercase in maps:
                    found = mapping.get(lower if by_lowercase else value)
                    if found is not None:
                        break
            out.append(value if found is None else found)
        return out[0] if single else out

    def _standard_maps(
        self, column: str, target: str, case_sensitive: bool, keep: Keep
    ) -> tuple[tuple[dict[str, Any], bool], ...]:
        """(mapping, keyed by lowercase) pairs, tried in order: values and synonyms -> target, then,
        when not case-sensitive, the same keyed by lowercase."""
        key = (column, target, case_sensitive, keep)
        maps = self._maps.get(key)
        if maps is not None:
            return maps
        values, targets = self._values(column), self._values(target)
        pairs = [(v, t) for v, t in zip(values, targets, strict=True) if isinstance(v, str) and t is not None]
        synonym_pairs: list[tuple[str, Any]] = []
        if column == self._name_field and "synonyms" in self._frame.columns:
            for synonyms, t in zip(self._values("synonyms"), targets, strict=True):
                if isinstance(synonyms, str) and t is not None:
                    synonym_pairs.extend((s, t) for s in synonyms.split("|") if s)
        built = [(_mapping(pairs, keep), False), (_mapping(synonym_pairs, keep), False)]
        if not case_sensitive:
            built.append((_mapping([(v.lower(), t) for v, t in pairs], keep), True))
            built.append((_mapping([(s.lower(), t) for s, t in synonym_pairs], keep), True))
        maps = self._maps[key] = tuple(built)
        return maps

    # --- single terms ----------------------------------------------------------------------------

    def lookup(self, field: Any = None) -> Lookup:
        """The terms as attributes of normalized `field` values: `lookup.gamma_delta_t_cell`."""
        column = self._field(field)
        positions: dict[str, int] = {}
        for index, value in enumerate(self._values(column)):
            if isinstance(value, str) and value:
                positions.setdefault(attribute_name(value) or value, index)
        # a type made here: the columns are known only now (rename: a column that is no identifier)
        record: Any = namedtuple("Term", self.fields, rename=True)  # type: ignore[misc]

        def row(position: int) -> Any:
            return record(*self._row(position).values())

        return Lookup(positions, row, f"{self.source} {self.version}")

    def get(self, value: Any, field: Any = None) -> dict[str, Any]:
        """The term whose `field` is `value` (default: the id, then the name), as a dict."""
        columns = [self._field(field)] if field is not None else [self._id_field, self._name_field]
        for column in columns:
            position = self._position(column).get(value) if _hashable(value) else None
            if position is not None:
                return self._row(position)
        where = f"{columns[0]}" if field is not None else f"{self._id_field} or {self._name_field}"
        raise DoesNotExist(
            f"no term with {where} {value!r} in {self.source} {self.version}; "
            f"find it with .search({str(value)!r})"
        )


def _as_list(values: Any) -> tuple[list[Any], bool]:
    """(values as a list, whether a single str came in)."""
    if isinstance(values, str):
        return [values], True
    if isinstance(values, pd.Series | pd.Index | np.ndarray):
        return values.tolist(), False
    if isinstance(values, Iterable) and not isinstance(values, bytes | dict):
        return list(values), False
    raise InvalidArgument(
        f"values must be a str or a list, Series or Index of str, not {type(values).__name__}"
    )


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _mapping(pairs: list[tuple[str, Any]], keep: Keep) -> dict[str, Any]:
    if keep == "first":
        out: dict[str, Any] = {}
        for key, target in pairs:
            out.setdefault(key, target)
        return out
    if keep == "last":
        return dict(pairs)
    # keep=False: a key that maps to several distinct targets is left unmapped
    targets: dict[str, set[Any]] = {}
    for key, target in pairs:
        targets.setdefault(key, set()).add(target)
    return {key: next(iter(found)) for key, found in targets.items() if len(found) == 1}
