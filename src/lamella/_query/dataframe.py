"""`to_dataframe()`: a QuerySet as a pandas DataFrame indexed by id, with related fields on request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, String, TypeDecorator, select, type_coerce
from sqlalchemy.orm import RelationshipDirection, aliased

from lamella._query.relations import ManyToMany, ReverseForeignKey
from lamella.errors import InvalidArgument

if TYPE_CHECKING:
    from lamella._query.queryset import QuerySet


def queryset_to_dataframe(
    qs: QuerySet[Any], include: str | list[str] | None = None, *, limit: int | None = None, **kwargs: Any
) -> Any:
    """Rows of `qs` (all of them, or the first `limit`) as a DataFrame indexed by id."""
    import pandas as pd

    if limit is not None:
        qs = qs[:limit]
    model = qs.model
    columns = [c for c in model.__table__.c if not c.key.startswith("_")]
    session = qs._session()
    timestamps = _raw_timestamps(session, columns)
    selected = [type_coerce(c, String).label(c.key) if c.key in timestamps else c for c in columns]
    result = session.execute(qs._statement(*selected)).all()
    df = pd.DataFrame.from_records(result, columns=[c.key for c in columns])
    for key in timestamps:  # one vectorized parse instead of a Python datetime per cell
        df[key] = pd.to_datetime(df[key], utc=True, format="ISO8601")
    df = df.set_index("id")
    if not (
        include is None
        or isinstance(include, str)
        or (isinstance(include, list | tuple) and all(isinstance(i, str) for i in include))
    ):
        raise InvalidArgument(
            f"include= takes a field path such as 'ulabels__name' or a list of them, not {include!r}"
        )
    includes = [include] if isinstance(include, str) else list(include or [])
    features = kwargs.pop("features", None)
    if features is not None or "features" in includes:
        includes = [i for i in includes if i != "features"]
        hook = getattr(model, "_features_to_dataframe", None)
        if hook is None:
            raise InvalidArgument(f"{model.__name__} has no features to include")
        df = hook(qs, df, features)
    for path in includes:
        values = _related_values(qs, path)
        df[path] = [values.get(i) for i in df.index]
    if kwargs:
        raise InvalidArgument(f"to_dataframe() got unexpected arguments {sorted(kwargs)}")
    return df


def _raw_timestamps(session: Any, columns: list[Any]) -> set[str]:
    """The UTC timestamp columns that SQLite returns as text and pandas can parse in one go."""

    if session.get_bind().dialect.name != "sqlite":
        return set()
    return {
        c.key
        for c in columns
        if isinstance(c.type, TypeDecorator) and isinstance(c.type.impl, DateTime) and c.type.impl.timezone
    }


def _related_values(qs: QuerySet[Any], path: str) -> dict[int, Any]:
    """{record id: value} for a to-one path, {record id: [values]} when the path crosses a to-many relation."""
    model = qs.model
    parts = path.split("__")
    ids = qs.id_subquery()
    current = model
    owner_id = model.__table__.c.id
    statement = None
    many = False
    joins: list[tuple[Any, Any]] = []
    link_from: Any = None
    for index, name in enumerate(parts):
        is_last = index == len(parts) - 1
        mapper = current.__mapper__ if not hasattr(current, "_aliased_insp") else current._aliased_insp.mapper
        target_cls = mapper.class_
        name = getattr(target_cls, "_field_aliases", {}).get(name, name)
        if name in mapper.column_attrs:
            if not is_last:
                raise InvalidArgument(f"{path!r}: {name!r} is a plain field of {target_cls.__name__}")
            column = getattr(current, name)
            statement = select(owner_id if link_from is None else link_from, column)
            break
        if is_last:
            raise InvalidArgument(f"{path!r} must end in a field, e.g. {path}__name")
        if (
            name in mapper.relationships
            and mapper.relationships[name].direction is RelationshipDirection.MANYTOONE
        ):
            relationship = mapper.relationships[name]
            target = aliased(relationship.mapper.class_)
            fk = getattr(current, next(iter(relationship.local_columns)).key)
            joins.append((target, fk == target.id))
            current = target
            continue
        relation = getattr(target_cls, "_relations", {}).get(name)
        if isinstance(relation, ManyToMany) and link_from is None and current is model:
            link = aliased(relation.link_model)
            target = aliased(relation.target_model)
            joins.append((link, getattr(link, relation.self_key) == owner_id))
            joins.append((target, getattr(link, relation.target_key) == target.id))
            current, many = target, True
            continue
        if isinstance(relation, ReverseForeignKey) and current is model:
            target = aliased(relation.target_model)
            joins.append((target, getattr(target, relation.fk) == owner_id))
            current, many = target, True
            continue
        raise InvalidArgument(f"cannot include {path!r}: {name!r} is not a relation of {target_cls.__name__}")
    assert statement is not None
    statement = statement.select_from(model)
    for target, on in joins:
        statement = statement.join(target, on, isouter=not many)
    statement = statement.where(owner_id.in_(ids))
    rows = qs._session().execute(statement).all()
    if not many:
        return {row[0]: row[1] for row in rows}
    grouped: dict[int, list[Any]] = {}
    for owner, value in rows:
        grouped.setdefault(owner, []).append(value)
    return grouped
