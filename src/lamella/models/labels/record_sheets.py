"""`Record.from_dataframe`: a sample sheet becomes records of a type, one per row, with feature values."""

from __future__ import annotations

from typing import Any

from lamella._instance import state
from lamella.errors import InvalidArgument, ValidationError
from lamella.models.core.bulk import save
from lamella.models.features.stores import features_by_name
from lamella.models.features.values import FeaturesManager


def records_from_dataframe(
    model: Any, df: Any, *, record_type: Any = None, name_field: str = "name"
) -> list[Any]:
    """Save one record per row; every other column must be a registered feature.

    All rows are validated before anything is written, and the records and their values are saved in
    one transaction: a sheet with one bad cell stores nothing.
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InvalidArgument(f"Record.from_dataframe() takes a pandas DataFrame, not {type(df).__name__}")
    if record_type is not None and (
        not getattr(record_type, "is_type", False) or record_type.__dict__.get("id") is None
    ):
        raise InvalidArgument(
            f"type={record_type!r} must be a saved record type: ln.Record(name=..., is_type=True).save()"
        )
    if name_field in df.columns:
        names = [None if pd.isna(v) else str(v) for v in df[name_field]]
        value_columns = [c for c in df.columns if c != name_field]
    elif not isinstance(df.index, pd.RangeIndex):
        names = [str(v) for v in df.index]
        value_columns = list(df.columns)
    else:
        names = [None] * len(df)
        value_columns = list(df.columns)
    found = features_by_name([str(c) for c in value_columns])
    unknown = [str(c) for c in value_columns if str(c) not in found]
    if unknown:
        raise ValidationError(
            f"columns without a feature: {', '.join(repr(c) for c in unknown)}; create them first, e.g. "
            f"ln.save(ln.Feature.from_dataframe(df[{unknown!r}]))"
        )
    # a named row that already exists (same name and type) is updated rather than duplicated
    records = [model(name=name, type=record_type) for name in names]
    prepared = []
    problems = []
    for row_number, (record, (_, row)) in enumerate(zip(records, df[value_columns].iterrows(), strict=True)):
        values = {str(k): _plain(v) for k, v in row.items() if not _missing(v)}
        try:
            prepared.append(FeaturesManager(record)._prepare(values, "add values to", require_saved=False))
        except ValidationError as e:
            problems.append(f"row {row_number} ({names[row_number] or 'unnamed'}): {e}")
    if problems:
        raise ValidationError("\n".join(problems))
    with state.current().db.write():
        save(records)
        for record, items in zip(records, prepared, strict=True):
            FeaturesManager(record)._write(items, replace=True)
    return records


def _missing(value: Any) -> bool:
    import pandas as pd

    return not isinstance(value, list | tuple | dict) and bool(pd.isna(value))


def _plain(value: Any) -> Any:
    module = type(value).__module__
    if module == "numpy" and hasattr(value, "item"):
        return value.item()
    if module.startswith("pandas") and hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value
