"""Two tiny RNA-seq-like datasets: three samples, three genes, and sample-level metadata.

`small_dataset1(with_typo=True)` is the frame of the introduction: its "IFNJ" is a typo for "IFNG"
that curation catches, fixed with `df["perturbation"].cat.rename_categories({"IFNJ": "IFNG"})`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from lamella.errors import InvalidArgument

__all__ = ["small_dataset1", "small_dataset2"]

# Ensembl id -> symbol of the genes measured (CD8A, CD4, CD14, CD38)
_GENE_SYMBOLS = {
    "ENSG00000153563": "CD8A",
    "ENSG00000010610": "CD4",
    "ENSG00000170458": "CD14",
    "ENSG00000004468": "CD38",
}
# misspellings used to exercise validation; neither is a real identifier
_GENE_TYPOS = {"ENSG00000010610": "ENSG00000010601", "CD4": "CD4X"}

_CD8_T_CELL = "CD8-positive, alpha-beta T cell"

# dataset-level metadata: features of the dataset as a whole rather than of a sample
_STUDY_METADATA: dict[str, Any] = {
    "temperature": 21.6,
    "experiment": "My experiment",
    "date_of_study": "2024-12-01",
    "study_note": "We had a great time performing this study and the results look compelling.",
}

_OTYPES = ("DataFrame", "AnnData")


def _check_otype(otype: str) -> None:
    if otype not in _OTYPES:
        raise InvalidArgument(f"otype={otype!r} is not supported; pass one of {list(_OTYPES)}")


def _gene_names(ensembl_ids: list[str], gene_symbols_in_index: bool) -> list[str]:
    return [_GENE_SYMBOLS[gene] for gene in ensembl_ids] if gene_symbols_in_index else list(ensembl_ids)


def _as_otype(df: Any, n_genes: int, otype: str, metadata: dict[str, Any]) -> Any:
    """The frame itself, or an AnnData with the gene columns as X and the rest as obs."""
    if otype == "DataFrame":
        df.attrs.update(metadata)
        return df
    import anndata

    genes = list(df.columns[:n_genes])
    return anndata.AnnData(
        X=df[genes].to_numpy(),
        obs=df.iloc[:, n_genes:].copy(),
        var=pd.DataFrame(index=pd.Index(genes)),
        uns=dict(metadata),
    )


def small_dataset1(
    otype: str = "DataFrame",
    gene_symbols_in_index: bool = False,
    with_typo: bool = False,
    with_cell_type_synonym: bool = False,
    with_cell_type_typo: bool = False,
    with_gene_typo: bool = False,
) -> Any:
    """Samples 1-3: expression of CD8A, CD4 and CD14 plus perturbation and cell-type annotations.

    Args:
        otype: "DataFrame" (default) or "AnnData" (genes as X, the other columns as obs).
        gene_symbols_in_index: name genes by symbol ("CD8A") instead of Ensembl id.
        with_typo: sample2's perturbation is "IFNJ" instead of "IFNG".
        with_cell_type_synonym: sample1's expert cell type is the synonym "B lymphocyte" of "B cell".
        with_cell_type_typo: the expert's "CD8-positive, alpha-beta T cell" is misspelled.
        with_gene_typo: the CD4 gene is misspelled.
    """

    _check_otype(otype)
    genes = _gene_names(["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"], gene_symbols_in_index)
    if with_gene_typo:
        genes[1] = _GENE_TYPOS[genes[1]]
    b_cell = "B lymphocyte" if with_cell_type_synonym else "B cell"
    cd8_t_cell = "CD8-pos alpha-beta T cell" if with_cell_type_typo else _CD8_T_CELL
    columns: dict[str, Any] = {
        genes[0]: [1, 2, 3],
        genes[1]: [3, 4, 5],
        genes[2]: [5, 6, 7],
        "perturbation": pd.Categorical(["DMSO", "IFNJ" if with_typo else "IFNG", "DMSO"]),
        "sample_note": ["was ok", "looks naah", "pretty! 🤩"],
        "cell_type_by_expert": pd.Categorical([b_cell, cd8_t_cell, cd8_t_cell]),
        "cell_type_by_model": pd.Categorical(["B cell", "T cell", "T cell"]),
        "assay_oid": pd.Categorical(["EFO:0008913"] * 3),
        "concentration": ["0.1%", "200 nM", "0.1%"],
        "treatment_time_h": [24, 24, 6],
        "donor": ["D0001", "D0002", None],
    }
    df = pd.DataFrame(columns, index=pd.Index(["sample1", "sample2", "sample3"]))
    return _as_otype(df, 3, otype, _STUDY_METADATA)


def small_dataset2(otype: str = "DataFrame", gene_symbols_in_index: bool = False) -> Any:
    """Samples 4-6: a second batch measuring CD8A, CD4 and CD38, annotated like `small_dataset1`.

    Shares two genes and the "perturbation" column with `small_dataset1`, so the two can be
    validated by one schema and combined in a collection.
    """

    _check_otype(otype)
    genes = _gene_names(["ENSG00000153563", "ENSG00000010610", "ENSG00000004468"], gene_symbols_in_index)
    columns: dict[str, Any] = {
        genes[0]: [2, 3, 3],
        genes[1]: [3, 4, 5],
        genes[2]: [4, 2, 3],
        "perturbation": pd.Categorical(["DMSO", "IFNG", "IFNG"]),
        "cell_type_by_model": pd.Categorical(["B cell", "T cell", "T cell"]),
    }
    df = pd.DataFrame(columns, index=pd.Index(["sample4", "sample5", "sample6"]))
    return _as_otype(df, 3, otype, {})
