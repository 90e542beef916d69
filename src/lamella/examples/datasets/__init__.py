"""Small example datasets and files, built offline and deterministically.

    >>> from lamella.examples import datasets
    >>> df = datasets.small_dataset1(with_typo=True)
    >>> df.loc["sample2", "perturbation"]
    'IFNJ'
    >>> adata = datasets.mini_immuno.get_dataset1(otype="AnnData")
    >>> datasets.file_fcs()  # a path in the cache: FCS, BAM, FASTQ, JPEG, TIFF, TSV files are made, not downloaded
    PosixPath('.../cache/examples/example.fcs')

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
    "dir_scrnaseq_cellranger": "cellranger",
    "file_bam": "files",
    "file_fastq": "files",
    "file_fcs": "files",
    "file_fcs_alpert19": "files",
    "file_jpg_paradisi05": "files",
    "file_mini_csv": "files",
    "file_tiff_suo22": "files",
    "file_tsv_rnaseq_nfcore_salmon_merged_gene_counts": "files",
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
    from lamella.examples.datasets.cellranger import dir_scrnaseq_cellranger as dir_scrnaseq_cellranger
    from lamella.examples.datasets.files import file_bam as file_bam
    from lamella.examples.datasets.files import file_fastq as file_fastq
    from lamella.examples.datasets.files import file_fcs as file_fcs
    from lamella.examples.datasets.files import file_fcs_alpert19 as file_fcs_alpert19
    from lamella.examples.datasets.files import file_jpg_paradisi05 as file_jpg_paradisi05
    from lamella.examples.datasets.files import file_mini_csv as file_mini_csv
    from lamella.examples.datasets.files import file_tiff_suo22 as file_tiff_suo22
    from lamella.examples.datasets.files import (
        file_tsv_rnaseq_nfcore_salmon_merged_gene_counts as file_tsv_rnaseq_nfcore_salmon_merged_gene_counts,
    )
    from lamella.examples.datasets.iris import df_iris as df_iris
    from lamella.examples.datasets.iris import df_iris_in_meter as df_iris_in_meter
    from lamella.examples.datasets.iris import df_iris_in_meter_batch1 as df_iris_in_meter_batch1
    from lamella.examples.datasets.iris import df_iris_in_meter_batch2 as df_iris_in_meter_batch2
    from lamella.examples.datasets.iris import df_iris_in_meter_study1 as df_iris_in_meter_study1
    from lamella.examples.datasets.iris import df_iris_in_meter_study2 as df_iris_in_meter_study2
    from lamella.examples.datasets.small import small_dataset1 as small_dataset1
    from lamella.examples.datasets.small import small_dataset2 as small_dataset2
