"""Feature names as lookups: `Artifact.filter(temperature__gt=20, experiment="My experiment")`.

Each condition becomes `owner.id IN (SELECT owner_id FROM <values of the feature> WHERE ...)`, run by
the database. Numbers are compared on the number the value links copy, one range of the index
`(feature_id, value_num, owner)`; equality on other plain values goes through the value hash (an index
lookup); text comparisons and dict sub-fields read the JSON value with the dialect's JSON functions.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    Float,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from lamella._instance import state
from lamella._limits import show
from lamella._query.compiler import _ids, _json_leaf, _resolve, leaf
from lamella._query.operands import TEXT_OPS, operand
from lamella._query.relations import model
from lamella.errors import InvalidArgument, ValidationError
from lamella.models.core.columns import JSONType
from lamella.models.features.dtypes import Dtype, check_value, parse
from lamella.models.features.feature import FeatureValue
from lamella.models.features.stores import (
    EXACT_INTEGER_LIMIT,
    ValueStore,
    features_by_name,
    store_for,
    value_hash,
)

_ORDER_OPS = {"gt", "gte", "lt", "lte", "range"}


def feature_condition(
    owner: Any, name: str, rest: list[str], op: str, value: Any, negate: bool
) -> ColumnElement[bool] | None:
    """The SQL condition of a lookup on feature `name`, or None when there is no such feature."""
    feature = features_by_name([name]).get(name)
    if feature is None or feature.dtype is None:
        return None
    store = store_for(owner)
    dtype = parse(feature.dtype)
    if op == "isnull" and not rest:
        value = operand(None, op, value, name)
        owners = _owners_with_any_value(store, feature.id, dtype)
        has_value = owner.id.in_(owners)
        condition = not_(has_value) if value else has_value
    elif dtype.is_cat:
        condition = owner.id.in_(_owners_with_labels(store, feature, dtype, rest, op, value))
    else:
        condition = owner.id.in_(_owners_with_values(store, feature, dtype, rest, [(op, value)]))
    return not_(condition) if negate else condition


def _owners_with_any_value(store: ValueStore, feature_id: int, dtype: Dtype) -> Any:
    if dtype.is_cat:
        selects = [
            select(getattr(link.link, link.owner_key)).where(link.link.feature_id == feature_id)
            for _, link in store.cat_links()
        ]
        return selects[0].union_all(*selects[1:]) if len(selects) > 1 else selects[0]
    if store.value_link is None:
        record_json = model("RecordJson")
        return select(record_json.record_id).where(record_json.feature_id == feature_id)

    link = store.value_link
    return select(getattr(link, store.owner_key)).where(link.feature_id == feature_id)


def _owners_with_labels(
    store: ValueStore, feature: Any, dtype: Dtype, rest: list[str], op: str, value: Any
) -> Any:

    selects = []
    for target in dtype.targets:
        registry = target.model()
        link = store.cat_link(registry)
        if link is None:
            continue
        if rest:
            labels = _resolve(registry, rest, op, value, False, f"{feature.name}__{'__'.join(rest)}")
        elif _holds_records(value):
            labels = leaf(
                registry.__table__.c.id, op, _ids(value), False, nullable=False, lookup=feature.name
            )
        else:
            field = getattr(registry, target.field_name())
            labels = leaf(field, op, value, False, nullable=True, lookup=feature.name)
        if target.type_name is not None:
            labels = and_(
                labels, registry.type_id.in_(select(registry.id).where(registry.name == target.type_name))
            )
        label_ids = select(registry.__table__.c.id).where(labels)
        selects.append(
            select(getattr(link.link, link.owner_key)).where(
                link.link.feature_id == feature.id, getattr(link.link, link.target_key).in_(label_ids)
            )
        )
    if not selects:
        raise InvalidArgument(f"{store.owner.__name__} records hold no values of feature {feature.name!r}")
    return selects[0].union_all(*selects[1:]) if len(selects) > 1 else selects[0]


def _holds_records(value: Any) -> bool:
    sample = next(iter(value), None) if isinstance(value, list | tuple | set) else value
    return hasattr(sample, "__table__") or type(value).__name__ == "QuerySet"


def feature_conditions(owner: Any, name: str, lookups: list[tuple[list[str], str, Any]]) -> Any:
    """Several lookups on one feature in one `filter()` call as one subquery, or None.

    As in Django, lookups in one call hold for the same value: `temperature__gt=20,
    temperature__lt=21` is one range of one index, not two subqueries each matching half the table.
    Label features, list features, sub-fields and `isnull` keep one subquery per lookup (None).
    """
    feature = features_by_name([name]).get(name)
    if feature is None or feature.dtype is None:
        return None
    dtype = parse(feature.dtype)
    if dtype.is_cat or dtype.is_list or any(rest or op == "isnull" for rest, op, _ in lookups):
        return None
    conditions = [(op, value) for _, op, value in lookups]
    return owner.id.in_(_owners_with_values(store_for(owner), feature, dtype, [], conditions))


def _owners_with_values(
    store: ValueStore, feature: Any, dtype: Dtype, rest: list[str], conditions: list[tuple[str, Any]]
) -> Any:
    record_json = model("RecordJson")
    link = store.value_link
    values_of = record_json if link is None else link  # the table with the owner and the number
    owner_column = getattr(values_of, "record_id" if link is None else store.owner_key)
    if not rest:
        numbers = [_number_condition(values_of.value_num, feature.name, dtype, op, v) for op, v in conditions]
        if all(n is not None for n in numbers):
            return select(owner_column).where(values_of.feature_id == feature.id, *numbers)
    column, hash_column = (
        (record_json.value, None) if link is None else (FeatureValue.value, FeatureValue.hash)
    )
    if rest:
        if dtype.base != "dict":
            raise InvalidArgument(
                f"feature {feature.name!r} ({dtype.text}) has no sub-field {rest[0]!r}; "
                "only dict features can be filtered by key"
            )
        lookup = f"{feature.name}__{'__'.join(rest)}"
        matches = [_json_leaf(column, rest, op, v, False, lookup=lookup) for op, v in conditions]
    else:
        matches = [_value_condition(feature.name, dtype, column, hash_column, op, v) for op, v in conditions]
    if link is None:
        return select(owner_column).where(record_json.feature_id == feature.id, *matches)
    values = select(FeatureValue.id).where(FeatureValue.feature_id == feature.id, *matches)
    return select(owner_column).where(link.feature_id == feature.id, link.featurevalue_id.in_(values))


def _number_condition(column: Any, name: str, dtype: Dtype, op: str, value: Any) -> Any:
    """A comparison of a number feature on the copied number column (an index range), or None.

    None when the JSON value must be compared: other dtypes and lookups, and whole numbers a double
    does not hold exactly.
    """
    if dtype.is_list or dtype.base not in ("int", "float", "num"):
        return None
    if op in ("exact", "in"):
        if op == "in" and (isinstance(value, str | dict) or not hasattr(value, "__iter__")):
            return None  # _value_condition raises the error that names the fix
        bounds: Any = [_normalize(name, dtype, v) for v in (value if op == "in" else [value])]
    elif op == "range":
        try:
            low, high = value
        except (TypeError, ValueError):
            return None
        bounds = [_normalize(name, dtype, low), _normalize(name, dtype, high)]
    elif op in _ORDER_OPS:
        bounds = [_normalize(name, dtype, value)]
    else:
        return None
    if any(isinstance(b, int) and abs(b) > EXACT_INTEGER_LIMIT for b in bounds):
        return None
    numbers = [float(b) for b in bounds]
    compared: Any = tuple(numbers) if op == "range" else numbers if op == "in" else numbers[0]
    return leaf(column, op, compared, False, nullable=True, lookup=name)


def _normalize(name: str, dtype: Dtype, value: Any) -> Any:
    scalar = Dtype(dtype.base, dtype.base)  # list features are matched element by element
    try:
        return check_value(name, scalar, value)
    except ValidationError as e:
        raise InvalidArgument(f"cannot filter by {name}={show(value)}: {e}") from None


def _value_condition(name: str, dtype: Dtype, column: Any, hash_column: Any, op: str, value: Any) -> Any:

    if op in ("exact", "in"):
        if op == "in" and (isinstance(value, str | dict) or not hasattr(value, "__iter__")):
            raise InvalidArgument(f"the lookup {name}__in takes a list, not {show(value)}")
        values = list(value) if op == "in" else [value]
        normalized = [_normalize(name, dtype, v) for v in values]
        if dtype.is_list:
            return or_(*[_list_contains(column, v) for v in normalized]) if normalized else literal(False)
        if hash_column is not None and dtype.base != "num":
            return hash_column.in_([value_hash(v) for v in normalized])
        if dtype.base == "dict":
            return or_(*[_json_equals(column, v) for v in normalized])
        scalar = _scalar(column, dtype)
        return scalar.in_(normalized) if len(normalized) != 1 else scalar == normalized[0]
    if dtype.is_list:
        raise InvalidArgument(f"feature {name!r} ({dtype.text}) supports exact, in and isnull lookups")
    if op in _ORDER_OPS:
        if dtype.base in ("bool", "dict"):
            raise InvalidArgument(f"feature {name!r} ({dtype.text}) cannot be compared with __{op}")
        if op == "range":
            try:
                low, high = value
            except (TypeError, ValueError):
                raise InvalidArgument(f"the lookup {name}__range takes (low, high), not {value!r}") from None
            bounds: Any = (_normalize(name, dtype, low), _normalize(name, dtype, high))
        else:
            bounds = _normalize(name, dtype, value)
        return leaf(_scalar(column, dtype), op, bounds, False, nullable=True, lookup=name)
    if op in TEXT_OPS:
        if dtype.base not in ("str", "path", "url", "date", "datetime"):
            raise InvalidArgument(
                f"feature {name!r} ({dtype.text}) is not text; __{op} works on text features"
            )
        return leaf(_scalar(column, dtype), op, value, False, nullable=True, lookup=name)
    raise InvalidArgument(f"unknown lookup {name}__{op}")


def _dialect() -> str:

    return state.current().db.dialect


def _scalar(column: Any, dtype: Dtype) -> Any:
    """The JSON value as an SQL scalar: a number for numeric dtypes, text otherwise."""
    numeric = dtype.base in ("int", "float", "num")
    if _dialect() == "postgresql":
        text = column.op("#>>", return_type=Text)(literal_column("'{}'"))
        if numeric:
            return case((func.jsonb_typeof(column) == "number", cast(text, Float)), else_=None)
        if dtype.base == "bool":
            return case((func.jsonb_typeof(column) == "boolean", text == "true"), else_=None)
        return text
    if numeric:
        # SQLite gives JSON columns NUMERIC affinity: numbers are stored as numbers and compare (and
        # use indexes) without json_extract, which costs more than the rest of the query
        stored = case((func.typeof(column) == "text", func.json_extract(column, "$")), else_=column)
        return type_coerce(stored, Float)  # bind the compared value as a number, not as JSON text
    return func.json_extract(column, "$")


def _json_equals(column: Any, value: Any) -> Any:
    """A whole JSON value equals `value` (dict keys are stored sorted, see _dtypes)."""

    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if _dialect() == "postgresql":
        return column == cast(literal(text), JSONType())
    return func.json(column) == func.json(literal(text))


def _list_contains(column: Any, element: Any) -> Any:

    if _dialect() == "postgresql":
        return column.op("@>")(cast(literal(json.dumps([element])), JSONType()))
    each = func.json_each(column).table_valued("value")
    return select(true()).select_from(each).where(each.c.value == element).exists()
