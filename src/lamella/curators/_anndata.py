"""`AnnDataCurator`: an AnnData validated slot by slot ("obs", "var") against a composite schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lamella.curators._base import Curator
from lamella.curators._columns import matches
from lamella.curators._dataframe import DataFrameCurator
from lamella.errors import InvalidArgument
from lamella.models.artifact.artifact import Artifact
from lamella.models.features.dtypes import parse

if TYPE_CHECKING:
    from lamella.curators._cat import CatColumn
    from lamella.models.artifact.artifact import Artifact
    from lamella.models.schema.schema import Schema

_SLOTS = ("obs", "var")


class _SlotsCurator(Curator):
    """A dataset validated slot by slot, each slot a DataFrame with its own curator."""

    _slots: dict[str, DataFrameCurator]

    @property
    def slots(self) -> dict[str, DataFrameCurator]:
        """The curator of each slot."""
        return dict(self._slots)

    def _problems(self) -> list[str]:
        problems: list[str] = []
        for curator in self._slots.values():
            problems.extend(curator._problems())
        return problems

    def _cat_columns(self) -> dict[str, CatColumn]:
        columns: dict[str, CatColumn] = {}
        for curator in self._slots.values():
            columns.update(curator._cat_columns())
        return columns

    def _feature_sets(self) -> dict[str, Schema]:
        sets: dict[str, Schema] = {}
        for curator in self._slots.values():
            sets.update(curator._feature_sets())
        return sets

    def _labels(self) -> list[tuple[Any, list[Any]]]:
        pairs: list[tuple[Any, list[Any]]] = []
        for curator in self._slots.values():
            pairs.extend(curator._labels())
        return pairs


class AnnDataCurator(_SlotsCurator):
    """Validate an AnnData against a composite schema: `ln.Schema(otype="AnnData", slots={"obs": ..., "var": ...})`.

    The "obs" schema validates the obs columns. The "var" schema validates the var columns when it lists
    features, and otherwise the var index against its `itype` (e.g. `ln.ULabel.name` or
    `bt.Gene.ensembl_gene_id`). Problems are reported per slot.
    """

    def __init__(self, adata: Any, schema: Any) -> None:
        super().__init__(adata, schema)
        if type(adata).__name__ != "AnnData":
            raise InvalidArgument(f"AnnDataCurator takes an AnnData object, not {type(adata).__name__}")
        if self._schema.otype not in (None, "AnnData"):
            raise InvalidArgument(
                f"schema {self._schema.name or self._schema.uid!r} describes a {self._schema.otype}, not an AnnData"
            )
        components = self._schema.slots
        if not components:
            raise InvalidArgument(
                "an AnnData schema has slots: ln.Schema(otype='AnnData', slots={'obs': obs_schema, 'var': var_schema})"
            )
        unknown = [slot for slot in components if slot not in _SLOTS]
        if unknown:
            raise InvalidArgument(
                f"slot{'s' if len(unknown) > 1 else ''} {', '.join(repr(s) for s in unknown)} cannot be validated "
                f"for an AnnData; use {' and '.join(repr(s) for s in _SLOTS)}"
            )
        self._slots = {}
        for slot, component in components.items():
            if slot == "obs":
                self._slots[slot] = DataFrameCurator(adata.obs, component, slot="obs")
            else:
                index_terms = component.n == 0 and component.itype is not None
                self._slots[slot] = DataFrameCurator(
                    adata.var, component, slot="var", _index_terms=index_terms, _set_index=self._set_var_names
                )

    def _set_var_names(self, index: Any) -> None:
        self._dataset.var_names = index

    @property
    def adata(self) -> Any:
        return self._dataset

    def _problems(self) -> list[str]:
        problems = super()._problems()
        problem = self._x_problem()
        if problem:
            problems.append(problem)
        return problems

    def _x_problem(self) -> str | None:
        """A var schema of terms with a dtype (`itype=..., dtype=int`) says what the values in X are."""
        var = self._slots.get("var")
        x = getattr(self._dataset, "X", None)
        if var is None or var._terms != "index" or not var.schema.dtype or x is None:
            return None

        dtype = parse(var.schema.dtype)
        if dtype.is_cat or matches(dtype, pd.Series(np.empty(0, dtype=x.dtype))):
            return None
        return (
            f"X: expected dtype {dtype.text} (schema {var.schema.name or var.schema.uid!r} of slot 'var'), "
            f"got {x.dtype}; convert it, e.g. adata.X = adata.X.astype(...)"
        )

    def _new_artifact(self, **kwargs: Any) -> Artifact:

        return Artifact.from_anndata(self._dataset, **kwargs)


class MuDataCurator(_SlotsCurator):
    """Validate a MuData against a composite schema whose slots are "obs" (the global obs) and
    "<modality>:obs" / "<modality>:var" (e.g. "rna:obs", "rna:var"), each validated like an AnnData slot.
    """

    def __init__(self, mdata: Any, schema: Any) -> None:
        super().__init__(mdata, schema)
        if type(mdata).__name__ != "MuData":
            raise InvalidArgument(f"MuDataCurator takes a MuData object, not {type(mdata).__name__}")
        if self._schema.otype not in (None, "MuData"):
            raise InvalidArgument(
                f"schema {self._schema.name or self._schema.uid!r} describes a {self._schema.otype}, not a MuData"
            )
        components = self._schema.slots
        if not components:
            raise InvalidArgument(
                "a MuData schema has slots: ln.Schema(otype='MuData', slots={'obs': ..., 'rna:var': ...})"
            )
        modalities = dict(mdata.mod)
        self._slots = {}
        for slot, component in components.items():
            if slot == "obs":
                self._slots[slot] = DataFrameCurator(mdata.obs, component, slot="obs")
                continue
            modality, _, part = slot.partition(":")
            if part not in _SLOTS:
                raise InvalidArgument(
                    f"slot {slot!r} cannot be validated for a MuData; use 'obs', '<modality>:obs' or '<modality>:var'"
                )
            if modality not in modalities:
                raise InvalidArgument(
                    f"slot {slot!r} names the modality {modality!r}, which the MuData does not have; "
                    f"it has {', '.join(repr(m) for m in modalities)}"
                )
            adata = modalities[modality]
            if part == "obs":
                self._slots[slot] = DataFrameCurator(adata.obs, component, slot=slot)
            else:
                index_terms = component.n == 0 and component.itype is not None
                self._slots[slot] = DataFrameCurator(
                    adata.var, component, slot=slot, _index_terms=index_terms, _set_index=_var_setter(adata)
                )

    @property
    def mdata(self) -> Any:
        return self._dataset

    def _new_artifact(self, **kwargs: Any) -> Artifact:

        return Artifact(self._dataset, **kwargs)


def _var_setter(adata: Any) -> Any:
    def set_var_names(index: Any) -> None:
        adata.var_names = index

    return set_var_names
