"""`lamella.bionty` on every backend: the module's tables, terms with parents, genes, links, curation."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import pandas as pd
import pytest

import lamella as ln
import lamella.bionty as bt
from lamella.errors import NotConnected, ValidationError


def test_bionty_registries_on_each_backend(tmp_path: Path, db_url: str | None) -> None:
    ln.setup.init(storage=tmp_path / "data", name="bio", db=db_url, modules="bionty")
    neuron = bt.CellType.from_source(name="neuron").save()
    assert {p.ontology_id for p in neuron.parents.all()} == {"CL:0002319", "CL:0000404", "CL:0000393"}
    assert "CL:0000000" in set(neuron.query_parents().to_list("ontology_id"))

    bt.settings.organism = "human"
    ids = ["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]
    ln.save(bt.Gene.from_values(ids, field=bt.Gene.ensembl_gene_id))
    var = ln.Schema(name="var", itype=bt.Gene.ensembl_gene_id, dtype=int).save()
    schema = ln.Schema(name="adata", otype="AnnData", components={"var": var}).save()
    adata = ad.AnnData(pd.DataFrame([[1, 2, 3]], columns=ids, index=["c1"]))
    artifact = ln.curators.AnnDataCurator(adata, schema).save_artifact(key="a.h5ad")
    artifact.cell_types.add(neuron)
    cd8a = bt.Gene.get(symbol="CD8A")
    assert ln.Artifact.filter(schemas__in=ln.Schema.filter(genes=cd8a)).one() == artifact
    assert ln.Artifact.filter(cell_types__ontology_id="CL:0000540").one() == artifact
    bad = ad.AnnData(pd.DataFrame([[1, 2, 3]], columns=[*ids[:2], "ENSG_NOT_VALID"], index=["c1"]))
    with pytest.raises(ValidationError, match="ENSG_NOT_VALID"):
        ln.curators.AnnDataCurator(bad, schema).validate()

    # connecting again (a new process) finds the module's tables and leaves them as they are
    ln.setup.disconnect()
    ln.connect("bio")
    assert bt.CellType.filter(name="neuron").one() == neuron


def test_adding_the_module_later_on_each_backend(tmp_path: Path, db_url: str | None) -> None:
    ln.setup.init(storage=tmp_path / "data", name="plain", db=db_url)
    with pytest.raises(NotConnected, match="migrate --modules bionty"):
        bt.Tissue.filter().count()
    ln.setup.migrate(modules="bionty")
    assert bt.Tissue.from_source(ontology_id="UBERON:0002048").save().name == "lung"
    assert ln.setup.settings.instance.modules == ["bionty"]
