"""Small example datasets, built offline and deterministically.

    >>> from lamella.examples import datasets
    >>> df = datasets.small_dataset1(with_typo=True)
    >>> df.loc["sample2", "perturbation"]
    'IFNJ'

Also reachable under the deprecated names `ln.core.datasets` and `ln.dev.datasets`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# dataset -> the module that builds it; a module (and pandas, anndata) loads when its dataset is asked for.
# A name that maps to itself is a module of several datasets (`datasets.mini_immuno.get_dataset1()`).
_MODULES = {
    "anndata_with_obs": "anndata_obs",
    "df_iris": "iris",
    "df_iris_in_meter": "iris",
    "df_iris_in_meter_batch1": "iris",
    "df_iris_in_meter_batch2": "iris",
    "df_iris_in_meter_study1": "iris",
    "df_iris_in_meter_study2": "iris",
    "mini_immuno": "mini_immuno",
    "small_dataset1": "small",
    "small_dataset2": "small",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'lamella.examples.datasets' has no dataset {name!r}")
    module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
    value = module if _MODULES[name] == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from lamella.examples.datasets import mini_immuno as mini_immuno
    from lamella.examples.datasets.anndata_obs import anndata_with_obs as anndata_with_obs
    from lamella.examples.datasets.iris import df_iris as df_iris
    from lamella.examples.datasets.iris import df_iris_in_meter as df_iris_in_meter
    from lamella.examples.datasets.iris import df_iris_in_meter_batch1 as df_iris_in_meter_batch1
    from lamella.examples.datasets.iris import df_iris_in_meter_batch2 as df_iris_in_meter_batch2
    from lamella.examples.datasets.iris import df_iris_in_meter_study1 as df_iris_in_meter_study1
    from lamella.examples.datasets.iris import df_iris_in_meter_study2 as df_iris_in_meter_study2
    from lamella.examples.datasets.small import small_dataset1 as small_dataset1
    from lamella.examples.datasets.small import small_dataset2 as small_dataset2
