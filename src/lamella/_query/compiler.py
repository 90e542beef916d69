"""Compile Django-style lookups (`run__transform__key__startswith="x"`) to SQLAlchemy conditions.

To-one steps become `fk IN (SELECT id FROM target WHERE ...)` and to-many steps
`id IN (SELECT link.owner_id FROM link WHERE ...)`: uncorrelated subqueries that the planners of
SQLite and PostgreSQL run once, and that never repeat a row, so no DISTINCT is needed.
Negation follows Django: `exclude(description="x")` keeps rows whose description is NULL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, and_, false, func, not_, or_, select, true
from sqlalchemy.orm import RelationshipDirection
from sqlalchemy.sql.elements import ColumnElement

from lamella._instance import state
from lamella._limits import check_text, show
from lamella._query.operands import operand
from lamella._query.q import Q
from lamella._query.relations import ManyToMany, ReverseForeignKey
from lamella._uid import encode_version
from lamella.errors import InvalidArgument

OPERATORS = frozenset(
    {
        "exact",
        "iexact",
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "in",
        "gt",
        "gte",
        "lt",
        "lte",
        "isnull",
        "range",
        "regex",
        "iregex",
    }
)
_LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def compile_q(model: Any, q: Q, negate: bool = False) -> ColumnElement[bool]:
    negate = negate != q.negated
    # De Morgan: with negation pushed to the leaves, AND becomes OR and vice versa
    use_and = (q.connector == Q.AND) != negate
    children = list(q.children)
    parts: list[ColumnElement[bool]] = []
    if use_and and not negate:
        parts, children = _compile_together(model, children)
    for child in children:
        if isinstance(child, Q):
            parts.append(compile_q(model, child, negate))
        else:
            parts.append(compile_lookup(model, child[0], child[1], negate))
    if not parts:
        return false() if negate else true()
    return and_(*parts) if use_and else or_(*parts)


def _compile_together(model: Any, children: list[Any]) -> tuple[list[ColumnElement[bool]], list[Any]]:
    """Lookups ANDed on one name that is no field of `model` (a feature), compiled as one condition.

    Returns the conditions made and the children left to compile one by one.
    """
    together = getattr(model, "_resolve_unknown_lookups", None)
    if together is None:
        return [], children
    mapper = model.__mapper__
    relations = getattr(model, "_relations", {})
    by_name: dict[str, list[tuple[str, Any]]] = {}
    for child in children:
        if isinstance(child, Q):
            continue
        name = split_lookup(child[0])[0][0]
        known = name in mapper.attrs or name in relations or name in getattr(model, "_field_aliases", {})
        if known or f"{name}s" in relations or name == "pk":
            continue
        by_name.setdefault(name, []).append(child)
    parts: list[ColumnElement[bool]] = []
    consumed: set[int] = set()
    for name, lookups in by_name.items():
        if len(lookups) < 2:
            continue
        for path, _ in lookups:
            check_text(path, f"{model.__name__} lookup {show(path)}", error=InvalidArgument)
        split = [(*split_lookup(path), value) for path, value in lookups]
        condition = together(name, [(parts_[1:], op, value) for parts_, op, value in split])
        if condition is not None:
            parts.append(condition)
            consumed.update(id(child) for child in lookups)
    return parts, [child for child in children if id(child) not in consumed]


def split_lookup(path: str) -> tuple[list[str], str]:
    parts = path.split("__")
    if len(parts) > 1 and parts[-1] in OPERATORS:
        return parts[:-1], parts[-1]
    return parts, "exact"


def compile_lookup(model: Any, path: str, value: Any, negate: bool = False) -> ColumnElement[bool]:
    # the path reaches SQL too: a feature name, or the keys of a JSON field
    check_text(path, f"{model.__name__} lookup {show(path)}", error=InvalidArgument)
    parts, op = split_lookup(path)
    return _resolve(model, parts, op, value, negate, path)


def valid_fields(model: Any) -> list[str]:
    mapper = model.__mapper__
    names = {c.key for c in mapper.column_attrs if not c.key.startswith("_")}
    names |= {r.key for r in mapper.relationships if r.direction is RelationshipDirection.MANYTOONE}
    names |= {k for k in getattr(model, "_relations", {}) if not k.startswith("_")}
    return sorted(names)


def _unknown(model: Any, name: str, path: str) -> InvalidArgument:
    return InvalidArgument(
        f"{model.__name__} has no field {name!r} (in lookup {path!r}); valid fields: {', '.join(valid_fields(model))}"
    )


def _resolve(
    model: Any, parts: list[str], op: str, value: Any, negate: bool, path: str
) -> ColumnElement[bool]:
    name, rest = parts[0], parts[1:]
    name = getattr(model, "_field_aliases", {}).get(name, name)
    if name == "pk":
        name = "id"
    mapper = model.__mapper__
    relations = getattr(model, "_relations", {})
    resolver = getattr(model, "_resolve_unknown_lookup", None)
    if (
        name not in mapper.attrs
        and name not in relations
        and f"{name}s" in relations
        and not (_is_text(value) and resolver is not None)
    ):
        # the singular spelling of a to-many relation: `project=p` for `projects`; a text value, or a
        # feature of that name, is a feature's (`cell_type="neuron"` and, with a feature `cell_type`,
        # `cell_type__isnull=False` filter by the feature; `cell_types__name=` by the relation)
        resolved = resolver(name, rest, op, value, negate) if resolver is not None else None
        if resolved is not None:
            return resolved
        name = f"{name}s"
    if name == "version" and not rest and "version_tag" in mapper.column_attrs and op in ("exact", "in"):
        return _version_leaf(model, op, value, negate)
    if name in mapper.column_attrs:
        column = getattr(model, name)
        if rest:
            if _is_json(column.type):
                return _json_leaf(column, rest, op, value, negate, lookup=path)
            return _resolve_fk_column(model, name, rest, op, value, negate, path)
        return leaf(column, op, _coerce(value), negate, nullable=bool(column.nullable), lookup=path)
    if name in mapper.relationships:
        relationship = mapper.relationships[name]
        if relationship.direction is not RelationshipDirection.MANYTOONE:
            raise _unknown(model, name, path)
        fk = next(iter(relationship.local_columns))
        fk_attr = getattr(model, fk.key)
        target = relationship.mapper.class_
        if not rest or rest == ["id"]:
            return leaf(fk_attr, op, _ids(value), negate, nullable=bool(fk.nullable), lookup=path)
        inner = _resolve(target, rest, op, value, False, path)
        condition = and_(fk_attr.isnot(None), fk_attr.in_(select(target.id).where(inner)))
        return not_(condition) if negate else condition
    relation = getattr(model, "_relations", {}).get(name)
    if isinstance(relation, ManyToMany):
        link = relation.link_model
        owner_key = getattr(link, relation.self_key)
        target_key = getattr(link, relation.target_key)
        if not rest or rest == ["id"]:
            if op == "isnull":
                value = operand(None, op, value, path)
                has_any = model.id.in_(select(owner_key))
                condition = not_(has_any) if value else has_any
                return not_(condition) if negate else condition
            subquery = select(owner_key).where(
                leaf(target_key, op, _ids(value), False, nullable=False, lookup=path)
            )
        else:
            target = relation.target_model
            inner = _resolve(target, rest, op, value, False, path)
            subquery = select(owner_key).where(target_key.in_(select(target.id).where(inner)))
        condition = model.id.in_(subquery)
        return not_(condition) if negate else condition
    if isinstance(relation, ReverseForeignKey):
        target = relation.target_model
        fk_attr = getattr(target, relation.fk)
        if not rest or rest == ["id"]:
            if op == "isnull":
                value = operand(None, op, value, path)
                has_any = model.id.in_(select(fk_attr).where(fk_attr.isnot(None)))
                condition = not_(has_any) if value else has_any
                return not_(condition) if negate else condition
            subquery = select(fk_attr).where(
                leaf(target.id, op, _ids(value), False, nullable=False, lookup=path)
            )
        else:
            inner = _resolve(target, rest, op, value, False, path)
            subquery = select(fk_attr).where(inner, fk_attr.isnot(None))
        condition = model.id.in_(subquery)
        return not_(condition) if negate else condition
    if resolver is not None:
        resolved = resolver(name, rest, op, value, negate)
        if resolved is not None:
            return resolved
    raise _unknown(model, name, path)


def _is_json(column_type: Any) -> bool:
    return isinstance(column_type, JSON) or isinstance(getattr(column_type, "impl", None), JSON)


def _resolve_fk_column(
    model: Any, name: str, rest: list[str], op: str, value: Any, negate: bool, path: str
) -> ColumnElement[bool]:
    """`run_id__gt=3` style lookups are plain; anything else past a column is an error."""
    raise InvalidArgument(
        f"{model.__name__}.{name} is a plain field and has no sub-field {rest[0]!r} (in {path!r})"
    )


class Subqueryable:
    """What a lookup can take in place of a list of ids: QuerySet subclasses this."""

    def id_subquery(self) -> Any:
        raise NotImplementedError

    def id_subquery_for(self, instance: Any) -> Any:
        """`id_subquery()`, checked to read `instance` (None: the connected instance)."""
        return self.id_subquery()


def _is_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return (
        isinstance(value, list | tuple | set | frozenset)
        and bool(value)
        and all(isinstance(v, str) for v in value)
    )


def _ids(value: Any) -> Any:
    """Records become their ids; lists and QuerySets of records become lists or subqueries of ids."""

    if isinstance(value, Subqueryable):
        return value.id_subquery_for(state.reading_other())
    if isinstance(value, list | tuple | set | frozenset):
        return [_ids(v) for v in value]
    if hasattr(value, "__table__") and hasattr(value, "id"):
        if value.__dict__.get("id") is None:
            raise InvalidArgument(f"{value!r} is not saved yet; save it before using it in a query")
        state.check_same_instance(value, state.reading_other(), "this query")
        return value.id
    return value


def _coerce(value: Any) -> Any:
    """Records and QuerySets compared with a plain field (its foreign key) become ids."""

    if isinstance(value, Subqueryable):
        return value.id_subquery_for(state.reading_other())
    if isinstance(value, list | tuple | set | frozenset):
        return [_coerce(v) for v in value]
    if hasattr(value, "__table__") and hasattr(value, "id"):
        return _ids(value)
    return value


def _version_leaf(model: Any, op: str, value: Any, negate: bool) -> ColumnElement[bool]:
    """`version="2"`: the version tagged "2", or the second version of its family when untagged
    (its number is the uid's last four characters, counting from 0000; see `IsVersioned.version`)."""
    values = list(value) if op == "in" and isinstance(value, list | tuple | set) else [value]
    tag, uid = model.__table__.c.version_tag, model.__table__.c.uid
    conditions = []
    for wanted in values:
        text = str(wanted)
        conditions.append(func.coalesce(tag, "") == text)  # never NULL, so exclude() keeps untagged rows
        if text.isdigit() and 0 < int(text) <= 62**4:
            conditions.append(and_(tag.is_(None), uid.like("%" + encode_version(int(text) - 1))))
    condition = or_(*conditions) if conditions else false()
    return not_(condition) if negate else condition


def leaf(
    column: Any, op: str, value: Any, negate: bool, *, nullable: bool, lookup: str | None = None
) -> ColumnElement[bool]:
    """The condition `column <op> value`; the value is checked against the column's type first."""
    if op not in OPERATORS:
        raise InvalidArgument(f"unknown lookup __{op}; use one of {', '.join(sorted(OPERATORS))}")
    value = operand(column, op, value, lookup)
    condition = _operator(column, op, value)
    if not negate:
        return condition
    if op == "isnull" or (op == "exact" and value is None) or not nullable:
        return not_(condition)
    return or_(column.is_(None), not_(condition))


def _text(op: str, value: Any) -> str:
    if not isinstance(value, str):  # operand() checked it; a direct caller may not have
        raise InvalidArgument(f"the lookup __{op} takes a string, not {show(value)}")
    return value


def _operator(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "exact":
        return column.is_(None) if value is None else column == value
    if op == "in":
        if isinstance(value, str) or (not hasattr(value, "__iter__") and not hasattr(value, "subquery")):
            raise InvalidArgument(f"the lookup __in takes a list or a QuerySet, not {value!r}")
        if isinstance(value, list) and not value:
            return false()
        return column.in_(value)
    if op == "isnull":
        return column.is_(None) if value else column.isnot(None)
    if op in ("gt", "gte", "lt", "lte"):
        method = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}[op]
        return getattr(column, method)(value)
    if op == "range":
        try:
            low, high = value
        except (TypeError, ValueError) as e:
            raise InvalidArgument(f"the lookup __range takes (low, high), not {value!r}") from e
        return column.between(low, high)
    if op == "iexact":
        return func.lower(column) == _text(op, value).lower()
    if op in ("contains", "startswith", "endswith"):
        text = escape_like(_text(op, value))
        pattern = {"contains": f"%{text}%", "startswith": f"{text}%", "endswith": f"%{text}"}[op]
        return column.like(pattern, escape=_LIKE_ESCAPE)
    if op in ("icontains", "istartswith", "iendswith"):
        text = escape_like(_text(op, value).lower())
        pattern = {"icontains": f"%{text}%", "istartswith": f"{text}%", "iendswith": f"%{text}"}[op]
        return func.lower(column).like(pattern, escape=_LIKE_ESCAPE)
    if op == "regex":
        return column.regexp_match(_text(op, value))
    if op == "iregex":
        # an embedded (?i) works on both SQLite (Python's re) and PostgreSQL (ARE options)
        return column.regexp_match("(?i)" + _text(op, value))
    raise InvalidArgument(f"unknown lookup __{op}; use one of {', '.join(sorted(OPERATORS))}")


def _json_leaf(
    column: Any, keys: list[str], op: str, value: Any, negate: bool, *, lookup: str | None = None
) -> ColumnElement[bool]:
    """`params__learning_rate=0.01`, `params__batch_size__gt=16`, `params__a__b="x"` on a JSON column."""
    element = column[tuple(keys)] if len(keys) > 1 else column[keys[0]]
    sample = value[0] if isinstance(value, list | tuple) and value else value
    if op == "isnull":
        typed = element.as_string()
    elif isinstance(sample, bool):
        typed = element.as_boolean()
    elif isinstance(sample, int | float):
        typed = element.as_float()
    else:
        typed = element.as_string()
    value = operand(typed, op, value, lookup)
    if isinstance(sample, int) and not isinstance(sample, bool):
        # checked above: numbers within 64 bits, so float() cannot overflow
        value = [_as_float(v) for v in value] if isinstance(value, list | tuple) else _as_float(value)
    return leaf(typed, op, value, negate, nullable=True, lookup=lookup)


def _as_float(value: Any) -> Any:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value
