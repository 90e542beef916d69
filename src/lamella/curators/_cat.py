"""Categorical columns: their values checked against registries, standardized, or registered as new records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lamella._logging import logger
from lamella.curators._lookup import from_public, lookup, synonyms, type_id, type_record, unique_values
from lamella.errors import InvalidArgument
from lamella.models.core.bulk import save

if TYPE_CHECKING:
    from lamella.curators._base import Curator

_SHOWN = 20  # terms quoted in a message


@dataclass
class CatColumn:
    """One categorical column (or the index, or the column names) and what its values matched."""

    key: str  # how users name it in curator.cat calls: "perturbation", "obs:perturbation", "var_index"
    label: str  # how messages name it: "column 'perturbation'", "index", "var index"
    targets: tuple[Any, ...]  # CatTargets, tried in order
    dtype_text: str
    feature: Any  # the Feature whose values these are; None for column names or a var index
    read: Callable[[], Any]
    write: Callable[[dict[Any, Any]], None]
    is_list: bool = False
    checked: bool = False
    found: dict[Any, tuple[Any, int]] = field(default_factory=dict)  # value -> (registry, id)
    non_validated: list[Any] = field(default_factory=list)
    synonyms: dict[Any, Any] = field(default_factory=dict)  # non-validated value -> standard value
    missing_types: list[Any] = field(default_factory=list)  # typed targets whose type does not exist

    def validate(self) -> bool:
        values = unique_values(self.read(), self.is_list)
        remaining = values
        self.found = {}
        self.missing_types = []
        for target in self.targets:
            if not remaining:
                break
            registry = target.model()
            if target.type_name is not None and type_id(registry, target.type_name) is None:
                self.missing_types.append(target)
                continue
            hits = lookup(target, remaining)
            public = from_public(target, [v for v in remaining if v not in hits])
            if public:  # terms of the registry's public ontology are valid: saved, then found
                save(public)
                logger.info(
                    f"added {len(public)} {registry.__name__} record(s) from the public source for "
                    f"{self.key!r}: {_quoted([getattr(r, target.field_name()) for r in public])}"
                )
                hits = lookup(target, remaining)
            for value, record_id in hits.items():
                self.found[value] = (registry, record_id)
            remaining = [v for v in remaining if v not in hits]
        self.non_validated = remaining
        self.synonyms = {}
        for target in self.targets:
            todo = [v for v in remaining if v not in self.synonyms]
            if not todo or target in self.missing_types:
                continue
            self.synonyms.update(synonyms(target, todo))
        self.checked = True
        return not self.non_validated

    def ensure_checked(self) -> None:
        if not self.checked:
            self.validate()

    @property
    def field_text(self) -> str:
        return " or ".join(f"{_registry_text(t)}.{t.field_name()}" for t in self.targets)

    def problem(self) -> str | None:
        if not self.non_validated:
            return None
        n = len(self.non_validated)
        lines = [
            f"{self.label} ({self.dtype_text}): {n} term{'s are' if n != 1 else ' is'} not validated "
            f"in {self.field_text}: {_quoted(self.non_validated)}"
        ]
        for target in self.missing_types:
            registry = target.model()
            lines.append(
                f"  → the type {target.type_name!r} of {registry.__name__} does not exist; create it: "
                f"{_registry_text(target)}(name={target.type_name!r}, is_type=True).save()"
            )
        if self.synonyms:
            pairs = ", ".join(f"{k!r} → {v!r}" for k, v in list(self.synonyms.items())[:_SHOWN])
            lines.append(
                f"  → synonyms or case variants of validated terms: {pairs}; "
                f"replace them with the validated terms: curator.cat.standardize({self.key!r})"
            )
        new = [v for v in self.non_validated if v not in self.synonyms]
        if new:
            target = self.targets[0]
            if self.feature is None and target.model().__name__ == "Feature":
                lines.append(
                    f"  → fix typos, or register the features: ln.Feature(name={new[0]!r}, dtype=...).save()"
                )
            else:
                lines.append(
                    f"  → fix typos, remove non-existent values, or save the terms: "
                    f"curator.cat.add_new_from({self.key!r}), or one by one: {_create_call(target, new[0])}"
                )
        return "\n".join(lines)

    def by_registry(self) -> dict[Any, list[int]]:
        grouped: dict[Any, list[int]] = {}
        for registry, record_id in self.found.values():
            grouped.setdefault(registry, []).append(record_id)
        return grouped

    def records(self) -> list[Any]:
        """The matched records, in the order their values first appear."""
        records: list[Any] = []
        for registry, ids in self.by_registry().items():
            by_id = {r.id: r for r in registry.filter(id__in=ids)}
            records.extend(by_id[i] for i in ids if i in by_id)
        return records


def _registry_text(target: Any) -> str:
    return target.registry if "." in target.registry else f"ln.{target.registry}"


def _create_call(target: Any, value: Any) -> str:
    type_part = ""
    if target.type_name is not None:
        type_part = f", type={_registry_text(target)}.get(name={target.type_name!r}, is_type=True)"
    return f"{_registry_text(target)}({target.field_name()}={value!r}{type_part}).save()"


def _quoted(values: list[Any]) -> str:
    shown = ", ".join(repr(v) for v in values[:_SHOWN])
    return shown + (f", ... ({len(values)} in all)" if len(values) > _SHOWN else "")


class CatManager:
    """`curator.cat`: the categorical columns of a curator, validated against their registries.

    Keys are column names ("perturbation"), for AnnData prefixed with the slot ("obs:perturbation", the
    prefix may be left out when the name is unique), "var_index" for the var index, "index" for an index
    feature, and "all" for every column where that makes sense.
    """

    def __init__(self, curator: Curator) -> None:
        self._curator = curator

    def _columns(self) -> dict[str, CatColumn]:
        return self._curator._cat_columns()

    def _resolve(self, key: str) -> CatColumn:
        columns = self._columns()
        if key in columns:
            return columns[key]
        matches = [c for k, c in columns.items() if k.split(":", 1)[-1] == key or k.replace(":", "_") == key]
        if len(matches) == 1:
            return matches[0]
        valid = ", ".join(repr(k) for k in columns) or "none"
        if len(matches) > 1:
            raise InvalidArgument(f"{key!r} names several columns; use one of: {valid}")
        raise InvalidArgument(f"{key!r} is not a categorical column of this dataset; valid keys: {valid}")

    def _selected(self, key: str) -> list[CatColumn]:
        return list(self._columns().values()) if key == "all" else [self._resolve(key)]

    @property
    def non_validated(self) -> dict[str, list[Any]]:
        """{key: terms} of the values not found in the registries (validates the columns not yet checked)."""
        result = {}
        for key, column in self._columns().items():
            column.ensure_checked()
            if column.non_validated:
                result[key] = list(column.non_validated)
        return result

    @property
    def keys(self) -> list[str]:
        return list(self._columns())

    def validate(self) -> bool:
        """Check every categorical column against its registries; True when all values are found."""
        return all([column.validate() for column in self._columns().values()])

    def standardize(self, key: str) -> None:
        """Replace synonyms and case variants by the validated terms, in the dataset itself."""
        for column in self._selected(key):
            column.ensure_checked()
            if column.synonyms:
                column.write(dict(column.synonyms))
                column.validate()

    def add_new_from(self, key: str, **kwargs: Any) -> None:
        """Save the non-validated terms of a column as new records of its (first) registry, then revalidate.

        Terms that are synonyms of existing records are left out: standardize them instead.
        """

        for column in self._selected(key):
            column.ensure_checked()
            new = [v for v in column.non_validated if v not in column.synonyms]
            if column.synonyms:
                logger.warning(
                    f"not adding {len(column.synonyms)} synonym(s) of existing terms for {column.key!r}; "
                    f"use curator.cat.standardize({column.key!r})"
                )
            if not new:
                continue
            target = column.targets[0]
            registry = target.model()
            if registry.__name__ == "Feature":
                raise InvalidArgument(
                    f"features need a dtype: create them one by one, e.g. ln.Feature(name={new[0]!r}, dtype=...).save()"
                )
            extra = dict(kwargs)
            if target.type_name is not None and "type" not in extra:
                record_type = type_record(target)
                if record_type is None:
                    raise InvalidArgument(
                        f"the type {target.type_name!r} of {registry.__name__} does not exist; create it first: "
                        f"{_registry_text(target)}(name={target.type_name!r}, is_type=True).save()"
                    )
                extra["type"] = record_type
            field_name = target.field_name()
            column_type = registry.__table__.c[field_name].type
            if getattr(column_type, "python_type", None) is str or hasattr(column_type, "length"):
                new = list(dict.fromkeys(v if isinstance(v, str) else str(v) for v in new))
            if hasattr(registry, "public") and not extra:
                # a registry with a public ontology (bionty): terms it has come from it, with their ids,
                # synonyms and parents; the others become new records
                records = list(registry.from_values(new, field=field_name, create=True, mute=True))
            else:
                records = [registry(**{field_name: value}, **extra) for value in new]
            save(records)
            logger.info(
                f"added {len(records)} {registry.__name__} record(s) for {column.key!r}: {_quoted(new)}"
            )
            column.validate()

    def __repr__(self) -> str:
        return f"CatManager(keys={self.keys!r})"
