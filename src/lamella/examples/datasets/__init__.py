"""Small example datasets, built offline and deterministically.

    >>> from lamella.examples import datasets
    >>> df = datasets.small_dataset1(with_typo=True)
    >>> df.loc["sample2", "perturbation"]
    'IFNJ'

Also reachable under the deprecated names `ln.core.datasets` and `ln.dev.datasets`.
"""

from __future__ import annotations

from lamella.examples.datasets.anndata_obs import anndata_with_obs
from lamella.examples.datasets.iris import (
    df_iris,
    df_iris_in_meter,
    df_iris_in_meter_batch1,
    df_iris_in_meter_batch2,
    df_iris_in_meter_study1,
    df_iris_in_meter_study2,
)
from lamella.examples.datasets.small import small_dataset1, small_dataset2

__all__ = [
    "anndata_with_obs",
    "df_iris",
    "df_iris_in_meter",
    "df_iris_in_meter_batch1",
    "df_iris_in_meter_batch2",
    "df_iris_in_meter_study1",
    "df_iris_in_meter_study2",
    "small_dataset1",
    "small_dataset2",
]
