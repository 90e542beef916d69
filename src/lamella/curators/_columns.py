"""Dtype, nullability and coercion checks of DataFrame columns, done with pandera.

Each checked column becomes a `pandera.Column` that checks the feature's dtype with a series-level test
(one test per column, never per value, so 1,000,000 rows cost milliseconds), its nullability, and, when
the feature or the schema allows coercion, converts the column in place first. pandera's failure report
is turned into one readable line per column: the column, the dtype the feature expects, the dtype found
and a few offending values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandas.api import types
from pandas.api.types import infer_dtype

from lamella.models.features.dtypes import Dtype, check_value

_ERROR = "lamella-dtype"  # the name of our dtype check in pandera's failure report
_SHOWN = 3  # offending values quoted per column


@dataclass
class ColumnSpec:
    """How one column is checked."""

    name: Any  # the column label in the DataFrame; None for the index
    feature_name: str
    dtype: Dtype
    nullable: bool
    coerce: bool

    @property
    def label(self) -> str:
        return "index" if self.name is None else f"column {self.name!r}"


# --- dtype tests ---------------------------------------------------------------------------------


def _inferred(series: Any) -> str:

    return str(infer_dtype(series, skipna=True))


def _first_values(series: Any, n: int = 100) -> list[Any]:
    values = series.dropna()
    return list(values.iloc[:n]) if hasattr(values, "iloc") else list(values[:n])


def matches(dtype: Dtype, series: Any) -> bool:
    """Whether a column (or index as a Series) holds values of `dtype`; tests the column's dtype, not each value."""

    if dtype.is_list:
        return series.dtype == object and all(
            isinstance(v, list | tuple) or hasattr(v, "tolist") for v in _first_values(series)
        )
    base = dtype.base
    if base == "cat":
        return True
    if isinstance(series.dtype, pd.CategoricalDtype):
        if base in ("str", "path", "url"):
            return _inferred(series.cat.categories) in ("string", "empty")
        return False
    if base == "int":
        return types.is_integer_dtype(series.dtype) and not types.is_bool_dtype(series.dtype)
    if base == "float":
        return types.is_float_dtype(series.dtype)
    if base == "num":
        return types.is_numeric_dtype(series.dtype) and not types.is_bool_dtype(series.dtype)
    if base == "bool":
        if types.is_bool_dtype(series.dtype):
            return True
        return series.dtype == object and _inferred(series) in ("boolean", "empty")
    if base in ("str", "url"):
        return types.is_string_dtype(series.dtype) and (
            series.dtype != object or _inferred(series) in ("string", "empty")
        )
    if base == "path":
        return series.dtype == object or types.is_string_dtype(series.dtype)
    if base == "datetime":
        if types.is_datetime64_any_dtype(series.dtype):
            return True
        return series.dtype == object and _inferred(series) in ("datetime", "empty")
    if base == "date":
        if types.is_datetime64_any_dtype(series.dtype):
            values = series.dropna()
            return bool((values == values.dt.normalize()).all())
        return series.dtype == object and _inferred(series) in ("date", "empty")
    if base == "dict":
        return series.dtype == object and all(isinstance(v, dict) for v in _first_values(series))
    return False


def coercion_target(dtype: Dtype, series: Any) -> str | None:
    """The pandas dtype a column is converted to when coercion is allowed; None: not coercible."""
    if dtype.is_list:
        return None
    base = dtype.base
    if base == "int":
        return "Int64" if bool(series.isna().any()) else "int64"
    if base in ("float", "num"):
        return "float64"
    if base in ("str", "url", "path"):
        return "str"
    if base == "bool":
        return "bool"
    if base in ("date", "datetime"):
        return "datetime64[ns]"
    return None


# --- the check -----------------------------------------------------------------------------------


