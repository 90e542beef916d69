"""The two "mini immuno" datasets: three samples each, three genes, and sample- and study-level metadata.

    >>> from lamella.examples.datasets import mini_immuno
    >>> adata = mini_immuno.get_dataset1(otype="AnnData")
    >>> mini_immuno.define_features_labels()  # the features and labels that validate them
    >>> schema = mini_immuno.define_mini_immuno_schema_flexible()
    >>> ln.Artifact.from_anndata(adata, key="examples/dataset1.h5ad", schema=...).save()

`get_dataset1` has switches that each plant one kind of problem curation has to catch (a typo in a
label, a synonym, a misspelled or retired gene, a label of the wrong type, a mixed-type index).
`define_features_labels`, `define_mini_immuno_schema_flexible` and `save_mini_immuno_datasets` write
to the connected instance, which needs the bionty module (`lamella migrate --modules bionty`); each
can run again: what exists already is used as it is.
"""

from __future__ import annotations

import datetime
from typing import Any

import anndata
import pandas as pd

from lamella import bionty as bt
from lamella.models import Artifact, Feature, Record, Schema, save

from ._registries import feature_named
from .small import _GENE_SYMBOLS, _check_otype

__all__ = [
    "define_features_labels",
    "define_mini_immuno_schema_flexible",
    "get_dataset1",
    "get_dataset2",
    "save_mini_immuno_datasets",
]

CD8_T_CELL = "CD8-positive, alpha-beta T cell"
# an Ensembl id that was retired and is absent from current gene tables
OUTDATED_GENE = "ENSG00000278198"
GENE_TYPO = "GeneTypo"
WRONG_SUBTYPE = "ulabel_but_not_perturbation"
SCHEMA_NAME = "Mini immuno schema"

