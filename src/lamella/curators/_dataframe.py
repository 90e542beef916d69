"""`DataFrameCurator`: a pandas DataFrame validated against a schema of features (or of a registry's terms)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from lamella.curators._base import Curator
from lamella.curators._cat import CatColumn
from lamella.curators._columns import ColumnSpec, check_columns
from lamella.errors import InvalidArgument
from lamella.models.artifact.artifact import Artifact
from lamella.models.features.dtypes import Dtype, parse
from lamella.models.features.feature import Feature
from lamella.models.schema.definitions import itype_registry, itype_target, member_link, member_rows
from lamella.models.schema.schema import Schema

if TYPE_CHECKING:
    from lamella.models.artifact.artifact import Artifact
    from lamella.models.schema.schema import Schema


@dataclass
class _Member:
    feature: Any
    optional: bool
    dtype: Dtype

    @property
    def name(self) -> str:
        return str(self.feature.name)


class DataFrameCurator(Curator):
    """Validate a DataFrame against a saved schema; save it annotated.

    With a schema of features, columns are checked for presence (`minimal_set`: every non-optional
    feature; `maximal_set`: no other column), order (`ordered_set`), dtype and nulls (pandera), and
    categorical values against their registries. A schema without features but with an `itype` such as
    `ln.ULabel.name` validates the column names against that registry field (`itype=ln.Feature`: the
    columns that are registered features are validated with their dtypes).

    `slot` names the part of a larger dataset the DataFrame is ("obs", "var"); messages and keys use it.
    """

    def __init__(
        self,
        df: Any,
        schema: Any,
        slot: str | None = None,
        *,
        _index_terms: bool = False,
        _set_index: Callable[[Any], None] | None = None,
    ) -> None:
        super().__init__(df, schema)
        if type(df).__name__ != "DataFrame":
            raise InvalidArgument(f"DataFrameCurator takes a pandas DataFrame, not {type(df).__name__}")

        members = member_rows(self._schema)
        if not members and self._schema.slots:
            raise InvalidArgument(
                f"schema {self._schema.name or self._schema.uid!r} is a composite schema with slots "
                f"{sorted(self._schema.slots)}; use the curator of its otype ({self._schema.otype or 'AnnData'}), "
                "e.g. ln.curators.AnnDataCurator(adata, schema)"
            )
        self._slot = slot
        self._members = [
            _Member(f, optional, parse(f.dtype)) for f, optional in members if f.dtype is not None
        ]
        self._terms = self._terms_mode(_index_terms)
        self._set_index = _set_index
        self._cats: dict[str, CatColumn] | None = None
        self._checked: list[_Member] = []  # the features validated by the last run

    @property
    def df(self) -> Any:
        return self._dataset

    @property
    def slot(self) -> str | None:
        return self._slot

    def _terms_mode(self, index_terms: bool) -> str | None:
        """ "index"/"columns": values are terms of the itype registry; None: columns are features."""
        if self._members:
            return None
        if index_terms:
            return "index"
        itype = self._schema.itype
        if itype and itype != "Feature":
            return "columns"
        return None

    # --- keys and labels ------------------------------------------------------------------------

    def _key(self, name: str) -> str:
        return f"{self._slot}:{name}" if self._slot else name

    def _prefix(self, text: str) -> str:
        return f"{self._slot}: {text}" if self._slot else text

    # --- members --------------------------------------------------------------------------------

    def _flexible_members(self, columns: list[str]) -> list[_Member]:
        """Registered features among the columns a flexible schema does not list (they are validated too)."""
        if not self._schema.flexible or self._terms is not None:
            return []
        itype = self._schema.itype
        if itype not in (None, "Feature"):
            return []
        known = {m.name for m in self._members}
        extra = [c for c in columns if c not in known]
        found = _features_by_name(extra) if extra else {}
        return [
            _Member(found[c], True, parse(found[c].dtype)) for c in extra if c in found and found[c].dtype
        ]

    # --- categorical columns --------------------------------------------------------------------

    def _cat_columns(self) -> dict[str, CatColumn]:
        if self._cats is None:
            self._cats = self._build_cats()
        return self._cats

    def _build_cats(self) -> dict[str, CatColumn]:

        df = self._dataset
        cats: dict[str, CatColumn] = {}
        if self._terms is not None:
            target = itype_target(self._schema.itype)
            if self._terms == "index":
                key = f"{self._slot}_index" if self._slot else "index"
                cats[key] = CatColumn(
                    key, "index", (target,), self._schema.itype or "Feature", None,
                    read=lambda: df.index, write=self._rename_index,
                )  # fmt: skip
            else:
                key = self._key("columns")
                cats[key] = CatColumn(
                    key, "column names", (target,), self._schema.itype or "Feature", None,
                    read=lambda: [str(c) for c in df.columns],
                    write=lambda mapper: df.rename(columns=mapper, inplace=True),
                )  # fmt: skip
            return cats
        columns = [str(c) for c in df.columns]
        present = set(columns)
        for member in [*self._members, *self._flexible_members(columns)]:
            if not member.dtype.is_cat or member.name not in present:
                continue
            key = self._key(member.name)
            cats[key] = CatColumn(
                key,
                f"column {member.name!r}",
                member.dtype.targets,
                member.dtype.text,
                member.feature,
                read=_reader(df, member.name),
                write=_writer(df, member.name),
                is_list=member.dtype.is_list,
            )
        index_feature = self._schema.index
        if index_feature is not None and index_feature.dtype:
            dtype = parse(index_feature.dtype)
            if dtype.is_cat:
                key = self._key("index")
                cats[key] = CatColumn(
                    key, "index", dtype.targets, dtype.text, index_feature,
                    read=lambda: df.index, write=self._rename_index,
                )  # fmt: skip
        return cats

    def _rename_index(self, mapper: dict[Any, Any]) -> None:
        new_index = self._dataset.index.map(lambda v: mapper.get(v, v))
        if self._set_index is not None:
            self._set_index(new_index)
        else:
            self._dataset.index = new_index

    # --- validation -----------------------------------------------------------------------------

    def _problems(self) -> list[str]:
        self._cats = None  # the data may have changed since the last run
        problems = self._terms_problems() if self._terms is not None else self._feature_problems()
        return [self._prefix(p) for p in problems]

    def _terms_problems(self) -> list[str]:
        problems = []
        for column in self._cat_columns().values():
            column.validate()
            problem = column.problem()
            if problem:
                problems.append(problem)
        if self._terms == "columns" and self._schema.dtype:
            dtype = parse(self._schema.dtype)
            found = self._cat_columns()[self._key("columns")].found
            specs = [
                ColumnSpec(c, str(c), dtype, True, bool(self._schema.coerce))
                for c in self._dataset.columns
                if str(c) in found
            ]
            problems.extend(check_columns(self._dataset, specs))
        return problems

    def _feature_problems(self) -> list[str]:
        df = self._dataset
        schema = self._schema
        columns = [str(c) for c in df.columns]
        problems: list[str] = []
        duplicated = (
            sorted({c for c in columns if columns.count(c) > 1}) if len(set(columns)) < len(columns) else []
        )
        if duplicated:
            problems.append(f"column names appear more than once: {', '.join(repr(c) for c in duplicated)}")
        present = set(columns)
        members = self._members
        if schema.minimal_set:
            missing = [m.name for m in members if not m.optional and m.name not in present]
            if missing:
                names = ", ".join(repr(n) for n in missing)
                problems.append(
                    f"column{'s' if len(missing) > 1 else ''} {names} {'are' if len(missing) > 1 else 'is'} "
                    f"missing; the schema requires {'them' if len(missing) > 1 else 'it'}: add "
                    f"{'them' if len(missing) > 1 else 'it'} to the dataset, or make the feature optional: "
                    "ln.Schema(features=[..., (feature, {'optional': True})])"
                )
        flexible = self._flexible_members(columns)
        known = {m.name for m in members} | {m.name for m in flexible}
        if schema.maximal_set:
            extra = [c for c in columns if c not in known]
            if extra:
                names = ", ".join(repr(c) for c in extra)
                problems.append(
                    f"column{'s' if len(extra) > 1 else ''} {names} {'are' if len(extra) > 1 else 'is'} not in the "
                    f"schema, which allows no other columns (maximal_set=True); drop "
                    f"{'them' if len(extra) > 1 else 'it'}: df = df.drop(columns={extra!r})"
                )
        if schema.ordered_set:
            expected = [m.name for m in members if m.name in present]
            actual = [c for c in columns if c in {m.name for m in members}]
            if expected != actual:
                problems.append(
                    f"columns are not in the schema's order (ordered_set=True): expected {expected!r}, "
                    f"got {actual!r}; reorder them: df = df[{expected!r} + other columns]"
                )
        checked = [m for m in [*members, *flexible] if m.name in present]
        specs = [
            ColumnSpec(m.name, m.name, m.dtype, _nullable(m.feature), bool(m.feature.coerce or schema.coerce))
            for m in checked
            if columns.count(m.name) == 1
        ]
        index_feature = schema.index
        if index_feature is not None and index_feature.dtype:
            specs.append(
                ColumnSpec(
                    None,
                    index_feature.name,
                    parse(index_feature.dtype),
                    _nullable(index_feature),
                    bool(index_feature.coerce or schema.coerce),
                )
            )
        problems.extend(check_columns(df, specs))
        for column in self._cat_columns().values():
            column.validate()
            problem = column.problem()
            if problem:
                problems.append(problem)
        self._checked = checked
        return problems

    # --- annotation -----------------------------------------------------------------------------

    def _slot_name(self) -> str:
        return self._slot or "columns"

    def _feature_sets(self) -> dict[str, Schema]:

        if self._terms is not None:
            column = next(iter(self._cat_columns().values()))
            column.ensure_checked()
            records = column.records()
            registry = itype_registry(self._schema.itype)
            if not records or member_link(registry) is None:
                return {self._slot_name(): self._schema}
            return {
                self._slot_name(): Schema(
                    features=records, itype=self._schema.itype, dtype=self._schema.dtype
                )
            }
        features = [m.feature for m in self._checked]
        if not features:
            return {}
        return {self._slot_name(): Schema(features=features)}

    def _labels(self) -> list[tuple[Any, list[Any]]]:
        pairs = []
        for column in self._cat_columns().values():
            if column.feature is None:
                continue
            column.ensure_checked()
            pairs.append((column.feature, column.records()))
        return pairs

    def _new_artifact(self, **kwargs: Any) -> Artifact:

        return Artifact.from_dataframe(self._dataset, **kwargs)


def _features_by_name(names: list[str]) -> dict[str, Any]:
    """Saved features by name; an untyped feature wins over typed ones of the same name."""

    found: dict[str, Any] = {}
    for start in range(0, len(names), 10_000):
        for feature in Feature.filter(name__in=names[start : start + 10_000]):
            if feature.name not in found or (
                feature.type_id is None and found[feature.name].type_id is not None
            ):
                found[feature.name] = feature
    return found


def _nullable(feature: Any) -> bool:
    value = feature.__dict__.get("nullable")
    return True if value is None else bool(value)


def _column(df: Any, name: str) -> Any:
    if name in df.columns:
        return name
    return next(c for c in df.columns if str(c) == name)


def _reader(df: Any, name: str) -> Callable[[], Any]:
    def read() -> Any:
        return df[_column(df, name)]

    return read


def _writer(df: Any, name: str) -> Callable[[dict[Any, Any]], None]:
    def write(mapper: dict[Any, Any]) -> None:

        column = _column(df, name)
        series = df[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            categories = [mapper.get(c, c) for c in series.cat.categories]
            if len(set(categories)) == len(categories):
                df[column] = series.cat.rename_categories(categories)
                return
            values = series.astype(object).map(lambda v: mapper.get(v, v))
            df[column] = pd.Categorical(values)
            return

        def replace(value: Any) -> Any:
            if isinstance(value, list | tuple):
                return type(value)(_mapped(mapper, v) for v in value)
            return _mapped(mapper, value)

        df[column] = series.map(replace)

    return write


def _mapped(mapper: dict[Any, Any], value: Any) -> Any:
    try:
        return mapper.get(value, value)
    except TypeError:  # unhashable values are left as they are
        return value
