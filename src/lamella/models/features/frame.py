"""`to_dataframe(include="features")`: feature values pivoted into one column per feature."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Text,
    any_,
    bindparam,
    literal,
    literal_column,
    select,
    type_coerce,
    union_all,
)

from lamella._query.relations import model
from lamella.errors import InvalidArgument
from lamella.models.features.dtypes import parse, to_python
from lamella.models.features.feature import Feature, FeatureValue
from lamella.models.features.stores import features_by_name, store_for


def add_feature_columns(qs: Any, df: Any, features: Any) -> Any:
    """`df` (indexed by the ids of `qs`) with a column per feature; several values of one feature give a list."""

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
    connection = qs._session().connection()
    raw_json = connection.dialect.name == "sqlite"  # decode JSON text once per distinct value, below
    rows: list[tuple[int, int, Any]] = []  # plain values (JSON text on SQLite)
    labels: list[tuple[int, int, Any]] = []  # label names of categorical features
    # the frame holds the owners' ids already: each statement below reads them as a list, where an id
    # subquery would run the query again in every statement
    owner_ids = [int(i) for i in df.index]
    for start in range(0, len(owner_ids), _IDS_PER_STATEMENT):
        chunk = owner_ids[start : start + _IDS_PER_STATEMENT]
        rows.extend(_fetch(connection, _values_statement(store, chunk, feature_ids, connection.dialect.name)))
        labels_statement = _labels_statement(store, chunk, feature_ids, connection.dialect.name)
        if labels_statement is not None:
            # links without a feature (`artifact.ulabels.add(l)`) are skipped here, not in SQL: asking
            # for `feature_id IS NOT NULL` tempts PostgreSQL to read the feature index of every link
            labels.extend(row[:3] for row in _fetch(connection, labels_statement) if row[1] is not None)
    if wanted is None:
        present = {feature_id for _, feature_id, _ in [*rows, *labels]}
        wanted = (
            list(Feature.filter(id__in=list(present), branch_id__in=[-1, 0, 1]).order_by("id"))
            if present
            else []
        )
    values_by_feature = _pivot(rows, labels, [f.id for f in wanted], raw_json)
    for feature in wanted:
        series = values_by_feature.get(feature.id)
        if series is None:
            df[feature.name] = None
            continue
        convert = _converter(feature.dtype)
        if convert is not None:
            series = series.map(convert)
        column = series.reindex(df.index).infer_objects()
        if feature.dtype == "float" and column.dtype == "int64":
            column = column.astype("float64")  # SQLite returns whole floats (4.0) as integers
        df[feature.name] = column
    return df


# ids bound per statement: well under SQLite's limit of 32,766 variables
_IDS_PER_STATEMENT = 10_000


def _among(column: Any, ids: list[int], dialect: str) -> Any:
    """`column IN ids`; on PostgreSQL as one array parameter (`= ANY(:ids)`): a thousand ids bound one
    by one cost more to compile and send than the query takes to run."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(BigInteger)))
    return column.in_(ids)


def _values_statement(store: Any, owner_ids: list[int], feature_ids: list[int] | None, dialect: str) -> Any:
    """(owner id, feature id, value) of the plain values of `owner_ids`, in the order they were added."""
    raw_json = dialect == "sqlite"
    if store.value_link is not None:
        link = store.value_link
        owner = getattr(link, store.owner_key)
        values = FeatureValue.__table__
        statement = (
            select(owner, link.feature_id, _json_column(values.c.value, raw_json))
            .join(values, values.c.id == link.featurevalue_id)
            .where(_among(owner, owner_ids, dialect))
            .order_by(link.id)
        )
        return statement if feature_ids is None else statement.where(link.feature_id.in_(feature_ids))
    record_json = model("RecordJson")
    statement = select(
        record_json.record_id, record_json.feature_id, _json_column(record_json.__table__.c.value, raw_json)
    ).where(_among(record_json.record_id, owner_ids, dialect))
    if feature_ids is not None:
        statement = statement.where(record_json.feature_id.in_(feature_ids))
    return statement.order_by(record_json.id)


def _labels_statement(store: Any, owner_ids: list[int], feature_ids: list[int] | None, dialect: str) -> Any:
    """(owner id, feature id, label name, ...) of every label link of `owner_ids`, as one UNION ALL."""
    selects = []
    for position, (registry, cat_link) in enumerate(store.cat_links()):
        link = cat_link.link
        owner = getattr(link, cat_link.owner_key)
        label = getattr(registry, registry._name_field or "uid")
        statement = (
            select(
                owner, link.feature_id, label, literal(position).label("link_table"), link.id.label("link_id")
            )
            .join(registry, registry.id == getattr(link, cat_link.target_key))
            .where(_among(owner, owner_ids, dialect))
        )
        if feature_ids is not None:
            statement = statement.where(link.feature_id.in_(feature_ids))
        selects.append(statement)
    if not selects:
        return None
    # in the order the labels were added, link table by link table
    return union_all(*selects).order_by(literal_column("link_table"), literal_column("link_id"))


def _pivot(
    rows: list[tuple[int, int, Any]],
    labels: list[tuple[int, int, Any]],
    feature_ids: list[int],
    raw_json: bool,
) -> dict[int, Any]:
    """{feature id: Series of values indexed by owner id}; an owner with several values gets a list."""

    import pandas as pd

    if not rows and not labels:
        return {}
    frame = _frame(rows)
    frame = frame[frame["feature"].isin(feature_ids)]
    if raw_json and len(frame):
        # SQLite keeps JSON numbers as numbers (NUMERIC affinity); everything else is JSON text
        is_text = frame["value"].map(type) == str  # noqa: E721 - exact type, not subclasses
        if is_text.any():
            texts = frame.loc[is_text, "value"]
            decoded = {text: json.loads(text) for text in pd.unique(texts)}
            frame.loc[is_text, "value"] = texts.map(decoded)
    if labels:
        label_frame = _frame(labels)
        frame = pd.concat([frame, label_frame[label_frame["feature"].isin(feature_ids)]], ignore_index=True)
    several = frame.duplicated(["owner", "feature"], keep=False)
    if several.any():
        lists = frame[several].groupby(["owner", "feature"], sort=False)["value"].agg(list).reset_index()
        frame = pd.concat([frame[~several], lists], ignore_index=True)
    result: dict[int, Any] = {}
    for feature_id, group in frame.groupby("feature", sort=False):
        key: Any = feature_id
        result[int(key)] = pd.Series(group["value"].to_numpy(), index=group["owner"].to_numpy())
    return result


def _frame(rows: list[Any]) -> Any:
    """Rows as a DataFrame whose values stay Python objects: ints mixed with floats are not upcast."""
    import numpy as np
    import pandas as pd

    table = np.empty((len(rows), 3), dtype=object)
    if rows:
        table[:] = rows
    owners, features = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64)
    return pd.DataFrame({"owner": owners, "feature": features, "value": table[:, 2]})


def _json_column(column: Any, raw: bool) -> Any:

    return type_coerce(column, Text) if raw else column


def _fetch(connection: Any, statement: Any) -> list[Any]:
    """Rows as the driver returns them: ids, JSON text (SQLite) or decoded JSONB (psycopg), names.

    None of these columns needs SQLAlchemy's result processing, and skipping it halves the cost of
    reading 100,000 values.
    """
    result = connection.execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _converter(dtype_text: str | None) -> Any:
    if dtype_text is None:
        return None
    dtype = parse(dtype_text)
    if dtype.base in ("date", "datetime"):
        return lambda value: to_python(dtype, value)
    return None
