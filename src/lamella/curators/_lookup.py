"""Categorical values looked up in registries: unique values only, `field IN (...)` in chunks."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import String, select

from lamella._instance import state
from lamella.errors import LamellaError, ValidationError

_CHUNK = 10_000


def unique_values(values: Any, is_list: bool = False) -> list[Any]:
    """The distinct non-null values of a column, index or list, in order of appearance, as Python objects."""

    if isinstance(values, list | tuple):
        values = pd.Series(list(values), dtype=object)
    if is_list:
        values = pd.Series(values).explode()
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        series = pd.Series(values)
        codes = pd.unique(series.cat.codes.to_numpy())
        categories = series.cat.categories
        return [_python(categories[int(code)]) for code in codes if code >= 0]
    uniques = pd.unique(pd.Series(values).dropna().to_numpy())
    return [_python(v) for v in uniques.tolist()]


def _python(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and type(value).__module__ == "numpy" else value


def type_id(registry: Any, type_name: str) -> int | None:
    """The id of the type record `type_name` of `registry` (e.g. the ULabel "Perturbation")."""

    table = registry.__table__
    if "type_id" not in table.c or "is_type" not in table.c:
        raise ValidationError(
            f"{registry.__name__} has no types, so {registry.__name__}[{type_name}] means nothing"
        )
    conditions = [table.c.name == type_name, table.c.is_type.is_(True)]
    if "branch_id" in table.c:
        conditions.append(table.c.branch_id == 1)
    session = state.current().db.session()
    return session.execute(select(table.c.id).where(*conditions).order_by(table.c.id).limit(1)).scalar()


def lookup(target: Any, values: list[Any]) -> dict[Any, int]:
    """{value: record id} for the values found in the target's registry field (within its type)."""

    if not values:
        return {}
    registry = target.model()
    field = target.field_name()
    table = registry.__table__
    if field not in table.c:
        raise ValidationError(f"{registry.__name__} has no field {field!r} to validate values against")
    column = table.c[field]
    conditions = []
    if target.type_name is not None:
        found_type = type_id(registry, target.type_name)
        if found_type is None:
            return {}
        conditions.append(table.c.type_id == found_type)
    if "branch_id" in table.c:
        conditions.append(table.c.branch_id == 1)
    as_text = isinstance(column.type, String)
    keys = {value: (str(value) if as_text and not isinstance(value, str) else value) for value in values}
    by_key: dict[Any, int] = {}
    session = state.current().db.session()
    wanted = list(dict.fromkeys(keys.values()))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        statement = select(column, table.c.id).where(column.in_(chunk), *conditions).order_by(table.c.id)
        for key, record_id in session.execute(statement):
            by_key.setdefault(key, int(record_id))
    return {value: by_key[key] for value, key in keys.items() if key in by_key}


def from_public(target: Any, values: list[Any]) -> list[Any]:
    """Unsaved records for the values a bionty registry's public source has, exactly, in the target's
    field: LaminDB's curators count them as validated and save them ("added 3 records from public").

    Synonyms are left out (the curator offers `standardize` for them), as are typed targets, registries
    without a public source and read-only instances.
    """
    registry = target.model()
    if not values or target.type_name is not None or not hasattr(registry, "public"):
        return []
    if state.current().read_only:
        return []
    field = target.field_name()
    try:
        records = registry.from_values(values, field=field, mute=True)
    except LamellaError:  # no source ships for it, or genes whose organism nothing names
        return []
    wanted = set(values)
    return [r for r in records if r.__dict__.get("id") is None and getattr(r, field) in wanted]


def synonyms(target: Any, values: list[Any]) -> dict[Any, Any]:
    """{value: standard value} for values that are synonyms (or case variants) of allowed records."""
    if not values:
        return {}
    registry = target.model()
    inspect = getattr(registry, "inspect", None)
    if inspect is None:
        return {}
    try:
        result = inspect(values, field=target.field_name(), mute=True)
    except Exception:  # a registry without synonyms or case variants to offer
        return {}
    mapper = dict(getattr(result, "synonyms_mapper", {}) or {})
    if not mapper:
        return {}
    allowed = lookup(target, list(dict.fromkeys(mapper.values())))  # within the target's type
    return {value: standard for value, standard in mapper.items() if standard in allowed}


def type_record(target: Any) -> Any:
    """The type record of a typed target (`ULabel[Perturbation]` -> the ULabel "Perturbation")."""
    if target.type_name is None:
        return None
    registry = target.model()
    found = type_id(registry, target.type_name)
    if found is None:
        return None
    return registry.get(id=found)