def check_columns(df: Any, specs: list[ColumnSpec]) -> list[str]:
    """Validate (and coerce, in place) the columns; one problem line per failing column."""
    if not specs:
        return []

    columns: dict[Any, Any] = {}
    index = None
    for spec in specs:
        series = df.index.to_series() if spec.name is None else df[spec.name]
        ok = matches(spec.dtype, series)
        target = coercion_target(spec.dtype, series) if (spec.coerce and not ok) else None
        checks = []
        if not ok:  # the test runs again after coercion, on the converted column
            checks.append(pa.Check(_dtype_test(spec.dtype), element_wise=False, error=_ERROR))
        if spec.name is None:
            index = pa.Index(target, checks=checks, nullable=spec.nullable, coerce=target is not None)
            continue
        columns[spec.name] = pa.Column(
            target, checks=checks, nullable=spec.nullable, coerce=target is not None, required=False
        )
    schema = pa.DataFrameSchema(columns, index=index)
    try:
        schema.validate(df, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as error:
        return _describe_failures(error.failure_cases, df, specs)
    return []


def _dtype_test(dtype: Dtype) -> Any:
    def test(series: Any) -> bool:
        return matches(dtype, series)

    return test


def _describe_failures(cases: Any, df: Any, specs: list[ColumnSpec]) -> list[str]:
    by_name = {spec.name: spec for spec in specs}
    grouped: dict[Any, dict[str, list[tuple[Any, Any]]]] = {}
    for row in cases.itertuples(index=False):
        name = None if row.schema_context == "Index" else row.column
        grouped.setdefault(name, {}).setdefault(str(row.check), []).append((row.failure_case, row.index))
    problems = []
    for name, checks in grouped.items():
        spec = by_name.get(name)
        if spec is None:
            for check, items in checks.items():
                problems.append(f"{'index' if name is None else repr(name)} failed {check}: {_quote(items)}")
            continue
        series = df.index.to_series() if name is None else df[name]
        coerce_checks = [c for c in checks if c.startswith("coerce_dtype")]
        if coerce_checks:
            items = checks[coerce_checks[0]]
            problems.append(
                f"{spec.label}: cannot coerce to {_expected(spec.dtype)} (feature {spec.feature_name!r} has "
                f"dtype {spec.dtype.text!r}); offending values: {_quote(items)}"
            )
        elif _ERROR in checks:
            problems.append(_dtype_problem(spec, series))
        if "not_nullable" in checks:
            rows = [index for _, index in checks["not_nullable"]]
            shown = ", ".join(repr(r) for r in rows[:_SHOWN]) + (", ..." if len(rows) > _SHOWN else "")
            problems.append(
                f"{spec.label}: {len(rows)} missing value{'s' if len(rows) != 1 else ''} "
                f"(row{'s' if len(rows) != 1 else ''} {shown}), "
                f"but feature {spec.feature_name!r} is not nullable; fill or drop them, "
                f"e.g. df = df.dropna(subset=[{spec.name!r}])"
                if spec.name is not None
                else f"index: {len(rows)} missing value(s), but feature {spec.feature_name!r} is not nullable"
            )
        for check, items in checks.items():
            if check in (_ERROR, "not_nullable") or check.startswith(("coerce_dtype", "dtype(")):
                continue
            problems.append(f"{spec.label} failed {check}: {_quote(items)}")
    return problems


def _expected(dtype: Dtype) -> str:
    return f"list of {dtype.base}" if dtype.is_list else dtype.base


def _dtype_problem(spec: ColumnSpec, series: Any) -> str:

    found = str(series.dtype)
    message = (
        f"{spec.label}: expected dtype {_expected(spec.dtype)} (feature {spec.feature_name!r} has dtype "
        f"{spec.dtype.text!r}), got {found}"
    )
    offenders = _offenders(spec, series)
    if offenders:
        return (
            message + "; offending values: " + ", ".join(repr(v) for v in offenders) + "; fix or remove them"
        )
    is_number = types.is_numeric_dtype(series.dtype) and not types.is_bool_dtype(series.dtype)
    if spec.dtype.base == "float" and not spec.dtype.is_list and is_number and not spec.coerce:
        message += (
            "; integers are accepted for a float feature when coercion is allowed: "
            f"ln.Schema(..., coerce=True), or ln.Feature(name={spec.feature_name!r}, dtype=float, coerce=True)"
        )
    elif not spec.coerce and coercion_target(spec.dtype, series) is not None:
        what = f"df[{spec.name!r}]" if spec.name is not None else "df.index"
        message += f"; convert it ({what} = {what}.astype(...)) or allow coercion: coerce=True on the feature or the schema"
    return message


def _offenders(spec: ColumnSpec, series: Any) -> list[Any]:
    """A few distinct values that are not of the feature's dtype (of object or category columns)."""
    if series.dtype != object and not hasattr(series.dtype, "categories"):
        return []
    values = series.dropna()
    uniques = list(values.unique()[:1000]) if len(values) else []
    found = []
    for value in uniques:
        try:
            check_value(spec.feature_name, spec.dtype, value)
        except Exception:
            found.append(value)
            if len(found) == _SHOWN:
                break
    return found


def _quote(items: list[tuple[Any, Any]]) -> str:
    shown = [
        f"{value!r} (row {index!r})" if index is not None else repr(value) for value, index in items[:_SHOWN]
    ]
    return ", ".join(shown) + (f", ... ({len(items)} in all)" if len(items) > _SHOWN else "")