_GENES1 = ["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]  # CD8A, CD4, CD14
_GENES2 = ["ENSG00000153563", "ENSG00000010610", "ENSG00000004468"]  # CD8A, CD4, CD38
_ETHNICITIES = ["Chinese", "Singaporean Chinese", "Han Chinese"]
_STUDY_NOTE = "We had a great time performing this study and the results look compelling."


def _date(iso: str, as_iso_string: bool) -> str | datetime.date:
    return iso if as_iso_string else datetime.date.fromisoformat(iso)


def _finish(df: pd.DataFrame, otype: str, uns: dict[str, Any], obs_only: tuple[str, ...] = ()) -> Any:
    """The frame with `uns` in `attrs`, or an AnnData: the first three columns as X, the rest as obs."""
    if otype == "DataFrame":
        df.attrs.update(uns)
        return df
    obs = df.iloc[:, 3:].drop(columns=list(obs_only))
    # an AnnData's obs names are strings; a mixed index keeps its values, as text
    index = pd.Index([str(name) for name in df.index])
    obs.index = index
    return anndata.AnnData(
        X=df.iloc[:, :3].to_numpy(),
        obs=obs,
        var=pd.DataFrame(index=pd.Index(list(df.columns[:3]))),
        uns=dict(uns),
    )


def get_dataset1(
    otype: str = "DataFrame",
    gene_symbols_in_index: bool = False,
    with_typo: bool = False,
    with_cell_type_synonym: bool = False,
    with_cell_type_typo: bool = False,
    with_gene_typo: bool = False,
    with_outdated_gene: bool = False,
    with_wrong_subtype: bool = False,
    with_index_type_mismatch: bool = False,
    with_date_as_iso_string: bool = True,
) -> Any:
    """Samples 1-3: expression of CD8A, CD4 and CD14 with perturbation, cell types, assay, donor.

    Args:
        otype: "DataFrame" (study metadata in `df.attrs`; also a `donor_ethnicity` column of lists)
            or "AnnData" (genes as X, the sample columns as obs, study metadata in `uns`).
        gene_symbols_in_index: name genes by symbol ("CD8A") instead of Ensembl id.
        with_typo: sample2's perturbation is "IFNJ" instead of "IFNG".
        with_cell_type_synonym: sample1's expert cell type is "B-cell", a synonym of "B cell".
        with_cell_type_typo: the expert's "CD8-positive, alpha-beta T cell" is misspelled.
        with_gene_typo: the third gene is "GeneTypo".
        with_outdated_gene: the third gene is ENSG00000278198, an Ensembl id that was retired (only
            with Ensembl ids; `with_gene_typo` wins over it).
        with_wrong_subtype: sample3's perturbation is a label that is not a perturbation.
        with_index_type_mismatch: the third sample is named 0 (an int) instead of "sample3".
        with_date_as_iso_string: `date_of_study` as "2024-12-01" rather than a `datetime.date`.
    """
    _check_otype(otype)
    genes = [_GENE_SYMBOLS[gene] for gene in _GENES1] if gene_symbols_in_index else list(_GENES1)
    if with_gene_typo:
        genes[2] = GENE_TYPO
    elif with_outdated_gene and not gene_symbols_in_index:
        genes[2] = OUTDATED_GENE
    cd8_t_cell = "CD8-pos alpha-beta T cell" if with_cell_type_typo else CD8_T_CELL
    columns: dict[str, Any] = {
        genes[0]: [1, 2, 3],
        genes[1]: [3, 4, 5],
        genes[2]: [5, 6, 7],
        "perturbation": pd.Categorical(
            ["DMSO", "IFNJ" if with_typo else "IFNG", WRONG_SUBTYPE if with_wrong_subtype else "DMSO"]
        ),
        "sample_note": ["was ok", "looks naah", "pretty! 🤩"],
        "cell_type_by_expert": pd.Categorical(
            ["B-cell" if with_cell_type_synonym else "B cell", cd8_t_cell, cd8_t_cell]
        ),
        "cell_type_by_model": pd.Categorical(["B cell", "T cell", "T cell"]),
        "assay_oid": pd.Categorical(["EFO:0008913"] * 3),
        "concentration": ["0.1%", "200 nM", "0.1%"],
        "treatment_time_h": [24, 24, 6],
        "donor": ["D0001", "D0002", None],
        "donor_ethnicity": [
            ["Chinese", "Singaporean Chinese"],
            ["Chinese", "Han Chinese"],
            ["Chinese"],
        ],
    }
    index: list[Any] = ["sample1", "sample2", 0 if with_index_type_mismatch else "sample3"]
    df = pd.DataFrame(columns, index=pd.Index(index, dtype=object))
    uns = {
        "temperature": 21.6,
        "experiment": "Experiment 1",
        "date_of_study": _date("2024-12-01", with_date_as_iso_string),
        "study_note": _STUDY_NOTE,
        "study_leader": "Ada Lovelace",
    }
    # lists in obs do not fit h5ad, so the AnnData leaves the ethnicities out
    return _finish(df, otype, uns, obs_only=("donor_ethnicity",))


def get_dataset2(
    otype: str = "DataFrame", gene_symbols_in_index: bool = False, with_date_as_iso_string: bool = True
) -> Any:
    """Samples 4-6: CD8A, CD4 and CD38 (two genes shared with dataset 1), annotated like dataset 1."""
    _check_otype(otype)
    genes = [_GENE_SYMBOLS[gene] for gene in _GENES2] if gene_symbols_in_index else list(_GENES2)
    columns: dict[str, Any] = {
        genes[0]: [2, 3, 3],
        genes[1]: [3, 4, 5],
        genes[2]: [4, 2, 3],
        "perturbation": pd.Categorical(["DMSO", "IFNG", "IFNG"]),
        "cell_type_by_model": pd.Categorical(["B cell", "T cell", "T cell"]),
        "concentration": ["0.1%", "200 nM", "0.1%"],
        "treatment_time_h": [24, 24, 6],
        "donor": ["D0003", "D0003", "D0004"],
    }
    df = pd.DataFrame(columns, index=pd.Index(["sample4", "sample5", "sample6"]))
    uns = {
        "temperature": 22.6,
        "experiment": "Experiment 2",
        "date_of_study": _date("2025-02-13", with_date_as_iso_string),
        "study_leader": "Ada Lovelace",
    }
    return _finish(df, otype, uns)


# ---- registries ------------------------------------------------------------------------------------


def define_features_labels() -> None:
    """Features and labels that validate the mini immuno datasets; runs this code::

        import lamella as ln
        import lamella.bionty as bt

        # labels
        perturbation_type = ln.Record(name="Perturbation", is_type=True).save()
        ln.Record(name="DMSO", type=perturbation_type).save()
        ln.Record(name="IFNG", type=perturbation_type).save()
        bt.CellType.from_source(name="B cell").save()
        bt.CellType.from_source(name="T cell").save()

        # features
        ln.Feature(name="perturbation", dtype=perturbation_type).save()
        ln.Feature(name="cell_type_by_expert", dtype=bt.CellType).save()
        ln.Feature(name="cell_type_by_model", dtype=bt.CellType).save()
        ln.Feature(name="assay_oid", dtype=bt.ExperimentalFactor.ontology_id).save()
        ln.Feature(name="concentration", dtype=str).save()
        ln.Feature(name="treatment_time_h", dtype="num", coerce=True).save()
        ln.Feature(name="donor", dtype=str, nullable=True).save()
        ln.Feature(name="donor_ethnicity", dtype=list[bt.Ethnicity]).save()

        # the other ontology terms dataset 1 uses: curators validate against the registries only
        bt.CellType.from_source(name="CD8-positive, alpha-beta T cell").save()
        bt.ExperimentalFactor.from_source(ontology_id="EFO:0008913").save()
        ln.save(bt.Ethnicity.from_values(["Chinese", "Singaporean Chinese", "Han Chinese"]))

    A feature whose name is taken already is left as it is.
    """
    perturbation_type = Record(name="Perturbation", is_type=True).save()
    Record(name="DMSO", type=perturbation_type).save()
    Record(name="IFNG", type=perturbation_type).save()
    for cell_type in ("B cell", "T cell", CD8_T_CELL):
        bt.CellType.from_source(name=cell_type).save()
    bt.ExperimentalFactor.from_source(ontology_id="EFO:0008913").save()
    save(bt.Ethnicity.from_values(_ETHNICITIES, field=bt.Ethnicity.name, mute=True))

    feature_named("perturbation", perturbation_type)
    feature_named("cell_type_by_expert", bt.CellType)
    feature_named("cell_type_by_model", bt.CellType)
    feature_named("assay_oid", bt.ExperimentalFactor.ontology_id)
    feature_named("concentration", str)
    feature_named("treatment_time_h", "num", coerce=True)
    feature_named("donor", str, nullable=True)
    feature_named("donor_ethnicity", list[bt.Ethnicity])  # type: ignore[valid-type]


def define_mini_immuno_schema_flexible() -> Schema:
    """The schema "Mini immuno schema": six of the features above required, other known ones validated.

    Runs `define_features_labels()` first, then::

        schema = ln.Schema(
            name="Mini immuno schema",
            features=[
                ln.Feature.get(name="perturbation"),
                ln.Feature.get(name="cell_type_by_model"),
                ln.Feature.get(name="assay_oid"),
                ln.Feature.get(name="donor"),
                ln.Feature.get(name="concentration"),
                ln.Feature.get(name="treatment_time_h"),
            ],
            flexible=True,  # further columns are validated and annotated if they are features
        ).save()
    """
    define_features_labels()
    names = ("perturbation", "cell_type_by_model", "assay_oid", "donor", "concentration", "treatment_time_h")
    features = [Feature.filter(name=name, is_type=False).one() for name in names]
    return Schema(name=SCHEMA_NAME, features=features, flexible=True).save()


def save_mini_immuno_datasets() -> tuple[Artifact, Artifact]:
    """Save both datasets as AnnData artifacts "examples/dataset1.h5ad" and "examples/dataset2.h5ad".

    Validated by an AnnData schema (obs: any registered feature; var: human Ensembl gene ids) and
    annotated with their study metadata plus an ad-hoc `study_metadata` dictionary. Runs::

        ln.save(ln.Record.from_values(["DMSO", "IFNG"], create=True))
        ln.save(ln.Record.from_values(["Experiment 1", "Experiment 2"], create=True))
        ln.save(bt.CellType.from_values(["B cell", "T cell", "CD8-positive, alpha-beta T cell"]))
        # observation-level features
        ln.Feature(name="perturbation", dtype=ln.Record).save()
        ln.Feature(name="sample_note", dtype=str).save()
        ln.Feature(name="cell_type_by_expert", dtype=bt.CellType).save()
        ln.Feature(name="cell_type_by_model", dtype=bt.CellType).save()
        # dataset-level features
        ln.Feature(name="temperature", dtype=float).save()
        ln.Feature(name="experiment", dtype=ln.Record).save()
        ln.Feature(name="date_of_study", dtype="date", coerce=True).save()
        ln.Feature(name="study_note", dtype=str).save()
        ln.Feature(name="study_leader", dtype=str).save()
        ln.Feature(name="study_metadata", dtype=dict).save()
        # the genes both datasets measure
        ln.save(bt.Gene.from_values([...], field=bt.Gene.ensembl_gene_id, organism="human"))

        obs = ln.Schema(name="valid_features", itype=ln.Feature).save()
        var = ln.Schema(name="valid_ensembl_gene_ids", itype=bt.Gene.ensembl_gene_id).save()
        schema = ln.Schema(
            name="anndata_ensembl_gene_ids_and_valid_features_in_obs",
            otype="AnnData",
            slots={"obs": obs, "var": var},
        ).save()

        adata = get_dataset1(otype="AnnData")
        artifact = ln.Artifact.from_anndata(adata, key="examples/dataset1.h5ad", schema=schema).save()
        artifact.features.add_values({**adata.uns, "study_metadata": {"detail1": "123", "detail2": 1}})
        # and the same for dataset 2

    Features whose names are taken already are used as they are. Returns both artifacts.
    """
    save(Record.from_values(["DMSO", "IFNG"], create=True, mute=True))
    save(Record.from_values(["Experiment 1", "Experiment 2"], create=True, mute=True))
    save(bt.CellType.from_values(["B cell", "T cell", CD8_T_CELL], field=bt.CellType.name, mute=True))

    feature_named("perturbation", Record)
    feature_named("sample_note", str)
    feature_named("cell_type_by_expert", bt.CellType)
    feature_named("cell_type_by_model", bt.CellType)
    feature_named("temperature", float)
    feature_named("experiment", Record)
    feature_named("date_of_study", "date", coerce=True)
    feature_named("study_note", str)
    feature_named("study_leader", str)
    feature_named("study_metadata", dict)

    genes = sorted(set(_GENES1) | set(_GENES2))
    save(bt.Gene.from_values(genes, field=bt.Gene.ensembl_gene_id, organism="human", mute=True))

    obs = Schema(name="valid_features", itype=Feature).save()
    var = Schema(name="valid_ensembl_gene_ids", itype=bt.Gene.ensembl_gene_id).save()
    schema = Schema(
        name="anndata_ensembl_gene_ids_and_valid_features_in_obs",
        otype="AnnData",
        slots={"obs": obs, "var": var},
    ).save()

    artifacts = []
    for number, (adata, detail) in enumerate(
        [(get_dataset1(otype="AnnData"), ("123", 1)), (get_dataset2(otype="AnnData"), ("456", 2))], start=1
    ):
        artifact = Artifact.from_anndata(adata, key=f"examples/dataset{number}.h5ad", schema=schema).save()
        study_metadata = {"detail1": detail[0], "detail2": detail[1]}
        artifact.features.add_values({**adata.uns, "study_metadata": study_metadata})
        artifacts.append(artifact)
    return artifacts[0], artifacts[1]
