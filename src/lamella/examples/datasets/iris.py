"""Fisher's iris measurements (150 flowers, 3 species), read from a CSV shipped with the package.

`df_iris()` has the layout of `sklearn.datasets.load_iris(as_frame=True).frame`; the `_in_meter`
variants rename the columns, convert cm to m and split the table into two halves of 75 flowers,
the way two studies or two batches would deliver it.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import pandas as pd

__all__ = [
    "df_iris",
    "df_iris_in_meter",
    "df_iris_in_meter_batch1",
    "df_iris_in_meter_batch2",
    "df_iris_in_meter_study1",
    "df_iris_in_meter_study2",
]

SPECIES = ("setosa", "versicolor", "virginica")
_MEASUREMENTS = ("sepal_length", "sepal_width", "petal_length", "petal_width")
_HALF = 75


def _read_table() -> Any:

    source = resources.files("lamella.examples").joinpath("data", "iris.csv")
    with source.open("r", encoding="utf-8") as file:
        return pd.read_csv(file)


def df_iris() -> Any:
    """Columns "sepal length (cm)", ..., "petal width (cm)" and "target" (0, 1, 2 for the species)."""
    table = _read_table()
    df = table[[f"{name}_cm" for name in _MEASUREMENTS]].copy()
    df.columns = [f"{name.replace('_', ' ')} (cm)" for name in _MEASUREMENTS]
    df["target"] = table["species"].map({name: code for code, name in enumerate(SPECIES)}).astype("int64")
    return df


def df_iris_in_meter() -> Any:
    """Columns sepal_length, sepal_width, petal_length, petal_width (in m) and iris_organism_code."""
    df = df_iris()
    # rounding keeps 5.1 cm as 0.051 m rather than the float artefact 0.051000000000000004
    meters = (df.iloc[:, :4] / 100).round(4)
    meters.columns = list(_MEASUREMENTS)
    meters["iris_organism_code"] = df["target"]
    return meters


def _with_species_names(df: Any) -> Any:

    codes = df.pop("iris_organism_code")
    # all three categories in every half, so that concatenating the studies keeps the dtype
    df["iris_organism_name"] = pd.Categorical.from_codes(codes.to_numpy(), categories=pd.Index(SPECIES))
    return df


def df_iris_in_meter_study1() -> Any:
    """Flowers 0-74 in m, with the species as categorical `iris_organism_name`."""
    return _with_species_names(df_iris_in_meter().iloc[:_HALF].copy())


def df_iris_in_meter_study2() -> Any:
    """Flowers 75-149 in m (index kept), with the species as categorical `iris_organism_name`."""
    return _with_species_names(df_iris_in_meter().iloc[_HALF:].copy())


def df_iris_in_meter_batch1() -> Any:
    """Flowers 0-74 in m, with the species as integer `iris_organism_code`."""
    return df_iris_in_meter().iloc[:_HALF].copy()


def df_iris_in_meter_batch2() -> Any:
    """Flowers 75-149 in m (index kept), with the species as integer `iris_organism_code`."""
    return df_iris_in_meter().iloc[_HALF:].copy()
