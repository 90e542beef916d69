"""Curators: validate datasets against schemas, fix what does not validate, save them annotated.

>>> curator = ln.curators.DataFrameCurator(df, schema)
>>> curator.validate()                              # raises ln.errors.ValidationError, saying what to fix
>>> curator.cat.non_validated                       # {"perturbation": ["IFNJ"]}
>>> curator.cat.standardize("perturbation")         # synonyms -> validated terms, in the DataFrame
>>> curator.cat.add_new_from("perturbation")        # save the new terms as labels
>>> artifact = curator.save_artifact(key="datasets/my.parquet")

`AnnDataCurator` does the same for AnnData objects against a composite schema with "obs" and "var" slots,
`MuDataCurator` for MuData objects with slots "obs", "<modality>:obs" and "<modality>:var".
pandas and pandera are imported when a curator first validates, not with this module.
"""

from __future__ import annotations

from lamella.curators._anndata import AnnDataCurator, MuDataCurator
from lamella.curators._base import Curator
from lamella.curators._cat import CatManager
from lamella.curators._dataframe import DataFrameCurator

__all__ = ["AnnDataCurator", "CatManager", "Curator", "DataFrameCurator", "MuDataCurator"]
