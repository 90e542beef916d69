"""`lamella.bionty`: registries backed by the public ontologies that ship with Lamella, offline."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import anndata as ad
import pandas as pd
import pytest

from lamella.errors import DoesNotExist, InvalidArgument, NotConnected, ValidationError


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in bionty may reach the network: every public source ships with the package."""

    def refuse(self: socket.socket, address: Any) -> None:
        raise OSError(f"the bionty tests are offline; something tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def bt(storage_root: Path, tmp_path: Path) -> Iterator[ModuleType]:
    import lamella as ln
    import lamella.bionty as bionty

    ln.setup.init(storage=storage_root, modules="bionty")
    yield bionty


def test_a_term_from_the_source_is_saved_with_its_parents(bt: ModuleType) -> None:
    neuron = bt.CellType.from_source(name="neuron").save()
    assert neuron.ontology_id == "CL:0000540" and len(neuron.uid) == 14
    assert {p.ontology_id for p in neuron.parents.all()} == {"CL:0002319", "CL:0000404", "CL:0000393"}
    # the whole ancestry is there, so the hierarchy can be walked up to the root
    assert "CL:0000000" in set(neuron.query_parents().to_list("ontology_id"))
    assert bt.CellType.from_source(ontology_id="CL:0000540") == neuron  # the saved record comes back
    assert neuron.source.name == "cl" and neuron.source.version and neuron.source.currently_used


def test_uids_are_derived_from_the_ontology_id(bt: ModuleType) -> None:
    first = bt.CellType.from_source(ontology_id="CL:0000540")
    second = bt.CellType.from_source(name="neuron")
    assert first.uid == second.uid and first.__dict__.get("id") is None
    assert bt.Tissue.from_source(ontology_id="UBERON:0002048").uid != first.uid


def test_a_new_term_joins_the_hierarchy(bt: ModuleType) -> None:
    neuron = bt.CellType.from_source(name="neuron").save()
    state = bt.CellType(name="my neuron cell state", description="explains X").save()
    state.parents.add(neuron)
    assert [c.name for c in neuron.children.all()] == ["my neuron cell state"]
    assert neuron in state.query_parents()
    assert state in neuron.query_children()
    graph = state.view_parents(distance=2, return_graph=True)
    assert "neuron" in graph.source


def test_from_values_maps_synonyms_and_reports_unknown_values(bt: ModuleType, caplog: Any) -> None:
    import lamella as ln

    records = bt.CellType.from_values(
        ["T cell", "B cell", "nerve cell", "not a cell"], field=bt.CellType.name
    )
    assert sorted(r.name for r in records) == ["B cell", "T cell", "neuron"]
    assert all(r.__dict__.get("id") is None for r in records)
    ln.save(records)
    again = bt.CellType.from_values(["T cell", "nerve cell"], field="name")
    assert {r.id for r in again} == {r.id for r in records if r.name in ("T cell", "neuron")}
    assert "not a cell" in caplog.text


def test_other_ontologies(bt: ModuleType) -> None:
    assert bt.Tissue.from_source(ontology_id="UBERON:0002048").name == "lung"
    assert bt.Disease.public().search("type 2 diabetes").iloc[0]["name"].startswith("type 2 diabetes")
    assert bt.ExperimentalFactor.from_source(ontology_id="EFO:0008913").name
    assert bt.Ethnicity.public().source == "hancestro"
    human = bt.Organism.from_source(name="human").save()
    assert bt.Organism.get(name="human") == human and human.ontology_id == "NCBITaxon:9606"


def test_an_unknown_term_is_a_clear_error(bt: ModuleType) -> None:
    with pytest.raises(DoesNotExist, match="no CellType with name='not a cell'"):
        bt.CellType.from_source(name="not a cell")
    with pytest.raises(InvalidArgument, match="one field"):
        bt.CellType.from_source(name="neuron", ontology_id="CL:0000540")


def test_genes_need_an_organism(bt: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="organism"):
        bt.Gene.from_values(["CD8A"], field=bt.Gene.symbol)  # human, mouse, ... have a CD8A
    genes = bt.Gene.from_values(["ENSG00000153563"], field=bt.Gene.ensembl_gene_id, organism="human")
    assert [g.symbol for g in genes] == ["CD8A"] and genes[0].organism.name == "human"


def test_ensembl_gene_ids_name_their_organism(bt: ModuleType) -> None:
    human = bt.Gene.from_values(["ENSG00000153563", "ENSG00000010610"], field=bt.Gene.ensembl_gene_id)
    assert [g.symbol for g in human] == ["CD8A", "CD4"] and human[0].organism.name == "human"
    mouse = bt.Gene.from_values(["ENSMUSG00000053977"], field=bt.Gene.ensembl_gene_id)
    assert [g.symbol for g in mouse] == ["Cd8a"] and mouse[0].organism.name == "mouse"
    with pytest.raises(InvalidArgument, match="organism"):  # ids of no shipped organism name none
        bt.Gene.from_values(["ENSG_NOT_A_GENE"], field=bt.Gene.ensembl_gene_id)
    bt.settings.organism = "mouse"  # a set organism wins
    assert bt.Gene.from_values(["ENSG00000153563"], field=bt.Gene.ensembl_gene_id, mute=True) == []


def test_genes_by_ensembl_id_and_symbol(bt: ModuleType) -> None:
    import lamella as ln

    bt.settings.organism = "human"
    ids = ["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]
    genes = bt.Gene.from_values(ids, field=bt.Gene.ensembl_gene_id)
    assert sorted(g.symbol for g in genes) == ["CD14", "CD4", "CD8A"]
    ln.save(genes)
    assert bt.Gene.validate(["ENSG00000153563", "ENSG_TYPO"], field=bt.Gene.ensembl_gene_id).tolist() == [
        True,
        False,
    ]
    assert bt.Gene.public().standardize(["cd8a"], field="symbol", case_sensitive=False) == ["CD8A"]
    lookup = bt.Gene.filter(organism__name="human").lookup()
    assert lookup.cd8a.ensembl_gene_id == "ENSG00000153563"
    by_symbol = bt.Gene.from_values(["CD4"], field=bt.Gene.symbol)
    assert [g.id for g in by_symbol] == [g.id for g in genes if g.symbol == "CD4"]


def test_synonyms_and_abbreviations(bt: ModuleType) -> None:
    t_cell = bt.CellType.from_source(name="T cell").save()
    t_cell.add_synonym("my T")
    t_cell.set_abbr("TC")
    again = bt.CellType.get(t_cell.id)
    assert again.abbr == "TC" and {"my T", "TC"} <= set(again.synonyms.split("|"))
    assert bt.CellType.standardize(["my T"]) == ["T cell"]
    with pytest.raises(InvalidArgument, match="synonym"):
        t_cell.add_synonym("a|b")


def test_artifacts_and_schemas_link_to_ontology_records(bt: ModuleType, tmp_path: Path) -> None:
    import lamella as ln

    path = tmp_path / "x.csv"
    pd.DataFrame({"a": [1]}).to_csv(path, index=False)
    artifact = ln.Artifact(path, key="x.csv").save()
    neuron = bt.CellType.from_source(name="neuron").save()
    artifact.cell_types.add(neuron)
    assert ln.Artifact.filter(cell_types__name="neuron").one() == artifact
    assert ln.Artifact.filter(cell_types__ontology_id="CL:0000540").one() == artifact
    assert list(neuron.artifacts.all()) == [artifact]


def test_an_anndata_var_validates_against_genes(bt: ModuleType) -> None:
    import lamella as ln

    bt.settings.organism = "human"
    ids = ["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]
    ln.save(bt.Gene.from_values(ids, field=bt.Gene.ensembl_gene_id))
    var_schema = ln.Schema(name="var", itype=bt.Gene.ensembl_gene_id, dtype=int).save()
    schema = ln.Schema(name="adata", otype="AnnData", components={"var": var_schema}).save()
    adata = ad.AnnData(pd.DataFrame([[1, 2, 3]], columns=ids, index=["c1"]))
    artifact = ln.curators.AnnDataCurator(adata, schema).save_artifact(key="a.h5ad")
    assert {g.symbol for g in artifact.features.slots["var"].members} == {"CD14", "CD4", "CD8A"}
    cd8a = bt.Gene.get(symbol="CD8A")
    assert ln.Artifact.filter(schemas__in=ln.Schema.filter(genes=cd8a)).one() == artifact
    bad = ad.AnnData(pd.DataFrame([[1, 2, 3]], columns=[*ids[:2], "ENSG_NOT_VALID"], index=["c1"]))
    with pytest.raises(ValidationError, match="ENSG_NOT_VALID"):
        ln.curators.AnnDataCurator(bad, schema).validate()


def test_a_curator_saves_the_terms_the_public_source_has_as_validated(bt: ModuleType) -> None:
    import lamella as ln

    ids = ["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]  # not saved, no organism set
    var_schema = ln.Schema(name="var", itype=bt.Gene.ensembl_gene_id, dtype=int).save()
    schema = ln.Schema(name="adata", otype="AnnData", components={"var": var_schema}).save()
    adata = ad.AnnData(pd.DataFrame([[1, 2, 3]], columns=ids, index=["c1"]))
    artifact = ln.curators.AnnDataCurator(adata, schema).save_artifact(key="a.h5ad")  # LaminDB 1.x
    assert {g.symbol for g in artifact.features.slots["var"].members} == {"CD14", "CD4", "CD8A"}
    assert {g.organism.name for g in bt.Gene.filter()} == {"human"}  # the ids name their organism
    cell_type = ln.Feature(name="cell_type", dtype=bt.CellType).save()
    df = pd.DataFrame({"cell_type": ["T cell", "nerve cell"]})  # a term, and a synonym of one
    curator = ln.curators.DataFrameCurator(df, ln.Schema(name="cells", features=[cell_type]).save())
    with pytest.raises(ValidationError, match=r"1 term is not validated.*'nerve cell'"):
        curator.validate()
    assert bt.CellType.get(name="T cell").ontology_id == "CL:0000084"  # saved, with its parents
    assert bt.CellType.filter(name="neuron").count() == 0  # a synonym's term is not saved behind your back


def test_import_source_brings_a_whole_ontology_with_its_hierarchy(bt: ModuleType) -> None:
    records = bt.DevelopmentalStage.import_source()
    count = bt.DevelopmentalStage.filter().count()
    assert count == len(records) > 50
    linked = sum(1 for r in bt.DevelopmentalStage.filter() if r.parents.count())
    assert linked > count // 2
    source = bt.Source.get(entity="bionty.DevelopmentalStage")
    assert source.in_db and source.name == "hsapdv"
    assert len(bt.DevelopmentalStage.import_source()) == count  # again: nothing new


def test_an_instance_without_the_module_says_how_to_add_it(ln: ModuleType) -> None:
    import lamella.bionty as bt

    with pytest.raises(NotConnected, match="lamella migrate --modules bionty"):
        bt.CellType.filter().count()
    ln.setup.migrate(modules="bionty")
    assert bt.CellType.filter().count() == 0
    assert "bionty" in ln.setup.settings.instance.modules


def test_a_module_that_does_not_exist_is_refused(storage_root: Path) -> None:
    import lamella as ln

    with pytest.raises(InvalidArgument, match="unknown module 'nope'"):
        ln.setup.init(storage=storage_root, modules="nope")


def test_a_curator_creates_ontology_terms_from_the_source_and_standardizes_synonyms(bt: ModuleType) -> None:
    import lamella as ln

    feature = ln.Feature(name="cell_type", dtype=bt.CellType).save()
    assert feature.dtype == "cat[bionty.CellType]"
    schema = ln.Schema(name="cells", features=[feature]).save()
    df = pd.DataFrame({"cell_type": ["T cell", "nerve cell", "my own cell"]})
    curator = ln.curators.DataFrameCurator(df, schema)
    with pytest.raises(ValidationError, match="add_new_from"):
        curator.validate()
    curator.cat.add_new_from("cell_type")
    assert bt.CellType.get(name="T cell").ontology_id == "CL:0000084"  # from the source, with its id
    assert bt.CellType.get(name="neuron").ontology_id == "CL:0000540"  # the synonym's standard term
    assert bt.CellType.get(name="my own cell").ontology_id is None  # not in the source: a new term
    curator.cat.standardize("cell_type")
    assert df["cell_type"].tolist() == ["T cell", "neuron", "my own cell"]
    artifact = curator.save_artifact(key="cells.parquet")
    assert sorted(artifact.cell_types.all().to_list("name")) == ["T cell", "my own cell", "neuron"]
    assert ln.Artifact.filter(cell_type="neuron").one() == artifact  # by the feature
    assert ln.Artifact.filter(cell_types__ontology_id="CL:0000084").one() == artifact  # by the relation


def test_labels_of_an_artifact_by_feature(bt: ModuleType, tmp_path: Path) -> None:
    import lamella as ln

    path = tmp_path / "x.csv"
    pd.DataFrame({"a": [1]}).to_csv(path, index=False)
    artifact = ln.Artifact(path, key="x.csv").save()
    feature = ln.Feature(name="tissue", dtype=bt.Tissue).save()
    lung = bt.Tissue.from_source(name="lung").save()
    artifact.labels.add(lung, feature=feature)
    assert artifact.features.get_values() == {"tissue": "lung"}
    assert ln.Artifact.filter(tissue="lung").one() == artifact


def test_a_feature_of_a_module_the_instance_does_not_use(ln: ModuleType, tmp_path: Path) -> None:
    import lamella.bionty as bt

    feature = ln.Feature(name="cell_type", dtype=bt.CellType).save()
    path = tmp_path / "x.csv"
    pd.DataFrame({"a": [1]}).to_csv(path, index=False)
    artifact = ln.Artifact(path, key="x.csv").save()
    with pytest.raises(ValidationError, match="lamella migrate --modules bionty"):
        artifact.features.add_values({feature.name: "T cell"})
    assert artifact.features.get_values() == {}


def test_standardize_falls_back_to_the_public_source(bt: ModuleType) -> None:
    bt.settings.organism = "human"
    assert bt.Gene.standardize(["cd8a", "CD4"], field=bt.Gene.symbol) == ["CD8A", "CD4"]
    assert bt.Gene.standardize(
        ["CD8A", "NOT_A_GENE"], field=bt.Gene.symbol, return_field=bt.Gene.ensembl_gene_id
    ) == ["ENSG00000153563", "NOT_A_GENE"]
    assert bt.CellType.standardize("nerve cell") == "neuron"
    assert bt.CellType.standardize(["nerve cell", "T cell"], return_mapper=True) == {"nerve cell": "neuron"}


def test_outdated_gene_symbols_map_to_the_current_gene(bt: ModuleType) -> None:
    # FAM19A5 was renamed TAFA5 (HGNC, 2019); P53 and CD8 are common aliases
    assert bt.Gene.standardize(
        ["FAM19A5", "P53", "CD8", "CD4"],
        field=bt.Gene.symbol,
        return_field=bt.Gene.ensembl_gene_id,
        organism="human",
    ) == ["ENSG00000219438", "ENSG00000141510", "ENSG00000153563", "ENSG00000010610"]
    genes = bt.Gene.from_values(["FAM19A5"], field=bt.Gene.symbol, organism="human")
    assert [g.symbol for g in genes] == ["TAFA5"]
    assert "FAM19A5" in genes[0].synonyms.split("|") and genes[0].ncbi_gene_ids == "25817"


def test_the_module_migrations_build_the_tables_the_models_declare(tmp_path: Path) -> None:
    import warnings

    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    import lamella.bionty  # noqa: F401  (declares the module's tables)
    from lamella._instance import search_index
    from lamella._setup import schema
    from lamella.bionty import migrations
    from lamella.models import Base

    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        schema.create_schema(engine)
        config: Any = schema.alembic_config(str(engine.url), migrations.MIGRATIONS_DIR)
        assert ScriptDirectory.from_config(config).get_current_head() == migrations.HEAD_REVISION
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with engine.connect() as connection, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the core's expression-based indexes cannot be reflected

            def bionty_only(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
                if name == migrations.VERSION_TABLE or search_index.is_search_object(name or ""):
                    return False  # Alembic's own; the core's search indexes (FTS5 tables)
                return not schema.is_core_object(obj, name, type_, reflected, compare_to)

            context = MigrationContext.configure(connection, opts={"include_object": bionty_only})
            differences = compare_metadata(context, Base.metadata)
            assert schema.module_revision(connection, "bionty") == migrations.HEAD_REVISION
    finally:
        engine.dispose()
    assert differences == []


def test_an_instance_records_the_module_revision(bt: ModuleType) -> None:
    from lamella._instance import state
    from lamella._setup import schema
    from lamella.bionty import migrations

    with state.current().db.engine.connect() as connection:
        assert schema.module_revision(connection, "bionty") == migrations.HEAD_REVISION


def test_records_and_runs_link_to_ontology_records(bt: ModuleType) -> None:
    import lamella as ln

    feature = ln.Feature(name="cell_type", dtype=bt.CellType).save()
    neuron = bt.CellType.from_source(name="neuron").save()
    sample = ln.Record(name="sample 1").save()
    sample.features.add_values({feature.name: "neuron"})
    assert sample.features.get_values() == {"cell_type": "neuron"}
    assert list(sample.cell_types.all()) == [neuron]
    assert ln.Record.filter(cell_type="neuron").one() == sample
    run = ln.Run(transform=ln.Transform(key="pipeline.py").save()).save()
    cd8a = bt.Gene.from_source(ensembl_gene_id="ENSG00000153563", organism="human").save()
    run.genes.add(cd8a)
    assert list(cd8a.runs.all()) == [run]


TINY_OBO = """format-version: 1.2
data-version: test/2026-01-01
ontology: tiny

[Term]
id: TINY:0000001
name: biological process

[Term]
id: TINY:0000002
name: cell division
synonym: "cytokinesis" EXACT []
is_a: TINY:0000001 ! biological process
"""


def test_a_registry_from_an_ontology_file_a_user_brings(bt: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "tiny.obo"
    path.write_text(TINY_OBO)
    division = bt.Pathway.from_source(name="cytokinesis", source=str(path)).save()
    assert division.ontology_id == "TINY:0000002" and division.name == "cell division"
    assert [p.name for p in division.parents.all()] == ["biological process"]
    assert (division.source.name, division.source.version) == ("tiny", "test/2026-01-01")
    with pytest.raises(InvalidArgument, match="Gene Ontology"):
        bt.Pathway.public()


def test_a_mudata_modality_validates_against_genes_and_cell_types(bt: ModuleType) -> None:
    import mudata

    import lamella as ln

    bt.settings.organism = "human"
    ids = ["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]
    ln.save(bt.Gene.from_values(ids, field=bt.Gene.ensembl_gene_id))
    cell_type = ln.Feature(name="cell_type", dtype=bt.CellType).save()
    obs = ln.Schema(name="obs", features=[cell_type]).save()
    var = ln.Schema(name="var", itype=bt.Gene.ensembl_gene_id, dtype=int).save()
    composite = ln.Schema(name="rna", otype="MuData", slots={"rna:obs": obs, "rna:var": var}).save()
    adata = ad.AnnData(
        pd.DataFrame([[1, 2, 3], [4, 5, 6]], columns=ids, index=["c1", "c2"]),
        obs=pd.DataFrame({"cell_type": ["T cell", "nerve cell"]}, index=["c1", "c2"]),
    )
    curator = ln.curators.MuDataCurator(mudata.MuData({"rna": adata}), composite)
    with pytest.raises(ValidationError, match="nerve cell"):
        curator.validate()
    curator.cat.add_new_from("rna:obs:cell_type")
    curator.cat.standardize("rna:obs:cell_type")
    artifact = curator.save_artifact(key="cells.h5mu")
    assert sorted(artifact.cell_types.all().to_list("name")) == ["T cell", "neuron"]
    assert {g.symbol for g in artifact.features.slots["rna:var"].members} == {"CD14", "CD4", "CD8A"}


def test_view_lists_the_module_registries_too(bt: ModuleType, capsys: Any) -> None:
    import lamella as ln

    bt.CellType.from_source(name="neuron").save()
    ln.view(limit=20)
    out = capsys.readouterr().out
    assert "bionty.CellType (" in out and "neuron" in out
    assert "bionty.Organism" not in out  # empty registries are left out
