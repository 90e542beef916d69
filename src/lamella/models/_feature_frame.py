"""`to_dataframe(include="features")`: feature values pivoted into one column per feature."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lamella.errors import InvalidArgument
from lamella.models._dtypes import parse, to_python
from lamella.models._feature_stores import features_by_name, store_for


def add_feature_columns(qs: Any, df: Any, features: Any) -> Any:
    """`df` (indexed by the ids of `qs`) with a column per feature; several values of one feature give a list."""
    from lamella.models.features import Feature

    store = store_for(qs.model)
    wanted: list[Any] | None = None
    if features is not None and features != "all":
        names = [
            f.name if isinstance(f, Feature) else str(f)
            for f in ([features] if isinstance(features, str | Feature) else features)
        ]
        found = features_by_name(names)
        unknown = [n for n in names if n not in found]
        if unknown:
            raise InvalidArgument(
                f"no feature named {', '.join(repr(n) for n in unknown)}; see ln.Feature.to_dataframe()"
            )
        wanted = [found[n] for n in names]
    feature_ids = None if wanted is None else [f.id for f in wanted]
    owner_ids = qs.id_subquery()
    session = qs._session()
    connection = session.connection()
    raw_json = connection.dialect.name == "sqlite"  # decode JSON text once per distinct value, below
    rows: list[tuple[int, int, Any]] = []
    if store.value_link is not None:
        from lamella.models.features import FeatureValue

        link = store.value_link
        owner = getattr(link, store.owner_key)
        values = FeatureValue.__table__
        statement = (
            select(owner, values.c.feature_id, _json_column(values.c.value, raw_json))
            .join(values, values.c.id == link.featurevalue_id)
            .where(owner.in_(owner_ids))
            .order_by(link.id)
        )
        if feature_ids is not None:
            statement = statement.where(values.c.feature_id.in_(feature_ids))
        rows.extend(_decoded(connection.execute(statement), raw_json))
    else:
        from lamella.models.links import RecordJson

        statement = select(
            RecordJson.record_id, RecordJson.feature_id, _json_column(RecordJson.__table__.c.value, raw_json)
        ).where(RecordJson.record_id.in_(owner_ids))
        if feature_ids is not None:
            statement = statement.where(RecordJson.feature_id.in_(feature_ids))
        rows.extend(_decoded(connection.execute(statement.order_by(RecordJson.id)), raw_json))
    for registry, cat_link in store.cat_links():
        link = cat_link.link
        owner = getattr(link, cat_link.owner_key)
        label = getattr(registry, registry._name_field or "uid")
        statement = (
            select(owner, link.feature_id, label)
            .join(registry, registry.id == getattr(link, cat_link.target_key))
            .where(owner.in_(owner_ids), link.feature_id.isnot(None))
            .order_by(link.id)
        )
        if feature_ids is not None:
            statement = statement.where(link.feature_id.in_(feature_ids))
        rows.extend(connection.execute(statement).all())
    if wanted is None:
        present = {feature_id for _, feature_id, _ in rows}
        wanted = (
            list(Feature.filter(id__in=list(present), branch_id__in=[-1, 0, 1]).order_by("id"))
            if present
            else []
        )
    columns: dict[int, dict[int, Any]] = {f.id: {} for f in wanted}
    converters = {f.id: _converter(f.dtype) for f in wanted}
    for owner_id, feature_id, value in rows:
        column = columns.get(feature_id)
        if column is None:
            continue
        convert = converters[feature_id]
        value = convert(value) if convert is not None else value
        if owner_id in column:
            previous = column[owner_id]
            column[owner_id] = _Several(
                [*previous, value] if isinstance(previous, _Several) else [previous, value]
            )
        else:
            column[owner_id] = value
    for feature in wanted:
        column = columns[feature.id]
        df[feature.name] = [_plain(column.get(i)) for i in df.index]
    return df


def _json_column(column: Any, raw: bool) -> Any:
    from sqlalchemy import Text, type_coerce

    return type_coerce(column, Text) if raw else column


def _decoded(result: Any, raw: bool) -> list[tuple[int, int, Any]]:
    rows = result.all()
    if not raw:
        return rows
    import json

    cache: dict[str, Any] = {}
    decoded = []
    for owner_id, feature_id, text in rows:
        if not isinstance(text, str):  # SQLite's NUMERIC affinity of JSON columns stores numbers as numbers
            value = text
        else:
            value = cache.get(text, cache)
            if value is cache:
                value = cache[text] = json.loads(text)
        decoded.append((owner_id, feature_id, value))
    return decoded


class _Several(list[Any]):
    """Several values of one feature for one record (a list dtype's single value stays a plain list)."""


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, _Several) else value


def _converter(dtype_text: str | None) -> Any:
    if dtype_text is None:
        return None
    dtype = parse(dtype_text)
    if dtype.base in ("date", "datetime"):
        return lambda value: to_python(dtype, value)
    return None
